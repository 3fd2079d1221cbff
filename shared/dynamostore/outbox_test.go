package dynamostore

import (
	"errors"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/fail"
	"yinling/shared/testenv"
)

var outboxNow = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// Outbox keys must sort by time as text, whatever the fraction of a second.
func TestOutboxTimeSortsAsText(t *testing.T) {
	times := []time.Time{
		outboxNow,
		outboxNow.Add(100 * time.Millisecond),
		outboxNow.Add(50 * time.Millisecond),
		outboxNow.Add(time.Nanosecond),
		outboxNow.Add(time.Second),
		outboxNow.In(time.FixedZone("CST", 8*3600)).Add(-time.Hour), // a zone other than UTC
	}
	keys := make([]string, len(times))
	for i, tm := range times {
		keys[i] = outboxTime(tm)
		if len(keys[i]) != len("2026-11-23T08:00:00.000000000Z") {
			t.Errorf("outboxTime(%v) = %q: not fixed width", tm, keys[i])
		}
	}
	sort.Strings(keys)
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i, tm := range times {
		if keys[i] != outboxTime(tm) {
			t.Errorf("text order %v differs from time order at %d", keys, i)
		}
	}
	if got, want := outboxTime(outboxNow), "2026-11-23T08:00:00.000000000Z"; got != want {
		t.Errorf("outboxTime = %q, want %q", got, want)
	}
}

func newOutboxStore(t *testing.T) (*Store, *testenv.Env) {
	t.Helper()
	env := testenv.New(t)
	return New(env.DynamoDB, env.TableName()), env
}

func entry(store, id string, at time.Time) OutboxEntry {
	return OutboxEntry{
		StoreID: store, MessageID: id, MemberID: "m1", Channel: "sms",
		To: "+8613800138000", ToMasked: "+86138****8000",
		Text: "张阿姨，8:00 该吃降压药了。", Link: "https://yl.example/r/R1", Kind: "reminder", Lang: "zh-CN",
		At: at,
	}
}

// A redelivered message id lands once, and the caller learns when it first landed.
func TestPutOutboxOncePerMessageID(t *testing.T) {
	st, env := newOutboxStore(t)
	ctx := t.Context()
	first := entry("s1", "rem-R1#2026-11-23T08:00#0", outboxNow)
	at, err := st.PutOutbox(ctx, first)
	if err != nil || !at.Equal(outboxNow) {
		t.Fatalf("PutOutbox = %v, %v; want %v", at, err, outboxNow)
	}
	again := first
	again.At, again.Text = outboxNow.Add(90*time.Second), "changed on redelivery"
	at, err = st.PutOutbox(ctx, again)
	if err != nil || !at.Equal(outboxNow) {
		t.Fatalf("PutOutbox of a redelivery = %v, %v; want the first time %v", at, err, outboxNow)
	}
	// The same id in another store is another message.
	if _, err := st.PutOutbox(ctx, entry("s2", first.MessageID, outboxNow)); err != nil {
		t.Fatalf("PutOutbox in another store: %v", err)
	}

	page, err := st.ListOutbox(ctx, "s1", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]OutboxEntry{first}, page.Items); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}

	// Both items expire seven days after the message (TTL attribute ExpiresAt, epoch seconds).
	wantTTL := strconv.FormatInt(outboxNow.Add(7*24*time.Hour).Unix(), 10)
	for _, k := range [][2]string{
		pair(outboxKey("s1", outboxTime(outboxNow), first.MessageID)),
		pair(outboxIDKey("s1", first.MessageID)),
	} {
		res, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.table, Key: key(k[0], k[1])})
		if err != nil || res.Item == nil {
			t.Fatalf("get %v: %v (item %v)", k, err, res.Item)
		}
		n, ok := res.Item["ExpiresAt"].(*types.AttributeValueMemberN)
		if !ok || n.Value != wantTTL {
			t.Errorf("%v ExpiresAt = %v, want number %s", k, res.Item["ExpiresAt"], wantTTL)
		}
	}
}

func pair(pk, sk string) [2]string { return [2]string{pk, sk} }

// The outbox lists newest first across pages, sub-second times included, and only its
// store's messages.
func TestListOutboxNewestFirst(t *testing.T) {
	st, _ := newOutboxStore(t)
	ctx := t.Context()
	offsets := []time.Duration{0, 100 * time.Millisecond, 50 * time.Millisecond, time.Second, 1500 * time.Millisecond}
	var want []OutboxEntry
	for i, d := range offsets {
		e := entry("s1", "msg-"+strconv.Itoa(i), outboxNow.Add(d))
		if _, err := st.PutOutbox(ctx, e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	if _, err := st.PutOutbox(ctx, entry("s2", "other", outboxNow.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	sort.Slice(want, func(i, j int) bool { return want[i].At.After(want[j].At) })

	var got []OutboxEntry
	cursor, pages := "", 0
	for {
		page, err := st.ListOutbox(ctx, "s1", cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		got, cursor, pages = append(got, page.Items...), page.Cursor, pages+1
		if cursor == "" || pages > 5 {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outbox newest first (-want +got):\n%s", diff)
	}

	// A cursor from one store's outbox does not open another's.
	page, err := st.ListOutbox(ctx, "s1", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ListOutbox(ctx, "s2", page.Cursor, 1); !errors.Is(err, fail.ErrBadCursor) {
		t.Errorf("ListOutbox with another store's cursor: %v, want ErrBadCursor", err)
	}
}

func TestPutOutboxRefusesIncompleteEntries(t *testing.T) {
	st := New(nil, "unused") // refused before any call
	for _, e := range []OutboxEntry{
		entry("", "m", outboxNow),
		entry("s1", "", outboxNow),
		entry("s1", "m", time.Time{}),
	} {
		if _, err := st.PutOutbox(t.Context(), e); err == nil {
			t.Errorf("PutOutbox(%+v) succeeded", e)
		}
	}
}

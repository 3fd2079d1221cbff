package dynamostore

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/testenv"
)

const robotKey = "693a91f6-7xxx-4c7b-a1c3-2b1fe4c2cafe"

var robotNow = time.Date(2026, 11, 23, 8, 0, 30, 0, time.UTC)

// The robot's counter key is stored like every other key: pinned here, with the hash that
// stands for the webhook key in it.
func TestRobotMinuteKey(t *testing.T) {
	type kv struct{ PK, SK string }
	pk, sk := robotMinuteKey("s1", robotHash(robotKey), "202611230800")
	want := kv{"STORE#s1#ROBOT#e6807f1182d287076a83d5641b063882", "MINUTE#202611230800"}
	if diff := cmp.Diff(want, kv{pk, sk}); diff != "" {
		t.Errorf("key (-want +got):\n%s", diff)
	}
}

// Against DynamoDB Local: 25 senders racing in one minute get exactly 20 slots; the next minute
// starts afresh, and robots and stores count apart.
func TestTakeRobotSlot(t *testing.T) {
	env := testenv.New(t)
	st := New(env.DynamoDB, env.TableName())
	ctx := t.Context()

	take := func(store, robot string, now time.Time) bool {
		t.Helper()
		ok, err := st.TakeRobotSlot(ctx, store, robot, now, 20)
		if err != nil {
			t.Fatalf("TakeRobotSlot(%s, %s, %v): %v", store, robot, now, err)
		}
		return ok
	}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		taken int
		errs  []error
	)
	for range 25 {
		wg.Go(func() {
			ok, err := st.TakeRobotSlot(ctx, "s1", robotKey, robotNow, 20)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				taken++
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("TakeRobotSlot errors: %v", errs)
	}
	if taken != 20 {
		t.Errorf("25 concurrent takes got %d slots, want 20", taken)
	}

	// The same minute on another clock reading, or in another zone, is still used up.
	if take("s1", robotKey, robotNow.Add(29*time.Second)) {
		t.Error("a slot at 08:00:59 after 20 at 08:00, want none")
	}
	if take("s1", robotKey, robotNow.In(time.FixedZone("CST", 8*3600))) {
		t.Error("a slot at 16:00:30 CST (08:00:30 UTC) after 20 at 08:00, want none")
	}
	if !take("s1", robotKey, robotNow.Add(30*time.Second)) {
		t.Error("no slot at 08:01, want a fresh minute")
	}
	if !take("s1", "another-robot-key-0000", robotNow) {
		t.Error("no slot for another robot of the store, want its own 20")
	}
	if !take("s2", robotKey, robotNow) {
		t.Error("no slot for the same key in another store, want its own 20")
	}

	// The counter as stored: the count, its type, and a TTL a few minutes past its minute.
	pk, sk := robotMinuteKey("s1", robotHash(robotKey), "202611230800")
	res, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.table, Key: key(pk, sk)})
	if err != nil || res.Item == nil {
		t.Fatalf("get %s %s: %v (item %v)", pk, sk, err, res.Item)
	}
	got := map[string]string{}
	for name, av := range res.Item {
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			got[name] = v.Value
		case *types.AttributeValueMemberN:
			got[name] = v.Value
		}
	}
	want := map[string]string{
		"PK": pk, "SK": sk, "T": "robot_minute", "N": "20",
		"ExpiresAt": strconv.FormatInt(time.Date(2026, 11, 23, 8, 5, 0, 0, time.UTC).Unix(), 10),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counter item (-want +got):\n%s", diff)
	}
}

func TestTakeRobotSlotRefusesNonsense(t *testing.T) {
	st := New(nil, "unused") // refused before any call
	for _, tt := range []struct {
		store, robot string
		perMinute    int
	}{
		{"", robotKey, 20},
		{"s1", "", 20},
		{"s1", robotKey, 0},
	} {
		if ok, err := st.TakeRobotSlot(t.Context(), tt.store, tt.robot, robotNow, tt.perMinute); ok || err == nil {
			t.Errorf("TakeRobotSlot(%q, %q, %d) = %v, %v; want an error", tt.store, tt.robot, tt.perMinute, ok, err)
		}
	}
}

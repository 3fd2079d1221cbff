package sqsmsg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// fakeSQS records every SendMessageBatch call and fails the entries it is
// told to, by batch entry id.
type fakeSQS struct {
	mu sync.Mutex
	// calls holds the entry ids of each call.
	calls [][]string
	// transient[id] is how many more times entry id fails with SenderFault=false.
	transient map[string]int
	// rejected entries always fail with SenderFault=true.
	rejected map[string]bool
	// unreported entries are left out of both Successful and Failed, once.
	unreported map[string]bool
	// callErr, when set, fails every call from the callErrFrom-th (0-based) on.
	callErr     error
	callErrFrom int
	// entries keeps every entry sent, for checks on bodies and delays.
	entries []types.SendMessageBatchRequestEntry
}

func (f *fakeSQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, e := range in.Entries {
		ids = append(ids, aws.ToString(e.Id))
	}
	n := len(f.calls)
	f.calls = append(f.calls, ids)
	if aws.ToString(in.QueueUrl) != "https://sqs.example/q" {
		return nil, fmt.Errorf("unexpected queue url %q", aws.ToString(in.QueueUrl))
	}
	if len(in.Entries) > MaxBatchEntries {
		return nil, errors.New("AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
	}
	total := 0
	for _, e := range in.Entries {
		total += len(aws.ToString(e.MessageBody))
	}
	if total > MaxBatchBytes {
		return nil, errors.New("AWS.SimpleQueueService.BatchRequestTooLong")
	}
	if f.callErr != nil && n >= f.callErrFrom {
		return nil, f.callErr
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		id := aws.ToString(e.Id)
		switch {
		case f.rejected[id]:
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidMessageContents"), Message: aws.String("bad chars"), SenderFault: true})
		case f.transient[id] > 0:
			f.transient[id]--
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("try again")})
		case f.unreported[id]:
			delete(f.unreported, id)
		default:
			f.entries = append(f.entries, e)
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("m-" + id)})
		}
	}
	return out, nil
}

// newTestQueue returns a queue on f whose backoff sleeps are recorded, not slept.
func newTestQueue(f *fakeSQS) (*Queue, *[]time.Duration) {
	q := NewQueue(f, "https://sqs.example/q")
	var slept []time.Duration
	q.sleep = func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return ctx.Err()
	}
	return q, &slept
}

// msgs returns n messages with IDs a0, a1, … and bodies of size bytes.
func msgs(n, size int) []Outgoing {
	out := make([]Outgoing, n)
	for i := range out {
		out[i] = Outgoing{ID: fmt.Sprintf("a%d", i), Type: "t", Body: strings.Repeat("x", size)}
	}
	return out
}

// bodyFor returns a body size that makes an encoded message exactly n bytes.
func bodyFor(t *testing.T, n int) int {
	t.Helper()
	raw, err := Encode("t", "")
	if err != nil {
		t.Fatal(err)
	}
	return n - len(raw)
}

func callSizes(calls [][]string) []int {
	var sizes []int
	for _, c := range calls {
		sizes = append(sizes, len(c))
	}
	return sizes
}

func TestSendBatching(t *testing.T) {
	tests := []struct {
		name      string
		msgs      func(t *testing.T) []Outgoing
		wantCalls []int // entries per call
		wantErrID []string
	}{
		{"none", func(*testing.T) []Outgoing { return nil }, nil, nil},
		{"one", func(*testing.T) []Outgoing { return msgs(1, 10) }, []int{1}, nil},
		{"ten fill one call", func(*testing.T) []Outgoing { return msgs(10, 10) }, []int{10}, nil},
		{"25 small messages take 3 calls", func(*testing.T) []Outgoing { return msgs(25, 100) }, []int{10, 10, 5}, nil},
		{"size splits before count", func(t *testing.T) []Outgoing { return msgs(5, bodyFor(t, 100<<10)) }, []int{2, 2, 1}, nil},
		{"batch of exactly 256 KiB", func(t *testing.T) []Outgoing { return msgs(4, bodyFor(t, 64<<10)) }, []int{4}, nil},
		{"one byte over 256 KiB splits", func(t *testing.T) []Outgoing {
			m := msgs(4, bodyFor(t, 64<<10))
			m[3].Body = strings.Repeat("x", bodyFor(t, 64<<10)+1)
			return m
		}, []int{3, 1}, nil},
		{"message of exactly 256 KiB is sent", func(t *testing.T) []Outgoing { return msgs(1, bodyFor(t, MaxBatchBytes)) }, []int{1}, nil},
		{"oversized message is reported, others sent", func(t *testing.T) []Outgoing {
			m := msgs(3, 10)
			m[1].Body = strings.Repeat("x", bodyFor(t, MaxBatchBytes)+1)
			return m
		}, []int{2}, []string{"a1"}},
		{"unencodable message is reported, others sent", func(t *testing.T) []Outgoing {
			m := msgs(3, 10)
			m[0].Body = func() {}
			m[2].Type = ""
			return m
		}, []int{1}, []string{"a0", "a2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{}
			q, _ := newTestQueue(f)
			err := q.Send(context.Background(), tt.msgs(t))
			if diff := cmp.Diff(tt.wantCalls, callSizes(f.calls)); diff != "" {
				t.Errorf("entries per call (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErrID, failedIDs(t, err)); diff != "" {
				t.Errorf("unsent IDs (-want +got):\n%s", diff)
			}
		})
	}
}

// failedIDs returns the IDs a Send error names, nil for no error.
func failedIDs(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var se *SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SendError", err)
	}
	for _, id := range se.IDs() {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not name %s", err, id)
		}
	}
	return se.IDs()
}

func TestSendEntries(t *testing.T) {
	f := &fakeSQS{}
	q, _ := newTestQueue(f)
	err := q.Send(context.Background(), []Outgoing{
		{ID: "chunk#1/campaign:ABC", Type: "delivery", Body: map[string]int{"n": 1}, Delay: 10 * time.Minute},
		{ID: "", Type: "ack", Body: nil, Delay: -time.Second},
		{ID: "late", Type: "ack", Body: nil, Delay: time.Hour},
		{ID: "soon", Type: "ack", Body: nil, Delay: 1500 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []types.SendMessageBatchRequestEntry{
		{Id: aws.String("0-chunk_1_campaign_ABC"), MessageBody: aws.String(`{"type":"delivery","v":1,"body":{"n":1}}`), DelaySeconds: 600},
		{Id: aws.String("1"), MessageBody: aws.String(`{"type":"ack","v":1,"body":null}`), DelaySeconds: 0},
		{Id: aws.String("2-late"), MessageBody: aws.String(`{"type":"ack","v":1,"body":null}`), DelaySeconds: 900},
		{Id: aws.String("3-soon"), MessageBody: aws.String(`{"type":"ack","v":1,"body":null}`), DelaySeconds: 2},
	}
	opt := cmp.Comparer(func(a, b types.SendMessageBatchRequestEntry) bool {
		return aws.ToString(a.Id) == aws.ToString(b.Id) && aws.ToString(a.MessageBody) == aws.ToString(b.MessageBody) && a.DelaySeconds == b.DelaySeconds
	})
	if diff := cmp.Diff(want, f.entries, opt); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name       string
		fake       *fakeSQS
		n          int
		wantCalls  [][]string
		wantErrIDs []string
		wantErr    []string // substrings of the error
	}{
		{
			name:      "transient failure retries only that entry",
			fake:      &fakeSQS{transient: map[string]int{"1-a1": 1, "12-a12": 2}},
			n:         15,
			wantCalls: [][]string{{"0-a0", "1-a1", "2-a2", "3-a3", "4-a4", "5-a5", "6-a6", "7-a7", "8-a8", "9-a9"}, {"1-a1"}, {"10-a10", "11-a11", "12-a12", "13-a13", "14-a14"}, {"12-a12"}, {"12-a12"}},
		},
		{
			name:       "sender fault is not retried",
			fake:       &fakeSQS{rejected: map[string]bool{"1-a1": true}, transient: map[string]int{"2-a2": 1}},
			n:          3,
			wantCalls:  [][]string{{"0-a0", "1-a1", "2-a2"}, {"2-a2"}},
			wantErrIDs: []string{"a1"},
			wantErr:    []string{"InvalidMessageContents", "bad chars"},
		},
		{
			name:       "gives up after 4 attempts",
			fake:       &fakeSQS{transient: map[string]int{"0-a0": 10}},
			n:          2,
			wantCalls:  [][]string{{"0-a0", "1-a1"}, {"0-a0"}, {"0-a0"}, {"0-a0"}},
			wantErrIDs: []string{"a0"},
			wantErr:    []string{"after 4 attempts", "InternalError"},
		},
		{
			name:      "entry missing from the response is retried",
			fake:      &fakeSQS{unreported: map[string]bool{"1-a1": true}},
			n:         2,
			wantCalls: [][]string{{"0-a0", "1-a1"}, {"1-a1"}},
		},
		{
			name:       "failed call stops the rest",
			fake:       &fakeSQS{callErr: errors.New("AccessDenied"), callErrFrom: 1},
			n:          25,
			wantCalls:  [][]string{{"0-a0", "1-a1", "2-a2", "3-a3", "4-a4", "5-a5", "6-a6", "7-a7", "8-a8", "9-a9"}, {"10-a10", "11-a11", "12-a12", "13-a13", "14-a14", "15-a15", "16-a16", "17-a17", "18-a18", "19-a19"}},
			wantErrIDs: []string{"a10", "a11", "a12", "a13", "a14", "a15", "a16", "a17", "a18", "a19", "a20", "a21", "a22", "a23", "a24"},
			wantErr:    []string{"15 message(s) not sent", "AccessDenied", "not attempted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := newTestQueue(tt.fake)
			err := q.Send(context.Background(), msgs(tt.n, 10))
			if diff := cmp.Diff(tt.wantCalls, tt.fake.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErrIDs, failedIDs(t, err)); diff != "" {
				t.Errorf("unsent IDs (-want +got):\n%s", diff)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestSendBackoff(t *testing.T) {
	f := &fakeSQS{transient: map[string]int{"0-a0": 10}}
	q, slept := newTestQueue(f)
	_ = q.Send(context.Background(), msgs(1, 1))
	if len(*slept) != maxAttempts-1 {
		t.Fatalf("slept %d times, want %d", len(*slept), maxAttempts-1)
	}
	for i, d := range *slept {
		full := baseBackoff << i
		if d < full/2 || d > full {
			t.Errorf("wait %d = %v, want within [%v, %v]", i+1, d, full/2, full)
		}
	}
}

func TestSendContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeSQS{transient: map[string]int{"0-a0": 1}}
	q := NewQueue(f, "https://sqs.example/q")
	q.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleep(ctx, time.Hour)
	}
	err := q.Send(ctx, msgs(12, 1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send error = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff([]string{"a0", "a10", "a11"}, failedIDs(t, err)); diff != "" {
		t.Errorf("unsent IDs (-want +got):\n%s", diff)
	}
	if len(f.calls) != 1 {
		t.Errorf("%d calls, want 1", len(f.calls))
	}
}

func TestEntryID(t *testing.T) {
	tests := []struct {
		index int
		id    string
		want  string
	}{
		{0, "abc-DEF_123", "0-abc-DEF_123"},
		{7, "", "7"},
		{3, "STORE#S1#MEMBER#M2", "3-STORE_S1_MEMBER_M2"},
		{4, "提醒 1", "4-___1"},
		{12, strings.Repeat("z", 100), "12-" + strings.Repeat("z", 77)},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := entryID(tt.index, tt.id)
			if got != tt.want {
				t.Errorf("entryID(%d, %q) = %q, want %q", tt.index, tt.id, got, tt.want)
			}
			if len(got) > maxIDLen {
				t.Errorf("entryID length %d > %d", len(got), maxIDLen)
			}
		})
	}
}

func TestDelaySeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int32
	}{
		{-time.Minute, 0},
		{0, 0},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{1500 * time.Millisecond, 2},
		{10 * time.Minute, 600},
		{15 * time.Minute, 900},
		{24 * time.Hour, 900},
		{1<<63 - 1, 900},
	}
	for _, tt := range tests {
		if got := delaySeconds(tt.d); got != tt.want {
			t.Errorf("delaySeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

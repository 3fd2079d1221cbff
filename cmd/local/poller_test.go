package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

const testQueueURL = "http://127.0.0.1:9324/000000000000/deliveries"

// fakeSQS is an in-memory queue with SQS's receive and delete semantics, minus visibility
// timeouts: a received message stays in flight until deleted.
type fakeSQS struct {
	mu          sync.Mutex
	next        int
	visible     []types.Message
	inFlight    map[string]types.Message // by receipt handle
	received    map[string]int           // receive count by message id
	receives    []int32                  // MaxNumberOfMessages of each ReceiveMessage
	waits       []int32                  // WaitTimeSeconds of each ReceiveMessage
	deleted     []string                 // message ids
	deleteCalls int
	failNext    int // ReceiveMessage calls still to fail
}

func newFakeSQS(n int) *fakeSQS {
	f := &fakeSQS{inFlight: map[string]types.Message{}, received: map[string]int{}}
	f.add(n)
	return f
}

// add enqueues n messages with ids m<k> and bodies body-<k>.
func (f *fakeSQS) add(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.next++
		id := "m" + strconv.Itoa(f.next)
		f.visible = append(f.visible, types.Message{
			MessageId: aws.String(id),
			Body:      aws.String("body-" + strconv.Itoa(f.next)),
			MD5OfBody: aws.String("md5-" + id),
		})
	}
}

func (f *fakeSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	f.receives = append(f.receives, in.MaxNumberOfMessages)
	f.waits = append(f.waits, in.WaitTimeSeconds)
	if f.failNext > 0 {
		f.failNext--
		f.mu.Unlock()
		return nil, errors.New("sqs unavailable")
	}
	n := min(int(in.MaxNumberOfMessages), len(f.visible))
	var out []types.Message
	for _, m := range f.visible[:n] {
		id := aws.ToString(m.MessageId)
		f.received[id]++
		m.ReceiptHandle = aws.String(fmt.Sprintf("rh-%s-%d", id, f.received[id]))
		m.Attributes = map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(f.received[id]),
			"SentTimestamp":                    "1740823445000",
			"SenderId":                         "AIDAEXAMPLE",
			"ApproximateFirstReceiveTimestamp": "1740823446000",
		}
		f.inFlight[*m.ReceiptHandle] = m
		out = append(out, m)
	}
	f.visible = f.visible[n:]
	f.mu.Unlock()
	if len(out) == 0 && in.WaitTimeSeconds > 0 {
		// A long poll on an empty queue: wait a little, not the full seconds.
		sleep(ctx, 5*time.Millisecond)
	}
	return &sqs.ReceiveMessageOutput{Messages: out}, ctx.Err()
}

func (f *fakeSQS) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleteCalls++
	if len(in.Entries) > sqsMaxReceive {
		return nil, errors.New("TooManyEntriesInBatchRequest")
	}
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		m, ok := f.inFlight[aws.ToString(e.ReceiptHandle)]
		if !ok {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ReceiptHandleIsInvalid")})
			continue
		}
		delete(f.inFlight, aws.ToString(e.ReceiptHandle))
		f.deleted = append(f.deleted, aws.ToString(m.MessageId))
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (f *fakeSQS) deletedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := slices.Clone(f.deleted)
	slices.Sort(ids)
	return ids
}

// sqsRecorder is a consumer that records its batches and answers with respond.
type sqsRecorder struct {
	mu      sync.Mutex
	batches [][]string // message ids
	events  []events.SQSEvent
	respond func(ctx context.Context, ev events.SQSEvent) (any, error)
}

func (r *sqsRecorder) handle(ctx context.Context, ev events.SQSEvent) (any, error) {
	r.mu.Lock()
	var ids []string
	for _, rec := range ev.Records {
		ids = append(ids, rec.MessageId)
	}
	r.batches = append(r.batches, ids)
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.respond != nil {
		return r.respond(ctx, ev)
	}
	return events.SQSEventResponse{}, nil
}

func (r *sqsRecorder) batchIDs() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func newTestPoller(t *testing.T, client SQSAPI, cfg PollerConfig) *Poller {
	t.Helper()
	if cfg.QueueURL == "" {
		cfg.QueueURL = testQueueURL
	}
	cfg.Log = quietLog()
	p, err := NewPoller(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.errorDelay = time.Millisecond
	return p
}

func failures(ids ...string) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, id := range ids {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	return resp
}

func TestPollerSettle(t *testing.T) {
	all := []string{"m1", "m2", "m3"}
	answer := func(resp any, err error) lambda.Handler {
		return lambda.NewHandler(func(events.SQSEvent) (any, error) { return resp, err })
	}
	tests := []struct {
		name        string
		report      bool
		handler     lambda.Handler
		wantDeleted []string
	}{
		{"success deletes all", false, answer(nil, nil), all},
		{"error deletes none", false, answer(nil, errors.New("boom")), nil},
		{"failures ignored without ReportBatchItemFailures", false, answer(failures("m2"), nil), all},
		{"report: empty response deletes all", true, answer(events.SQSEventResponse{}, nil), all},
		{"report: null response deletes all", true, answer(nil, nil), all},
		{"report: empty object deletes all", true, rawHandler(`{}`), all},
		{"report: listed failure kept", true, answer(failures("m2"), nil), []string{"m1", "m3"}},
		{"report: all failed", true, answer(failures("m1", "m2", "m3"), nil), nil},
		{"report: unknown id fails batch", true, answer(failures("m2", "m9"), nil), nil},
		{"report: empty id fails batch", true, answer(failures(""), nil), nil},
		{"report: bad key name fails batch", true, rawHandler(`{"batchItemFailures":[{"id":"m1"}]}`), nil},
		{"report: invalid JSON fails batch", true, rawHandler(`nope`), nil},
		{"report: error deletes none", true, answer(failures(), errors.New("boom")), nil},
		{"report: panic deletes none", true, lambda.NewHandler(func() error { panic("boom") }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSQS(3)
			p := newTestPoller(t, fake, PollerConfig{
				BatchSize:               10,
				ReportBatchItemFailures: tt.report,
				Function:                LambdaFunction{Name: "SenderFunction", Handler: tt.handler},
			})
			n, err := p.pollOnce(context.Background())
			if err != nil || n != 3 {
				t.Fatalf("pollOnce() = %d, %v", n, err)
			}
			if diff := cmp.Diff(tt.wantDeleted, fake.deletedIDs()); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPollerEvent(t *testing.T) {
	fake := newFakeSQS(0)
	fake.visible = []types.Message{{
		MessageId:              aws.String("m1"),
		Body:                   aws.String(`{"type":"delivery"}`),
		MD5OfBody:              aws.String("md5-body"),
		MD5OfMessageAttributes: aws.String("md5-attrs"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"type": {DataType: aws.String("String"), StringValue: aws.String("delivery")},
			"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2}},
		},
	}}
	rec := &sqsRecorder{}
	p := newTestPoller(t, fake, PollerConfig{
		Region:    "cn-north-1",
		BatchSize: 10,
		Function:  LambdaFunction{Name: "SenderFunction", Handler: lambda.NewHandler(rec.handle)},
	})
	if _, err := p.pollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := events.SQSEvent{Records: []events.SQSMessage{{
		MessageId:              "m1",
		ReceiptHandle:          "rh-m1-1",
		Body:                   `{"type":"delivery"}`,
		Md5OfBody:              "md5-body",
		Md5OfMessageAttributes: "md5-attrs",
		Attributes: map[string]string{
			"ApproximateReceiveCount":          "1",
			"SentTimestamp":                    "1740823445000",
			"SenderId":                         "AIDAEXAMPLE",
			"ApproximateFirstReceiveTimestamp": "1740823446000",
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{
			"type": {DataType: "String", StringValue: aws.String("delivery"), StringListValues: []string{}, BinaryListValues: [][]byte{}},
			"blob": {DataType: "Binary", BinaryValue: []byte{1, 2}, StringListValues: []string{}, BinaryListValues: [][]byte{}},
		},
		EventSourceARN: "arn:aws:sqs:cn-north-1:000000000000:deliveries",
		EventSource:    "aws:sqs",
		AWSRegion:      "cn-north-1",
	}}}
	if len(rec.events) != 1 {
		t.Fatalf("%d invocations", len(rec.events))
	}
	if diff := cmp.Diff(want, rec.events[0]); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if diff := cmp.Diff([]int32{1}, fake.waits); diff != "" {
		t.Errorf("WaitTimeSeconds (-want +got):\n%s", diff)
	}
}

func TestPollerBatching(t *testing.T) {
	tests := []struct {
		name         string
		batchSize    int
		window       time.Duration
		queued       int
		arriveLater  int // messages added once the window has opened
		wantRecords  int
		wantReceives []int32 // nil: not checked
		wantAtLeast  time.Duration
	}{
		{name: "no window: one receive", batchSize: 10, queued: 15, wantRecords: 10, wantReceives: []int32{10}},
		{name: "no window: partial batch", batchSize: 10, queued: 4, wantRecords: 4, wantReceives: []int32{10}},
		{name: "small batch size", batchSize: 3, queued: 5, wantRecords: 3, wantReceives: []int32{3}},
		{name: "big batch over several receives", batchSize: 25, window: time.Second, queued: 30, wantRecords: 25, wantReceives: []int32{10, 10, 5}},
		{name: "window gathers late arrivals", batchSize: 10, window: 80 * time.Millisecond, queued: 2, arriveLater: 3, wantRecords: 5, wantAtLeast: 80 * time.Millisecond},
		{name: "full batch does not wait for the window", batchSize: 5, window: time.Minute, queued: 5, wantRecords: 5, wantReceives: []int32{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSQS(tt.queued)
			rec := &sqsRecorder{}
			p := newTestPoller(t, fake, PollerConfig{
				BatchSize:         tt.batchSize,
				MaxBatchingWindow: tt.window,
				Function:          LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(rec.handle)},
			})
			if tt.arriveLater > 0 {
				go func() {
					time.Sleep(tt.window / 4)
					fake.add(tt.arriveLater)
				}()
			}
			start := time.Now()
			n, err := p.pollOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if elapsed := time.Since(start); elapsed < tt.wantAtLeast {
				t.Errorf("gathered for %s, want at least %s", elapsed, tt.wantAtLeast)
			}
			if n != tt.wantRecords {
				t.Errorf("records = %d, want %d", n, tt.wantRecords)
			}
			if b := rec.batchIDs(); len(b) != 1 || len(b[0]) != tt.wantRecords {
				t.Errorf("batches = %v", b)
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			// Without wantReceives, timing decides how many short polls the window's end takes.
			if tt.wantReceives != nil {
				if diff := cmp.Diff(tt.wantReceives, fake.receives); diff != "" {
					t.Errorf("MaxNumberOfMessages per receive (-want +got):\n%s", diff)
				}
			}
			if want := (tt.wantRecords + sqsMaxReceive - 1) / sqsMaxReceive; fake.deleteCalls != want {
				t.Errorf("DeleteMessageBatch calls = %d, want %d", fake.deleteCalls, want)
			}
		})
	}
}

func TestPollerRunDrainsQueue(t *testing.T) {
	fake := newFakeSQS(5)
	fake.failNext = 2 // the first receives fail; the poller backs off and carries on
	rec := &sqsRecorder{}
	p := newTestPoller(t, fake, PollerConfig{
		BatchSize:   2,
		Concurrency: 2,
		Function:    LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(rec.handle)},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool { return len(fake.deletedIDs()) == 5 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
	if diff := cmp.Diff([]string{"m1", "m2", "m3", "m4", "m5"}, fake.deletedIDs()); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	for _, b := range rec.batchIDs() {
		if len(b) > 2 {
			t.Errorf("batch %v over BatchSize", b)
		}
	}
}

func TestPollerRunFinishesInFlightBatch(t *testing.T) {
	fake := newFakeSQS(3)
	entered, release := make(chan struct{}), make(chan struct{})
	var ctxErr error
	rec := &sqsRecorder{respond: func(ctx context.Context, ev events.SQSEvent) (any, error) {
		close(entered)
		<-release
		ctxErr = ctx.Err()
		return failures("m2"), nil
	}}
	p := newTestPoller(t, fake, PollerConfig{
		ReportBatchItemFailures: true,
		Function:                LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(rec.handle)},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	<-entered
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned before the in-flight invocation finished")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the invocation finished")
	}
	if ctxErr != nil {
		t.Errorf("the function's context was cancelled: %v", ctxErr)
	}
	if diff := cmp.Diff([]string{"m1", "m3"}, fake.deletedIDs()); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if n := len(rec.batchIDs()); n != 1 {
		t.Errorf("%d invocations, want 1", n)
	}
}

func TestNewPollerErrors(t *testing.T) {
	fn := LambdaFunction{Name: "Fn", Handler: rawHandler("{}")}
	tests := []struct {
		name string
		cfg  PollerConfig
	}{
		{"no queue", PollerConfig{Function: fn}},
		{"no handler", PollerConfig{QueueURL: testQueueURL, Function: LambdaFunction{Name: "Fn"}}},
		{"batch too big", PollerConfig{QueueURL: testQueueURL, BatchSize: 10_001, MaxBatchingWindow: time.Second, Function: fn}},
		{"negative batch", PollerConfig{QueueURL: testQueueURL, BatchSize: -1, Function: fn}},
		{"over 10 without window", PollerConfig{QueueURL: testQueueURL, BatchSize: 11, Function: fn}},
		{"window too long", PollerConfig{QueueURL: testQueueURL, MaxBatchingWindow: 301 * time.Second, Function: fn}},
		{"poll wait too long", PollerConfig{QueueURL: testQueueURL, PollWait: 21 * time.Second, Function: fn}},
		{"URL without account", PollerConfig{QueueURL: "http://127.0.0.1:9324/deliveries", Function: fn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewPoller(newFakeSQS(0), tt.cfg); err == nil {
				t.Error("NewPoller() accepted a bad configuration")
			}
		})
	}
}

func TestQueueARNFromURL(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/yl-Deliveries", "arn:aws:sqs:cn-north-1:123456789012:yl-Deliveries"},
		{"http://127.0.0.1:9324/000000000000/deliveries", "arn:aws:sqs:cn-north-1:000000000000:deliveries"},
		{"http://localhost:4566/000000000000/q.fifo/", "arn:aws:sqs:cn-north-1:000000000000:q.fifo"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := queueARNFromURL("cn-north-1", tt.url)
			if err != nil || got != tt.want {
				t.Errorf("queueARNFromURL() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestPollerEmulator runs the poller against the SQS emulator when AWS_ENDPOINT_URL_SQS names
// one: a message the function reports as failed comes back, the others are deleted.
func TestPollerEmulator(t *testing.T) {
	if os.Getenv("AWS_ENDPOINT_URL_SQS") == "" {
		t.Skip("AWS_ENDPOINT_URL_SQS not set: no SQS emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var opts []func(*config.LoadOptions) error
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion(defaultRegion))
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(cfg)
	created, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(fmt.Sprintf("poller-test-%d", time.Now().UnixNano())),
		Attributes: map[string]string{"VisibilityTimeout": "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	queueURL := aws.ToString(created.QueueUrl)
	t.Cleanup(func() {
		_, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(queueURL)})
	})
	var entries []types.SendMessageBatchRequestEntry
	for i, body := range []string{"ok-1", "fail-2", "ok-3"} {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(body)})
	}
	if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	seen := map[string]events.SQSMessage{}
	handler := func(ev events.SQSEvent) (events.SQSEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			seen[r.Body] = r
			if strings.HasPrefix(r.Body, "fail") {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	}
	p := newTestPoller(t, client, PollerConfig{
		QueueURL:                queueURL,
		Region:                  cfg.Region,
		ReportBatchItemFailures: true,
		Function:                LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(handler)},
	})
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 3 {
			break
		}
		if _, err := p.pollOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rec := seen["fail-2"]
	if rec.EventSource != "aws:sqs" || !strings.HasSuffix(rec.EventSourceARN, ":"+queueURL[strings.LastIndex(queueURL, "/")+1:]) || rec.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("record = %+v", rec)
	}

	// After the 2 s visibility timeout only the failed message is back, received a second time.
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             5,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range out.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
		if got := m.Attributes["ApproximateReceiveCount"]; got != "2" {
			t.Errorf("ApproximateReceiveCount = %q, want 2", got)
		}
	}
	if diff := cmp.Diff([]string{"fail-2"}, bodies); diff != "" {
		t.Errorf("messages back on the queue (-want +got):\n%s", diff)
	}
}

package faults_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/faults"
	"yinling/shared/notify"
)

// server is an HTTP client that answers every request with an empty JSON object, as DynamoDB
// and SQS answer the calls below, and counts what reached it.
type server struct{ requests atomic.Int64 }

func (s *server) Do(r *http.Request) (*http.Response, error) {
	s.requests.Add(1)
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

// config is an SDK configuration whose calls reach srv, retried up to attempts times at once.
func config(srv *server, attempts int, inj *faults.Injector) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		HTTPClient:   srv,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
		APIOptions: []func(*middleware.Stack) error{inj.Register},
	}
}

func getItem(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"),
		Key: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "a"}}})
	return err
}

func putItem(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"),
		Item: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "a"}}})
	return err
}

// TestPlacement: the same fault inside the retry loop is retried by the SDK (every attempt
// counted, none reaching the server when all fail); outside it, it reaches the caller at once.
func TestPlacement(t *testing.T) {
	tests := []struct {
		name      string
		rule      faults.Rule
		attempts  int
		call      func(context.Context, *dynamodb.Client) error
		wantSent  int64 // requests the server saw
		wantCount map[faults.Kind]int
		want      func(error) bool
	}{
		{"throttle per attempt, retried until the attempts run out",
			faults.Rule{Rate: 1, Kinds: []faults.Kind{faults.Throttle}}, 3, getItem, 0,
			map[faults.Kind]int{faults.Throttle: 3}, func(err error) bool {
				var mae *retry.MaxAttemptsError
				var code interface{ ErrorCode() string }
				return errors.As(err, &mae) && errors.As(err, &code) &&
					(code.ErrorCode() == "ProvisionedThroughputExceededException" || code.ErrorCode() == "ThrottlingException")
			}},
		{"5xx per call, not retried",
			faults.Rule{Rate: 1, Kinds: []faults.Kind{faults.ServerError}, Placement: faults.PerCall}, 3, getItem, 0,
			map[faults.Kind]int{faults.ServerError: 1}, func(err error) bool {
				var status interface{ HTTPStatusCode() int }
				var mae *retry.MaxAttemptsError
				return errors.As(err, &status) && status.HTTPStatusCode() >= 500 && !errors.As(err, &mae)
			}},
		{"lost response per call: the write is applied once, the caller told it failed",
			faults.Rule{Rate: 1, Kinds: []faults.Kind{faults.LostResponse}, Placement: faults.PerCall}, 3, putItem, 1,
			map[faults.Kind]int{faults.LostResponse: 1}, func(err error) bool {
				var ise *ddbtypes.InternalServerError
				return errors.As(err, &ise)
			}},
		{"lost response per attempt: the SDK's retries apply the write again",
			faults.Rule{Rate: 1, Kinds: []faults.Kind{faults.LostResponse}}, 3, putItem, 3,
			map[faults.Kind]int{faults.LostResponse: 3}, func(err error) bool {
				var ise *ddbtypes.InternalServerError
				return errors.As(err, &ise)
			}},
		{"a rule for another operation leaves the call alone",
			faults.Rule{Rate: 1, Operations: []string{"PutItem"}}, 3, getItem, 1, nil, func(err error) bool { return err == nil }},
		{"a rule for another service leaves the call alone",
			faults.Rule{Rate: 1, Services: []string{"SQS"}}, 3, getItem, 1, nil, func(err error) bool { return err == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &server{}
			inj := faults.New(1, tt.rule)
			db := dynamodb.NewFromConfig(config(srv, tt.attempts, inj))
			err := tt.call(context.Background(), db)
			if !tt.want(err) {
				t.Errorf("error %v (%T) is not what the case wants", err, err)
			}
			if got := srv.requests.Load(); got != tt.wantSent {
				t.Errorf("server saw %d requests, want %d", got, tt.wantSent)
			}
			got := inj.Counts().ByKind()
			if len(tt.wantCount) == 0 && len(got) == 0 {
				return
			}
			if diff := cmp.Diff(tt.wantCount, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSQSThrottle: SQS throttling is its modelled RequestThrottled, which the SDK retries.
func TestSQSThrottle(t *testing.T) {
	srv := &server{}
	inj := faults.New(3, faults.Rule{Services: []string{"SQS"}, Rate: 1})
	q := sqs.NewFromConfig(config(srv, 2, inj))
	_, err := q.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String("http://127.0.0.1:1/q"), MessageBody: aws.String("x")})
	var rt *sqstypes.RequestThrottled
	if !errors.As(err, &rt) {
		t.Fatalf("error %v, want RequestThrottled", err)
	}
	if c := inj.Counts(); c.ByOperation["SQS.SendMessage"][faults.Throttle] != 2 || srv.requests.Load() != 0 {
		t.Errorf("counts %v, server %d; want 2 throttles (two attempts), no request", c, srv.requests.Load())
	}
	if !faults.Injected(err) {
		t.Errorf("Injected(%v) = false", err)
	}
}

// TestTimeout: a timeout hangs no longer than the caller's deadline and wraps
// context.DeadlineExceeded; without a deadline it waits the rule's delay.
func TestTimeout(t *testing.T) {
	srv := &server{}
	inj := faults.New(1, faults.Rule{Rate: 1, Kinds: []faults.Kind{faults.Timeout}, Placement: faults.PerCall, Delay: 5 * time.Second})
	db := dynamodb.NewFromConfig(config(srv, 1, inj))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := getItem(ctx, db)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the timeout took %v, past the caller's 20 ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want one wrapping context.DeadlineExceeded", err)
	}

	inj = faults.New(1, faults.Rule{Rate: 1, Kinds: []faults.Kind{faults.Timeout}, Placement: faults.PerCall, Delay: 30 * time.Millisecond})
	db = dynamodb.NewFromConfig(config(srv, 1, inj))
	start = time.Now()
	err = getItem(context.Background(), db)
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("the timeout took %v, want the delay of 30 ms", took)
	}
	var timeout interface{ Timeout() bool }
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("error %v, want a timeout wrapping context.DeadlineExceeded", err)
	}
	if srv.requests.Load() != 0 {
		t.Errorf("a timed-out call reached the server")
	}
}

// pattern returns which of n serial calls failed.
func pattern(seed uint64, rate float64, n int) []bool {
	srv := &server{}
	inj := faults.New(seed, faults.Rule{Rate: rate, Placement: faults.PerCall, Kinds: []faults.Kind{faults.Throttle, faults.ServerError}})
	db := dynamodb.NewFromConfig(config(srv, 1, inj))
	out := make([]bool, n)
	for i := range out {
		out[i] = getItem(context.Background(), db) != nil
	}
	return out
}

// TestDeterministic: a seed gives the same faults on every run, another seed others, at the
// rate asked for.
func TestDeterministic(t *testing.T) {
	const n = 1000
	a, b, c := pattern(7, 0.1, n), pattern(7, 0.1, n), pattern(8, 0.1, n)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("seed 7 twice differs:\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Error("seeds 7 and 8 gave the same faults")
	}
	failed := 0
	for _, f := range a {
		if f {
			failed++
		}
	}
	if failed < 70 || failed > 130 {
		t.Errorf("%d of %d calls failed at rate 0.1", failed, n)
	}
}

// TestPauseAndCrash: a paused injector injects nothing; a call made for a killed invocation
// is refused unsent, paused or not.
func TestPauseAndCrash(t *testing.T) {
	srv := &server{}
	inj := faults.New(1, faults.Rule{Rate: 1})
	db := dynamodb.NewFromConfig(config(srv, 1, inj))
	inj.Pause()
	if err := getItem(context.Background(), db); err != nil {
		t.Errorf("paused: %v", err)
	}
	ctx, life := faults.Invocation(context.Background())
	if err := getItem(ctx, db); err != nil || life.Dead() {
		t.Errorf("alive: %v, dead %v", err, life.Dead())
	}
	if !faults.Kill(ctx, "between") || !life.Dead() || life.Step() != "between" {
		t.Fatalf("Kill: dead %v at %q", life.Dead(), life.Step())
	}
	err := putItem(ctx, db)
	if !errors.Is(err, faults.ErrCrashed) {
		t.Errorf("after the crash: %v, want ErrCrashed", err)
	}
	if srv.requests.Load() != 2 || inj.Counts().Crashed != 1 {
		t.Errorf("server saw %d requests, %d refused; want 2 and 1", srv.requests.Load(), inj.Counts().Crashed)
	}
	if faults.Kill(context.Background(), "x") {
		t.Error("Kill of a context without an invocation reported true")
	}
	inj.Resume()
	if err := getItem(context.Background(), db); err == nil {
		t.Error("resumed at rate 1: no fault")
	}
}

func TestCrasher(t *testing.T) {
	c := &faults.Crasher{Seed: 1, Rate: 1, Steps: []string{"chunks-written"}, Max: 2}
	if err := c.Hook("enqueued"); err != nil {
		t.Errorf("a step not listed crashed: %v", err)
	}
	var errs int
	for range 5 {
		if err := c.Hook("chunks-written"); errors.Is(err, faults.ErrCrashed) {
			errs++
		}
	}
	if errs != 2 {
		t.Errorf("%d crashes, want Max = 2", errs)
	}
	c = &faults.Crasher{Seed: 1, Rate: 1}
	ctx, life := faults.Invocation(context.Background())
	if !c.At(ctx, "claimed") || !life.Dead() || life.Step() != "claimed" {
		t.Errorf("At: dead %v at %q", life.Dead(), life.Step())
	}
	if diff := cmp.Diff(map[string]int{"claimed": 1}, c.Crashes()); diff != "" {
		t.Errorf("crashes (-want +got):\n%s", diff)
	}
	half := &faults.Crasher{Seed: 2, Rate: 0.5}
	n := 0
	for range 400 {
		if half.Hook("s") != nil {
			n++
		}
	}
	if n < 150 || n > 250 {
		t.Errorf("%d of 400 crashed at rate 0.5", n)
	}
}

type accept struct{ n atomic.Int64 }

func (a *accept) Send(_ context.Context, m notify.Message) (notify.Receipt, error) {
	a.n.Add(1)
	return notify.Receipt{Provider: "test", ProviderID: m.ID}, nil
}

func TestProvider(t *testing.T) {
	msg := notify.Message{ID: "m1"}
	tests := []struct {
		name string
		p    *faults.Provider
		want func(error) bool
		sent int64
		kind faults.Kind
		dead bool
	}{
		{"transient", &faults.Provider{Transient: 1}, func(err error) bool { return err != nil && !notify.IsPermanent(err) }, 0, faults.ProviderTransient, false},
		{"permanent", &faults.Provider{Permanent: 1}, notify.IsPermanent, 0, faults.ProviderPermanent, false},
		{"slow", &faults.Provider{Slow: 1, Delay: time.Millisecond}, func(err error) bool { return err == nil }, 1, faults.ProviderSlow, false},
		{"crash after the send", &faults.Provider{Crash: 1}, func(err error) bool { return err == nil }, 1, faults.ProviderCrash, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &accept{}
			tt.p.Sender = inner
			ctx, life := faults.Invocation(context.Background())
			_, err := tt.p.Send(ctx, msg)
			if !tt.want(err) {
				t.Errorf("error %v", err)
			}
			if inner.n.Load() != tt.sent || life.Dead() != tt.dead {
				t.Errorf("sent %d, dead %v; want %d, %v", inner.n.Load(), life.Dead(), tt.sent, tt.dead)
			}
			if got := tt.p.Counts()[tt.kind]; got != 1 {
				t.Errorf("counted %d %s, want 1", got, tt.kind)
			}
			accepted, crashed := tt.p.Accepted()
			if int64(accepted["m1"]) != tt.sent || (crashed["m1"] == 1) != tt.dead {
				t.Errorf("accepted %v, crashed %v", accepted, crashed)
			}
		})
	}
}

// TestProviderDeterministic: the faults follow the message ids, whatever the order of sends.
func TestProviderDeterministic(t *testing.T) {
	failed := func(order []int) map[int]bool {
		p := &faults.Provider{Sender: &accept{}, Seed: 5, Transient: 0.3}
		out := map[int]bool{}
		for _, i := range order {
			_, err := p.Send(context.Background(), notify.Message{ID: string(rune('a' + i))})
			out[i] = err != nil
		}
		return out
	}
	fwd, back := make([]int, 26), make([]int, 26)
	for i := range 26 {
		fwd[i], back[25-i] = i, i
	}
	if diff := cmp.Diff(failed(fwd), failed(back)); diff != "" {
		t.Errorf("faults depend on the order of sends:\n%s", diff)
	}
}

// TestProviderCrashCoversTheInvocation: a crash after the second send of an invocation marks
// both sends as possibly unrecorded; a send of another invocation is not; the dead invocation
// sends nothing more.
func TestProviderCrashCoversTheInvocation(t *testing.T) {
	inner := &accept{}
	p := &faults.Provider{Sender: inner}
	ctx, _ := faults.Invocation(context.Background())
	other, _ := faults.Invocation(context.Background())
	for _, id := range []string{"a", "b"} {
		if _, err := p.Send(ctx, notify.Message{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Send(other, notify.Message{ID: "c"}); err != nil {
		t.Fatal(err)
	}
	faults.Kill(ctx, "after b")
	if _, err := p.Send(ctx, notify.Message{ID: "d"}); !errors.Is(err, faults.ErrCrashed) {
		t.Errorf("a send of the dead invocation: %v, want ErrCrashed", err)
	}
	accepted, crashed := p.Accepted()
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 1, "c": 1}, accepted); diff != "" {
		t.Errorf("accepted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 1}, crashed); diff != "" {
		t.Errorf("crashed (-want +got):\n%s", diff)
	}
	if inner.n.Load() != 3 {
		t.Errorf("the inner sender got %d sends, want 3", inner.n.Load())
	}
}

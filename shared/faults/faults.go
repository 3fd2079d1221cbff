// Package faults owns fault injection for integration tests: an aws-sdk-go-v2 middleware that
// makes DynamoDB, SQS and S3 calls fail as AWS does (throttling, 5xx, timeouts, and a write that
// was applied but whose answer was lost), a notify.Sender wrapper that fails or delays, and
// crashes of a consumer between two steps. Every decision is drawn from a seed and every
// injected fault is counted, per kind and per operation, so a test can report what it survived.
//
//	inj := faults.New(seed, faults.Rule{Services: []string{"DynamoDB"}, Rate: 0.1})
//	cfg := env.AWS.Copy()
//	cfg.APIOptions = append(cfg.APIOptions, inj.Register)
//	… build the clients from cfg, exercise the code …
//	t.Log(inj.Counts())
package faults

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is a kind of injected fault.
type Kind string

// Kinds of SDK fault.
const (
	// Throttle refuses the request unprocessed: DynamoDB ProvisionedThroughputExceededException
	// or ThrottlingException, SQS RequestThrottled, S3 SlowDown.
	Throttle Kind = "throttle"
	// ServerError refuses the request unprocessed with a 500 or 503.
	ServerError Kind = "5xx"
	// Timeout hangs for the rule's Delay (or until the context's deadline, if sooner) and then
	// fails with an error wrapping context.DeadlineExceeded; the request is not sent.
	Timeout Kind = "timeout"
	// LostResponse sends the request — the server applies it — and then fails with a 500, as
	// when the answer is lost on its way back. The nastiest case: a retry meets its own write.
	LostResponse Kind = "lost-response"
)

// Placement is where in the SDK's middleware stack a rule's faults are injected.
type Placement int

const (
	// PerAttempt injects inside the SDK's retry loop (the end of the Finalize step, like
	// awscalls.Counter): each attempt may fail, and the retryer retries what AWS would have it
	// retry. This is how real throttling and 5xx reach a client.
	PerAttempt Placement = iota
	// PerCall injects outside the retry loop (the Initialize step): the error reaches the
	// caller as if every retry had failed. This is what our code itself must survive.
	PerCall
)

func (p Placement) String() string {
	if p == PerCall {
		return "per-call"
	}
	return "per-attempt"
}

// Rule says which calls fail, how often and how.
type Rule struct {
	// Services are the SDK service ids the rule applies to ("DynamoDB", "SQS", "S3"); empty
	// means every service.
	Services []string
	// Operations are the operation names it applies to ("PutItem", "SendMessageBatch"); empty
	// means every operation. Writes lists the writes of each service.
	Operations []string
	// Rate is the share of matching calls (or attempts) that fail, 0 to 1.
	Rate float64
	// Kinds are the faults drawn from, each equally likely; empty means Throttle.
	Kinds []Kind
	// Placement is where the faults are injected.
	Placement Placement
	// Delay is how long a Timeout hangs (at most until the context's deadline); 0 fails at once.
	Delay time.Duration
}

// Writes are the operations that change state, by service: the ones a LostResponse rule is
// usually restricted to.
var Writes = map[string][]string{
	"DynamoDB": {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"},
	"SQS":      {"SendMessage", "SendMessageBatch", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"},
	"S3":       {"PutObject", "DeleteObject", "DeleteObjects", "CopyObject", "CompleteMultipartUpload"},
}

func (r Rule) matches(service, op string) bool {
	return (len(r.Services) == 0 || slices.Contains(r.Services, service)) &&
		(len(r.Operations) == 0 || slices.Contains(r.Operations, op))
}

// Injector is the SDK middleware. Create it with New; it is safe for concurrent use.
//
// Decisions are a function of the seed, the rule, the operation and how many calls of that
// operation the rule has seen: a test that makes its calls in a fixed order gets the same
// faults on every run; concurrent callers get the same number of faults per operation, in an
// order the scheduler picks.
type Injector struct {
	seed  uint64
	rules []Rule
	off   atomic.Bool

	mu     sync.Mutex
	seen   map[string]uint64 // "rule/Service.Operation" → calls seen
	calls  map[string]int    // "Service.Operation" → calls made (each counted once, retries not)
	counts map[string]map[Kind]int
	dead   int // calls refused because their invocation had crashed
}

// New returns an injector of rules, drawing from seed. It injects from the start; see Pause.
func New(seed uint64, rules ...Rule) *Injector {
	return &Injector{seed: seed, rules: rules, seen: map[string]uint64{}, calls: map[string]int{}, counts: map[string]map[Kind]int{}}
}

// Pause stops injecting (seeding data, reading the results); Resume starts again. Calls of a
// crashed invocation fail either way.
func (i *Injector) Pause() { i.off.Store(true) }

// Resume starts injecting again after Pause.
func (i *Injector) Resume() { i.off.Store(false) }

// Register adds the injector to a client's stack; it has the signature of an aws.Config
// APIOptions entry. Rules placed PerCall run at the Initialize step, outside the retry loop;
// rules placed PerAttempt at the end of the Finalize step, inside it.
func (i *Injector) Register(stack *middleware.Stack) error {
	id := fmt.Sprintf("faults.Injector@%p", i)
	if _, ok := stack.Initialize.Get(id + "/call"); ok {
		return nil // registered twice on one client: inject once
	}
	call := middleware.InitializeMiddlewareFunc(id+"/call",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			var out middleware.InitializeOutput
			var md middleware.Metadata
			err := i.inject(ctx, PerCall, func() error {
				var err error
				out, md, err = next.HandleInitialize(ctx, in)
				return err
			})
			return out, md, err
		})
	attempt := middleware.FinalizeMiddlewareFunc(id+"/attempt",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			var out middleware.FinalizeOutput
			var md middleware.Metadata
			err := i.inject(ctx, PerAttempt, func() error {
				var err error
				out, md, err = next.HandleFinalize(ctx, in)
				return err
			})
			return out, md, err
		})
	// After the operation's own Initialize middleware (idempotency tokens are filled in
	// before a call can fail), but still outside Finalize's retry loop.
	if err := stack.Initialize.Add(call, middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Add(attempt, middleware.After)
}

// inject runs send, or fails instead of (or after) it, by the rules placed at p.
func (i *Injector) inject(ctx context.Context, p Placement, send func() error) error {
	service, op := middleware.GetServiceID(ctx), middleware.GetOperationName(ctx)
	if p == PerCall && Dead(ctx) {
		i.mu.Lock()
		i.dead++
		i.mu.Unlock()
		return fmt.Errorf("%s.%s: %w", service, op, ErrCrashed)
	}
	if p == PerCall {
		i.mu.Lock()
		i.calls[service+"."+op]++
		i.mu.Unlock()
	}
	if i.off.Load() {
		return send()
	}
	for n, r := range i.rules {
		if r.Placement != p || !r.matches(service, op) {
			continue
		}
		i.mu.Lock()
		k := fmt.Sprintf("%d/%s.%s", n, service, op)
		seq := i.seen[k]
		i.seen[k]++
		i.mu.Unlock()
		x := draw(i.seed, k, seq)
		if x >= r.Rate {
			continue
		}
		kinds := r.Kinds
		if len(kinds) == 0 {
			kinds = []Kind{Throttle}
		}
		// The same draw, rescaled below the rate, picks the kind and the variant.
		u := x / r.Rate
		kind := kinds[int(u*float64(len(kinds)))%len(kinds)]
		variant := int(u*float64(2*len(kinds))) % 2
		i.count(service+"."+op, kind)
		switch kind {
		case Timeout:
			return timeout(ctx, r.Delay, service, op)
		case LostResponse:
			if err := send(); err != nil {
				return err // it failed on its own: nothing was lost
			}
			return serverError(service, op, 0)
		case ServerError:
			return serverError(service, op, variant)
		default:
			return throttle(service, op, variant)
		}
	}
	return send()
}

func (i *Injector) count(op string, k Kind) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.counts[op] == nil {
		i.counts[op] = map[Kind]int{}
	}
	i.counts[op][k]++
}

// Counts returns what the injector did so far.
func (i *Injector) Counts() Counts {
	i.mu.Lock()
	defer i.mu.Unlock()
	c := Counts{ByOperation: map[string]map[Kind]int{}, Calls: maps.Clone(i.calls), Crashed: i.dead}
	for op, m := range i.counts {
		c.ByOperation[op] = maps.Clone(m)
	}
	return c
}

// Counts are the faults an injector injected.
type Counts struct {
	// ByOperation is keyed "Service.Operation".
	ByOperation map[string]map[Kind]int
	// Calls counts the calls made through the injector, by operation, paused or not: each
	// call once, however often the SDK retried it.
	Calls map[string]int
	// Crashed counts calls refused because their invocation had crashed (see Kill).
	Crashed int
}

// ByKind sums the faults over operations.
func (c Counts) ByKind() map[Kind]int {
	m := map[Kind]int{}
	for _, ks := range c.ByOperation {
		for k, n := range ks {
			m[k] += n
		}
	}
	return m
}

// Total is the number of faults injected.
func (c Counts) Total() int {
	n := 0
	for _, v := range c.ByKind() {
		n += v
	}
	return n
}

// String lists the faults by kind, then by operation, sorted:
//
//	faults 12 in 130 calls: 5xx 3 throttle 9; DynamoDB.PutItem 5xx 1 throttle 4; …
func (c Counts) String() string {
	calls := 0
	for _, n := range c.Calls {
		calls += n
	}
	var b strings.Builder
	fmt.Fprintf(&b, "faults %d in %d calls:", c.Total(), calls)
	writeKinds(&b, c.ByKind())
	for _, op := range slices.Sorted(maps.Keys(c.ByOperation)) {
		b.WriteString("; " + op)
		writeKinds(&b, c.ByOperation[op])
	}
	if c.Crashed > 0 {
		fmt.Fprintf(&b, "; refused after a crash %d", c.Crashed)
	}
	return b.String()
}

func writeKinds(b *strings.Builder, m map[Kind]int) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(b, " %s %d", k, m[k])
	}
}

// draw is a uniform number in [0, 1) determined by seed, key and seq (splitmix64 over an FNV
// hash of the key).
func draw(seed uint64, key string, seq uint64) float64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	x := seed ^ h.Sum64() ^ (seq * 0x9E3779B97F4A7C15)
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// responseError dresses apiErr as the SDK presents an error answer: status and request id
// around the decoded API error, so that the retryer and errors.As see what they would.
func responseError(status int, apiErr error) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      apiErr,
		},
		RequestID: "faults-injected",
	}
}

func throttle(service, op string, variant int) error {
	msg := aws.String("injected by faults: " + service + "." + op)
	switch service {
	case "DynamoDB":
		if variant == 0 {
			return responseError(400, &ddbtypes.ProvisionedThroughputExceededException{Message: msg})
		}
		return responseError(400, &smithy.GenericAPIError{Code: "ThrottlingException", Message: *msg, Fault: smithy.FaultClient})
	case "SQS":
		return responseError(400, &sqstypes.RequestThrottled{Message: msg})
	case "S3":
		return responseError(503, &smithy.GenericAPIError{Code: "SlowDown", Message: *msg, Fault: smithy.FaultServer})
	}
	return responseError(400, &smithy.GenericAPIError{Code: "ThrottlingException", Message: *msg, Fault: smithy.FaultClient})
}

func serverError(service, op string, variant int) error {
	msg := "injected by faults: " + service + "." + op
	if variant == 1 {
		return responseError(503, &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: msg, Fault: smithy.FaultServer})
	}
	switch service {
	case "DynamoDB":
		return responseError(500, &ddbtypes.InternalServerError{Message: &msg})
	case "S3":
		return responseError(500, &smithy.GenericAPIError{Code: "InternalError", Message: msg, Fault: smithy.FaultServer})
	}
	return responseError(500, &smithy.GenericAPIError{Code: "InternalFailure", Message: msg, Fault: smithy.FaultServer})
}

// timeout hangs for delay or until ctx's deadline, whichever comes first, then fails as the
// HTTP client does when no answer comes: a send error wrapping context.DeadlineExceeded.
func timeout(ctx context.Context, delay time.Duration, service, op string) error {
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return &smithyhttp.RequestSendError{Err: fmt.Errorf("injected by faults: %s.%s: %w", service, op, ctx.Err())}
		}
	}
	return &smithyhttp.RequestSendError{Err: &timeoutError{op: service + "." + op}}
}

// timeoutError is a client-side timeout: context.DeadlineExceeded, as net/http reports one.
type timeoutError struct{ op string }

func (e *timeoutError) Error() string {
	return "injected by faults: " + e.op + ": " + context.DeadlineExceeded.Error()
}
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }
func (e *timeoutError) Timeout() bool { return true }

// Injected reports whether err is (or wraps) a fault this package injected, a crash included.
func Injected(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, ErrCrashed) || strings.Contains(err.Error(), "injected by faults")
}

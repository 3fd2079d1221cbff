// Package pipeline holds the test of the whole reminder pipeline — dispatcher, deliveries queue,
// sender, ack-checks queue, escalator — against the emulators, with the faults of the reminders
// issue injected: each message delivered one to three times, 10% of provider calls failing, the
// sender crashing after a provider call and before recording it, DynamoDB throttling, and a
// poison message.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"yinling/functions/dispatcher"
	"yinling/functions/escalator"
	"yinling/functions/sender"
	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/member"
	"yinling/shared/notify"
	"yinling/shared/notify/outbox"
	"yinling/shared/reminder"
	"yinling/shared/sqsmsg"
	"yinling/shared/testenv"
)

const store = "s-pipe"

// clock is the pipeline's time: the dispatcher's minute and the claims' expiry follow it, while
// SQS delays run in real time (the ladder's spacing is one second here).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// throttle fails a share of DynamoDB calls with ProvisionedThroughputExceeded after the SDK's
// retry middleware has seen them, as DynamoDB would; the SDK retries, and what still fails
// reaches the handlers.
//
// It also kills the sender between a provider call and its record: once crashing is set (by
// the provider, after accepting a message), every DynamoDB write fails until the harness ends
// the invocation as crashed — nothing after the provider call reaches the table, as if the
// process had died there.
func throttle(rate float64, injected *atomic.Int64, crashing *atomic.Bool) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("InjectThrottle",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if middleware.GetServiceID(ctx) != "DynamoDB" {
					return next.HandleFinalize(ctx, in)
				}
				if crashing.Load() && middleware.GetOperationName(ctx) != "GetItem" && middleware.GetOperationName(ctx) != "BatchGetItem" && middleware.GetOperationName(ctx) != "Query" {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, errCrashed
				}
				if faultsOn.Load() && rand.Float64() < rate {
					injected.Add(1)
					return middleware.FinalizeOutput{}, middleware.Metadata{}, &ddbtypes.ProvisionedThroughputExceededException{Message: aws.String("injected")}
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

// provider is the channel under test: the real outbox behind a wrapper that fails 10% of calls
// and crashes the sender after some successful ones.
type provider struct {
	inner     notify.Sender
	failRate  float64
	crashRate float64
	mu        sync.Mutex
	calls     map[string]int // by message id: how often the provider accepted it
	crashes   map[string]int // by message id: crashes right after acceptance
	failed    int
	crashing  *atomic.Bool
	inflight  []string // accepted during the current invocation
}

// ended closes an invocation: if it crashed, every message the provider accepted during it was
// never recorded — each may be sent again, and that is the documented window.
func (p *provider) ended(crashed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if crashed {
		for _, id := range p.inflight {
			p.crashes[id]++
		}
	}
	p.inflight = p.inflight[:0]
}

// faultsOn switches the throttling on once the test's data is seeded.
var faultsOn atomic.Bool

// errCrashed is what the dead process "returns": the harness treats the invocation as crashed.
var errCrashed = errors.New("injected crash: the sender died after the provider call")

func (p *provider) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if rand.Float64() < p.failRate {
		p.mu.Lock()
		p.failed++
		p.mu.Unlock()
		return notify.Receipt{}, errors.New("injected provider outage")
	}
	rec, err := p.inner.Send(ctx, m)
	if err != nil {
		return rec, err
	}
	p.mu.Lock()
	p.calls[m.ID]++
	p.inflight = append(p.inflight, m.ID)
	if rand.Float64() < p.crashRate {
		p.crashing.Store(true) // the process dies between the provider call and the record
	}
	p.mu.Unlock()
	return rec, nil
}

type harness struct {
	t          testing.TB
	env        *testenv.Env
	st         *dynamostore.Store
	clock      *clock
	disp       *dispatcher.Handler
	send       *sender.Handler
	esc        *escalator.Handler
	deliveries string
	checks     string
	dlq        string
	crashing   *atomic.Bool
	provider   *provider
}

func newHarness(t *testing.T, p *provider, start time.Time, throttled *atomic.Int64) *harness {
	p.crashing = &atomic.Bool{}
	env := testenv.New(t, testenv.WithAPIOptions(throttle(0.1, throttled, p.crashing)))
	st := dynamostore.New(env.DynamoDB, env.TableName())
	p.inner = outbox.New(st, nil)
	c := &clock{t: start}
	log := slog.New(slog.DiscardHandler)
	h := &harness{t: t, env: env, st: st, clock: c, deliveries: env.Ref("DeliveriesQueue"), checks: env.Ref("AckChecksQueue"),
		dlq: env.Ref("DeliveriesDLQ"), crashing: p.crashing, provider: p}
	ladders := reminder.DefaultLadders(2, time.Second)
	h.disp = dispatcher.New(dispatcher.Deps{Store: st, Deliveries: sqsmsg.NewQueue(env.SQS, h.deliveries), Log: log, Now: c.Now, PageSize: 7})
	h.send = sender.New(sender.Deps{Store: st, Channels: map[notify.Channel]notify.Sender{notify.ChannelVoice: p, notify.ChannelSMS: p},
		AckChecks: sqsmsg.NewQueue(env.SQS, h.checks), Ladders: ladders, Key: []byte("k"), BaseURL: "https://yl.example", Log: log, Now: c.Now})
	h.esc = escalator.New(escalator.Deps{Store: st, Deliveries: sqsmsg.NewQueue(env.SQS, h.deliveries), AckChecks: sqsmsg.NewQueue(env.SQS, h.checks),
		Ladders: ladders, Log: log, Now: c.Now})
	return h
}

// seed adds a verified member with health consent and one daily medication reminder at at.
func (h *harness) seed(i int, at time.Time, alertLink bool) reminder.Reminder {
	h.t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("m%03d", i)
	now := h.clock.Now().Add(-time.Hour)
	m, consents, err := member.NewSignup(member.SignupDraft{Name: "李" + string(rune(0x4E00+i)), Phone: fmt.Sprintf("+86138%08d", i), BirthYear: 1950,
		Consents: map[member.ConsentKind]bool{member.ConsentService: true, member.ConsentHealth: true}, AcceptCovenant: true}, nil, now)
	if err != nil {
		h.t.Fatal(err)
	}
	m.ID, m.StoreID = id, store
	ms := member.Membership{StoreID: store, GroupID: "g1", MemberID: id, Status: member.StatusPendingVerification, Path: member.PathQR, JoinedAt: now}
	key := []byte("k")
	must(h.t, h.st.Signup(ctx, dynamostore.SignupWrite{Member: m, NewMember: true, PhoneHash: "ph-" + id, Consents: consents, Membership: ms,
		OTP: member.NewOTPState(member.NewOTP(), id, key, now), Rule: group.RuleOpen, Now: now}))
	rec, err := h.st.GetOTP(ctx, id)
	must(h.t, err)
	must(h.t, h.st.CompleteVerification(ctx, dynamostore.Verification{Record: rec, Status: member.StatusActive,
		SessionHash: "sess-" + id, SessionExpires: now.Add(time.Hour), Now: now}))
	if alertLink {
		l, _, err := member.NewFamilyLink(m, id, member.FamilyLinkDraft{Label: "女儿", Scope: member.ScopeView, Alerts: true,
			AlertPhone: fmt.Sprintf("+86139%08d", i)}, now)
		must(h.t, err)
		l.ID = "L" + id
		must(h.t, h.st.CreateFamilyLink(ctx, l))
	}
	r, err := reminder.New(reminder.Draft{Kind: reminder.KindMedication, Text: "该吃降压药了",
		Rule: reminder.Rule{Freq: reminder.FreqDaily, Start: at.In(shanghai).Format("2006-01-02"), At: at.In(shanghai).Format("15:04")}}, now)
	must(h.t, err)
	r.ID, r.StoreID, r.MemberID, r.CreatedBy, r.CreatedVia = "r"+id, store, id, id, reminder.ViaMember
	must(h.t, h.st.CreateReminder(ctx, r, "link-"+id))
	return r
}

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// pump receives up to ten messages of a queue and hands them to handle as Lambda would, each
// one to three times (in separate batches), deleting what the handler did not report failed. A
// crash fails the whole batch. Failed messages are made visible again at once (the test's time
// runs faster than SQS's visibility timeout). It returns how many messages it received.
func (h *harness) pump(url string, handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) int {
	return h.pumpCopies(url, handle, 1+rand.IntN(3))
}

// pumpCopies is pump with a given number of copies.
func (h *harness) pumpCopies(url string, handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), copies int) int {
	ctx := context.Background()
	out, err := h.env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
		VisibilityTimeout: 30, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(out.Messages) == 0 {
		return 0
	}
	ev := events.SQSEvent{}
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, Body: *m.Body, ReceiptHandle: *m.ReceiptHandle})
	}
	failed := map[string]bool{}
	for range copies {
		resp, crashed := h.invoke(handle, ev)
		if crashed {
			for _, r := range ev.Records {
				failed[r.MessageId] = true
			}
			h.clock.Add(dynamostore.ClaimTTL + time.Second) // the crashed claim expires before the retry
			continue
		}
		clear(failed)
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	var done []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if failed[*m.MessageId] {
			_, err = h.env.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
			if err != nil {
				h.t.Fatal(err)
			}
			continue
		}
		done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(done) > 0 { // as Lambda's poller does: one batch delete
		if _, err := h.env.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: done}); err != nil {
			h.t.Fatal(err)
		}
	}
	return len(out.Messages)
}

func (h *harness) invoke(handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), ev events.SQSEvent) (resp events.SQSEventResponse, crashed bool) {
	resp, err := handle(context.Background(), ev)
	crashed = h.crashing.Swap(false) || err != nil // a dead or failed invocation: SQS retries the whole batch
	h.provider.ended(crashed)
	return resp, crashed
}

func (h *harness) depth(url string) int {
	out, err := h.env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		var i int
		fmt.Sscan(v, &i)
		n += i
	}
	return n
}

// drain runs the consumers until both queues stay empty, bounded in rounds.
func (h *harness) drain(answers func(r reminder.Reminder) bool, rs []reminder.Reminder) {
	idle := 0
	for round := 0; round < 400 && idle < 4; round++ {
		n := h.pump(h.deliveries, h.send.Handle)
		for _, r := range rs { // the seniors who answer do so as soon as they are called
			occ := reminder.OccurrenceID(r.NextAt)
			h.provider.mu.Lock()
			called := h.provider.calls[store+":"+r.ID+":"+occ+":A0"] > 0
			h.provider.mu.Unlock()
			if answers(r) && called {
				// A throttled "收到" is tapped again, as a senior would (and as the page retries).
				for try := 0; ; try++ {
					_, err := h.st.Acknowledge(context.Background(), store, r.ID, dynamostore.Ack{Occurrence: occ, By: r.MemberID, Via: reminder.ViaMember, At: h.clock.Now()})
					if err == nil {
						break
					}
					if !strings.Contains(err.Error(), "injected") || try == 10 {
						h.t.Fatal(err)
					}
				}
			}
		}
		n += h.pump(h.checks, h.esc.Handle)
		if n == 0 && h.depth(h.deliveries)+h.depth(h.checks) == 0 {
			idle++
			continue
		}
		idle = 0
		if n == 0 {
			time.Sleep(250 * time.Millisecond) // delayed checks
		}
	}
}

// TestPipelineUnderFaults is the reminders issue's fault test: 30 medication reminders due in
// the same minute, half acknowledged at once, the rest chased through two retries, the family
// and staff — with every fault injected. Every occurrence's first call ends SENT exactly once
// (or in the DLQ), and the provider is called twice for one delivery only after a crash between
// the call and its record.
func TestPipelineUnderFaults(t *testing.T) {
	start := time.Date(2026, 11, 23, 2, 0, 30, 0, time.UTC) // 10:00:30 in Shanghai
	due := start.Truncate(time.Minute).Add(time.Minute)
	p := &provider{failRate: 0.1, crashRate: 0.05, calls: map[string]int{}, crashes: map[string]int{}}
	var throttled atomic.Int64
	h := newHarness(t, p, start, &throttled)
	var rs []reminder.Reminder
	for i := range 30 {
		rs = append(rs, h.seed(i, due, i%3 == 0))
	}
	// A poison message on the deliveries queue goes to the DLQ, costing only itself.
	_, err := h.env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &h.deliveries, MessageBody: aws.String(`{"type":"reminder.deliver","v":1,"body":{"store":""}}`)})
	must(t, err)

	faultsOn.Store(true)
	defer faultsOn.Store(false)

	// The dispatcher was down for three minutes: its first tick catches up, its second (same
	// minute) enqueues nothing.
	h.clock.Add(3 * time.Minute)
	must(t, h.st.SetWatermark(context.Background(), start.Truncate(time.Minute).Add(-time.Minute)))
	var enqueued int
	for range 5 { // a tick that fails (throttled past the SDK's retries) is retried by the next
		tick, err := h.disp.Handle(context.Background(), events.EventBridgeEvent{Time: h.clock.Now()})
		enqueued += tick.Enqueued
		if err == nil && !tick.Through.Before(h.clock.Now().Truncate(time.Minute)) {
			break
		}
	}
	again, err := h.disp.Handle(context.Background(), events.EventBridgeEvent{Time: h.clock.Now()})
	must(t, err)
	if again.Enqueued != 0 {
		t.Errorf("second tick for the same minute enqueued %d", again.Enqueued)
	}
	if enqueued < len(rs) {
		t.Fatalf("dispatcher enqueued %d, want ≥ %d", enqueued, len(rs))
	}
	acks := func(r reminder.Reminder) bool { return r.MemberID[len(r.MemberID)-1]%2 == 0 }
	h.drain(acks, rs)
	faultsOn.Store(false) // the checks below read the table as it is, without injected faults

	// Invariants.
	ctx := context.Background()
	dlq := h.depth(h.dlq)
	var sent, suppressed, violations int
	for i, r := range rs {
		st, err := h.st.ReminderStatus(ctx, store, r.ID, "", 50)
		must(t, err)
		if len(st.Occurrences) != 1 {
			t.Errorf("%s: %d occurrences, want 1", r.ID, len(st.Occurrences))
			violations++
			continue
		}
		o := st.Occurrences[0]
		states := map[string]string{}
		for _, d := range o.Deliveries {
			states[d.Attempt] = d.State
		}
		// The first call is recorded sent — or, where the sender crashed after the provider
		// accepted it and the senior acknowledged before the retry, skipped as acknowledged.
		first := states["A0"]
		p.mu.Lock()
		accepted := p.calls[store+":"+r.ID+":"+o.Occurrence+":A0"]
		p.mu.Unlock()
		if first != dynamostore.DeliverySent && (first != dynamostore.DeliverySkipped || accepted == 0) {
			t.Errorf("%s: first call %q (provider accepted it %d times), want sent", r.ID, first, accepted)
			violations++
		}
		acked := o.Ack != nil
		if !acks(r) {
			for _, a := range []string{"A1", "A2"} {
				if states[a] != dynamostore.DeliverySent {
					t.Errorf("%s unanswered: %s %q, want sent", r.ID, a, states[a])
					violations++
				}
			}
			if i%3 == 0 && states["FL"+r.MemberID] != dynamostore.DeliverySent {
				t.Errorf("%s unanswered: family alert %q, want sent (deliveries %v)", r.ID, states["FL"+r.MemberID], states)
				violations++
			}
		} else if !acked {
			t.Errorf("%s: acknowledgement missing", r.ID)
		}
		for _, s := range states {
			switch s {
			case dynamostore.DeliverySent:
				sent++
			case dynamostore.DeliverySuppressed:
				suppressed++
			}
		}
	}
	alerts, err := h.st.ListStaffAlerts(ctx, store, "", 100)
	must(t, err)
	var unanswered int
	for _, r := range rs {
		if !acks(r) {
			unanswered++
		}
	}
	if len(alerts.Items) != unanswered {
		t.Errorf("staff alerts = %d, want %d (one per unanswered occurrence)", len(alerts.Items), unanswered)
	}
	// The provider: once per delivery, twice only where the sender crashed after the call.
	var calls, extra int
	for id, n := range p.calls {
		calls += n
		if n > 1+p.crashes[id] {
			t.Errorf("delivery %s: provider accepted it %d times with %d crashes", id, n, p.crashes[id])
			violations++
		}
		extra += n - 1
	}
	if dlq != 1 {
		t.Errorf("DLQ holds %d messages, want 1 (the poison one)", dlq)
	}
	t.Logf("reminders %d, provider accepted %d (duplicates after crashes %d), sent records %d, provider failures injected %d, throttles injected %d, DLQ %d, staff alerts %d, violations %d",
		len(rs), calls, extra, sent, p.failed, throttled.Load(), dlq, len(alerts.Items), violations)
}

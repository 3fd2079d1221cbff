package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"yinling/functions/dispatcher"
	"yinling/functions/escalator"
	"yinling/functions/sender"
	"yinling/shared/awscalls"
	"yinling/shared/dynamostore"
	"yinling/shared/notify"
	"yinling/shared/reminder"
	"yinling/shared/sqsmsg"
	"yinling/shared/testenv"
)

// countingProvider accepts every message without any AWS call: the provider is outside the budget.
type countingProvider struct {
	mu   sync.Mutex
	sent []notify.Message
}

// count is how many messages the provider accepted.
func (p *countingProvider) count() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(len(p.sent))
}

func (p *countingProvider) Send(_ context.Context, m notify.Message) (notify.Receipt, error) {
	p.mu.Lock()
	p.sent = append(p.sent, m)
	p.mu.Unlock()
	return notify.Receipt{Provider: "test", ProviderID: m.ID, At: time.Now()}, nil
}

// newCountedHarness is the pipeline with a call counter on every client and no faults.
func newCountedHarness(t testing.TB, start time.Time) (*harness, *awscalls.Counter, *countingProvider) {
	counter := &awscalls.Counter{}
	env := testenv.New(t, testenv.WithAPIOptions(counter.Register))
	st := dynamostore.New(env.DynamoDB, env.TableName())
	c := &clock{t: start}
	log := slog.New(slog.DiscardHandler)
	p := &countingProvider{}
	h := &harness{t: t, env: env, st: st, clock: c, deliveries: env.Ref("DeliveriesQueue"), checks: env.Ref("AckChecksQueue"),
		dlq: env.Ref("DeliveriesDLQ"), crashing: &atomic.Bool{}, provider: &provider{calls: map[string]int{}, crashes: map[string]int{}}}
	ladders := reminder.DefaultLadders(2, time.Second)
	h.disp = dispatcher.New(dispatcher.Deps{Store: st, Deliveries: sqsmsg.NewQueue(env.SQS, h.deliveries), Log: log, Now: c.Now})
	h.send = sender.New(sender.Deps{Store: st, Channels: map[notify.Channel]notify.Sender{notify.ChannelVoice: p, notify.ChannelSMS: p, notify.ChannelWeCom: p},
		AckChecks: sqsmsg.NewQueue(env.SQS, h.checks), Ladders: ladders, Key: []byte("k"), BaseURL: "https://yl.example", Log: log, Now: c.Now})
	h.esc = escalator.New(escalator.Deps{Store: st, Deliveries: sqsmsg.NewQueue(env.SQS, h.deliveries), AckChecks: sqsmsg.NewQueue(env.SQS, h.checks),
		Ladders: ladders, Log: log, Now: c.Now})
	return h, counter, p
}

// pollerCalls are the SQS calls Lambda's event source mapping makes, not our code: reported
// apart from the budget.
var pollerCalls = []string{"SQS.ReceiveMessage", "SQS.DeleteMessageBatch", "SQS.ChangeMessageVisibility", "SQS.GetQueueAttributes"}

// deliverAll runs n reminders due in the same minute through the pipeline, every one
// acknowledged after its first call, and returns the AWS calls the pipeline's own code made
// (the poller's and the acknowledgements' apart).
func deliverAll(t testing.TB, n int) (ours, poller awscalls.Calls, delivered int64) {
	start := time.Date(2026, 11, 23, 2, 0, 30, 0, time.UTC)
	due := start.Truncate(time.Minute).Add(time.Minute)
	h, counter, p := newCountedHarness(t, start)
	var rs []reminder.Reminder
	for i := range n {
		rs = append(rs, h.seed(i, due, false))
	}
	ctx := context.Background()
	if err := h.st.SetWatermark(ctx, start.Truncate(time.Minute)); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(time.Minute)
	before := counter.Snapshot()
	if _, err := h.disp.Handle(ctx, events.EventBridgeEvent{Time: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	for h.pumpOnce(h.deliveries, h.send.Handle) > 0 {
	}
	ackStart := counter.Snapshot()
	for _, r := range rs {
		if _, err := h.st.Acknowledge(ctx, store, r.ID, dynamostore.Ack{Occurrence: reminder.OccurrenceID(due), By: r.MemberID, Via: reminder.ViaMember, At: h.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	ackCalls := counter.Snapshot().Sub(ackStart)
	time.Sleep(1500 * time.Millisecond) // the checks' delay
	for idle := 0; idle < 3; {
		if h.pumpOnce(h.checks, h.esc.Handle) == 0 {
			idle++
			time.Sleep(300 * time.Millisecond)
		}
	}
	all := counter.Snapshot().Sub(before).Sub(awscalls.Calls{Count: ackCalls.Count, Capacity: ackCalls.Capacity})
	ours, poller = awscalls.Calls{Count: map[string]int{}, Capacity: all.Capacity}, awscalls.Calls{Count: map[string]int{}, Capacity: map[string]awscalls.Capacity{}}
	for k, v := range all.Count {
		if isPoller(k) {
			poller.Count[k] = v
		} else if v != 0 {
			ours.Count[k] = v
		}
	}
	return ours, poller, p.count()
}

func isPoller(op string) bool {
	for _, p := range pollerCalls {
		if op == p {
			return true
		}
	}
	return false
}

// pumpOnce hands one batch of up to ten messages to handle, once, as Lambda would, deleting what
// succeeded. It returns how many it received.
func (h *harness) pumpOnce(url string, handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) int {
	return h.pumpCopies(url, handle, 1)
}

// TestCallsPerDeliveredReminder holds the reminders issue's budget: at most 2.05 AWS calls per
// delivered reminder besides the provider call — dispatcher, sender and escalator together, for
// 100 reminders due in the same minute and acknowledged after the first call.
func TestCallsPerDeliveredReminder(t *testing.T) {
	const n = 100
	ours, poller, delivered := deliverAll(t, n)
	if delivered != n {
		t.Fatalf("provider got %d messages, want %d", delivered, n)
	}
	per := float64(ours.Total()) / n
	t.Logf("per delivered reminder: %.2f calls of ours, %.2f of the SQS poller\nours:\n%s\npoller:\n%s", per, float64(poller.Total())/n, ours, poller)
	if per > 2.05 {
		t.Errorf("%.2f AWS calls per delivered reminder, budget 2.05:\n%s", per, ours)
	}
	if ours.Count["DynamoDB.Scan"] != 0 {
		t.Errorf("the pipeline scanned the table")
	}
}

// BenchmarkDelivery reports the AWS calls and capacity units per delivered reminder for 1,000
// reminders due in the same minute.
func BenchmarkDelivery(b *testing.B) {
	const n = 1000
	for b.Loop() {
		ours, poller, _ := deliverAll(b, n)
		var wcu float64
		for _, c := range ours.Capacity {
			wcu += c.Units
		}
		b.ReportMetric(float64(ours.Total())/n, "calls/reminder")
		b.ReportMetric(float64(poller.Total())/n, "poller-calls/reminder")
		b.ReportMetric(wcu/n, "capacity-units/reminder")
	}
}

// BenchmarkDispatch10k reports the dispatcher's throughput: one tick for 10,000 reminders due in
// the same minute (the read of the Due index, the sends, the advances), against DynamoDB Local
// and fauxqs on this machine.
func BenchmarkDispatch10k(b *testing.B) {
	const n = 10000
	for b.Loop() {
		b.StopTimer()
		start := time.Date(2026, 11, 23, 2, 0, 30, 0, time.UTC)
		due := start.Truncate(time.Minute).Add(time.Minute)
		h, counter, _ := newCountedHarness(b, start)
		rs := make([]reminder.Reminder, n)
		hashes := make([]string, n)
		for i := range rs {
			r, err := reminder.New(reminder.Draft{Kind: reminder.KindMedication, Text: "该吃降压药了",
				Rule: reminder.Rule{Freq: reminder.FreqDaily, Start: due.In(shanghai).Format("2006-01-02"), At: due.In(shanghai).Format("15:04")}}, start)
			if err != nil {
				b.Fatal(err)
			}
			r.ID, r.StoreID, r.MemberID, r.CreatedBy, r.CreatedVia = fmt.Sprintf("r%05d", i), store, fmt.Sprintf("m%05d", i), "staff", reminder.ViaStaff
			rs[i], hashes[i] = r, "h"+r.ID
		}
		ctx := context.Background()
		if err := h.st.CreateBroadcast(ctx, rs, hashes); err != nil {
			b.Fatal(err)
		}
		if err := h.st.SetWatermark(ctx, start.Truncate(time.Minute)); err != nil {
			b.Fatal(err)
		}
		h.clock.Add(time.Minute)
		before := counter.Snapshot()
		b.StartTimer()
		t0 := time.Now()
		tick, err := h.disp.Handle(ctx, events.EventBridgeEvent{Time: h.clock.Now()})
		elapsed := time.Since(t0)
		b.StopTimer()
		if err != nil || tick.Enqueued != n || tick.Advanced != n {
			b.Fatalf("tick = %+v, %v", tick, err)
		}
		calls := counter.Snapshot().Sub(before)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "reminders/s")
		b.ReportMetric(float64(calls.Total()), "calls/tick")
		if testing.Verbose() {
			b.Logf("dispatch of %d: %v\n%s", n, elapsed, strings.TrimSpace(calls.String()))
		}
		b.StartTimer()
	}
}

package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/dynamostore"
	"yinling/shared/reminder"
)

// TestQuietHoursHoldBack: at 22:00 in Shanghai (inside the default quiet hours, 21:00–08:00) a
// medication reminder rings at once, an event reminder is held in the Due index and rings at
// 08:00 — once.
func TestQuietHoursHoldBack(t *testing.T) {
	start := time.Date(2026, 11, 23, 13, 59, 30, 0, time.UTC) // 21:59:30 in Shanghai
	due := start.Truncate(time.Minute).Add(time.Minute)
	h, _, p := newCountedHarness(t, start)
	ctx := context.Background()
	med := h.seed(1, due, false)
	ev := h.seed(2, due, false)
	ev.Kind = reminder.KindEvent
	prev := ev.UpdatedAt
	ev.UpdatedAt = ev.UpdatedAt.Add(time.Second)
	must(t, h.st.UpdateReminder(ctx, ev, prev))

	must(t, h.st.SetWatermark(ctx, start.Truncate(time.Minute)))
	h.clock.Add(time.Minute)
	if _, err := h.disp.Handle(ctx, events.EventBridgeEvent{}); err != nil {
		t.Fatal(err)
	}
	for h.pumpOnce(h.deliveries, h.send.Handle) > 0 {
	}
	if got := p.count(); got != 1 || !strings.Contains(p.sent[0].ID, med.ID) {
		t.Fatalf("at 22:00 the provider got %d messages (%+v), want 1: the medication", got, p.sent)
	}
	st, err := h.st.ReminderStatus(ctx, store, ev.ID, "", 10)
	must(t, err)
	d := st.Occurrences[0].Deliveries[0]
	wantDue := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) // 08:00 in Shanghai
	if d.State != dynamostore.DeliveryDeferred || !d.DueAt.Equal(wantDue) {
		t.Fatalf("event reminder at 22:00 = %s until %v, want deferred until %v", d.State, d.DueAt, wantDue)
	}

	// 08:00: the dispatcher releases it, the sender sends it, and a second tick does nothing.
	h.clock.Add(wantDue.Sub(h.clock.Now()) + 10*time.Second)
	must(t, h.st.SetWatermark(ctx, wantDue.Add(-time.Minute)))
	for range 2 {
		if _, err := h.disp.Handle(ctx, events.EventBridgeEvent{}); err != nil {
			t.Fatal(err)
		}
		for h.pumpOnce(h.deliveries, h.send.Handle) > 0 {
		}
	}
	if got := p.count(); got != 2 {
		t.Fatalf("after 08:00 the provider got %d messages in all, want 2", got)
	}
	st, err = h.st.ReminderStatus(ctx, store, ev.ID, "", 10)
	must(t, err)
	if d := st.Occurrences[0].Deliveries[0]; d.State != dynamostore.DeliverySent {
		t.Errorf("event reminder after 08:00 = %s, want sent", d.State)
	}
}

// TestOutageExpiresLateOccurrences: after a three-hour outage the dispatcher catches up on every
// missed minute; an occurrence missed by more than reminder.MaxLateness is recorded as expired
// (no call for a pill hours late), one missed by less is sent, and both move to tomorrow.
func TestOutageExpiresLateOccurrences(t *testing.T) {
	start := time.Date(2026, 11, 23, 1, 0, 30, 0, time.UTC) // 09:00:30 in Shanghai
	h, _, p := newCountedHarness(t, start)
	ctx := context.Background()
	early := h.seed(1, start.Truncate(time.Minute).Add(time.Minute), false)  // 09:01: 2h59 late
	recent := h.seed(2, start.Truncate(time.Minute).Add(2*time.Hour), false) // 11:00: 1h late
	must(t, h.st.SetWatermark(ctx, start.Truncate(time.Minute)))
	h.clock.Add(3 * time.Hour)
	tick, err := h.disp.Handle(ctx, events.EventBridgeEvent{})
	must(t, err)
	if tick.Enqueued != 2 || tick.Behind {
		t.Fatalf("catch-up tick = %+v, want 2 enqueued and up to date", tick)
	}
	for h.pumpOnce(h.deliveries, h.send.Handle) > 0 {
	}
	if got := p.count(); got != 1 {
		t.Errorf("provider got %d, want 1 (the recent one)", got)
	}
	for _, c := range []struct {
		r    reminder.Reminder
		want string
	}{{early, dynamostore.DeliveryExpired}, {recent, dynamostore.DeliverySent}} {
		r, want := c.r, c.want
		st, err := h.st.ReminderStatus(ctx, store, r.ID, "", 10)
		must(t, err)
		if got := st.Occurrences[0].Deliveries[0].State; got != want {
			t.Errorf("%s: %s, want %s", r.ID, got, want)
		}
		got, err := h.st.GetReminder(ctx, store, r.ID)
		must(t, err)
		if !got.NextAt.After(h.clock.Now()) || got.NextAt.Sub(r.NextAt) != 24*time.Hour {
			t.Errorf("%s: next %v, want a day after %v", r.ID, got.NextAt, r.NextAt)
		}
	}
}

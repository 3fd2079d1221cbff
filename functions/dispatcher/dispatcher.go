// Package dispatcher runs every minute: it moves what is due — reminders' next occurrences and
// deliveries that quiet hours held back — from the sparse Due index to the deliveries queue,
// advances each reminder to its next occurrence, and catches up on every minute missed while it
// was down, keeping a watermark of the last minute finished.
//
// Idempotent: a minute at or before the watermark is never read again, and a reminder advances
// only if its NextAt is still the occurrence sent. The one window where an occurrence is
// enqueued twice — a crash after the send and before the advance — is absorbed by the sender's
// claim on (reminder, occurrence, attempt).
package dispatcher

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"yinling/shared/dynamostore"
	"yinling/shared/promo"
	"yinling/shared/queues"
	"yinling/shared/reminder"
	"yinling/shared/sqsmsg"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table         string `env:"TABLE_NAME"`
	DeliveriesURL string `env:"DELIVERIES_QUEUE_URL"`
	FanoutURL     string `env:"FANOUT_QUEUE_URL"`
	LogLevel      string `env:"LOG_LEVEL,optional"`
}

// Deps are what the handler needs.
type Deps struct {
	Store      *dynamostore.Store
	Deliveries *sqsmsg.Queue
	Fanout     *sqsmsg.Queue // campaign runs whose time has come
	Log        *slog.Logger
	Now        func() time.Time
	// PageSize bounds each read of a shard (default 500).
	PageSize int
	// Reserve is the time left for the watermark write when the invocation's deadline nears: the
	// tick stops between minutes and the next tick goes on (default 5s).
	Reserve time.Duration
}

// Handler handles the scheduled tick.
type Handler struct{ d Deps }

// New returns the handler.
func New(d Deps) *Handler {
	if d.PageSize == 0 {
		d.PageSize = 500
	}
	if d.Reserve == 0 {
		d.Reserve = 5 * time.Second
	}
	return &Handler{d: d}
}

// Wire builds the handler from its configuration.
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	client := sqs.NewFromConfig(cfg)
	return New(Deps{
		Store:      dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table),
		Deliveries: sqsmsg.NewQueue(client, env.DeliveriesURL),
		Fanout:     sqsmsg.NewQueue(client, env.FanoutURL),
		Log:        log,
		Now:        time.Now,
	})
}

// Tick reports what one run did.
type Tick struct {
	ScheduledFor time.Time `json:"scheduledFor"`
	From         time.Time `json:"from,omitzero"`    // the first minute read
	Through      time.Time `json:"through,omitzero"` // the last minute finished: the new watermark
	Enqueued     int       `json:"enqueued"`
	Advanced     int       `json:"advanced"`
	Behind       bool      `json:"behind,omitempty"` // stopped before now; the next tick goes on
}

// Handle runs one tick: every minute after the watermark up to the current one, in order.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (Tick, error) {
	now := h.d.Now().UTC()
	tick := Tick{ScheduledFor: ev.Time}
	current := now.Truncate(time.Minute)
	w, err := h.d.Store.Watermark(ctx)
	if err != nil {
		return tick, err
	}
	from := w.Add(time.Minute)
	if w.IsZero() {
		from = current // the first tick ever: nothing can be due before the system existed
	}
	for m := from; !m.After(current); m = m.Add(time.Minute) {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < h.d.Reserve {
			tick.Behind = true
			break
		}
		if tick.From.IsZero() {
			tick.From = m
		}
		enq, adv, err := h.minute(ctx, m, now)
		tick.Enqueued += enq
		tick.Advanced += adv
		if err != nil {
			h.d.Log.ErrorContext(ctx, "dispatch minute", "minute", m, "err", err)
			return tick, err // the watermark stays before m: the next tick reads m again
		}
		if err := h.d.Store.SetWatermark(ctx, m); err != nil {
			return tick, err
		}
		tick.Through = m
	}
	if tick.Enqueued > 0 || tick.Behind || from.Before(current) {
		h.d.Log.InfoContext(ctx, "dispatched", "from", tick.From, "through", tick.Through, "enqueued", tick.Enqueued,
			"advanced", tick.Advanced, "behind", tick.Behind)
	}
	return tick, nil
}

// minute dispatches one minute's shards concurrently.
func (h *Handler) minute(ctx context.Context, m, now time.Time) (enqueued, advanced int, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for shard := range dynamostore.DueShards {
		wg.Go(func() {
			e, a, err := h.shard(ctx, m, shard, now)
			mu.Lock()
			defer mu.Unlock()
			enqueued += e
			advanced += a
			errs = append(errs, err)
		})
	}
	wg.Wait()
	return enqueued, advanced, errors.Join(errs...)
}

// shard dispatches one shard of one minute, a page at a time: send, then advance.
func (h *Handler) shard(ctx context.Context, m time.Time, shard int, now time.Time) (enqueued, advanced int, err error) {
	var start map[string]types.AttributeValue // the first page
	for {
		page, err := h.d.Store.DueIn(ctx, m, shard, start, h.d.PageSize)
		if err != nil {
			return enqueued, advanced, err
		}
		var msgs []sqsmsg.Outgoing
		var advances []dynamostore.Advance
		var released []dynamostore.DeliveryRef
		var runs []sqsmsg.Outgoing
		var chunks []string
		late := reminder.Late(m, now)
		for _, due := range page.Items {
			switch {
			case due.Campaign != nil:
				// A campaign run whose time has come: its fan-out takes it from the Due index
				// as it starts, so a run read twice (a tick retried) starts once.
				if c := due.Campaign; c.Status == promo.StatusScheduled {
					runs = append(runs, queues.StartMessage(c.StoreID, c.ID, c.Run, c.Audience.Groups[0]))
				}
			case due.Chunk != nil:
				// Campaign messages held back by quiet hours: the sender delivers them once.
				msgs = append(msgs, queues.PushMessage(due.Chunk.StoreID, due.Chunk.CampaignID, due.Chunk.Code))
				chunks = append(chunks, due.Chunk.Code)
			case due.Deferred != nil:
				ref := *due.Deferred
				msgs = append(msgs, deliver(ref, late))
				released = append(released, ref)
			case due.Reminder.Status == reminder.StatusActive && due.Reminder.NextAt.Equal(m):
				r := due.Reminder
				attempt := queues.Attempt(0)
				if r.MemberID == "" { // a group's reminder: posted to its WeCom robot
					attempt = queues.RobotAttempt
				}
				ref := dynamostore.DeliveryRef{StoreID: r.StoreID, ReminderID: r.ID, MemberID: r.MemberID,
					Occurrence: reminder.OccurrenceID(r.NextAt), Attempt: attempt, Broadcast: r.BroadcastID}
				msgs = append(msgs, deliver(ref, late))
				advances = append(advances, dynamostore.Advance{Reminder: r.Advance(r.NextAt, now), Was: r.NextAt})
			}
		}
		if err := h.d.Deliveries.Send(ctx, msgs); err != nil {
			return enqueued, advanced, err
		}
		if err := h.d.Fanout.Send(ctx, runs); err != nil {
			return enqueued, advanced, err
		}
		enqueued += len(msgs) + len(runs)
		for _, code := range chunks {
			if err := h.d.Store.ReleaseChunk(ctx, code); err != nil {
				return enqueued, advanced, err
			}
		}
		n, err := h.d.Store.AdvanceReminders(ctx, advances, now)
		advanced += n
		if err != nil {
			return enqueued, advanced, err
		}
		if err := h.d.Store.ReleaseDeferred(ctx, released); err != nil {
			return enqueued, advanced, err
		}
		if start = page.Next; start == nil {
			return enqueued, advanced, nil
		}
	}
}

func deliver(ref dynamostore.DeliveryRef, late bool) sqsmsg.Outgoing {
	return sqsmsg.Outgoing{ID: ref.String(), Type: queues.TypeDeliver, Body: queues.Deliver{Store: ref.StoreID,
		Reminder: ref.ReminderID, Member: ref.MemberID, Occurrence: ref.Occurrence, Attempt: ref.Attempt, Broadcast: ref.Broadcast,
		Late: late}}
}

// Package escalator runs the ladder of an unacknowledged reminder occurrence: each
// acknowledgement check the sender enqueued (delayed by the ladder's spacing) either finds the
// occurrence acknowledged — and stops — or takes the next step: call the senior again, then
// alert every family link that asked for alerts, then alert the store's staff.
//
// Every step is idempotent: a call or a family alert is a delivery the sender claims once, and a
// staff alert is written once per occurrence, so a check delivered twice does no harm.
package escalator

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"yinling/shared/dynamostore"
	"yinling/shared/pii"
	"yinling/shared/queues"
	"yinling/shared/reminder"
	"yinling/shared/sqsmsg"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table         string        `env:"TABLE_NAME"`
	LogLevel      string        `env:"LOG_LEVEL,optional"`
	DeliveriesURL string        `env:"DELIVERIES_QUEUE_URL"`
	AckChecksURL  string        `env:"ACK_CHECKS_QUEUE_URL"`
	RetryDelay    time.Duration `env:"RETRY_DELAY_SECONDS"`
	MaxRetries    int           `env:"MAX_RETRIES"`
	// PIIKMSKey names the KMS key that wraps the data keys phones are sealed with at rest
	// ("local:…" on the local stack: see pii.ForKeyID).
	PIIKMSKey string `env:"PII_KMS_KEY_ID"`
	// FunctionName is set by the Lambda runtime: in Lambda a local PII key is refused.
	FunctionName string `env:"AWS_LAMBDA_FUNCTION_NAME,optional"`
}

// Deps are what the handler needs.
type Deps struct {
	Store      *dynamostore.Store
	Deliveries *sqsmsg.Queue
	AckChecks  *sqsmsg.Queue
	Ladders    reminder.Ladders
	Log        *slog.Logger
	Now        func() time.Time
}

// Handler consumes the ack-checks queue.
type Handler struct{ d Deps }

// New returns the handler.
func New(d Deps) *Handler { return &Handler{d: d} }

// Wire builds the handler from its configuration.
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	client := sqs.NewFromConfig(cfg)
	return New(Deps{
		Store: dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table,
			dynamostore.WithPII(pii.MustWrapper(cfg, env.PIIKMSKey, env.FunctionName))),
		Deliveries: sqsmsg.NewQueue(client, env.DeliveriesURL),
		AckChecks:  sqsmsg.NewQueue(client, env.AckChecksURL),
		Ladders:    reminder.DefaultLadders(env.MaxRetries, env.RetryDelay),
		Log:        log,
		Now:        time.Now,
	})
}

// step is what one check leads to.
type step struct {
	msgID      string
	deliveries []sqsmsg.Outgoing
	checks     []sqsmsg.Outgoing
}

// Handle runs one batch of checks: one BatchGetItem for the batch, then the steps' messages in
// one SendMessageBatch per queue.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	now := h.d.Now().UTC()
	var resp events.SQSEventResponse
	fail := func(id string, err error) {
		h.d.Log.WarnContext(ctx, "check will be retried", "message_id", id, "err", err)
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	type rec struct {
		id string
		c  queues.Check
	}
	var recs []rec
	var refs []dynamostore.DeliveryRef
	for _, r := range ev.Records {
		c, err := decode(r.Body)
		if err != nil {
			fail(r.MessageId, err)
			continue
		}
		recs = append(recs, rec{r.MessageId, c})
		refs = append(refs, dynamostore.DeliveryRef{StoreID: c.Store, ReminderID: c.Reminder, MemberID: c.Member, Occurrence: c.Occurrence})
	}
	if len(recs) == 0 {
		return resp, nil
	}
	dc, err := h.d.Store.LoadDeliveryContext(ctx, refs)
	if err != nil {
		for _, r := range recs {
			fail(r.id, err)
		}
		return resp, nil
	}
	var steps []step
	for _, r := range recs {
		st, err := h.next(ctx, r.id, r.c, dc, now)
		if err != nil {
			fail(r.id, err)
			continue
		}
		steps = append(steps, st)
	}
	var deliveries, checks []sqsmsg.Outgoing
	for _, st := range steps {
		deliveries = append(deliveries, st.deliveries...)
		checks = append(checks, st.checks...)
	}
	err = h.d.Deliveries.Send(ctx, deliveries)
	if err == nil {
		err = h.d.AckChecks.Send(ctx, checks)
	}
	if err != nil {
		// Every step is idempotent: retry the batch's checks that had something to send.
		for _, st := range steps {
			if len(st.deliveries)+len(st.checks) > 0 {
				fail(st.msgID, err)
			}
		}
	}
	return resp, nil
}

func decode(body string) (queues.Check, error) {
	env, err := sqsmsg.Decode(body)
	if err != nil {
		return queues.Check{}, err
	}
	if env.Type != queues.TypeCheck {
		return queues.Check{}, fmt.Errorf("escalator: unexpected message type %q", env.Type)
	}
	var c queues.Check
	if err := env.Unmarshal(&c); err != nil {
		return queues.Check{}, err
	}
	if c.Store == "" || c.Reminder == "" || c.Member == "" || c.Attempt < 0 {
		return queues.Check{}, fmt.Errorf("escalator: incomplete check %+v", c)
	}
	if _, err := reminder.ParseOccurrenceID(c.Occurrence); err != nil {
		return queues.Check{}, fmt.Errorf("escalator: bad occurrence %q", c.Occurrence)
	}
	switch reminder.Stage(c.Stage) {
	case reminder.StageRetry, reminder.StageFamily:
	default:
		return queues.Check{}, fmt.Errorf("escalator: unknown stage %q", c.Stage)
	}
	return c, nil
}

// next decides the step after check c.
func (h *Handler) next(ctx context.Context, msgID string, c queues.Check, dc dynamostore.DeliveryContext, now time.Time) (step, error) {
	st := step{msgID: msgID}
	r, ok := dc.Reminders[c.Reminder]
	m, memberOK := dc.Members[c.Member]
	if !ok || !memberOK || r.Status == reminder.StatusCancelled || r.Status == reminder.StatusPaused ||
		dc.Acked(c.Reminder, c.Occurrence) {
		return st, nil // acknowledged, or nobody left to chase: the ladder stops
	}
	ladder := h.d.Ladders.For(r.Kind)
	stage, more := ladder.After(reminder.Stage(c.Stage), c.Attempt)
	if !more {
		return st, nil
	}
	deliver := func(attempt string) sqsmsg.Outgoing {
		d := queues.Deliver{Store: c.Store, Reminder: c.Reminder, Member: c.Member, Occurrence: c.Occurrence, Attempt: attempt, Broadcast: c.Broadcast}
		return sqsmsg.Outgoing{ID: c.Reminder + ":" + c.Occurrence + ":" + attempt, Type: queues.TypeDeliver, Body: d}
	}
	switch stage {
	case reminder.StageRetry:
		st.deliveries = append(st.deliveries, deliver(queues.Attempt(c.Attempt+1)))
		return st, nil
	case reminder.StageFamily:
		links, err := h.d.Store.AlertLinks(ctx, c.Store, c.Member, now)
		if err != nil {
			return st, err
		}
		for _, l := range links {
			st.deliveries = append(st.deliveries, deliver(queues.FamilyAttempt(l.ID)))
		}
		if len(links) > 0 {
			if _, staff := ladder.After(reminder.StageFamily, c.Attempt); staff {
				next := c
				next.Stage = string(reminder.StageFamily)
				st.checks = append(st.checks, sqsmsg.Outgoing{ID: c.Reminder + ":" + c.Occurrence + ":family",
					Type: queues.TypeCheck, Delay: ladder.Spacing, Body: next})
			}
			return st, nil
		}
		if !ladder.Staff {
			return st, nil
		}
		// Nobody in the family asked for alerts: staff are next, now.
	}
	err := h.d.Store.AddStaffAlert(ctx, dynamostore.StaffAlert{StoreID: c.Store, ReminderID: c.Reminder, MemberID: c.Member,
		MemberName: m.Name, Kind: r.Kind, Text: r.Text, Occurrence: c.Occurrence, At: now})
	return st, err
}

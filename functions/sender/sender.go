// Package sender delivers reminder occurrences and campaign chunks (push.go) from the deliveries
// queue through the channel providers, exactly once in effect.
//
// A batch of up to ten reminder messages costs, besides the provider calls, three table calls and one
// queue call, whatever its size: one BatchGetItem for the reminders, profiles and
// acknowledgements; one transaction claiming every delivery; one transaction recording every
// outcome; one SendMessageBatch of the acknowledgement checks.
//
// For each delivery it decides, in order: a reminder gone, paused or cancelled, or an occurrence
// already acknowledged, is dropped; a member who is not verified, chose no channel, or has not
// granted the health consent a medication or check-up reminder needs is suppressed (recorded,
// never sent); an occurrence dispatched more than reminder.MaxLateness late is expired; a
// non-medication reminder in the member's quiet hours is deferred to their end. Everything else
// is sent by the member's channel and recorded; a transient provider failure releases the claim
// and the message is retried by SQS (then the DLQ).
package sender

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/i18n"
	"yinling/shared/member"
	"yinling/shared/metrics"
	"yinling/shared/notify"
	"yinling/shared/notify/awssms"
	"yinling/shared/notify/awsvoice"
	"yinling/shared/notify/outbox"
	"yinling/shared/notify/wecom"
	"yinling/shared/pii"
	"yinling/shared/queues"
	"yinling/shared/reminder"
	"yinling/shared/sqsmsg"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table         string        `env:"TABLE_NAME"`
	LogLevel      string        `env:"LOG_LEVEL,optional"`
	BaseURL       string        `env:"PUBLIC_BASE_URL,optional"`
	AckChecksURL  string        `env:"ACK_CHECKS_QUEUE_URL"`
	AckCheckDelay time.Duration `env:"ACK_CHECK_DELAY_SECONDS"`
	MaxRetries    int           `env:"MAX_RETRIES"`
	PIIKey        string        `env:"PII_HASH_KEY"`
	NotifyMode    string        `env:"NOTIFY_MODE"`
	SMSOrigin     string        `env:"SMS_ORIGINATION_IDENTITY,optional"`
	FunctionName  string        `env:"AWS_LAMBDA_FUNCTION_NAME,optional"`
	// PIIKMSKey names the KMS key that wraps the data keys phones are sealed with at rest
	// ("local:…" on the local stack: see pii.ForKeyID).
	PIIKMSKey string `env:"PII_KMS_KEY_ID"`
}

// Deps are what the handler needs; tests and the local stack build them as Wire does.
type Deps struct {
	Store *dynamostore.Store
	// Channels sends by channel: voice, sms (and wecom for group robots).
	Channels  map[notify.Channel]notify.Sender
	AckChecks *sqsmsg.Queue
	Ladders   reminder.Ladders
	Key       []byte // keys reminder page links (reminder.LinkToken)
	BaseURL   string
	Log       *slog.Logger
	Now       func() time.Time
	Metrics   *metrics.Emitter
}

// Handler consumes the deliveries queue.
type Handler struct{ d Deps }

// New returns the handler.
func New(d Deps) *Handler { return &Handler{d: d} }

// Wire builds the handler from its configuration. NOTIFY_MODE "outbox" keeps every message in
// the table (local development); "aws" calls and texts through End User Messaging.
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table,
		dynamostore.WithPII(pii.MustWrapper(cfg, env.PIIKMSKey, env.FunctionName)))
	channels := map[notify.Channel]notify.Sender{}
	if env.NotifyMode == "outbox" {
		ob := outbox.New(store, time.Now)
		channels[notify.ChannelVoice], channels[notify.ChannelSMS], channels[notify.ChannelWeCom] = ob, ob, ob
	} else {
		api := pinpointsmsvoicev2.NewFromConfig(cfg)
		channels[notify.ChannelVoice] = orBroken(log, "voice", func() (notify.Sender, error) {
			return awsvoice.New(api, awsvoice.Config{OriginationIdentity: env.SMSOrigin})
		})
		channels[notify.ChannelSMS] = orBroken(log, "sms", func() (notify.Sender, error) {
			return awssms.New(api, awssms.Config{OriginationIdentity: env.SMSOrigin})
		})
		// The robots' limit of 20 a minute is counted in the table, across every invocation.
		channels[notify.ChannelWeCom] = wecom.New(wecom.Config{Limiter: wecom.StoreLimiter{Store: store}})
	}
	return New(Deps{
		Store: store, Channels: channels,
		AckChecks: sqsmsg.NewQueue(sqs.NewFromConfig(cfg), env.AckChecksURL),
		Ladders:   reminder.DefaultLadders(env.MaxRetries, env.AckCheckDelay),
		Key:       []byte(env.PIIKey), BaseURL: env.BaseURL, Log: log, Now: time.Now,
		Metrics: metrics.New(os.Stdout, metrics.Namespace, env.FunctionName, time.Now),
	})
}

// orBroken returns the sender mk builds or, misconfigured, one whose every send fails
// transiently (the messages wait in the queue, then the DLQ, while the log says why).
func orBroken(log *slog.Logger, name string, mk func() (notify.Sender, error)) notify.Sender {
	s, err := mk()
	if err == nil {
		return s
	}
	log.Error("channel is not configured", "channel", name, "err", err)
	return notify.SenderFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
		return notify.Receipt{}, fmt.Errorf("%s: %w", name, err)
	})
}

// job is one record of the batch on its way through.
type job struct {
	msgID string
	ref   dynamostore.DeliveryRef
	late  bool // dispatched more than reminder.MaxLateness after its minute
	// outcome decided before any provider call: "" means send.
	state, reason string
	deferTo       time.Time
	msg           notify.Message
	claim         dynamostore.Claim
	receipt       notify.Receipt
	err           error // transient: the record is reported as a batch item failure
	done          bool  // nothing more to do (dropped, duplicate)
}

// Handle delivers one SQS batch and reports the records to retry.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	now := h.d.Now().UTC()
	var resp events.SQSEventResponse
	fail := func(id string, err error) {
		h.d.Log.WarnContext(ctx, "delivery will be retried", "message_id", id, "err", err)
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	var reminders, pushes []events.SQSMessage
	for _, rec := range ev.Records {
		if isPush(rec.Body) {
			pushes = append(pushes, rec)
		} else {
			reminders = append(reminders, rec)
		}
	}
	h.pushes(ctx, pushes, now, fail)
	var jobs []*job
	seen := map[string]bool{}
	for _, rec := range reminders {
		ref, late, err := decode(rec.Body)
		if err != nil {
			fail(rec.MessageId, err) // a poison message goes to the DLQ after maxReceiveCount
			continue
		}
		if seen[ref.String()] {
			continue // the same delivery twice in one batch: one claim covers both
		}
		seen[ref.String()] = true
		jobs = append(jobs, &job{msgID: rec.MessageId, ref: ref, late: late})
	}
	if len(jobs) == 0 {
		return resp, nil
	}
	refs := make([]dynamostore.DeliveryRef, len(jobs))
	for i, j := range jobs {
		refs[i] = j.ref
	}
	dc, err := h.d.Store.LoadDeliveryContext(ctx, refs)
	if err != nil {
		for _, j := range jobs {
			fail(j.msgID, err)
		}
		return resp, nil
	}
	var claimable []*job
	alertLinks := h.alertLinks(now)
	for _, j := range jobs {
		if err := h.decide(ctx, j, dc, alertLinks, now); err != nil {
			fail(j.msgID, err)
			continue
		}
		if !j.done {
			claimable = append(claimable, j)
		}
	}
	claimed := h.claim(ctx, claimable, now, fail)
	h.send(ctx, claimed)
	h.record(ctx, claimed, now, fail)
	h.checkLater(ctx, claimed, dc, fail)
	return resp, nil
}

func decode(body string) (ref dynamostore.DeliveryRef, late bool, err error) {
	env, err := sqsmsg.Decode(body)
	if err != nil {
		return ref, false, err
	}
	if env.Type != queues.TypeDeliver {
		return ref, false, fmt.Errorf("sender: unexpected message type %q", env.Type)
	}
	var d queues.Deliver
	if err := env.Unmarshal(&d); err != nil {
		return ref, false, err
	}
	if d.Store == "" || d.Reminder == "" || d.Attempt == "" || d.Member == "" && d.Attempt != queues.RobotAttempt {
		return ref, false, fmt.Errorf("sender: incomplete delivery %+v", d)
	}
	if _, err := reminder.ParseOccurrenceID(d.Occurrence); err != nil {
		return ref, false, fmt.Errorf("sender: bad occurrence %q", d.Occurrence)
	}
	return dynamostore.DeliveryRef{StoreID: d.Store, ReminderID: d.Reminder, MemberID: d.Member,
		Occurrence: d.Occurrence, Attempt: d.Attempt, Broadcast: d.Broadcast}, d.Late, nil
}

// Reasons a delivery is suppressed or dropped, recorded with it.
const (
	reasonUnverified   = "unverified"
	reasonNoChannel    = "channel_none"
	reasonNoConsent    = "health_consent_missing"
	reasonNoAlertLink  = "no_alert_link"
	reasonLate         = "late"
	reasonNoRobot      = "no_robot"
	reasonAcknowledged = "acknowledged"
)

// decide settles what to do with j from the table's state, building its message if it is to be
// sent. It returns an error only for what a retry may fix.
func (h *Handler) decide(ctx context.Context, j *job, dc dynamostore.DeliveryContext, alertLinks linksOf, now time.Time) error {
	r, ok := dc.Reminders[j.ref.ReminderID]
	if !ok || r.MemberID != j.ref.MemberID {
		j.done = true // gone (erased with its member): nothing to deliver, nowhere to record
		return nil
	}
	// Paused, cancelled or acknowledged since it was queued: not sent, and recorded so — which
	// also closes a claim a crashed sender left behind after calling the provider.
	switch {
	case r.Status == reminder.StatusCancelled || r.Status == reminder.StatusPaused:
		j.state, j.reason = dynamostore.DeliverySkipped, string(r.Status)
		return nil
	case dc.Acked(j.ref.ReminderID, j.ref.Occurrence):
		j.state, j.reason = dynamostore.DeliverySkipped, reasonAcknowledged
		return nil
	}
	if j.ref.Attempt == queues.RobotAttempt {
		return h.decideRobot(ctx, j, r)
	}
	m, ok := dc.Members[j.ref.MemberID]
	if !ok {
		j.done = true // the member erased their data
		return nil
	}
	occ, _ := reminder.ParseOccurrenceID(j.ref.Occurrence)
	if r.Kind.NeedsHealthConsent() && !m.Consents.Granted(member.ConsentHealth) {
		j.state, j.reason = dynamostore.DeliverySuppressed, reasonNoConsent
		return nil
	}
	lang := i18n.ZhCN
	local := occ.In(r.Location()).Format("15:04")
	if n, ok := queues.AttemptNumber(j.ref.Attempt); ok {
		switch {
		case !m.Verified():
			j.state, j.reason = dynamostore.DeliverySuppressed, reasonUnverified
			return nil
		case m.Channel == member.ChannelNone:
			j.state, j.reason = dynamostore.DeliverySuppressed, reasonNoChannel
			return nil
		case n == 0 && j.late:
			j.state, j.reason = dynamostore.DeliveryExpired, reasonLate
			return nil
		}
		loc, _ := member.ParseTimeZone(m.TimeZone)
		if !r.Kind.RingsInQuietHours() && m.QuietHours.Contains(now, loc) {
			j.state, j.deferTo = dynamostore.DeliveryDeferred, m.QuietHours.NextEnd(now, loc)
			return nil
		}
		text := i18n.Fill(i18n.T(lang, "notify.reminder.text"), "name", m.Name, "time", local, "text", r.Text)
		j.msg = notify.Message{Channel: notify.Channel(cmp.Or(m.Channel, member.DefaultChannel)), To: m.Phone.E164(),
			Text: text, SpeakText: i18n.Fill(i18n.T(lang, "notify.reminder.speak"), "name", m.Name, "time", local, "text", r.Text),
			Link: h.link(r), Kind: notify.KindReminder}
	} else if link, ok := strings.CutPrefix(j.ref.Attempt, "F"); ok {
		links, err := alertLinks(ctx, j.ref.StoreID, j.ref.MemberID)
		if err != nil {
			return err
		}
		var to member.FamilyLink
		for _, l := range links {
			if l.ID == link {
				to = l
			}
		}
		if to.ID == "" {
			j.state, j.reason = dynamostore.DeliverySuppressed, reasonNoAlertLink
			return nil
		}
		text := i18n.Fill(i18n.T(lang, "notify.alert.family"), "name", m.Name, "time", local, "text", r.Text)
		j.msg = notify.Message{Channel: notify.Channel(cmp.Or(to.AlertChannel, member.ChannelVoice)), To: to.AlertPhone.E164(),
			Text: text, SpeakText: text, Link: h.link(r), Kind: notify.KindAlert}
	} else {
		return fmt.Errorf("sender: unknown attempt %q", j.ref.Attempt)
	}
	j.msg.ID, j.msg.StoreID, j.msg.MemberID, j.msg.Lang = j.ref.String(), j.ref.StoreID, j.ref.MemberID, string(lang)
	return nil
}

// linksOf returns a member's family links that asked for alerts.
type linksOf func(ctx context.Context, store, memberID string) ([]member.FamilyLink, error)

// alertLinks reads each member's alert links once per batch: a senior with two alerted relatives
// has two alert deliveries, usually in the same batch.
func (h *Handler) alertLinks(now time.Time) linksOf {
	read := map[[2]string][]member.FamilyLink{}
	return func(ctx context.Context, store, memberID string) ([]member.FamilyLink, error) {
		k := [2]string{store, memberID}
		if links, ok := read[k]; ok {
			return links, nil
		}
		links, err := h.d.Store.AlertLinks(ctx, store, memberID, now)
		if err == nil {
			read[k] = links
		}
		return links, err
	}
}

// decideRobot builds the post of a group reminder to its group's WeCom robot; a group without
// a robot suppresses it.
func (h *Handler) decideRobot(ctx context.Context, j *job, r reminder.Reminder) error {
	g, err := h.d.Store.GetGroup(ctx, j.ref.StoreID, r.GroupID)
	switch {
	case errors.Is(err, group.ErrNotFound):
		j.done = true
		return nil
	case err != nil:
		return err
	case g.RobotKey == "":
		j.state, j.reason = dynamostore.DeliverySuppressed, reasonNoRobot
		return nil
	}
	occ, _ := reminder.ParseOccurrenceID(j.ref.Occurrence)
	lang := i18n.ZhCN
	j.msg = notify.Message{ID: j.ref.String(), StoreID: j.ref.StoreID, Channel: notify.ChannelWeCom, To: g.RobotKey,
		Text: i18n.Fill(i18n.T(lang, "notify.reminder.group"), "time", occ.In(r.Location()).Format("15:04"), "text", r.Text),
		Link: h.link(r), Kind: notify.KindReminder, Lang: string(lang)}
	return nil
}

// link is the reminder's page, where the senior listens and taps "收到".
func (h *Handler) link(r reminder.Reminder) string {
	return strings.TrimSuffix(h.d.BaseURL, "/") + "/r/" + reminder.LinkToken(h.d.Key, r.StoreID, r.ID)
}

// claim claims every job in one transaction; it returns the claimed ones.
func (h *Handler) claim(ctx context.Context, jobs []*job, now time.Time, fail func(string, error)) []*job {
	if len(jobs) == 0 {
		return nil
	}
	refs := make([]dynamostore.DeliveryRef, len(jobs))
	for i, j := range jobs {
		refs[i] = j.ref
	}
	claims, results, err := h.d.Store.ClaimDeliveries(ctx, refs, now)
	if err != nil {
		for _, j := range jobs {
			fail(j.msgID, err)
		}
		return nil
	}
	var out []*job
	for i, j := range jobs {
		switch results[i] {
		case dynamostore.Claimed:
			j.claim = claims[i]
			out = append(out, j)
		case dynamostore.Busy:
			fail(j.msgID, fmt.Errorf("delivery %s is being sent by another invocation", j.ref))
		default: // AlreadyDone: a duplicate message
		}
	}
	return out
}

// maxParallelSends bounds concurrent provider calls per batch.
const maxParallelSends = 5

// send calls the provider for every claimed job that is to be sent, a few at a time.
func (h *Handler) send(ctx context.Context, jobs []*job) {
	sem := make(chan struct{}, maxParallelSends)
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.state != "" {
			continue
		}
		ch, ok := h.d.Channels[j.msg.Channel]
		if !ok {
			j.state, j.reason = dynamostore.DeliveryFailed, notify.ReasonNoRoute
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rec, err := ch.Send(ctx, j.msg)
			switch {
			case err == nil:
				j.state, j.receipt = dynamostore.DeliverySent, rec
			case notify.IsPermanent(err):
				j.state, j.reason = dynamostore.DeliveryFailed, notify.ReasonOf(err)
				h.d.Log.WarnContext(ctx, "delivery refused", "delivery", j.ref.String(), "to", notify.Mask(j.msg.To), "err", err)
			default:
				j.err = err // release the claim; SQS retries
			}
		})
	}
	wg.Wait()
}

// record writes every outcome in one transaction (deferrals one by one: they are rare).
func (h *Handler) record(ctx context.Context, jobs []*job, now time.Time, fail func(string, error)) {
	var outs []dynamostore.Outcome
	for _, j := range jobs {
		if j.state == dynamostore.DeliveryDeferred {
			if err := h.d.Store.Defer(ctx, j.claim, j.deferTo, now); err != nil {
				fail(j.msgID, err)
			}
			continue
		}
		o := dynamostore.Outcome{Claim: j.claim, State: j.state, Channel: string(j.msg.Channel), Reason: j.reason, At: now}
		if j.err != nil {
			o.State = "" // release
		}
		if j.state == dynamostore.DeliverySent {
			o.Provider, o.ProviderID = j.receipt.Provider, j.receipt.ProviderID
		}
		outs = append(outs, o)
	}
	if len(outs) > 0 {
		if err := h.recordOutcomes(ctx, outs); err != nil {
			// The provider accepted the sent ones; their claims expire and a redelivery would call
			// again. Retrying the record is all we can do: report them for redelivery.
			for _, j := range jobs {
				if j.state != dynamostore.DeliveryDeferred {
					fail(j.msgID, err)
				}
			}
			return
		}
	}
	for _, j := range jobs {
		if j.err != nil {
			fail(j.msgID, j.err)
		}
	}
	h.count(ctx, jobs)
}

// recordAttempts bounds the tries of recording outcomes (each with the SDK's own retries).
const recordAttempts = 4

// recordOutcomes records outcomes, trying again on failure: the provider has accepted the sent
// ones, and every failed record is a redelivery that calls the senior a second time once the
// claim expires.
func (h *Handler) recordOutcomes(ctx context.Context, outs []dynamostore.Outcome) error {
	var err error
	for attempt := range recordAttempts {
		if attempt > 0 {
			t := time.NewTimer(time.Duration(attempt*attempt) * 50 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if _, err = h.d.Store.RecordOutcomes(ctx, outs); err == nil {
			return nil
		}
	}
	return err
}

// checkLater enqueues the acknowledgement check of every call sent to a senior whose ladder has
// a next step, delayed by the ladder's spacing.
func (h *Handler) checkLater(ctx context.Context, jobs []*job, dc dynamostore.DeliveryContext, fail func(string, error)) {
	var checks []sqsmsg.Outgoing
	var ids []string
	for _, j := range jobs {
		n, ok := queues.AttemptNumber(j.ref.Attempt)
		if !ok || j.state != dynamostore.DeliverySent {
			continue
		}
		ladder := h.d.Ladders.For(dc.Reminders[j.ref.ReminderID].Kind)
		if _, next := ladder.After(reminder.StageRetry, n); !next {
			continue
		}
		checks = append(checks, sqsmsg.Outgoing{ID: j.ref.String(), Type: queues.TypeCheck, Delay: ladder.Spacing,
			Body: queues.Check{Store: j.ref.StoreID, Reminder: j.ref.ReminderID, Member: j.ref.MemberID,
				Occurrence: j.ref.Occurrence, Stage: string(reminder.StageRetry), Attempt: n, Broadcast: j.ref.Broadcast}})
		ids = append(ids, j.msgID)
	}
	if err := h.d.AckChecks.Send(ctx, checks); err != nil {
		// The delivery is recorded: a redelivery finds it done and only then could the check be
		// lost. Better a second check (the escalator is idempotent) than none: retry the record.
		for _, id := range ids {
			fail(id, fmt.Errorf("enqueue acknowledgement check: %w", err))
		}
	}
}

func (h *Handler) count(ctx context.Context, jobs []*job) {
	if h.d.Metrics == nil {
		return
	}
	by := map[string]int{}
	for _, j := range jobs {
		if j.err == nil {
			by[j.state]++
		}
	}
	for state, n := range by {
		if err := h.d.Metrics.Count(ctx, metrics.Deliveries, float64(n), slog.String("state", state)); err != nil {
			h.d.Log.WarnContext(ctx, "emit delivery metric", "err", err)
		}
	}
}

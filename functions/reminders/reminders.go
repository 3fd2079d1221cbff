// Package reminders serves the HTTP API of reminders: a senior's own (/api/me/reminders), those a
// family link shows and, with helper scope, changes (/api/family/{token}/…), those staff make for
// one member or a whole group (/api/admin/…), the reminder page behind the link in every SMS
// (/api/r/{token}: what to play, and "收到 / Done"), presigned uploads of recorded clips, and
// what staff watch: deliveries, alerts and queue depths. Sending is not here: the dispatcher,
// the sender and the escalator do that from the table this function writes.
package reminders

import (
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/polly"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"yinling/shared/apigw"
	"yinling/shared/bucket"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/pii"
	"yinling/shared/reminder"
	"yinling/shared/voice"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table    string `env:"TABLE_NAME"`
	BaseURL  string `env:"PUBLIC_BASE_URL,optional"`
	LogLevel string `env:"LOG_LEVEL,optional"`
	// PIIKey derives each reminder's page token (reminder.LinkToken), so it is never stored.
	PIIKey      string `env:"PII_HASH_KEY"`
	VoiceBucket string `env:"VOICE_BUCKET"`
	// NotifyMode "aws" speaks text with Polly; "outbox" (local development, staging) with the
	// local engine, or not at all, in which case the page speaks with the browser.
	NotifyMode string `env:"NOTIFY_MODE"`
	// The work queues and their dead-letter queues, for GET /api/admin/queues.
	DeliveriesQueue string `env:"DELIVERIES_QUEUE_URL"`
	DeliveriesDLQ   string `env:"DELIVERIES_DLQ_URL"`
	FanoutQueue     string `env:"FANOUT_QUEUE_URL"`
	FanoutDLQ       string `env:"FANOUT_DLQ_URL"`
	AckChecksQueue  string `env:"ACK_CHECKS_QUEUE_URL"`
	AckChecksDLQ    string `env:"ACK_CHECKS_DLQ_URL"`
	// PIIKMSKey names the KMS key that wraps the data keys phones are sealed with at rest
	// ("local:…" on the local stack: see pii.ForKeyID).
	PIIKMSKey string `env:"PII_KMS_KEY_ID"`
	// FunctionName is set by the Lambda runtime: in Lambda a local PII key is refused.
	FunctionName string `env:"AWS_LAMBDA_FUNCTION_NAME,optional"`
}

// Clips are the recorded voice clips in the voice bucket (voice.Uploads).
type Clips interface {
	// Presign returns where and how a browser uploads one clip of a store.
	Presign(ctx context.Context, storeID, contentType string, size int64) (voice.Upload, error)
	// Claim checks that clipKey is an uploaded clip of the store, of an accepted type and size,
	// and moves it where the bucket keeps it; the reminder stores the key it returns.
	Claim(ctx context.Context, storeID, clipKey string) (string, error)
	// URL is a presigned GET of a clip (or of spoken text), valid for ttl.
	URL(ctx context.Context, clipKey string, ttl time.Duration) (string, error)
}

// Speaker turns a reminder's text into audio in the voice bucket (Polly in AWS, a local engine
// in development).
type Speaker interface {
	Speak(ctx context.Context, text, lang string) (voice.Audio, error)
}

// QueueAttributes reads a queue's approximate depths (*sqs.Client).
type QueueAttributes interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Queue is one work queue and its dead-letter queue, as GET /api/admin/queues shows them.
type Queue struct {
	Name   string
	URL    string
	DLQURL string
}

// Deps are what the handler needs; tests and the local stack build them as main does.
type Deps struct {
	Store *dynamostore.Store
	Clips Clips
	// Speaker speaks text reminders for the page; nil leaves it to the browser's speech
	// synthesis.
	Speaker Speaker
	Queues  QueueAttributes
	// QueueURLs are the queues GET /api/admin/queues reports, in this order.
	QueueURLs []Queue
	// Key derives reminder page tokens (reminder.LinkToken).
	Key     []byte
	Log     *slog.Logger
	Now     func() time.Time
	BaseURL string // origin of reminder page links; "" uses the request's host
}

// Handler serves the reminders routes.
type Handler struct {
	*apigw.Mux
	d Deps
}

// New returns the handler with its routes registered.
func New(d Deps) *Handler {
	h := &Handler{Mux: apigw.NewMux(d.Log), d: d}

	h.Route("GET /api/me/reminders", h.myReminders)
	h.Route("POST /api/me/reminders", h.createMine)
	h.Route("PATCH /api/me/reminders/{id}", h.updateMine)
	h.Route("DELETE /api/me/reminders/{id}", h.cancelMine)
	h.Route("POST /api/me/voice-uploads", h.myUpload)

	h.Route("GET /api/family/{token}/reminders", h.familyReminders)
	h.Route("POST /api/family/{token}/reminders", h.familyCreate)
	h.Route("PATCH /api/family/{token}/reminders/{id}", h.familyUpdate)
	h.Route("DELETE /api/family/{token}/reminders/{id}", h.familyCancel)
	h.Route("POST /api/family/{token}/voice-uploads", h.familyUpload)

	h.Route("GET /api/r/{token}", h.page)
	h.Route("POST /api/r/{token}/ack", h.ack)

	h.Route("GET /api/admin/members/{id}/reminders", h.staffReminders)
	h.Route("POST /api/admin/members/{id}/reminders", h.staffCreate)
	h.Route("PATCH /api/admin/members/{id}/reminders/{rid}", h.staffUpdate)
	h.Route("DELETE /api/admin/members/{id}/reminders/{rid}", h.staffCancel)
	h.Route("POST /api/admin/groups/{id}/reminders", h.broadcast)
	h.Route("GET /api/admin/broadcasts/{id}", h.broadcastDeliveries)
	h.Route("GET /api/admin/reminders/{id}/deliveries", h.reminderDeliveries)
	h.Route("GET /api/admin/alerts", h.alerts)
	h.Route("GET /api/admin/queues", h.queues)
	h.Route("POST /api/admin/voice-uploads", h.staffUpload)
	return h
}

// Wire builds the handler from its configuration and the process's AWS config: the one place
// that knows which clients this function uses (main and the local stack both call it).
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	// No bucket options: in AWS buckets are addressed by host name, and against the local
	// emulator's IP address bucket.New goes path-style by itself.
	voiceBucket := bucket.New(cfg, env.VoiceBucket)
	return New(Deps{
		Store: dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table,
			dynamostore.WithPII(pii.MustWrapper(cfg, env.PIIKMSKey, env.FunctionName))),
		Clips:   voice.NewUploads(voiceBucket, time.Now),
		Speaker: speaker(env, cfg, voiceBucket),
		Queues:  sqs.NewFromConfig(cfg),
		QueueURLs: []Queue{
			{Name: "deliveries", URL: env.DeliveriesQueue, DLQURL: env.DeliveriesDLQ},
			{Name: "fanout", URL: env.FanoutQueue, DLQURL: env.FanoutDLQ},
			{Name: "ack-checks", URL: env.AckChecksQueue, DLQURL: env.AckChecksDLQ},
		},
		Key:     []byte(env.PIIKey),
		Log:     log,
		Now:     time.Now,
		BaseURL: env.BaseURL,
	})
}

// speaker is Polly where messages are real; elsewhere espeak-ng if this machine has it, or none,
// and the page lets the browser speak.
func speaker(env Env, cfg aws.Config, voiceBucket *bucket.Bucket) Speaker {
	if env.NotifyMode == "aws" {
		return &voice.PollySpeaker{Polly: polly.NewFromConfig(cfg), Bucket: voiceBucket}
	}
	if bin, err := exec.LookPath("espeak-ng"); err == nil {
		return &voice.EspeakSpeaker{Bin: bin, Bucket: voiceBucket}
	}
	return nil
}

// Handle serves one request. Every answer under a capability link — a family link, a reminder
// page token — refusals included, carries headers that keep the token out of Referer headers
// and search indexes.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	resp, err := h.Mux.Handle(ctx, req)
	_, path, _ := strings.Cut(req.RouteKey, " ")
	if strings.HasPrefix(path, "/api/family/") || strings.HasPrefix(path, "/api/r/") {
		resp = apigw.CapabilityHeaders(resp)
	}
	return resp, err
}

// Paging of lists.
const (
	defaultLimit = 50
	maxLimit     = 100
)

// updateAttempts bounds re-reads when a reminder changed under an update: the dispatcher
// advances a reminder at each occurrence, and a patch (fields set to values) can be applied to
// the fresh copy as well as to the stale one.
const updateAttempts = 3

// errEmptyPatch refuses an update that changes nothing.
var errEmptyPatch = &fail.Error{Kind: fail.Invalid, Code: "empty_update"}

// actor is whose reminders a request acts on, and who acts: the senior, a family link, staff.
type actor struct {
	storeID  string
	memberID string
	via      reminder.Via
	by       string // member id, family link id or staff id
	// missing is what a member who no longer exists answers: the session or link is as good as
	// gone for the senior, while staff are told the member is not found.
	missing error
}

// now is the request's time, to the second, as every stored time is.
func (h *Handler) now() time.Time { return h.d.Now().UTC().Truncate(time.Second) }

// list is one page of a's member's reminders.
func (h *Handler) list(ctx context.Context, r *apigw.Request, a actor) (dynamostore.Page[reminder.Reminder], error) {
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return dynamostore.Page[reminder.Reminder]{}, err
	}
	return h.d.Store.ListMemberReminders(ctx, a.storeID, a.memberID, r.QueryStringParameters["cursor"], limit)
}

// create makes a reminder for a's member from in. The draft is checked in full before any read,
// so bad input costs nothing; then the member (their consent, their time zone), the clip, and
// one transaction.
func (h *Handler) create(ctx context.Context, a actor, in draftJSON) (reminder.Reminder, error) {
	d, err := in.draft()
	if err != nil {
		return reminder.Reminder{}, err
	}
	now := h.now()
	if _, err := reminder.New(d, now); err != nil {
		return reminder.Reminder{}, err
	}
	m, store, err := h.d.Store.MemberWithStore(ctx, a.storeID, a.memberID)
	if errors.Is(err, member.ErrNotFound) {
		return reminder.Reminder{}, a.missing
	}
	if err != nil {
		return reminder.Reminder{}, err
	}
	if d.Kind.NeedsHealthConsent() && !m.Consents.Granted(member.ConsentHealth) {
		return reminder.Reminder{}, reminder.ErrConsentRequired
	}
	if d.Rule.TimeZone == "" {
		// The senior's own zone (a daughter in another city adds "8:00" meaning her mother's
		// 8:00), else the store's.
		d.Rule.TimeZone = firstNonEmpty(m.TimeZone, store.TimeZone)
	}
	clip, err := h.claim(ctx, a, d.ClipKey, "")
	if err != nil {
		return reminder.Reminder{}, err
	}
	rem, err := reminder.New(d, now)
	if err != nil {
		return reminder.Reminder{}, err
	}
	rem.ClipKey = clip
	rem.ID, rem.StoreID, rem.MemberID = ids.New(), a.storeID, a.memberID
	rem.CreatedBy, rem.CreatedVia, rem.UpdatedBy, rem.UpdatedVia = a.by, a.via, a.by, a.via
	err = h.d.Store.CreateReminder(ctx, rem, h.linkHash(rem))
	if errors.Is(err, member.ErrNotFound) {
		return reminder.Reminder{}, a.missing // erased a moment ago
	}
	if err != nil {
		return reminder.Reminder{}, err
	}
	return rem, nil
}

// get returns reminder id of a's member: another member's, or another store's, is not found.
func (h *Handler) get(ctx context.Context, a actor, id string) (reminder.Reminder, error) {
	if !ids.Valid(id) {
		return reminder.Reminder{}, reminder.ErrNotFound
	}
	rem, err := h.d.Store.GetReminder(ctx, a.storeID, id)
	if err != nil {
		return reminder.Reminder{}, err
	}
	if rem.MemberID != a.memberID {
		return reminder.Reminder{}, reminder.ErrNotFound
	}
	return rem, nil
}

// update applies in to reminder id of a's member. What can be checked without the reminder is
// checked first; a reminder changed meanwhile (the dispatcher advancing it) is read again and
// the patch applied to the fresh copy.
func (h *Handler) update(ctx context.Context, a actor, id string, in patchJSON) (reminder.Reminder, error) {
	p, err := in.patch()
	if err != nil {
		return reminder.Reminder{}, err
	}
	keepZone := p.Rule != nil && p.Rule.TimeZone == ""
	if p.Rule != nil {
		if _, err := reminder.ParseRule(*p.Rule); err != nil {
			return reminder.Reminder{}, err
		}
	}
	if !ids.Valid(id) {
		return reminder.Reminder{}, reminder.ErrNotFound
	}
	claimed, checkedConsent := "", false
	for attempt := 1; ; attempt++ {
		cur, err := h.get(ctx, a, id)
		if err != nil {
			return reminder.Reminder{}, err
		}
		if keepZone {
			rule := *p.Rule
			rule.TimeZone = cur.Location().String() // a new time, in the zone it had
			p.Rule = &rule
		}
		if p.Kind != nil && p.Kind.NeedsHealthConsent() && !checkedConsent {
			if err := h.checkConsent(ctx, a); err != nil {
				return reminder.Reminder{}, err
			}
			checkedConsent = true
		}
		if p.ClipKey != nil && claimed == "" {
			if claimed, err = h.claim(ctx, a, *p.ClipKey, cur.ClipKey); err != nil {
				return reminder.Reminder{}, err
			}
		}
		next, err := cur.Apply(p, h.now())
		if err != nil {
			return reminder.Reminder{}, err
		}
		if p.ClipKey != nil {
			next.ClipKey = claimed
		}
		next.UpdatedBy, next.UpdatedVia = a.by, a.via
		err = h.d.Store.UpdateReminder(ctx, next, cur.UpdatedAt)
		if errors.Is(err, dynamostore.ErrReminderChanged) && attempt < updateAttempts {
			continue
		}
		if err != nil {
			return reminder.Reminder{}, err
		}
		return next, nil
	}
}

// cancel cancels reminder id of a's member. Cancelling a cancelled reminder is done already.
func (h *Handler) cancel(ctx context.Context, a actor, id string) error {
	for attempt := 1; ; attempt++ {
		cur, err := h.get(ctx, a, id)
		if err != nil {
			return err
		}
		if cur.Status == reminder.StatusCancelled {
			return nil
		}
		next := cur.Cancel(h.now())
		next.UpdatedBy, next.UpdatedVia = a.by, a.via
		err = h.d.Store.UpdateReminder(ctx, next, cur.UpdatedAt)
		if errors.Is(err, dynamostore.ErrReminderChanged) && attempt < updateAttempts {
			continue
		}
		return err
	}
}

// claim checks an uploaded clip and keeps it (voice.Uploads.Claim), returning the key the
// reminder stores: "" for no clip, and cur itself when the clip is the one the reminder has.
func (h *Handler) claim(ctx context.Context, a actor, key, cur string) (string, error) {
	if key == "" || key == cur {
		return key, nil
	}
	return h.d.Clips.Claim(ctx, a.storeID, key)
}

// checkConsent refuses a health reminder (medication, check-up) for a member who has not
// granted the health consent: such a reminder is health information (PIPL: sensitive).
func (h *Handler) checkConsent(ctx context.Context, a actor) error {
	m, _, err := h.d.Store.MemberWithStore(ctx, a.storeID, a.memberID)
	if errors.Is(err, member.ErrNotFound) {
		return a.missing
	}
	if err != nil {
		return err
	}
	if !m.Consents.Granted(member.ConsentHealth) {
		return reminder.ErrConsentRequired
	}
	return nil
}

// linkHash is what the table keeps of a reminder's page token: its hash, never the token.
func (h *Handler) linkHash(r reminder.Reminder) string {
	return member.HashToken(reminder.LinkToken(h.d.Key, r.StoreID, r.ID))
}

// link is the reminder's page, as the SMS carries it.
func (h *Handler) link(r *apigw.Request, rem reminder.Reminder) string {
	return apigw.BaseURL(h.d.BaseURL, r) + "/r/" + reminder.LinkToken(h.d.Key, rem.StoreID, rem.ID)
}

// listJSON renders a page of reminders with their page links (for the senior and staff; the
// family listing has its own, without them).
func (h *Handler) listJSON(r *apigw.Request, page dynamostore.Page[reminder.Reminder]) reminderList {
	out := reminderList{Reminders: make([]reminderJSON, len(page.Items)), Cursor: page.Cursor}
	for i, rem := range page.Items {
		out.Reminders[i] = toReminderJSON(rem, h.link(r, rem))
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

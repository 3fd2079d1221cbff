// Package qa serves the HTTP API of doctor Q&A sessions (定期邀请名医答疑): the sessions a senior
// may book and their own bookings (/api/sessions, /api/me/bookings), the same for a family link
// — view scope reads, helper scope books and cancels for the senior (/api/family/{token}/…) —,
// the booking page behind the link in every booking message (/api/b/{token}: the session, and a
// cancel button that works without signing in), and what staff do (/api/admin/doctors,
// /api/admin/sessions/…): doctors, sessions, capacity, the waitlist, questions, attendance.
//
// The seats are counted by the table (shared/dynamostore) and the rules are the domain's
// (shared/qa); every message about a booking is a reminder the booking creates, so the
// dispatcher and the sender deliver it like any other.
package qa

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"yinling/shared/apigw"
	"yinling/shared/bucket"
	"yinling/shared/dynamostore"
	"yinling/shared/member"
	"yinling/shared/pii"
	"yinling/shared/qa"
	"yinling/shared/reminder"
	"yinling/shared/voice"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table    string `env:"TABLE_NAME"`
	BaseURL  string `env:"PUBLIC_BASE_URL,optional"`
	LogLevel string `env:"LOG_LEVEL,optional"`
	// PIIKey derives the booking page tokens (qa.BookingToken) and the page tokens of the
	// reminders a booking makes (reminder.LinkToken), so neither is ever stored.
	PIIKey      string `env:"PII_HASH_KEY"`
	VoiceBucket string `env:"VOICE_BUCKET"`
	// PIIKMSKey names the KMS key that wraps the data keys phones are sealed with at rest
	// ("local:…" on the local stack: see pii.ForKeyID).
	PIIKMSKey string `env:"PII_KMS_KEY_ID"`
	// FunctionName is set by the Lambda runtime: in Lambda a local PII key is refused.
	FunctionName string `env:"AWS_LAMBDA_FUNCTION_NAME,optional"`
}

// Clips are the recorded questions in the voice bucket (voice.Uploads).
type Clips interface {
	// Claim checks that clipKey is an uploaded clip of the store and keeps it; the booking
	// stores the key it returns.
	Claim(ctx context.Context, storeID, clipKey string) (string, error)
	// URL is a presigned GET of a clip, valid for ttl.
	URL(ctx context.Context, clipKey string, ttl time.Duration) (string, error)
}

// Deps are what the handler needs; tests and the local stack build them as main does.
type Deps struct {
	Store *dynamostore.Store
	Clips Clips
	// Key derives booking page tokens (qa.BookingToken) and reminder page tokens.
	Key     []byte
	Log     *slog.Logger
	Now     func() time.Time
	BaseURL string // origin of booking page links; "" uses the request's host
}

// Handler serves the Q&A routes.
type Handler struct {
	*apigw.Mux
	d Deps
}

// New returns the handler with its routes registered.
func New(d Deps) *Handler {
	h := &Handler{Mux: apigw.NewMux(d.Log), d: d}

	h.Route("GET /api/sessions", h.mySessions)
	h.Route("GET /api/sessions/{id}", h.mySession)
	h.Route("POST /api/sessions/{id}/bookings", h.bookMine)
	h.Route("DELETE /api/sessions/{id}/bookings/me", h.cancelMine)
	h.Route("GET /api/me/bookings", h.myBookings)

	h.Route("GET /api/family/{token}/sessions", h.familySessions)
	h.Route("GET /api/family/{token}/bookings", h.familyBookings)
	h.Route("POST /api/family/{token}/bookings", h.familyBook)
	h.Route("DELETE /api/family/{token}/bookings/{sessionId}", h.familyCancel)

	h.Route("GET /api/b/{token}", h.page)
	h.Route("POST /api/b/{token}/cancel", h.pageCancel)

	h.Route("GET /api/admin/doctors", h.doctors)
	h.Route("POST /api/admin/doctors", h.createDoctor)
	h.Route("GET /api/admin/sessions", h.staffSessions)
	h.Route("POST /api/admin/sessions", h.createSession)
	h.Route("GET /api/admin/sessions/{id}", h.staffSession)
	h.Route("PATCH /api/admin/sessions/{id}", h.updateSession)
	h.Route("POST /api/admin/sessions/{id}/cancel", h.cancelSession)
	h.Route("PATCH /api/admin/sessions/{id}/bookings/{memberId}", h.changeBooking)
	return h
}

// Wire builds the handler from its configuration and the process's AWS config: the one place
// that knows which clients this function uses (main and the local stack both call it).
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	return New(Deps{
		Store: dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table,
			dynamostore.WithPII(pii.MustWrapper(cfg, env.PIIKMSKey, env.FunctionName))),
		Clips:   voice.NewUploads(bucket.New(cfg, env.VoiceBucket), time.Now),
		Key:     []byte(env.PIIKey),
		Log:     log,
		Now:     time.Now,
		BaseURL: env.BaseURL,
	})
}

// Handle serves one request. Every answer under a capability link — a family link, a booking
// page token — refusals included, carries headers that keep the token out of Referer headers
// and search indexes.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	resp, err := h.Mux.Handle(ctx, req)
	_, path, _ := strings.Cut(req.RouteKey, " ")
	if strings.HasPrefix(path, "/api/family/") || strings.HasPrefix(path, "/api/b/") {
		resp = apigw.CapabilityHeaders(resp)
	}
	return resp, err
}

// Paging of lists.
const (
	defaultLimit = 50
	maxLimit     = 100
)

// updateAttempts bounds re-reads when a session changed under a staff edit: a patch (fields set
// to values) applies to the fresh copy as well as to the stale one.
const updateAttempts = 3

// audioTTL is how long a question's audio URL plays on the staff page.
const audioTTL = time.Hour

// actor is whose bookings a request acts on, and who acts: the senior, a family link, staff.
type actor struct {
	storeID  string
	memberID string
	via      reminder.Via
	by       string // member id, family link id or staff id
	// links says whether answers carry booking page links: whoever holds one can cancel, so a
	// family link that may only view gets none.
	links bool
	// missing is what a member who no longer exists answers: the session or link is as good as
	// gone for the senior.
	missing error
}

// now is the request's time, to the second, as every stored time is.
func (h *Handler) now() time.Time { return h.d.Now().UTC().Truncate(time.Second) }

// notices makes the reminders that tell a booking's member about it (dynamostore.Notices), made
// by whoever acted (a promotion's, by the promoted member: see dynamostore.Notices).
func (h *Handler) notices(by string, via reminder.Via, now time.Time) dynamostore.NoticeFunc {
	return dynamostore.Notices(h.d.Key, by, via, now)
}

// bookingToken is the capability in a booking page's link.
func (h *Handler) bookingToken(store, session, memberID string) string {
	return qa.BookingToken(h.d.Key, store, session, memberID)
}

// link is a booking's page for a, or "" when a may not have it.
func (h *Handler) link(r *apigw.Request, a actor, session string) string {
	if !a.links {
		return ""
	}
	return apigw.BaseURL(h.d.BaseURL, r) + "/b/" + h.bookingToken(a.storeID, session, a.memberID)
}

// claim checks an uploaded question clip and keeps it (voice.Uploads.Claim), returning the key
// the booking stores.
func (h *Handler) claim(ctx context.Context, store string, q qa.Question) (qa.Question, error) {
	if q.ClipKey == "" {
		return q, nil
	}
	key, err := h.d.Clips.Claim(ctx, store, q.ClipKey)
	if err != nil {
		return qa.Question{}, err
	}
	q.ClipKey = key
	return q, nil
}

// missing maps a member who is gone to what a's credential answers.
func missing(err error, a actor) error {
	if errors.Is(err, member.ErrNotFound) {
		return a.missing
	}
	return err
}

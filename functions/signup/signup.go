// Package signup serves how seniors join and come back: POST /api/signup from a join, invite or
// referral code, POST /api/signup/verify with the one-time code sent by SMS, and GET /api/me,
// their page once verified. Profile changes, consents, export and erasure, and family links land
// next on the same function (the signup issue).
package signup

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"

	"yinling/shared/access"
	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/i18n"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/metrics"
	"yinling/shared/notify"
	"yinling/shared/notify/awssms"
	"yinling/shared/notify/outbox"
	"yinling/shared/pii"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table      string `env:"TABLE_NAME"`
	BaseURL    string `env:"PUBLIC_BASE_URL,optional"`
	LogLevel   string `env:"LOG_LEVEL,optional"`
	PIIKey     string `env:"PII_HASH_KEY"`
	NotifyMode string `env:"NOTIFY_MODE"`
	SMSOrigin  string `env:"SMS_ORIGINATION_IDENTITY,optional"`
	// FunctionName is set by the Lambda runtime; it is the one dimension of our metrics.
	FunctionName string `env:"AWS_LAMBDA_FUNCTION_NAME,optional"`
	// PIIKMSKey names the KMS key that wraps the data keys phones are sealed with at rest
	// ("local:…" on the local stack: see pii.ForKeyID).
	PIIKMSKey string `env:"PII_KMS_KEY_ID"`
}

// Deps are what the handler needs; tests and the local stack build them as main does.
type Deps struct {
	Store *dynamostore.Store
	// SMS sends the one-time codes: the only message ever sent to an unverified number.
	SMS notify.Sender
	// Key keys the phone lookup hash and the one-time code hashes (HMAC).
	Key        []byte
	Log        *slog.Logger
	Now        func() time.Time
	SessionTTL time.Duration
	BaseURL    string // origin of family links; "" uses the request's host
	// Metrics receives the business figures (EMF lines, which CloudWatch turns into metrics).
	Metrics *metrics.Emitter
}

// DefaultSessionTTL keeps a senior signed in on their phone for three months: signing in again
// means another code by SMS, which many find hard.
const DefaultSessionTTL = 90 * 24 * time.Hour

// SessionCookie is the member session's cookie.
const SessionCookie = access.SessionCookie

// Handler serves the signup routes.
type Handler struct {
	*apigw.Mux
	d Deps
}

// New returns the handler with its routes registered.
func New(d Deps) *Handler {
	if d.SessionTTL == 0 {
		d.SessionTTL = DefaultSessionTTL
	}
	h := &Handler{Mux: apigw.NewMux(d.Log), d: d}
	h.Route("GET /api/join/{code}", h.joinInfo)
	h.Route("POST /api/signup", h.signup)
	h.Route("POST /api/signup/verify", h.verify)
	h.Route("GET /api/me", h.me)
	h.Route("PATCH /api/me", h.updateMe)
	h.Route("DELETE /api/me", h.eraseMe)
	h.Route("GET /api/me/export", h.exportMe)
	h.Route("POST /api/me/referral", h.referral)
	h.Route("POST /api/me/family-links", h.createFamilyLink)
	h.Route("DELETE /api/me/family-links/{id}", h.revokeFamilyLink)
	h.Route("GET /api/family/{token}", h.family)
	return h
}

// Handle serves one request. Every answer under a family link, refusals included, carries the
// headers that keep the token out of Referer headers and search indexes.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	resp, err := h.Mux.Handle(ctx, req)
	if strings.HasPrefix(req.RouteKey, "GET /api/family/") {
		resp = apigw.CapabilityHeaders(resp)
	}
	return resp, err
}

// Wire builds the handler from its configuration. NOTIFY_MODE "outbox" keeps every message in
// the table (local development); "aws" sends SMS through End User Messaging.
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table,
		dynamostore.WithPII(pii.MustWrapper(cfg, env.PIIKMSKey, env.FunctionName)))
	var sms notify.Sender
	switch env.NotifyMode {
	case "outbox":
		sms = outbox.New(store, time.Now)
	default:
		s, err := awssms.New(pinpointsmsvoicev2.NewFromConfig(cfg), awssms.Config{OriginationIdentity: env.SMSOrigin})
		if err != nil {
			// Misconfigured, not broken: every send says so, and the log says why.
			log.Error("SMS is not configured", "err", err)
			sms = notify.SenderFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
				return notify.Receipt{}, fmt.Errorf("sms: %w", err)
			})
		} else {
			sms = s
		}
	}
	return New(Deps{Store: store, SMS: sms, Key: []byte(env.PIIKey), Log: log, Now: time.Now, BaseURL: env.BaseURL,
		Metrics: metrics.New(os.Stdout, metrics.Namespace, env.FunctionName, time.Now)})
}

// Errors of this function.
var (
	errSMSUnavailable  = &fail.Error{Kind: fail.Unavailable, Code: "sms_unavailable"}
	errSessionRequired = access.ErrSessionRequired
)

// joinInfo is what the join page shows before anyone types: the store, the group, its covenant
// and the interests to choose from. An invite-only group reached by its own QR code says so now,
// not after the senior filled in the form.
func (h *Handler) joinInfo(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	code, err := h.resolveCode(ctx, r, r.PathParameters["code"])
	if err != nil {
		return apigw.Response{}, err
	}
	if err := code.Usable(h.d.Now()); err != nil {
		return apigw.Response{}, err
	}
	jc, err := h.d.Store.JoinContext(ctx, code.StoreID, code.GroupID, "")
	if err != nil {
		return apigw.Response{}, err
	}
	if _, err := member.JoinStatus(jc.Group.EntryRule, joinPath(code.Kind), false); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toJoinInfoJSON(code, jc)), nil
}

func (h *Handler) signup(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in signupJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	now := h.d.Now().UTC().Truncate(time.Second)
	draft := in.draft()
	// Everything but the store's own list of interests is checked before any read, so bad input
	// costs nothing; the store's list is checked once it is read.
	pre, _, err := member.NewSignup(draft, draft.Interests, now)
	if err != nil {
		return apigw.Response{}, err
	}
	code, err := h.resolveCode(ctx, r, in.Code)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := code.Usable(now); err != nil {
		return apigw.Response{}, err
	}
	phoneHash, clientHash := h.phoneHash(pre.Phone), h.clientHash(r.RequestContext.HTTP.SourceIP)

	for attempt := 0; ; attempt++ {
		jc, err := h.d.Store.JoinContext(ctx, code.StoreID, code.GroupID, phoneHash)
		if err != nil {
			return apigw.Response{}, err
		}
		m, consents, err := member.NewSignup(draft, jc.Store.Interests, now)
		if err != nil {
			return apigw.Response{}, err
		}
		path := joinPath(code.Kind)
		status, err := member.JoinStatus(jc.Group.EntryRule, path, false)
		if err != nil {
			return apigw.Response{}, err
		}
		m.StoreID, m.ID = code.StoreID, jc.MemberID
		newMember := m.ID == ""
		if newMember {
			m.ID = ids.New()
		}
		ms := member.Membership{StoreID: code.StoreID, GroupID: code.GroupID, MemberID: m.ID, Status: status,
			Path: path, Code: code.Code, JoinedAt: now}
		switch path {
		case member.PathInvite:
			ms.InvitedBy = code.CreatedBy
		case member.PathReferral:
			ms.ReferrerID = code.CreatedBy
		}
		otp := member.NewOTP()
		err = h.d.Store.Signup(ctx, dynamostore.SignupWrite{
			Member: m, NewMember: newMember, PhoneHash: phoneHash, Consents: consents, Membership: ms,
			OTP: member.NewOTPState(otp, m.ID, h.d.Key, now), Rule: jc.Group.EntryRule, ClientHash: clientHash, Now: now,
		})
		switch {
		case errors.Is(err, dynamostore.ErrPhoneTaken) && attempt == 0:
			continue // a concurrent signup made this member a moment ago: join as them
		case errors.Is(err, dynamostore.ErrMembershipSettled):
			// Already a member (a new phone, a cleared browser): the same answer as a first join,
			// and a sign-in code to the verified number. Answering differently would tell anyone
			// who types a number that its owner belongs to this store's group.
			return h.signIn(ctx, r, m, phoneHash, clientHash, code.GroupID, jc.Store.Name, now)
		case err != nil:
			return apigw.Response{}, err
		}
		if err := h.sendOTP(ctx, m, otp, jc.Store.Name, apigw.Lang(r)); err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusCreated, signupResult{MemberID: m.ID, Status: string(status), Phone: m.Phone.Masked()}), nil
	}
}

// signIn sends a code that opens a session for a member whose join is complete.
func (h *Handler) signIn(ctx context.Context, r *apigw.Request, m member.Member, phoneHash, clientHash, groupID, storeName string, now time.Time) (apigw.Response, error) {
	cur, err := h.d.Store.GetMembership(ctx, m.StoreID, m.ID, groupID)
	if err != nil {
		return apigw.Response{}, err
	}
	otp := member.NewOTP()
	if err := h.d.Store.IssueSignIn(ctx, dynamostore.SignInWrite{
		Membership: cur, PhoneHash: phoneHash, OTP: member.NewOTPState(otp, m.ID, h.d.Key, now), ClientHash: clientHash, Now: now,
	}); err != nil {
		return apigw.Response{}, err
	}
	if err := h.sendOTP(ctx, m, otp, storeName, apigw.Lang(r)); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, signupResult{MemberID: m.ID, Status: string(member.StatusPendingVerification),
		Phone: m.Phone.Masked()}), nil
}

func (h *Handler) sendOTP(ctx context.Context, m member.Member, otp, storeName string, lang i18n.Lang) error {
	text := fmt.Sprintf("【银龄·%s】您的验证码是 %s，10 分钟内有效。请勿告诉任何人，店员也不会向您索要。", storeName, otp)
	if lang == i18n.En {
		text = fmt.Sprintf("[Yinling · %s] Your code is %s. It is valid for 10 minutes. Never share it, not even with staff.", storeName, otp)
	}
	_, err := h.d.SMS.Send(ctx, notify.Message{
		ID:      "otp-" + m.ID + "-" + ids.New(), // every code is its own message
		StoreID: m.StoreID, MemberID: m.ID, Channel: notify.ChannelSMS, To: m.Phone.E164(),
		Text: text, Kind: "otp", Lang: string(lang),
	})
	if err != nil {
		h.d.Log.ErrorContext(ctx, "send one-time code", "member", m.ID, "phone", m.Phone.Masked(), "err", err)
		return errSMSUnavailable
	}
	return nil
}

func (h *Handler) verify(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in verifyJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	if _, ok := member.NormalizeOTP(in.OTP); !ok {
		return apigw.Response{}, member.ErrInvalidOTP
	}
	if !ids.Valid(in.MemberID) {
		return apigw.Response{}, member.ErrNotFound.OnField("memberId")
	}
	now := h.d.Now().UTC().Truncate(time.Second)
	rec, err := h.d.Store.GetOTP(ctx, in.MemberID)
	if errors.Is(err, member.ErrNotFound) {
		return apigw.Response{}, member.ErrNotFound.OnField("memberId")
	}
	if err != nil {
		return apigw.Response{}, err
	}
	if err := member.CheckOTP(rec.State, in.OTP, now, h.d.Key); err != nil {
		if errors.Is(err, member.ErrOTPWrong) {
			if err := h.d.Store.CountOTPFailure(ctx, in.MemberID, rec.State.Attempts); err != nil {
				return apigw.Response{}, err
			}
		}
		return apigw.Response{}, err
	}
	status := rec.Status // a sign-in leaves the membership as it is
	if !rec.SignIn {
		if status, err = member.JoinStatus(rec.Rule, rec.Path, true); err != nil {
			return apigw.Response{}, err
		}
	}
	token := member.NewToken()
	expires := now.Add(h.d.SessionTTL)
	if err := h.d.Store.CompleteVerification(ctx, dynamostore.Verification{
		Record: rec, Status: status, SessionHash: member.HashToken(token), SessionExpires: expires, Now: now,
	}); err != nil {
		return apigw.Response{}, err
	}
	if !rec.SignIn && h.d.Metrics != nil {
		// A completed join; the store is a property, not a dimension (each dimension value is a
		// billed custom metric).
		if err := h.d.Metrics.Count(ctx, metrics.Signups, 1, slog.String("store", rec.StoreID),
			slog.String("path", string(rec.Path))); err != nil {
			h.d.Log.WarnContext(ctx, "emit signup metric", "err", err)
		}
	}
	resp := apigw.JSON(http.StatusOK, verifyResult{Token: token, MemberID: in.MemberID, Status: string(status), ExpiresAt: expires})
	resp.Cookies = []string{sessionCookie(token, h.d.SessionTTL)}
	return resp, nil
}

func (h *Handler) me(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	sess, page, err := h.myPage(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	groupIDs := make([]string, len(page.Memberships))
	for i, ms := range page.Memberships {
		groupIDs[i] = ms.GroupID
	}
	groups, err := h.d.Store.GetGroups(ctx, sess.StoreID, groupIDs)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toMeJSON(page, groups, h.d.Now())), nil
}

// session returns the caller's live session from the cookie or a bearer token.
func (h *Handler) session(ctx context.Context, r *apigw.Request) (dynamostore.Session, error) {
	return access.Member(ctx, h.d.Store, r, h.d.Now())
}

// phoneHash keys the phone lookup: an HMAC, so the table holds no number that could be read back
// by trying all 10^11 mainland mobiles.
func (h *Handler) phoneHash(p member.Phone) string {
	mac := hmac.New(sha256.New, h.d.Key)
	mac.Write([]byte("yinling phone\x00" + p.E164()))
	return hex.EncodeToString(mac.Sum(nil))
}

// clientHash keys the hourly count of codes sent on behalf of one address: an HMAC, so the table
// holds no address (IPv4 has only 2^32 to try). An IPv6 address counts by its /64, which is one
// subscriber's: a phone or a home router may use any address in it, so the full address would
// let one caller count afresh with every request.
func (h *Handler) clientHash(sourceIP string) string {
	client := sourceIP
	if a, err := netip.ParseAddr(sourceIP); err == nil {
		a = a.Unmap()
		if p, err := a.Prefix(64); err == nil && a.Is6() {
			a = p.Addr()
		}
		client = a.String()
	}
	mac := hmac.New(sha256.New, h.d.Key)
	mac.Write([]byte("yinling client\x00" + client))
	return hex.EncodeToString(mac.Sum(nil))
}

// resolveCode looks a typed or scanned code up, counting failures against the caller's address
// (dynamostore.MaxGuesses per window): codes are short enough that a scanner must be slowed.
func (h *Handler) resolveCode(ctx context.Context, r *apigw.Request, typed string) (group.Code, error) {
	now := h.d.Now().UTC()
	client := r.RequestContext.HTTP.SourceIP
	code := ids.NormalizeCode(typed)
	if !ids.ValidCode(code) {
		if err := h.d.Store.CountFailedGuess(ctx, dynamostore.GuessCode, client, now); err != nil {
			return group.Code{}, err
		}
		return group.Code{}, group.ErrCodeNotFound
	}
	return h.d.Store.ResolveCodeFrom(ctx, code, client, now)
}

func joinPath(k group.CodeKind) member.JoinPath {
	switch k {
	case group.CodeInvite:
		return member.PathInvite
	case group.CodeReferral:
		return member.PathReferral
	}
	return member.PathQR
}

// sessionCookie is httpOnly (no script reads it), Secure, and SameSite=Lax so the link in an SMS
// or a WeChat message still arrives signed in.
func sessionCookie(token string, ttl time.Duration) string {
	maxAge := int(ttl.Seconds())
	if ttl < 0 {
		maxAge = -1 // Max-Age=0: delete the cookie now
	}
	return (&http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}).String()
}

package signup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"yinling/functions/signup"
	"yinling/shared/apispec"
	"yinling/shared/awscalls"
	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/ids"
	"yinling/shared/logging"
	"yinling/shared/member"
	"yinling/shared/metrics"
	"yinling/shared/notify/outbox"
	"yinling/shared/promo"
	"yinling/shared/qa"
	"yinling/shared/reminder"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
)

// Fixtures the sample events in events/signup refer to.
const (
	storeID       = "s-test"
	openCode      = "JWYN2345" // open group's join code
	inviteGroupQR = "GRPQ2345" // invite-only group's own code: not enough to join
	inviteCode    = "HVNT2345" // staff invite into the invite-only group, 2 uses
	approvalCode  = "APPR2345" // approval group's join code
	phoneDigits   = "13800138000"
)

type fixture struct {
	t       testing.TB
	env     *testenv.Env
	store   *dynamostore.Store
	handler lambda.Handler
	calls   *awscalls.Counter
	now     time.Time
	logs    *syncBuffer
	metrics *syncBuffer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, calls: &awscalls.Counter{}, now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), logs: &syncBuffer{}, metrics: &syncBuffer{}}
	f.env = testenv.New(t, testenv.WithAPIOptions(f.calls.Register))
	f.store = dynamostore.New(f.env.DynamoDB, f.env.TableName())
	ctx := context.Background()
	if err := f.store.CreateStore(ctx, tenant.Store{ID: storeID, Name: "幸福里药房", TimeZone: tenant.DefaultTimeZone,
		PushCap: 2, Interests: []string{"太极拳", "广场舞", "健康讲座"}, CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		id, code string
		rule     group.EntryRule
	}{
		{"01JDQ7Z6W3V8G0X5Y4K2M9N1PA", openCode, group.RuleOpen},
		{"01JDQ7Z6W3V8G0X5Y4K2M9N1PC", inviteGroupQR, group.RuleInvite},
		{"01JDQ7Z6W3V8G0X5Y4K2M9N1PD", approvalCode, group.RuleApproval},
	} {
		if _, err := f.store.CreateGroup(ctx, group.Group{ID: g.id, StoreID: storeID, Name: "群" + g.code, Covenant: "互相尊重",
			EntryRule: g.rule, PushCap: 2, JoinCode: g.code, CreatedBy: "staff-1", CreatedAt: f.now, UpdatedAt: f.now},
			dynamostore.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.store.CreateInvite(ctx, group.Invite{Code: inviteCode, StoreID: storeID, GroupID: "01JDQ7Z6W3V8G0X5Y4K2M9N1PC",
		CreatedBy: "staff-1", MaxUses: 2, CreatedAt: f.now, ExpiresAt: f.now.AddDate(0, 0, 7)}); err != nil {
		t.Fatal(err)
	}
	h := signup.New(signup.Deps{
		Store:   f.store,
		SMS:     outbox.New(f.store, func() time.Time { return f.now }),
		Key:     []byte("test-key"),
		Log:     logging.New(f.logs, slog.LevelDebug),
		Now:     func() time.Time { return f.now },
		Metrics: metrics.New(f.metrics, metrics.Namespace, "signup-test", func() time.Time { return f.now }),
	})
	f.handler = lambda.NewHandler(h.Handle)
	f.calls.Reset()
	return f
}

// contract is the OpenAPI document, loaded once for the package's tests.
var contract = func() *apispec.Spec {
	s, err := apispec.Load()
	if err != nil {
		panic(err)
	}
	return s
}()

func readEvent(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	return testenv.Event(t, "signup", name)
}

// invoke sends req a moment after the last request (testenv.InvokeHTTP holds the answer to the
// OpenAPI document and, under a capability link, to its headers).
func (f *fixture) invoke(req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, map[string]any) {
	f.t.Helper()
	f.now = f.now.Add(time.Second)
	return testenv.InvokeHTTP(f.t, f.handler, req)
}

// items counts the test table's items but the failed-lookup counters (testenv.Env.Items).
func (f *fixture) items() int { return f.env.Items(f.t, false) }

var otpPattern = regexp.MustCompile(`\b\d{6}\b`)

// lastOTP reads the newest code the outbox "sent" to a member.
func (f *fixture) lastOTP(memberID string) string {
	f.t.Helper()
	page, err := f.store.ListOutbox(context.Background(), storeID, "", 100)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range page.Items { // newest first
		if e.MemberID == memberID {
			if code := otpPattern.FindString(e.Text); code != "" {
				return code
			}
			f.t.Fatalf("no code in %q", e.Text)
		}
	}
	f.t.Fatalf("no message to %s in the outbox", memberID)
	return ""
}

func (f *fixture) outboxLen() int {
	f.t.Helper()
	page, err := f.store.ListOutbox(context.Background(), storeID, "", 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(page.Items)
}

func verifyReq(t testing.TB, memberID, otp string) events.APIGatewayV2HTTPRequest {
	req := readEvent(t, "verify")
	req.Body = `{"memberId":"` + memberID + `","otp":"` + otp + `"}`
	return req
}

func withCode(t testing.TB, code string) events.APIGatewayV2HTTPRequest {
	req := readEvent(t, "signup")
	var body map[string]any
	_ = json.Unmarshal([]byte(req.Body), &body)
	body["code"] = code
	b, _ := json.Marshal(body)
	req.Body = string(b)
	return req
}

func errCode(body map[string]any) (code, field string) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

// Every refusal answers in the caller's language, names the field, and changes nothing: no item
// written, no message sent.
func TestRefusalsChangeNothing(t *testing.T) {
	tests := []struct {
		event, code, field string
		status             int
	}{
		{"signup-bad-phone", "invalid_phone", "phone", 400},
		{"signup-landline", "invalid_phone", "phone", 400},
		{"signup-emoji-name", "invalid_name", "name", 400},
		{"signup-long-name", "too_long", "name", 400},
		{"signup-no-consent", "consent_required", "consents.service", 400},
		{"signup-no-covenant", "covenant_required", "acceptCovenant", 400},
		{"signup-unknown-code", "code_not_found", "code", 404},
		{"signup-bad-interest", "invalid_interest", "interests", 400},
		{"signup-unknown-field", "unknown_field", "isAdmin", 400},
		{"verify", "member_not_found", "memberId", 404},
		{"verify-bad-otp", "invalid_otp", "otp", 400},
		{"me-no-session", "session_required", "", 401},
		{"me", "session_required", "", 401},
	}
	f := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			f.t = t
			before := f.items()
			req := readEvent(t, tt.event)
			resp, body := f.invoke(req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if code, field := errCode(body); code != tt.code || field != tt.field {
				t.Errorf("error = %s (%s), want %s (%s)", code, field, tt.code, tt.field)
			}
			if after := f.items(); after != before {
				t.Errorf("items %d → %d: a refused request changed the table", before, after)
			}
		})
	}
}

// The whole path of a senior: join from the store's QR code, receive a code, mistype it once,
// verify, and open "my page" from the cookie — and what each step costs in AWS calls.
func TestJoinVerifyAndOpenMyPage(t *testing.T) {
	f := newFixture(t)

	f.calls.Reset()
	req := readEvent(t, "signup")
	resp, body := f.invoke(req)
	if resp.StatusCode != 201 || body["status"] != "pending_verification" {
		t.Fatalf("signup: %d %s", resp.StatusCode, resp.Body)
	}
	memberID, _ := body["memberId"].(string)
	// 3 DynamoDB calls (BatchGetItem code + the caller's failed-lookup count, BatchGetItem
	// store+group+phone, one transaction), plus the outbox's one write, which stands in for the
	// SMS provider's call.
	if n := f.calls.Snapshot().Count; n["DynamoDB.BatchGetItem"] != 2 ||
		n["DynamoDB.TransactWriteItems"] != 1+1 || f.calls.Total() != 4 {
		t.Errorf("signup made these AWS calls:\n%s", f.calls.Snapshot())
	}
	signupCalls := f.calls.Snapshot()
	otp := f.lastOTP(memberID)

	wrong := "000000"
	if otp == wrong {
		wrong = "111111"
	}
	req = verifyReq(t, memberID, wrong)
	resp, body = f.invoke(req)
	if code, _ := errCode(body); resp.StatusCode != 400 || code != "otp_wrong" {
		t.Fatalf("wrong code: %d %s", resp.StatusCode, resp.Body)
	}

	f.calls.Reset()
	req = verifyReq(t, memberID, otp[:3]+" "+otp[3:]) // people copy "123 456"
	resp, body = f.invoke(req)
	if resp.StatusCode != 200 || body["status"] != "active" {
		t.Fatalf("verify: %d %s", resp.StatusCode, resp.Body)
	}
	verifyCalls := f.calls.Snapshot()
	// A completed join is one Signups metric (EMF), with the store as a property, never a phone.
	emf := f.metrics.String()
	if strings.Count(emf, `"Signups":1`) != 1 || !strings.Contains(emf, `"store":"`+storeID+`"`) || strings.Contains(emf, phoneDigits) {
		t.Errorf("metrics after a join = %q", emf)
	}
	if verifyCalls.Total() != 2 {
		t.Errorf("verification made %d AWS calls, want 2:\n%s", verifyCalls.Total(), verifyCalls)
	}
	token, _ := body["token"].(string)
	if len(resp.Cookies) != 1 || !strings.Contains(resp.Cookies[0], "yl_session="+token) ||
		!strings.Contains(resp.Cookies[0], "HttpOnly") || !strings.Contains(resp.Cookies[0], "Secure") ||
		!strings.Contains(resp.Cookies[0], "SameSite=Lax") {
		t.Errorf("session cookie = %v", resp.Cookies)
	}

	// The same code cannot be used twice.
	req = verifyReq(t, memberID, otp)
	resp, body = f.invoke(req)
	if code, _ := errCode(body); resp.StatusCode != 409 || code != "otp_used" {
		t.Errorf("reused code: %d %s, want 409 otp_used", resp.StatusCode, resp.Body)
	}

	f.calls.Reset()
	req = readEvent(t, "me")
	req.Cookies = []string{"other=1", "yl_session=" + token}
	resp, body = f.invoke(req)
	if resp.StatusCode != 200 {
		t.Fatalf("me: %d %s", resp.StatusCode, resp.Body)
	}
	if n := f.calls.Total(); n > 3 {
		t.Errorf("my page made %d AWS calls, want ≤ 3:\n%s", n, f.calls.Snapshot())
	}
	m, _ := body["member"].(map[string]any)
	groups, _ := body["groups"].([]any)
	if m["name"] != "王秀英" || m["phone"] != "+86 138****8000" || m["verified"] != true || m["ageBand"] != "70-79" || len(groups) != 1 {
		t.Errorf("my page = %s", resp.Body)
	}
	if g, _ := groups[0].(map[string]any); g["status"] != "active" {
		t.Errorf("group = %v", groups[0])
	}
	consents, _ := body["consents"].(map[string]any)
	if h, _ := consents["health"].(map[string]any); h["granted"] != true {
		t.Errorf("consents = %v", consents)
	}
	// The bearer form works too (the API from a native shell).
	req = readEvent(t, "me-no-session")
	req.Headers["authorization"] = "Bearer " + token
	if resp, _ := f.invoke(req); resp.StatusCode != 200 {
		t.Errorf("me with bearer: %d", resp.StatusCode)
	}

	// Joining again from a new phone answers as a first join does (nothing tells a stranger the
	// number is a member's), and the code sent signs the member in without touching the join.
	sent := f.outboxLen()
	resp, body = f.invoke(readEvent(t, "signup"))
	if resp.StatusCode != 201 || body["memberId"] != memberID || body["status"] != "pending_verification" || f.outboxLen() != sent+1 {
		t.Errorf("second join: %d %s (outbox %d → %d)", resp.StatusCode, resp.Body, sent, f.outboxLen())
	}
	resp, body = f.invoke(verifyReq(t, memberID, f.lastOTP(memberID)))
	if resp.StatusCode != 200 || body["status"] != "active" || body["token"] == token {
		t.Errorf("sign-in on a new phone: %d %s", resp.StatusCode, resp.Body)
	}

	// A session ends at its expiry, whatever TTL has not yet deleted.
	f.now = f.now.Add(signup.DefaultSessionTTL)
	req = readEvent(t, "me")
	req.Cookies = []string{"yl_session=" + token}
	if resp, _ := f.invoke(req); resp.StatusCode != 401 {
		t.Errorf("expired session: %d, want 401", resp.StatusCode)
	}
	t.Logf("AWS calls per signup:\n%s\nper verification:\n%s", signupCalls, verifyCalls)
}

func TestEntryRules(t *testing.T) {
	f := newFixture(t)
	join := func(code string) (int, map[string]any) {
		resp, body := f.invoke(withCode(t, code))
		return resp.StatusCode, body
	}
	verify := func(body map[string]any) map[string]any {
		t.Helper()
		id := body["memberId"].(string)
		resp, out := f.invoke(verifyReq(t, id, f.lastOTP(id)))
		if resp.StatusCode != 200 {
			t.Fatalf("verify: %d %s", resp.StatusCode, resp.Body)
		}
		return out
	}

	if status, body := join(inviteGroupQR); status != 403 {
		t.Errorf("invite-only group by its QR code: %d %v, want 403 invite_required", status, body)
	}
	status, body := join(inviteCode)
	if status != 201 {
		t.Fatalf("invite: %d %v", status, body)
	}
	if out := verify(body); out["status"] != "active" {
		t.Errorf("invited member status = %v, want active", out["status"])
	}
	status, body = join(approvalCode)
	if status != 201 {
		t.Fatalf("approval group: %d %v", status, body)
	}
	if out := verify(body); out["status"] != "pending_approval" {
		t.Errorf("approval group status = %v, want pending_approval", out["status"])
	}
	code, err := f.store.ResolveCodeFrom(context.Background(), inviteCode, "test", f.now)
	if err != nil || code.Uses != 1 {
		t.Errorf("invite uses = %d (%v), want 1", code.Uses, err)
	}
}

func TestOneTimeCodeLimits(t *testing.T) {
	t.Run("three codes an hour per number", func(t *testing.T) {
		f := newFixture(t)
		for i := 1; i <= 3; i++ {
			if resp, _ := f.invoke(readEvent(t, "signup")); resp.StatusCode != 201 {
				t.Fatalf("signup %d: %d %s", i, resp.StatusCode, resp.Body)
			}
		}
		before := f.outboxLen()
		resp, body := f.invoke(readEvent(t, "signup"))
		if code, _ := errCode(body); resp.StatusCode != 429 || code != "otp_send_limit" {
			t.Errorf("fourth code in an hour: %d %s", resp.StatusCode, resp.Body)
		}
		if f.outboxLen() != before {
			t.Errorf("a refused signup sent a message")
		}
		f.now = f.now.Add(time.Hour)
		if resp, _ := f.invoke(readEvent(t, "signup")); resp.StatusCode != 201 {
			t.Errorf("next hour: %d", resp.StatusCode)
		}
	})
	t.Run("five wrong guesses spend the code", func(t *testing.T) {
		f := newFixture(t)
		_, body := f.invoke(readEvent(t, "signup"))
		id := body["memberId"].(string)
		otp := f.lastOTP(id)
		wrong := "000000"
		if otp == wrong {
			wrong = "111111"
		}
		for i := 0; i < 5; i++ {
			if resp, _ := f.invoke(verifyReq(t, id, wrong)); resp.StatusCode != 400 {
				t.Fatalf("guess %d: %d", i, resp.StatusCode)
			}
		}
		resp, body := f.invoke(verifyReq(t, id, otp))
		if code, _ := errCode(body); resp.StatusCode != 429 || code != "otp_too_many_attempts" {
			t.Errorf("right code after 5 wrong: %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("a code expires after 10 minutes", func(t *testing.T) {
		f := newFixture(t)
		_, body := f.invoke(readEvent(t, "signup"))
		otp := f.lastOTP(body["memberId"].(string))
		f.now = f.now.Add(10 * time.Minute)
		resp, body := f.invoke(verifyReq(t, body["memberId"].(string), otp))
		if code, _ := errCode(body); resp.StatusCode != 400 || code != "otp_expired" {
			t.Errorf("expired code: %d %s", resp.StatusCode, resp.Body)
		}
	})
}

// No phone number and no one-time code may appear in any log line.
func TestLogsHoldNoPhoneOrCode(t *testing.T) {
	f := newFixture(t)
	_, body := f.invoke(readEvent(t, "signup"))
	otp := f.lastOTP(body["memberId"].(string))
	f.invoke(verifyReq(t, body["memberId"].(string), "999999"))
	f.invoke(verifyReq(t, body["memberId"].(string), otp))
	f.invoke(readEvent(t, "signup-bad-phone"))
	logs := f.logs.String()
	for _, secret := range []string{phoneDigits, "0013", otp} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func strPtr(s string) *string { return &s }

func TestJoinInfo(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		event  string
		status int
		code   string
		group  string
	}{
		{"join-info", 200, "", "群JWYN2345"},
		{"join-info-lowercase", 200, "", "群JWYN2345"}, // typed from a card: any case, hyphens
		{"join-info-unknown", 404, "code_not_found", ""},
		{"join-info-invite-only", 403, "invite_required", ""},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			f.t = t
			req := readEvent(t, tt.event)
			f.calls.Reset()
			resp, body := f.invoke(req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if n := f.calls.Total(); n > 2 {
				t.Errorf("%d AWS calls, want ≤ 2:\n%s", n, f.calls.Snapshot())
			}
			if tt.code != "" {
				if code, _ := errCode(body); code != tt.code {
					t.Errorf("error = %s, want %s", code, tt.code)
				}
				return
			}
			g, _ := body["group"].(map[string]any)
			interests, _ := body["interests"].([]any)
			if g["name"] != tt.group || g["covenant"] != "互相尊重" || body["storeName"] != "幸福里药房" || len(interests) != 3 {
				t.Errorf("join info = %s", resp.Body)
			}
		})
	}
}

// signedIn joins with the sample signup and verifies; it returns the member id and session token.
func (f *fixture) signedIn(t *testing.T, event string) (string, string) {
	t.Helper()
	resp, body := f.invoke(readEvent(t, event))
	if resp.StatusCode != 201 {
		t.Fatalf("signup: %d %s", resp.StatusCode, resp.Body)
	}
	id := body["memberId"].(string)
	resp, body = f.invoke(verifyReq(t, id, f.lastOTP(id)))
	if resp.StatusCode != 200 {
		t.Fatalf("verify: %d %s", resp.StatusCode, resp.Body)
	}
	return id, body["token"].(string)
}

func familyReq(t testing.TB, token string) events.APIGatewayV2HTTPRequest {
	req := readEvent(t, "family")
	req.PathParameters = map[string]string{"token": token}
	req.RawPath = "/api/family/" + token
	return req
}

// alertPhone is the relative's number the sample links send alerts to, as a senior types it.
const alertPhone = "139 0013 9000"

// linkReq is the sample family link request under session, its body changed by set: a field set
// to nil is removed. With alerts on, a link needs the number they go to.
func linkReq(t testing.TB, session string, set map[string]any) events.APIGatewayV2HTTPRequest {
	t.Helper()
	req := testenv.WithSession(readEvent(t, "family-link-create"), session)
	var body map[string]any
	if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	b, _ := json.Marshal(body)
	req.Body = string(b)
	return req
}

// withAlertPhone is the sample link, alerts on, with the number they go to.
var withAlertPhone = map[string]any{"alerts": true, "alertPhone": alertPhone}

func TestFamilyLinks(t *testing.T) {
	f := newFixture(t)
	memberID, session := f.signedIn(t, "signup")
	ctx := context.Background()

	// A refused link changes nothing.
	before := f.items()
	req := testenv.WithSession(readEvent(t, "family-link-bad-label"), session)
	resp, body := f.invoke(req)
	if code, field := errCode(body); resp.StatusCode != 400 || code != "invalid_label" || field != "label" || f.items() != before {
		t.Errorf("bad label: %d %s", resp.StatusCode, resp.Body)
	}

	// Alerts need a number to go to; a number needs alerts to be kept; a number must be one.
	for _, tt := range []struct {
		name, code, field string
		set               map[string]any
	}{
		{"alerts without a number", "alert_phone_required", "alertPhone", map[string]any{"alerts": true, "alertPhone": nil}},
		{"alerts with an empty number", "alert_phone_required", "alertPhone", map[string]any{"alerts": true, "alertPhone": " "}},
		{"a number without alerts", "alert_phone_unused", "alertPhone", map[string]any{"alerts": false, "alertPhone": alertPhone}},
		{"a landline", "invalid_phone", "alertPhone", map[string]any{"alerts": true, "alertPhone": "010-8888 8888"}},
		{"not a number", "invalid_phone", "alertPhone", map[string]any{"alerts": true, "alertPhone": "妈妈的女儿"}},
		{"alerts by no channel", "invalid_alert_channel", "alertChannel", map[string]any{"alerts": true, "alertPhone": alertPhone, "alertChannel": "none"}},
	} {
		before := f.items()
		req := linkReq(t, session, tt.set)
		resp, body := f.invoke(req)
		code, field := errCode(body)
		e, _ := body["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if resp.StatusCode != 400 || code != tt.code || field != tt.field || msg == "" || strings.HasPrefix(msg, "error.") {
			t.Errorf("%s: %d %s, want 400 %s on %s with a message", tt.name, resp.StatusCode, resp.Body, tt.code, tt.field)
		}
		if f.items() != before {
			t.Errorf("%s: items %d → %d, want nothing written", tt.name, before, f.items())
		}
	}
	if links, err := f.store.AlertLinks(ctx, storeID, memberID, f.now); err != nil || len(links) != 0 {
		t.Errorf("AlertLinks after refusals = %v, %v; want none", links, err)
	}

	f.calls.Reset()
	req = linkReq(t, session, map[string]any{"alerts": true, "alertPhone": alertPhone, "alertChannel": "sms"})
	if err := contract.CheckRequest(req.RouteKey, []byte(req.Body)); err != nil {
		t.Errorf("the request breaks the OpenAPI contract: %v", err)
	}
	resp, body = f.invoke(req)
	if resp.StatusCode != 201 {
		t.Fatalf("create link: %d %s", resp.StatusCode, resp.Body)
	}
	if n := f.calls.Total(); n > 2 {
		t.Errorf("creating a link made %d AWS calls, want ≤ 2:\n%s", n, f.calls.Snapshot())
	}
	if body["alerts"] != true || body["alertPhone"] != "+86 139****9000" || body["alertChannel"] != "sms" {
		t.Errorf("created link = %s, want alerts by sms to +86 139****9000", resp.Body)
	}
	if strings.Contains(resp.Body, "00139000") || strings.Contains(f.logs.String(), "00139000") {
		t.Errorf("the alert number came back or was logged in full:\n%s\n%s", resp.Body, f.logs.String())
	}
	alerting, err := f.store.AlertLinks(ctx, storeID, memberID, f.now)
	if err != nil || len(alerting) != 1 || alerting[0].ID != body["id"] || alerting[0].AlertPhone.E164() != "+8613900139000" ||
		alerting[0].AlertChannel != "sms" {
		t.Errorf("AlertLinks = %+v, %v; want the new link, by sms to +8613900139000", alerting, err)
	}
	linkID := body["id"].(string)
	url := body["url"].(string)
	token := url[strings.LastIndex(url, "/f/")+3:]
	if len(token) < 43 { // 32 random bytes, base64url: 256 bits
		t.Errorf("token %q is too short to be unguessable", token)
	}

	f.calls.Reset()
	req = familyReq(t, token)
	resp, body = f.invoke(req)
	if resp.StatusCode != 200 || body["name"] != "王秀英" || body["scope"] != "view" || body["label"] != "女儿" {
		t.Fatalf("family view: %d %s", resp.StatusCode, resp.Body)
	}
	if resp.Headers["referrer-policy"] != "no-referrer" || !strings.Contains(resp.Headers["x-robots-tag"], "noindex") {
		t.Errorf("family view headers = %v", resp.Headers)
	}
	if n := f.calls.Total(); n > 3 {
		t.Errorf("family view made %d AWS calls, want ≤ 3:\n%s", n, f.calls.Snapshot())
	}

	resp, body = f.invoke(testenv.WithSession(readEvent(t, "me"), session))
	links, _ := body["familyLinks"].([]any)
	if len(links) != 1 || links[0].(map[string]any)["lastUsedAt"] == nil || links[0].(map[string]any)["url"] != nil ||
		links[0].(map[string]any)["alertPhone"] != "+86 139****9000" {
		t.Errorf("my page links = %v (want one, with its last use and masked alert number, without its URL)", links)
	}

	// Another senior cannot revoke it.
	_, other := f.signedIn(t, "signup-en")
	req = testenv.WithSession(readEvent(t, "family-link-revoke"), other)
	req.PathParameters = map[string]string{"id": linkID}
	if resp, _ := f.invoke(req); resp.StatusCode != 404 {
		t.Errorf("revoke by another senior: %d, want 404", resp.StatusCode)
	}
	if resp, _ := f.invoke(familyReq(t, token)); resp.StatusCode != 200 {
		t.Fatalf("link stopped working after a refused revoke: %d", resp.StatusCode)
	}

	// Its senior revokes it, and it stops working at once.
	req = testenv.WithSession(readEvent(t, "family-link-revoke"), session)
	req.PathParameters = map[string]string{"id": linkID}
	resp, _ = f.invoke(req)
	if resp.StatusCode != 204 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, resp.Body)
	}
	resp, body = f.invoke(familyReq(t, token))
	if code, _ := errCode(body); resp.StatusCode != 404 || code != "family_link_not_found" {
		t.Errorf("revoked link: %d %s", resp.StatusCode, resp.Body)
	}
	if links, err := f.store.AlertLinks(ctx, storeID, memberID, f.now); err != nil || len(links) != 0 {
		t.Errorf("AlertLinks after revoking = %v, %v; want none", links, err)
	}

	// A link expires; garbage never reaches the table; at most ten at a time.
	resp, body = f.invoke(linkReq(t, session, withAlertPhone))
	url = body["url"].(string)
	expiring := url[strings.LastIndex(url, "/f/")+3:]
	for _, tok := range []string{"not-a-token", strings.Repeat("A", 43) + "=="} {
		if resp, _ := f.invoke(familyReq(t, tok)); resp.StatusCode != 404 {
			t.Errorf("token %q: %d, want 404", tok, resp.StatusCode)
		}
	}
	for i := 2; i <= 10; i++ {
		if resp, _ := f.invoke(linkReq(t, session, withAlertPhone)); resp.StatusCode != 201 {
			t.Fatalf("link %d: %d", i, resp.StatusCode)
		}
	}
	if resp, body := f.invoke(linkReq(t, session, withAlertPhone)); resp.StatusCode != 409 {
		t.Errorf("eleventh link: %d %v, want 409 too_many_family_links", resp.StatusCode, body)
	}
	if links, err := f.store.AlertLinks(ctx, storeID, memberID, f.now); err != nil || len(links) != 10 {
		t.Errorf("AlertLinks of ten links = %d, %v; want 10", len(links), err)
	}
	f.now = f.now.AddDate(0, 0, 30)
	if resp, _ := f.invoke(familyReq(t, expiring)); resp.StatusCode != 404 {
		t.Errorf("expired link: %d, want 404", resp.StatusCode)
	}
	if links, err := f.store.AlertLinks(ctx, storeID, memberID, f.now); err != nil || len(links) != 0 {
		t.Errorf("AlertLinks of expired links = %v, %v; want none", links, err)
	}
}

// A senior's own data: change it (consents recorded with time and version), export all of it,
// erase it — after which nothing of theirs answers and only anonymous counts remain.
func TestUpdateExportErase(t *testing.T) {
	f := newFixture(t)
	memberID, session := f.signedIn(t, "signup")
	resp, body := f.invoke(linkReq(t, session, withAlertPhone))
	if resp.StatusCode != 201 {
		t.Fatalf("create link: %d %s", resp.StatusCode, resp.Body)
	}
	url, _ := body["url"].(string)
	linkToken := url[strings.LastIndex(url, "/f/")+3:]

	for _, tt := range []struct{ event, code string }{
		{"me-update-withdraw-service", "consent_required"},
		{"me-update-phone", "unknown_field"},
	} {
		before := f.items()
		req := testenv.WithSession(readEvent(t, tt.event), session)
		resp, body := f.invoke(req)
		if code, _ := errCode(body); resp.StatusCode != 400 || code != tt.code || f.items() != before {
			t.Errorf("%s: %d %s (items %d → %d)", tt.event, resp.StatusCode, resp.Body, before, f.items())
		}
	}

	f.calls.Reset()
	req := testenv.WithSession(readEvent(t, "me-update"), session)
	resp, body = f.invoke(req)
	if resp.StatusCode != 200 || body["channel"] != "sms" {
		t.Fatalf("update: %d %s\nlogs:\n%s", resp.StatusCode, resp.Body, f.logs.String())
	}
	if n := f.calls.Total(); n > 3 {
		t.Errorf("update made %d AWS calls, want ≤ 3:\n%s", n, f.calls.Snapshot())
	}

	// What the senior keeps elsewhere: a reminder with their words in it, and a seat at a
	// doctor's session with their question — taken from a waiter by the erasure below.
	rem, waiter, sessionID := f.activity(t, memberID)
	pushedAt := f.promote(t, memberID)

	req = testenv.WithSession(readEvent(t, "me-export"), session)
	resp, body = f.invoke(req)
	if resp.StatusCode != 200 || body["phone"] != "+8613800138000" || !strings.Contains(resp.Headers["content-disposition"], "attachment") {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Body)
	}
	// The number the senior gave for their link's alerts is theirs to take away in full too.
	if links, _ := body["familyLinks"].([]any); len(links) != 1 || links[0].(map[string]any)["alertPhone"] != "+8613900139000" ||
		links[0].(map[string]any)["alertChannel"] != "voice" {
		t.Errorf("exported links = %v, want one with its alert number in full", body["familyLinks"])
	}
	history, _ := body["consentHistory"].([]any)
	if len(history) != 4 { // service, health, marketing at signup; marketing granted later
		t.Errorf("consent history = %v, want 4 records", history)
	}
	last := history[len(history)-1].(map[string]any)
	if last["kind"] != "marketing" || last["granted"] != true || last["version"] == "" {
		t.Errorf("last consent record = %v", last)
	}

	// Theirs, and the three their seat brought (the notice, the day before, an hour before).
	if rs, _ := body["reminders"].([]any); len(rs) != 4 || rs[0].(map[string]any)["id"] != rem || rs[0].(map[string]any)["text"] != "该吃降压药了" {
		t.Errorf("exported reminders = %v", body["reminders"])
	}
	if bs, _ := body["bookings"].([]any); len(bs) != 1 || bs[0].(map[string]any)["question"] != "血压高能吃鸡蛋吗？" ||
		bs[0].(map[string]any)["status"] != "confirmed" {
		t.Errorf("exported bookings = %v", body["bookings"])
	}
	// The promotion they were sent this week, from the weekly budget's ledger.
	if ps, _ := body["pushes"].([]any); len(ps) != 1 || ps[0].(map[string]any)["campaignId"] != "C1" ||
		ps[0].(map[string]any)["kind"] != "promotion" || ps[0].(map[string]any)["at"] != pushedAt.Format(time.RFC3339) {
		t.Errorf("exported pushes = %v, want campaign C1 at %v", body["pushes"], pushedAt)
	}

	req = testenv.WithSession(readEvent(t, "me-erase"), session)
	resp, _ = f.invoke(req)
	if resp.StatusCode != 204 || len(resp.Cookies) != 1 || !strings.Contains(resp.Cookies[0], "Max-Age=0") {
		t.Fatalf("erase: %d %v", resp.StatusCode, resp.Cookies)
	}
	if resp, _ := f.invoke(testenv.WithSession(readEvent(t, "me"), session)); resp.StatusCode != 401 {
		t.Errorf("my page after erasure: %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.invoke(familyReq(t, linkToken)); resp.StatusCode != 404 {
		t.Errorf("family link after erasure: %d, want 404", resp.StatusCode)
	}
	// Their seat went to the one waiting for it.
	if b, err := f.store.GetBooking(context.Background(), storeID, sessionID, waiter); err != nil || b.Status != qa.BookingConfirmed {
		t.Errorf("the waiter after the erasure: %+v, %v; want confirmed", b, err)
	}
	// Nothing with the member's id or phone remains; the group's anonymous counts do, and so
	// does the campaign's chunk, which names its recipients by id alone and expires with
	// dynamostore.CampaignRetention (an id that, with the profile gone, points at nobody).
	out, err := f.env.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: strPtr(f.env.TableName())})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		raw, _ := json.Marshal(it)
		s := string(raw)
		personal := strings.Contains(s, phoneDigits) || strings.Contains(s, "13900139000") || strings.Contains(s, "王秀英")
		switch {
		case !personal && !strings.Contains(s, memberID):
		case strings.Contains(s, "OUTBOX"): // the development outbox keeps what it "sent" for 7 days
		case strings.Contains(s, `"offerchunk"`) && !personal:
		default:
			t.Errorf("erasure left an item: %s", s)
		}
	}
}

// promote sends memberID a promotion as the fan-out writes one — a chunk naming them, with the
// send counted in their ledger — and returns the time it was counted at.
func (f *fixture) promote(t *testing.T, memberID string) time.Time {
	t.Helper()
	ctx := context.Background()
	rs, err := f.store.Recipients(ctx, storeID, []string{memberID})
	if err != nil {
		t.Fatal(err)
	}
	at := f.now.UTC().Truncate(time.Second)
	ch := dynamostore.OfferChunk{Code: promo.ChunkCode([]byte("test-key"), storeID, "C1", 0, 0, 0), StoreID: storeID, CampaignID: "C1",
		GroupID: "g1", Members: []string{memberID}, ExpiresAt: at.Add(dynamostore.CampaignRetention)}
	err = f.store.WriteChunk(ctx, dynamostore.ChunkWrite{Chunk: ch, Recipients: []dynamostore.Recipient{rs[memberID]},
		Kind: promo.KindPromotion, At: at, Stats: promo.Stats{Audience: 1, Queued: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// activity gives memberID a reminder and the one seat of a doctor's session, with another member
// waiting for it; it returns the reminder's id, the waiter's id and the session's.
func (f *fixture) activity(t *testing.T, memberID string) (reminderID, waiter, sessionID string) {
	t.Helper()
	ctx := context.Background()
	key := []byte("test-key") // the handler's Deps.Key: it derives the page links erasure removes
	r, err := reminder.New(reminder.Draft{Kind: reminder.KindMedication, Text: "该吃降压药了", Rule: reminder.Rule{
		Freq: reminder.FreqDaily, Start: "2026-11-24", At: "08:00"}}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	r.ID, r.StoreID, r.MemberID, r.CreatedBy, r.CreatedVia = ids.New(), storeID, memberID, memberID, reminder.ViaMember
	if err := f.store.CreateReminder(ctx, r, member.HashToken(reminder.LinkToken(key, storeID, r.ID))); err != nil {
		t.Fatal(err)
	}
	doc := qa.Doctor{ID: ids.New(), StoreID: storeID, Name: "张医生", CreatedAt: f.now}
	if err := f.store.CreateDoctor(ctx, doc); err != nil {
		t.Fatal(err)
	}
	sess, err := qa.NewSession(qa.SessionDraft{DoctorID: doc.ID, Title: "高血压讲座", StartAt: f.now.Add(72 * time.Hour),
		EndAt: f.now.Add(73 * time.Hour), Place: qa.Place{Kind: qa.PlaceStore}, Capacity: 1}, doc, "Asia/Shanghai", f.now)
	if err != nil {
		t.Fatal(err)
	}
	sess.ID, sess.StoreID = ids.New(), storeID
	if err := f.store.CreateQASession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	waiter, _ = f.signedIn(t, "signup-en")
	for _, m := range []string{memberID, waiter} {
		if _, err := f.store.Book(ctx, dynamostore.BookRequest{StoreID: storeID, SessionID: sess.ID, MemberID: m,
			Question: qa.Question{Text: "血压高能吃鸡蛋吗？"}, Via: reminder.ViaMember, By: m,
			LinkHash: member.HashToken(qa.BookingToken(key, storeID, sess.ID, m)),
			Notices:  dynamostore.Notices(key, m, reminder.ViaMember, f.now), Now: f.now}); err != nil {
			t.Fatal(err)
		}
	}
	return r.ID, waiter, sess.ID
}

// A member's referral code brings a neighbour in, and the join records who brought whom.
func TestReferral(t *testing.T) {
	f := newFixture(t)
	referrerID, session := f.signedIn(t, "signup")
	req := testenv.WithSession(readEvent(t, "me-referral"), session)
	resp, body := f.invoke(req)
	if resp.StatusCode != 201 {
		t.Fatalf("referral: %d %s", resp.StatusCode, resp.Body)
	}
	code := body["code"].(string)
	if again, body2 := f.invoke(req); again.StatusCode != 200 || body2["code"] != code {
		t.Errorf("asking again: %d %v, want 200 with %s", again.StatusCode, body2, code)
	}
	friendReq := readEvent(t, "signup-en")
	var b map[string]any
	_ = json.Unmarshal([]byte(friendReq.Body), &b)
	b["code"] = code
	raw, _ := json.Marshal(b)
	friendReq.Body = string(raw)
	resp, body = f.invoke(friendReq)
	if resp.StatusCode != 201 {
		t.Fatalf("join by referral: %d %s", resp.StatusCode, resp.Body)
	}
	friendID := body["memberId"].(string)
	if resp, _ := f.invoke(verifyReq(t, friendID, f.lastOTP(friendID))); resp.StatusCode != 200 {
		t.Fatalf("verify: %d", resp.StatusCode)
	}
	ms, err := f.store.GetMembership(context.Background(), storeID, friendID, "01JDQ7Z6W3V8G0X5Y4K2M9N1PA")
	if err != nil || ms.Path != "referral" || ms.ReferrerID != referrerID {
		t.Errorf("friend's membership = %+v (%v), want path referral from %s", ms, err, referrerID)
	}
}

// Failed lookups of family tokens and join codes are limited per client address: after
// MaxGuesses misses in a window, even a valid token answers 429 to that address, while another
// address is unaffected. A valid lookup is never counted.
func TestGuessingIsLimited(t *testing.T) {
	f := newFixture(t)
	_, session := f.signedIn(t, "signup")
	resp, body := f.invoke(linkReq(t, session, withAlertPhone))
	if resp.StatusCode != 201 {
		t.Fatalf("create link: %d %s", resp.StatusCode, resp.Body)
	}
	url := body["url"].(string)
	token := url[strings.LastIndex(url, "/f/")+3:]
	from := func(req events.APIGatewayV2HTTPRequest, ip string) events.APIGatewayV2HTTPRequest {
		req.RequestContext.HTTP.SourceIP = ip
		return req
	}
	for i := 0; i < 5; i++ { // valid lookups are never counted
		if resp, _ := f.invoke(from(familyReq(t, token), "198.51.100.7")); resp.StatusCode != 200 {
			t.Fatalf("valid lookup %d: %d", i, resp.StatusCode)
		}
	}
	for i := 0; i < dynamostore.MaxGuesses; i++ {
		guess := token[:len(token)-4] + fmt.Sprintf("%04d", i) // right shape, wrong token
		if i%2 == 1 {
			guess = "garbage" // wrong shape: never reaches the lookup, still counted
		}
		if resp, _ := f.invoke(from(familyReq(t, guess), "198.51.100.7")); resp.StatusCode != 404 {
			t.Fatalf("guess %d: %d, want 404", i, resp.StatusCode)
		}
	}
	resp, body = f.invoke(from(familyReq(t, token), "198.51.100.7"))
	if code, _ := errCode(body); resp.StatusCode != 429 || code != "rate_limited" {
		t.Errorf("after %d misses: %d %s, want 429 rate_limited", dynamostore.MaxGuesses, resp.StatusCode, resp.Body)
	}
	if resp, _ := f.invoke(from(familyReq(t, token), "203.0.113.50")); resp.StatusCode != 200 {
		t.Errorf("another address: %d, want 200", resp.StatusCode)
	}
	// Join codes are limited the same way, separately.
	for i := 0; i < dynamostore.MaxGuesses; i++ {
		if resp, _ := f.invoke(from(readEvent(t, "join-info-unknown"), "198.51.100.8")); resp.StatusCode != 404 {
			t.Fatalf("code guess %d: %d", i, resp.StatusCode)
		}
	}
	if resp, _ := f.invoke(from(readEvent(t, "join-info"), "198.51.100.8")); resp.StatusCode != 429 {
		t.Errorf("valid code after %d misses: %d, want 429", dynamostore.MaxGuesses, resp.StatusCode)
	}
	// The window passes.
	f.now = f.now.Add(dynamostore.GuessWindow)
	if resp, _ := f.invoke(from(readEvent(t, "join-info"), "198.51.100.8")); resp.StatusCode != 200 {
		t.Errorf("next window: %d, want 200", resp.StatusCode)
	}
}

// Package latency measures the main API routes — signup, my page, booking, campaign create —
// on Lambda's JSON path against the local stack under a bounded concurrent load, beside a bare
// SDK script that makes the same DynamoDB calls, so the handler's overhead is a ratio; and it
// asserts each route's exact AWS calls.
//
// Everything is set up through the routes themselves (a group by staff, members who sign up and
// verify with the code the outbox received, a doctor's sessions, campaigns), the handlers are
// built by each function's own Wire from its template environment, and one SDK middleware
// counts every call they make.
package latency

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"yinling/functions/admin"
	"yinling/functions/promotions"
	"yinling/functions/qa"
	"yinling/functions/signup"
	"yinling/shared/awscalls"
	"yinling/shared/dynamostore"
	"yinling/shared/envconfig"
	"yinling/shared/lambdamain"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
)

// storeID is the store the sample events' staff claims name.
const storeID = "s-test"

type fixture struct {
	t     testing.TB
	env   *testenv.Env
	calls *awscalls.Counter
	store *dynamostore.Store

	admin, signup, qa, promotions lambda.Handler

	groupID, joinCode, doctorID string
	sessions                    []string // members' session tokens
	phones                      int      // phone numbers handed out
}

// newFixture builds the four handlers and a store with one open group of members verified
// members.
func newFixture(t testing.TB, members int) *fixture {
	t.Helper()
	f := &fixture{t: t, calls: &awscalls.Counter{}}
	f.env = testenv.New(t, testenv.WithAPIOptions(f.calls.Register))
	f.store = dynamostore.New(f.env.DynamoDB, f.env.TableName())
	now := time.Now().UTC()
	if err := f.store.CreateStore(context.Background(), tenant.Store{ID: storeID, Name: "幸福里药房",
		TimeZone: tenant.DefaultTimeZone, PushCap: 2, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// Signup's metrics go to the process's stdout (EMF, as in Lambda); here they would bury the
	// benchmark's lines, so stdout is /dev/null while the handlers are wired.
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = devnull
	f.admin = wire(f, "admin", admin.Wire, (*admin.Handler).Handle)
	f.signup = wire(f, "signup", signup.Wire, (*signup.Handler).Handle)
	f.qa = wire(f, "qa", qa.Wire, (*qa.Handler).Handle)
	f.promotions = wire(f, "promotions", promotions.Wire, (*promotions.Handler).Handle)
	os.Stdout = stdout
	t.Cleanup(func() { devnull.Close() })

	body := f.call(f.admin, withBody(testenv.Event(t, "admin", "create-group"),
		`{"name":"幸福里健康群","covenant":"互相尊重，不发广告。","entryRule":"open","pushCap":2}`), 201)
	f.groupID, _ = body["id"].(string)
	f.joinCode, _ = body["joinCode"].(string)
	if f.groupID == "" || f.joinCode == "" {
		t.Fatalf("create group answered %v", body)
	}
	body = f.call(f.qa, testenv.Event(t, "qa", "staff-create-doctor"), 201)
	if f.doctorID, _ = body["id"].(string); f.doctorID == "" {
		t.Fatalf("create doctor answered %v", body)
	}
	for range members {
		f.sessions = append(f.sessions, f.join())
	}
	f.calls.Reset()
	return f
}

// wire builds a function's handler as its main does, from its template environment (messages
// to the outbox, as in the local stack).
func wire[E, H, In, Out any](f *fixture, fn string, build lambdamain.Builder[E, H], handle lambdamain.Method[H, In, Out]) lambda.Handler {
	f.t.Helper()
	vars := f.env.FunctionEnv(fn)
	if _, ok := vars["NOTIFY_MODE"]; ok {
		vars["NOTIFY_MODE"] = "outbox"
	}
	var env E
	if err := envconfig.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, &env); err != nil {
		f.t.Fatalf("%s: %v", fn, err)
	}
	return lambda.NewHandler(lambdamain.Bind(build(env, f.env.AWS, slog.New(slog.NewTextHandler(io.Discard, nil))), handle))
}

// invoke sends req to h on Lambda's JSON path and returns the status and decoded body.
func invoke(h lambda.Handler, req events.APIGatewayV2HTTPRequest) (int, map[string]any, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return 0, nil, err
	}
	out, err := h.Invoke(context.Background(), in)
	if err != nil {
		return 0, nil, err
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, nil, err
	}
	var body map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &body)
	return resp.StatusCode, body, nil
}

// call is invoke that fails the test unless the status is want.
func (f *fixture) call(h lambda.Handler, req events.APIGatewayV2HTTPRequest, want int) map[string]any {
	f.t.Helper()
	status, body, err := invoke(h, req)
	if err != nil {
		f.t.Fatal(err)
	}
	if status != want {
		f.t.Fatalf("%s: %d, want %d: %v", req.RouteKey, status, want, body)
	}
	return body
}

// signupReq is a signup to the fixture's group with a phone number of its own, from an address
// of its own (the route limits guesses per address).
func (f *fixture) signupReq() events.APIGatewayV2HTTPRequest {
	f.phones++
	n := f.phones
	req := testenv.Event(f.t, "signup", "signup")
	req.Body = fmt.Sprintf(`{"code":%q,"name":"会员%s","phone":"139%08d","birthYear":1952,"gender":"female",`+
		`"consents":{"service":true,"health":true,"marketing":true},"acceptCovenant":true}`, f.joinCode, hanzi(n), n)
	req.RequestContext.HTTP.SourceIP = fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
	return req
}

// hanzi writes n in Chinese numerals: names may hold no digits.
func hanzi(n int) string {
	const digits = "零一二三四五六七八九"
	var sb strings.Builder
	for _, d := range fmt.Sprint(n) {
		sb.WriteString(string([]rune(digits)[d-'0']))
	}
	return sb.String()
}

var otpPattern = regexp.MustCompile(`\b\d{6}\b`)

// join signs a member up, verifies them with the code the outbox received, and returns their
// session token.
func (f *fixture) join() string {
	f.t.Helper()
	body := f.call(f.signup, f.signupReq(), 201)
	memberID, _ := body["memberId"].(string)
	page, err := f.store.ListOutbox(context.Background(), storeID, "", 10)
	if err != nil {
		f.t.Fatal(err)
	}
	otp := ""
	for _, e := range page.Items { // newest first
		if e.MemberID == memberID {
			otp = otpPattern.FindString(e.Text)
			break
		}
	}
	if otp == "" {
		f.t.Fatalf("no code for %s in the outbox", memberID)
	}
	req := testenv.Event(f.t, "signup", "verify")
	req.Body = `{"memberId":"` + memberID + `","otp":"` + otp + `"}`
	body = f.call(f.signup, req, 200)
	token, _ := body["token"].(string)
	if token == "" {
		f.t.Fatalf("verify answered %v", body)
	}
	return token
}

// newSession makes a Q&A session with seats for everyone, starting in two days.
func (f *fixture) newSession(seats int) string {
	f.t.Helper()
	start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
	req := withBody(testenv.Event(f.t, "qa", "staff-create-session"), fmt.Sprintf(
		`{"doctorId":%q,"title":"高血压健康讲座","startAt":%q,"endAt":%q,"place":{"kind":"store","address":"二楼活动室"},"capacity":%d}`,
		f.doctorID, start.Format(time.RFC3339), start.Add(90*time.Minute).Format(time.RFC3339), seats))
	body := f.call(f.qa, req, 201)
	id, _ := body["id"].(string)
	if id == "" {
		f.t.Fatalf("create session answered %v", body)
	}
	return id
}

// bookReq is member i's booking of session.
func (f *fixture) bookReq(session string, i int) events.APIGatewayV2HTTPRequest {
	return testenv.WithSession(testenv.WithParam(testenv.Event(f.t, "qa", "book"), "id", session), f.sessions[i])
}

// meReq is member i's my page.
func (f *fixture) meReq(i int) events.APIGatewayV2HTTPRequest {
	return testenv.WithSession(testenv.Event(f.t, "signup", "me"), f.sessions[i])
}

// campaignReq creates a campaign to the group, sent tomorrow, under its own idempotency key.
func (f *fixture) campaignReq(n int) events.APIGatewayV2HTTPRequest {
	req := testenv.Event(f.t, "promotions", "create")
	send := time.Now().UTC().Add(26 * time.Hour).Truncate(time.Hour)
	req.Body = fmt.Sprintf(`{"kind":"promotion","title":"土鸡蛋特惠 %d","body":"新鲜土鸡蛋一盒30枚，本周到店领取。",`+
		`"audience":{"groups":[%q]},"channel":"sms","sendAt":%q,"offer":{"prices":{"member":1990,"leader":1590,"partner":990},`+
		`"pickupPlace":"一楼收银台","pickupFrom":%q,"pickupUntil":%q}}`, n, f.groupID, send.Format(time.RFC3339),
		send.Add(time.Hour).Format(time.RFC3339), send.Add(5*24*time.Hour).Format(time.RFC3339))
	h := map[string]string{}
	for k, v := range req.Headers {
		h[k] = v
	}
	h["idempotency-key"] = fmt.Sprintf("6f1c2a8e-3d4b-4c7a-9e10-%012d", n)
	req.Headers = h
	return req
}

func withBody(req events.APIGatewayV2HTTPRequest, body string) events.APIGatewayV2HTTPRequest {
	req.Body = body
	return req
}

// scans is how many Scan calls a snapshot holds: every request path must make none.
func scans(c awscalls.Calls) int {
	n := 0
	for op, v := range c.Count {
		if strings.HasSuffix(op, ".Scan") {
			n += v
		}
	}
	return n
}

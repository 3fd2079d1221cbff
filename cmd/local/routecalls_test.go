package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"yinling/shared/awscalls"
	"yinling/shared/dynamostore"
	"yinling/shared/promo"
	"yinling/shared/sam"
	"yinling/tests/isolation"
)

var updateRouteCalls = flag.Bool("update", false, "TestCallsPerRoute: rewrite "+routeCallsGolden+" with the counts measured")

// routeCallsGolden holds each route's exact AWS calls, one line per route of template.yaml.
const routeCallsGolden = "testdata/route_calls.golden"

// dynamoBudget is DESIGN.md §8's most DynamoDB calls one API request may make.
const dynamoBudget = 3

// overBudget are the routes allowed more than dynamoBudget DynamoDB calls, each with its
// maximum and why. An entry whose route is back within the budget fails the test: remove it.
var overBudget = map[string]struct {
	max int
	why string
}{
	// The way in: the code and the caller's failed lookups; store, group and phone; the join;
	// and the outbox's write of the one-time code's SMS, which stands in for the SMS provider.
	"POST /api/signup": {4, "the fourth is the outbox write standing in for the SMS provider's call"},
	// A cancellation reads the session with the head of its waitlist (one Query) and the booking,
	// then writes the cancellation, its reminders' and the seat's hand-over in one transaction;
	// with the caller's credential that is four.
	"POST /api/b/{token}/cancel":                      {4, "cancellation: credential, session and waitlist head, booking, transaction"},
	"DELETE /api/family/{token}/bookings/{sessionId}": {4, "cancellation: credential, session and waitlist head, booking, transaction"},
	"DELETE /api/sessions/{id}/bookings/me":           {4, "cancellation: credential, session and waitlist head, booking, transaction"},
	// Creating a reminder counts the member's live reminders first (a Query over their list,
	// reminder.MaxPerMember), besides the credential, the member and the transaction.
	"POST /api/me/reminders":             {4, "credential, member and store, count of live reminders, transaction"},
	"POST /api/family/{token}/reminders": {4, "credential, member and store, count of live reminders, transaction"},
	// The upcoming sessions with the caller's own bookings of them: the credential, the sessions
	// and the member's partition (two Queries, in parallel), and the booked ones' bookings.
	"GET /api/sessions":                {4, "credential, sessions, member's partition, their bookings of the listed sessions"},
	"GET /api/family/{token}/sessions": {4, "credential, sessions, member's partition, their bookings of the listed sessions"},
	// A broadcast writes one reminder (and its page link) per member of the group, 25 items a
	// BatchWriteItem, after reading the group (its robot), its members, the store (time zone)
	// and the last reminder (a retry's). Six for the fixture's group of two and a robot.
	"POST /api/admin/groups/{id}/reminders": {6, "a write per 12 members of the group, after the group, members, store and retry check"},
	// The senior's copy of everything: session, partition, consent history, reminders, booking
	// copies and bookings. Rare, and paginated by the table, not by the client.
	"GET /api/me/export": {6, "session, partition, consent history, reminders, booking copies, bookings"},
	// Erasure deletes everything the senior left: for booking copies, reminders (their bookings'
	// ones too) and consent history a Query and a BatchWriteItem per 25 deletions, besides the
	// session, the partition and one transaction. Ten for the fixture's senior.
	"DELETE /api/me": {10, "erasure: a read and a batch delete per kind of item the senior left"},
}

// TestCallsPerRoute calls every HttpApi route of template.yaml once — through the local gateway
// and its JWT authorizer, as the route's rightful caller (the store's staff, the senior's session,
// the family link, the capability token of the page), with a request that succeeds — and counts
// the AWS calls the request made, per "Service.Operation", with the SDK middleware of
// shared/awscalls on every client of the stack. The stack's queue pollers and schedules are not
// running, so every call counted is the request's. The counts must equal the golden file's
// (go test ./cmd/local -run TestCallsPerRoute -update rewrites it), no route may Scan, and none
// may make more than dynamoBudget DynamoDB calls unless overBudget says why.
func TestCallsPerRoute(t *testing.T) {
	var calls awscalls.Counter
	s := startIsoStack(t, func(c *aws.Config) { c.APIOptions = append(c.APIOptions, calls.Register) })
	targets := s.targets(t)
	sortDeletionsLast(targets)
	f := newCallsFixture(t, s, s.template(t))

	keys := map[string]bool{}
	var lines []string
	unmeasured := 0
	byDynamo := map[int]int{} // routes by their DynamoDB calls
	for i, tg := range targets {
		key := tg.Route.Key()
		keys[key] = true
		sp := f.special[key]
		req, hdr := f.request(t, tg, sp)
		ip := fmt.Sprintf("127.66.%d.%d", 1+i/250, 1+i%250)
		calls.Reset()
		got := s.do(t, ip, req.Method, req.Path, req.Query, req.Body, hdr)
		used := calls.Snapshot()
		if got.status < 200 || got.status >= 400 {
			t.Errorf("%s (%s): status %d, want 2xx or 3xx: the route's calls are not measured\n%s", key, req.Path, got.status, got.body)
			unmeasured++
			continue
		}
		if sp.after != nil {
			sp.after(t, got)
		}
		lines = append(lines, routeCallsLine(key, used))
		if n := used.Count["DynamoDB.Scan"]; n != 0 {
			t.Errorf("%s: %d DynamoDB Scan calls, want none", key, n)
		}
		dynamo := used.Of("DynamoDB")
		byDynamo[min(dynamo, dynamoBudget+1)]++
		ex, excepted := overBudget[key]
		switch {
		case excepted && dynamo <= dynamoBudget:
			t.Errorf("%s: %d DynamoDB calls, within the budget of %d: remove it from overBudget", key, dynamo, dynamoBudget)
		case excepted && dynamo > ex.max:
			t.Errorf("%s: %d DynamoDB calls, over its exception's %d (%s)\n%s", key, dynamo, ex.max, ex.why, used)
		case !excepted && dynamo > dynamoBudget:
			t.Errorf("%s: %d DynamoDB calls, over the budget of %d\n%s", key, dynamo, dynamoBudget, used)
		}
	}
	for key := range overBudget {
		if !keys[key] {
			t.Errorf("overBudget names %s, which is not a route of template.yaml", key)
		}
	}
	for key := range f.special {
		if !keys[key] {
			t.Errorf("the fixture prepares %s, which is not a route of template.yaml", key)
		}
	}
	t.Logf("%d routes: %d make no DynamoDB call, %d one, %d two, %d three, %d more (overBudget)",
		len(targets), byDynamo[0], byDynamo[1], byDynamo[2], byDynamo[3], byDynamo[dynamoBudget+1])
	if unmeasured > 0 {
		return // the golden file would lose their lines
	}
	if *updateRouteCalls {
		writeRouteCalls(t, lines)
		return
	}
	compareRouteCalls(t, lines)
}

// routeCallsLine is a route's line of the golden file: its requests per operation, their total,
// and the DynamoDB capacity units they consumed (every dynamostore call asks for them):
//
//	GET /api/me  DynamoDB.BatchGetItem=1 DynamoDB.GetItem=1 DynamoDB.Query=1  total=3  cu=3
func routeCallsLine(key string, c awscalls.Calls) string {
	var ops []string
	for _, k := range slices.Sorted(maps.Keys(c.Count)) {
		ops = append(ops, fmt.Sprintf("%s=%d", k, c.Count[k]))
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	cu := 0.0
	for _, v := range c.Capacity {
		cu += v.Units
	}
	return fmt.Sprintf("%-50s  %s  total=%d  cu=%g", key, strings.Join(ops, " "), c.Total(), cu)
}

// routeKeyOf splits a golden line into its route key and its counts, spaces normalised.
func routeKeyOf(line string) (key, counts string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return "", "", false
	}
	return f[0] + " " + f[1], strings.Join(f[2:], " "), true
}

const routeCallsHeader = `# The exact AWS calls of one request of each HttpApi route of template.yaml, as its rightful
# caller makes it with the data of cmd/local's TestCallsPerRoute (one store, a senior with
# reminders, bookings and family links): "Service.Operation=requests", their total, and the
# DynamoDB capacity units they consumed as DynamoDB Local reports them (its accounting is close
# to DynamoDB's, not the bill: take cu as a comparison between routes and between versions).
# Regenerate: go run ./cmd/local test -- go test -count=1 -run TestCallsPerRoute ./cmd/local/ -update
`

func writeRouteCalls(t *testing.T, lines []string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(routeCallsGolden), 0o755); err != nil {
		t.Fatal(err)
	}
	body := routeCallsHeader + strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(routeCallsGolden, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d routes", routeCallsGolden, len(lines))
}

func compareRouteCalls(t *testing.T, lines []string) {
	t.Helper()
	b, err := os.ReadFile(routeCallsGolden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	want := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, c, ok := routeKeyOf(l)
		if !ok {
			t.Fatalf("%s: malformed line %q", routeCallsGolden, l)
		}
		want[k] = c
	}
	seen := map[string]bool{}
	for _, l := range lines {
		k, c, _ := routeKeyOf(l)
		seen[k] = true
		w, ok := want[k]
		switch {
		case !ok:
			t.Errorf("%s has no line in %s (run with -update to add it): measured %s", k, routeCallsGolden, c)
		case w != c:
			t.Errorf("%s: AWS calls changed (run with -update if intended)\n  golden:   %s\n  measured: %s", k, w, c)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("%s names %s, which is not a route of template.yaml (run with -update)", routeCallsGolden, k)
		}
	}
	if !t.Failed() {
		t.Logf("%d routes measured, as %s says", len(lines), routeCallsGolden)
	}
}

// callsFixture is the store every route is called on: the isolation matrix's seeded store A
// (s.seed) and what some routes need besides, so that each request succeeds and does its full
// work (a cancellation cancels a live booking, an acknowledgement acknowledges a sent reminder).
type callsFixture struct {
	s     *isoStack
	a     *tenantData
	shift time.Duration
	// tokens are the capability tokens by the path prefix that takes them.
	tokens map[string]string
	// special are the routes that need more than the store's objects, by route key.
	special map[string]routeSpecial
}

// routeSpecial is what one route needs besides the store's objects and its caller's credential.
type routeSpecial struct {
	// objects replace the store's of the same kind: what the route changes or deletes must not
	// be what another route reads or deletes.
	objects isolation.Objects
	// session is the member session to call with instead of the seeded senior's.
	session string
	// edit changes the request just before it is sent (not counted).
	edit func(t *testing.T, req *isolation.Request)
	// after reads the answer.
	after func(t *testing.T, got answer)
}

func newCallsFixture(t *testing.T, s *isoStack, tmpl *sam.Template) *callsFixture {
	t.Helper()
	ctx := context.Background()
	a, shift := s.seedDemo(t)
	f := &callsFixture{s: s, a: a, shift: shift, tokens: map[string]string{}, special: map[string]routeSpecial{}}
	staff, me := bearer(a.staff), sessionHdr(a.session)
	objs := a.objects
	// A second senior of the group: the first time they ask for a referral code or unsubscribe
	// (the seeded senior has their code already, and unsubscribes through an offer first).
	a2, a2Session := s.signup(t, a, objs[isolation.Code], "甲二妹", "137 0013 7000")

	// The group's WeCom robot, which the broadcast sample posts to as well.
	s.must(t, http.StatusOK, "PATCH", "/api/admin/groups/"+objs[isolation.Group], `{"robotKey":"5f3c2a9e-8d41-4b7a-9c0e-2f6d1a3b4c5d"}`, staff)

	// The reminder page of the seeded reminder, sent once (as the dispatcher would mark it), so
	// that the page shows an occurrence and "收到" acknowledges it.
	for _, it := range jsonItems(s.must(t, http.StatusOK, "GET", "/api/me/reminders", "", me), "reminders") {
		if isoStr(it, "id") == objs[isolation.Reminder] {
			f.setToken(t, "/r/", isoStr(it, "link"))
		}
	}
	rem, err := s.store.GetReminder(ctx, demoStoreID, objs[isolation.Reminder])
	if err != nil {
		t.Fatal(err)
	}
	sent := rem
	sent.LastAt = time.Now().UTC().Add(-time.Minute).Truncate(time.Minute)
	if err := s.store.UpdateReminder(ctx, sent, rem.UpdatedAt); err != nil {
		t.Fatal(err)
	}

	// The booking page of the seeded booking.
	for _, it := range jsonItems(s.must(t, http.StatusOK, "GET", "/api/me/bookings", "", me), "bookings") {
		if isoStr(it, "sessionId") == objs[isolation.Session] {
			f.setToken(t, "/b/", isoStr(it, "link"))
		}
	}
	f.tokens["/f/"] = a.links[0]
	f.tokens["/api/family/"] = a.links[0]

	// Each deletion of a reminder cancels a live one of its own, made by its own kind of caller.
	day := time.Now().In(mustZone(t)).AddDate(0, 0, 3).Format(time.DateOnly)
	reminderBody := func(text string) string {
		return fmt.Sprintf(`{"kind":"checkup","text":%q,"rule":{"freq":"once","start":%q,"at":"10:00"}}`, text, day)
	}
	staffRem := s.must(t, http.StatusCreated, "POST", "/api/admin/members/"+objs[isolation.Member]+"/reminders", reminderBody("到店量血压"), staff)
	familyRem := s.must(t, http.StatusCreated, "POST", "/api/family/"+a.links[0]+"/reminders", reminderBody("去社区医院复查"), nil)
	myRem := s.must(t, http.StatusCreated, "POST", "/api/me/reminders", reminderBody("买菜"), me)
	f.special["DELETE /api/admin/members/{id}/reminders/{rid}"] = routeSpecial{objects: isolation.Objects{isolation.Reminder: isoStr(staffRem, "id")}}
	f.special["DELETE /api/family/{token}/reminders/{id}"] = routeSpecial{objects: isolation.Objects{isolation.Reminder: isoStr(familyRem, "id")}}
	f.special["DELETE /api/me/reminders/{id}"] = routeSpecial{objects: isolation.Objects{isolation.Reminder: isoStr(myRem, "id")}}

	// A family link of its own to revoke (the seeded one serves the family routes).
	link := s.must(t, http.StatusCreated, "POST", "/api/me/family-links", `{"label":"孙女","scope":"view","alerts":false,"ttlDays":30}`, me)
	f.special["DELETE /api/me/family-links/{id}"] = routeSpecial{objects: isolation.Objects{isolation.FamilyLink: isoStr(link, "id")}}

	// Sessions of their own: one to cancel with a booking in it, one that has started (attendance
	// is recorded only then), and one each for the senior and the family to book and cancel. The
	// second senior books the first two: the started one is moved into the past behind the copy
	// of the booking in the senior's partition, which erasing that senior would trip on.
	newSession := func(title string) string {
		start := time.Now().UTC().Add(shift).Truncate(time.Hour)
		sess := s.must(t, http.StatusCreated, "POST", "/api/admin/sessions", fmt.Sprintf(
			`{"doctorId":%q,"title":%q,"startAt":%q,"endAt":%q,"place":{"kind":"store","address":"二楼"},"capacity":5}`,
			objs[isolation.Doctor], title, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)), staff)
		return isoStr(sess, "id")
	}
	book := func(session string, who http.Header) {
		s.must(t, http.StatusCreated, "POST", "/api/sessions/"+session+"/bookings", `{"question":"血压高能运动吗？"}`, who)
	}
	cancelled, started := newSession("取消的讲座"), newSession("已开始的讲座")
	book(cancelled, sessionHdr(a2Session))
	book(started, sessionHdr(a2Session))
	sess, err := s.store.GetQASession(ctx, demoStoreID, started)
	if err != nil {
		t.Fatal(err)
	}
	moved := sess
	moved.StartAt = time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	moved.EndAt = moved.StartAt.Add(time.Hour)
	if moved.ClosesAt.After(moved.StartAt) {
		moved.ClosesAt = moved.StartAt
	}
	if err := s.store.UpdateQASession(ctx, moved, sess.UpdatedAt); err != nil {
		t.Fatal(err)
	}
	f.special["POST /api/admin/sessions/{id}/cancel"] = routeSpecial{objects: isolation.Objects{isolation.Session: cancelled}}
	f.special["PATCH /api/admin/sessions/{id}/bookings/{memberId}"] = routeSpecial{objects: isolation.Objects{isolation.Session: started, isolation.Member: a2}}
	familySession, mySession := newSession("家属预约的讲座"), newSession("自己预约的讲座")
	for _, k := range []string{"POST /api/family/{token}/bookings", "DELETE /api/family/{token}/bookings/{sessionId}"} {
		f.special[k] = routeSpecial{objects: isolation.Objects{isolation.Session: familySession}}
	}
	for _, k := range []string{"POST /api/sessions/{id}/bookings", "DELETE /api/sessions/{id}/bookings/me"} {
		f.special[k] = routeSpecial{objects: isolation.Objects{isolation.Session: mySession}}
	}

	// The first referral code and unsubscription of a senior.
	f.special["POST /api/me/referral"] = routeSpecial{session: a2Session}
	f.special["POST /api/unsubscribe"] = routeSpecial{session: a2Session}

	// An offer sent now, fanned out by the fan-out function: its page's token.
	f.offerToken(t, tmpl)

	// A new senior joins with the group's code and verifies with the one-time code the outbox got.
	var joined string
	f.special["POST /api/signup"] = routeSpecial{
		edit: func(t *testing.T, req *isolation.Request) {
			var in map[string]any
			if err := json.Unmarshal([]byte(req.Body), &in); err != nil {
				t.Fatalf("POST /api/signup sample: %v", err)
			}
			in["code"], in["name"], in["phone"] = objs[isolation.Code], "丙翠花", "136 0013 6000" // a phone nobody has
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			req.Body = string(b)
		},
		after: func(t *testing.T, got answer) { joined = isoStr(got.json(t), "memberId") },
	}
	f.special["POST /api/signup/verify"] = routeSpecial{edit: func(t *testing.T, req *isolation.Request) {
		otp := ""
		for _, it := range jsonItems(s.must(t, http.StatusOK, "GET", "/api/admin/outbox", "", staff), "items") {
			if isoStr(it, "memberId") == joined && isoStr(it, "kind") == "otp" {
				if m := otpRE.FindStringSubmatch(isoStr(it, "text")); m != nil {
					otp = m[1]
				}
			}
		}
		if joined == "" || otp == "" {
			t.Fatalf("no one-time code in the outbox for the senior POST /api/signup made (%q)", joined)
		}
		req.Body = fmt.Sprintf(`{"memberId":%q,"otp":%q}`, joined, otp)
	}}
	return f
}

// offerToken creates a promotion sent now to the group, runs the stack's fan-out poller until
// the campaign's first chunk is written, and keeps the seeded senior's offer page token.
func (f *callsFixture) offerToken(t *testing.T, tmpl *sam.Template) {
	t.Helper()
	s, a := f.s, f.a
	start := time.Now().UTC().Add(f.shift).Truncate(time.Hour)
	camp := s.do(t, "127.0.0.1", "POST", "/api/admin/campaigns", nil, fmt.Sprintf(
		`{"kind":"promotion","title":"今日鸡蛋特惠","body":"本周到店领取。","audience":{"groups":[%q]},"channel":"sms",`+
			`"offer":{"prices":{"member":1990,"leader":1590,"partner":990},"pickupPlace":"一楼收银台","pickupFrom":%q,"pickupUntil":%q}}`,
		a.objects[isolation.Group], start.Format(time.RFC3339), start.Add(48*time.Hour).Format(time.RFC3339)),
		http.Header{"Authorization": {"Bearer " + a.staff}, "Idempotency-Key": {"calls-offer"}})
	if camp.status != http.StatusCreated {
		t.Fatalf("campaign: %d %s", camp.status, camp.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, _, err := s.store.Campaign(ctx, demoStoreID, isoStr(camp.json(t), "id"))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte(f.env(t, tmpl, "promotions")["PII_HASH_KEY"])
	if len(key) == 0 {
		t.Fatal("the promotions function has no PII_HASH_KEY")
	}

	i := slices.IndexFunc(s.st.summary, func(l string) bool { return strings.HasPrefix(l, "fanout ← SQS") })
	if i < 0 {
		t.Fatalf("no fan-out poller in %q", s.st.summary)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.st.runners[i](runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("fan-out poller: %v", err)
		}
	}()
	for ctx.Err() == nil {
		for n := range 4 {
			ch, err := s.store.OfferChunk(ctx, promo.ChunkCode(key, demoStoreID, c.ID, c.Run, 0, n))
			if errors.Is(err, dynamostore.ErrNoChunk) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if pos := slices.Index(ch.Members, a.member); pos >= 0 {
				f.tokens["/o/"] = promo.OfferToken(key, ch.Code, pos, a.member)
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the fan-out wrote no offer chunk with the seeded senior in it")
}

// env is the environment the stack gives function fn (as assemble builds it).
func (f *callsFixture) env(t *testing.T, tmpl *sam.Template, fn string) map[string]string {
	t.Helper()
	i := slices.IndexFunc(tmpl.Functions, func(x sam.Function) bool { return x.Name == fn })
	if i < 0 {
		t.Fatalf("template.yaml has no function %s", fn)
	}
	env, err := f.s.st.res.Env(tmpl.Functions[i], func(name string) (string, bool) {
		if v, ok := os.LookupEnv("YINLING_" + name); ok {
			return v, true
		}
		v, ok := localValues[name]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// setToken keeps the capability token of a page link (…/r/<token>) for the pages and API routes
// that take it.
func (f *callsFixture) setToken(t *testing.T, prefix, link string) {
	t.Helper()
	if !strings.Contains(link, prefix) {
		t.Fatalf("link %q is not a %s page", link, prefix)
	}
	f.tokens[prefix] = path.Base(link)
}

// token is the capability token a route's {token} takes, by its path: /api/r/{token} and
// /r/{token} the reminder page's, and so on.
func (f *callsFixture) token(t *testing.T, tg isolation.Target) string {
	t.Helper()
	p := strings.TrimPrefix(tg.Route.Path, "/api")
	for prefix, tok := range f.tokens {
		if strings.HasPrefix(p, prefix) || strings.HasPrefix(tg.Route.Path, prefix) {
			return tok
		}
	}
	t.Fatalf("%s: no token of its kind in the fixture (add one)", tg.Route.Key())
	return ""
}

// request builds the route's request as its rightful caller makes it, with its credential.
func (f *callsFixture) request(t *testing.T, tg isolation.Target, sp routeSpecial) (isolation.Request, http.Header) {
	t.Helper()
	objs := maps.Clone(f.a.objects)
	maps.Copy(objs, sp.objects)
	token := ""
	if slices.Contains(tg.Params(), "token") {
		token = f.token(t, tg)
	}
	req, err := tg.Request(objs, token, f.shift)
	if err != nil {
		t.Fatal(err)
	}
	if sp.edit != nil {
		sp.edit(t, &req)
	}
	h := req.Header.Clone()
	switch {
	case public(tg) && tg.Function != "web":
		// the way in: no credential
	case routeClass(tg) == "staff":
		h.Set("Authorization", "Bearer "+f.a.staff)
	case routeClass(tg) == "member":
		session := f.a.session
		if sp.session != "" {
			session = sp.session
		}
		h.Set("Cookie", sessionCookieName+"="+session)
	}
	return req, h
}

// jsonItems is the list of objects under key of a JSON answer.
func jsonItems(m map[string]any, key string) []map[string]any {
	var out []map[string]any
	list, _ := m[key].([]any)
	for _, it := range list {
		if mm, ok := it.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}

package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/access"
	"yinling/shared/dynamostore"
	"yinling/shared/ids"
	"yinling/shared/lambdamain"
	"yinling/shared/logging"
	"yinling/shared/member"
	"yinling/shared/sam"
	"yinling/shared/staffjwt"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
	"yinling/tests/isolation"
)

// isoStack is the whole local stack behind its real gateway and JWT authorizer, on a loopback
// port, without the queue pollers and schedules (nothing changes behind the matrix's back).
type isoStack struct {
	root    string
	baseURL string
	iss     *staffjwt.Issuer
	db      *dynamodb.Client
	table   string
	store   *dynamostore.Store
	st      *localStack // its queue pollers are not started (TestCallsPerRoute runs one)
	// cookies collects every Set-Cookie the API answered with, for TestIsolationMatrix's check.
	mu      sync.Mutex
	cookies map[string]string // Set-Cookie → the route that set it
}

// cfgOpts edit the stack's AWS configuration (buildStack).
func startIsoStack(t *testing.T, cfgOpts ...func(*aws.Config)) *isoStack {
	t.Helper()
	for _, v := range testenv.EndpointVars {
		if os.Getenv(v) == "" {
			if os.Getenv(testenv.RequireVar) == "1" {
				t.Fatalf("%s is unset but %s=1: start the emulators (make test)", v, testenv.RequireVar)
			}
			t.Skip("emulators not running: use make test")
		}
	}
	root := e2eRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	// The functions log through the production logger, so that under make test their lines reach
	// the log capture (YINLING_LOG_CAPTURE) and the scan for phone numbers, codes and tokens.
	log := logging.New(io.Discard, slog.LevelDebug)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := newLocalIssuer(key)
	srv := httptest.NewUnstartedServer(nil)
	baseURL := "http://" + srv.Listener.Addr().String()
	st, err := buildStack(ctx, root, e2ePrefix(), baseURL, iss, 0, log, cfgOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := st.res.Delete(ctx); err != nil {
			t.Errorf("delete resources: %v", err)
		}
	})
	srv.Config.Handler = st.gateway
	srv.Start()
	t.Cleanup(srv.Close)
	table, err := st.res.Ref("Table")
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(lambdamain.AWSConfig(os.Getenv, log))
	return &isoStack{root: root, baseURL: baseURL, iss: iss, db: db, table: table,
		store: dynamostore.New(db, table), st: st, cookies: map[string]string{}}
}

// answer is one HTTP response, read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", a.status, err, a.body)
	}
	return m
}

// do sends one request from the loopback address ip (127.0.0.0/8 is all local on Linux; the
// gateway takes the caller's address from the connection, and the guessing limits count per
// address, so calls that must not share a budget come from different addresses).
func (s *isoStack) do(t *testing.T, ip, method, path string, query url.Values, body string, hdr http.Header) answer {
	t.Helper()
	u := s.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	tr := &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second,
	}).DialContext}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	for _, c := range resp.Header.Values("Set-Cookie") {
		s.cookies[c] = method + " " + path
	}
	s.mu.Unlock()
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// must sends a request as the victim or its staff and requires status.
func (s *isoStack) must(t *testing.T, status int, method, path, body string, hdr http.Header) map[string]any {
	t.Helper()
	a := s.do(t, "127.0.0.1", method, path, nil, body, hdr)
	if a.status != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", method, path, a.status, status, a.body)
	}
	if len(a.body) == 0 {
		return nil
	}
	return a.json(t)
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
func sessionHdr(tok string) http.Header {
	return http.Header{"Cookie": {sessionCookieName + "=" + tok}}
}

// sessionCookieName is the member session cookie's name (access.SessionCookie).
const sessionCookieName = access.SessionCookie

func isoStr(m map[string]any, keys ...string) string {
	var v any = m
	for _, k := range keys {
		mm, _ := v.(map[string]any)
		v = mm[k]
	}
	s, _ := v.(string)
	return s
}

var otpRE = regexp.MustCompile(`\b(\d{6})\b`)
var capabilityRE = regexp.MustCompile(`/[fbro]/([A-Za-z0-9_-]{16,64})\b`)

// tenantData is what the matrix knows of one store: its ids by kind, what an intruder must never
// read (ids, names, phones, codes, tokens), and its credentials.
type tenantData struct {
	label   string
	staff   string // a manager's token
	objects isolation.Objects
	secrets []string
	// private are the secrets of member (not of the store): what another member of the same
	// store must not read either.
	private []string
	member  string // member id
	session string // the member's session token
	links   []string
	tokens  []string // every capability and session token of the store seen, for the storage check
}

// signup joins a senior to the group with code and verifies them; it returns the member id and
// the session token.
func (s *isoStack) signup(t *testing.T, d *tenantData, code, name, phone string) (string, string) {
	t.Helper()
	in := fmt.Sprintf(`{"code":%q,"name":%q,"phone":%q,"birthYear":1950,"gender":"female","consents":{"service":true,"health":true,"marketing":true},"acceptCovenant":true}`, code, name, phone)
	out := s.must(t, http.StatusCreated, "POST", "/api/signup", in, nil)
	id := isoStr(out, "memberId")
	outbox := s.must(t, http.StatusOK, "GET", "/api/admin/outbox", "", bearer(d.staff))
	var otp string
	items, _ := outbox["items"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		if isoStr(m, "memberId") == id && isoStr(m, "kind") == "otp" {
			if mm := otpRE.FindStringSubmatch(isoStr(m, "text")); mm != nil {
				otp = mm[1]
				break
			}
		}
	}
	if otp == "" {
		t.Fatalf("no one-time code for %s in the outbox: %v", id, outbox)
	}
	v := s.must(t, http.StatusOK, "POST", "/api/signup/verify", fmt.Sprintf(`{"memberId":%q,"otp":%q}`, id, otp), nil)
	return id, isoStr(v, "token")
}

// seedDemo seeds the demo store (tenant 甲) with a staff token of its manager, as the tests
// that need one store's live data have it; it returns the data and the shift of its sample times.
func (s *isoStack) seedDemo(t *testing.T) (*tenantData, time.Duration) {
	t.Helper()
	tok, err := mintStaffToken(s.iss, demoStoreID, "manager", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a := &tenantData{label: "甲", staff: tok}
	shift := isolation.Shift(time.Now())
	s.seed(t, a, "甲秀英", "138 0013 8000", shift)
	return a, shift
}

// seed fills a store through the API — group, member with session, family links, reminders, a
// broadcast, doctor, Q&A session with a booking, campaign, invite and referral codes — so that
// every kind of id the routes name exists; name and phone are the member's, and shift moves the
// sample times (isolation.Shift).
func (s *isoStack) seed(t *testing.T, d *tenantData, name, phone string, shift time.Duration) {
	t.Helper()
	d.objects = isolation.Objects{}
	add := func(k isolation.Kind, v string) {
		if v == "" {
			t.Fatalf("%s: seeding %s gave no id", d.label, k)
		}
		d.objects[k] = v
		d.secrets = append(d.secrets, v)
	}
	staff := bearer(d.staff)
	groups := s.must(t, http.StatusOK, "GET", "/api/admin/groups", "", staff)
	var group map[string]any
	if items, _ := groups["items"].([]any); len(items) > 0 {
		group, _ = items[0].(map[string]any)
	} else {
		group = s.must(t, http.StatusCreated, "POST", "/api/admin/groups", fmt.Sprintf(`{"name":"%s邻里群","entryRule":"open"}`, d.label), staff)
	}
	add(isolation.Group, isoStr(group, "id"))
	add(isolation.Code, isoStr(group, "joinCode"))
	d.secrets = append(d.secrets, isoStr(group, "name"))

	d.member, d.session = s.signup(t, d, d.objects[isolation.Code], name, phone)
	add(isolation.Member, d.member)
	p, err := member.ParsePhone(phone)
	if err != nil {
		t.Fatal(err)
	}
	d.private = append(d.private, d.member, name, p.E164(), strings.TrimPrefix(p.E164(), "+86"), p.Masked(), d.session)
	d.secrets = append(d.secrets, name, p.E164(), strings.TrimPrefix(p.E164(), "+86"), p.Masked(), d.session)
	d.tokens = append(d.tokens, d.session)
	me := sessionHdr(d.session)

	link := s.must(t, http.StatusCreated, "POST", "/api/me/family-links", `{"label":"女儿","scope":"helper","alerts":false,"ttlDays":30}`, me)
	add(isolation.FamilyLink, isoStr(link, "id"))
	d.links = append(d.links, path.Base(isoStr(link, "url")))

	day := time.Now().In(mustZone(t)).AddDate(0, 0, 2).Format(time.DateOnly)
	rem := s.must(t, http.StatusCreated, "POST", "/api/me/reminders",
		fmt.Sprintf(`{"kind":"medication","text":"%s的降压药","rule":{"freq":"daily","start":%q,"at":"08:00"}}`, d.label, day), me)
	add(isolation.Reminder, isoStr(rem, "id"))
	d.private = append(d.private, isoStr(rem, "id"), d.label+"的降压药")
	d.secrets = append(d.secrets, d.label+"的降压药")

	bc := s.do(t, "127.0.0.1", "POST", "/api/admin/groups/"+d.objects[isolation.Group]+"/reminders", nil,
		fmt.Sprintf(`{"kind":"event","text":"%s店庆","rule":{"freq":"once","start":%q,"at":"09:00"}}`, d.label, day),
		http.Header{"Authorization": staff["Authorization"], "Idempotency-Key": {fmt.Sprintf("seed-%x", d.label)}})
	if bc.status/100 != 2 {
		t.Fatalf("broadcast: %d %s", bc.status, bc.body)
	}
	add(isolation.Broadcast, isoStr(bc.json(t), "broadcastId"))

	docs := s.must(t, http.StatusOK, "GET", "/api/admin/doctors", "", staff)
	var doc map[string]any
	if items, _ := docs["items"].([]any); len(items) > 0 {
		doc, _ = items[0].(map[string]any)
	} else {
		doc = s.must(t, http.StatusCreated, "POST", "/api/admin/doctors", fmt.Sprintf(`{"name":"%s医生","title":"主治医师","speciality":"全科","bio":"社区全科。"}`, d.label), staff)
	}
	add(isolation.Doctor, isoStr(doc, "id"))
	d.secrets = append(d.secrets, isoStr(doc, "name"))

	start := time.Now().UTC().Add(shift).Truncate(time.Hour)
	sess := s.must(t, http.StatusCreated, "POST", "/api/admin/sessions", fmt.Sprintf(
		`{"doctorId":%q,"title":"%s健康讲座","startAt":%q,"endAt":%q,"place":{"kind":"store","address":"二楼"},"capacity":5}`,
		d.objects[isolation.Doctor], d.label, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)), staff)
	add(isolation.Session, isoStr(sess, "id"))
	d.secrets = append(d.secrets, d.label+"健康讲座")
	book := s.do(t, "127.0.0.1", "POST", "/api/sessions/"+d.objects[isolation.Session]+"/bookings", nil, `{"question":"能换药吗？"}`, me)
	if book.status/100 != 2 {
		t.Fatalf("booking: %d %s", book.status, book.body)
	}

	camp := s.do(t, "127.0.0.1", "POST", "/api/admin/campaigns", nil, fmt.Sprintf(
		`{"kind":"promotion","title":"%s鸡蛋特惠","body":"本周到店领取。","audience":{"groups":[%q]},"channel":"sms","sendAt":%q,`+
			`"offer":{"prices":{"member":1990,"leader":1590,"partner":990},"pickupPlace":"一楼收银台","pickupFrom":%q,"pickupUntil":%q}}`,
		d.label, d.objects[isolation.Group], start.Format(time.RFC3339), start.Format(time.RFC3339), start.Add(48*time.Hour).Format(time.RFC3339)),
		http.Header{"Authorization": staff["Authorization"], "Idempotency-Key": {fmt.Sprintf("seed-%x", d.label)}})
	if camp.status != http.StatusCreated {
		t.Fatalf("campaign: %d %s", camp.status, camp.body)
	}
	add(isolation.Campaign, isoStr(camp.json(t), "id"))
	d.secrets = append(d.secrets, d.label+"鸡蛋特惠")

	inv := s.must(t, http.StatusCreated, "POST", "/api/admin/groups/"+d.objects[isolation.Group]+"/invites", `{"ttlDays":7,"maxUses":5}`, staff)
	d.secrets = append(d.secrets, isoStr(inv, "code"))
	ref := s.must(t, http.StatusCreated, "POST", "/api/me/referral", "", me)
	d.secrets = append(d.secrets, isoStr(ref, "code"))
	d.private = append(d.private, isoStr(ref, "code"))

	// Every capability token an answer carried (reminder pages, booking pages) is a secret too.
	for _, p := range []string{"/api/me/reminders", "/api/me/bookings", "/api/me"} {
		a := s.do(t, "127.0.0.1", "GET", p, nil, "", me)
		for _, m := range capabilityRE.FindAllStringSubmatch(string(a.body), -1) {
			d.tokens = append(d.tokens, m[1])
			d.secrets = append(d.secrets, m[1])
			d.private = append(d.private, m[1])
		}
	}
	d.tokens = append(d.tokens, d.links...)
	d.secrets = append(d.secrets, d.links...)
	d.private = append(d.private, d.links...)
}

func mustZone(t *testing.T) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(tenant.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// rawItems returns every item of the table as DynamoDB JSON; a test may Scan, a request may not.
func (s *isoStack) rawItems(t *testing.T) []map[string]ddbtypes.AttributeValue {
	t.Helper()
	var out []map[string]ddbtypes.AttributeValue
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: aws.String(s.table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}

// cloneExpired stores a copy of the item keyed by token's hash under a new token's hash, valid
// until an hour ago: an expired session or family link of the same member, made without waiting.
func (s *isoStack) cloneExpired(t *testing.T, token string) string {
	t.Helper()
	hash, fresh := member.HashToken(token), member.NewToken()
	for _, it := range s.rawItems(t) {
		pk, _ := it["PK"].(*ddbtypes.AttributeValueMemberS)
		if pk == nil || !strings.Contains(pk.Value, hash) {
			continue
		}
		cp := map[string]ddbtypes.AttributeValue{}
		for k, v := range it {
			if sv, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
				v = &ddbtypes.AttributeValueMemberS{Value: strings.ReplaceAll(sv.Value, hash, member.HashToken(fresh))}
			}
			cp[k] = v
		}
		if _, ok := cp["ValidUntil"]; !ok {
			t.Fatalf("the item of a token has no ValidUntil: %v", it)
		}
		cp["ValidUntil"] = &ddbtypes.AttributeValueMemberS{Value: time.Now().UTC().Add(-time.Hour).Format(time.RFC3339Nano)}
		if _, err := s.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: cp}); err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	t.Fatalf("no item keyed by the hash of a token")
	return ""
}

// credential is one way of calling a route that is not the victim's own.
type credential struct {
	name string
	// apply adds the credential to a request; token fills a {token} path parameter ("" = a
	// random well-formed token).
	apply func(http.Header)
	token string
	// liveFor says on which routes the credential is a live one of its own holder, who may be
	// answered about themselves (not about the victim): "staff", "member", "family".
	liveFor string
	// victim are the kinds of object that are the victim's for this caller: a request naming
	// one must be refused. nil means all kinds.
	victim []isolation.Kind
	// secrets are what its answers must not contain.
	secrets []string
	// on are the route classes (see routeClass) the credential is tried on; nil means all. A's
	// own session is A's on member routes, A's staff token A's on staff routes.
	on []string
}

// public routes answer anyone by design: the H5 pages (shells without data) and the way in.
// They are still called with every credential, and must leak nothing and never fail with 5xx.
func public(tg isolation.Target) bool {
	if tg.Function == "web" {
		return true
	}
	switch tg.Route.Key() {
	case "GET /api/join/{code}", // a join code is an invitation: it shows the group's name
		"POST /api/signup", "POST /api/signup/verify":
		return true
	}
	return false
}

// knownGaps are routes that answer another store's id in their path as they answer an id that
// does not exist — without a byte of the other store's data — but not with the 404 the API
// promises. The matrix holds them to "same as unknown" and fails once a gap is gone, so that the
// entry is removed.
var knownGaps = map[string]string{}

// routeClass is which live credential a route accepts.
func routeClass(tg isolation.Target) string {
	switch {
	case tg.Staff():
		return "staff"
	case strings.HasPrefix(tg.Route.Path, "/api/family/{token}"):
		return "family"
	case slices.Contains(tg.Params(), "token"):
		return "capability" // /api/r, /api/b, /api/o: their own token kinds
	}
	return "member"
}

// targets are every HttpApi route of the stack's template.yaml, as isolation.Targets builds
// them from the sample events.
func (s *isoStack) targets(t *testing.T) []isolation.Target {
	t.Helper()
	targets, err := isolation.Targets(s.template(t), filepath.Join(s.root, "events"))
	if err != nil {
		t.Fatal(err)
	}
	return targets
}

// template is the stack's template.yaml.
func (s *isoStack) template(t *testing.T) *sam.Template {
	t.Helper()
	tmpl, err := sam.Load(filepath.Join(s.root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// sortDeletionsLast puts deletions last, erasing a senior very last, so that they do not take
// away what the other calls need; the order is otherwise kept.
func sortDeletionsLast(targets []isolation.Target) {
	slices.SortStableFunc(targets, func(x, y isolation.Target) int {
		rank := func(tg isolation.Target) int {
			switch {
			case tg.Route.Key() == "DELETE /api/me":
				return 2
			case tg.Route.Method == http.MethodDelete:
				return 1
			}
			return 0
		}
		return rank(x) - rank(y)
	})
}

// TestIsolationMatrix calls every route of template.yaml through the local gateway and its JWT
// authorizer as everyone who is not store A's staff or A's senior — store B's staff, no token,
// an expired or forged staff token, A's member session and family link as bearer tokens, B's
// senior and another senior of A, B's family link, A's revoked and expired family links, A's
// expired session, a random token — with A's ids in the path, query and body. A request naming
// A's objects, or made with a credential that is not live for the route, must be refused
// (401/403/404); every answer must be free of A's data; nothing may answer 5xx. Afterwards A's
// objects must read as before, and every Set-Cookie seen must be HttpOnly, Secure, SameSite.
func TestIsolationMatrix(t *testing.T) {
	s := startIsoStack(t)
	shift := isolation.Shift(time.Now())
	mint := func(store string, iss *staffjwt.Issuer, at time.Time, ttl time.Duration) string {
		tok, err := iss.MintAt(map[string]string{tenant.ClaimSubject: "staff-" + store, tenant.ClaimStoreID: store,
			tenant.ClaimRole: "manager", tenant.ClaimName: "店长"}, at, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	if err := s.store.CreateStore(context.Background(), tenant.Store{ID: "iso-b", Name: "乙店药房", TimeZone: tenant.DefaultTimeZone,
		PushCap: tenant.DefaultPushCap, CreatedAt: now.UTC().Truncate(time.Second)}); err != nil {
		t.Fatal(err)
	}
	a := &tenantData{label: "甲", staff: mint(demoStoreID, s.iss, now, time.Hour)}
	b := &tenantData{label: "乙", staff: mint("iso-b", s.iss, now, time.Hour)}
	s.seed(t, a, "甲秀英", "138 0013 8000", shift)
	s.seed(t, b, "乙桂兰", "139 0013 9000", shift)
	a.secrets = append(a.secrets, "幸福里社区药房")
	a2, a2Session := func() (string, string) {
		return s.signup(t, a, a.objects[isolation.Code], "甲二妹", "137 0013 7000")
	}()

	// A's revoked and expired family links and expired session.
	revoked := s.must(t, http.StatusCreated, "POST", "/api/me/family-links", `{"label":"儿子","scope":"helper","alerts":false,"ttlDays":30}`, sessionHdr(a.session))
	revokedToken := path.Base(isoStr(revoked, "url"))
	s.must(t, http.StatusNoContent, "DELETE", "/api/me/family-links/"+isoStr(revoked, "id"), "", sessionHdr(a.session))
	expiredLink := s.cloneExpired(t, a.links[0])
	expiredSession := s.cloneExpired(t, a.session)
	a.secrets = append(a.secrets, revokedToken, expiredLink, expiredSession)
	a.tokens = append(a.tokens, revokedToken)

	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	memberKinds := []isolation.Kind{isolation.Member, isolation.Reminder, isolation.FamilyLink}
	hdr := func(k, v string) func(http.Header) { return func(h http.Header) { h.Set(k, v) } }
	creds := []credential{
		{name: "staff of another store", apply: hdr("Authorization", "Bearer "+b.staff), liveFor: "staff", secrets: a.secrets},
		{name: "no credential", apply: func(http.Header) {}, secrets: a.secrets},
		{name: "expired staff token", apply: hdr("Authorization", "Bearer "+mint(demoStoreID, s.iss, now.Add(-3*time.Hour), time.Hour)), secrets: a.secrets},
		{name: "forged staff token", apply: hdr("Authorization", "Bearer "+mint(demoStoreID, newLocalIssuer(forger), now, time.Hour)), secrets: a.secrets},
		{name: "A's member session as bearer", apply: hdr("Authorization", "Bearer "+a.session), secrets: a.secrets, on: []string{"staff", "family", "capability"}},
		{name: "A's family link as bearer and cookie", apply: func(h http.Header) {
			h.Set("Authorization", "Bearer "+a.links[0])
			h.Set("Cookie", sessionCookieName+"="+a.links[0])
		}, secrets: a.secrets},
		{name: "A's staff token", apply: hdr("Authorization", "Bearer "+a.staff), secrets: a.secrets, on: []string{"member", "family", "capability"}},
		{name: "member of another store", apply: hdr("Cookie", sessionCookieName+"="+b.session), liveFor: "member", secrets: a.secrets},
		{name: "another member of the same store", apply: hdr("Cookie", sessionCookieName+"="+a2Session), liveFor: "member", victim: memberKinds, secrets: a.private},
		{name: "A's expired session", apply: hdr("Cookie", sessionCookieName+"="+expiredSession), secrets: a.secrets},
		{name: "family link of another store", apply: func(http.Header) {}, token: b.links[0], liveFor: "family", secrets: a.secrets},
		{name: "A's revoked family link", apply: func(http.Header) {}, token: revokedToken, secrets: a.secrets},
		{name: "A's expired family link", apply: func(http.Header) {}, token: expiredLink, secrets: a.secrets},
		{name: "A's session as a capability token", apply: func(http.Header) {}, token: a.session, secrets: a.secrets},
	}

	targets := s.targets(t)
	sortDeletionsLast(targets)

	gapsSeen := map[string]bool{}
	before := s.snapshot(t, a)
	var calls, refusals, staffRoutes, idRoutes int
	var failures []string
	for ri, tg := range targets {
		if tg.Staff() {
			staffRoutes++
		}
		for ci, c := range creds {
			if c.on != nil && !slices.Contains(c.on, routeClass(tg)) {
				continue
			}
			victim := a.objects
			if public(tg) {
				victim = nil
			}
			token := c.token
			if token == "" {
				token = member.NewToken()
			}
			req, err := tg.Request(victim, token, shift)
			if err != nil {
				t.Fatal(err)
			}
			if ci == 0 && tg.Staff() && req.Refs {
				idRoutes++
			}
			h := req.Header.Clone()
			c.apply(h)
			// Each call from its own address: the guessing limits are tested elsewhere
			// (functions/signup's TestGuessingIsLimited), not to be tripped here.
			ip := fmt.Sprintf("127.%d.%d.%d", 1+ci, 1+ri/250, 1+ri%250)
			got := s.do(t, ip, req.Method, req.Path, req.Query, req.Body, h)
			calls++

			names := req.Refs
			if c.victim != nil {
				names = false
				for _, k := range c.victim {
					if v, ok := victim[k]; ok && (strings.Contains(req.Path, v) || strings.Contains(req.Body, v) || strings.Contains(req.Query.Encode(), v)) {
						names = true
					}
				}
			}
			live := c.liveFor == routeClass(tg) && (c.token != "" || !slices.Contains(tg.Params(), "token"))
			mustRefuse := !public(tg) && (names || !live)
			where := fmt.Sprintf("%s %s [%s]", req.Method, req.Path, c.name)
			switch {
			case got.status >= 500:
				failures = append(failures, fmt.Sprintf("%s: route %s, credential %q: status %d\n%s", where, tg.Route.Key(), c.name, got.status, got.body))
			case mustRefuse && !isolation.Refused(got.status) && s.sameAsUnknown(t, tg, c, ip, token, shift, got, knownGaps[tg.Route.Key()] != ""):
				// A's id only in the body or query (or on a known gap's path), answered exactly
				// as an id that does not exist (400 unknown_group, doctor_not_found): a refusal
				// that tells nothing.
				refusals++
				if knownGaps[tg.Route.Key()] != "" {
					gapsSeen[tg.Route.Key()] = true
				}
			case mustRefuse && !isolation.Refused(got.status):
				failures = append(failures, fmt.Sprintf("route %s, credential %q: status %d, want 401/403/404 (%s)\n%s", tg.Route.Key(), c.name, got.status, where, got.body))
			case mustRefuse:
				refusals++
			}
			if leaks := isolation.Leaks(got.body, c.secrets); len(leaks) > 0 {
				failures = append(failures, fmt.Sprintf("route %s, credential %q: the answer (%d) holds A's %q (%s)", tg.Route.Key(), c.name, got.status, leaks, where))
			}
		}
	}
	t.Logf("isolation matrix: %d routes (%d staff, %d of them naming an id) × %d credentials = %d calls; %d refusals required and given; %d failures",
		len(targets), staffRoutes, idRoutes, len(creds), calls, refusals, len(failures))
	for _, f := range failures {
		t.Error(f)
	}

	for route, why := range knownGaps {
		if !gapsSeen[route] {
			t.Errorf("known gap %s (%s) no longer seen: remove it from knownGaps", route, why)
		}
	}

	// Nothing of A's changed.
	after := s.snapshot(t, a)
	if diff := cmpJSON(before, after); diff != "" {
		t.Errorf("A's objects changed under the matrix (-before +after):\n%s", diff)
	}

	// Every cookie the API set.
	if len(s.cookies) == 0 {
		t.Error("no Set-Cookie seen: the session cookie check did not run")
	}
	for c, route := range s.cookies {
		if p := isolation.CookieProblems(c); len(p) > 0 {
			t.Errorf("Set-Cookie from %s: %v: %s", route, p, c)
		}
	}
	_ = a2

	// Tokens are stored only as hashes: no item of the table holds a session or capability token
	// of either store, while the hashes of the sessions and family links are there (so the scan
	// saw the items it had to).
	tokens := append(append(slices.Clone(a.tokens), b.tokens...), a2Session, expiredLink, expiredSession)
	var dump strings.Builder
	for _, it := range s.rawItems(t) {
		fmt.Fprintf(&dump, "%v\n", rawStrings(it))
	}
	for _, tok := range tokens {
		if strings.Contains(dump.String(), tok) {
			t.Errorf("a token is stored in plain text: %s…", tok[:6])
		}
	}
	for _, tok := range []string{a.session, a.links[0], expiredSession} {
		if !strings.Contains(dump.String(), member.HashToken(tok)) {
			t.Errorf("the hash of token %s… is not in the table: the storage check saw nothing", tok[:6])
		}
	}
	t.Logf("storage: %d tokens checked against %d items", len(tokens), strings.Count(dump.String(), "\n"))
}

// rawStrings lists every string and number in an item, nested ones included.
func rawStrings(it map[string]ddbtypes.AttributeValue) []string {
	var out []string
	var walk func(v ddbtypes.AttributeValue)
	walk = func(v ddbtypes.AttributeValue) {
		switch x := v.(type) {
		case *ddbtypes.AttributeValueMemberS:
			out = append(out, x.Value)
		case *ddbtypes.AttributeValueMemberN:
			out = append(out, x.Value)
		case *ddbtypes.AttributeValueMemberB:
			out = append(out, string(x.Value))
		case *ddbtypes.AttributeValueMemberSS:
			out = append(out, x.Value...)
		case *ddbtypes.AttributeValueMemberL:
			for _, e := range x.Value {
				walk(e)
			}
		case *ddbtypes.AttributeValueMemberM:
			for k, e := range x.Value {
				out = append(out, k)
				walk(e)
			}
		}
	}
	for k, v := range it {
		out = append(out, k)
		walk(v)
	}
	return out
}

// snapshot reads A's objects as A's staff and A's senior see them.
func (s *isoStack) snapshot(t *testing.T, a *tenantData) map[string]any {
	t.Helper()
	out := map[string]any{}
	staff, me := bearer(a.staff), sessionHdr(a.session)
	for _, r := range []struct {
		path string
		hdr  http.Header
	}{
		{"/api/admin/groups/" + a.objects[isolation.Group], staff},
		{"/api/admin/members/" + a.objects[isolation.Member], staff},
		{"/api/admin/sessions/" + a.objects[isolation.Session], staff},
		{"/api/admin/campaigns/" + a.objects[isolation.Campaign], staff},
		{"/api/admin/broadcasts/" + a.objects[isolation.Broadcast], staff},
		{"/api/admin/members/" + a.objects[isolation.Member] + "/reminders", staff},
		{"/api/me", me},
		{"/api/me/reminders", me},
		{"/api/me/bookings", me},
		{"/api/family/" + a.links[0], nil},
	} {
		out[r.path] = strip(s.must(t, http.StatusOK, "GET", r.path, "", r.hdr))
	}
	return out
}

// strip drops what reading changes by itself: when a family link was last used.
func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "lastUsedAt" {
				delete(x, k)
				continue
			}
			x[k] = strip(e)
		}
	case []any:
		for i, e := range x {
			x[i] = strip(e)
		}
	}
	return v
}

func cmpJSON(before, after map[string]any) string { return cmp.Diff(before, after) }

// sameAsUnknown reports whether the route answers the credential as it answered got when every
// id of the victim is replaced by one that does not exist.
func (s *isoStack) sameAsUnknown(t *testing.T, tg isolation.Target, c credential, ip, token string, shift time.Duration, got answer, pathToo bool) bool {
	t.Helper()
	if got.status < 400 && !pathToo {
		return false
	}
	unknown := isolation.Objects{}
	for _, k := range []isolation.Kind{isolation.Group, isolation.Member, isolation.Session, isolation.Campaign,
		isolation.Broadcast, isolation.Reminder, isolation.FamilyLink, isolation.Doctor} {
		unknown[k] = ids.New()
	}
	unknown[isolation.Code] = ids.NewCode()
	req, err := tg.Request(unknown, token, shift)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range unknown {
		if strings.Contains(req.Path, v) && !pathToo {
			return false // the path names the object: that answer must be a 404
		}
	}
	h := req.Header.Clone()
	c.apply(h)
	other := s.do(t, ip, req.Method, req.Path, req.Query, req.Body, h)
	return other.status == got.status && string(other.body) == string(got.body)
}

// TestPageSecurityHeaders requests every page route of template.yaml (the web function's) through
// the gateway and checks its headers: a strict CSP (scripts only our own, no plugins, never
// framed), nosniff, a Referrer-Policy — no-referrer and noindex on capability-link pages — and
// the same two on the JSON answers a family link reads.
func TestPageSecurityHeaders(t *testing.T) {
	s := startIsoStack(t)
	targets := s.targets(t)
	pages := 0
	for _, tg := range targets {
		if tg.Function != "web" || tg.Route.Method != http.MethodGet {
			continue
		}
		req, err := tg.Request(nil, member.NewToken(), 0)
		if err != nil {
			t.Fatal(err)
		}
		got := s.do(t, "127.0.0.1", req.Method, req.Path, req.Query, "", req.Header)
		if got.status != http.StatusOK {
			t.Errorf("%s (%s): status %d", tg.Route.Key(), req.Path, got.status)
			continue
		}
		if !strings.HasPrefix(got.header.Get("Content-Type"), "text/html") {
			continue // a static file: its headers are the same base set, checked below for pages
		}
		pages++
		for _, p := range isolation.PageHeaderProblems(got.header, slices.Contains(tg.Params(), "token")) {
			t.Errorf("%s: %s", tg.Route.Key(), p)
		}
	}
	if pages < 5 {
		t.Errorf("only %d HTML pages checked", pages)
	}
	t.Logf("security headers: %d pages checked", pages)

	a, _ := s.seedDemo(t)
	for _, p := range []string{"/api/family/" + a.links[0], "/api/family/" + a.links[0] + "/reminders"} {
		got := s.do(t, "127.0.0.1", "GET", p, nil, "", nil)
		if got.status != http.StatusOK {
			t.Fatalf("GET /api/family/…: %d %s", got.status, got.body)
		}
		if got.header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(got.header.Get("X-Robots-Tag"), "noindex") ||
			got.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: capability answer headers %v", strings.Replace(p, a.links[0], "{token}", 1), got.header)
		}
	}
}

// TestRequestCaps holds every route of template.yaml to the API's size limits, through the
// gateway, with live credentials of the route's own kind: a JSON body over 64 KiB is refused with
// 413 by every POST, PATCH and PUT route, and every paginated listing (an answer with a "cursor"
// field) refuses a limit over its maximum with 400 invalid_limit.
func TestRequestCaps(t *testing.T) {
	s := startIsoStack(t)
	a, shift := s.seedDemo(t)
	targets := s.targets(t)
	own := func(tg isolation.Target, h http.Header) string {
		switch routeClass(tg) {
		case "staff":
			h.Set("Authorization", "Bearer "+a.staff)
		case "member":
			h.Set("Cookie", sessionCookieName+"="+a.session)
		}
		return a.links[0] // family routes; capability routes get a token of the wrong kind (404 is fine there)
	}
	big := `{"text":"` + strings.Repeat("长", 64<<10/3+1) + `"}` // just over 64 KiB of UTF-8
	var bodies, listings int
	for i, tg := range targets {
		if tg.Function == "web" || tg.Route.Key() == "DELETE /api/me" {
			continue
		}
		h := http.Header{}
		token := own(tg, h)
		victim := a.objects
		if public(tg) {
			victim = nil
		}
		req, err := tg.Request(victim, token, shift)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range req.Header {
			h[k] = v
		}
		ip := fmt.Sprintf("127.99.%d.%d", 1+i/250, 1+i%250)
		switch req.Method {
		case http.MethodPost, http.MethodPatch, http.MethodPut:
			if req.Body == "" {
				continue // the route reads no body (a cancel, an unsubscribe): the gateway's 10 MB cap is its cap
			}
			got := s.do(t, ip, req.Method, req.Path, req.Query, big, h)
			if got.status != http.StatusRequestEntityTooLarge && !(routeClass(tg) == "capability" && got.status == http.StatusNotFound) {
				t.Errorf("%s with a %d-byte body: status %d, want 413\n%.300s", tg.Route.Key(), len(big), got.status, got.body)
			}
			bodies++
		case http.MethodGet:
			got := s.do(t, ip, req.Method, req.Path, req.Query, "", h)
			var m map[string]any
			if got.status != http.StatusOK || json.Unmarshal(got.body, &m) != nil {
				continue
			}
			with := func(limit string) answer {
				q := url.Values{}
				for k, v := range req.Query {
					q[k] = v
				}
				q.Set("limit", limit)
				return s.do(t, ip, req.Method, req.Path, q, "", h)
			}
			// A route reads limit if it refuses limit=0; a listing (an answer with "items" or a
			// "cursor") must.
			_, items := m["items"]
			_, cursor := m["cursor"]
			zero := with("0")
			if zero.status != http.StatusBadRequest || !strings.Contains(string(zero.body), "invalid_limit") {
				if items || cursor {
					t.Errorf("%s: a listing that does not read limit (limit=0 answered %d)", tg.Route.Key(), zero.status)
				}
				continue
			}
			listings++
			if over := with("100000"); over.status != http.StatusBadRequest || !strings.Contains(string(over.body), "invalid_limit") {
				t.Errorf("%s?limit=100000: status %d, want 400 invalid_limit\n%.300s", tg.Route.Key(), over.status, over.body)
			}
		}
	}
	t.Logf("caps: %d body-taking routes refuse 64 KiB + 1; %d paginated listings refuse limit=100000", bodies, listings)
	if bodies == 0 || listings == 0 {
		t.Error("the caps were not exercised")
	}
}

// TestCapabilityGuessingIsLimited guesses family-link tokens through the gateway from one
// address: after dynamostore.MaxGuesses misses a family link answers 429 even to its valid token
// from that address, while another address is not slowed. For the offer, reminder and booking
// page tokens (other shapes: a 43-character guess is refused before any lookup) what happens is
// logged only.
func TestCapabilityGuessingIsLimited(t *testing.T) {
	s := startIsoStack(t)
	a, _ := s.seedDemo(t)
	for i, route := range []struct {
		prefix string
		must   bool
	}{{"/api/family/", true}, {"/api/o/", false}, {"/api/r/", false}, {"/api/b/", false}} {
		ip := fmt.Sprintf("127.77.0.%d", i+1)
		limited := 0
		for range dynamostore.MaxGuesses + 2 {
			if got := s.do(t, ip, "GET", route.prefix+member.NewToken(), nil, "", nil); got.status == http.StatusTooManyRequests {
				limited++
			} else if got.status != http.StatusNotFound {
				t.Errorf("%s{random}: status %d", route.prefix, got.status)
			}
		}
		t.Logf("%s{token}: %d of %d guesses from one address answered 429", route.prefix, limited, dynamostore.MaxGuesses+2)
		if route.must && limited == 0 {
			t.Errorf("%s{token}: %d guesses from one address never answered 429", route.prefix, dynamostore.MaxGuesses+2)
		}
	}
	if got := s.do(t, "127.77.0.1", "GET", "/api/family/"+a.links[0], nil, "", nil); got.status != http.StatusTooManyRequests {
		t.Errorf("valid family link from the guessing address: %d, want 429", got.status)
	}
	if got := s.do(t, "127.77.1.1", "GET", "/api/family/"+a.links[0], nil, "", nil); got.status != http.StatusOK {
		t.Errorf("valid family link from another address: %d, want 200", got.status)
	}
}

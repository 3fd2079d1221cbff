package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/lambdamain"
	"yinling/shared/logging"
	"yinling/shared/testenv"
)

// Phones of the senior and of her daughter's alert link, unique to this test.
const (
	piiPhone      = "13700137511"
	piiAlertPhone = "13900139522"
	piiName       = "测试抹除甲"
)

// TestPhonesSealedExportAndErase is issue 9's PII check on the whole local stack (template env,
// every function behind the gateway, the queue pollers), driven through the HTTP API only: a
// senior joins and verifies, sets quiet hours, a reminder, a family link with alerts, books a Q&A
// seat with a question and receives a campaign's offer. Then:
//   - no item of the table holds a phone number in plain text (every string attribute is
//     scanned for mainland numbers), and the staff outbox still shows the full number (opened);
//   - the senior's export holds her full phone, the alert phone and every kind of her data;
//   - after she erases herself, no item holds her id, name, phone or phone hash, except the
//     kinds documented as kept until they expire (retainedAfterErase), each with a TTL.
func TestPhonesSealedExportAndErase(t *testing.T) {
	s := startPIIStack(t)
	c := &piiClient{t: t, base: s.base}

	var joined struct{ MemberID string }
	c.do("POST", "/api/signup", "", nil, map[string]any{"code": s.joinCode, "name": piiName, "phone": "137 0013 7511",
		"birthYear": 1948, "gender": "female", "consents": map[string]bool{"service": true, "health": true, "marketing": true},
		"acceptCovenant": true}, &joined)
	me := joined.MemberID
	otp := regexp.MustCompile(`\d{6}`).FindString(c.waitOutbox(s.staff, me, "otp", 10*time.Second).Text)
	var session struct{ Token string }
	c.do("POST", "/api/signup/verify", "", nil, map[string]any{"memberId": me, "otp": otp}, &session)
	tok := session.Token

	// Quiet hours away from now, so the offer goes out at once whatever the time of the run.
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(shanghai)
	c.do("PATCH", "/api/me", tok, nil, map[string]any{"quietHours": map[string]string{
		"start": now.Add(2 * time.Hour).Format("15:04"), "end": now.Add(3 * time.Hour).Format("15:04")}}, nil)
	c.do("POST", "/api/me/reminders", tok, nil, map[string]any{"kind": "medication", "text": "早饭后吃一片降压药",
		"rule": map[string]any{"freq": "daily", "start": now.Format("2006-01-02"), "at": "08:00"}}, nil)
	c.do("POST", "/api/me/family-links", tok, nil, map[string]any{"label": "女儿", "scope": "view", "alerts": true,
		"alertPhone": "139 0013 9522", "alertChannel": "sms"}, nil)

	var doctors struct {
		Doctors []struct{ ID string }
	}
	c.do("GET", "/api/admin/doctors", s.staff, nil, nil, &doctors)
	if len(doctors.Doctors) == 0 {
		t.Fatal("no seeded doctor")
	}
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
	var talk struct{ ID string }
	c.do("POST", "/api/admin/sessions", s.staff, idempotent(), map[string]any{"doctorId": doctors.Doctors[0].ID, "title": "冬季血压管理",
		"startAt": start, "endAt": start.Add(time.Hour), "place": map[string]string{"kind": "store", "address": "二楼活动室"},
		"capacity": 20}, &talk)
	c.do("POST", "/api/sessions/"+talk.ID+"/bookings", tok, nil, map[string]any{"question": "早上血压高，药要换吗？"}, nil)

	var groups struct {
		Items []struct{ ID string }
	}
	c.do("GET", "/api/admin/groups", s.staff, nil, nil, &groups)
	from := time.Now().Add(time.Hour).UTC()
	c.do("POST", "/api/admin/campaigns", s.staff, idempotent(), map[string]any{"kind": "promotion", "title": "血压计会员特价",
		"body": "欧姆龙上臂式血压计，会员价到店领取。", "channel": "sms", "audience": map[string]any{"groups": []string{groups.Items[0].ID}},
		"offer": map[string]any{"prices": map[string]int{"member": 19900, "leader": 17900, "partner": 15900}, "pickupPlace": "一楼收银台",
			"pickupFrom": from, "pickupUntil": from.Add(7 * 24 * time.Hour)}}, nil)
	offer := c.waitOutbox(s.staff, me, "promotion", time.Minute)
	if offer.To != "+86"+piiPhone {
		t.Errorf("the staff outbox shows the offer sent to %q, want the opened +86%s", offer.To, piiPhone)
	}

	// At rest: no number in plain text anywhere, and the senior's phones are sealed.
	items := s.scan(t)
	// A mainland mobile, national or E.164: eleven digits, maybe after 86, and no more (epoch
	// seconds have ten digits, milliseconds thirteen).
	mainland := regexp.MustCompile(`(^|[^0-9])(86)?1[3-9][0-9]{9}([^0-9]|$)`)
	var phoneHash string
	for _, it := range items {
		for _, v := range rawStrings(it) {
			if m := mainland.FindString(v); m != "" {
				t.Errorf("item %s/%s holds a phone number in plain text: attribute value %q", str(it, "PK"), str(it, "SK"), v)
			}
		}
		if str(it, "T") == "member" && str(it, "ID") == me {
			phoneHash = str(it, "PhoneHash")
			if p := str(it, "Phone"); !strings.HasPrefix(p, "v1.") {
				t.Errorf("member Phone at rest = %q, want a sealed v1 value", p)
			}
		}
		if str(it, "T") == "familylink" && str(it, "MemberID") == me && !strings.HasPrefix(str(it, "AlertPhone"), "v1.") {
			t.Errorf("family link AlertPhone at rest = %q, want a sealed v1 value", str(it, "AlertPhone"))
		}
	}
	if phoneHash == "" {
		t.Fatal("the senior's profile item has no phone hash")
	}

	// The export: her full numbers, and every kind of her data.
	var export struct {
		Phone       string
		Member      struct{ Name string }
		Memberships []struct{ GroupID string }
		FamilyLinks []struct {
			AlertPhone string
			Alerts     bool
		}
		ConsentHistory []struct{ Kind string }
		Reminders      []struct{ Text string }
		Bookings       []struct{ SessionID, Question string }
	}
	c.do("GET", "/api/me/export", tok, nil, nil, &export)
	checks := []struct {
		what string
		ok   bool
	}{
		{"phone +86" + piiPhone, export.Phone == "+86"+piiPhone},
		{"name", export.Member.Name == piiName},
		{"membership of the demo group", len(export.Memberships) == 1 && export.Memberships[0].GroupID == groups.Items[0].ID},
		{"family link with the full alert phone", len(export.FamilyLinks) == 1 && export.FamilyLinks[0].Alerts &&
			export.FamilyLinks[0].AlertPhone == "+86"+piiAlertPhone},
		{"consent history (service, health, marketing)", len(export.ConsentHistory) >= 3},
		// Her own reminder; the booking adds its confirmation and reminders of the talk.
		{"the reminder's text", slices.ContainsFunc(export.Reminders, func(r struct{ Text string }) bool { return r.Text == "早饭后吃一片降压药" })},
		{"the booking with its question", len(export.Bookings) == 1 && export.Bookings[0].SessionID == talk.ID &&
			export.Bookings[0].Question == "早上血压高，药要换吗？"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("export lacks %s: %+v", ch.what, export)
		}
	}

	// Erase, then nothing of hers is left but what is documented to expire.
	c.do("DELETE", "/api/me", tok, nil, nil, nil)
	left := map[string]int{}
	for _, it := range s.scan(t) {
		var hit []string
		for _, v := range rawStrings(it) {
			for _, needle := range []string{me, piiName, piiPhone, piiAlertPhone, phoneHash} {
				if strings.Contains(v, needle) {
					hit = append(hit, needle)
				}
			}
		}
		if len(hit) == 0 {
			continue
		}
		kind := str(it, "T")
		left[kind]++
		if why, ok := retainedAfterErase[kind]; !ok {
			t.Errorf("after erase, item %s/%s (%s) still holds %q", str(it, "PK"), str(it, "SK"), kind, slices.Compact(hit))
		} else if _, ok := it["ExpiresAt"]; !ok {
			t.Errorf("after erase, kept item %s/%s (%s: %s) has no ExpiresAt: it would stay forever", str(it, "PK"), str(it, "SK"), kind, why)
		}
	}
	t.Logf("kept after erase, until they expire: %v", left)
	var gone struct{ Error struct{ Code string } }
	c.status("GET", "/api/me", tok, http.StatusUnauthorized, &gone)
}

// retainedAfterErase are the kinds of item that may still name an erased member, and why: each
// holds no phone, and TTL removes it.
var retainedAfterErase = map[string]string{
	// Delivery bookkeeping of reminders and pushes: the member's id and outcomes, kept
	// reminder.DeliveryRetention so a duplicate queue message is recognised.
	"claim": "delivery claim", "ack": "acknowledgement", "delivery": "delivery record",
	// A campaign's chunk lists its recipients' ids until the offer links expire.
	"offerchunk": "campaign chunk",
	// The hourly count of codes sent to a phone (keyed by the phone's keyed hash), 2 hours.
	"otprate": "one-time code rate counter",
	// The local outbox (NOTIFY_MODE=outbox only; recipients sealed) and its message-id guards,
	// whose ids name the member, 7 days.
	"outbox": "local outbox message", "outbox_id": "local outbox message id",
}

// piiStack is the whole local stack behind an httptest server, as make dev assembles it.
type piiStack struct {
	base, staff, joinCode string
	db                    *dynamodb.Client
	table                 string
}

func startPIIStack(t *testing.T) *piiStack {
	t.Helper()
	for _, v := range testenv.EndpointVars {
		if os.Getenv(v) == "" {
			if os.Getenv(testenv.RequireVar) == "1" {
				t.Fatalf("%s is unset but %s=1: start the emulators (make test)", v, testenv.RequireVar)
			}
			t.Skip("emulators not running: use make test")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	stackLog := &syncBuffer{}
	log := logging.New(stackLog, logging.Level("warn"))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack log:\n%s", stackLog.Bytes())
		}
	})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := newLocalIssuer(key)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	st, err := buildStack(ctx, e2eRoot(t), e2ePrefix(), base, iss, 2*time.Second, log)
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
	t.Cleanup(st.start(log))
	staff, err := mintStaffToken(iss, demoStoreID, "manager", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	table, err := st.res.Ref("Table")
	if err != nil {
		t.Fatal(err)
	}
	return &piiStack{base: base, staff: staff, joinCode: st.demo.joinCode, table: table,
		db: dynamodb.NewFromConfig(lambdamain.AWSConfig(os.Getenv, log))}
}

// scan reads every item of the table: a test's view of the data at rest (no request path scans).
func (s *piiStack) scan(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: &s.table, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}

func str(item map[string]types.AttributeValue, name string) string {
	var s string
	_ = attributevalue.Unmarshal(item[name], &s)
	return s
}

func idempotent() map[string]string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return map[string]string{"Idempotency-Key": fmt.Sprintf("pii-%x", b)}
}

// piiClient calls the local gateway as a page would.
type piiClient struct {
	t    *testing.T
	base string
}

func (c *piiClient) do(method, path, bearer string, headers map[string]string, body, out any) {
	c.t.Helper()
	c.call(method, path, bearer, headers, body, 0, out)
}

func (c *piiClient) status(method, path, bearer string, want int, out any) {
	c.t.Helper()
	c.call(method, path, bearer, nil, nil, want, out)
}

// call sends one request; want 0 is any 2xx.
func (c *piiClient) call(method, path, bearer string, headers map[string]string, body any, want int, out any) {
	c.t.Helper()
	var r *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	if bearer != "" {
		req.Header.Set("authorization", "Bearer "+bearer)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	if (want == 0 && resp.StatusCode >= 300) || (want != 0 && resp.StatusCode != want) {
		c.t.Fatalf("%s %s = %d: %s", method, path, resp.StatusCode, raw.Bytes())
	}
	if out != nil && raw.Len() > 0 {
		if err := json.Unmarshal(raw.Bytes(), out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// waitOutbox waits for the outbox message of kind to member.
func (c *piiClient) waitOutbox(staff, member, kind string, wait time.Duration) outboxMessage {
	c.t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(500 * time.Millisecond) {
		var page struct{ Items []outboxMessage }
		c.do("GET", "/api/admin/outbox?limit=100", staff, nil, nil, &page)
		for _, m := range page.Items {
			if m.MemberID == member && m.Kind == kind {
				return m
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no %s message to %s in the outbox within %v", kind, member, wait)
		}
	}
}

package reminders_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"yinling/functions/reminders"
	"yinling/shared/awscalls"
	"yinling/shared/bucket"
	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/ids"
	"yinling/shared/logging"
	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
	"yinling/shared/voice"
)

// Fixtures the sample events in events/reminders refer to.
const (
	storeID      = "s-test"
	otherStoreID = "s-other"
	groupID      = "01JDQ7Z6W3V8G0X5Y4K2M9N1PA" // 邻里健康群, with a WeCom robot: A, B active; C not verified
	quietGroupID = "01JDQ7Z6W3V8G0X5Y4K2M9N1PC" // 晨练群: no members, no robot
	otherGroupID = "01JDQ7Z6W3V8G0X5Y4K2M9N1PB" // s-other's group: E
	memberA      = "01JDR00000000000000000000A" // 张秀英: verified, health consent
	memberB      = "01JDR00000000000000000000B" // 李建国: verified, no health consent
	memberC      = "01JDR00000000000000000000C" // 王芳: phone not verified
	memberE      = "01JDR00000000000000000000E" // 陈明, of s-other
)

type fixture struct {
	t       testing.TB
	env     *testenv.Env
	store   *dynamostore.Store
	handler lambda.Handler
	calls   *awscalls.Counter
	now     time.Time
	logs    *syncBuffer
	bucket  string
	speaker *fakeSpeaker
	// sessions are the members' session tokens.
	sessions map[string]string
	// Family link tokens to A's page: helper scope, view scope, and a helper link that expired.
	helper, viewer, expired string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, calls: &awscalls.Counter{}, now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC),
		logs: &syncBuffer{}, speaker: &fakeSpeaker{}, sessions: map[string]string{}}
	f.env = testenv.New(t, testenv.WithAPIOptions(f.calls.Register))
	f.store = dynamostore.New(f.env.DynamoDB, f.env.TableName())
	f.bucket = f.env.Ref("VoiceBucket")
	f.seed()
	f.handler = lambda.NewHandler(f.build(f.speaker).Handle)
	f.calls.Reset()
	return f
}

// build returns a handler on the fixture's table, bucket and queues, with speaker.
func (f *fixture) build(speaker reminders.Speaker) *reminders.Handler {
	d := reminders.Deps{
		Store:  f.store,
		Clips:  voice.NewUploads(bucket.New(f.env.AWS, f.bucket), func() time.Time { return f.now }),
		Queues: f.env.SQS,
		QueueURLs: []reminders.Queue{
			{Name: "deliveries", URL: f.env.Ref("DeliveriesQueue"), DLQURL: f.env.Ref("DeliveriesDLQ")},
			{Name: "fanout", URL: f.env.Ref("FanoutQueue"), DLQURL: f.env.Ref("FanoutDLQ")},
			{Name: "ack-checks", URL: f.env.Ref("AckChecksQueue"), DLQURL: f.env.Ref("AckChecksDLQ")},
		},
		Key: []byte("test-key"),
		Log: logging.New(f.logs, slog.LevelDebug),
		Now: func() time.Time { return f.now },
	}
	if speaker != nil {
		d.Speaker = speaker
	}
	return reminders.New(d)
}

// seed makes two stores, a group in each, their members (see the constants) with sessions, and
// three family links to A's page.
func (f *fixture) seed() {
	f.t.Helper()
	ctx := context.Background()
	for _, s := range []string{storeID, otherStoreID} {
		if err := f.store.CreateStore(ctx, tenant.Store{ID: s, Name: "幸福里药房", TimeZone: tenant.DefaultTimeZone,
			PushCap: 2, CreatedAt: f.now}); err != nil {
			f.t.Fatal(err)
		}
	}
	for _, g := range []group.Group{
		{ID: groupID, StoreID: storeID, Name: "邻里健康群", JoinCode: "SEED2345", RobotKey: "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"},
		{ID: quietGroupID, StoreID: storeID, Name: "晨练群", JoinCode: "MORN2345"},
		{ID: otherGroupID, StoreID: otherStoreID, Name: "隔壁的群", JoinCode: "OTHR2345"},
	} {
		g.EntryRule, g.PushCap, g.CreatedBy, g.CreatedAt, g.UpdatedAt = group.RuleOpen, 2, "staff-1", f.now, f.now
		if _, err := f.store.CreateGroup(ctx, g, dynamostore.Idempotency{}); err != nil {
			f.t.Fatal(err)
		}
	}
	for _, j := range []struct {
		store, group, id, code, name, phone string
		health, verified                    bool
	}{
		{storeID, groupID, memberA, "SEED2345", "张秀英", "13800138000", true, true},
		{storeID, groupID, memberB, "SEED2345", "李建国", "13900139001", false, true},
		{storeID, groupID, memberC, "SEED2345", "王芳", "13700137002", true, false},
		{otherStoreID, otherGroupID, memberE, "OTHR2345", "陈明", "13500135004", true, true},
	} {
		at := f.now.AddDate(0, 0, -10)
		m, consents, err := member.NewSignup(member.SignupDraft{Name: j.name, Phone: j.phone, BirthYear: 1950,
			Consents:       map[member.ConsentKind]bool{member.ConsentService: true, member.ConsentHealth: j.health},
			AcceptCovenant: true}, nil, at)
		if err != nil {
			f.t.Fatal(err)
		}
		m.ID, m.StoreID = j.id, j.store
		key := []byte("test-key")
		if err := f.store.Signup(ctx, dynamostore.SignupWrite{Member: m, NewMember: true, PhoneHash: "phone-" + j.id,
			Consents: consents, Membership: member.Membership{StoreID: j.store, GroupID: j.group, MemberID: j.id,
				Status: member.StatusPendingVerification, Path: member.PathQR, Code: j.code, JoinedAt: at},
			OTP: member.NewOTPState(member.NewOTP(), j.id, key, at), Rule: group.RuleOpen, Now: at}); err != nil {
			f.t.Fatal(err)
		}
		if !j.verified {
			continue
		}
		rec, err := f.store.GetOTP(ctx, j.id)
		if err != nil {
			f.t.Fatal(err)
		}
		token := member.NewToken()
		if err := f.store.CompleteVerification(ctx, dynamostore.Verification{Record: rec, Status: member.StatusActive,
			SessionHash: member.HashToken(token), SessionExpires: f.now.AddDate(0, 0, 90), Now: at.Add(time.Minute)}); err != nil {
			f.t.Fatal(err)
		}
		f.sessions[j.id] = token
	}
	link := func(scope member.Scope, created, expires time.Time) string {
		token := member.NewToken()
		if err := f.store.CreateFamilyLink(ctx, member.FamilyLink{ID: ids.New(), StoreID: storeID, MemberID: memberA,
			Label: "女儿", Scope: scope, TokenHash: member.HashToken(token), CreatedBy: memberA,
			CreatedAt: created, ExpiresAt: expires}); err != nil {
			f.t.Fatal(err)
		}
		return token
	}
	f.helper = link(member.ScopeHelper, f.now, f.now.AddDate(0, 0, 30))
	f.viewer = link(member.ScopeView, f.now, f.now.AddDate(0, 0, 30))
	f.expired = link(member.ScopeHelper, f.now.AddDate(0, 0, -40), f.now.AddDate(0, 0, -10))
}

func readEvent(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	return testenv.Event(t, "reminders", name)
}

// invoke sends req a moment after the last request (testenv.InvokeHTTP holds the answer to the
// OpenAPI document and, under a capability link, to its headers).
func (f *fixture) invoke(req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, map[string]any) {
	f.t.Helper()
	f.now = f.now.Add(time.Second)
	return testenv.InvokeHTTP(f.t, f.handler, req)
}

// do invokes req and fails the test unless it answers status.
func (f *fixture) do(req events.APIGatewayV2HTTPRequest, status int) map[string]any {
	f.t.Helper()
	resp, body := f.invoke(req)
	if resp.StatusCode != status {
		f.t.Fatalf("%s: %d %s, want %d\nlogs:\n%s", req.RouteKey, resp.StatusCode, resp.Body, status, f.logs.String())
	}
	return body
}

// items counts the test table's items but the failed-lookup counters (testenv.Env.Items).
func (f *fixture) items() int { return f.env.Items(f.t, false) }

// reminder reads a reminder as stored.
func (f *fixture) reminder(store, id string) reminder.Reminder {
	f.t.Helper()
	r, err := f.store.GetReminder(context.Background(), store, id)
	if err != nil {
		f.t.Fatalf("get reminder %s: %v", id, err)
	}
	return r
}

// dispatch does to a reminder what the dispatcher does when its next occurrence is sent.
func (f *fixture) dispatch(store, id string) time.Time {
	f.t.Helper()
	r := f.reminder(store, id)
	occ := r.NextAt
	if err := f.store.UpdateReminder(context.Background(), r.Advance(occ, occ), r.UpdatedAt); err != nil {
		f.t.Fatalf("advance %s: %v", id, err)
	}
	return occ
}

// pageToken is the token at the end of a reminder's link.
func pageToken(t testing.TB, body map[string]any) string {
	t.Helper()
	link, _ := body["link"].(string)
	i := strings.LastIndex(link, "/r/")
	if i < 0 || !reminder.ValidLinkToken(link[i+3:]) {
		t.Fatalf("link %q is not a reminder page link", link)
	}
	return link[i+3:]
}

// A senior's own reminders: create (in their time zone, with a link to the reminder page),
// list, pause, resume, cancel — and another senior can touch none of it.
func TestMemberReminders(t *testing.T) {
	f := newFixture(t)
	a := f.sessions[memberA]

	f.calls.Reset()
	created := f.do(testenv.WithSession(readEvent(t, "me-create"), a), 201)
	if n := f.calls.Total(); n > 4 {
		t.Errorf("create made %d AWS calls, want ≤ 4 (session, member, count, transaction):\n%s", n, f.calls.Snapshot())
	}
	id := created["id"].(string)
	rule := created["rule"].(map[string]any)
	if created["kind"] != "medication" || created["status"] != "active" || created["createdVia"] != "member" ||
		created["nextAt"] != "2026-11-24T00:00:00Z" || rule["timeZone"] != "Asia/Shanghai" || rule["at"] != "08:00" ||
		created["hasClip"] != false || !strings.HasPrefix(created["link"].(string), "https://yl.example.cn/r/") {
		t.Errorf("created = %v", created)
	}
	pageToken(t, created)

	// Another zone, an hour written "7:30", weekdays as people number them.
	en := f.do(testenv.WithSession(readEvent(t, "me-create-event-en"), a), 201)
	enRule := en["rule"].(map[string]any)
	if enRule["at"] != "07:30" || enRule["timeZone"] != "Europe/London" || en["nextAt"] != "2026-11-26T07:30:00Z" ||
		len(enRule["weekdays"].([]any)) != 2 || enRule["weekdays"].([]any)[1] != 4.0 || enRule["until"] != "2026-12-31" {
		t.Errorf("weekly reminder = %v", en)
	}

	list := f.do(testenv.WithSession(readEvent(t, "me-list"), a), 200)
	if rs := list["reminders"].([]any); len(rs) != 2 || rs[0].(map[string]any)["id"] != id {
		t.Errorf("list = %v", list)
	}

	paused := f.do(testenv.WithSession(testenv.WithParam(readEvent(t, "me-update"), "id", id), a), 200)
	if paused["status"] != "paused" || paused["nextAt"] != nil || paused["updatedVia"] != "member" {
		t.Errorf("paused = %v", paused)
	}
	resumed := f.do(testenv.WithSession(testenv.WithBody(testenv.WithParam(readEvent(t, "me-update"), "id", id), `{"status":"active"}`), a), 200)
	if resumed["status"] != "active" || resumed["nextAt"] != "2026-11-24T00:00:00Z" {
		t.Errorf("resumed = %v", resumed)
	}

	// Another senior — of the same store or another — finds nothing, and changes nothing.
	before := f.reminder(storeID, id)
	for _, who := range []string{memberB, memberE} {
		for _, req := range []events.APIGatewayV2HTTPRequest{
			testenv.WithParam(readEvent(t, "me-update"), "id", id), testenv.WithParam(readEvent(t, "me-cancel"), "id", id),
		} {
			resp, body := f.invoke(testenv.WithSession(req, f.sessions[who]))
			if code, _, _ := testenv.ErrorOf(body); resp.StatusCode != 404 || code != "reminder_not_found" {
				t.Errorf("%s by %s: %d %s, want 404 reminder_not_found", req.RouteKey, who, resp.StatusCode, resp.Body)
			}
		}
	}
	if after := f.reminder(storeID, id); !after.UpdatedAt.Equal(before.UpdatedAt) || after.Status != before.Status {
		t.Errorf("another senior changed the reminder: %+v → %+v", before, after)
	}
	if list := f.do(testenv.WithSession(readEvent(t, "me-list"), f.sessions[memberB]), 200); len(list["reminders"].([]any)) != 0 {
		t.Errorf("B sees A's reminders: %v", list)
	}

	f.do(testenv.WithSession(testenv.WithParam(readEvent(t, "me-cancel"), "id", id), a), 204)
	if r := f.reminder(storeID, id); r.Status != reminder.StatusCancelled || !r.NextAt.IsZero() || r.UpdatedVia != reminder.ViaMember {
		t.Errorf("cancelled reminder = %+v", r)
	}
	f.do(testenv.WithSession(testenv.WithParam(readEvent(t, "me-cancel"), "id", id), a), 204) // again: done already
	resp, body := f.invoke(testenv.WithSession(testenv.WithParam(readEvent(t, "me-update"), "id", id), a))
	if code, _, _ := testenv.ErrorOf(body); resp.StatusCode != 409 || code != "reminder_cancelled" {
		t.Errorf("pausing a cancelled reminder: %d %s", resp.StatusCode, resp.Body)
	}
}

// Every refusal answers the right status and code, in the caller's language, names the field,
// and changes nothing in the table.
func TestRefusalsChangeNothing(t *testing.T) {
	f := newFixture(t)
	existing := f.do(testenv.WithSession(readEvent(t, "me-create"), f.sessions[memberA]), 201)["id"].(string)
	othersReminder := f.do(testenv.WithSession(readEvent(t, "me-create"), f.sessions[memberE]), 201)["id"].(string)
	never := f.do(testenv.WithSession(readEvent(t, "me-create"), f.sessions[memberA]), 201)
	neverToken := pageToken(t, never)
	a, b := f.sessions[memberA], f.sessions[memberB]

	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		code   string
		field  string
	}{
		{"invalid time", testenv.WithSession(readEvent(t, "me-create-bad-time"), a), 400, "invalid_time", "rule.at"},
		{"invalid zone", testenv.WithSession(readEvent(t, "me-create-bad-zone"), a), 400, "invalid_time_zone", "rule.timeZone"},
		{"weekday 8", testenv.WithSession(readEvent(t, "me-create-bad-weekday"), a), 400, "invalid_recurrence", "rule.weekdays"},
		{"hourly", testenv.WithSession(readEvent(t, "me-create-bad-freq"), a), 400, "invalid_recurrence", "rule.freq"},
		{"30 February", testenv.WithSession(readEvent(t, "me-create-bad-date"), a), 400, "invalid_date", "rule.start"},
		{"once, in the past", testenv.WithSession(readEvent(t, "me-create-past"), a), 400, "no_occurrence", "rule"},
		{"unknown kind", testenv.WithSession(readEvent(t, "me-create-bad-kind"), a), 400, "invalid_kind", "kind"},
		{"no text, no clip", testenv.WithSession(readEvent(t, "me-create-no-text"), a), 400, "invalid_text", "text"},
		{"unknown field", testenv.WithSession(readEvent(t, "me-create-unknown-field"), a), 400, "unknown_field", "memberId"},
		{"clip never uploaded", testenv.WithSession(readEvent(t, "me-create-clip-missing"), a), 404, "clip_not_found", ""},
		{"medication without health consent", testenv.WithSession(readEvent(t, "me-create"), b), 400, "health_consent_required", "kind"},
		{"no session", readEvent(t, "me-create"), 401, "session_required", ""},
		{"status cancelled", testenv.WithSession(testenv.WithParam(readEvent(t, "me-update-bad-status"), "id", existing), a), 400, "invalid_reminder_status", "status"},
		{"empty patch", testenv.WithSession(testenv.WithParam(readEvent(t, "me-update-empty"), "id", existing), a), 400, "empty_update", ""},
		{"invalid time in a patch", testenv.WithSession(testenv.WithBody(testenv.WithParam(readEvent(t, "me-update"), "id", existing),
			`{"rule":{"freq":"daily","start":"2026-11-24","at":"8h"}}`), a), 400, "invalid_time", "rule.at"},
		{"not an id", testenv.WithSession(testenv.WithParam(readEvent(t, "me-update"), "id", "x"), a), 404, "reminder_not_found", ""},

		{"view scope writes", testenv.WithParam(readEvent(t, "family-create"), "token", f.viewer), 403, "forbidden", ""},
		{"view scope cancels", testenv.WithParam(testenv.WithParam(readEvent(t, "family-cancel"), "token", f.viewer), "id", existing), 403, "forbidden", ""},
		{"view scope uploads", testenv.WithParam(readEvent(t, "family-upload"), "token", f.viewer), 403, "forbidden", ""},
		{"expired link", testenv.WithParam(readEvent(t, "family-create"), "token", f.expired), 404, "family_link_not_found", ""},
		{"garbage link", testenv.WithParam(readEvent(t, "family-list"), "token", "garbage"), 404, "family_link_not_found", ""},
		{"clip too large", testenv.WithParam(readEvent(t, "family-upload-too-large"), "token", f.helper), 413, "clip_too_large", "size"},
		{"clip of the wrong type", testenv.WithParam(readEvent(t, "family-upload-wrong-type"), "token", f.helper), 415, "clip_type", "contentType"},
		{"upload without a session", readEvent(t, "me-upload"), 401, "session_required", ""},
		{"my clip too large", testenv.WithSession(readEvent(t, "me-upload-too-large"), a), 413, "clip_too_large", "size"},
		{"my clip of the wrong type", testenv.WithSession(readEvent(t, "me-upload-wrong-type"), a), 415, "clip_type", "contentType"},
		{"my empty clip", testenv.WithSession(testenv.WithBody(readEvent(t, "me-upload"), `{"contentType":"audio/webm","size":0}`), a), 400, "clip_empty", "size"},
		{"another store's reminder by family", testenv.WithParam(testenv.WithParam(readEvent(t, "family-update"), "token", f.helper), "id", othersReminder), 404, "reminder_not_found", ""},

		{"another store's member", readEvent(t, "staff-create-other-store"), 404, "member_not_found", ""},
		{"another store's member's list", readEvent(t, "staff-list-other-store"), 404, "member_not_found", ""},
		{"another store's reminder", testenv.WithParam(readEvent(t, "staff-update"), "rid", othersReminder), 404, "reminder_not_found", ""},
		{"another store's reminder's history", testenv.WithParam(readEvent(t, "reminder-deliveries"), "id", othersReminder), 404, "reminder_not_found", ""},
		{"another store's group", readEvent(t, "broadcast-other-store"), 404, "group_not_found", ""},
		{"a group without a robot", testenv.WithParam(readEvent(t, "broadcast"), "id", quietGroupID), 409, "no_wecom_robot", "wecom"},
		{"not a broadcast id", testenv.WithParam(readEvent(t, "broadcast-deliveries"), "id", "b1"), 404, "broadcast_not_found", ""},
		{"invalid time in a broadcast", testenv.WithBody(readEvent(t, "broadcast"),
			`{"kind":"event","text":"讲座","rule":{"freq":"once","start":"2026-11-24","at":"9 点"}}`), 400, "invalid_time", "rule.at"},

		{"garbage page token", testenv.WithParam(readEvent(t, "page"), "token", "garbage"), 404, "reminder_not_found", ""},
		{"unknown page token", testenv.WithParam(readEvent(t, "page"), "token", strings.Repeat("A", 22)), 404, "reminder_not_found", ""},
		{"nothing sent yet", testenv.WithParam(readEvent(t, "ack"), "token", neverToken), 409, "nothing_to_acknowledge", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			before := f.items()
			resp, body := f.invoke(tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			code, field, msg := testenv.ErrorOf(body)
			if code != tt.code || field != tt.field {
				t.Errorf("error = %s (%s), want %s (%s)", code, field, tt.code, tt.field)
			}
			if msg == "" || strings.HasPrefix(msg, "error.") {
				t.Errorf("message %q is missing from the catalog", msg)
			}
			if after := f.items(); after != before {
				t.Errorf("items %d → %d: a refused request changed the table", before, after)
			}
		})
	}
}

// A relative with a helper link adds, changes and cancels the senior's reminders, and records
// one in their own voice; a view link only reads.
func TestFamilyHelper(t *testing.T) {
	f := newFixture(t)
	created := f.do(testenv.WithParam(readEvent(t, "family-create"), "token", f.helper), 201)
	id := created["id"].(string)
	if created["createdVia"] != "family" || created["link"] != nil || created["nextAt"] != "2026-11-24T23:00:00Z" {
		t.Errorf("family reminder = %v", created)
	}
	if r := f.reminder(storeID, id); r.MemberID != memberA || r.CreatedVia != reminder.ViaFamily || r.CreatedBy == "" {
		t.Errorf("stored = %+v", r)
	}
	for _, tok := range []string{f.helper, f.viewer} {
		list := f.do(testenv.WithParam(readEvent(t, "family-list"), "token", tok), 200)
		rs := list["reminders"].([]any)
		if len(rs) != 1 || rs[0].(map[string]any)["link"] != nil {
			t.Errorf("family list = %v", list)
		}
	}
	updated := f.do(testenv.WithParam(testenv.WithParam(readEvent(t, "family-update"), "token", f.helper), "id", id), 200)
	if updated["text"] != "妈，该吃降压药了。" || updated["updatedVia"] != "family" {
		t.Errorf("updated = %v", updated)
	}

	// A recorded clip: presign, PUT straight to the bucket, then the reminder names it.
	up := f.do(testenv.WithParam(readEvent(t, "family-upload"), "token", f.helper), 201)
	clipKey := up["clipKey"].(string)
	if up["method"] != "PUT" || !strings.HasPrefix(clipKey, "uploads/"+storeID+"/") || !strings.HasSuffix(clipKey, ".webm") {
		t.Errorf("upload = %v", up)
	}
	put(t, up, bytes.Repeat([]byte{1}, 4096))
	body := `{"kind":"medication","text":"","clipKey":"` + clipKey + `","rule":{"freq":"daily","start":"2026-11-24","at":"20:00"}}`
	withClip := f.do(testenv.WithBody(testenv.WithParam(readEvent(t, "family-create"), "token", f.helper), body), 201)
	if withClip["hasClip"] != true || withClip["text"] != "" {
		t.Errorf("reminder with a clip = %v", withClip)
	}
	stored := f.reminder(storeID, withClip["id"].(string))
	if !strings.HasPrefix(stored.ClipKey, "clips/"+storeID+"/") {
		t.Errorf("stored clip key %q: the clip was not claimed out of uploads/", stored.ClipKey)
	}

	f.do(testenv.WithParam(testenv.WithParam(readEvent(t, "family-cancel"), "token", f.helper), "id", id), 204)
	if r := f.reminder(storeID, id); r.Status != reminder.StatusCancelled || r.UpdatedVia != reminder.ViaFamily {
		t.Errorf("cancelled = %+v", r)
	}
}

// A senior records a clip of their own — the question they book a doctor Q&A seat with — into
// their own store's uploads, and it can be claimed there like a family helper's.
func TestMemberUpload(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct{ member, store string }{{memberA, storeID}, {memberE, otherStoreID}} {
		up := f.do(testenv.WithSession(readEvent(t, "me-upload"), f.sessions[tt.member]), 201)
		clipKey, _ := up["clipKey"].(string)
		if up["method"] != "PUT" || up["uploadUrl"] == "" || !strings.HasPrefix(clipKey, "uploads/"+tt.store+"/") ||
			!strings.HasSuffix(clipKey, ".webm") {
			t.Errorf("%s's upload = %v", tt.member, up)
		}
	}
	up := f.do(testenv.WithSession(readEvent(t, "me-upload"), f.sessions[memberA]), 201)
	put(t, up, bytes.Repeat([]byte{1}, 4096))
	clip, err := voice.NewUploads(bucket.New(f.env.AWS, f.bucket), func() time.Time { return f.now }).
		Claim(context.Background(), storeID, up["clipKey"].(string))
	if err != nil || !strings.HasPrefix(clip, "clips/"+storeID+"/") {
		t.Errorf("claim of the senior's clip = %q, %v", clip, err)
	}
}

// A reminder whose clip was claimed (its key now under clips/) changes like any other, and
// naming its upload again keeps the claimed clip.
func TestChangingAReminderWithAClip(t *testing.T) {
	f := newFixture(t)
	up := f.do(testenv.WithParam(readEvent(t, "family-upload"), "token", f.helper), 201)
	clipKey := up["clipKey"].(string)
	put(t, up, bytes.Repeat([]byte{1}, 4096))
	body := `{"kind":"medication","text":"","clipKey":"` + clipKey + `","rule":{"freq":"daily","start":"2026-11-24","at":"20:00"}}`
	id := f.do(testenv.WithBody(testenv.WithParam(readEvent(t, "family-create"), "token", f.helper), body), 201)["id"].(string)
	claimed := f.reminder(storeID, id).ClipKey

	words := f.do(testenv.WithParam(testenv.WithParam(readEvent(t, "family-update"), "token", f.helper), "id", id), 200)
	if words["hasClip"] != true || words["text"] != "妈，该吃降压药了。" || f.reminder(storeID, id).ClipKey != claimed {
		t.Errorf("clip reminder after a change of text = %v", words)
	}
	f.do(testenv.WithBody(testenv.WithParam(testenv.WithParam(readEvent(t, "family-update"), "token", f.helper), "id", id), `{"clipKey":"`+clipKey+`"}`), 200)
	if got := f.reminder(storeID, id).ClipKey; got != claimed {
		t.Errorf("clip key after naming the upload again = %q, want %q", got, claimed)
	}
	// With words of its own, the reminder can do without the clip.
	if out := f.do(testenv.WithSession(testenv.WithBody(testenv.WithParam(readEvent(t, "me-update"), "id", id), `{"clipKey":""}`), f.sessions[memberA]), 200); out["hasClip"] != false {
		t.Errorf("after removing the clip = %v", out)
	}
}

// A family page gets no reminder page link, so a reminder with a recorded clip carries a
// presigned URL of the clip instead, which plays it; a text reminder carries none (the page
// speaks its words). Signing the URL is computed, not an AWS call: the listing costs what it did.
func TestFamilyListPlaysClips(t *testing.T) {
	f := newFixture(t)
	text := f.do(testenv.WithParam(readEvent(t, "family-create"), "token", f.helper), 201)
	f.calls.Reset()
	f.do(testenv.WithParam(readEvent(t, "family-list"), "token", f.viewer), 200)
	textOnly := f.calls.Snapshot()

	up := f.do(testenv.WithParam(readEvent(t, "family-upload"), "token", f.helper), 201)
	clip := bytes.Repeat([]byte{7}, 4096)
	put(t, up, clip)
	body := `{"kind":"custom","text":"妈，记得量血压","clipKey":"` + up["clipKey"].(string) + `","rule":{"freq":"daily","start":"2026-11-24","at":"20:00"}}`
	voiced := f.do(testenv.WithBody(testenv.WithParam(readEvent(t, "family-create"), "token", f.helper), body), 201)
	if voiced["audioUrl"] == nil || text["audioUrl"] != nil {
		t.Errorf("created: audioUrl %v with a clip, %v without", voiced["audioUrl"], text["audioUrl"])
	}

	for _, tok := range []string{f.viewer, f.helper} {
		f.calls.Reset()
		list := f.do(testenv.WithParam(readEvent(t, "family-list"), "token", tok), 200)
		if diff := cmp.Diff(textOnly.Count, f.calls.Snapshot().Count); diff != "" {
			t.Errorf("AWS calls of a listing with a clip (-without +with):\n%s", diff)
		}
		has := map[string]bool{}
		for _, x := range list["reminders"].([]any) {
			r := x.(map[string]any)
			has[r["id"].(string)] = r["audioUrl"] != nil
		}
		want := map[string]bool{text["id"].(string): false, voiced["id"].(string): true}
		if diff := cmp.Diff(want, has); diff != "" {
			t.Errorf("has an audioUrl, by reminder (-want +got):\n%s", diff)
		}
	}
	t.Logf("a family listing made these AWS calls:\n%s", textOnly)

	// The URL plays the clip as stored (claimed out of uploads/), to anyone holding it.
	url, _ := voiced["audioUrl"].(string)
	if stored := f.reminder(storeID, voiced["id"].(string)).ClipKey; !strings.Contains(url, stored) {
		t.Errorf("audioUrl %q is not of the stored clip %q", url, stored)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !bytes.Equal(got, clip) {
		t.Errorf("GET audioUrl: %d, %d bytes, want 200 and the %d bytes uploaded", resp.StatusCode, len(got), len(clip))
	}
}

// put uploads a clip as a browser would: to the presigned URL, with exactly the headers given.
func put(t testing.TB, upload map[string]any, clip []byte) {
	t.Helper()
	req, err := http.NewRequest(upload["method"].(string), upload["uploadUrl"].(string), bytes.NewReader(clip))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range upload["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT clip: %d", resp.StatusCode)
	}
}

// A clip uploaded around the presigned URL — too large, or not audio — is refused when a
// reminder names it, and nothing is written.
func TestClipsAreCheckedBeforeUse(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name, contentType string
		size              int
		status            int
		code              string
	}{
		{"too large", "audio/webm", voice.MaxClipBytes + 1, 413, "clip_too_large"},
		{"not audio", "text/html", 100, 415, "clip_type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			key := "uploads/" + storeID + "/" + ids.New() + ".webm"
			putObject(t, f, key, tt.contentType, tt.size)
			body := `{"kind":"custom","text":"听我说","clipKey":"` + key + `","rule":{"freq":"daily","start":"2026-11-24","at":"20:00"}}`
			before := f.items()
			resp, out := f.invoke(testenv.WithBody(testenv.WithParam(readEvent(t, "family-create"), "token", f.helper), body))
			if code, _, _ := testenv.ErrorOf(out); resp.StatusCode != tt.status || code != tt.code {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, resp.Body, tt.status, tt.code)
			}
			if f.items() != before {
				t.Errorf("a refused clip changed the table")
			}
		})
	}
	// Another store's clip is not found.
	key := "uploads/" + otherStoreID + "/" + ids.New() + ".webm"
	putObject(t, f, key, "audio/webm", 100)
	body := `{"kind":"custom","text":"","clipKey":"` + key + `","rule":{"freq":"daily","start":"2026-11-24","at":"20:00"}}`
	resp, out := f.invoke(testenv.WithBody(testenv.WithParam(readEvent(t, "family-create"), "token", f.helper), body))
	if code, _, _ := testenv.ErrorOf(out); resp.StatusCode != 404 || code != "clip_not_found" {
		t.Errorf("another store's clip: %d %s", resp.StatusCode, resp.Body)
	}
}

// The reminder page plays the reminder and "收到" acknowledges the occurrence sent — once, never
// one not sent yet.
func TestPageAndAck(t *testing.T) {
	f := newFixture(t)
	created := f.do(testenv.WithSession(readEvent(t, "me-create"), f.sessions[memberA]), 201)
	id, token := created["id"].(string), pageToken(t, created)

	// The link, then the reminder with its member and store; once an occurrence was sent, its
	// acknowledgement too (DESIGN.md §8: 3 DynamoDB calls at most).
	dynamoCalls := func() int { return f.calls.Snapshot().Of("DynamoDB") }
	f.calls.Reset()
	page := f.do(testenv.WithParam(readEvent(t, "page"), "token", token), 200)
	if n := dynamoCalls(); n != 2 {
		t.Errorf("page before the first occurrence made %d DynamoDB calls, want 2:\n%s", n, f.calls.Snapshot())
	}
	if page["id"] != id || page["occurrence"] != "" || page["at"] != "2026-11-24T00:00:00Z" || page["acked"] != false ||
		page["memberName"] != "张秀英" || page["timeZone"] != "Asia/Shanghai" || page["speakText"] != created["text"] ||
		!strings.Contains(page["audioUrl"].(string), "tts/") {
		t.Errorf("page before the first occurrence = %v", page)
	}
	if f.speaker.calls() != 1 || f.speaker.last.lang != "zh-CN" {
		t.Errorf("speaker calls = %d (%+v), want 1 in zh-CN", f.speaker.calls(), f.speaker.last)
	}

	occ := f.dispatch(storeID, id)
	occID := reminder.OccurrenceID(occ)
	f.calls.Reset()
	page = f.do(testenv.WithParam(readEvent(t, "page"), "token", token), 200)
	if n := dynamoCalls(); n != 3 {
		t.Errorf("page after the first occurrence made %d DynamoDB calls, want 3:\n%s", n, f.calls.Snapshot())
	}
	if page["occurrence"] != occID || page["at"] != "2026-11-24T00:00:00Z" || page["nextAt"] != "2026-11-25T00:00:00Z" || page["acked"] != false {
		t.Errorf("page after the first occurrence = %v", page)
	}

	// An occurrence not sent yet cannot be acknowledged, nor a name that is none.
	for _, named := range []string{"20261125T0000Z", "tomorrow"} {
		resp, body := f.invoke(testenv.WithBody(testenv.WithParam(readEvent(t, "ack"), "token", token), `{"occurrence":"`+named+`"}`))
		if code, field, _ := testenv.ErrorOf(body); resp.StatusCode != 409 || code != "nothing_to_acknowledge" || field != "occurrence" {
			t.Errorf("ack %s: %d %s", named, resp.StatusCode, resp.Body)
		}
	}

	f.calls.Reset()
	first := f.do(testenv.WithParam(readEvent(t, "ack"), "token", token), 200)
	if n := f.calls.Total(); n > 3 {
		t.Errorf("ack made %d AWS calls, want ≤ 3:\n%s", n, f.calls.Snapshot())
	}
	if first["acked"] != true || first["occurrence"] != occID {
		t.Errorf("ack = %v", first)
	}
	f.now = f.now.Add(time.Minute)
	again := f.do(testenv.WithBody(testenv.WithParam(readEvent(t, "ack"), "token", token), `{"occurrence":"`+occID+`"}`), 200)
	if again["at"] != first["at"] {
		t.Errorf("second ack = %v, want the first (%v)", again, first)
	}
	if page := f.do(testenv.WithParam(readEvent(t, "page"), "token", token), 200); page["acked"] != true {
		t.Errorf("page after ack = %v", page)
	}

	// Staff see the acknowledgement in the reminder's history.
	hist := f.do(testenv.WithParam(readEvent(t, "reminder-deliveries"), "id", id), 200)
	occs := hist["occurrences"].([]any)
	if len(occs) != 1 || occs[0].(map[string]any)["ack"].(map[string]any)["via"] != "member" {
		t.Errorf("history = %v", hist)
	}

	// When the speech engine fails, the page still opens, and the browser speaks.
	f.handler = lambda.NewHandler(f.build(&fakeSpeaker{err: errors.New("polly is down")}).Handle)
	page = f.do(testenv.WithParam(readEvent(t, "page"), "token", token), 200)
	if page["audioUrl"] != nil || page["speakText"] != created["text"] {
		t.Errorf("page without speech = %v", page)
	}
}

// Where espeak-ng is installed (make deps installs it), the local engine really speaks into the
// emulated bucket, and the page's URL plays it.
func TestPageSpeaksWithEspeak(t *testing.T) {
	f := newFixture(t)
	bin, err := execLookPath("espeak-ng")
	if err != nil {
		t.Skip("espeak-ng is not installed")
	}
	f.handler = lambda.NewHandler(f.build(&voice.EspeakSpeaker{Bin: bin, Bucket: bucket.New(f.env.AWS, f.bucket)}).Handle)
	created := f.do(testenv.WithSession(readEvent(t, "me-create"), f.sessions[memberA]), 201)
	page := f.do(testenv.WithParam(readEvent(t, "page"), "token", pageToken(t, created)), 200)
	url, _ := page["audioUrl"].(string)
	if !strings.Contains(url, ".wav") {
		t.Fatalf("audioUrl = %q", url)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var head [4]byte
	if _, err := resp.Body.Read(head[:]); resp.StatusCode != 200 || err != nil || string(head[:]) != "RIFF" {
		t.Errorf("GET audio: %d %q %v", resp.StatusCode, head, err)
	}
}

// Staff make, change and cancel a member's reminders, and see deliveries, alerts and queues.
func TestStaff(t *testing.T) {
	f := newFixture(t)
	created := f.do(readEvent(t, "staff-create"), 201)
	id := created["id"].(string)
	if created["createdVia"] != "staff" || created["nextAt"] != "2026-11-30T00:30:00Z" {
		t.Errorf("created = %v", created)
	}
	pageToken(t, created)
	if list := f.do(readEvent(t, "staff-list"), 200); len(list["reminders"].([]any)) != 1 {
		t.Errorf("list = %v", list)
	}
	updated := f.do(testenv.WithParam(readEvent(t, "staff-update"), "rid", id), 200)
	if r := updated["rule"].(map[string]any); r["freq"] != "every_days" || r["interval"] != 2.0 || updated["nextAt"] != "2026-11-24T01:00:00Z" {
		t.Errorf("updated = %v", updated)
	}
	if hist := f.do(testenv.WithParam(readEvent(t, "reminder-deliveries"), "id", id), 200); len(hist["occurrences"].([]any)) != 0 {
		t.Errorf("history of a reminder never sent = %v", hist)
	}
	// A's reminder named under B's id is not found.
	resp, _ := f.invoke(testenv.WithParam(testenv.WithParam(readEvent(t, "staff-cancel"), "id", memberB), "rid", id))
	if resp.StatusCode != 404 {
		t.Errorf("cancel under another member: %d %s", resp.StatusCode, resp.Body)
	}
	f.do(testenv.WithParam(readEvent(t, "staff-cancel"), "rid", id), 204)
	if r := f.reminder(storeID, id); r.Status != reminder.StatusCancelled || r.UpdatedBy != "staff-1" {
		t.Errorf("cancelled = %+v", r)
	}

	if alerts := f.do(readEvent(t, "alerts"), 200); len(alerts["alerts"].([]any)) != 0 {
		t.Errorf("alerts = %v", alerts)
	}
	up := f.do(readEvent(t, "staff-upload"), 201)
	if !strings.HasSuffix(up["clipKey"].(string), ".m4a") {
		t.Errorf("upload = %v", up)
	}

	// One message waiting in the deliveries DLQ shows.
	dlq := f.env.Ref("DeliveriesDLQ")
	if _, err := f.env.SQS.SendMessage(context.Background(), sqsSend(dlq, `{"poison":true}`)); err != nil {
		t.Fatal(err)
	}
	queues := f.do(readEvent(t, "queues"), 200)["queues"].([]any)
	if len(queues) != 3 {
		t.Fatalf("queues = %v", queues)
	}
	q := queues[0].(map[string]any)
	if q["name"] != "deliveries" || q["dlq"].(map[string]any)["visible"] != 1.0 || q["visible"] != 0.0 {
		t.Errorf("deliveries queue = %v", q)
	}
}

// A broadcast gives every active, verified member of the group a reminder of their own — those
// without health consent no medication one — and a retry with the same key writes nothing new.
func TestBroadcast(t *testing.T) {
	f := newFixture(t)
	before := f.items()
	f.calls.Reset()
	first := f.do(readEvent(t, "broadcast"), 202)
	t.Logf("a broadcast to 2 members made these AWS calls:\n%s", f.calls.Snapshot())
	if first["reminders"] != 2.0 || first["skipped"] != 0.0 || first["wecom"] != true {
		t.Errorf("broadcast = %v", first)
	}
	// The broadcast's record, and three reminders — A's, B's and the group robot's — each with
	// its page link.
	if after := f.items(); after != before+7 {
		t.Errorf("items %d → %d, want 7 more (the broadcast, 3 reminders, 3 links)", before, after)
	}
	bid := first["broadcastId"].(string)
	for _, m := range []string{memberA, memberB} {
		list := f.do(testenv.WithSession(readEvent(t, "me-list"), f.sessions[m]), 200)
		rs := list["reminders"].([]any)
		if len(rs) != 1 {
			t.Fatalf("%s's reminders = %v", m, list)
		}
		r := rs[0].(map[string]any)
		if r["broadcastId"] != bid || r["groupId"] != groupID || r["createdVia"] != "staff" || r["nextAt"] != "2026-11-24T01:00:00Z" {
			t.Errorf("%s's broadcast reminder = %v", m, r)
		}
		pageToken(t, r)
	}

	again := f.do(readEvent(t, "broadcast"), 202)
	if again["broadcastId"] != bid || f.items() != before+7 {
		t.Errorf("retried broadcast = %v (items %d), want the first, and nothing new", again, f.items())
	}

	med := f.do(readEvent(t, "broadcast-medication"), 202)
	if med["reminders"] != 1.0 || med["skipped"] != 1.0 || med["broadcastId"] == bid {
		t.Errorf("medication broadcast = %v, want 1 reminder and B skipped", med)
	}
	if list := f.do(testenv.WithSession(readEvent(t, "me-list"), f.sessions[memberB]), 200); len(list["reminders"].([]any)) != 1 {
		t.Errorf("B got a medication reminder without health consent: %v", list)
	}

	f.calls.Reset()
	if d := f.do(testenv.WithParam(readEvent(t, "broadcast-deliveries"), "id", bid), 200); len(d["deliveries"].([]any)) != 0 {
		t.Errorf("deliveries before any were sent = %v", d)
	}
	if n := f.calls.Total(); n != 2 {
		t.Errorf("deliveries of a broadcast with none yet: %d AWS calls, want 2 (the page, the record)\n%s", n, f.calls.Snapshot())
	}
	// Another store's staff asking for this broadcast get not found, not an empty list.
	foreign := testenv.AsStore(testenv.WithParam(readEvent(t, "broadcast-deliveries"), "id", bid), "another-store")
	if resp, body := f.invoke(foreign); resp.StatusCode != 404 {
		t.Errorf("another store's staff read the broadcast: %d %v", resp.StatusCode, body)
	}

	// The group's own reminder, the one its robot posts, has a page too: the store's name, no
	// senior's, and nothing to confirm — nobody in particular answers a group post.
	page, err := f.store.ListMemberReminders(context.Background(), storeID, "", "", 10)
	if err != nil || len(page.Items) != 1 || page.Items[0].BroadcastID != bid || page.Items[0].GroupID != groupID {
		t.Fatalf("the group's reminder = %+v (%v)", page.Items, err)
	}
	robot := page.Items[0]
	f.dispatch(storeID, robot.ID)
	token := reminder.LinkToken([]byte("test-key"), storeID, robot.ID)
	shown := f.do(testenv.WithParam(readEvent(t, "page"), "token", token), 200)
	if shown["memberName"] != nil || shown["storeName"] != "幸福里药房" || shown["occurrence"] != "20261124T0100Z" {
		t.Errorf("group reminder page = %v", shown)
	}
	resp, body := f.invoke(testenv.WithParam(readEvent(t, "ack"), "token", token))
	if code, _, _ := testenv.ErrorOf(body); resp.StatusCode != 409 || code != "nothing_to_acknowledge" {
		t.Errorf("ack of a group post: %d %s", resp.StatusCode, resp.Body)
	}
}

// fakeSpeaker stands in for Polly: the emulator cannot synthesize speech.
type fakeSpeaker struct {
	mu   sync.Mutex
	n    int
	last struct{ text, lang string }
	err  error
}

func (s *fakeSpeaker) Speak(_ context.Context, text, lang string) (voice.Audio, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.last.text, s.last.lang = text, lang
	if s.err != nil {
		return voice.Audio{}, s.err
	}
	return voice.Audio{Key: "tts/0123abcd.mp3", ContentType: "audio/mpeg"}, nil
}

func (s *fakeSpeaker) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
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

// putObject writes a clip straight to the bucket, around the presigned URL and its limits.
func putObject(t testing.TB, f *fixture, key, contentType string, size int) {
	t.Helper()
	if _, err := f.env.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &f.bucket, Key: &key,
		ContentType: &contentType, Body: bytes.NewReader(make([]byte, size))}); err != nil {
		t.Fatal(err)
	}
}

func sqsSend(url, body string) *sqs.SendMessageInput {
	return &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body}
}

var execLookPath = exec.LookPath

// Failed lookups of reminder page tokens are limited per client address, like family tokens:
// after MaxGuesses misses even a valid token answers 429 to that address, and only to it.
func TestPageGuessingIsLimited(t *testing.T) {
	f := newFixture(t)
	token := pageToken(t, f.do(testenv.WithSession(readEvent(t, "me-create"), f.sessions[memberA]), 201))
	from := func(req events.APIGatewayV2HTTPRequest, ip string) events.APIGatewayV2HTTPRequest {
		req.RequestContext.HTTP.SourceIP = ip
		return req
	}
	for i := 0; i < dynamostore.MaxGuesses; i++ {
		guess := "wrong-shape"
		if i%2 == 0 {
			guess = strings.Repeat("x", 18) + token[18:] // right shape, wrong token
		}
		if resp, _ := f.invoke(from(testenv.WithParam(readEvent(t, "page"), "token", guess), "198.51.100.7")); resp.StatusCode != 404 {
			t.Fatalf("guess %d: %d, want 404", i, resp.StatusCode)
		}
	}
	resp, body := f.invoke(from(testenv.WithParam(readEvent(t, "page"), "token", token), "198.51.100.7"))
	if code, _, _ := testenv.ErrorOf(body); resp.StatusCode != 429 || code != "rate_limited" {
		t.Errorf("after %d misses: %d %s, want 429 rate_limited", dynamostore.MaxGuesses, resp.StatusCode, resp.Body)
	}
	if resp, _ := f.invoke(from(testenv.WithParam(readEvent(t, "page"), "token", token), "203.0.113.50")); resp.StatusCode != 200 {
		t.Errorf("another address: %d, want 200", resp.StatusCode)
	}
}

// A reminder a Q&A booking made links to the booking's page, where it can be cancelled; other
// reminders have no such link.
func TestPageLinksToTheBooking(t *testing.T) {
	f := newFixture(t)
	rem, err := reminder.New(reminder.Draft{Kind: reminder.KindEvent, Text: "您已预约：11月25日 周三 上午9:30 张医生（心内科）高血压健康讲座",
		Rule: reminder.Rule{Freq: reminder.FreqOnce, Start: "2026-11-23", At: "16:01", TimeZone: "Asia/Shanghai"}}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	session := ids.New()
	rem.ID, rem.StoreID, rem.MemberID, rem.SessionID = ids.New(), storeID, memberA, session
	rem.CreatedBy, rem.CreatedVia, rem.UpdatedBy, rem.UpdatedVia = memberA, reminder.ViaMember, memberA, reminder.ViaMember
	key := []byte("test-key")
	if err := f.store.CreateReminder(context.Background(), rem, member.HashToken(reminder.LinkToken(key, storeID, rem.ID))); err != nil {
		t.Fatal(err)
	}
	page := f.do(testenv.WithParam(readEvent(t, "page"), "token", reminder.LinkToken(key, storeID, rem.ID)), 200)
	if want := "https://yl.example.cn/b/" + qa.BookingToken(key, storeID, session, memberA); page["bookingUrl"] != want {
		t.Errorf("bookingUrl = %v, want %s", page["bookingUrl"], want)
	}
	plain := f.do(testenv.WithSession(readEvent(t, "me-create"), f.sessions[memberA]), 201)
	if page := f.do(testenv.WithParam(readEvent(t, "page"), "token", pageToken(t, plain)), 200); page["bookingUrl"] != nil {
		t.Errorf("a reminder without a booking has bookingUrl %v", page["bookingUrl"])
	}
}

package qa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	qahttp "yinling/functions/qa"
	"yinling/shared/awscalls"
	"yinling/shared/bucket"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/i18n"
	"yinling/shared/ids"
	"yinling/shared/logging"
	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
	"yinling/shared/voice"
)

// Fixtures the sample events in events/qa refer to.
const (
	storeID      = "s-test"
	otherStoreID = "s-other"
	groupID      = "01JDQ7Z6W3V8G0X5Y4K2M9N1PA" // 邻里健康群: A, B, D active; C not verified
	quietGroupID = "01JDQ7Z6W3V8G0X5Y4K2M9N1PC" // 晨练群: nobody
	otherGroupID = "01JDQ7Z6W3V8G0X5Y4K2M9N1PB" // s-other's group: E
	doctorID     = "01JDD0000000000000000000D1" // 张医生, 心内科, of s-test
	memberA      = "01JDR00000000000000000000A" // 张秀英
	memberB      = "01JDR00000000000000000000B" // 李建国
	memberC      = "01JDR00000000000000000000C" // 王芳: phone not verified
	memberD      = "01JDR00000000000000000000D" // 赵桂兰
	memberE      = "01JDR00000000000000000000E" // 陈明, of s-other
)

// key derives the fixture's page tokens.
var key = []byte("test-key")

type fixture struct {
	t       testing.TB
	env     *testenv.Env
	store   *dynamostore.Store
	handler lambda.Handler
	calls   *awscalls.Counter
	now     time.Time
	logs    *syncBuffer
	// sessions are the members' session tokens.
	sessions map[string]string
	// Family link tokens: to A's page with helper and view scope, and to C's with helper scope.
	helper, viewer, helperC string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, calls: &awscalls.Counter{}, now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC),
		logs: &syncBuffer{}, sessions: map[string]string{}}
	f.env = testenv.New(t, testenv.WithAPIOptions(f.calls.Register))
	f.store = dynamostore.New(f.env.DynamoDB, f.env.TableName())
	f.seed()
	f.handler = lambda.NewHandler(qahttp.New(qahttp.Deps{
		Store: f.store,
		Clips: voice.NewUploads(bucket.New(f.env.AWS, f.env.Ref("VoiceBucket")), func() time.Time { return f.now }),
		Key:   key,
		Log:   logging.New(f.logs, slog.LevelDebug),
		Now:   func() time.Time { return f.now },
	}).Handle)
	f.calls.Reset()
	return f
}

// seed makes two stores, their groups and members (see the constants) with sessions, the
// doctor, and three family links.
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
		{ID: groupID, StoreID: storeID, Name: "邻里健康群", JoinCode: "SEED2345"},
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
		verified                            bool
	}{
		{storeID, groupID, memberA, "SEED2345", "张秀英", "13800138000", true},
		{storeID, groupID, memberB, "SEED2345", "李建国", "13900139001", true},
		{storeID, groupID, memberC, "SEED2345", "王芳", "13700137002", false},
		{storeID, groupID, memberD, "SEED2345", "赵桂兰", "13600136003", true},
		{otherStoreID, otherGroupID, memberE, "OTHR2345", "陈明", "13500135004", true},
	} {
		f.join(j.store, j.group, j.id, j.code, j.name, j.phone, j.verified)
	}
	if err := f.store.CreateDoctor(ctx, qa.Doctor{ID: doctorID, StoreID: storeID, Name: "张医生", Title: "主任医师",
		Speciality: "心内科", Bio: "从医三十年，擅长高血压的长期管理。", CreatedAt: f.now}); err != nil {
		f.t.Fatal(err)
	}
	link := func(memberID string, scope member.Scope) string {
		token := member.NewToken()
		if err := f.store.CreateFamilyLink(ctx, member.FamilyLink{ID: ids.New(), StoreID: storeID, MemberID: memberID,
			Label: "女儿", Scope: scope, TokenHash: member.HashToken(token), CreatedBy: memberID,
			CreatedAt: f.now, ExpiresAt: f.now.AddDate(0, 0, 30)}); err != nil {
			f.t.Fatal(err)
		}
		return token
	}
	f.helper, f.viewer, f.helperC = link(memberA, member.ScopeHelper), link(memberA, member.ScopeView), link(memberC, member.ScopeHelper)
}

// join signs a member up to a group ten days ago and, if verified, completes the join with a
// session, whose token it keeps in f.sessions.
func (f *fixture) join(store, groupID, id, code, name, phone string, verified bool) {
	f.t.Helper()
	ctx := context.Background()
	at := f.now.AddDate(0, 0, -10)
	m, consents, err := member.NewSignup(member.SignupDraft{Name: name, Phone: phone, BirthYear: 1950,
		Consents: map[member.ConsentKind]bool{member.ConsentService: true}, AcceptCovenant: true}, nil, at)
	if err != nil {
		f.t.Fatal(err)
	}
	m.ID, m.StoreID = id, store
	if err := f.store.Signup(ctx, dynamostore.SignupWrite{Member: m, NewMember: true, PhoneHash: "phone-" + id,
		Consents: consents, Membership: member.Membership{StoreID: store, GroupID: groupID, MemberID: id,
			Status: member.StatusPendingVerification, Path: member.PathQR, Code: code, JoinedAt: at},
		OTP: member.NewOTPState(member.NewOTP(), id, key, at), Rule: group.RuleOpen, Now: at}); err != nil {
		f.t.Fatal(err)
	}
	if !verified {
		return
	}
	rec, err := f.store.GetOTP(ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	token := member.NewToken()
	if err := f.store.CompleteVerification(ctx, dynamostore.Verification{Record: rec, Status: member.StatusActive,
		SessionHash: member.HashToken(token), SessionExpires: f.now.AddDate(0, 0, 90), Now: at.Add(time.Minute)}); err != nil {
		f.t.Fatal(err)
	}
	f.sessions[id] = token
}

func readEvent(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	return testenv.Event(t, "qa", name)
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

// session has staff schedule a session for the day after tomorrow, 9:30 in Shanghai, with
// capacity seats, for the target groups given (none: everyone); it returns the session's id.
func (f *fixture) session(capacity int, targets ...string) string {
	f.t.Helper()
	draft := map[string]any{"doctorId": doctorID, "title": "高血压健康讲座", "startAt": "2026-11-25T01:30:00Z",
		"endAt": "2026-11-25T03:00:00Z", "place": map[string]any{"kind": "store", "address": "二楼活动室"},
		"capacity": capacity, "targetGroups": targets}
	b, _ := json.Marshal(draft)
	return f.do(testenv.WithBody(readEvent(f.t, "staff-create-session"), string(b)), 201)["id"].(string)
}

// book books session for a member as they would, answering 201 (or want).
func (f *fixture) book(session, memberID string, want int) map[string]any {
	f.t.Helper()
	return f.do(testenv.WithSession(testenv.WithParam(readEvent(f.t, "book"), "id", session), f.sessions[memberID]), want)
}

// reminders are a member's reminders of a session, oldest first.
func (f *fixture) reminders(memberID, session string) []reminder.Reminder {
	f.t.Helper()
	page, err := f.store.ListMemberReminders(context.Background(), storeID, memberID, "", 100)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []reminder.Reminder
	for _, r := range page.Items {
		if r.SessionID == session {
			out = append(out, r)
		}
	}
	return out
}

// summarize writes reminders as "status kind next-occurrence text-start", for cmp.Diff.
func summarize(rs []reminder.Reminder) []string {
	var out []string
	for _, r := range rs {
		next := "-"
		if !r.NextAt.IsZero() {
			next = r.NextAt.UTC().Format(time.RFC3339)
		}
		text := []rune(r.Text)
		out = append(out, string(r.Status)+" "+string(r.Kind)+" "+next+" "+string(text[:min(len(text), 4)]))
	}
	return out
}

// dynamoCalls counts the DynamoDB calls made since the last reset.
func (f *fixture) dynamoCalls() int {
	return f.calls.Snapshot().Of("DynamoDB")
}

// pageToken is the token at the end of a booking's link.
func pageToken(t testing.TB, booking map[string]any) string {
	t.Helper()
	link, _ := booking["link"].(string)
	i := strings.LastIndex(link, "/b/")
	if i < 0 || len(link[i+3:]) != 22 {
		t.Fatalf("link %q is not a booking page link", link)
	}
	return link[i+3:]
}

// obj is a JSON object of a decoded body, or nil.
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// Staff add a doctor and schedule a session at the store's time; a retry with the same
// Idempotency-Key makes nothing new.
func TestStaffSchedules(t *testing.T) {
	f := newFixture(t)
	doc := f.do(readEvent(t, "staff-create-doctor"), 201)
	if doc["name"] != "王医生" || doc["speciality"] != "内分泌科" || !ids.Valid(doc["id"].(string)) {
		t.Errorf("doctor = %v", doc)
	}
	if ds := f.do(readEvent(t, "staff-doctors"), 200)["doctors"].([]any); len(ds) != 2 {
		t.Errorf("doctors = %v", ds)
	}

	req := readEvent(t, "staff-create-session")
	req.Headers["idempotency-key"] = "6f1c2e4a-8b7d-4c1e-9f3a-2d5b7e9c0a11"
	before := f.items()
	s := f.do(req, 201)
	want := map[string]any{
		"title": "高血压健康讲座", "startAt": "2026-11-25T01:30:00Z", "endAt": "2026-11-25T03:00:00Z",
		"timeZone": "Asia/Shanghai", "when": "11月25日 周三 上午9:30", "capacity": 2.0, "seatsLeft": 2.0,
		"confirmed": 0.0, "waiting": 0.0, "closesAt": "2026-11-24T23:30:00Z", "bookable": true, "status": "scheduled",
		"remindBefore": []any{1440.0, 60.0}, "targetGroups": []any{}, "attended": 0.0, "noShow": 0.0,
		"place":  map[string]any{"kind": "store", "address": "二楼活动室"},
		"doctor": map[string]any{"id": doctorID, "name": "张医生", "title": "主任医师", "speciality": "心内科"},
	}
	got := map[string]any{}
	for k := range want {
		got[k] = s[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	if f.items() != before+1 {
		t.Errorf("items %d → %d, want one session more", before, f.items())
	}
	again := f.do(req, 201)
	if again["id"] != s["id"] || f.items() != before+1 {
		t.Errorf("retried create = %v, want the first (%v) and nothing new", again["id"], s["id"])
	}
	en := readEvent(t, "staff-sessions")
	en.Headers["accept-language"] = "en"
	if list := f.do(en, 200)["sessions"].([]any); len(list) != 1 || obj(list[0])["when"] != "Wed 25 Nov, 9:30 AM" {
		t.Errorf("upcoming sessions (en) = %v", list)
	}
	if past := f.do(readEvent(t, "staff-past-sessions"), 200)["sessions"].([]any); len(past) != 0 {
		t.Errorf("past sessions = %v", past)
	}
	one := f.do(testenv.WithParam(readEvent(t, "staff-session"), "id", s["id"].(string)), 200)
	if len(one["bookings"].([]any)) != 0 || obj(one["session"])["id"] != s["id"] {
		t.Errorf("staff session = %v", one)
	}
}

// A senior books the last seat, and gets a notice and the session's reminders; a double tap
// answers the same booking; those after them wait, in order; when the seat holder cancels, the
// first waiting gets the seat and its reminders, in the same request.
func TestBookingWaitlistAndPromotion(t *testing.T) {
	f := newFixture(t)
	id := f.session(1)

	f.calls.Reset()
	list := f.do(testenv.WithSession(readEvent(t, "sessions"), f.sessions[memberA]), 200)["sessions"].([]any)
	if len(list) != 1 || obj(list[0])["seatsLeft"] != 1.0 || obj(list[0])["bookable"] != true || obj(list[0])["my"] != nil {
		t.Fatalf("sessions before booking = %v", list)
	}
	// The member session, then the sessions and the member's partition: no booking to read.
	if n := f.dynamoCalls(); n != 3 {
		t.Errorf("listing sessions without bookings made %d DynamoDB calls, want 3", n)
	}

	f.calls.Reset()
	booked := f.book(id, memberA, 201)
	calls := f.calls.Snapshot()
	t.Logf("a confirmed booking made these AWS calls:\n%s", calls)
	if n := f.dynamoCalls(); n > 3 {
		t.Errorf("booking made %d DynamoDB calls, want ≤ 3 (member session, session read, transaction)", n)
	}
	b := obj(booked["booking"])
	if booked["status"] != "confirmed" || booked["position"] != nil || b["via"] != "member" ||
		b["question"] != "降压药饭前吃还是饭后吃？" || obj(booked["session"])["seatsLeft"] != 0.0 ||
		obj(obj(booked["session"])["my"])["status"] != "confirmed" {
		t.Errorf("booked = %v", booked)
	}
	token := pageToken(t, b)
	if token != qa.BookingToken(key, storeID, id, memberA) {
		t.Errorf("booking page token %q is not the booking's", token)
	}

	// A notice at the next minute, then the day before and an hour before: events, tagged.
	rs := f.reminders(memberA, id)
	want := []string{
		"active event 2026-11-23T08:01:00Z 您已预约",
		"active event 2026-11-24T01:30:00Z 提醒：1",
		"active event 2026-11-25T00:30:00Z 提醒：1",
	}
	if diff := cmp.Diff(want, summarize(rs)); diff != "" {
		t.Errorf("A's reminders (-want +got):\n%s", diff)
	}
	if len(rs) > 0 && rs[0].Text != "您已预约：11月25日 周三 上午9:30 张医生（心内科）高血压健康讲座，地点：二楼活动室。" {
		t.Errorf("notice = %q", rs[0].Text)
	}

	before := f.items()
	again := f.book(id, memberA, 200)
	if obj(again["booking"])["createdAt"] != b["createdAt"] || again["status"] != "confirmed" || f.items() != before {
		t.Errorf("double tap = %v (items %d → %d), want the first booking and nothing new", again, before, f.items())
	}

	waitB := f.book(id, memberB, 201)
	waitD := f.book(id, memberD, 201)
	if waitB["status"] != "waitlisted" || waitB["position"] != 1.0 || waitD["position"] != 2.0 ||
		obj(waitD["session"])["waiting"] != 2.0 {
		t.Errorf("waitlist: B %v, D %v", waitB, waitD)
	}
	if rs := f.reminders(memberB, id); len(rs) != 0 {
		t.Errorf("a place on the waitlist made reminders: %v", summarize(rs))
	}
	mine := f.do(testenv.WithSession(readEvent(t, "my-bookings"), f.sessions[memberD]), 200)["bookings"].([]any)
	if len(mine) != 1 || obj(mine[0])["status"] != "waitlisted" || obj(mine[0])["position"] != 2.0 ||
		obj(mine[0])["when"] != "11月25日 周三 上午9:30" || obj(mine[0])["doctor"] != "张医生" {
		t.Errorf("D's bookings = %v", mine)
	}

	f.calls.Reset()
	cancelled := f.do(testenv.WithSession(testenv.WithParam(readEvent(t, "cancel"), "id", id), f.sessions[memberA]), 200)
	t.Logf("a cancellation that promotes made these AWS calls:\n%s", f.calls.Snapshot())
	if n := f.dynamoCalls(); n > 4 {
		t.Errorf("cancelling with a promotion made %d DynamoDB calls, want ≤ 4 (member session, session and "+
			"waitlist head, booking, transaction)", n)
	}
	if cancelled["promoted"] != true || obj(cancelled["booking"])["status"] != "cancelled" ||
		obj(cancelled["booking"])["cancelledVia"] != "member" {
		t.Errorf("cancelled = %v", cancelled)
	}
	for _, r := range f.reminders(memberA, id) {
		if r.Status != reminder.StatusCancelled || !r.NextAt.IsZero() {
			t.Errorf("A's reminder after cancelling = %+v", r)
		}
	}
	want = []string{
		"active event 2026-11-23T08:01:00Z 好消息：",
		"active event 2026-11-24T01:30:00Z 提醒：1",
		"active event 2026-11-25T00:30:00Z 提醒：1",
	}
	if diff := cmp.Diff(want, summarize(f.reminders(memberB, id))); diff != "" {
		t.Errorf("B's reminders after the promotion (-want +got):\n%s", diff)
	}
	seen := f.do(testenv.WithSession(testenv.WithParam(readEvent(t, "session"), "id", id), f.sessions[memberB]), 200)
	if my := obj(seen["my"]); my["status"] != "confirmed" || my["promotedAt"] == nil {
		t.Errorf("B's booking after the promotion = %v", my)
	}
	if d := obj(f.do(testenv.WithSession(readEvent(t, "sessions"), f.sessions[memberD]), 200)["sessions"].([]any)[0])["my"]; obj(d)["position"] != 1.0 {
		t.Errorf("D's place after the promotion = %v", d)
	}

	staff := f.do(testenv.WithParam(readEvent(t, "staff-session"), "id", id), 200)
	var rows []string
	for _, x := range staff["bookings"].([]any) {
		b := obj(x)
		rows = append(rows, b["memberName"].(string)+" "+b["status"].(string))
	}
	if diff := cmp.Diff([]string{"李建国 confirmed", "赵桂兰 waitlisted", "张秀英 cancelled"}, rows); diff != "" {
		t.Errorf("staff bookings (-want +got):\n%s", diff)
	}
	if s := obj(staff["session"]); s["confirmed"] != 1.0 || s["waiting"] != 1.0 {
		t.Errorf("staff session counts = %v", s)
	}
}

// A session for some groups is listed, and bookable, only for their active members.
func TestTargetGroups(t *testing.T) {
	f := newFixture(t)
	forUs := f.session(5, groupID)
	quiet := f.session(5, quietGroupID)
	everyone := f.session(5)
	var listed []string
	for _, x := range f.do(testenv.WithSession(readEvent(t, "sessions"), f.sessions[memberA]), 200)["sessions"].([]any) {
		listed = append(listed, obj(x)["id"].(string))
	}
	want := []string{forUs, everyone}
	slices.Sort(want)
	slices.Sort(listed)
	if diff := cmp.Diff(want, listed); diff != "" {
		t.Errorf("A's sessions (-want +got):\n%s", diff)
	}
	f.book(forUs, memberA, 201)
	before := f.items()
	resp, body := f.invoke(testenv.WithSession(testenv.WithParam(readEvent(t, "book"), "id", quiet), f.sessions[memberA]))
	if code, _, _ := testenv.ErrorOf(body); resp.StatusCode != 403 || code != "session_not_for_you" || f.items() != before {
		t.Errorf("booking another group's session: %d %s", resp.StatusCode, resp.Body)
	}
	if list := f.do(testenv.WithSession(readEvent(t, "sessions"), f.sessions[memberE]), 200)["sessions"].([]any); len(list) != 0 {
		t.Errorf("another store's member sees %v", list)
	}
}

// A family helper books for the senior, recorded as the link's doing, and cancels; a view link
// sees the booking but not its page link.
func TestFamily(t *testing.T) {
	f := newFixture(t)
	id := f.session(2)
	booked := f.do(testenv.WithBody(testenv.WithParam(readEvent(t, "family-book"), "token", f.helper),
		`{"sessionId":"`+id+`","question":"妈妈晚上睡不好，降压药能换到早上吃吗？"}`), 201)
	b := obj(booked["booking"])
	if booked["status"] != "confirmed" || b["via"] != "family" || b["memberId"] != memberA {
		t.Errorf("family booking = %v", booked)
	}
	pageToken(t, b)
	stored, err := f.store.GetBooking(context.Background(), storeID, id, memberA)
	if err != nil || stored.Via != reminder.ViaFamily || stored.By == "" || stored.By == memberA {
		t.Errorf("stored booking = %+v (%v)", stored, err)
	}
	for _, r := range f.reminders(memberA, id) {
		if r.CreatedVia != reminder.ViaFamily || r.MemberID != memberA {
			t.Errorf("reminder of a family booking = %+v", r)
		}
	}
	for tok, withLink := range map[string]bool{f.viewer: false, f.helper: true} {
		bs := f.do(testenv.WithParam(readEvent(t, "family-bookings"), "token", tok), 200)["bookings"].([]any)
		if len(bs) != 1 || (obj(bs[0])["link"] != nil) != withLink {
			t.Errorf("family bookings (helper %v) = %v", withLink, bs)
		}
		ss := f.do(testenv.WithParam(readEvent(t, "family-sessions"), "token", tok), 200)["sessions"].([]any)
		if len(ss) != 1 || obj(obj(ss[0])["my"])["status"] != "confirmed" || (obj(obj(ss[0])["my"])["link"] != nil) != withLink {
			t.Errorf("family sessions (helper %v) = %v", withLink, ss)
		}
	}
	cancelled := f.do(testenv.WithParam(testenv.WithParam(readEvent(t, "family-cancel"), "token", f.helper), "sessionId", id), 200)
	if obj(cancelled["booking"])["cancelledVia"] != "family" || cancelled["promoted"] != false {
		t.Errorf("family cancel = %v", cancelled)
	}
}

// The booking page opens from the link without signing in, and cancels.
func TestBookingPage(t *testing.T) {
	f := newFixture(t)
	id := f.session(2)
	token := pageToken(t, obj(f.book(id, memberA, 201)["booking"]))
	page := f.do(testenv.WithParam(readEvent(t, "page"), "token", token), 200)
	if page["memberName"] != "张秀英" || obj(page["session"])["title"] != "高血压健康讲座" ||
		obj(page["booking"])["status"] != "confirmed" || obj(page["booking"])["link"] == nil {
		t.Errorf("page = %v", page)
	}
	cancelled := f.do(testenv.WithParam(readEvent(t, "page-cancel"), "token", token), 200)
	if obj(cancelled["booking"])["status"] != "cancelled" || obj(cancelled["booking"])["cancelledVia"] != "member" {
		t.Errorf("cancelled from the page = %v", cancelled)
	}
	if page := f.do(testenv.WithParam(readEvent(t, "page"), "token", token), 200); obj(page["booking"])["status"] != "cancelled" {
		t.Errorf("page after cancelling = %v", page)
	}
	if s := obj(f.do(testenv.WithParam(readEvent(t, "staff-session"), "id", id), 200)["session"]); s["confirmed"] != 0.0 {
		t.Errorf("the seat did not come free: %v", s)
	}
}

// Staff lower a capacity below the seats taken: refused, nothing changes. They raise it: the
// waitlist gets the seats at once, with reminders.
func TestCapacity(t *testing.T) {
	f := newFixture(t)
	id := f.session(2)
	f.book(id, memberA, 201)
	f.book(id, memberB, 201)
	if w := f.book(id, memberD, 201); w["status"] != "waitlisted" {
		t.Fatalf("D = %v", w)
	}
	before := f.items()
	resp, body := f.invoke(testenv.WithBody(testenv.WithParam(readEvent(t, "staff-update-session"), "id", id), `{"capacity":1}`))
	if code, field, _ := testenv.ErrorOf(body); resp.StatusCode != 409 || code != "capacity_below_bookings" || field != "capacity" {
		t.Errorf("capacity below the seats: %d %s", resp.StatusCode, resp.Body)
	}
	if s := obj(f.do(testenv.WithParam(readEvent(t, "staff-session"), "id", id), 200)["session"]); s["capacity"] != 2.0 || f.items() != before {
		t.Errorf("after a refused change: %v (items %d → %d)", s, before, f.items())
	}

	raised := f.do(testenv.WithParam(readEvent(t, "staff-update-session"), "id", id), 200)
	if raised["capacity"] != 3.0 || raised["confirmed"] != 3.0 || raised["waiting"] != 0.0 {
		t.Errorf("raised = %v", raised)
	}
	if rs := summarize(f.reminders(memberD, id)); len(rs) != 3 || !strings.HasSuffix(rs[0], "好消息：") {
		t.Errorf("D's reminders after the raise = %v", rs)
	}
	if b, err := f.store.GetBooking(context.Background(), storeID, id, memberD); err != nil || b.Status != qa.BookingConfirmed {
		t.Errorf("D's booking = %+v (%v)", b, err)
	}
}

// Staff cancel a session: every live booking is cancelled with its reminders, and each member is
// told; cancelling again tells nobody twice.
func TestCancelSession(t *testing.T) {
	f := newFixture(t)
	id := f.session(1)
	f.book(id, memberA, 201)
	f.book(id, memberB, 201)
	out := f.do(testenv.WithParam(readEvent(t, "staff-cancel-session"), "id", id), 200)
	if out["notified"] != 2.0 || obj(out["session"])["status"] != "cancelled" || obj(out["session"])["bookable"] != false {
		t.Errorf("cancel = %v", out)
	}
	want := map[string][]string{
		memberA: {"cancelled event - 您已预约", "cancelled event - 提醒：1", "cancelled event - 提醒：1",
			"active event 2026-11-23T08:01:00Z 抱歉，1"},
		memberB: {"active event 2026-11-23T08:01:00Z 抱歉，1"},
	}
	for m, w := range want {
		if diff := cmp.Diff(w, summarize(f.reminders(m, id))); diff != "" {
			t.Errorf("%s's reminders (-want +got):\n%s", m, diff)
		}
	}
	if list := f.do(testenv.WithSession(readEvent(t, "sessions"), f.sessions[memberA]), 200)["sessions"].([]any); len(list) != 0 {
		t.Errorf("a cancelled session is still offered: %v", list)
	}
	mine := f.do(testenv.WithSession(readEvent(t, "my-bookings"), f.sessions[memberB]), 200)["bookings"].([]any)
	if len(mine) != 1 || obj(mine[0])["status"] != "cancelled" {
		t.Errorf("B's bookings = %v", mine)
	}
	if again := f.do(testenv.WithParam(readEvent(t, "staff-cancel-session"), "id", id), 200); again["notified"] != 0.0 {
		t.Errorf("cancelling again = %v", again)
	}
}

// Attendance is recorded once the session has started; questions are ranked for the digest.
func TestAttendance(t *testing.T) {
	f := newFixture(t)
	id := f.session(2)
	f.book(id, memberA, 201)
	req := testenv.WithParam(readEvent(t, "staff-change-booking"), "id", id)
	resp, body := f.invoke(req)
	if code, _, _ := testenv.ErrorOf(body); resp.StatusCode != 409 || code != "session_not_started" {
		t.Errorf("attendance before the start: %d %s", resp.StatusCode, resp.Body)
	}
	f.now = time.Date(2026, 11, 25, 1, 40, 0, 0, time.UTC)
	b := f.do(req, 200)
	if b["attendance"] != "attended" || b["memberName"] != "张秀英" || b["rank"] != 0.0 {
		t.Errorf("attended = %v", b)
	}
	if ranked := f.do(testenv.WithBody(req, `{"rank":1}`), 200); ranked["rank"] != 1.0 || ranked["attendance"] != "attended" {
		t.Errorf("ranked = %v", ranked)
	}
	past := f.do(readEvent(t, "staff-past-sessions"), 200)["sessions"].([]any)
	if len(past) != 1 || obj(past[0])["attended"] != 1.0 {
		t.Errorf("past sessions = %v", past)
	}
	resp, body = f.invoke(testenv.WithSession(testenv.WithParam(readEvent(t, "cancel"), "id", id), f.sessions[memberA]))
	if code, _, _ := testenv.ErrorOf(body); resp.StatusCode != 409 || code != "session_past" {
		t.Errorf("cancelling after the start: %d %s", resp.StatusCode, resp.Body)
	}
}

// Every refusal answers the right status and code, in the caller's language, names the field,
// and changes nothing in the table.
func TestRefusalsChangeNothing(t *testing.T) {
	f := newFixture(t)
	open := f.session(2)
	f.book(open, memberA, 201)
	f.book(open, memberB, 201)
	a := f.sessions[memberA]
	unknownToken := strings.Repeat("A", 22)

	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		code   string
		field  string
	}{
		{"unknown doctor", readEvent(t, "staff-create-session-unknown-doctor"), 400, "doctor_not_found", "doctorId"},
		{"another store's doctor", readEvent(t, "staff-create-session-other-stores-doctor"), 400, "doctor_not_found", "doctorId"},
		{"start in the past", readEvent(t, "staff-create-session-past"), 400, "invalid_start", "startAt"},
		{"end before start", readEvent(t, "staff-create-session-end-before-start"), 400, "invalid_end", "endAt"},
		{"no seats", readEvent(t, "staff-create-session-no-seats"), 400, "invalid_capacity", "capacity"},
		{"online without a link", readEvent(t, "staff-create-session-online-no-url"), 400, "online_url_required", "place.url"},
		{"closes after the start", readEvent(t, "staff-create-session-closes-after-start"), 400, "invalid_booking_window", "closesAt"},
		{"another store's group", readEvent(t, "staff-create-session-unknown-group"), 400, "group_not_found", "targetGroups"},
		{"start not a time", testenv.WithBody(readEvent(t, "staff-create-session"), `{"doctorId":"`+doctorID+`","title":"讲座","startAt":"明天","endAt":"2026-11-25T03:00:00Z","place":{"kind":"store"},"capacity":2}`), 400, "invalid_start", "startAt"},
		{"plain http photo", testenv.WithBody(readEvent(t, "staff-create-doctor"), `{"name":"王医生","photoUrl":"http://x.example/p.jpg"}`), 400, "invalid_url", "photoUrl"},
		{"no staff token", readEvent(t, "staff-create-session-no-token"), 401, "unauthorized", ""},
		{"another store's session", testenv.WithParam(readEvent(t, "staff-session-other-store"), "id", open), 404, "session_not_found", ""},
		{"not a session id", testenv.WithParam(readEvent(t, "staff-session"), "id", "x"), 404, "session_not_found", ""},
		{"lower than the seats taken", testenv.WithBody(testenv.WithParam(readEvent(t, "staff-update-session"), "id", open), `{"capacity":1}`), 409, "capacity_below_bookings", "capacity"},
		{"move a booked session", testenv.WithBody(testenv.WithParam(readEvent(t, "staff-update-session"), "id", open), `{"startAt":"2026-11-26T01:30:00Z","endAt":"2026-11-26T03:00:00Z"}`), 409, "session_has_bookings", "startAt"},
		{"empty patch", testenv.WithBody(testenv.WithParam(readEvent(t, "staff-update-session"), "id", open), `{}`), 400, "empty_update", ""},
		{"the doctor in a patch", testenv.WithBody(testenv.WithParam(readEvent(t, "staff-update-session"), "id", open), `{"doctorId":"`+doctorID+`"}`), 400, "unknown_field", "doctorId"},
		{"attendance before the start", testenv.WithParam(readEvent(t, "staff-change-booking"), "id", open), 409, "session_not_started", "attendance"},
		{"attendance unknown", testenv.WithBody(testenv.WithParam(readEvent(t, "staff-change-booking"), "id", open), `{"attendance":"late"}`), 400, "invalid_attendance", "attendance"},
		{"rank too high", testenv.WithBody(testenv.WithParam(readEvent(t, "staff-change-booking"), "id", open), `{"rank":1000}`), 400, "invalid_rank", "rank"},
		{"duplicate of nobody", testenv.WithBody(testenv.WithParam(readEvent(t, "staff-change-booking"), "id", open), `{"duplicateOf":"`+memberD+`"}`), 400, "invalid_duplicate", "duplicateOf"},
		{"no booking", testenv.WithBody(testenv.WithParam(testenv.WithParam(readEvent(t, "staff-change-booking"), "id", open), "memberId", memberD), `{"rank":1}`), 404, "booking_not_found", ""},

		{"no member session", testenv.WithParam(readEvent(t, "book"), "id", open), 401, "session_required", ""},
		{"question too long", testenv.WithSession(testenv.WithBody(testenv.WithParam(readEvent(t, "book"), "id", open), `{"question":"`+strings.Repeat("问", 301)+`"}`), a), 400, "too_long", "question"},
		{"unknown field", testenv.WithSession(testenv.WithBody(testenv.WithParam(readEvent(t, "book"), "id", open), `{"nope":1}`), a), 400, "unknown_field", "nope"},
		{"clip never uploaded", testenv.WithSession(testenv.WithBody(testenv.WithParam(readEvent(t, "book"), "id", open), `{"questionClipKey":"uploads/`+storeID+`/`+ids.New()+`.webm"}`), f.sessions[memberD]), 404, "clip_not_found", ""},
		{"unknown session", testenv.WithSession(testenv.WithParam(readEvent(t, "book"), "id", ids.New()), a), 404, "session_not_found", ""},
		{"another store's session", testenv.WithSession(testenv.WithParam(readEvent(t, "book"), "id", open), f.sessions[memberE]), 404, "session_not_found", ""},
		{"not an id", testenv.WithSession(testenv.WithParam(readEvent(t, "session"), "id", "x"), a), 404, "session_not_found", ""},
		{"nothing to cancel", testenv.WithSession(testenv.WithParam(readEvent(t, "cancel"), "id", open), f.sessions[memberD]), 404, "booking_not_found", ""},
		{"phone not verified", testenv.WithBody(testenv.WithParam(readEvent(t, "family-book"), "token", f.helperC), `{"sessionId":"`+open+`"}`), 403, "phone_not_verified", ""},
		{"view scope books", testenv.WithBody(testenv.WithParam(readEvent(t, "family-book"), "token", f.viewer), `{"sessionId":"`+open+`"}`), 403, "forbidden", ""},
		{"view scope cancels", testenv.WithParam(testenv.WithParam(readEvent(t, "family-cancel"), "token", f.viewer), "sessionId", open), 403, "forbidden", ""},
		{"garbage family link", testenv.WithParam(readEvent(t, "family-sessions"), "token", "garbage"), 404, "family_link_not_found", ""},
		{"garbage page token", testenv.WithParam(readEvent(t, "page"), "token", "garbage"), 404, "booking_not_found", ""},
		{"unknown page token", testenv.WithParam(readEvent(t, "page"), "token", unknownToken), 404, "booking_not_found", ""},
		{"unknown page token cancels", testenv.WithParam(readEvent(t, "page-cancel"), "token", unknownToken), 404, "booking_not_found", ""},
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

// Every error the domain can answer has a message in every language, and every notice a text
// that fits a message; the catalog test holds the languages to one another.
func TestCatalog(t *testing.T) {
	for _, err := range []*fail.Error{
		qa.ErrDoctorNotFound, qa.ErrSessionNotFound, qa.ErrInvalidStart, qa.ErrInvalidEnd, qa.ErrInvalidCapacity,
		qa.ErrInvalidPlace, qa.ErrPlaceURLRequired, qa.ErrInvalidWindow, qa.ErrTooManyTargets, qa.ErrInvalidRemind,
		qa.ErrInvalidMaxUpcoming, qa.ErrSessionCancelled, qa.ErrSessionPast, qa.ErrCapacityBelowBookings,
		qa.ErrSessionHasBookings, qa.ErrEmptyPatch, qa.ErrBookingNotFound, qa.ErrBookingNotOpen, qa.ErrBookingClosed,
		qa.ErrNotInTargetGroups, qa.ErrUnverified, qa.ErrTooManyUpcoming, qa.ErrInvalidAttendance, qa.ErrAttendanceEarly,
		qa.ErrNotConfirmed, qa.ErrInvalidRank, qa.ErrInvalidDuplicate, qa.ErrBusy, dynamostore.ErrSessionChanged,
		fail.InvalidField("invalid_url", "photoUrl"), fail.InvalidField("invalid_text", "title"),
	} {
		if !i18n.Has("error." + err.Code) {
			t.Errorf("no message for %s", err.Code)
		}
	}
	s := qa.Session{Title: "高血压健康讲座", StartAt: time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC), TimeZone: "Asia/Shanghai",
		Doctor: qa.Doctor{Name: "张医生", Speciality: "心内科"}, Place: qa.Place{Kind: qa.PlaceOnline, URL: "https://meeting.example/1"}}
	for _, l := range i18n.Langs {
		for _, n := range []qa.Notice{qa.NoticeConfirmed, qa.NoticePromoted, qa.NoticeCancelled, qa.NoticeUpcoming} {
			text := s.Text(l, n)
			if strings.Contains(text, "qa.") || strings.Contains(text, "{") || len([]rune(text)) > reminder.MaxTextLen {
				t.Errorf("%s %s: %q", l, n, text)
			}
		}
	}
	if got := s.Text(i18n.ZhCN, qa.NoticeConfirmed); got != "您已预约：11月25日 周三 上午9:30 张医生（心内科）高血压健康讲座，地点：线上。" {
		t.Errorf("zh-CN notice = %q", got)
	}
	if got := s.Text(i18n.En, qa.NoticeCancelled); got != "Sorry, Wed 25 Nov, 9:30 AM, 张医生 (心内科) 高血压健康讲座 is cancelled." {
		t.Errorf("en notice = %q", got)
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

package promotions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"yinling/functions/promotions"
	"yinling/shared/awscalls"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/i18n"
	"yinling/shared/ids"
	"yinling/shared/logging"
	"yinling/shared/member"
	"yinling/shared/promo"
	"yinling/shared/queues"
	"yinling/shared/sqsmsg"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
)

// Fixtures the sample events in events/promotions refer to.
const (
	storeID      = "s-test"
	otherStoreID = "s-other"
	groupID      = "01JDQ7Z6W3V8G0X5Y4K2M9N1PA" // 邻里健康群: A and B
	quietGroupID = "01JDQ7Z6W3V8G0X5Y4K2M9N1PC" // 晨练群: nobody
	otherGroupID = "01JDQ7Z6W3V8G0X5Y4K2M9N1PB" // s-other's group: E
	memberA      = "01JDR00000000000000000000A" // 张秀英, tier member
	memberB      = "01JDR00000000000000000000B" // 李建国, tier leader
	memberE      = "01JDR00000000000000000000E" // 陈明, of s-other
)

// key derives the fixture's chunk codes and offer tokens, as the fan-out's PII_HASH_KEY does.
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
}

// newFixture seeds two stores and builds the handler; edit changes its dependencies.
func newFixture(t testing.TB, edit ...func(*promotions.Deps)) *fixture {
	t.Helper()
	f := &fixture{t: t, calls: &awscalls.Counter{}, now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC),
		logs: &syncBuffer{}, sessions: map[string]string{}}
	f.env = testenv.New(t, testenv.WithAPIOptions(f.calls.Register))
	f.store = dynamostore.New(f.env.DynamoDB, f.env.TableName())
	f.seed()
	d := promotions.Deps{
		Store:  f.store,
		Fanout: sqsmsg.NewQueue(f.env.SQS, f.env.Ref("FanoutQueue")),
		Key:    key,
		Log:    logging.New(f.logs, slog.LevelDebug),
		Now:    func() time.Time { return f.now },
	}
	for _, e := range edit {
		e(&d)
	}
	f.handler = lambda.NewHandler(promotions.New(d).Handle)
	f.calls.Reset()
	return f
}

// seed makes two stores, their groups and members (see the constants) with sessions; every
// member agreed to marketing.
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
	f.join(storeID, groupID, memberA, "SEED2345", "张秀英", "13800138000", member.TierMember)
	f.join(storeID, groupID, memberB, "SEED2345", "李建国", "13900139001", member.TierLeader)
	f.join(otherStoreID, otherGroupID, memberE, "OTHR2345", "陈明", "13500135004", member.TierMember)
}

// join signs a verified member up to a group ten days ago, with a session whose token it keeps
// in f.sessions.
func (f *fixture) join(store, groupID, id, code, name, phone string, tier member.Tier) {
	f.t.Helper()
	ctx := context.Background()
	at := f.now.AddDate(0, 0, -10)
	m, consents, err := member.NewSignup(member.SignupDraft{Name: name, Phone: phone, BirthYear: 1950,
		Consents:       map[member.ConsentKind]bool{member.ConsentService: true, member.ConsentMarketing: true},
		AcceptCovenant: true}, nil, at)
	if err != nil {
		f.t.Fatal(err)
	}
	m.ID, m.StoreID, m.Tier = id, store, tier
	if err := f.store.Signup(ctx, dynamostore.SignupWrite{Member: m, NewMember: true, PhoneHash: "phone-" + id,
		Consents: consents, Membership: member.Membership{StoreID: store, GroupID: groupID, MemberID: id,
			Status: member.StatusPendingVerification, Path: member.PathQR, Code: code, JoinedAt: at},
		OTP: member.NewOTPState(member.NewOTP(), id, key, at), Rule: group.RuleOpen, Now: at}); err != nil {
		f.t.Fatal(err)
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
	return testenv.Event(t, "promotions", name)
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

// refused invokes req and fails the test unless it answers status with code on field, with a
// message from the catalog.
func (f *fixture) refused(req events.APIGatewayV2HTTPRequest, status int, code, field string) {
	f.t.Helper()
	resp, body := f.invoke(req)
	if resp.StatusCode != status {
		f.t.Fatalf("%s: %d %s, want %d", req.RouteKey, resp.StatusCode, resp.Body, status)
	}
	gotCode, gotField, msg := testenv.ErrorOf(body)
	if gotCode != code || gotField != field {
		f.t.Errorf("error = %s (%s), want %s (%s)", gotCode, gotField, code, field)
	}
	if msg == "" || strings.HasPrefix(msg, "error.") {
		f.t.Errorf("message %q is missing from the catalog", msg)
	}
}

// items counts the test table's items but the failed-lookup counters (testenv.Env.Items).
func (f *fixture) items() int { return f.env.Items(f.t, false) }

// dynamoCalls counts the DynamoDB calls made since the last reset.
func (f *fixture) dynamoCalls() int {
	return f.calls.Snapshot().Of("DynamoDB")
}

// fanoutMessages receives (and deletes) every message waiting on the fanout queue.
func (f *fixture) fanoutMessages() []queues.Fanout {
	f.t.Helper()
	ctx, url := context.Background(), f.env.Ref("FanoutQueue")
	var out []queues.Fanout
	for {
		res, err := f.env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1})
		if err != nil {
			f.t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			env, err := sqsmsg.Decode(*m.Body)
			if err != nil || env.Type != queues.TypeFanout {
				f.t.Fatalf("message %s: %v", *m.Body, err)
			}
			var fo queues.Fanout
			if err := env.Unmarshal(&fo); err != nil {
				f.t.Fatal(err)
			}
			out = append(out, fo)
			if _, err := f.env.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				f.t.Fatal(err)
			}
		}
	}
}

// draft is the sample event's offer as a map, changed by edit, as a body.
func draft(t testing.TB, edit func(d map[string]any)) string {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(readEvent(t, "create").Body), &d); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(d)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// create has staff create the campaign body describes, and returns it.
func (f *fixture) create(body string) map[string]any {
	f.t.Helper()
	return f.do(testenv.WithBody(readEvent(f.t, "create"), body), 201)
}

// later schedules a draft for tomorrow, so that nothing starts it during a test.
func later(d map[string]any) { d["sendAt"] = "2026-11-24T01:00:00Z" }

func (f *fixture) campaign(id string) map[string]any {
	f.t.Helper()
	return f.do(testenv.WithParam(readEvent(f.t, "campaign"), "id", id), 200)
}

// chunk writes the chunk the fan-out would for the first page of campaign's audience, to
// members, and returns its code.
func (f *fixture) chunk(campaign string, members ...string) string {
	f.t.Helper()
	ctx := context.Background()
	code := promo.ChunkCode(key, storeID, campaign, 0, 0, 0)
	recs, err := f.store.Recipients(ctx, storeID, members)
	if err != nil {
		f.t.Fatal(err)
	}
	w := dynamostore.ChunkWrite{Chunk: dynamostore.OfferChunk{Code: code, StoreID: storeID, CampaignID: campaign,
		GroupID: groupID, Members: members, ExpiresAt: f.now.AddDate(0, 0, 90)}, Kind: promo.KindPromotion, At: f.now,
		Stats: promo.Stats{Audience: len(members), Queued: len(members)}}
	for _, m := range members {
		w.Recipients = append(w.Recipients, recs[m])
	}
	if err := f.store.WriteChunk(ctx, w); err != nil {
		f.t.Fatal(err)
	}
	return code
}

func offerReq(t testing.TB, event, token string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	return testenv.WithParam(readEvent(t, event), "token", token)
}

// stats are a campaign's figures as staff read them.
func (f *fixture) stats(id string) map[string]any {
	f.t.Helper()
	return obj(f.campaign(id)["stats"])
}

// recipient is a member as the fan-out reads them.
func (f *fixture) recipient(id string) dynamostore.Recipient {
	f.t.Helper()
	recs, err := f.store.Recipients(context.Background(), storeID, []string{id})
	if err != nil {
		f.t.Fatal(err)
	}
	return recs[id]
}

// Staff create an offer for now: it is stored scheduled, and its fan-out starts at once, in two
// DynamoDB calls (the groups, the put). One for tomorrow is left to the dispatcher.
func TestCreateCampaign(t *testing.T) {
	f := newFixture(t)
	c := f.create(draft(t, nil))
	id, _ := c["id"].(string)
	if !ids.Valid(id) {
		t.Fatalf("id = %v", c["id"])
	}
	if n := f.dynamoCalls(); n != 2 {
		t.Errorf("create made %d DynamoDB calls, want 2: %v", n, f.calls.Snapshot())
	}
	want := map[string]any{
		"id": id, "kind": "promotion", "title": "土鸡蛋特惠", "body": "新鲜土鸡蛋一盒30枚，本周到店领取。", "channel": "sms",
		"audience": map[string]any{"groups": []any{groupID}, "tags": []any{}, "tiers": []any{}, "ageBands": []any{}, "match": "all"},
		"offer": map[string]any{"prices": map[string]any{"member": 1990.0, "leader": 1590.0, "partner": 990.0},
			"pickupPlace": "一楼收银台", "pickupFrom": "2026-11-25T01:00:00Z", "pickupUntil": "2026-11-30T10:00:00Z"},
		"sendAt": "2026-11-23T08:00:01Z", "days": 1.0, "run": 0.0, "status": "scheduled", "createdBy": "staff-1",
		"createdAt": "2026-11-23T08:00:01Z", "updatedAt": "2026-11-23T08:00:01Z",
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("campaign (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]queues.Fanout{{Store: storeID, Campaign: id, GroupID: groupID}}, f.fanoutMessages()); diff != "" {
		t.Errorf("fan-out started (-want +got):\n%s", diff)
	}

	tomorrow := f.create(draft(t, later))
	if tomorrow["sendAt"] != "2026-11-24T01:00:00Z" || tomorrow["status"] != "scheduled" {
		t.Errorf("tomorrow's campaign = %v", tomorrow)
	}
	if got := f.fanoutMessages(); len(got) != 0 {
		t.Errorf("a campaign for tomorrow started now: %v", got)
	}
}

// A retry with the same Idempotency-Key answers the campaign the first attempt made, and
// writes nothing new.
func TestCreateIsIdempotent(t *testing.T) {
	f := newFixture(t)
	req := testenv.WithBody(readEvent(t, "create"), draft(t, later))
	req.Headers["idempotency-key"] = "6f1c2e4a-8b7d-4c1e-9f3a-2d5b7e9c0a11"
	first := f.do(req, 201)
	items := f.items()
	again := f.do(req, 201)
	if first["id"] != again["id"] || again["title"] != "土鸡蛋特惠" {
		t.Errorf("retry answered %v, first %v", again, first)
	}
	if after := f.items(); after != items {
		t.Errorf("items %d → %d: the retry wrote", items, after)
	}
	if list := f.do(readEvent(t, "list"), 200)["campaigns"].([]any); len(list) != 1 {
		t.Errorf("campaigns = %v", list)
	}
}

// A failure to start the fan-out does not fail the create: the campaign is stored (the
// dispatcher starts it from the Due index) and the failure logged.
func TestCreateSurvivesQueueFailure(t *testing.T) {
	f := newFixture(t, func(d *promotions.Deps) { d.Fanout = failingSender{} })
	c := f.create(draft(t, nil))
	if _, _, err := f.store.Campaign(context.Background(), storeID, c["id"].(string)); err != nil {
		t.Fatalf("campaign not stored: %v", err)
	}
	if !strings.Contains(f.logs.String(), "start campaign") {
		t.Errorf("the failure was not logged:\n%s", f.logs.String())
	}
}

type failingSender struct{}

func (failingSender) Send(context.Context, []sqsmsg.Outgoing) error { return errors.New("queue down") }

// Bad drafts are refused with the field at fault, in the caller's language, and change nothing.
func TestCreateRefused(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name         string
		edit         func(d map[string]any)
		code, field  string
		wantedStatus int
	}{
		{"empty audience", func(d map[string]any) { d["audience"] = map[string]any{"groups": []any{}} }, "audience_empty", "audience.groups", 400},
		{"unknown group", func(d map[string]any) { d["audience"] = map[string]any{"groups": []any{ids.New()}} }, "unknown_group", "audience.groups", 400},
		{"another store's group", func(d map[string]any) {
			d["audience"] = map[string]any{"groups": []any{groupID, otherGroupID}}
		}, "unknown_group", "audience.groups", 400},
		{"not a group id", func(d map[string]any) { d["audience"] = map[string]any{"groups": []any{"x"}} }, "unknown_group", "audience.groups", 400},
		{"missing tier price", func(d map[string]any) { delete(obj(obj(d["offer"])["prices"]), "partner") }, "price_missing", "offer.prices.partner", 400},
		{"send time past", func(d map[string]any) { d["sendAt"] = "2026-11-23T06:00:00Z" }, "send_at_past", "sendAt", 400},
		{"SMS body too long", func(d map[string]any) { d["body"] = strings.Repeat("蛋", promo.MaxSMSBody+1) }, "body_too_long", "body", 400},
		{"offer for content", func(d map[string]any) { d["kind"] = "content" }, "offer_not_for_content", "offer", 400},
		{"no offer", func(d map[string]any) { delete(d, "offer") }, "offer_required", "offer", 400},
		{"unknown kind", func(d map[string]any) { d["kind"] = "flyer" }, "invalid_campaign_kind", "kind", 400},
		{"unknown tier", func(d map[string]any) {
			d["audience"] = map[string]any{"groups": []any{groupID}, "tiers": []any{"vip"}}
		}, "invalid_tier", "audience.tiers", 400},
		{"pickup over before sending", func(d map[string]any) {
			later(d)
			obj(d["offer"])["pickupUntil"] = "2026-11-23T20:00:00Z"
		}, "invalid_pickup_window", "offer.pickupUntil", 400},
		{"send time unreadable", func(d map[string]any) { d["sendAt"] = "tomorrow" }, "invalid_type", "sendAt", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			before := f.items()
			f.refused(testenv.WithBody(readEvent(t, "create"), draft(t, tt.edit)), tt.wantedStatus, tt.code, tt.field)
			if after := f.items(); after != before {
				t.Errorf("items %d → %d: a refused create changed the table", before, after)
			}
		})
	}
	f.t = t
	if got := f.fanoutMessages(); len(got) != 0 {
		t.Errorf("a refused create started a fan-out: %v", got)
	}
}

// Staff list their store's campaigns newest first, a page at a time, and read one with its
// figures; another store's staff see none of it.
func TestListAndRead(t *testing.T) {
	f := newFixture(t)
	var made []string
	for _, title := range []string{"一号", "二号", "三号"} {
		made = append(made, f.create(draft(t, func(d map[string]any) { later(d); d["title"] = title }))["id"].(string))
	}
	req := readEvent(t, "list")
	req.QueryStringParameters = map[string]string{"limit": "2"}
	f.calls.Reset()
	page := f.do(req, 200)
	if n := f.dynamoCalls(); n != 1 {
		t.Errorf("list made %d DynamoDB calls", n)
	}
	cursor, _ := page["cursor"].(string)
	req.QueryStringParameters["cursor"] = cursor
	rest := f.do(req, 200)
	var got []string
	for _, p := range [][]any{page["campaigns"].([]any), rest["campaigns"].([]any)} {
		for _, c := range p {
			got = append(got, obj(c)["title"].(string))
		}
	}
	if diff := cmp.Diff([]string{"三号", "二号", "一号"}, got); diff != "" || cursor == "" {
		t.Errorf("titles (-want +got):\n%s\ncursor %q", diff, cursor)
	}

	f.calls.Reset()
	c := f.campaign(made[0])
	if n := f.dynamoCalls(); n != 1 {
		t.Errorf("read made %d DynamoDB calls", n)
	}
	wantStats := map[string]any{"audience": 0.0, "queued": 0.0, "deferred": 0.0, "sent": 0.0, "failed": 0.0, "skipped": 0.0,
		"opened": 0.0, "unsubscribed": 0.0, "suppressed": map[string]any{"budget": 0.0, "no_consent": 0.0, "opted_out": 0.0,
			"unverified": 0.0, "channel": 0.0, "quota": 0.0}}
	if diff := cmp.Diff(wantStats, c["stats"]); diff != "" || c["title"] != "一号" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}

	other := func(name string) events.APIGatewayV2HTTPRequest {
		return testenv.AsStore(testenv.WithParam(readEvent(t, name), "id", made[0]), otherStoreID)
	}
	f.refused(other("campaign"), 404, "campaign_not_found", "")
	f.refused(other("cancel"), 404, "campaign_not_found", "")
	if list := f.do(testenv.AsStore(readEvent(t, "list"), otherStoreID), 200)["campaigns"].([]any); len(list) != 0 {
		t.Errorf("another store lists %v", list)
	}
	f.refused(testenv.WithParam(readEvent(t, "campaign"), "id", "x"), 404, "campaign_not_found", "")
	if got := f.campaign(made[0])["status"]; got != "scheduled" {
		t.Errorf("status after another store's cancel = %v", got)
	}
}

// Staff cancel a campaign, once or twice alike; one that finished sending cannot be.
func TestCancel(t *testing.T) {
	f := newFixture(t)
	id := f.create(draft(t, later))["id"].(string)
	f.calls.Reset()
	c := f.do(testenv.WithParam(readEvent(t, "cancel"), "id", id), 200)
	if n := f.dynamoCalls(); n != 2 {
		t.Errorf("cancel made %d DynamoDB calls, want 2", n)
	}
	if c["status"] != "cancelled" || c["cancelledBy"] != "staff-1" || c["stats"] == nil {
		t.Errorf("cancelled = %v", c)
	}
	if again := f.do(testenv.WithParam(readEvent(t, "cancel"), "id", id), 200); again["status"] != "cancelled" {
		t.Errorf("cancelled again = %v", again)
	}
	stored, _, err := f.store.Campaign(context.Background(), storeID, id)
	if err != nil || stored.Status != promo.StatusCancelled {
		t.Errorf("stored = %+v, %v", stored, err)
	}

	sent := f.create(draft(t, later))["id"].(string)
	cur, _, err := f.store.Campaign(context.Background(), storeID, sent)
	if err != nil {
		t.Fatal(err)
	}
	done := cur
	done.Status, done.UpdatedAt = promo.StatusSent, f.now
	if err := f.store.SaveCampaignStatus(context.Background(), done, cur.UpdatedAt); err != nil {
		t.Fatal(err)
	}
	f.refused(testenv.WithParam(readEvent(t, "cancel"), "id", sent), 409, "campaign_sent", "")
}

// The offer page shows a member their own tier's price and the pickup in their zone, counts
// their first open once, in three DynamoDB calls at most; a token that is not theirs finds
// nothing and counts as a guess.
func TestOfferPage(t *testing.T) {
	f := newFixture(t)
	id := f.create(draft(t, nil))["id"].(string)
	code := f.chunk(id, memberA, memberB)
	tokenB := promo.OfferToken(key, code, 1, memberB)

	f.calls.Reset()
	page := f.do(offerReq(t, "offer", tokenB), 200)
	if n := f.dynamoCalls(); n != 3 {
		t.Errorf("first open made %d DynamoDB calls, want 3: %v", n, f.calls.Snapshot())
	}
	when := "11月25日 周三 上午9:00 至 11月30日 周一 晚上6:00"
	want := map[string]any{"title": "土鸡蛋特惠", "body": "新鲜土鸡蛋一盒30枚，本周到店领取。", "memberName": "李建国",
		"tier": "leader", "price": 1590.0, "priceText": "¥15.90", "pickupPlace": "一楼收银台",
		"pickupFrom": "2026-11-25T01:00:00Z", "pickupUntil": "2026-11-30T10:00:00Z", "pickupText": when,
		"speak":  "土鸡蛋特惠。新鲜土鸡蛋一盒30枚，本周到店领取。您的价格：15.90元。到店领取：一楼收银台，" + when + "。",
		"status": "scheduled", "unsubscribed": false}
	if diff := cmp.Diff(want, page); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}

	f.calls.Reset()
	en := offerReq(t, "offer", tokenB)
	en.Headers["accept-language"] = "en"
	page = f.do(en, 200)
	if n := f.dynamoCalls(); n != 2 {
		t.Errorf("second open made %d DynamoDB calls, want 2", n)
	}
	if page["pickupText"] != "Wed 25 Nov, 9:00 AM to Mon 30 Nov, 6:00 PM" {
		t.Errorf("en pickupText = %q", page["pickupText"])
	}
	if a := f.do(offerReq(t, "offer", promo.OfferToken(key, code, 0, memberA)), 200); a["price"] != 1990.0 || a["tier"] != "member" {
		t.Errorf("A's page = %v", a)
	}
	if st := f.stats(id); st["opened"] != 2.0 {
		t.Errorf("opened = %v, want 2 (A once, B once)", st["opened"])
	}

	guesses := f.env.Items(f.t, true)
	for name, tok := range map[string]string{
		"wrong MAC":          tokenB[:len(tokenB)-1] + map[bool]string{true: "b", false: "a"}[tokenB[len(tokenB)-1] == 'a'],
		"A's MAC at B place": promo.OfferToken(key, code, 1, memberA),
		"place past members": promo.OfferToken(key, code, 2, memberB),
		"unknown chunk":      promo.OfferToken(key, promo.ChunkCode(key, storeID, id, 0, 0, 1), 0, memberA),
		"garbage":            "garbage",
	} {
		t.Run(name, func(t *testing.T) {
			f.t = t
			f.refused(offerReq(t, "offer", tok), 404, "offer_not_found", "")
			f.refused(offerReq(t, "offer-unsubscribe", tok), 404, "offer_not_found", "")
		})
	}
	f.t = t
	if after := f.env.Items(f.t, true); after == guesses {
		t.Errorf("failed lookups were not counted")
	}
	if st := f.stats(id); st["opened"] != 2.0 || st["unsubscribed"] != 0.0 {
		t.Errorf("stats after guesses = %v", st)
	}
}

// Content has no price and no pickup: the page reads its title and body.
func TestOfferPageOfContent(t *testing.T) {
	f := newFixture(t)
	id := f.create(draft(t, func(d map[string]any) {
		d["kind"], d["channel"], d["title"], d["body"] = "content", "voice", "早安健康小贴士", "早上起床先喝一杯温水！"
		delete(d, "offer")
	}))["id"].(string)
	code := f.chunk(id, memberA)
	page := f.do(offerReq(t, "offer", promo.OfferToken(key, code, 0, memberA)), 200)
	want := map[string]any{"title": "早安健康小贴士", "body": "早上起床先喝一杯温水！", "memberName": "张秀英", "tier": "member",
		"speak": "早安健康小贴士。早上起床先喝一杯温水！", "status": "scheduled", "unsubscribed": false}
	if diff := cmp.Diff(want, page); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
}

// One tap on the offer page withdraws the member's marketing consent, counted in the
// campaign's figures; a second tap answers the same and changes nothing.
func TestOfferUnsubscribe(t *testing.T) {
	f := newFixture(t)
	id := f.create(draft(t, later))["id"].(string)
	code := f.chunk(id, memberA, memberB)
	token := promo.OfferToken(key, code, 0, memberA)

	f.calls.Reset()
	got := f.do(offerReq(t, "offer-unsubscribe", token), 200)
	if n := f.dynamoCalls(); n != 3 {
		t.Errorf("unsubscribe made %d DynamoDB calls, want 3", n)
	}
	if diff := cmp.Diff(map[string]any{"unsubscribed": true}, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	f.withdrawn(memberA)
	if b := f.recipient(memberB); b.OptedOut || !b.Consents.Granted(member.ConsentMarketing) {
		t.Errorf("B was unsubscribed too: %+v", b)
	}
	if st := f.stats(id); st["unsubscribed"] != 1.0 {
		t.Errorf("unsubscribed = %v, want 1", st["unsubscribed"])
	}
	if page := f.do(offerReq(t, "offer", token), 200); page["unsubscribed"] != true {
		t.Errorf("page after unsubscribing = %v", page)
	}

	items := f.items()
	if again := f.do(offerReq(t, "offer-unsubscribe", token), 200); again["unsubscribed"] != true {
		t.Errorf("second tap = %v", again)
	}
	if after := f.items(); after != items {
		t.Errorf("items %d → %d: a second tap wrote", items, after)
	}
	if st := f.stats(id); st["unsubscribed"] != 1.0 {
		t.Errorf("unsubscribed after a second tap = %v, want 1", st["unsubscribed"])
	}
}

// A signed-in senior stops marketing pushes from their own page.
func TestUnsubscribeMe(t *testing.T) {
	f := newFixture(t)
	f.refused(readEvent(t, "unsubscribe"), 401, "session_required", "")
	f.calls.Reset()
	got := f.do(testenv.WithSession(readEvent(t, "unsubscribe"), f.sessions[memberA]), 200)
	if n := f.dynamoCalls(); n != 3 {
		t.Errorf("unsubscribe made %d DynamoDB calls, want 3 (session, member, write)", n)
	}
	if diff := cmp.Diff(map[string]any{"unsubscribed": true}, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	f.withdrawn(memberA)
	items := f.items()
	f.do(testenv.WithSession(readEvent(t, "unsubscribe"), f.sessions[memberA]), 200)
	if after := f.items(); after != items {
		t.Errorf("items %d → %d: unsubscribing again wrote", items, after)
	}
}

// withdrawn checks that a member is opted out, their marketing consent withdrawn, and the
// withdrawal in their consent history.
func (f *fixture) withdrawn(id string) {
	f.t.Helper()
	r := f.recipient(id)
	if !r.OptedOut || r.Consents.Granted(member.ConsentMarketing) || !r.Consents.Granted(member.ConsentService) {
		f.t.Errorf("member %s: opted out %v, consents %+v", id, r.OptedOut, r.Consents)
	}
	history, err := f.store.ConsentHistory(context.Background(), storeID, id)
	if err != nil {
		f.t.Fatal(err)
	}
	var last member.Consent
	for _, c := range history {
		if c.Kind == member.ConsentMarketing {
			last = c
		}
	}
	if last.Granted || last.At.IsZero() || last.Version != member.ConsentVersion {
		f.t.Errorf("member %s: last marketing record %+v in %+v", id, last, history)
	}
}

// Every error a caller can see has a message in every language.
func TestCatalog(t *testing.T) {
	for _, err := range []*fail.Error{
		promo.ErrNotFound, promo.ErrInvalidKind, promo.ErrInvalidChannel, promo.ErrBodyTooLong, promo.ErrPriceMissing,
		promo.ErrInvalidPrice, promo.ErrOfferRequired, promo.ErrOfferForbidden, promo.ErrInvalidPickup,
		promo.ErrSendAtPast, promo.ErrSendAtFar, promo.ErrInvalidDays, promo.ErrCancelled, promo.ErrAlreadySent,
		promo.ErrNoGroups, promo.ErrTooManyGroups, promo.ErrInvalidMatch, promo.ErrInvalidTier, promo.ErrInvalidAge,
		promo.ErrInvalidTag, fail.InvalidField("too_many_values", "audience"),
		{Code: "unknown_group"}, {Code: "offer_not_found"}, {Code: "campaign_busy"},
	} {
		if !i18n.Has("error." + err.Code) {
			t.Errorf("no message for %s", err.Code)
		}
	}
	for _, k := range []string{"promo.offer.window", "promo.offer.in_store", "promo.offer.speak_price",
		"promo.offer.speak_pickup", "promo.offer.stop"} {
		if !i18n.Has(k) {
			t.Errorf("no text for %s", k)
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

// obj is a JSON object of a decoded body, or nil.
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

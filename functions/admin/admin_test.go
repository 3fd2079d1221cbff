package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"yinling/functions/admin"
	"yinling/shared/apispec"
	"yinling/shared/awscalls"
	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
)

// Fixtures the sample events in events/admin refer to.
const (
	storeID      = "s-test"
	otherStoreID = "s-other"
	groupID      = "01JDQ7Z6W3V8G0X5Y4K2M9N1PA"
	baseURL      = "https://yl.example"
)

var now = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// fixture is a fresh table with two stores and one group, and a handler on it whose AWS calls
// are counted.
type fixture struct {
	store   *dynamostore.Store
	handler lambda.Handler
	calls   *awscalls.Counter
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	calls := &awscalls.Counter{}
	env := testenv.New(t, testenv.WithAPIOptions(calls.Register))
	st := dynamostore.New(env.DynamoDB, env.TableName())
	ctx := context.Background()
	for _, s := range []tenant.Store{
		{ID: storeID, Name: "幸福里药房", TimeZone: tenant.DefaultTimeZone, PushCap: 2, CreatedAt: now},
		{ID: otherStoreID, Name: "隔壁药房", TimeZone: tenant.DefaultTimeZone, PushCap: 2, CreatedAt: now},
	} {
		if err := st.CreateStore(ctx, s); err != nil {
			t.Fatalf("seed store: %v", err)
		}
	}
	if _, err := st.CreateGroup(ctx, group.Group{
		ID: groupID, StoreID: storeID, Name: "邻里健康群", Covenant: "互相尊重", EntryRule: group.RuleOpen,
		PushCap: 2, JoinCode: "SEED2345", CreatedBy: "staff-1", CreatedAt: now, UpdatedAt: now,
	}, dynamostore.Idempotency{}); err != nil {
		t.Fatalf("seed group: %v", err)
	}
	h := admin.New(admin.Deps{
		Store:   st,
		Log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now:     func() time.Time { return now },
		BaseURL: baseURL,
	})
	calls.Reset()
	return &fixture{store: st, handler: lambda.NewHandler(h.Handle), calls: calls}
}

// invoke sends a payload through the production JSON path and returns the decoded response.
func (f *fixture) invoke(t *testing.T, payload []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	out, err := f.handler.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return resp
}

// state is everything a refused request must leave unchanged: both stores' groups.
func (f *fixture) state(t *testing.T) []group.Group {
	t.Helper()
	var all []group.Group
	for _, s := range []string{storeID, otherStoreID} {
		page, err := f.store.ListGroups(context.Background(), s, "", 100)
		if err != nil {
			t.Fatalf("list groups: %v", err)
		}
		all = append(all, page.Items...)
	}
	return all
}

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "admin", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandleEvents(t *testing.T) {
	spec, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		event     string
		status    int
		code      string // error code, for refusals
		field     string
		lang      string         // language the error message must be in
		want      map[string]any // fields the success body must have
		maxCalls  int            // DynamoDB calls the request may make
		listCount int            // for lists: items expected
		items     []string       // for member lists: the member ids, in order
		body      string         // replaces the event's body, for variations of one sample
	}{
		{event: "list-groups", status: 200, listCount: 2, maxCalls: 1}, // the seeded open and approval groups
		{event: "list-groups-page", status: 200, listCount: 1, maxCalls: 1},
		{event: "list-groups-bad-limit", status: 400, code: "invalid_limit", field: "limit", lang: "zh"},
		{event: "list-groups-bad-cursor", status: 400, code: "invalid_cursor", field: "cursor", lang: "zh"},
		{event: "list-groups-no-token", status: 401, code: "unauthorized", lang: "zh"},
		{event: "create-group", status: 201, maxCalls: 2, want: map[string]any{
			"name": "幸福里健康群", "covenant": "互相尊重，不发广告。", "entryRule": "approval", "pushCap": 1.0}},
		{event: "create-group-en", status: 201, maxCalls: 2, want: map[string]any{
			"name": "Morning walkers", "covenant": "", "entryRule": "open", "pushCap": 2.0}},
		{event: "create-group-bad-rule", status: 400, code: "invalid_entry_rule", field: "entryRule", lang: "zh", maxCalls: 1},
		{event: "create-group-bad-rule-en", status: 400, code: "invalid_entry_rule", field: "entryRule", lang: "en", maxCalls: 1},
		{event: "create-group-unknown-field", status: 400, code: "unknown_field", field: "storeId", lang: "zh"},
		{event: "create-group-wrong-type", status: 400, code: "invalid_type", field: "pushCap", lang: "zh"},
		{event: "create-group-malformed", status: 400, code: "invalid_json", lang: "zh"},
		{event: "create-group-name-too-long", status: 400, code: "too_long", field: "name", lang: "zh", maxCalls: 1},
		{event: "create-group-not-json", status: 415, code: "unsupported_media_type", lang: "zh"},
		{event: "create-group-empty", status: 400, code: "body_required", lang: "zh"},
		{event: "create-group-member-role", status: 403, code: "forbidden", lang: "zh"},
		{event: "create-group-robot", status: 201, maxCalls: 2, want: map[string]any{
			"name": "太极拳晨练", "robot": map[string]any{"configured": true, "key": "693a****cafe"}}},
		{event: "create-group-robot", status: 400, code: "invalid_robot_key", field: "robotKey", lang: "zh", maxCalls: 1,
			body: `{"name": "太极拳晨练", "robotKey": "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=` + robotKey + `"}`},
		{event: "create-group-en", status: 400, code: "invalid_robot_key", field: "robotKey", lang: "en", maxCalls: 1,
			body: `{"name": "Morning walkers", "robotKey": "693a91f6 7aaa"}`},
		{event: "get-group", status: 200, maxCalls: 1, want: map[string]any{
			"id": groupID, "name": "邻里健康群", "joinCode": "SEED2345", "joinUrl": baseURL + "/join/SEED2345",
			"robot": map[string]any{"configured": false}}},
		{event: "get-group-other-store", status: 404, code: "group_not_found", lang: "zh", maxCalls: 1},
		{event: "get-group-bad-id", status: 404, code: "group_not_found", lang: "zh"},
		{event: "update-group", status: 200, maxCalls: 1, want: map[string]any{
			"id": groupID, "name": "幸福里健康群（一群）", "pushCap": 3.0, "covenant": "互相尊重", "joinCode": "SEED2345"}},
		{event: "update-group", status: 200, maxCalls: 1, body: `{"robotKey": "` + robotKey + `"}`, want: map[string]any{
			"name": "邻里健康群", "robot": map[string]any{"configured": true, "key": "693a****cafe"}}},
		{event: "update-group", status: 400, code: "invalid_robot_key", field: "robotKey", lang: "zh",
			body: `{"name": "新名字", "robotKey": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=` + robotKey + `"}`},
		{event: "update-group-empty", status: 400, code: "empty_update", lang: "zh"},
		{event: "update-group-empty", status: 400, code: "empty_update", lang: "zh", body: `{"robotKey": null}`},
		{event: "update-group-other-store", status: 404, code: "group_not_found", lang: "zh", maxCalls: 1},
		{event: "create-invite", status: 201, maxCalls: 1, want: map[string]any{
			"groupId": groupID, "maxUses": 20.0, "expiresAt": "2026-11-30T08:00:00Z"}},
		{event: "create-invite-defaults", status: 201, maxCalls: 1, want: map[string]any{
			"groupId": groupID, "maxUses": 1.0, "expiresAt": "2026-12-07T08:00:00Z"}},
		{event: "create-invite-bad-ttl", status: 400, code: "invalid_invite_ttl", field: "ttlDays", lang: "zh"},
		{event: "create-invite-other-store", status: 404, code: "group_not_found", lang: "zh", maxCalls: 1},
		// Where messages reach real phones there is no outbox to show.
		{event: "list-outbox", status: 404, code: "route_not_found", lang: "zh"},

		// Members (seedMembers): waiting for verification first, then approval, then active,
		// newest join first within each.
		{event: "list-members", status: 200, listCount: 3, maxCalls: 2, items: []string{memberC, memberB, memberA}},
		{event: "list-members-filtered", status: 200, listCount: 1, maxCalls: 2, items: []string{memberA}},
		{event: "list-members-search-en", status: 200, listCount: 1, maxCalls: 2, items: []string{memberA}},
		{event: "list-members-pending", status: 200, listCount: 2, maxCalls: 2, items: []string{memberA, memberD}},
		{event: "list-members-own-other-store", status: 200, listCount: 1, maxCalls: 2, items: []string{memberE}},
		{event: "list-members-no-group", status: 400, code: "required", field: "group", lang: "zh"},
		{event: "list-members-bad-status", status: 400, code: "invalid_status", field: "status", lang: "zh"},
		{event: "list-members-bad-tier-en", status: 400, code: "invalid_tier", field: "tier", lang: "en"},
		{event: "list-members-bad-tag", status: 400, code: "invalid_tag", field: "tag", lang: "zh"},
		{event: "list-members-bad-cursor", status: 400, code: "invalid_cursor", field: "cursor", lang: "zh"},
		// Another store's group: nothing in the caller's partition, and no such group either.
		{event: "list-members-other-store", status: 404, code: "group_not_found", lang: "zh", maxCalls: 2},
		{event: "get-member", status: 200, maxCalls: 2, want: map[string]any{
			"id": memberA, "name": "张秀英", "phone": "+86 138****8000", "tier": "leader", "tags": []any{"太极拳", "糖尿病"},
			"verified": true, "verifiedBy": "otp", "ageBand": "70-79"}},
		{event: "get-member-other-store", status: 404, code: "member_not_found", lang: "zh", maxCalls: 1},
		{event: "get-member-bad-id", status: 404, code: "member_not_found", lang: "zh"},
		{event: "update-member", status: 200, maxCalls: 3, want: map[string]any{
			"id": memberB, "tier": "partner", "tags": []any{"太极拳", "高血压"}, "updatedAt": "2026-11-23T08:00:00Z"}},
		{event: "update-member-approve", status: 200, maxCalls: 3, want: map[string]any{"id": memberD, "memberships": []any{
			map[string]any{"groupId": approvalGroupID, "groupName": "审核群", "status": "active", "path": "qr",
				"joinedAt": "2026-11-23T05:00:00Z", "approvedBy": "staff-1", "approvedAt": "2026-11-23T08:00:00Z"}}}},
		{event: "update-member-approve-active", status: 409, code: "not_pending_approval", field: "approve.group", lang: "zh", maxCalls: 1},
		{event: "update-member-approve-unverified", status: 409, code: "not_pending_approval", field: "approve.group", lang: "zh", maxCalls: 1},
		{event: "update-member-approve-not-member", status: 404, code: "membership_not_found", field: "approve.group", lang: "zh", maxCalls: 1},
		{event: "update-member-approve-other-store-group", status: 404, code: "membership_not_found", field: "approve.group", lang: "zh", maxCalls: 1},
		{event: "update-member-approve-no-group", status: 400, code: "required", field: "approve.group", lang: "zh"},
		{event: "update-member-verify", status: 200, maxCalls: 3, want: map[string]any{
			"id": memberC, "verified": true, "verifiedBy": "staff-1", "verifiedAt": "2026-11-23T08:00:00Z"}},
		{event: "update-member-verify-already-en", status: 409, code: "already_verified", field: "verifyInPerson", lang: "en", maxCalls: 1},
		{event: "update-member-bad-tier", status: 400, code: "invalid_tier", field: "tier", lang: "zh"},
		{event: "update-member-bad-tag", status: 400, code: "invalid_tag", field: "tags", lang: "zh"},
		{event: "update-member-empty", status: 400, code: "empty_update", lang: "zh"},
		{event: "update-member-unknown-field", status: 400, code: "unknown_field", field: "phone", lang: "zh"},
		{event: "update-member-other-store", status: 404, code: "member_not_found", lang: "zh", maxCalls: 1},
		{event: "export-members-other-store", status: 404, code: "group_not_found", lang: "zh", maxCalls: 1},
		{event: "export-members-no-group", status: 400, code: "required", field: "group", lang: "zh"},
		{event: "metrics", status: 200, maxCalls: 3, want: map[string]any{
			"groupId": groupID, "groupName": "邻里健康群", "members": 2.0, "active": 2.0, "pendingApproval": 0.0,
			// 张秀英 joined 40 days ago, outside the window; 李建国 by her referral 2 days ago.
			"activeLast30Days": 1.0,
			"joinedLast30Days": map[string]any{"qr": 0.0, "invite": 0.0, "referral": 1.0, "total": 1.0},
			"topReferrers":     []any{map[string]any{"memberId": memberA, "name": "张秀英", "referrals": 1.0}},
			"bookings":         map[string]any{"seats": 0.0, "attended": 0.0, "noShow": 0.0},
			"pushes":           map[string]any{"opens": 0.0, "optOuts": 0.0},
			"partial":          false, "asOf": "2026-11-23T08:00:00Z"}},
		{event: "metrics-approval-group", status: 200, maxCalls: 3, want: map[string]any{
			"members": 2.0, "active": 0.0, "pendingApproval": 2.0, "topReferrers": []any{}, "activeLast30Days": 2.0,
			"joinedLast30Days": map[string]any{"qr": 2.0, "invite": 0.0, "referral": 0.0, "total": 2.0}}},
		{event: "metrics-other-store", status: 404, code: "group_not_found", lang: "zh", maxCalls: 2},
		{event: "metrics-no-group", status: 400, code: "required", field: "group", lang: "zh"},
		{event: "create-family-link", status: 201, maxCalls: 2, body: staffLinkBody(`"alerts": true, "alertPhone": "13900139000"`),
			want: map[string]any{"memberId": memberA, "label": "儿子", "scope": "view", "alerts": true,
				"alertPhone": "+86 139****9000", "alertChannel": "voice", "consent": "in_person"}},
		{event: "create-family-link", status: 201, maxCalls: 2, body: staffLinkBody(`"alerts": false`),
			want: map[string]any{"alerts": false, "alertPhone": nil, "alertChannel": nil}},
		{event: "create-family-link", status: 400, code: "alert_phone_required", field: "alertPhone", lang: "zh",
			body: staffLinkBody(`"alerts": true`)},
		{event: "create-family-link", status: 400, code: "alert_phone_unused", field: "alertPhone", lang: "zh",
			body: staffLinkBody(`"alertPhone": "13900139000"`)},
		{event: "create-family-link", status: 400, code: "invalid_phone", field: "alertPhone", lang: "zh",
			body: staffLinkBody(`"alerts": true, "alertPhone": "139001390"`)},
		{event: "create-family-link", status: 400, code: "invalid_alert_channel", field: "alertChannel", lang: "zh",
			body: staffLinkBody(`"alerts": true, "alertPhone": "13900139000", "alertChannel": "wechat"`)},
		{event: "create-family-link-no-consent", status: 400, code: "consent_required", field: "consent", lang: "zh"},
		{event: "create-family-link-other-store", status: 404, code: "member_not_found", lang: "zh", maxCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			f := newFixture(t)
			payload := readEvent(t, tt.event)
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(payload, &req); err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Body = tt.body
				b, err := json.Marshal(req)
				if err != nil {
					t.Fatal(err)
				}
				payload = b
			}
			f.seedMembers(t)
			before, membersBefore := f.state(t), f.memberState(t)
			f.calls.Reset()

			resp := f.invoke(t, payload)

			calls := f.calls.Snapshot()
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			if err := spec.CheckResponse(req.RouteKey, resp.StatusCode, resp.Headers["content-type"], []byte(resp.Body)); err != nil {
				t.Errorf("response breaks the OpenAPI contract: %v", err)
			}
			if n := calls.Total(); n > tt.maxCalls {
				t.Errorf("made %d AWS calls, want ≤ %d:\n%s", n, tt.maxCalls, calls)
			}
			for op := range calls.Count {
				if strings.HasSuffix(op, ".Scan") {
					t.Errorf("request path used %s", op)
				}
			}
			if resp.Headers["x-request-id"] != req.RequestContext.RequestID {
				t.Errorf("x-request-id = %q, want %q", resp.Headers["x-request-id"], req.RequestContext.RequestID)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if tt.code != "" {
				checkRefusal(t, body, tt.code, tt.field, tt.lang)
				if diff := cmp.Diff(before, f.state(t)); diff != "" {
					t.Errorf("a refused request changed the table (-before +after):\n%s", diff)
				}
				if diff := cmp.Diff(membersBefore, f.memberState(t), phoneEqual); diff != "" {
					t.Errorf("a refused request changed members (-before +after):\n%s", diff)
				}
				return
			}
			if tt.listCount > 0 {
				if items, _ := body["items"].([]any); len(items) != tt.listCount {
					t.Errorf("items = %d, want %d", len(items), tt.listCount)
				}
			}
			if tt.items != nil {
				var got []string
				for _, it := range body["items"].([]any) {
					got = append(got, it.(map[string]any)["memberId"].(string))
				}
				if diff := cmp.Diff(tt.items, got); diff != "" {
					t.Errorf("members listed (-want +got):\n%s", diff)
				}
			}
			if tt.want == nil {
				return
			}
			got := map[string]any{}
			for k := range tt.want {
				got[k] = body[k]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// robotKey is the key of the WeCom robot in the create-group-robot sample.
const robotKey = "693a91f6-7aaa-4c7b-a1c3-2b1fe4c2cafe"

// A group's WeCom robot goes in as a webhook URL or a key, is stored as the key alone, and
// comes back out only masked; "" removes it, null leaves it, and a bad address changes nothing.
func TestGroupRobot(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	stored := func(t *testing.T, id string) string {
		t.Helper()
		g, err := f.store.GetGroup(ctx, storeID, id)
		if err != nil {
			t.Fatalf("GetGroup: %v", err)
		}
		return g.RobotKey
	}
	type robot struct {
		Configured bool   `json:"configured"`
		Key        string `json:"key"`
	}
	// send invokes req with body and returns the status and the group's robot as answered.
	send := func(t *testing.T, req events.APIGatewayV2HTTPRequest, body string) (int, robot, string) {
		t.Helper()
		req.Body = body
		resp := f.invokeRequest(t, req)
		if strings.Contains(resp.Body, robotKey) || strings.Contains(resp.Body, "2b1fe4c2") {
			t.Errorf("response names the robot's key: %s", resp.Body)
		}
		var out struct {
			ID    string `json:"id"`
			Robot robot  `json:"robot"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
		return resp.StatusCode, out.Robot, out.ID
	}
	masked := robot{Configured: true, Key: "693a****cafe"}

	create := request(t, "create-group-robot")
	status, got, id := send(t, create, create.Body)
	if status != 201 || got != masked {
		t.Fatalf("create with a webhook URL: %d %+v, want 201 %+v", status, got, masked)
	}
	if k := stored(t, id); k != robotKey {
		t.Fatalf("stored key = %q, want %q", k, robotKey)
	}

	patch := request(t, "update-group")
	patch.PathParameters = map[string]string{"id": id}
	patch.RawPath = "/api/admin/groups/" + id
	patch.RequestContext.HTTP.Path = patch.RawPath
	get := request(t, "get-group")
	get.PathParameters = patch.PathParameters

	if status, got, _ := send(t, get, ""); status != 200 || got != masked {
		t.Errorf("get: %d %+v, want 200 %+v", status, got, masked)
	}
	if status, got, _ := send(t, patch, `{"name": "太极拳", "robotKey": null}`); status != 200 || got != masked {
		t.Errorf("patch with robotKey null: %d %+v, want 200 %+v", status, got, masked)
	}
	if k := stored(t, id); k != robotKey {
		t.Errorf("after robotKey null, stored key = %q, want it unchanged", k)
	}

	for _, bad := range []string{
		"https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=" + "abcd1234-ef",
		"http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234-ef",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234%20ef",
		"abcd1234 ef",
		"   ",
	} {
		body, _ := json.Marshal(map[string]string{"robotKey": bad})
		before := f.state(t)
		for name, req := range map[string]events.APIGatewayV2HTTPRequest{"create": create, "patch": patch} {
			req.Headers = maps.Clone(req.Headers)
			delete(req.Headers, "idempotency-key")
			b := string(body)
			if name == "create" {
				b = `{"name": "另一个群", ` + b[1:]
			}
			req.Body = b
			resp := f.invokeRequest(t, req)
			if resp.StatusCode != 400 || !strings.Contains(resp.Body, `"invalid_robot_key"`) {
				t.Errorf("%s with %q: %d %s, want 400 invalid_robot_key", name, bad, resp.StatusCode, resp.Body)
			}
		}
		if diff := cmp.Diff(before, f.state(t)); diff != "" {
			t.Errorf("a refused robot key %q changed the table (-before +after):\n%s", bad, diff)
		}
	}

	if status, got, _ := send(t, patch, `{"robotKey": "abcd1234-ef"}`); status != 200 || got != (robot{Configured: true, Key: "****"}) {
		t.Errorf("patch with a short bare key: %d %+v, want 200 configured, key ****", status, got)
	}
	if k := stored(t, id); k != "abcd1234-ef" {
		t.Errorf("after a new key, stored key = %q, want abcd1234-ef", k)
	}
	if status, got, _ := send(t, patch, `{"robotKey": ""}`); status != 200 || got != (robot{}) {
		t.Errorf(`patch with robotKey "": %d %+v, want 200 not configured`, status, got)
	}
	if k := stored(t, id); k != "" {
		t.Errorf(`after robotKey "", stored key = %q, want none`, k)
	}
	if status, got, _ := send(t, get, ""); status != 200 || got != (robot{}) {
		t.Errorf("get after removal: %d %+v, want 200 not configured", status, got)
	}
}

// staffLinkBody is the body of a staff-made link for 儿子, given with the senior's consent at the
// counter, with the alert fields given.
func staffLinkBody(alertFields string) string {
	return `{"label": "儿子", "scope": "view", ` + alertFields + `, "consent": "in_person"}`
}

// A staff-made link with alerts keeps the relative's number in full for the escalator to call,
// and a refused one keeps nothing: no link, no number.
func TestStaffFamilyLinkAlerts(t *testing.T) {
	f := newFixture(t)
	f.seedMembers(t)
	ctx := context.Background()
	for _, body := range []string{
		staffLinkBody(`"alerts": true`),
		staffLinkBody(`"alertPhone": "13900139000"`),
		staffLinkBody(`"alerts": true, "alertPhone": "010 8888 8888"`),
	} {
		req := request(t, "create-family-link")
		req.Body = body
		if resp := f.invokeRequest(t, req); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", body, resp.StatusCode, resp.Body)
		}
	}
	page, err := f.store.MemberPage(ctx, storeID, memberA)
	if err != nil || len(page.Links) != 0 {
		t.Fatalf("links after refusals = %+v, %v; want none", page.Links, err)
	}

	req := request(t, "create-family-link")
	req.Body = staffLinkBody(`"alerts": true, "alertPhone": "+86 139 0013 9000", "alertChannel": "sms"`)
	resp := f.invokeRequest(t, req)
	if resp.StatusCode != 201 || strings.Contains(resp.Body, "00139000") {
		t.Fatalf("create: %d %s, want 201 with the number masked", resp.StatusCode, resp.Body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(resp.Body), &created); err != nil {
		t.Fatal(err)
	}
	links, err := f.store.AlertLinks(ctx, storeID, memberA, now)
	if err != nil || len(links) != 1 {
		t.Fatalf("AlertLinks = %+v, %v; want the new link", links, err)
	}
	if l := links[0]; l.ID != created.ID || l.AlertPhone.E164() != "+8613900139000" || l.AlertChannel != "sms" || l.CreatedBy != "staff-1" {
		t.Errorf("alert link = %+v, want %s by sms to +8613900139000, made by staff-1", l, created.ID)
	}
}

func checkRefusal(t *testing.T, body map[string]any, code, field, lang string) {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	if e["code"] != code {
		t.Errorf("error code = %v, want %s", e["code"], code)
	}
	if f, _ := e["field"].(string); f != field {
		t.Errorf("error field = %q, want %q", f, field)
	}
	msg, _ := e["message"].(string)
	if msg == "" || strings.HasPrefix(msg, "error.") {
		t.Fatalf("error message %q is missing from the catalog", msg)
	}
	hasHan := strings.ContainsFunc(msg, func(r rune) bool { return unicode.Is(unicode.Han, r) })
	if (lang == "zh") != hasHan {
		t.Errorf("error message %q is not in %s", msg, lang)
	}
}

func TestCreateGroupIsIdempotent(t *testing.T) {
	f := newFixture(t)
	payload := readEvent(t, "create-group")
	first := f.invoke(t, payload)
	second := f.invoke(t, payload)
	if first.StatusCode != 201 || second.StatusCode != 201 {
		t.Fatalf("statuses = %d, %d; want 201, 201", first.StatusCode, second.StatusCode)
	}
	if diff := cmp.Diff(first.Body, second.Body); diff != "" {
		t.Errorf("a retried create returned another group (-first +second):\n%s", diff)
	}
	if n := len(f.state(t)); n != 2 { // the seeded group and the created one
		t.Errorf("groups = %d after a retried create, want 2", n)
	}
}

func TestRejectsOversizedBody(t *testing.T) {
	f := newFixture(t)
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(readEvent(t, "create-group"), &req); err != nil {
		t.Fatal(err)
	}
	req.Body = `{"name":"` + strings.Repeat("群", 25_000) + `"}` // 75 KB of UTF-8
	payload, _ := json.Marshal(req)
	before := f.state(t)
	resp := f.invoke(t, payload)
	if resp.StatusCode != 413 {
		t.Fatalf("status = %d, want 413", resp.StatusCode)
	}
	if diff := cmp.Diff(before, f.state(t)); diff != "" {
		t.Errorf("an oversized request changed the table:\n%s", diff)
	}
}

// Pages follow one another without gaps or repeats, each costing one Query.
func TestListGroupsPaginates(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 4; i++ {
		if resp := f.invoke(t, readEvent(t, "create-group-en")); resp.StatusCode != 201 {
			t.Fatalf("create: %d %s", resp.StatusCode, resp.Body)
		}
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(readEvent(t, "list-groups-page"), &req); err != nil {
		t.Fatal(err)
	}
	req.QueryStringParameters = map[string]string{"limit": "2"}
	seen := map[string]bool{}
	f.calls.Reset()
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		payload, _ := json.Marshal(req)
		resp := f.invoke(t, payload)
		var body struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Cursor string `json:"cursor"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("page %d: %d %s", page, resp.StatusCode, resp.Body)
		}
		for _, it := range body.Items {
			if seen[it.ID] {
				t.Fatalf("group %s listed twice", it.ID)
			}
			seen[it.ID] = true
		}
		if body.Cursor == "" {
			break
		}
		req.QueryStringParameters["cursor"] = body.Cursor
	}
	if len(seen) != 5 {
		t.Errorf("listed %d groups, want 5", len(seen))
	}
	if n := f.calls.Snapshot().Count["DynamoDB.Query"]; n > 3 {
		t.Errorf("%d Query calls for 5 groups at 2 a page, want ≤ 3", n)
	}
}

// A key reused for a different request is refused, and nothing is created by the second one.
func TestCreateGroupRefusesAReusedKey(t *testing.T) {
	f := newFixture(t)
	if resp := f.invoke(t, readEvent(t, "create-group")); resp.StatusCode != 201 {
		t.Fatalf("first create: %d %s", resp.StatusCode, resp.Body)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(readEvent(t, "create-group"), &req); err != nil {
		t.Fatal(err)
	}
	req.Body = `{"name":"另一个群"}`
	payload, _ := json.Marshal(req)
	before := f.state(t)
	resp := f.invoke(t, payload)
	if resp.StatusCode != 409 || !strings.Contains(resp.Body, `"idempotency_key_reused"`) {
		t.Fatalf("reused key: %d %s, want 409 idempotency_key_reused", resp.StatusCode, resp.Body)
	}
	if diff := cmp.Diff(before, f.state(t)); diff != "" {
		t.Errorf("a refused create changed the table:\n%s", diff)
	}
}

// Where messages go to the outbox, staff see them newest first, their own store's only.
func TestListOutbox(t *testing.T) {
	f := newFixture(t)
	h := admin.New(admin.Deps{Store: f.store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now: func() time.Time { return now }, BaseURL: baseURL, Outbox: true})
	ctx := context.Background()
	for i, s := range []string{storeID, otherStoreID, storeID} {
		if _, err := f.store.PutOutbox(ctx, dynamostore.OutboxEntry{StoreID: s, MessageID: fmt.Sprint("m", i), MemberID: "M1",
			Channel: "sms", To: "+8613800138000", ToMasked: "+86138****8000", Text: fmt.Sprint("消息", i), Kind: "otp",
			At: now.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	f.handler = lambda.NewHandler(h.Handle)
	resp := f.invoke(t, readEvent(t, "list-outbox"))
	var body struct {
		Items []struct{ Text string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	var texts []string
	for _, it := range body.Items {
		texts = append(texts, it.Text)
	}
	if diff := cmp.Diff([]string{"消息2", "消息0"}, texts); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	spec, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.CheckResponse("GET /api/admin/outbox", resp.StatusCode, resp.Headers["content-type"], []byte(resp.Body)); err != nil {
		t.Errorf("response breaks the OpenAPI contract: %v", err)
	}
}

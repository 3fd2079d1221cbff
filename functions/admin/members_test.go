package admin_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"yinling/functions/admin"
	"yinling/shared/apispec"
	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/member"
)

// Members the sample events in events/admin refer to (seedMembers).
const (
	approvalGroupID = "01JDQ7Z6W3V8G0X5Y4K2M9N1PD" // s-test, entry rule approval
	otherGroupID    = "01JDQ7Z6W3V8G0X5Y4K2M9N1PE" // s-other
	memberA         = "01JDR00000000000000000000A"
	memberB         = "01JDR00000000000000000000B"
	memberC         = "01JDR00000000000000000000C"
	memberD         = "01JDR00000000000000000000D"
	memberE         = "01JDR00000000000000000000E" // s-other
)

// join is one signup seeded through the real signup storage: Signup, then (verified)
// CompleteVerification, as POST /api/signup and /api/signup/verify write them.
type join struct {
	store, group, member, name, phone string
	rule                              group.EntryRule
	path                              member.JoinPath
	code, referrer                    string
	at                                time.Time
	newMember, verified               bool
}

func seedJoin(t testing.TB, st *dynamostore.Store, j join) {
	t.Helper()
	ctx := context.Background()
	m, consents, err := member.NewSignup(member.SignupDraft{Name: j.name, Phone: j.phone, BirthYear: 1950,
		Consents:       map[member.ConsentKind]bool{member.ConsentService: true, member.ConsentHealth: true},
		AcceptCovenant: true}, nil, j.at)
	if err != nil {
		t.Fatalf("seed %s: %v", j.name, err)
	}
	m.ID, m.StoreID = j.member, j.store
	ms := member.Membership{StoreID: j.store, GroupID: j.group, MemberID: j.member, Status: member.StatusPendingVerification,
		Path: j.path, Code: j.code, ReferrerID: j.referrer, JoinedAt: j.at}
	key := []byte("test-key")
	if err := st.Signup(ctx, dynamostore.SignupWrite{Member: m, NewMember: j.newMember, PhoneHash: "phone-" + j.member,
		Consents: consents, Membership: ms, OTP: member.NewOTPState(member.NewOTP(), j.member, key, j.at),
		Rule: j.rule, Now: j.at}); err != nil {
		t.Fatalf("seed signup %s: %v", j.name, err)
	}
	if !j.verified {
		return
	}
	rec, err := st.GetOTP(ctx, j.member)
	if err != nil {
		t.Fatal(err)
	}
	status, err := member.JoinStatus(j.rule, j.path, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteVerification(ctx, dynamostore.Verification{Record: rec, Status: status,
		SessionHash: "seed-" + j.member + "-" + j.group, SessionExpires: j.at.Add(time.Hour), Now: j.at.Add(time.Minute)}); err != nil {
		t.Fatalf("seed verification %s: %v", j.name, err)
	}
}

// seedMembers adds an approval group to s-test and a group to s-other, and their members:
//
//	邻里健康群 (open)   张秀英 A  qr, 40 days ago, active; leader, tags 太极拳 糖尿病
//	                   李建国 B  referred by A, 2 days ago, active
//	                   王芳   C  qr, yesterday, phone not verified
//	审核群 (approval)   赵桂兰 D  qr, 3 hours ago, pending_approval
//	                   张秀英 A  qr, an hour ago, pending_approval
//	s-other's group    陈明   E  qr, 2 hours ago, active
func (f *fixture) seedMembers(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for _, g := range []group.Group{
		{ID: approvalGroupID, StoreID: storeID, Name: "审核群", EntryRule: group.RuleApproval, PushCap: 2, JoinCode: "APPR2345"},
		{ID: otherGroupID, StoreID: otherStoreID, Name: "隔壁的群", EntryRule: group.RuleOpen, PushCap: 2, JoinCode: "OTHR2345"},
	} {
		g.CreatedBy, g.CreatedAt, g.UpdatedAt = "staff-1", now.AddDate(0, -3, 0), now.AddDate(0, -3, 0)
		if _, err := f.store.CreateGroup(ctx, g, dynamostore.Idempotency{}); err != nil {
			t.Fatalf("seed group: %v", err)
		}
	}
	// The store has no writer of referral codes yet; CompleteVerification needs only the code's
	// item to count its use, so an invite item made on A's behalf stands in for A's code.
	if err := f.store.CreateInvite(ctx, group.Invite{Code: "RFRL2345", StoreID: storeID, GroupID: groupID, CreatedBy: memberA,
		MaxUses: 100, CreatedAt: now.AddDate(0, 0, -50), ExpiresAt: now.AddDate(0, 0, 7)}); err != nil {
		t.Fatal(err)
	}
	open := func(store, grp, id, name, phone string, at time.Time) join {
		return join{store: store, group: grp, member: id, name: name, phone: phone, rule: group.RuleOpen,
			path: member.PathQR, code: "SEED2345", at: at, newMember: true, verified: true}
	}
	a := open(storeID, groupID, memberA, "张秀英", "13800138000", now.AddDate(0, 0, -40))
	b := open(storeID, groupID, memberB, "李建国", "13900139001", now.Add(-48*time.Hour))
	b.path, b.code, b.referrer = member.PathReferral, "RFRL2345", memberA
	c := open(storeID, groupID, memberC, "王芳", "13700137002", now.Add(-24*time.Hour))
	c.verified = false
	d := open(storeID, approvalGroupID, memberD, "赵桂兰", "13600136003", now.Add(-3*time.Hour))
	d.rule, d.code = group.RuleApproval, "APPR2345"
	a2 := open(storeID, approvalGroupID, memberA, "张秀英", "13800138000", now.Add(-time.Hour))
	a2.rule, a2.code, a2.newMember = group.RuleApproval, "APPR2345", false
	e := open(otherStoreID, otherGroupID, memberE, "陈明", "13500135004", now.Add(-2*time.Hour))
	e.code = "OTHR2345"
	for _, j := range []join{a, b, c, d, a2, e} {
		seedJoin(t, f.store, j)
	}
	leader, tags := member.TierLeader, []string{"太极拳", "糖尿病"}
	if err := f.store.ChangeMember(ctx, storeID, memberA, dynamostore.MemberChange{Tier: &leader, Tags: &tags,
		By: "staff-1", Now: now.AddDate(0, 0, -30)}); err != nil {
		t.Fatal(err)
	}
	f.calls.Reset()
}

// memberState is everything about members a refused request must leave unchanged: each seeded
// member's profile and memberships, and each group's counters.
type memberState struct {
	Members map[string]memberHome
	Health  map[string]dynamostore.GroupHealth
}

type memberHome struct {
	Member      member.Member
	Memberships []member.Membership
}

// phoneEqual compares phones as they compare in Go; cmp cannot see their unexported digits.
var phoneEqual = cmp.Comparer(func(a, b member.Phone) bool { return a == b })

func (f *fixture) memberState(t testing.TB) memberState {
	t.Helper()
	ctx := context.Background()
	s := memberState{Members: map[string]memberHome{}, Health: map[string]dynamostore.GroupHealth{}}
	for _, m := range []struct{ store, id string }{
		{storeID, memberA}, {storeID, memberB}, {storeID, memberC}, {storeID, memberD}, {otherStoreID, memberE},
	} {
		p, ms, err := f.store.MemberHome(ctx, m.store, m.id)
		if errors.Is(err, member.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		s.Members[m.id] = memberHome{Member: p, Memberships: ms}
	}
	for _, g := range []struct{ store, id string }{{storeID, groupID}, {storeID, approvalGroupID}, {otherStoreID, otherGroupID}} {
		h, err := f.store.GroupHealth(ctx, g.store, g.id, now)
		if errors.Is(err, group.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		s.Health[g.id] = h
	}
	return s
}

func (f *fixture) invokeRequest(t *testing.T, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return f.invoke(t, payload)
}

func request(t *testing.T, event string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(readEvent(t, event), &req); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestExportMembers(t *testing.T) {
	spec, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		event string
		want  [][]string // every record after the header, in the list's order
		head  []string
	}{
		{event: "export-members",
			head: []string{"会员编号", "姓名", "手机号（已隐藏）", "年龄段", "会员等级", "标签", "状态", "加入方式", "加入时间（Asia/Shanghai）", "推荐人编号"},
			want: [][]string{
				{memberC, "王芳", "'+86 137****7002", "70–79岁", "普通会员", "", "待验证手机号", "扫群二维码", "2026-11-22 16:00", ""},
				{memberB, "李建国", "'+86 139****9001", "70–79岁", "普通会员", "", "已入群", "会员推荐", "2026-11-21 16:00", memberA},
				{memberA, "张秀英", "'+86 138****8000", "70–79岁", "群主（意见领袖）", "太极拳；糖尿病", "已入群", "扫群二维码", "2026-10-14 16:00", ""},
			}},
		{event: "export-members-en",
			head: []string{"Member ID", "Name", "Phone (masked)", "Age band", "Tier", "Tags", "Status", "Joined by", "Joined at (Asia/Shanghai)", "Referrer ID"},
			want: [][]string{
				{memberC, "王芳", "'+86 137****7002", "70–79", "member", "", "phone not verified", "group QR code", "2026-11-22 16:00", ""},
				{memberB, "李建国", "'+86 139****9001", "70–79", "member", "", "active", "member referral", "2026-11-21 16:00", memberA},
				{memberA, "张秀英", "'+86 138****8000", "70–79", "leader", "太极拳; 糖尿病", "active", "group QR code", "2026-10-14 16:00", ""},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			f := newFixture(t)
			f.seedMembers(t)
			req := request(t, tt.event)
			resp := f.invokeRequest(t, req)
			calls := f.calls.Snapshot()
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
			}
			if err := spec.CheckResponse(req.RouteKey, resp.StatusCode, resp.Headers["content-type"], []byte(resp.Body)); err != nil {
				t.Errorf("response breaks the OpenAPI contract: %v", err)
			}
			// The store and group, one Query, one BatchGetItem of the three profiles.
			if n := calls.Total(); n > 3 {
				t.Errorf("made %d AWS calls, want ≤ 3:\n%s", n, calls)
			}
			wantHeaders := map[string]string{
				"content-type":        "text/csv; charset=utf-8",
				"content-disposition": `attachment; filename="members-` + groupID + `.csv"`,
				"cache-control":       "no-store",
			}
			for k, v := range wantHeaders {
				if resp.Headers[k] != v {
					t.Errorf("%s = %q, want %q", k, resp.Headers[k], v)
				}
			}
			if resp.IsBase64Encoded {
				t.Error("a text body went out base64-encoded")
			}
			body, ok := strings.CutPrefix(resp.Body, "\uFEFF")
			if !ok {
				t.Fatal("the file does not start with a UTF-8 byte order mark")
			}
			if !strings.Contains(body, "\r\n") {
				t.Error("lines do not end with CRLF")
			}
			records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.head, records[0]); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, records[1:]); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if strings.Contains(body, "13800138000") {
				t.Error("the file holds a full phone number")
			}
		})
	}
}

// A cell a spreadsheet would run as a formula stays text; a group over the bound gets its first
// rows and says so.
func TestExportMembersGuardsAndTruncates(t *testing.T) {
	f := newFixture(t)
	f.seedMembers(t)
	tags := []string{"=HYPERLINK(\"http://x\",\"点我\")", "@SUM(1)"}
	if err := f.store.ChangeMember(context.Background(), storeID, memberB, dynamostore.MemberChange{Tags: &tags,
		By: "staff-1", Now: now}); err != nil {
		t.Fatal(err)
	}
	h := admin.New(admin.Deps{Store: f.store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now: func() time.Time { return now }, BaseURL: baseURL, ExportMax: 2})
	f.handler = lambda.NewHandler(h.Handle)
	f.calls.Reset()
	resp := f.invokeRequest(t, request(t, "export-members"))
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(resp.Body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 4 { // header, 2 rows, the note
		t.Fatalf("records = %d, want 4:\n%s", len(records), resp.Body)
	}
	if got, want := records[2][5], `'=HYPERLINK("http://x","点我")；@SUM(1)`; got != want {
		t.Errorf("tags cell = %q, want %q", got, want)
	}
	if got := records[3][0]; !strings.Contains(got, "2") || !strings.Contains(got, "没有导出") {
		t.Errorf("last row = %q, want the note that the file stops at 2 members", got)
	}
	if resp.Headers["x-export-truncated"] != "true" {
		t.Errorf("X-Export-Truncated = %q, want true", resp.Headers["x-export-truncated"])
	}
}

// A double click approves once: the second answers not_pending_approval, and the group's
// counters moved by one member.
func TestApproveOnce(t *testing.T) {
	f := newFixture(t)
	f.seedMembers(t)
	req := request(t, "update-member-approve")
	if resp := f.invokeRequest(t, req); resp.StatusCode != 200 {
		t.Fatalf("first approval: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := f.invokeRequest(t, req); resp.StatusCode != 409 || !strings.Contains(resp.Body, `"not_pending_approval"`) {
		t.Fatalf("second approval: %d %s, want 409 not_pending_approval", resp.StatusCode, resp.Body)
	}
	h, err := f.store.GroupHealth(context.Background(), storeID, approvalGroupID, now)
	if err != nil {
		t.Fatal(err)
	}
	if h.Active != 1 || h.PendingApproval != 1 {
		t.Errorf("active %d, pending approval %d; want 1 and 1", h.Active, h.PendingApproval)
	}
	// The membership moved in the list: GSI1's key follows the status.
	page, err := f.store.ListGroupMembers(context.Background(), storeID, approvalGroupID,
		dynamostore.MemberFilter{Status: member.StatusActive}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Member.ID != memberD || page.Items[0].Membership.ApprovedBy != "staff-1" {
		t.Errorf("active members of the approval group = %+v, want 赵桂兰 approved by staff-1", page.Items)
	}
}

// Two staff who read the same pending membership both try to approve it: the transaction's
// conditions let one through. The same holds for verifying in person, and the rest of a refused
// change is not written either.
func TestChangeMemberConditions(t *testing.T) {
	f := newFixture(t)
	f.seedMembers(t)
	ctx := context.Background()
	ms, err := f.store.GetMembership(ctx, storeID, memberD, approvalGroupID)
	if err != nil {
		t.Fatal(err)
	}
	approve := dynamostore.MemberChange{Approve: &ms, By: "staff-1", Now: now}
	if err := f.store.ChangeMember(ctx, storeID, memberD, approve); err != nil {
		t.Fatalf("first approval: %v", err)
	}
	before := f.memberState(t)
	partner := member.TierPartner
	second := approve
	second.Tier, second.By = &partner, "staff-2"
	if err := f.store.ChangeMember(ctx, storeID, memberD, second); !errors.Is(err, dynamostore.ErrNotPendingApproval) {
		t.Errorf("second approval: %v, want ErrNotPendingApproval", err)
	}
	verify := dynamostore.MemberChange{VerifyInPerson: true, Tier: &partner, By: "staff-2", Now: now}
	if err := f.store.ChangeMember(ctx, storeID, memberA, verify); !errors.Is(err, dynamostore.ErrAlreadyVerified) {
		t.Errorf("verifying a verified member: %v, want ErrAlreadyVerified", err)
	}
	if err := f.store.ChangeMember(ctx, storeID, "01JDR00000000000000000000Z", dynamostore.MemberChange{Tier: &partner,
		By: "staff-2", Now: now}); !errors.Is(err, member.ErrNotFound) {
		t.Errorf("changing a missing member: %v, want member.ErrNotFound", err)
	}
	if diff := cmp.Diff(before, f.memberState(t), phoneEqual); diff != "" {
		t.Errorf("refused changes changed members (-before +after):\n%s", diff)
	}
}

// Filtered pages can be short, even empty, and the cursor still leads on: following it finds
// every match once, one Query and one BatchGetItem a page.
func TestListMembersFilteredPages(t *testing.T) {
	f := newFixture(t)
	f.seedMembers(t)
	req := request(t, "list-members-filtered") // tier leader, tag 太极拳: only 张秀英, listed last
	req.QueryStringParameters["limit"] = "1"
	var found []string
	pages := 0
	f.calls.Reset()
	for ; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		resp := f.invokeRequest(t, req)
		var body struct {
			Items []struct {
				MemberID string `json:"memberId"`
			} `json:"items"`
			Cursor string `json:"cursor"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("page %d: %d %s", pages, resp.StatusCode, resp.Body)
		}
		for _, it := range body.Items {
			found = append(found, it.MemberID)
		}
		if body.Cursor == "" {
			pages++
			break
		}
		req.QueryStringParameters["cursor"] = body.Cursor
	}
	if diff := cmp.Diff([]string{memberA}, found); diff != "" {
		t.Errorf("members found (-want +got):\n%s", diff)
	}
	if pages < 3 {
		t.Errorf("%d pages for 3 members at 1 a page; the short pages did not carry a cursor", pages)
	}
	calls := f.calls.Snapshot()
	if q, b := calls.Count["DynamoDB.Query"], calls.Count["DynamoDB.BatchGetItem"]; q != pages || b > pages {
		t.Errorf("%d Query and %d BatchGetItem calls for %d pages, want one Query and at most one BatchGetItem a page", q, b, pages)
	}
	// A cursor of this listing does not open another store's partition.
	other := request(t, "list-members-own-other-store")
	other.QueryStringParameters["cursor"] = req.QueryStringParameters["cursor"]
	if resp := f.invokeRequest(t, other); resp.StatusCode != 400 || !strings.Contains(resp.Body, `"invalid_cursor"`) {
		t.Errorf("a cursor of another store's listing: %d %s, want 400 invalid_cursor", resp.StatusCode, resp.Body)
	}
}

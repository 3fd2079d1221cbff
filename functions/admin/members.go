package admin

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/tenant"
)

// Refusals of the member routes' parameters.
var (
	errGroupRequired   = &fail.Error{Kind: fail.Invalid, Code: "required", Field: "group"}
	errInvalidStatus   = &fail.Error{Kind: fail.Invalid, Code: "invalid_status", Field: "status"}
	errApproveRequired = &fail.Error{Kind: fail.Invalid, Code: "required", Field: "approve.group"}
)

// listMembers is one page of a group's members (a member list is always per group: the group's
// GSI1 partition). Two calls: the page's memberships, then their profiles; the profile fields
// (tier, tags, name) filter the page after the read, so a filtered page can be short.
func (h *Handler) listMembers(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, groupID, err := staffAndGroup(r)
	if err != nil {
		return apigw.Response{}, err
	}
	f, err := memberFilter(r.QueryStringParameters)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.ListGroupMembers(ctx, staff.StoreID, groupID, f, r.QueryStringParameters["cursor"], limit)
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.d.Now()
	out := memberList{Items: make([]memberRowJSON, len(page.Items)), Cursor: page.Cursor}
	for i, gm := range page.Items {
		out.Items[i] = toMemberRowJSON(gm, now)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// memberFilter reads the list's filters, each checked by the rule that governs the field.
func memberFilter(q map[string]string) (dynamostore.MemberFilter, error) {
	var f dynamostore.MemberFilter
	if s := q["status"]; s != "" {
		if f.Status = member.Status(s); !f.Status.Valid() {
			return f, errInvalidStatus
		}
	}
	if s := q["tier"]; s != "" {
		t, err := member.ParseTier(s)
		if err != nil {
			return f, err
		}
		f.Tier = t
	}
	if s := q["tag"]; s != "" {
		tags, err := member.ValidTags([]string{s})
		if err != nil {
			return f, member.ErrInvalidTag.OnField("tag")
		}
		f.Tag = tags[0]
	}
	if s := strings.TrimSpace(q["q"]); s != "" {
		switch {
		case utf8.RuneCountInString(s) > member.MaxNameLen: // no name is longer
			return f, fail.InvalidField("too_long", "q")
		case !group.CleanText(s, false):
			return f, fail.InvalidField("invalid_text", "q")
		}
		f.Name = s
	}
	return f, nil
}

// getMember is a member of the caller's store: two calls, their partition (profile and
// memberships) and the names of their groups.
func (h *Handler) getMember(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndMember(r)
	if err != nil {
		return apigw.Response{}, err
	}
	m, memberships, err := h.d.Store.MemberHome(ctx, staff.StoreID, id)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.memberDetail(ctx, staff.StoreID, m, memberships)
}

// updateMember applies a staff change — tier, tags, approval into a group, verification in
// person — in one transaction. Three calls: the member's partition (an approval re-keys the
// membership by its join time, and refusals are found here before anything is written), the
// transaction, the group names of the answer. Verifying in person marks only the phone; a
// membership still pending_verification stays so until the senior completes it through the
// signup flow, which then counts it in the group's totals.
func (h *Handler) updateMember(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndMember(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in updateMemberJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	c, err := in.change(staff, h.d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	m, memberships, err := h.d.Store.MemberHome(ctx, staff.StoreID, id)
	if err != nil {
		return apigw.Response{}, err
	}
	if c.VerifyInPerson && m.Verified() {
		return apigw.Response{}, dynamostore.ErrAlreadyVerified
	}
	if in.Approve != nil {
		i := indexOfGroup(memberships, in.Approve.Group)
		if i < 0 {
			return apigw.Response{}, dynamostore.ErrMembershipNotFound
		}
		if memberships[i].Status != member.StatusPendingApproval {
			return apigw.Response{}, dynamostore.ErrNotPendingApproval
		}
		c.Approve = &memberships[i]
	}
	if err := h.d.Store.ChangeMember(ctx, staff.StoreID, id, c); err != nil {
		return apigw.Response{}, err
	}
	m, memberships = c.Applied(m, memberships)
	return h.memberDetail(ctx, staff.StoreID, m, memberships)
}

// change validates the body with the member rules, before anything is read.
func (in updateMemberJSON) change(staff tenant.Staff, now time.Time) (dynamostore.MemberChange, error) {
	c := dynamostore.MemberChange{VerifyInPerson: in.VerifyInPerson, By: staff.ID, Now: now}
	if in.Tier == nil && in.Tags == nil && in.Approve == nil && !in.VerifyInPerson {
		return c, group.ErrEmptyUpdate
	}
	if in.Tier != nil {
		if *in.Tier == "" { // ParseTier reads "" as the default; a change must name the tier
			return c, member.ErrInvalidTier
		}
		t, err := member.ParseTier(*in.Tier)
		if err != nil {
			return c, err
		}
		c.Tier = &t
	}
	if in.Tags != nil {
		tags, err := member.ValidTags(*in.Tags)
		if err != nil {
			return c, err
		}
		if tags == nil {
			tags = []string{}
		}
		c.Tags = &tags
	}
	if in.Approve != nil {
		switch g := in.Approve.Group; {
		case g == "":
			return c, errApproveRequired
		case !ids.Valid(g):
			return c, dynamostore.ErrMembershipNotFound
		}
	}
	return c, nil
}

func indexOfGroup(memberships []member.Membership, groupID string) int {
	for i, ms := range memberships {
		if ms.GroupID == groupID {
			return i
		}
	}
	return -1
}

func (h *Handler) memberDetail(ctx context.Context, store string, m member.Member, memberships []member.Membership) (apigw.Response, error) {
	groupIDs := make([]string, len(memberships))
	for i, ms := range memberships {
		groupIDs[i] = ms.GroupID
	}
	groups, err := h.d.Store.GetGroups(ctx, store, groupIDs)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toMemberDetailJSON(m, memberships, groups, h.d.Now())), nil
}

// groupHealth is a group's health from its counters: two calls, never a scan.
func (h *Handler) groupHealth(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, groupID, err := staffAndGroup(r)
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.d.Now()
	gh, err := h.d.Store.GroupHealth(ctx, staff.StoreID, groupID, now)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toMetricsJSON(gh, now)), nil
}

// staffAndGroup returns the caller and the required ?group= parameter. A value that cannot be
// one of ours answers 404, the same as another store's group.
func staffAndGroup(r *apigw.Request) (tenant.Staff, string, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return tenant.Staff{}, "", err
	}
	id := r.QueryStringParameters["group"]
	switch {
	case id == "":
		return tenant.Staff{}, "", errGroupRequired
	case !ids.Valid(id):
		return tenant.Staff{}, "", group.ErrNotFound
	}
	return staff, id, nil
}

// staffAndMember returns the caller and the {id} path parameter, a member id; one that cannot
// be one of ours answers 404, the same as another store's member.
func staffAndMember(r *apigw.Request) (tenant.Staff, string, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return tenant.Staff{}, "", err
	}
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return tenant.Staff{}, "", member.ErrNotFound
	}
	return staff, id, nil
}

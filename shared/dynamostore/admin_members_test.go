package dynamostore

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/member"
)

// The status filter is a begins_with on the GSI1 sort key that toMembershipItem writes: the
// prefix must select exactly the memberships of its status.
func TestGroupMembersStatusPrefix(t *testing.T) {
	joined := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	statuses := []member.Status{member.StatusPendingVerification, member.StatusPendingApproval, member.StatusActive}
	for _, want := range statuses {
		prefix := groupMembersStatusPrefix(want)
		for _, st := range statuses {
			it := toMembershipItem(member.Membership{StoreID: "s1", GroupID: "g1", MemberID: "m1", Status: st, JoinedAt: joined})
			if got := strings.HasPrefix(it.GSI1SK, prefix); got != (st == want) {
				t.Errorf("prefix %q of %s matches %q: %v", prefix, want, it.GSI1SK, got)
			}
		}
	}
	if got := groupMembersStatusPrefix(member.StatusActive); got != "active#" {
		t.Errorf("prefix of active = %q, want %q", got, "active#")
	}
}

func TestMemberFilterMatch(t *testing.T) {
	m := member.Member{Name: "Zhang Xiuying 张秀英", Tier: member.TierLeader, Tags: []string{"太极拳", "糖尿病"}}
	tests := []struct {
		name string
		f    MemberFilter
		want bool
	}{
		{"no filter", MemberFilter{}, true},
		{"tier", MemberFilter{Tier: member.TierLeader}, true},
		{"other tier", MemberFilter{Tier: member.TierPartner}, false},
		{"tag", MemberFilter{Tag: "糖尿病"}, true},
		{"tags compare exactly", MemberFilter{Tag: "太极"}, false},
		{"part of the name", MemberFilter{Name: "秀英"}, true},
		{"name ignores case", MemberFilter{Name: "xiuYING"}, true},
		{"another name", MemberFilter{Name: "李"}, false},
		{"all of them", MemberFilter{Tier: member.TierLeader, Tag: "太极拳", Name: "张"}, true},
		{"one of them fails", MemberFilter{Tier: member.TierLeader, Tag: "太极拳", Name: "王"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.match(m); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

// Applied is what ChangeMember writes, seen from memory: the handler answers with it.
func TestMemberChangeApplied(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 500, time.UTC)
	sec := now.Truncate(time.Second)
	leader := member.TierLeader
	tags := []string{"太极拳"}
	m := member.Member{ID: "m1", Tier: member.TierMember, UpdatedAt: sec.Add(-time.Hour)}
	ms := []member.Membership{
		{GroupID: "g1", Status: member.StatusActive},
		{GroupID: "g2", Status: member.StatusPendingApproval},
	}
	c := MemberChange{Tier: &leader, Tags: &tags, VerifyInPerson: true, Approve: &ms[1], By: "staff-1", Now: now}
	gotM, gotMs := c.Applied(m, ms)
	wantM := member.Member{ID: "m1", Tier: member.TierLeader, Tags: []string{"太极拳"}, VerifiedAt: sec, VerifiedBy: "staff-1", UpdatedAt: sec}
	if diff := cmp.Diff(wantM, gotM, cmp.Comparer(func(a, b member.Phone) bool { return a == b })); diff != "" {
		t.Errorf("member (-want +got):\n%s", diff)
	}
	wantMs := []member.Membership{
		{GroupID: "g1", Status: member.StatusActive},
		{GroupID: "g2", Status: member.StatusActive, ApprovedBy: "staff-1", ApprovedAt: sec},
	}
	if diff := cmp.Diff(wantMs, gotMs); diff != "" {
		t.Errorf("memberships (-want +got):\n%s", diff)
	}
	if ms[1].Status != member.StatusPendingApproval {
		t.Error("Applied changed the caller's memberships")
	}
}

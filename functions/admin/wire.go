package admin

import (
	"slices"
	"time"

	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/member"
	"yinling/shared/notify"
)

// Wire (JSON) forms of the admin API, kept apart from the domain and storage structs so neither
// layout leaks into the contract (API.md, shared/apispec/openapi.yaml).

type groupJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Covenant  string    `json:"covenant"`
	EntryRule string    `json:"entryRule"`
	PushCap   int       `json:"pushCap"`
	JoinCode  string    `json:"joinCode"`
	JoinURL   string    `json:"joinUrl"`
	Robot     robotJSON `json:"robot"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// robotJSON says whether a group has a WeCom robot. The key is masked: whoever holds it whole
// can post into the group, so it goes in once and never comes back out.
type robotJSON struct {
	Configured bool   `json:"configured"`
	Key        string `json:"key,omitempty"`
}

func toGroupJSON(g group.Group, base string) groupJSON {
	out := groupJSON{
		ID: g.ID, Name: g.Name, Covenant: g.Covenant, EntryRule: string(g.EntryRule),
		PushCap: g.PushCap, JoinCode: g.JoinCode, JoinURL: base + "/join/" + g.JoinCode,
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(),
	}
	if g.RobotKey != "" {
		out.Robot = robotJSON{Configured: true, Key: notify.Mask(g.RobotKey)}
	}
	return out
}

type groupList struct {
	Items  []groupJSON `json:"items"`
	Cursor string      `json:"cursor,omitempty"`
}

type createGroupJSON struct {
	Name      string `json:"name"`
	Covenant  string `json:"covenant"`
	EntryRule string `json:"entryRule"`
	PushCap   *int   `json:"pushCap"`
	RobotKey  string `json:"robotKey"`
}

func (in createGroupJSON) draft() group.Draft {
	return group.Draft{Name: in.Name, Covenant: in.Covenant, EntryRule: group.EntryRule(in.EntryRule), PushCap: in.PushCap,
		RobotKey: in.RobotKey}
}

type updateGroupJSON struct {
	Name      *string `json:"name"`
	Covenant  *string `json:"covenant"`
	EntryRule *string `json:"entryRule"`
	PushCap   *int    `json:"pushCap"`
	RobotKey  *string `json:"robotKey"` // null as absent; "" removes the robot
}

func (in updateGroupJSON) patch() group.Patch {
	p := group.Patch{Name: in.Name, Covenant: in.Covenant, PushCap: in.PushCap, RobotKey: in.RobotKey}
	if in.EntryRule != nil {
		r := group.EntryRule(*in.EntryRule)
		p.EntryRule = &r
	}
	return p
}

type createInviteJSON struct {
	TTLDays *int `json:"ttlDays"`
	MaxUses *int `json:"maxUses"`
}

type inviteJSON struct {
	Code      string    `json:"code"`
	URL       string    `json:"url"`
	GroupID   string    `json:"groupId"`
	MaxUses   int       `json:"maxUses"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func toInviteJSON(inv group.Invite, base string) inviteJSON {
	return inviteJSON{
		Code: inv.Code, URL: base + "/join/" + inv.Code, GroupID: inv.GroupID, MaxUses: inv.MaxUses,
		CreatedAt: inv.CreatedAt.UTC(), ExpiresAt: inv.ExpiresAt.UTC(),
	}
}

type outboxList struct {
	Items  []outboxJSON `json:"items"`
	Cursor string       `json:"cursor,omitempty"`
}

// outboxJSON is one message the outbox kept. It carries the full recipient: the outbox exists
// only where no message reaches a real phone.
type outboxJSON struct {
	MessageID string    `json:"messageId"`
	MemberID  string    `json:"memberId"`
	Channel   string    `json:"channel"`
	To        string    `json:"to"`
	ToMasked  string    `json:"toMasked"`
	Text      string    `json:"text"`
	Link      string    `json:"link"`
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
}

// memberRowJSON is one line of a group's member list. The phone is masked: the full number
// never leaves the table through a staff screen.
type memberRowJSON struct {
	MemberID   string    `json:"memberId"`
	Name       string    `json:"name"`
	Phone      string    `json:"phone"`
	AgeBand    string    `json:"ageBand"`
	Tier       string    `json:"tier"`
	Tags       []string  `json:"tags"`
	Verified   bool      `json:"verified"`
	Status     string    `json:"status"`
	Path       string    `json:"path"`
	JoinedAt   time.Time `json:"joinedAt"`
	ReferrerID string    `json:"referrerId,omitempty"`
}

func toMemberRowJSON(gm dynamostore.GroupMember, now time.Time) memberRowJSON {
	m, ms := gm.Member, gm.Membership
	return memberRowJSON{
		MemberID: m.ID, Name: m.Name, Phone: m.Phone.Masked(), AgeBand: string(m.AgeBand(now)), Tier: string(m.Tier),
		Tags: nonNil(m.Tags), Verified: m.Verified(), Status: string(ms.Status), Path: string(ms.Path),
		JoinedAt: ms.JoinedAt.UTC(), ReferrerID: ms.ReferrerID,
	}
}

type memberList struct {
	Items  []memberRowJSON `json:"items"`
	Cursor string          `json:"cursor,omitempty"`
}

// memberDetailJSON is a member as staff see them: the profile with a masked phone, their
// memberships of the caller's store's groups, and their current consents.
type memberDetailJSON struct {
	ID           string                 `json:"id"`
	Name         string                 `json:"name"`
	Phone        string                 `json:"phone"`
	Verified     bool                   `json:"verified"`
	VerifiedAt   *time.Time             `json:"verifiedAt,omitempty"`
	VerifiedBy   string                 `json:"verifiedBy,omitempty"`
	BirthYear    int                    `json:"birthYear"`
	AgeBand      string                 `json:"ageBand"`
	Gender       string                 `json:"gender"`
	Neighborhood string                 `json:"neighborhood"`
	Interests    []string               `json:"interests"`
	Channel      string                 `json:"channel"`
	Tier         string                 `json:"tier"`
	Tags         []string               `json:"tags"`
	CreatedAt    time.Time              `json:"createdAt"`
	UpdatedAt    time.Time              `json:"updatedAt"`
	Memberships  []membershipJSON       `json:"memberships"`
	Consents     map[string]consentJSON `json:"consents"`
}

type membershipJSON struct {
	GroupID    string     `json:"groupId"`
	GroupName  string     `json:"groupName"`
	Status     string     `json:"status"`
	Path       string     `json:"path"`
	JoinedAt   time.Time  `json:"joinedAt"`
	ReferrerID string     `json:"referrerId,omitempty"`
	InvitedBy  string     `json:"invitedBy,omitempty"`
	ApprovedBy string     `json:"approvedBy,omitempty"`
	ApprovedAt *time.Time `json:"approvedAt,omitempty"`
}

type consentJSON struct {
	Granted bool      `json:"granted"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`
}

func toMemberDetailJSON(m member.Member, memberships []member.Membership, groups map[string]group.Group, now time.Time) memberDetailJSON {
	out := memberDetailJSON{
		ID: m.ID, Name: m.Name, Phone: m.Phone.Masked(), Verified: m.Verified(), VerifiedAt: utcPtr(m.VerifiedAt),
		VerifiedBy: m.VerifiedBy, BirthYear: m.BirthYear, AgeBand: string(m.AgeBand(now)), Gender: string(m.Gender),
		Neighborhood: m.Neighborhood, Interests: nonNil(m.Interests), Channel: string(m.Channel), Tier: string(m.Tier),
		Tags: nonNil(m.Tags), CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
		Memberships: []membershipJSON{}, Consents: map[string]consentJSON{},
	}
	for _, ms := range memberships {
		g, ok := groups[ms.GroupID]
		if !ok {
			continue // the group is gone
		}
		out.Memberships = append(out.Memberships, membershipJSON{
			GroupID: ms.GroupID, GroupName: g.Name, Status: string(ms.Status), Path: string(ms.Path),
			JoinedAt: ms.JoinedAt.UTC(), ReferrerID: ms.ReferrerID, InvitedBy: ms.InvitedBy,
			ApprovedBy: ms.ApprovedBy, ApprovedAt: utcPtr(ms.ApprovedAt),
		})
	}
	slices.SortFunc(out.Memberships, func(a, b membershipJSON) int { return a.JoinedAt.Compare(b.JoinedAt) })
	for k, c := range m.Consents {
		out.Consents[string(k)] = consentJSON{Granted: c.Granted, Version: c.Version, At: c.At.UTC()}
	}
	return out
}

// updateMemberJSON is a staff change to a member; absent fields stay as they are.
type updateMemberJSON struct {
	Tier           *string      `json:"tier"`
	Tags           *[]string    `json:"tags"`
	Approve        *approveJSON `json:"approve"`
	VerifyInPerson bool         `json:"verifyInPerson"`
}

type approveJSON struct {
	Group string `json:"group"`
}

// metricsJSON is a group's health. Push opens and opt-outs join it with the promotions issue.
type metricsJSON struct {
	GroupID          string         `json:"groupId"`
	GroupName        string         `json:"groupName"`
	Members          int            `json:"members"`
	Active           int            `json:"active"`
	PendingApproval  int            `json:"pendingApproval"`
	ActiveLast30Days int            `json:"activeLast30Days"`
	JoinedLast30Days joinedJSON     `json:"joinedLast30Days"`
	TopReferrers     []referrerJSON `json:"topReferrers"`
	Bookings         bookingsJSON   `json:"bookings"`
	Pushes           pushesJSON     `json:"pushes"`
	Partial          bool           `json:"partial"`
	AsOf             time.Time      `json:"asOf"`
}

// pushesJSON is how the group's members answer campaigns: offer pages opened (each member once
// per campaign) and unsubscriptions from a push's link.
type pushesJSON struct {
	Opens   int `json:"opens"`
	OptOuts int `json:"optOuts"`
}

// bookingsJSON is the group's doctor Q&A participation: seats held at sessions for the group,
// and the attendance staff recorded.
type bookingsJSON struct {
	Seats    int `json:"seats"`
	Attended int `json:"attended"`
	NoShow   int `json:"noShow"`
}

type joinedJSON struct {
	QR       int `json:"qr"`
	Invite   int `json:"invite"`
	Referral int `json:"referral"`
	Total    int `json:"total"`
}

type referrerJSON struct {
	MemberID  string `json:"memberId"`
	Name      string `json:"name"`
	Referrals int    `json:"referrals"`
}

func toMetricsJSON(h dynamostore.GroupHealth, now time.Time) metricsJSON {
	j := joinedJSON{QR: h.Joined[member.PathQR], Invite: h.Joined[member.PathInvite], Referral: h.Joined[member.PathReferral]}
	j.Total = j.QR + j.Invite + j.Referral
	out := metricsJSON{
		GroupID: h.Group.ID, GroupName: h.Group.Name, Members: h.Active + h.PendingApproval, Active: h.Active,
		PendingApproval: h.PendingApproval, ActiveLast30Days: h.ActiveLast30Days, JoinedLast30Days: j, TopReferrers: []referrerJSON{},
		Bookings: bookingsJSON{Seats: h.Bookings, Attended: h.Attended, NoShow: h.NoShow},
		Pushes:   pushesJSON{Opens: h.PushOpens, OptOuts: h.PushOptOuts}, Partial: h.Partial,
		AsOf: now.UTC().Truncate(time.Second),
	}
	for _, r := range h.TopReferrers {
		out.TopReferrers = append(out.TopReferrers, referrerJSON{MemberID: r.MemberID, Name: r.Name, Referrals: r.Referrals})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// utcPtr is nil for a zero time, which the JSON then leaves out.
func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

package admin

import (
	"time"

	"yinling/shared/group"
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
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toGroupJSON(g group.Group, base string) groupJSON {
	return groupJSON{
		ID: g.ID, Name: g.Name, Covenant: g.Covenant, EntryRule: string(g.EntryRule),
		PushCap: g.PushCap, JoinCode: g.JoinCode, JoinURL: base + "/join/" + g.JoinCode,
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(),
	}
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
}

func (in createGroupJSON) draft() group.Draft {
	return group.Draft{Name: in.Name, Covenant: in.Covenant, EntryRule: group.EntryRule(in.EntryRule), PushCap: in.PushCap}
}

type updateGroupJSON struct {
	Name      *string `json:"name"`
	Covenant  *string `json:"covenant"`
	EntryRule *string `json:"entryRule"`
	PushCap   *int    `json:"pushCap"`
}

func (in updateGroupJSON) patch() group.Patch {
	p := group.Patch{Name: in.Name, Covenant: in.Covenant, PushCap: in.PushCap}
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

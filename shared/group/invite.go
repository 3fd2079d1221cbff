package group

import (
	"time"

	"yinling/shared/fail"
)

// Invite is a staff invitation code into one group. Codes (a group's join code, a staff invite, a
// member's referral) all lead to the same join page; the invite records who brought whom.
type Invite struct {
	Code      string
	StoreID   string
	GroupID   string
	CreatedBy string // staff id
	MaxUses   int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Invite limits and defaults.
const (
	DefaultInviteTTLDays = 14
	MaxInviteTTLDays     = 90
	DefaultInviteUses    = 1
	MaxInviteUses        = 1000
)

// Errors of invites.
var (
	ErrInvalidInviteTTL  = &fail.Error{Kind: fail.Invalid, Code: "invalid_invite_ttl", Field: "ttlDays"}
	ErrInvalidInviteUses = &fail.Error{Kind: fail.Invalid, Code: "invalid_invite_uses", Field: "maxUses"}
)

// InviteDraft is what staff submit; zero values take the defaults.
type InviteDraft struct {
	TTLDays *int
	MaxUses *int
}

// NewInvite validates d and returns an invite into g issued at now, without a code.
func NewInvite(g Group, staffID string, d InviteDraft, now time.Time) (Invite, error) {
	ttl, uses := DefaultInviteTTLDays, DefaultInviteUses
	if d.TTLDays != nil {
		ttl = *d.TTLDays
	}
	if d.MaxUses != nil {
		uses = *d.MaxUses
	}
	if ttl < 1 || ttl > MaxInviteTTLDays {
		return Invite{}, ErrInvalidInviteTTL
	}
	if uses < 1 || uses > MaxInviteUses {
		return Invite{}, ErrInvalidInviteUses
	}
	now = now.UTC().Truncate(time.Second)
	return Invite{
		StoreID:   g.StoreID,
		GroupID:   g.ID,
		CreatedBy: staffID,
		MaxUses:   uses,
		CreatedAt: now,
		ExpiresAt: now.AddDate(0, 0, ttl),
	}, nil
}

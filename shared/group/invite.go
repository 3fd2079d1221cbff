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

// CodeKind says what a code is: a group's own join code (its QR card), a staff invite, or a
// member's referral.
type CodeKind string

// Kinds of code.
const (
	CodeGroup    CodeKind = "group"
	CodeInvite   CodeKind = "invite"
	CodeReferral CodeKind = "referral"
)

// Code is what a code leads to. Every join starts from one.
type Code struct {
	Code       string
	Kind       CodeKind
	StoreID    string
	GroupID    string
	CreatedBy  string    // staff id for invites, member id for referrals
	MaxUses    int       // 0: unlimited
	Uses       int       // joins it has started so far
	ValidUntil time.Time // zero: no end
}

// Errors of codes.
var (
	ErrCodeNotFound = &fail.Error{Kind: fail.NotFound, Code: "code_not_found", Field: "code"}
	ErrCodeExpired  = &fail.Error{Kind: fail.NotFound, Code: "code_expired", Field: "code"}
	ErrCodeUsedUp   = &fail.Error{Kind: fail.Conflict, Code: "code_used_up", Field: "code"}
)

// Usable reports why c can no longer start a join at now, or nil.
func (c Code) Usable(now time.Time) error {
	switch {
	case !c.ValidUntil.IsZero() && !now.Before(c.ValidUntil):
		return ErrCodeExpired
	case c.MaxUses > 0 && c.Uses >= c.MaxUses:
		return ErrCodeUsedUp
	}
	return nil
}

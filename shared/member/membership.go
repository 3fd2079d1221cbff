package member

import (
	"fmt"
	"time"

	"yinling/shared/fail"
	"yinling/shared/group"
)

// Status is where a membership of a group stands.
type Status string

// Statuses.
const (
	StatusPendingVerification Status = "pending_verification" // phone not yet verified
	StatusPendingApproval     Status = "pending_approval"     // verified, waiting for staff
	StatusActive              Status = "active"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusPendingVerification || s == StatusPendingApproval || s == StatusActive
}

// JoinPath is how a member came to a group (建群); every join records who brought whom.
type JoinPath string

// Join paths, one per kind of code that leads to the join page.
const (
	PathQR       JoinPath = "qr"       // the group's own join code, printed as a QR code in the store
	PathInvite   JoinPath = "invite"   // a staff invite; InvitedBy names the staff member
	PathReferral JoinPath = "referral" // an existing member's referral code; ReferrerID names them
)

// Valid reports whether p is a known path.
func (p JoinPath) Valid() bool { return p == PathQR || p == PathInvite || p == PathReferral }

// ErrInviteRequired answers a join by a group's public code when the group is invite-only.
var ErrInviteRequired = &fail.Error{Kind: fail.Forbidden, Code: "invite_required", Field: "code"}

// Membership is a member's place in one group of their store.
type Membership struct {
	StoreID    string
	GroupID    string
	MemberID   string
	Status     Status
	Path       JoinPath
	Code       string // the code used to join
	ReferrerID string // member id, for PathReferral
	InvitedBy  string // staff id, for PathInvite
	JoinedAt   time.Time
	ApprovedBy string // staff id, for groups that need approval
	ApprovedAt time.Time
	// ReferralCode is the member's own code into this group (referrals are the most valuable
	// members: every join records who brought whom).
	ReferralCode string
}

// JoinStatus returns the status of a membership of a group with entry rule rule, joined by
// path, once the member's phone is verified or not:
//
//	rule      path             not verified           verified
//	open      any              pending_verification   active
//	invite    qr               ErrInviteRequired      ErrInviteRequired
//	invite    invite/referral  pending_verification   active
//	approval  any              pending_verification   pending_approval
//
// Verification always comes first, so staff never approve someone whose phone is unconfirmed.
// An unknown rule or path is a bug, not the caller's mistake, and gets a plain error.
func JoinStatus(rule group.EntryRule, path JoinPath, verified bool) (Status, error) {
	if !rule.Valid() {
		return "", fmt.Errorf("join status: unknown entry rule %q", rule)
	}
	if !path.Valid() {
		return "", fmt.Errorf("join status: unknown join path %q", path)
	}
	if rule == group.RuleInvite && path == PathQR {
		return "", ErrInviteRequired
	}
	switch {
	case !verified:
		return StatusPendingVerification, nil
	case rule == group.RuleApproval:
		return StatusPendingApproval, nil
	default:
		return StatusActive, nil
	}
}

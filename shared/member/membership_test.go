package member

import (
	"errors"
	"testing"

	"yinling/shared/fail"
	"yinling/shared/group"
)

func TestJoinStatus(t *testing.T) {
	tests := []struct {
		rule     group.EntryRule
		path     JoinPath
		verified bool
		want     Status
		wantErr  error
	}{
		{group.RuleOpen, PathQR, false, StatusPendingVerification, nil},
		{group.RuleOpen, PathQR, true, StatusActive, nil},
		{group.RuleOpen, PathInvite, false, StatusPendingVerification, nil},
		{group.RuleOpen, PathInvite, true, StatusActive, nil},
		{group.RuleOpen, PathReferral, false, StatusPendingVerification, nil},
		{group.RuleOpen, PathReferral, true, StatusActive, nil},
		{group.RuleInvite, PathQR, false, "", ErrInviteRequired},
		{group.RuleInvite, PathQR, true, "", ErrInviteRequired},
		{group.RuleInvite, PathInvite, false, StatusPendingVerification, nil},
		{group.RuleInvite, PathInvite, true, StatusActive, nil},
		{group.RuleInvite, PathReferral, false, StatusPendingVerification, nil},
		{group.RuleInvite, PathReferral, true, StatusActive, nil},
		{group.RuleApproval, PathQR, false, StatusPendingVerification, nil},
		{group.RuleApproval, PathQR, true, StatusPendingApproval, nil},
		{group.RuleApproval, PathInvite, false, StatusPendingVerification, nil},
		{group.RuleApproval, PathInvite, true, StatusPendingApproval, nil},
		{group.RuleApproval, PathReferral, false, StatusPendingVerification, nil},
		{group.RuleApproval, PathReferral, true, StatusPendingApproval, nil},
	}
	for _, tt := range tests {
		got, err := JoinStatus(tt.rule, tt.path, tt.verified)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("JoinStatus(%s, %s, %v) = %q, %v; want %q, %v", tt.rule, tt.path, tt.verified, got, err, tt.want, tt.wantErr)
		}
		if got != "" && !got.Valid() {
			t.Errorf("JoinStatus(%s, %s, %v) = %q, not a valid status", tt.rule, tt.path, tt.verified, got)
		}
	}
	if e, ok := fail.As(ErrInviteRequired); !ok || e.Kind != fail.Forbidden {
		t.Errorf("ErrInviteRequired is not Forbidden")
	}
}

// An unknown rule or path is our bug: it must not be dressed up as the caller's mistake.
func TestJoinStatusUnknown(t *testing.T) {
	for _, tc := range []struct {
		rule group.EntryRule
		path JoinPath
	}{{"", PathQR}, {"secret", PathQR}, {group.RuleOpen, ""}, {group.RuleOpen, "sms"}} {
		_, err := JoinStatus(tc.rule, tc.path, true)
		if _, isFail := fail.As(err); err == nil || isFail {
			t.Errorf("JoinStatus(%q, %q) error = %v, want an internal error", tc.rule, tc.path, err)
		}
	}
}

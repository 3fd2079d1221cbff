package member

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/fail"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := NewToken()
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != 32 || len(tok) != 43 || !ValidTokenShape(tok) {
			t.Fatalf("NewToken() = %q (%d bytes, %v)", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 of "abc", a published test vector.
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashToken(abc) = %s, want %s", got, want)
	}
}

func TestValidTokenShape(t *testing.T) {
	good := NewToken()
	tests := []struct {
		in   string
		want bool
	}{
		{good, true},
		{strings.Repeat("A", 43), true},
		{strings.Repeat("_", 42) + "w", true},
		{"", false},
		{good[:42], false},
		{good + "A", false},
		{good[:42] + "=", false},
		{strings.Repeat("A", 42) + "+", false}, // standard alphabet, not URL-safe
		{strings.Repeat("A", 42) + "/", false},
		{strings.Repeat("A", 42) + "B", false}, // padding bits set: no 32-byte value encodes to this
		{strings.Repeat("A", 42) + " ", false},
		{"\r" + strings.Repeat("A", 42), false}, // the decoder skips newlines
		{strings.Repeat("A", 21) + "\n" + strings.Repeat("A", 21), false},
		{strings.Repeat("Ä", 21) + "A", false},
	}
	for _, tt := range tests {
		if got := ValidTokenShape(tt.in); got != tt.want {
			t.Errorf("ValidTokenShape(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzValidTokenShape(f *testing.F) {
	for _, s := range []string{NewToken(), strings.Repeat("A", 43), strings.Repeat("A", 42) + "B", "", "\xff", "../../etc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidTokenShape(s) {
			return
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != TokenBytes || base64.RawURLEncoding.EncodeToString(b) != s {
			t.Fatalf("ValidTokenShape(%q) = true, but it is no token NewToken makes", s)
		}
		if h := HashToken(s); len(h) != 64 {
			t.Fatalf("HashToken(%q) = %q", s, h)
		}
	})
}

func TestScopeAllows(t *testing.T) {
	tests := []struct {
		have, need Scope
		want       bool
	}{
		{ScopeView, ScopeView, true},
		{ScopeView, ScopeHelper, false},
		{ScopeHelper, ScopeView, true},
		{ScopeHelper, ScopeHelper, true},
		{"", ScopeView, false},
		{"admin", ScopeView, false},
		{ScopeHelper, "admin", false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.need); got != tt.want {
			t.Errorf("Scope(%q).Allows(%q) = %v, want %v", tt.have, tt.need, got, tt.want)
		}
	}
}

func TestNewFamilyLink(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 123, time.UTC)
	day := now.Truncate(time.Second)
	m := Member{ID: "M1", StoreID: "S1"}
	phone, abroad := mustPhone(t, "+8613900139000"), mustPhone(t, "+447700900123")
	tests := []struct {
		name    string
		draft   FamilyLinkDraft
		want    FamilyLink
		wantErr error
	}{
		{"defaults", FamilyLinkDraft{Label: " 女儿 "},
			FamilyLink{StoreID: "S1", MemberID: "M1", Label: "女儿", Scope: ScopeView, CreatedBy: "M1", CreatedAt: day, ExpiresAt: day.AddDate(0, 0, 30)}, nil},
		{"helper with alerts for 180 days", FamilyLinkDraft{Label: "儿子 小明", Scope: ScopeHelper, Alerts: true, AlertPhone: "+86 139-0013-9000", TTLDays: ptr(180)},
			FamilyLink{StoreID: "S1", MemberID: "M1", Label: "儿子 小明", Scope: ScopeHelper, Alerts: true, AlertPhone: phone,
				AlertChannel: ChannelVoice, CreatedBy: "M1", CreatedAt: day, ExpiresAt: day.AddDate(0, 0, 180)}, nil},
		{"one day", FamilyLinkDraft{Label: "Daughter 👩", TTLDays: ptr(1)},
			FamilyLink{StoreID: "S1", MemberID: "M1", Label: "Daughter 👩", Scope: ScopeView, CreatedBy: "M1", CreatedAt: day, ExpiresAt: day.AddDate(0, 0, 1)}, nil},
		{"no label", FamilyLinkDraft{Label: "  "}, FamilyLink{}, ErrInvalidLabel},
		{"long label", FamilyLinkDraft{Label: strings.Repeat("女", 21)}, FamilyLink{}, ErrInvalidLabel},
		{"control in label", FamilyLinkDraft{Label: "女\n儿"}, FamilyLink{}, ErrInvalidLabel},
		{"bad scope", FamilyLinkDraft{Label: "女儿", Scope: "admin"}, FamilyLink{}, ErrInvalidScope},
		{"ttl 0", FamilyLinkDraft{Label: "女儿", TTLDays: ptr(0)}, FamilyLink{}, ErrInvalidTTL},
		{"ttl 181", FamilyLinkDraft{Label: "女儿", TTLDays: ptr(181)}, FamilyLink{}, ErrInvalidTTL},
		{"ttl negative", FamilyLinkDraft{Label: "女儿", TTLDays: ptr(-30)}, FamilyLink{}, ErrInvalidTTL},
		{"alerts by voice", FamilyLinkDraft{Label: "女儿", Alerts: true, AlertPhone: "139 0013 9000"},
			FamilyLink{StoreID: "S1", MemberID: "M1", Label: "女儿", Scope: ScopeView, Alerts: true, AlertPhone: phone,
				AlertChannel: ChannelVoice, CreatedBy: "M1", CreatedAt: day, ExpiresAt: day.AddDate(0, 0, 30)}, nil},
		{"alerts by sms abroad", FamilyLinkDraft{Label: "儿子", Alerts: true, AlertPhone: "0044 7700 900123", AlertChannel: ChannelSMS},
			FamilyLink{StoreID: "S1", MemberID: "M1", Label: "儿子", Scope: ScopeView, Alerts: true, AlertPhone: abroad,
				AlertChannel: ChannelSMS, CreatedBy: "M1", CreatedAt: day, ExpiresAt: day.AddDate(0, 0, 30)}, nil},
		{"channel without alerts is dropped", FamilyLinkDraft{Label: "女儿", AlertChannel: ChannelSMS},
			FamilyLink{StoreID: "S1", MemberID: "M1", Label: "女儿", Scope: ScopeView, CreatedBy: "M1", CreatedAt: day, ExpiresAt: day.AddDate(0, 0, 30)}, nil},
		{"alerts without a phone", FamilyLinkDraft{Label: "女儿", Alerts: true}, FamilyLink{}, ErrAlertPhoneRequired},
		{"alerts with a blank phone", FamilyLinkDraft{Label: "女儿", Alerts: true, AlertPhone: " \u3000"}, FamilyLink{}, ErrAlertPhoneRequired},
		{"phone without alerts", FamilyLinkDraft{Label: "女儿", AlertPhone: "13900139000"}, FamilyLink{}, ErrAlertPhoneUnused},
		{"bad phone without alerts", FamilyLinkDraft{Label: "女儿", AlertPhone: "12345"}, FamilyLink{}, ErrAlertPhoneUnused},
		{"landline for alerts", FamilyLinkDraft{Label: "女儿", Alerts: true, AlertPhone: "010 8888 8888"}, FamilyLink{}, ErrInvalidPhone},
		{"garbage for alerts", FamilyLinkDraft{Label: "女儿", Alerts: true, AlertPhone: "call me"}, FamilyLink{}, ErrInvalidPhone},
		{"no channel for alerts", FamilyLinkDraft{Label: "女儿", Alerts: true, AlertPhone: "13900139000", AlertChannel: ChannelNone},
			FamilyLink{}, ErrInvalidAlertChannel},
		{"unknown channel", FamilyLinkDraft{Label: "女儿", AlertChannel: "wechat"}, FamilyLink{}, ErrInvalidAlertChannel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, token, err := NewFamilyLink(m, "M1", tt.draft, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewFamilyLink() error = %v, want %v", err, tt.wantErr)
			}
			if e, ok := fail.As(err); ok && errors.Is(tt.wantErr, ErrInvalidPhone) && e.Field != "alertPhone" {
				t.Errorf("NewFamilyLink() error on field %q, want alertPhone", e.Field)
			}
			if err != nil {
				if token != "" {
					t.Errorf("NewFamilyLink() returned a token with an error")
				}
			} else if !ValidTokenShape(token) || got.TokenHash != HashToken(token) {
				t.Errorf("NewFamilyLink() token %q, hash %q", token, got.TokenHash)
			}
			tt.want.TokenHash = got.TokenHash
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b Phone) bool { return a == b })); diff != "" {
				t.Errorf("NewFamilyLink() (-want +got):\n%s", diff)
			}
		})
	}
}

func mustPhone(t *testing.T, s string) Phone {
	t.Helper()
	p, err := ParsePhone(s)
	if err != nil {
		t.Fatalf("ParsePhone(%q): %v", s, err)
	}
	return p
}

func TestFamilyLinkUsable(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	l := FamilyLink{ExpiresAt: now.Add(time.Hour)}
	if !l.Usable(now) {
		t.Errorf("a fresh link is not usable")
	}
	if l.Usable(now.Add(time.Hour)) {
		t.Errorf("an expired link is usable")
	}
	l.RevokedAt = now
	if l.Usable(now) {
		t.Errorf("a revoked link is usable")
	}
}

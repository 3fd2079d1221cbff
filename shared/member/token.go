package member

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"yinling/shared/fail"
	"yinling/shared/group"
)

// TokenBytes is the randomness in a session or family-link token: 256 bits, twice the 128 the
// design asks for, in 43 URL-safe characters.
const TokenBytes = 32

// tokenLen is the length of TokenBytes in unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

// NewToken returns a new random token for a member session or a family link (base64url, no
// padding, so it fits a URL path and a cookie as it is).
func NewToken() string {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic("member: crypto/rand: " + err.Error()) // never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the SHA-256 (hex) of token, which is all we store and look tokens up by.
// Unlike a six-digit code, a token has 256 random bits: nobody can try enough of them to match a
// stolen hash, so a plain hash is enough and no key has to be kept secret or rotated.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ValidTokenShape reports whether s could be a token NewToken made, so garbage from a URL or a
// header is turned away before it costs a lookup.
func ValidTokenShape(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	// The alphabet is checked here because the decoder skips \r and \n; Strict then refuses a
	// last character whose unused bits are set, which no 32-byte value encodes to.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// Scope is what a family link lets its holder do for one senior.
type Scope string

// Scopes.
const (
	ScopeView   Scope = "view"   // see upcoming reminders and bookings
	ScopeHelper Scope = "helper" // also add reminders (text or recorded voice) and book Q&A seats
)

// Allows reports whether a link of scope s may do what scope need allows.
func (s Scope) Allows(need Scope) bool {
	switch need {
	case ScopeView:
		return s == ScopeView || s == ScopeHelper
	case ScopeHelper:
		return s == ScopeHelper
	}
	return false
}

// ParseScope returns s as a Scope; empty is ScopeView, the least a link can do.
func ParseScope(s string) (Scope, error) {
	switch sc := Scope(s); sc {
	case "":
		return ScopeView, nil
	case ScopeView, ScopeHelper:
		return sc, nil
	}
	return "", ErrInvalidScope
}

// Family link limits and defaults.
const (
	DefaultLinkTTLDays = 30
	MaxLinkTTLDays     = 180
	MaxLabelLen        = 20
)

// Errors of family links.
var (
	ErrInvalidScope = &fail.Error{Kind: fail.Invalid, Code: "invalid_scope", Field: "scope"}
	ErrInvalidTTL   = &fail.Error{Kind: fail.Invalid, Code: "invalid_ttl", Field: "ttlDays"}
	ErrInvalidLabel = &fail.Error{Kind: fail.Invalid, Code: "invalid_label", Field: "label"}
	// ErrLinkNotFound answers a token that is unknown, expired or revoked alike, so a holder
	// learns nothing about links that are not theirs.
	ErrLinkNotFound = &fail.Error{Kind: fail.NotFound, Code: "family_link_not_found"}
	// ErrAlertPhoneRequired refuses alerts with no number to send them to.
	ErrAlertPhoneRequired = &fail.Error{Kind: fail.Invalid, Code: "alert_phone_required", Field: "alertPhone"}
	// ErrAlertPhoneUnused refuses a relative's number on a link without alerts: a number we would
	// never call is personal data kept for no purpose (PIPL data minimisation).
	ErrAlertPhoneUnused = &fail.Error{Kind: fail.Invalid, Code: "alert_phone_unused", Field: "alertPhone"}
	// ErrInvalidAlertChannel refuses an alert channel other than voice or sms. It is not
	// ErrInvalidChannel because that one offers "none", which means nothing for an alert.
	ErrInvalidAlertChannel = &fail.Error{Kind: fail.Invalid, Code: "invalid_alert_channel", Field: "alertChannel"}
)

// FamilyLinkDraft is what a senior (or staff, with the senior's consent) submits.
type FamilyLinkDraft struct {
	Label  string // who it is for, e.g. 女儿, shown on the senior's page
	Scope  Scope  // default ScopeView
	Alerts bool   // tell the holder when a medication reminder goes unanswered
	// AlertPhone is the relative's number the alerts go to, in any form ParsePhone accepts:
	// required with Alerts, refused without.
	AlertPhone string
	// AlertChannel is how alerts reach AlertPhone: ChannelVoice (the default) or ChannelSMS.
	// It is ignored without Alerts.
	AlertChannel Channel
	TTLDays      *int // default DefaultLinkTTLDays
	// Consent says how the senior agreed when staff make the link for them: in person at the
	// counter, or on a phone call. Empty when the senior makes it themselves.
	Consent LinkConsent
}

// LinkConsent is how a senior agreed to a family link staff made on their behalf.
type LinkConsent string

// Ways a senior gives consent to staff.
const (
	ConsentInPerson  LinkConsent = "in_person"
	ConsentPhoneCall LinkConsent = "phone_call"
)

// ErrLinkConsentRequired refuses a staff-made link without the senior's recorded consent.
var ErrLinkConsentRequired = &fail.Error{Kind: fail.Invalid, Code: "consent_required", Field: "consent"}

// ValidStaffConsent checks the consent staff record for a link they make.
func ValidStaffConsent(c LinkConsent) error {
	if c != ConsentInPerson && c != ConsentPhoneCall {
		return ErrLinkConsentRequired
	}
	return nil
}

// FamilyLink lets one relative see (and with ScopeHelper, help with) one senior's page.
type FamilyLink struct {
	ID       string
	StoreID  string
	MemberID string
	Label    string
	Scope    Scope
	Alerts   bool
	// AlertPhone and AlertChannel (ChannelVoice or ChannelSMS) say where and how the holder is
	// told of an unanswered medication reminder; both are set exactly when Alerts is.
	AlertPhone   Phone
	AlertChannel Channel
	TokenHash    string      // HashToken of the link's token; the token itself is shown once
	CreatedBy    string      // the member's id, or the staff member's
	Consent      LinkConsent // how the senior agreed, for a link staff made
	CreatedAt    time.Time
	ExpiresAt    time.Time
	LastUsedAt   time.Time
	RevokedAt    time.Time
}

// NewFamilyLink validates d and returns a link to m's page created by createdBy at now, without
// an id, and its token, which goes into the link's URL and is never stored.
func NewFamilyLink(m Member, createdBy string, d FamilyLinkDraft, now time.Time) (FamilyLink, string, error) {
	label := strings.TrimSpace(d.Label)
	if label == "" || !group.CleanText(label, false) || utf8.RuneCountInString(label) > MaxLabelLen {
		return FamilyLink{}, "", ErrInvalidLabel
	}
	scope, err := ParseScope(string(d.Scope))
	if err != nil {
		return FamilyLink{}, "", err
	}
	ttl := DefaultLinkTTLDays
	if d.TTLDays != nil {
		ttl = *d.TTLDays
	}
	if ttl < 1 || ttl > MaxLinkTTLDays {
		return FamilyLink{}, "", ErrInvalidTTL
	}
	phone, channel, err := alertTarget(d)
	if err != nil {
		return FamilyLink{}, "", err
	}
	now = now.UTC().Truncate(time.Second)
	token := NewToken()
	return FamilyLink{
		StoreID:      m.StoreID,
		MemberID:     m.ID,
		Label:        label,
		Scope:        scope,
		Alerts:       d.Alerts,
		AlertPhone:   phone,
		AlertChannel: channel,
		TokenHash:    HashToken(token),
		CreatedBy:    createdBy,
		Consent:      d.Consent,
		CreatedAt:    now,
		ExpiresAt:    now.AddDate(0, 0, ttl),
	}, token, nil
}

// alertTarget returns where and how d's alerts go: a number and a channel with Alerts, nothing
// without. The channel is checked either way, so a misspelt one is never silently dropped.
func alertTarget(d FamilyLinkDraft) (Phone, Channel, error) {
	channel, err := ParseChannel(string(d.AlertChannel))
	if err != nil || channel == ChannelNone {
		return Phone{}, "", ErrInvalidAlertChannel
	}
	given := strings.TrimSpace(d.AlertPhone) != ""
	switch {
	case !d.Alerts && given:
		return Phone{}, "", ErrAlertPhoneUnused
	case !d.Alerts:
		return Phone{}, "", nil
	case !given:
		return Phone{}, "", ErrAlertPhoneRequired
	}
	phone, err := ParsePhone(d.AlertPhone)
	if err != nil {
		return Phone{}, "", ErrInvalidPhone.OnField("alertPhone")
	}
	return phone, channel, nil
}

// Usable reports whether l still opens the senior's page at now: not revoked, not expired.
func (l FamilyLink) Usable(now time.Time) bool {
	return l.RevokedAt.IsZero() && now.Before(l.ExpiresAt)
}

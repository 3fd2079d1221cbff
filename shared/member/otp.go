package member

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"yinling/shared/fail"
)

// The one-time code policy: a code lives OTPTTL, survives OTPMaxAttempts wrong guesses, and a
// phone number gets at most OTPMaxPerHour codes an hour. A guesser thus has 5 tries in 10^6 per
// code and at most 15 an hour per number.
const (
	OTPLen         = 6
	OTPTTL         = 10 * time.Minute
	OTPMaxAttempts = 5
	OTPMaxPerHour  = 3
)

// OTPMaxPerHourPerClient bounds the codes sent an hour on behalf of one client address (an IPv4
// address, or an IPv6 /64: one subscriber's), whatever the numbers: with one valid join code an
// address could otherwise have us text any number of strangers, 3 each. The bound is loose on
// purpose. Seniors sign up together at a store event on the store's Wi-Fi — forty people, a few
// of whom ask for a second code, is a good afternoon — and carriers put many phones behind one
// CGNAT address, so a tight bound would refuse the very people the product is for; 60 an hour
// still caps a misused address at 60 texts (20 strangers) an hour instead of no bound at all.
// The staff's own paths (verification in person) are not counted, and there is no ceiling per
// store: one store's busy day must not be refused.
const OTPMaxPerHourPerClient = 60

// Errors of one-time codes.
var (
	ErrInvalidOTP         = &fail.Error{Kind: fail.Invalid, Code: "invalid_otp", Field: "otp"}
	ErrOTPExpired         = &fail.Error{Kind: fail.Invalid, Code: "otp_expired", Field: "otp"}
	ErrOTPUsed            = &fail.Error{Kind: fail.Conflict, Code: "otp_used", Field: "otp"}
	ErrOTPTooManyAttempts = &fail.Error{Kind: fail.RateLimited, Code: "otp_too_many_attempts", Field: "otp"}
	ErrOTPWrong           = &fail.Error{Kind: fail.Invalid, Code: "otp_wrong", Field: "otp"}
	ErrOTPSendLimit       = &fail.Error{Kind: fail.RateLimited, Code: "otp_send_limit", Field: "phone"}
	// ErrOTPClientLimit: OTPMaxPerHourPerClient codes went out this hour on behalf of the
	// caller's address; it names no field, as no field of the request is at fault.
	ErrOTPClientLimit = &fail.Error{Kind: fail.RateLimited, Code: "otp_send_limit_ip"}
)

// otpBound is the largest multiple of 10^6 that fits 32 bits: drawing below it and taking the
// remainder makes every code equally likely.
const otpBound = (1 << 32) / 1_000_000 * 1_000_000

// NewOTP returns a random code of OTPLen digits, leading zeros kept.
func NewOTP() string {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("member: crypto/rand: " + err.Error()) // never fails on Linux
		}
		if v := binary.BigEndian.Uint32(b[:]); v < otpBound {
			return fmt.Sprintf("%06d", v%1_000_000)
		}
	}
}

// HashOTP returns the HMAC-SHA256 (hex) of code for memberID under key. Only this is stored:
// a million possible codes are hashed in a moment, so a plain hash would give the code away to
// anyone who reads the table; without key it cannot be recomputed. memberID binds the hash to
// one member, so a stored hash is no use for another.
func HashOTP(code, memberID string, key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("yinling otp\x00" + memberID + "\x00" + code))
	return hex.EncodeToString(mac.Sum(nil))
}

// OTPState is what is stored for a member's current one-time code.
type OTPState struct {
	MemberID  string // the member the code was sent for (part of the hash)
	Hash      string // HashOTP of the code
	ExpiresAt time.Time
	Attempts  int  // wrong codes submitted so far
	Used      bool // the code verified the member once already
}

// NewOTPState returns the state to store for code sent to memberID at now.
func NewOTPState(code, memberID string, key []byte, now time.Time) OTPState {
	return OTPState{
		MemberID:  memberID,
		Hash:      HashOTP(code, memberID, key),
		ExpiresAt: now.UTC().Truncate(time.Second).Add(OTPTTL),
	}
}

// CheckOTP checks a submitted code against stored at now. nil means the member is verified; the
// caller then marks the state used on condition that it is not used yet, and on ErrOTPWrong
// counts the attempt on condition that the count is below OTPMaxAttempts, so two requests in a
// race can neither both succeed nor both guess for free. A code that is not six digits is
// refused before any comparison and costs no attempt: it cannot be right.
func CheckOTP(stored OTPState, code string, now time.Time, key []byte) error {
	code, ok := NormalizeOTP(code)
	switch {
	case !ok:
		return ErrInvalidOTP
	case stored.Used:
		return ErrOTPUsed
	case stored.Hash == "" || !now.Before(stored.ExpiresAt):
		return ErrOTPExpired
	case stored.Attempts >= OTPMaxAttempts:
		return ErrOTPTooManyAttempts
	}
	got := HashOTP(code, stored.MemberID, key)
	if !hmac.Equal([]byte(got), []byte(stored.Hash)) { // constant time: no timing hints
		return ErrOTPWrong
	}
	return nil
}

// OTPSendAllowed returns ErrOTPSendLimit once OTPMaxPerHour codes went to a number this hour.
func OTPSendAllowed(sentThisHour int) error {
	if sentThisHour >= OTPMaxPerHour {
		return ErrOTPSendLimit
	}
	return nil
}

// NormalizeOTP returns s as OTPLen ASCII digits, with spaces (anywhere: people copy "123 456")
// removed and full-width digits made ASCII, or false if that is not what s holds.
func NormalizeOTP(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case unicode.IsSpace(r):
		default:
			return "", false
		}
	}
	if b.Len() != OTPLen {
		return "", false
	}
	return b.String(), true
}

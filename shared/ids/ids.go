// Package ids makes the identifiers Yinling stores: sortable ULIDs for records (so a Query on a
// sort key returns them in creation order) and short, unambiguous codes a senior can read aloud
// or type from a printed QR card.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"

	"github.com/oklog/ulid/v2"
)

// New returns a new ULID: 26 characters, time-ordered, 80 random bits.
func New() string { return ulid.Make().String() }

// Derived is a ULID made from its parts rather than from the clock and chance: the same parts
// give the same id, so a create retried with the same Idempotency-Key names the items its first
// attempt wrote. (Its time part is not a creation time; nothing may read it as one.)
func Derived(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var u ulid.ULID
	copy(u[:], h.Sum(nil))
	return u.String()
}

// Valid reports whether s is a ULID as New makes them.
func Valid(s string) bool {
	if len(s) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(s)
	return err == nil
}

// codeAlphabet leaves out 0/O, 1/I/L: printed codes are read by people with weak eyes.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLen gives 31^8 ≈ 8.5e11 codes: unguessable at the rate limits signup enforces.
const CodeLen = 8

// NewCode returns a random join/invite code of CodeLen characters.
func NewCode() string {
	var b [CodeLen]byte
	out := make([]byte, 0, CodeLen)
	for len(out) < CodeLen {
		if _, err := rand.Read(b[:]); err != nil {
			panic("ids: crypto/rand: " + err.Error()) // never fails on Linux
		}
		for _, c := range b {
			// Rejection sampling keeps every character equally likely.
			if c < 248 && len(out) < CodeLen {
				out = append(out, codeAlphabet[int(c)%len(codeAlphabet)])
			}
		}
	}
	return string(out)
}

// NormalizeCode accepts a code as people type it: any case, with spaces or hyphens.
func NormalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// ValidCode reports whether s (normalized) can be a code.
func ValidCode(s string) bool {
	if len(s) != CodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(codeAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

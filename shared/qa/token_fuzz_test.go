package qa

import (
	"testing"

	"yinling/shared/reminder"
)

// FuzzBookingToken derives a booking page token from anything: it has the shape
// ValidBookingToken accepts, is stable, depends on its store, session, member and key, and is
// never the token of a reminder page for the same ids (the two links are told apart by their
// derivation, not by where they are pasted). A changed character outside base64url is refused
// before a read; any other changed token is unknown to the lookup by hash.
func FuzzBookingToken(f *testing.F) {
	f.Add([]byte("key"), "s-test", "01JDS0000000000000000000S1", "01JDR00000000000000000000A", uint8(0), byte('='))
	f.Add([]byte{}, "", "", "", uint8(21), byte('a'))
	f.Add([]byte("\x00"), "\xff", "店", "m", uint8(99), byte(0))
	f.Fuzz(func(t *testing.T, key []byte, store, session, memberID string, at uint8, c byte) {
		tok := BookingToken(key, store, session, memberID)
		if !ValidBookingToken(tok) || tok != BookingToken(key, store, session, memberID) {
			t.Fatalf("BookingToken = %q: refused or not stable", tok)
		}
		for _, other := range []string{
			BookingToken(key, store+"x", session, memberID), BookingToken(key, store, session+"x", memberID),
			BookingToken(key, store, session, memberID+"x"), BookingToken(append([]byte("x"), key...), store, session, memberID),
			reminder.LinkToken(key, store, session), reminder.LinkToken(key, store, memberID),
		} {
			if other == tok {
				t.Fatalf("BookingToken %q is also the token of other ids or of a reminder page", tok)
			}
		}
		i := int(at) % len(tok)
		changed := tok[:i] + string(c) + tok[i+1:]
		base64url := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
		if ValidBookingToken(changed) != base64url {
			t.Fatalf("ValidBookingToken(%q) = %v", changed, !base64url)
		}
	})
}

package reminder

import (
	"encoding/base64"
	"testing"
)

// FuzzLinkToken derives a reminder page token from anything: it has the shape ValidLinkToken
// accepts, is the same every time, and names its reminder: another reminder, store or key
// gets another token. A token is looked up by its hash, so a changed one is simply unknown; what
// ValidLinkToken must do is refuse any character outside base64url, before a read.
func FuzzLinkToken(f *testing.F) {
	f.Add([]byte("key"), "s-test", "01JDQ7Z6W3V8G0X5Y4K2M9N1PA", uint8(0), byte('+'))
	f.Add([]byte{}, "", "", uint8(21), byte('/'))
	f.Add([]byte("\xff"), "店", "\x00", uint8(255), byte('A'))
	f.Fuzz(func(t *testing.T, key []byte, store, reminderID string, at uint8, c byte) {
		tok := LinkToken(key, store, reminderID)
		if !ValidLinkToken(tok) || tok != LinkToken(key, store, reminderID) {
			t.Fatalf("LinkToken = %q: refused or not stable", tok)
		}
		if LinkToken(key, store, reminderID+"x") == tok || LinkToken(key, store+"x", reminderID) == tok ||
			LinkToken(append([]byte("x"), key...), store, reminderID) == tok {
			t.Fatalf("LinkToken %q does not depend on its reminder, store and key", tok)
		}
		i := int(at) % len(tok)
		changed := tok[:i] + string(c) + tok[i+1:]
		base64url := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
		if ValidLinkToken(changed) != base64url {
			t.Fatalf("ValidLinkToken(%q) = %v", changed, !base64url)
		}
	})
}

// FuzzValidLinkToken: whatever a URL holds, what ValidLinkToken accepts is 22 base64url
// characters, which decode.
func FuzzValidLinkToken(f *testing.F) {
	for _, s := range []string{LinkToken([]byte("k"), "s", "r"), "AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA=", "", "\n\n", "AAAAAAAAAAAAAAAAAAAAA\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidLinkToken(s) {
			return
		}
		if len(s) != linkTokenLen {
			t.Fatalf("ValidLinkToken(%q): length %d", s, len(s))
		}
		if _, err := base64.RawURLEncoding.DecodeString(s); err != nil {
			t.Fatalf("ValidLinkToken(%q), but it does not decode: %v", s, err)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '\r' || c == '\n' || c == '=' || c == '+' || c == '/' {
				t.Fatalf("ValidLinkToken(%q) accepted %q", s, c)
			}
		}
	})
}

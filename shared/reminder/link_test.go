package reminder

import (
	"strings"
	"testing"
)

func TestLinkToken(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tok := LinkToken(key, "S1", "R1")
	if len(tok) != 22 || !ValidLinkToken(tok) {
		t.Fatalf("LinkToken() = %q", tok)
	}
	if again := LinkToken(key, "S1", "R1"); again != tok {
		t.Errorf("LinkToken() = %q then %q", tok, again)
	}
	// Any change of key, store or reminder gives another token; the separator keeps
	// ("S1", "1R") and ("S11", "R") apart.
	for _, other := range []string{
		LinkToken([]byte("another key"), "S1", "R1"),
		LinkToken(key, "S2", "R1"),
		LinkToken(key, "S1", "R2"),
		LinkToken(key, "S1R", "1"),
		LinkToken(key, "", "S1R1"),
	} {
		if other == tok {
			t.Errorf("LinkToken collides: %q", other)
		}
	}
}

func TestValidLinkToken(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"AbCdEfGhIjKlMnOpQr-_09", true},
		{"", false},
		{strings.Repeat("a", 21), false},
		{strings.Repeat("a", 23), false},
		{"AbCdEfGhIjKlMnOpQr+/09", false}, // standard base64, not URL-safe
		{"AbCdEfGhIjKlMnOpQr=_09", false},
		{"AbCdEfGhIjKlMnOpQr é9", false},
		{"银龄银abcdefghijklm", false}, // 22 bytes, not 22 characters of the alphabet
	}
	for _, tt := range tests {
		if got := ValidLinkToken(tt.s); got != tt.want {
			t.Errorf("ValidLinkToken(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

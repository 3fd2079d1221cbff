package promo

import (
	"strings"
	"testing"
)

// FuzzOfferToken derives a chunk code and an offer token from anything: both have their shape,
// the token parses back to its code and place and is valid for its member, and a token with any
// one character changed — or presented for another member — is refused.
func FuzzOfferToken(f *testing.F) {
	f.Add([]byte("key"), "s-test", "01JDQ7Z6W3V8G0X5Y4K2M9N1PA", 1, 0, 0, 0, "01JDR00000000000000000000A", uint8(0), uint8(1))
	f.Add([]byte{}, "", "", -1, -1, -1, MaxChunkPlaces-1, "", uint8(19), uint8(31))
	f.Add([]byte("\x00"), "店", "\xff", 1<<31, 7, 96, 1023, "m", uint8(11), uint8(200))
	f.Fuzz(func(t *testing.T, key []byte, store, campaign string, run, page, n, pos int, memberID string, at, to uint8) {
		code := ChunkCode(key, store, campaign, run, page, n)
		if !ValidChunkCode(code) {
			t.Fatalf("ChunkCode = %q, which ValidChunkCode refuses", code)
		}
		pos = (pos%MaxChunkPlaces + MaxChunkPlaces) % MaxChunkPlaces
		tok := OfferToken(key, code, pos, memberID)
		gotCode, gotPos, ok := ParseOfferToken(tok)
		if !ok || gotCode != code || gotPos != pos {
			t.Fatalf("ParseOfferToken(%q) = %q, %d, %v; want %q, %d", tok, gotCode, gotPos, ok, code, pos)
		}
		if !ValidOfferToken(key, tok, memberID) {
			t.Fatalf("the token %q of %q is refused", tok, memberID)
		}
		if ValidOfferToken(key, tok, memberID+"x") {
			t.Fatalf("the token %q of %q is valid for another member", tok, memberID)
		}
		// One character changed: to another letter of the alphabet, or to one outside it.
		i := int(at) % len(tok)
		c := alphabet[(strings.IndexByte(alphabet, tok[i])+1+int(to)%(len(alphabet)-1))%len(alphabet)]
		if to >= 128 {
			c = "0l1o-_A"[int(to)%7]
		}
		changed := tok[:i] + string(c) + tok[i+1:]
		if ValidOfferToken(key, changed, memberID) {
			t.Fatalf("token %q with character %d changed (%q) is still valid", tok, i, changed)
		}
	})
}

// FuzzParseOfferToken reads anything from a URL as an offer token: it never panics, and what it
// accepts has the token's shape, a valid chunk code and a place within a chunk.
func FuzzParseOfferToken(f *testing.F) {
	for _, s := range []string{OfferToken([]byte("k"), ChunkCode([]byte("k"), "s", "c", 1, 0, 0), 5, "m"),
		strings.Repeat("a", OfferTokenLen), strings.Repeat("9", OfferTokenLen), strings.Repeat("a", OfferTokenLen-1) + "é",
		"", "../../etc/passwd", strings.Repeat("A", OfferTokenLen)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, pos, ok := ParseOfferToken(s)
		if ValidChunkCode(s) != (len(s) == ChunkCodeLen && strings.Trim(s, alphabet) == "") {
			t.Fatalf("ValidChunkCode(%q) = %v", s, ValidChunkCode(s))
		}
		if !ok {
			if code != "" || pos != 0 {
				t.Fatalf("ParseOfferToken(%q) refused it but returned %q, %d", s, code, pos)
			}
			return
		}
		if len(s) != OfferTokenLen || strings.Trim(s, alphabet) != "" || code != s[:ChunkCodeLen] || !ValidChunkCode(code) ||
			pos < 0 || pos >= MaxChunkPlaces {
			t.Fatalf("ParseOfferToken(%q) = %q, %d, true", s, code, pos)
		}
		if again := OfferToken([]byte("any key"), code, pos, "m"); again[:ChunkCodeLen+2] != s[:ChunkCodeLen+2] {
			t.Fatalf("ParseOfferToken(%q) read place %d, which is written %q", s, pos, again[ChunkCodeLen:ChunkCodeLen+2])
		}
	})
}

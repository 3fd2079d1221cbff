package promo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"strings"
)

// A push's link must be short: the SMS is one 70-character segment with the body, the store's
// signature and the link. So the offer page's token is 20 characters of a lower-case alphabet
// without look-alikes (l, o, 0, 1), which survive being read out and typed:
//
//	chunk code (10) · recipient's place in the chunk (2) · MAC of code, place and member (8)
//
// The chunk code is derived from the campaign, its run, the audience page and the chunk's number
// in it, so a redelivered fan-out message finds the chunks it wrote before without an index. The
// MAC binds the token to the member at that place: 40 bits, behind the guess limits every
// capability link has, on top of the 50 bits of the code.

var linkEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// Token and code sizes.
const (
	ChunkCodeLen  = 10
	OfferTokenLen = ChunkCodeLen + 2 + 8
	// MaxChunkPlaces bounds the places a token can name (two base-32 digits).
	MaxChunkPlaces = 32 * 32
)

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return m.Sum(nil)
}

// ChunkCode names chunk n of audience page page of run run of a campaign.
func ChunkCode(key []byte, store, campaign string, run, page, n int) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:], uint32(run))
	binary.BigEndian.PutUint32(b[4:], uint32(page))
	binary.BigEndian.PutUint32(b[8:], uint32(n))
	return linkEncoding.EncodeToString(mac(key, "yinling offer chunk", store, campaign, string(b[:])))[:ChunkCodeLen]
}

// OfferToken is the offer page's token of the member at place pos (0 ≤ pos < MaxChunkPlaces) of
// the chunk with code.
func OfferToken(key []byte, code string, pos int, memberID string) string {
	place := string(alphabet[pos>>5&31]) + string(alphabet[pos&31])
	sum := linkEncoding.EncodeToString(mac(key, "yinling offer token", code, place, memberID))
	return code + place + sum[:8]
}

const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// ParseOfferToken splits a token into its chunk code and place, checking only its shape (no key
// is needed, so a malformed token costs no table read).
func ParseOfferToken(tok string) (code string, pos int, ok bool) {
	if len(tok) != OfferTokenLen {
		return "", 0, false
	}
	for i := 0; i < len(tok); i++ {
		if !strings.ContainsRune(alphabet, rune(tok[i])) {
			return "", 0, false
		}
	}
	hi, lo := strings.IndexByte(alphabet, tok[ChunkCodeLen]), strings.IndexByte(alphabet, tok[ChunkCodeLen+1])
	return tok[:ChunkCodeLen], hi<<5 | lo, true
}

// ValidChunkCode reports whether s has the shape of a ChunkCode.
func ValidChunkCode(s string) bool {
	if len(s) != ChunkCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// ValidOfferToken reports whether tok is the token of memberID at its place, in constant time.
func ValidOfferToken(key []byte, tok, memberID string) bool {
	code, pos, ok := ParseOfferToken(tok)
	if !ok {
		return false
	}
	return hmac.Equal([]byte(OfferToken(key, code, pos, memberID)), []byte(tok))
}

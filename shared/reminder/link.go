package reminder

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// LinkToken is the token of a reminder's page (/r/{token}), the link an SMS carries: 132 bits
// derived from the reminder with the store's secret key, so every SMS of a reminder carries
// the same link without the token ever being stored — the table holds only its hash
// (member.HashToken), like a family link's.
func LinkToken(key []byte, storeID, reminderID string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("yinling reminder link\x00" + storeID + "\x00" + reminderID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))[:22]
}

// linkTokenLen is the length of a LinkToken.
const linkTokenLen = 22

// ValidLinkToken reports whether s has the shape of a LinkToken, so a malformed one costs no
// table read.
func ValidLinkToken(s string) bool {
	if len(s) != linkTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

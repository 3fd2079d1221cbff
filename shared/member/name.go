package member

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"yinling/shared/fail"
	"yinling/shared/group"
)

// MaxNameLen is the longest name in runes: enough for 欧阳娜娜·阿不都热合曼 or a full Latin name,
// short enough to read aloud at the start of a voice reminder.
const MaxNameLen = 20

// Errors of names.
var (
	ErrNameRequired = &fail.Error{Kind: fail.Invalid, Code: "required", Field: "name"}
	ErrNameTooLong  = &fail.Error{Kind: fail.Invalid, Code: "too_long", Field: "name"}
	ErrInvalidName  = &fail.Error{Kind: fail.Invalid, Code: "invalid_name", Field: "name"}
)

// ValidName returns s as a member's name: trimmed, runs of spaces made one ASCII space, the
// middle dots people type between the parts of a transliterated name (•, ・) made "·", and
// 1–MaxNameLen runes of letters of any script with their combining marks, spaces, "·", apostrophes
// and hyphens, with at least one letter. Names are read aloud by text-to-speech in voice
// reminders, so emoji, digits, symbols and control characters are refused.
func ValidName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrNameRequired
	}
	if !group.CleanText(s, false) {
		return "", ErrInvalidName
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxNameLen {
		return "", ErrNameTooLong
	}
	var b strings.Builder
	letters, prev := 0, ' '
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.In(r, unicode.Mn, unicode.Mc) && !unicode.Is(unicode.Variation_Selector, r):
			// A combining mark belongs to the letter before it (Vietnamese, Devanagari…); a mark
			// on anything else is decoration.
			if !unicode.IsLetter(prev) && !unicode.In(prev, unicode.Mn, unicode.Mc) {
				return "", ErrInvalidName
			}
		case r == ' ', r == '\'', r == '’', r == '-', r == '‐', r == '·':
		case r == '•', r == '・', r == '･':
			r = '·'
		default:
			return "", ErrInvalidName
		}
		b.WriteRune(r)
		prev = r
	}
	if letters == 0 {
		return "", ErrInvalidName
	}
	return b.String(), nil
}

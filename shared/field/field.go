// Package field checks the text fields people submit — titles, names, notes, questions, links —
// the same way everywhere: trimmed, valid UTF-8 without control characters, at most so many
// runes (a call speaks them, an SMS carries them), and each refusal names its field.
package field

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"yinling/shared/fail"
)

// Line checks one line of text for field name and returns it trimmed.
func Line(s string, max int, name string, required bool) (string, error) {
	return check(strings.TrimSpace(s), max, name, required, unicode.IsControl)
}

// Text checks text that may run over several lines ("\r\n" becomes "\n"), like Line otherwise.
func Text(s string, max int, name string, required bool) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	return check(s, max, name, required, func(r rune) bool { return unicode.IsControl(r) && r != '\n' })
}

func check(s string, max int, name string, required bool, bad func(rune) bool) (string, error) {
	switch {
	case !utf8.ValidString(s) || strings.ContainsFunc(s, bad):
		return "", fail.InvalidField("invalid_text", name)
	case s == "" && required:
		return "", fail.InvalidField("required", name)
	case utf8.RuneCountInString(s) > max:
		return "", fail.InvalidField("too_long", name)
	}
	return s, nil
}

// MaxURLLen bounds a link.
const MaxURLLen = 500

// HTTPS accepts "" or an https URL without spaces, trimmed: a photo or a link that seniors'
// phones open, where plain http inside WeChat warns them off.
func HTTPS(s, name string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if !strings.HasPrefix(s, "https://") || len(s) <= len("https://") || len(s) > MaxURLLen ||
		strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", fail.InvalidField("invalid_url", name)
	}
	return s, nil
}

// Package logging owns Yinling's log format: slog JSON lines on which no
// phone number, OTP or token is ever printed.
//
// Two rules apply to every attribute, including those added with With, inside
// groups and WithGroup, and to the message itself:
//
//  1. An attribute whose key names a secret (phone, mobile, otp, code, token,
//     password, secret, authorization, cookie, or ends in token/phone/…; see
//     sensitiveKey) is printed as "[redacted]", whatever its value.
//  2. Any phone-number-like digit run left in a string, an error's text or a
//     JSON-marshalled value is replaced by "[phone]".
//
// Rule 2 is a safety net, tuned to never touch timestamps, ULIDs, counts,
// durations or short codes, so it cannot recognise a bare 6-digit OTP in free
// text: such values must travel under a sensitive key, never inside a
// message. It masks mainland mobiles (1[3-9] and 9 more digits, with optional
// +86/0086/86 prefix and space or hyphen groups), mainland landlines with an
// area code (0571-88888888) and international "+" numbers of 8 to 15 digits;
// the price is that an 11-digit number starting 13–19 or a 10–12 digit number
// starting 0 is masked too.
package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

// Redacted replaces the value of a sensitive attribute.
const Redacted = "[redacted]"

// PhoneMask replaces a phone number found in a string.
const PhoneMask = "[phone]"

// New returns a JSON logger writing to w at level and above, which redacts
// sensitive attributes and masks phone numbers. With CaptureVar set, its lines
// are also appended to the process's capture file.
func New(w io.Writer, level slog.Level) *slog.Logger {
	if c := captureWriter(); c != nil {
		w = teeWriter{w: w, capture: c}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replaceAttr}))
}

// Level parses "debug", "info", "warn" (or "warning") and "error", in any
// case; anything else is info, so a typo in configuration never silences logs.
func Level(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// replaceAttr is the JSON handler's hook. slog calls it for the message and
// for every non-group attribute, nested ones and those given to With
// included, with the enclosing groups; so one function covers every path.
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 {
		switch a.Key {
		case slog.MessageKey:
			if a.Value.Kind() == slog.KindString {
				a.Value = slog.StringValue(maskPhones(a.Value.String()))
				return a
			}
		case slog.TimeKey, slog.LevelKey, slog.SourceKey:
			switch a.Value.Any().(type) {
			case time.Time, slog.Level, *slog.Source:
				return a // the handler's own attributes
			}
		}
	}
	a.Key = maskPhones(a.Key)
	if sensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	for _, g := range groups {
		if sensitiveKey(g) {
			return slog.String(a.Key, Redacted)
		}
	}
	a.Value = clean(a.Value)
	return a
}

// clean masks phone numbers in a resolved, non-group value.
func clean(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(maskPhones(v.String()))
	case slog.KindInt64, slog.KindUint64:
		// A phone stored as a number (13800138000) is still a phone.
		if s := v.String(); maskPhones(s) != s {
			return slog.StringValue(PhoneMask)
		}
		return v
	case slog.KindAny:
	default:
		return v // floats, bools, durations, times
	}
	switch x := v.Any().(type) {
	case error:
		return slog.StringValue(maskPhones(x.Error()))
	case nil:
		return v
	default:
		// Structs, maps, slices: marshal as the JSON handler would, then walk
		// the result so that sensitive keys inside are redacted too.
		b, err := json.Marshal(x)
		if err != nil {
			return slog.StringValue(maskPhones(fmt.Sprintf("!ERROR:%v", err)))
		}
		var tree any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber() // keep int64 ids exact
		if err := d.Decode(&tree); err != nil {
			return slog.StringValue(maskPhones(string(b)))
		}
		out, err := json.Marshal(walk(tree))
		if err != nil {
			return slog.StringValue(maskPhones(string(b)))
		}
		return slog.AnyValue(json.RawMessage(out))
	}
}

// walk redacts sensitive keys and masks phone numbers in a decoded JSON value.
func walk(v any) any {
	switch x := v.(type) {
	case string:
		return maskPhones(x)
	case json.Number:
		return x
	case []any:
		for i := range x {
			x[i] = walk(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if sensitiveKey(k) {
				out[maskPhones(k)] = Redacted
			} else {
				out[maskPhones(k)] = walk(e)
			}
		}
		return out
	}
	return v
}

// sensitiveExact are keys whose value is secret or personal, compared after
// lowercasing and dropping '_', '-' and '.'. "code" is exact only, so that
// status_code and error_code stay readable.
var sensitiveExact = map[string]bool{
	"phone": true, "mobile": true, "tel": true, "phonenumber": true, "mobilenumber": true,
	"otp": true, "code": true, "token": true, "password": true, "passwd": true,
	"secret": true, "authorization": true, "cookie": true, "cookies": true, "setcookie": true,
}

// sensitiveSuffixes catch access_token, memberPhone, dbPassword, clientSecret,
// otp_code-like variants and the like.
var sensitiveSuffixes = []string{"token", "phone", "mobile", "phonenumber", "mobilenumber", "password", "secret", "otp", "otpcode", "smscode", "verifycode", "verificationcode", "cookie", "apikey"}

func sensitiveKey(k string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.':
			return -1
		}
		return r
	}, strings.ToLower(k))
	if sensitiveExact[n] {
		return true
	}
	for _, s := range sensitiveSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// phonePatterns find candidates; a candidate counts only if it is not glued to
// other letters or digits (see maskPhones), which keeps ULIDs, longer numbers
// and ids like "A13800138000B" intact.
var phonePatterns = []*regexp.Regexp{
	// Mainland mobile: 138 0013 8000, 138-0013-8000, +86 13800138000, 008613800138000, 8613800138000.
	regexp.MustCompile(`(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}`),
	// Mainland landline with area code: 010-65529988, (0571) 8888 8888, 057188888888.
	regexp.MustCompile(`\(?0[1-9]\d{1,2}\)?[ -]?[2-9]\d{2,3}[ -]?\d{4}`),
	// International: + then 8 to 15 digits, optionally grouped by single spaces or hyphens.
	regexp.MustCompile(`\+[1-9](?:[ -]?\d){7,14}`),
}

// maskPhones replaces every phone-number-like run in s with PhoneMask.
func maskPhones(s string) string {
	digits := 0
	for i := 0; i < len(s) && digits < 8; i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	if digits < 8 { // no pattern matches fewer than 8 digits: the common fast path
		return s
	}
	var spans [][2]int
	for _, re := range phonePatterns {
		spans = append(spans, matches(re, s)...)
	}
	if len(spans) == 0 {
		return s
	}
	// Merge overlapping spans, in order of start.
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j][0] < spans[j-1][0]; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp[1] <= last {
			continue
		}
		if sp[0] < last {
			sp[0] = last
		} else {
			b.WriteString(s[last:sp[0]])
			b.WriteString(PhoneMask)
		}
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// matches returns the spans of re in s that stand alone: not preceded or
// followed by an ASCII letter or digit. When a candidate is glued, the search
// resumes one byte later, so a valid match overlapping it is still found.
func matches(re *regexp.Regexp, s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		loc := re.FindStringIndex(s[i:])
		if loc == nil {
			break
		}
		start, end := i+loc[0], i+loc[1]
		if (start == 0 || !alnum(s[start-1])) && (end == len(s) || !alnum(s[end])) {
			out = append(out, [2]int{start, end})
			i = end
		} else {
			i = start + 1
		}
	}
	return out
}

func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

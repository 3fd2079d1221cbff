package member

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"yinling/shared/fail"
)

// ErrInvalidPhone is a number we cannot call: not a mainland mobile, not E.164, or a +86 number
// that is not a mobile (a landline cannot receive the one-time code). Like every error here it
// never carries the number itself.
var ErrInvalidPhone = &fail.Error{Kind: fail.Invalid, Code: "invalid_phone", Field: "phone"}

// maxPhoneInput bounds the work done on a submitted number; the longest sensible form,
// "+86 (138) 0013-8000" written in full-width characters, is well under it.
const maxPhoneInput = 64

// Phone is a validated phone number in E.164 form. The zero Phone is no number. Printed with
// fmt (any verb) or logged with slog it shows only Masked, so a number cannot leak into a log
// line by accident; code that must send or store it asks for E164 explicitly. Phones compare
// with ==.
type Phone struct {
	// n is the number's digits XOR phoneMask. This is no secret, only a guard: fmt prints a
	// struct's unexported fields by reflection, without calling Format, so a Phone inside another
	// type's unexported field would otherwise print its digits.
	n uint64
}

// phoneMask has high bits no E.164 number (at most 15 digits, < 2^50) has, so n is never 0 for
// a number.
const phoneMask = 0x9e3779b97f4a7c15

func newPhone(digits string) Phone {
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		panic("member: phone digits " + err.Error()) // cannot happen: 8–15 ASCII digits
	}
	return Phone{n: v ^ phoneMask}
}

// ParsePhone accepts a mainland mobile number in the forms people write it — 13800138000,
// "138 0013 8000", 138-0013-8000, +86 13800138000, +8613800138000, 0086 13800138000,
// 86 13800138000, full-width digits, surrounding space — or any other country's number in
// E.164 (+ and 8–15 digits, or 00 instead of +), and returns it in E.164.
func ParsePhone(s string) (Phone, error) {
	if len(s) > maxPhoneInput {
		return Phone{}, ErrInvalidPhone
	}
	digits, plus, ok := phoneDigits(s)
	if !ok {
		return Phone{}, ErrInvalidPhone
	}
	if !plus {
		switch {
		case strings.HasPrefix(digits, "00"): // the international prefix dialled from China
			digits, plus = digits[2:], true
		case len(digits) == 13 && strings.HasPrefix(digits, "86"):
			digits = digits[2:]
		}
	}
	if plus {
		national, china := strings.CutPrefix(digits, "86") // country codes are prefix-free
		if !china {
			if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
				return Phone{}, ErrInvalidPhone
			}
			return newPhone(digits), nil
		}
		digits = national
	}
	if !mainlandMobile(digits) {
		return Phone{}, ErrInvalidPhone
	}
	return newPhone("86" + digits), nil
}

// phoneDigits returns the ASCII digits of s and whether it starts with a plus sign, or false if
// s holds anything but digits (ASCII or full-width), separators and one plus before the digits.
func phoneDigits(s string) (digits string, plus, ok bool) {
	var b strings.Builder
	s = strings.TrimSpace(s)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '+' || r == '＋':
			if plus || b.Len() > 0 {
				return "", false, false
			}
			plus = true
		case phoneSeparator(r):
		default:
			return "", false, false
		}
	}
	if b.Len() == 0 {
		return "", false, false
	}
	return b.String(), plus, true
}

// phoneSeparator reports whether r is one of the characters people put between groups of
// digits: spaces, hyphens and dashes, dots, brackets (in ASCII and full width).
func phoneSeparator(r rune) bool {
	switch r {
	case ' ', '\u00a0', '\u3000', '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212',
		'－', '.', '．', '(', ')', '（', '）':
		return true
	}
	return false
}

// mainlandMobile reports whether d matches 1[3-9]\d{9}, the mainland mobile numbering plan.
func mainlandMobile(d string) bool {
	if len(d) != 11 || d[0] != '1' || d[1] < '3' || d[1] > '9' {
		return false
	}
	for i := 2; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// E164 returns the number in E.164 ("+8613800138000"), the only form we store and send to.
func (p Phone) E164() string {
	if p.n == 0 {
		return ""
	}
	return "+" + strconv.FormatUint(p.n^phoneMask, 10)
}

// IsZero reports whether p is no number.
func (p Phone) IsZero() bool { return p.n == 0 }

// Mainland reports whether p is a mainland China number (and so, as ParsePhone accepts only
// mobiles there, a mainland mobile).
func (p Phone) Mainland() bool { return strings.HasPrefix(p.E164(), "+86") }

// Masked returns the number with its middle hidden — "+86 138****8000" for mainland numbers
// (staff recognise members by the last four digits, 尾号), "+44****23" for others. It is the
// only form that may ever appear in an admin list or a log line.
func (p Phone) Masked() string {
	d := strings.TrimPrefix(p.E164(), "+")
	switch {
	case d == "":
		return ""
	case p.Mainland():
		return "+86 " + d[2:5] + "****" + d[9:]
	default:
		return "+" + d[:2] + "****" + d[len(d)-2:]
	}
}

// String returns Masked.
func (p Phone) String() string { return p.Masked() }

// Format prints Masked for every verb, %#v and %d included.
func (p Phone) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.Masked())) }

// LogValue logs Masked.
func (p Phone) LogValue() slog.Value { return slog.StringValue(p.Masked()) }

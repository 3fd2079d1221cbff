package member

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		mainland bool
	}{
		{"13800138000", "+8613800138000", true},
		{"138 0013 8000", "+8613800138000", true},
		{"138-0013-8000", "+8613800138000", true},
		{"+86 13800138000", "+8613800138000", true},
		{"+8613800138000", "+8613800138000", true},
		{"+86 138 0013 8000", "+8613800138000", true},
		{"0086 13800138000", "+8613800138000", true},
		{"008613800138000", "+8613800138000", true},
		{"86 13800138000", "+8613800138000", true},
		{"8613800138000", "+8613800138000", true},
		{"１３８００１３８０００", "+8613800138000", true},
		{"＋８６ １３８００１３８０００", "+8613800138000", true},
		{"  13800138000\t", "+8613800138000", true},
		{"\u3000138\u30000013\u30008000\u3000", "+8613800138000", true},
		{"(+86) 138.0013.8000", "+8613800138000", true},
		{"（+86）13800138000", "+8613800138000", true},
		{"19912345678", "+8619912345678", true},
		{"+1 212 555 0123", "+12125550123", false},
		{"+44 20 7946 0958", "+442079460958", false},
		{"0044 20 7946 0958", "+442079460958", false},
		{"+852 9123 4567", "+85291234567", false},
		{"+886 912 345 678", "+886912345678", false},
		{"+49 1512 3456789", "+4915123456789", false},
		{"+123456789012345", "+123456789012345", false}, // 15 digits
		{"+12345678", "+12345678", false},               // 8 digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePhone(tt.in)
			if err != nil {
				t.Fatalf("ParsePhone(%q) error = %v", tt.in, err)
			}
			if p.E164() != tt.want || p.Mainland() != tt.mainland {
				t.Errorf("ParsePhone(%q) = %s mainland=%v, want %s mainland=%v", tt.in, p.E164(), p.Mainland(), tt.want, tt.mainland)
			}
		})
	}
}

func TestParsePhoneRefuses(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"+",
		"12800138000",      // 12x is not a mobile prefix
		"1380013800",       // 10 digits
		"138001380000",     // 12 digits
		"23800138000",      // does not start with 1
		"+86 10 6552 9988", // Beijing landline
		"010 6552 9988",    // landline, national form
		"+86 23800138000",
		"+86 138001380001",
		"0086 010 65529988",
		"86 1380013800", // 12 digits with 86: no country code inferred
		"+1234567",      // 7 digits
		"+1234567890123456",
		"+0 123 456 789",
		"00 0123456789",
		"+86+13800138000",
		"138+00138000",
		"13800138000+",
		"138 0013 800O", // letter O
		"tel:13800138000",
		"13800138000 ext 1",
		"١٣٨٠٠١٣٨٠٠٠", // Arabic-Indic digits
		"138\x000013\x008000",
		"138\xff00138000",
		"138/0013/8000",
		strings.Repeat("1", 65),
		strings.Repeat(" ", 60) + "13800138000",
	} {
		if p, err := ParsePhone(in); !errors.Is(err, ErrInvalidPhone) {
			t.Errorf("ParsePhone(%q) = %s, %v; want ErrInvalidPhone", in, p.E164(), err)
		}
	}
}

func TestPhoneMasked(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13800138000", "+86 138****8000"},
		{"+1 212 555 0123", "+12****23"},
		{"+12345678", "+12****78"},
	}
	for _, tt := range tests {
		p, err := ParsePhone(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Masked(); got != tt.want {
			t.Errorf("Masked(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := (Phone{}).Masked(); got != "" {
		t.Errorf("zero Phone Masked() = %q, want empty", got)
	}
}

// A number must not reach a log line or an error message by accident, whatever the verb.
func TestPhoneNeverPrintsTheNumber(t *testing.T) {
	p, err := ParsePhone("13800138000")
	if err != nil {
		t.Fatal(err)
	}
	m := struct{ Phone Phone }{p}
	hidden := struct{ phone Phone }{p} // fmt cannot call methods on unexported fields
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out = append(out, fmt.Sprintf(verb, p), fmt.Sprintf(verb, m), fmt.Sprintf(verb, &m), fmt.Sprintf(verb, hidden))
	}
	out = append(out, fmt.Sprint(p), fmt.Sprintln(p))
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("signup", "phone", p, "member", m)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("signup", "phone", p)
	out = append(out, buf.String())
	for _, s := range out {
		if strings.Contains(s, "00138000") || strings.Contains(s, "0013 8000") || strings.Contains(s, "3133383030") ||
			strings.Contains(s, fmt.Sprint(uint64(8613800138000))) || strings.Contains(s, fmt.Sprintf("%x", uint64(8613800138000))) {
			t.Errorf("printed the number: %s", s)
		}
	}
	if !strings.Contains(buf.String(), "138****8000") {
		t.Errorf("log does not show the masked number: %s", buf.String())
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"13800138000", "138 0013 8000", "+86 13800138000", "0086 13800138000",
		"86 13800138000", "１３８００１３８０００", "+1 212 555 0123", "+86 10 6552 9988", "(+86)", "+", "００",
		"0044 20 7946 0958", "\xff", "+８６"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePhone(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("ParsePhone(%q) error = %v, want ErrInvalidPhone", s, err)
			}
			if strings.ContainsAny(err.Error(), "0123456789") {
				t.Fatalf("error message %q carries digits", err.Error())
			}
			return
		}
		got := p.E164()
		if !e164.MatchString(got) {
			t.Fatalf("ParsePhone(%q) = %q, not E.164", s, got)
		}
		if p.Mainland() && (len(got) != 14 || !mainlandMobile(got[3:])) {
			t.Fatalf("ParsePhone(%q) = %q, a +86 number that is not a mobile", s, got)
		}
		again, err := ParsePhone(got)
		if err != nil || again != p {
			t.Fatalf("ParsePhone(%q) = %q, which does not parse back: %v", s, got, err)
		}
		if masked := p.Masked(); strings.Contains(masked, got[1:]) || strings.Count(masked, "*") != 4 {
			t.Fatalf("Masked() = %q for %q", masked, got)
		}
	})
}

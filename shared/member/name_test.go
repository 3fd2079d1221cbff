package member

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        error
	}{
		{"han", "王秀英", "王秀英", nil},
		{"trimmed", "  王秀英\u3000", "王秀英", nil},
		{"latin", "Mary O'Brien", "Mary O'Brien", nil},
		{"hyphen", "Jean-Luc", "Jean-Luc", nil},
		{"curly apostrophe", "D’Angelo", "D’Angelo", nil},
		{"middle dot", "阿依古丽·买买提", "阿依古丽·买买提", nil},
		{"bullet made middle dot", "阿依古丽•买买提", "阿依古丽·买买提", nil},
		{"katakana dot made middle dot", "阿依古丽・买买提", "阿依古丽·买买提", nil},
		{"spaces collapsed", "Li   Wei", "Li Wei", nil},
		{"full-width space inside", "李\u3000伟", "李 伟", nil},
		{"combining mark", "Nguyễn Thị", "Nguyễn Thị", nil},
		{"decomposed accent", "Jose\u0301", "Jose\u0301", nil},
		{"hangul", "김민수", "김민수", nil},
		{"cyrillic", "Анна", "Анна", nil},
		{"one rune", "李", "李", nil},
		{"20 runes", strings.Repeat("王", 20), strings.Repeat("王", 20), nil},
		{"empty", "", "", ErrNameRequired},
		{"blank", " \u3000\t", "", ErrNameRequired},
		{"21 runes", strings.Repeat("王", 21), "", ErrNameTooLong},
		{"200 characters", strings.Repeat("a", 200), "", ErrNameTooLong},
		{"200 emoji", strings.Repeat("😀", 200), "", ErrNameTooLong},
		{"emoji", "王秀英😀", "", ErrInvalidName},
		{"flower emoji", "王秀英🌸", "", ErrInvalidName},
		{"emoji with variation selector", "王☺\ufe0f", "", ErrInvalidName},
		{"variation selector after han", "王\ufe0f", "", ErrInvalidName},
		{"zero-width joiner", "王\u200d英", "", ErrInvalidName},
		{"digits", "王秀英2", "", ErrInvalidName},
		{"full-width digit", "王秀英２", "", ErrInvalidName},
		{"chinese numeral is a letter", "王三", "王三", nil},
		{"newline", "王\n秀英", "", ErrInvalidName},
		{"nul", "王\x00英", "", ErrInvalidName},
		{"line separator", "王\u2028英", "", ErrInvalidName},
		{"bidi override", "王\u202e英", "", ErrInvalidName},
		{"bad utf8", "王\xff", "", ErrInvalidName},
		{"symbols", "王<b>", "", ErrInvalidName},
		{"only punctuation", "·-'", "", ErrInvalidName},
		{"mark first", "\u0301a", "", ErrInvalidName},
		{"mark after space", "a \u0301", "", ErrInvalidName},
		{"enclosing keycap", "a\u20e3", "", ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidName(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ValidName(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ValidName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"王秀英", " Mary O'Brien ", "阿依古丽•买买提", "王😀", "a\u0301", "\u0301", "王\ufe0f",
		"李\u3000伟", strings.Repeat("王", 21), "\xff", "12", "·"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ValidName(s)
		if err != nil {
			if !errors.Is(err, ErrNameRequired) && !errors.Is(err, ErrNameTooLong) && !errors.Is(err, ErrInvalidName) {
				t.Fatalf("ValidName(%q) error = %v", s, err)
			}
			return
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > MaxNameLen || !utf8.ValidString(got) {
			t.Fatalf("ValidName(%q) = %q: %d runes", s, got, n)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Fatalf("ValidName(%q) = %q: not trimmed", s, got)
		}
		for _, r := range got {
			if unicode.IsDigit(r) || unicode.IsControl(r) || unicode.Is(unicode.So, r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("ValidName(%q) = %q holds %U", s, got, r)
			}
		}
		if again, err := ValidName(got); err != nil || again != got {
			t.Fatalf("ValidName(%q) = %q, then %q, %v", s, got, again, err)
		}
	})
}

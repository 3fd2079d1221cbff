package member

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var now2026 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

func TestValidBirthYear(t *testing.T) {
	tests := []struct {
		year int
		ok   bool
	}{
		{1900, true}, {1955, true}, {1986, true},
		{1899, false}, {1987, false}, {2026, false}, {0, false}, {-1955, false}, {55, false},
	}
	for _, tt := range tests {
		err := ValidBirthYear(tt.year, now2026)
		if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrInvalidBirthYear) {
			t.Errorf("ValidBirthYear(%d) = %v, want ok=%v", tt.year, err, tt.ok)
		}
	}
}

func TestAgeBandOf(t *testing.T) {
	tests := []struct {
		year int
		want AgeBand
	}{
		{0, AgeUnknown},
		{1990, AgeUnder60},
		{1967, AgeUnder60}, // 59 this year
		{1966, Age60s},     // reaches 60 this year
		{1957, Age60s},
		{1956, Age70s},
		{1947, Age70s},
		{1946, Age80s},
		{1937, Age80s},
		{1936, Age90Plus},
		{1900, Age90Plus},
	}
	for _, tt := range tests {
		if got := AgeBandOf(tt.year, now2026); got != tt.want {
			t.Errorf("AgeBandOf(%d) = %q, want %q", tt.year, got, tt.want)
		}
	}
}

func TestParseEnums(t *testing.T) {
	check := func(t *testing.T, name string, parse func(string) (string, error), in string, want string, wantErr error) {
		t.Helper()
		got, err := parse(in)
		if !errors.Is(err, wantErr) || got != want {
			t.Errorf("%s(%q) = %q, %v; want %q, %v", name, in, got, err, want, wantErr)
		}
	}
	gender := func(s string) (string, error) { g, err := ParseGender(s); return string(g), err }
	channel := func(s string) (string, error) { c, err := ParseChannel(s); return string(c), err }
	tier := func(s string) (string, error) { v, err := ParseTier(s); return string(v), err }
	scope := func(s string) (string, error) { v, err := ParseScope(s); return string(v), err }
	tests := []struct {
		parse        func(string) (string, error)
		fn, in, want string
		wantErr      error
	}{
		{gender, "ParseGender", "", "unspecified", nil},
		{gender, "ParseGender", "female", "female", nil},
		{gender, "ParseGender", "male", "male", nil},
		{gender, "ParseGender", "unspecified", "unspecified", nil},
		{gender, "ParseGender", "Female", "", ErrInvalidGender},
		{gender, "ParseGender", "女", "", ErrInvalidGender},
		{channel, "ParseChannel", "", "voice", nil},
		{channel, "ParseChannel", "voice", "voice", nil},
		{channel, "ParseChannel", "sms", "sms", nil},
		{channel, "ParseChannel", "none", "none", nil},
		{channel, "ParseChannel", "wechat", "", ErrInvalidChannel},
		{tier, "ParseTier", "", "member", nil},
		{tier, "ParseTier", "leader", "leader", nil},
		{tier, "ParseTier", "partner", "partner", nil},
		{tier, "ParseTier", "vip", "", ErrInvalidTier},
		{scope, "ParseScope", "", "view", nil},
		{scope, "ParseScope", "helper", "helper", nil},
		{scope, "ParseScope", "admin", "", ErrInvalidScope},
	}
	for _, tt := range tests {
		check(t, tt.fn, tt.parse, tt.in, tt.want, tt.wantErr)
	}
}

func TestValidNeighborhood(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  error
	}{
		{"", "", nil},
		{" 阳光小区 3 号楼 ", "阳光小区 3 号楼", nil},
		{strings.Repeat("区", 40), strings.Repeat("区", 40), nil},
		{strings.Repeat("区", 41), "", ErrNeighborhoodTooLong},
		{"阳光\n小区", "", ErrInvalidNeighborhood},
		{"阳光\xff", "", ErrInvalidNeighborhood},
	}
	for _, tt := range tests {
		got, err := ValidNeighborhood(tt.in)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("ValidNeighborhood(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil {
			if e := err.Error(); !strings.Contains(e, "neighborhood") {
				t.Errorf("ValidNeighborhood(%q) error %q names no field", tt.in, e)
			}
		}
	}
}

func TestValidInterests(t *testing.T) {
	offered := []string{"太极拳", "广场舞", "书法", "养生", "旅游", "摄影", "合唱", "象棋", "园艺", "烹饪", "戏曲"}
	tests := []struct {
		name    string
		chosen  []string
		want    []string
		wantErr error
	}{
		{"none", nil, nil, nil},
		{"empty", []string{}, nil, nil},
		{"some, trimmed, in order", []string{" 书法", "太极拳 "}, []string{"书法", "太极拳"}, nil},
		{"ten", offered[:10], offered[:10], nil},
		{"eleven", offered, nil, ErrInvalidInterest},
		{"not offered", []string{"赌博"}, nil, ErrInvalidInterest},
		{"blank", []string{" "}, nil, ErrInvalidInterest},
		{"duplicate", []string{"书法", " 书法"}, nil, ErrInvalidInterest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidInterests(tt.chosen, offered)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ValidInterests() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ValidInterests() (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ValidInterests([]string{"书法"}, nil); !errors.Is(err, ErrInvalidInterest) {
		t.Errorf("a store that offers nothing accepted an interest: %v", err)
	}
}

func TestValidTags(t *testing.T) {
	many := make([]string, 21)
	for i := range many {
		many[i] = strings.Repeat("标", i%19+1) + string(rune('A'+i))
	}
	tests := []struct {
		name    string
		tags    []string
		want    []string
		wantErr error
	}{
		{"none", nil, nil, nil},
		{"trimmed and deduplicated, first kept first", []string{" 高血压关注 ", "常客", "高血压关注", "常客 "}, []string{"高血压关注", "常客"}, nil},
		{"case matters", []string{"VIP", "vip"}, []string{"VIP", "vip"}, nil},
		{"20 tags", many[:20], many[:20], nil},
		{"20 tags after deduplication", append(append([]string{}, many[:20]...), many[0]), many[:20], nil},
		{"21 tags", many, nil, ErrInvalidTag},
		{"20 runes", []string{strings.Repeat("标", 20)}, []string{strings.Repeat("标", 20)}, nil},
		{"21 runes", []string{strings.Repeat("标", 21)}, nil, ErrInvalidTag},
		{"blank", []string{"常客", " "}, nil, ErrInvalidTag},
		{"control", []string{"常\t客"}, nil, ErrInvalidTag},
		{"bad utf8", []string{"\xff"}, nil, ErrInvalidTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidTags(tt.tags)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ValidTags() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ValidTags() (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzValidTags(f *testing.F) {
	f.Add("常客,高血压关注, 常客 ,,VIP")
	f.Add(strings.Repeat("a,", 25))
	f.Add("\xff,\t")
	f.Fuzz(func(t *testing.T, joined string) {
		got, err := ValidTags(strings.Split(joined, ","))
		if err != nil {
			if !errors.Is(err, ErrInvalidTag) {
				t.Fatalf("ValidTags() error = %v", err)
			}
			return
		}
		if len(got) > MaxTags {
			t.Fatalf("ValidTags() returned %d tags", len(got))
		}
		seen := map[string]bool{}
		for _, tag := range got {
			if seen[tag] || tag == "" || tag != strings.TrimSpace(tag) || utf8.RuneCountInString(tag) > MaxTagLen {
				t.Fatalf("ValidTags() returned %q in %q", tag, got)
			}
			seen[tag] = true
		}
	})
}

func TestParseTimeZone(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "Asia/Shanghai", true},
		{" Asia/Shanghai ", "Asia/Shanghai", true},
		{"America/New_York", "America/New_York", true},
		{"Europe/London", "Europe/London", true},
		{"America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires", true},
		{"Etc/GMT+8", "Etc/GMT+8", true},
		{"UTC", "UTC", true},
		{"Local", "", false},
		{"Asia/Beijing", "", false}, // not an IANA name, however natural it sounds
		{"asia/shanghai", "", false},
		{"CST", "", false},
		{"+08:00", "", false},
		{"../../etc/passwd", "", false},
		{"/usr/share/zoneinfo/Asia/Shanghai", "", false},
		{"Asia/Shanghai\x00", "", false},
		{strings.Repeat("A", 65), "", false},
	}
	for _, tt := range tests {
		loc, err := ParseTimeZone(tt.in)
		if !tt.ok {
			if !errors.Is(err, ErrInvalidTimeZone) {
				t.Errorf("ParseTimeZone(%q) = %v, %v; want ErrInvalidTimeZone", tt.in, loc, err)
			}
			continue
		}
		if err != nil || loc.String() != tt.want {
			t.Errorf("ParseTimeZone(%q) = %v, %v; want %s", tt.in, loc, err, tt.want)
		}
	}
}

func FuzzParseTimeZone(f *testing.F) {
	for _, s := range []string{"Asia/Shanghai", "America/New_York", "Local", "../x", "", "Etc/GMT-14", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := ParseTimeZone(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidTimeZone) {
				t.Fatalf("ParseTimeZone(%q) error = %v", s, err)
			}
			return
		}
		if again, err := ParseTimeZone(loc.String()); err != nil || again.String() != loc.String() {
			t.Fatalf("ParseTimeZone(%q) = %s, which does not load again: %v", s, loc, err)
		}
	})
}

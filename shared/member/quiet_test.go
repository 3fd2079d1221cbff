package member

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := ParseTimeZone(name)
	if err != nil {
		t.Fatalf("ParseTimeZone(%q): %v", name, err)
	}
	return loc
}

func TestParseQuietHours(t *testing.T) {
	tests := []struct {
		start, end string
		want       QuietHours
		wantErr    error
	}{
		{"22:00", "07:00", QuietHours{"22:00", "07:00"}, nil},
		{"21:00", "08:00", DefaultQuietHours, nil},
		{" 7:05", "9:30 ", QuietHours{"07:05", "09:30"}, nil},
		{"00:00", "23:59", QuietHours{"00:00", "23:59"}, nil},
		{"12:00", "12:00", QuietHours{}, ErrInvalidQuietHours},
		{"24:00", "07:00", QuietHours{}, ErrInvalidQuietHours},
		{"22:60", "07:00", QuietHours{}, ErrInvalidQuietHours},
		{"22:00", "", QuietHours{}, ErrInvalidQuietHours},
		{"2200", "0700", QuietHours{}, ErrInvalidQuietHours},
		{"22:0", "07:00", QuietHours{}, ErrInvalidQuietHours},
		{"022:00", "07:00", QuietHours{}, ErrInvalidQuietHours},
		{"-1:00", "07:00", QuietHours{}, ErrInvalidQuietHours},
		{"+1:00", "07:00", QuietHours{}, ErrInvalidQuietHours},
		{"22:00:00", "07:00", QuietHours{}, ErrInvalidQuietHours},
		{"10pm", "7am", QuietHours{}, ErrInvalidQuietHours},
	}
	for _, tt := range tests {
		got, err := ParseQuietHours(tt.start, tt.end)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("ParseQuietHours(%q, %q) = %v, %v; want %v, %v", tt.start, tt.end, got, err, tt.want, tt.wantErr)
		}
	}
	if err := (QuietHours{}).Validate(); !errors.Is(err, ErrInvalidQuietHours) {
		t.Errorf("zero QuietHours Validate() = %v", err)
	}
}

func TestQuietHoursContains(t *testing.T) {
	sh := mustLoad(t, "Asia/Shanghai")
	at := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 0, 0, sh) }
	tests := []struct {
		name string
		q    QuietHours
		t    time.Time
		want bool
	}{
		{"evening", DefaultQuietHours, at(22, 30), true},
		{"start is quiet", DefaultQuietHours, at(21, 0), true},
		{"just before start", DefaultQuietHours, at(20, 59), false},
		{"after midnight", DefaultQuietHours, at(3, 0), true},
		{"just before end", DefaultQuietHours, at(7, 59), true},
		{"end is not quiet", DefaultQuietHours, at(8, 0), false},
		{"midday", DefaultQuietHours, at(12, 0), false},
		{"same-day window", QuietHours{"12:00", "14:00"}, at(13, 0), true},
		{"same-day window, outside", QuietHours{"12:00", "14:00"}, at(22, 0), false},
		{"zero value stays quiet at night", QuietHours{}, at(23, 0), true},
		{"broken value stays quiet at night", QuietHours{"x", "y"}, at(23, 0), true},
		{"UTC instant read in Shanghai", DefaultQuietHours, time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		if got := tt.q.Contains(tt.t, sh); got != tt.want {
			t.Errorf("%s: Contains(%v) = %v, want %v", tt.name, tt.t, got, tt.want)
		}
	}
	// No zone means Shanghai: 14:00 UTC is 22:00 there.
	if !DefaultQuietHours.Contains(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), nil) {
		t.Errorf("Contains with a nil zone does not use Asia/Shanghai")
	}
}

func TestQuietHoursNextEnd(t *testing.T) {
	utc := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name string
		zone string
		q    QuietHours
		t    time.Time // UTC
		want time.Time // UTC
	}{
		{"not quiet: now", "Asia/Shanghai", DefaultQuietHours, utc(11, 23, 4, 0), utc(11, 23, 4, 0)},
		{"evening: tomorrow 08:00", "Asia/Shanghai", DefaultQuietHours, utc(11, 23, 14, 30), utc(11, 24, 0, 0)},
		{"small hours: today 08:00", "Asia/Shanghai", DefaultQuietHours, utc(11, 23, 19, 0), utc(11, 24, 0, 0)},
		{"at the start", "Asia/Shanghai", DefaultQuietHours, utc(11, 23, 13, 0), utc(11, 24, 0, 0)},
		{"a minute before the end", "Asia/Shanghai", DefaultQuietHours, utc(11, 23, 23, 59), utc(11, 24, 0, 0)},
		{"22:00-07:00", "Asia/Shanghai", QuietHours{"22:00", "07:00"}, utc(11, 23, 14, 30), utc(11, 23, 23, 0)},
		{"same-day window", "Asia/Shanghai", QuietHours{"12:00", "14:00"}, utc(11, 23, 5, 0), utc(11, 23, 6, 0)},
		{"month end", "Asia/Shanghai", DefaultQuietHours, utc(11, 30, 15, 0), utc(12, 1, 0, 0)},
		// New York springs forward at 02:00 on 8 March 2026: the night is an hour shorter.
		{"spring forward", "America/New_York", DefaultQuietHours, utc(3, 8, 4, 0), utc(3, 8, 12, 0)},
		{"spring forward, end in the gap: ends at the jump", "America/New_York", QuietHours{"22:00", "02:30"}, utc(3, 8, 6, 0), utc(3, 8, 7, 0)},
		// It falls back at 02:00 on 1 November 2026: the night is an hour longer; 01:30 comes twice.
		{"fall back", "America/New_York", DefaultQuietHours, utc(11, 1, 2, 0), utc(11, 1, 13, 0)},
		{"fall back, first 01:30", "America/New_York", QuietHours{"22:00", "01:30"}, utc(11, 1, 4, 30), utc(11, 1, 5, 30)},
		{"fall back, second 01:30", "America/New_York", QuietHours{"22:00", "01:30"}, utc(11, 1, 6, 10), utc(11, 1, 6, 30)},
		{"fall back, start comes again", "America/New_York", QuietHours{"01:15", "07:00"}, utc(11, 1, 6, 20), utc(11, 1, 12, 0)},
		{"ordinary New York night", "America/New_York", DefaultQuietHours, utc(11, 23, 3, 0), utc(11, 23, 13, 0)},
		// Santiago skips from 00:00 to 01:00 on 6 September 2026 and repeats 23:00-24:00 on 4 April.
		{"midnight gap", "America/Santiago", QuietHours{"22:00", "00:30"}, utc(9, 6, 3, 0), utc(9, 6, 4, 0)},
		{"midnight repeat, first", "America/Santiago", QuietHours{"21:00", "23:30"}, utc(4, 5, 1, 0), utc(4, 5, 2, 30)},
		{"midnight repeat, second", "America/Santiago", QuietHours{"21:00", "23:30"}, utc(4, 5, 3, 10), utc(4, 5, 3, 30)},
		// Lord Howe Island shifts by half an hour.
		{"half-hour gap", "Australia/Lord_Howe", QuietHours{"21:00", "02:15"}, utc(10, 3, 12, 30), utc(10, 3, 15, 30)},
		{"half-hour repeat, first", "Australia/Lord_Howe", QuietHours{"21:00", "01:45"}, utc(4, 4, 12, 0), utc(4, 4, 14, 45)},
		{"half-hour repeat, second", "Australia/Lord_Howe", QuietHours{"21:00", "01:45"}, utc(4, 4, 15, 10), utc(4, 4, 15, 15)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			got := tt.q.NextEnd(tt.t, loc)
			if !got.Equal(tt.want) {
				t.Errorf("NextEnd(%v) = %v (%v), want %v (%v)", tt.t.In(loc), got.UTC(), got.In(loc), tt.want, tt.want.In(loc))
			}
			if tt.q.Contains(got, loc) {
				t.Errorf("NextEnd(%v) = %v, still quiet", tt.t.In(loc), got.In(loc))
			}
		})
	}
	if got, want := DefaultQuietHours.NextEnd(utc(11, 23, 14, 30), nil), utc(11, 24, 0, 0); !got.Equal(want) {
		t.Errorf("NextEnd with a nil zone = %v, want %v", got, want)
	}
}

func TestWallTimes(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	got := wallTimes(2026, time.November, 1, 1, 30, ny)
	want := []time.Time{time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("wallTimes(01:30 on fall-back day) (-want +got):\n%s", diff)
	}
}

var fuzzZones = []string{"Asia/Shanghai", "America/New_York", "America/Santiago", "Australia/Lord_Howe",
	"Europe/London", "Pacific/Apia", "Asia/Kathmandu", "America/Havana", "Antarctica/Troll", "Pacific/Kiritimati"}

func FuzzQuietHours(f *testing.F) {
	f.Add("21:00", "08:00", int64(1795411800), uint8(0))
	f.Add("22:00", "02:30", int64(1772949600), uint8(1))
	f.Add("22:00", "01:30", int64(1793514600), uint8(1))
	f.Add("22:00", "00:30", int64(1788667200), uint8(2))
	f.Add("21:00", "02:15", int64(1791037800), uint8(3))
	f.Add("23:00", "00:30", int64(1325239200), uint8(5)) // Samoa skipped 30 December 2011
	f.Add("x", "", int64(-1), uint8(9))
	f.Fuzz(func(t *testing.T, start, end string, unix int64, zone uint8) {
		loc := mustLoad(t, fuzzZones[int(zone)%len(fuzzZones)])
		// 1900 to 2200: the years members live in, and beyond the end of the zone rules.
		const lo, span = -2208988800, 9467107200
		at := time.Unix(lo+(unix%span+span)%span, 0)
		q, err := ParseQuietHours(start, end)
		if err != nil {
			if !errors.Is(err, ErrInvalidQuietHours) {
				t.Fatalf("ParseQuietHours(%q, %q) error = %v", start, end, err)
			}
			q = QuietHours{Start: start, End: end} // a broken stored value must not panic either
		} else if again, err := ParseQuietHours(q.Start, q.End); err != nil || again != q {
			t.Fatalf("ParseQuietHours(%q, %q) = %v, which does not parse back", start, end, q)
		}
		got := q.NextEnd(at, loc)
		if !q.Contains(at, loc) {
			if !got.Equal(at) {
				t.Fatalf("NextEnd(%v) = %v outside quiet hours %v", at.In(loc), got.In(loc), q)
			}
			return
		}
		if !got.After(at) || got.Sub(at) > 49*time.Hour {
			t.Fatalf("NextEnd(%v) = %v for %v", at.In(loc), got.In(loc), q)
		}
		_, e := q.minutes()
		jump, _ := got.ZoneBounds()
		if lt := got.In(loc); lt.Hour()*60+lt.Minute() != e && !got.Equal(jump) {
			t.Fatalf("NextEnd(%v) = %v: neither the end of %v nor a clock change", at.In(loc), lt, q)
		}
	})
}

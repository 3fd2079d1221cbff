package reminder

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// occLayout shows an occurrence as the senior's clock reads it, with the offset that says which
// of two equal readings it is.
const occLayout = "2006-01-02 15:04 -0700"

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// local reads "2006-01-02 15:04" in the rule's zone.
func local(t *testing.T, r Rule, s string) time.Time {
	t.Helper()
	name := r.TimeZone
	if name == "" {
		name = defaultTimeZone
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", s, zone(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// occurrences lists up to n occurrences of r after from, chaining Next, in the rule's zone.
func occurrences(t *testing.T, r Rule, from time.Time, n int) []string {
	t.Helper()
	loc := Reminder{Rule: r}.Location()
	var got []string
	for range n {
		next, ok := r.Next(from)
		if !ok {
			break
		}
		if !next.After(from) {
			t.Fatalf("Next(%v) = %v, not after", from, next)
		}
		got = append(got, next.In(loc).Format(occLayout))
		from = next
	}
	return got
}

func TestRuleNext(t *testing.T) {
	sh := func(r Rule) Rule { r.TimeZone = "Asia/Shanghai"; return r }
	ny := func(r Rule) Rule { r.TimeZone = "America/New_York"; return r }
	lh := func(r Rule) Rule { r.TimeZone = "Australia/Lord_Howe"; return r }
	tests := []struct {
		name string
		rule Rule
		from string // in the rule's zone
		want []string
	}{
		{"daily over a month end", sh(Rule{Freq: FreqDaily, Start: "2026-01-30", At: "08:00"}), "2026-01-31 07:00",
			[]string{"2026-01-31 08:00 +0800", "2026-02-01 08:00 +0800", "2026-02-02 08:00 +0800"}},
		{"daily over february's end", sh(Rule{Freq: FreqDaily, Start: "2026-01-30", At: "08:00"}), "2026-02-27 09:00",
			[]string{"2026-02-28 08:00 +0800", "2026-03-01 08:00 +0800"}},
		{"daily over a leap day", sh(Rule{Freq: FreqDaily, Start: "2028-01-01", At: "21:30"}), "2028-02-28 21:30",
			[]string{"2028-02-29 21:30 +0800", "2028-03-01 21:30 +0800"}},
		{"from exactly an occurrence, strictly after", sh(Rule{Freq: FreqDaily, Start: "2026-01-01", At: "08:00"}), "2026-05-01 08:00",
			[]string{"2026-05-02 08:00 +0800"}},
		{"before the start", sh(Rule{Freq: FreqDaily, Start: "2026-12-01", At: "08:00"}), "2026-01-01 09:00",
			[]string{"2026-12-01 08:00 +0800", "2026-12-02 08:00 +0800"}},
		{"the empty zone is Shanghai", Rule{Freq: FreqDaily, Start: "2026-01-01", At: "08:00"}, "2026-11-23 07:59",
			[]string{"2026-11-23 08:00 +0800"}},
		{"weekdays skip the weekend", sh(Rule{Freq: FreqWeekdays, Start: "2026-01-01", At: "08:00"}), "2026-11-27 09:00",
			[]string{"2026-11-30 08:00 +0800", "2026-12-01 08:00 +0800"}},
		{"weekly across the year end", sh(Rule{Freq: FreqWeekly, Start: "2026-01-01", At: "19:00",
			Weekdays: []time.Weekday{time.Monday, time.Thursday}}), "2026-12-28 20:00",
			[]string{"2026-12-31 19:00 +0800", "2027-01-04 19:00 +0800", "2027-01-07 19:00 +0800"}},
		{"weekly on a leap day", sh(Rule{Freq: FreqWeekly, Start: "2028-01-01", At: "07:00",
			Weekdays: []time.Weekday{time.Tuesday}}), "2028-02-25 00:00",
			[]string{"2028-02-29 07:00 +0800", "2028-03-07 07:00 +0800"}},
		{"weekly starting mid-week", sh(Rule{Freq: FreqWeekly, Start: "2026-11-26", At: "07:00",
			Weekdays: []time.Weekday{time.Monday}}), "2026-11-01 00:00",
			[]string{"2026-11-30 07:00 +0800"}},
		{"every 2 days over a leap day", sh(Rule{Freq: FreqEveryDays, Start: "2028-02-27", At: "08:00", Interval: 2}), "2028-02-01 00:00",
			[]string{"2028-02-27 08:00 +0800", "2028-02-29 08:00 +0800", "2028-03-02 08:00 +0800"}},
		{"every 365 days counts days, not years", sh(Rule{Freq: FreqEveryDays, Start: "2027-03-01", At: "08:00", Interval: 365}), "2027-03-01 08:00",
			[]string{"2028-02-29 08:00 +0800", "2029-02-28 08:00 +0800", "2030-02-28 08:00 +0800",
				"2031-02-28 08:00 +0800", "2032-02-28 08:00 +0800", "2033-02-27 08:00 +0800"}},
		{"every 7 days, ten years on", sh(Rule{Freq: FreqEveryDays, Start: "2026-01-05", At: "08:00", Interval: 7}), "2036-01-01 00:00",
			[]string{"2036-01-07 08:00 +0800"}},
		{"until is inclusive", sh(Rule{Freq: FreqDaily, Start: "2026-03-01", At: "08:00", Until: "2026-03-03"}), "2026-03-02 09:00",
			[]string{"2026-03-03 08:00 +0800"}},
		{"until on the start day", sh(Rule{Freq: FreqDaily, Start: "2026-03-01", At: "08:00", Until: "2026-03-01"}), "2026-02-01 09:00",
			[]string{"2026-03-01 08:00 +0800"}},
		{"every days past until", sh(Rule{Freq: FreqEveryDays, Start: "2026-03-01", At: "08:00", Interval: 10, Until: "2026-03-20"}), "2026-03-01 08:00",
			[]string{"2026-03-11 08:00 +0800"}},
		{"once ahead rings once", sh(Rule{Freq: FreqOnce, Start: "2026-12-01", At: "10:00"}), "2026-11-23 08:00",
			[]string{"2026-12-01 10:00 +0800"}},
		{"once in the past never", sh(Rule{Freq: FreqOnce, Start: "2026-01-01", At: "10:00"}), "2026-06-01 08:00", nil},
		{"once at its own minute never", sh(Rule{Freq: FreqOnce, Start: "2026-01-01", At: "10:00"}), "2026-01-01 10:00", nil},
		{"once later the same day", sh(Rule{Freq: FreqOnce, Start: "2026-01-01", At: "10:00"}), "2026-01-01 09:59",
			[]string{"2026-01-01 10:00 +0800"}},
		{"a skipped time rings at the jump", ny(Rule{Freq: FreqDaily, Start: "2026-01-01", At: "02:30"}), "2026-03-07 03:00",
			[]string{"2026-03-08 03:00 -0400", "2026-03-09 02:30 -0400"}},
		{"the jump itself is no gap", ny(Rule{Freq: FreqDaily, Start: "2026-01-01", At: "03:00"}), "2026-03-07 12:00",
			[]string{"2026-03-08 03:00 -0400", "2026-03-09 03:00 -0400"}},
		{"a doubled time rings the first time", ny(Rule{Freq: FreqDaily, Start: "2026-01-01", At: "01:30"}), "2026-10-31 12:00",
			[]string{"2026-11-01 01:30 -0400", "2026-11-02 01:30 -0500"}},
		{"a doubled time rings once", ny(Rule{Freq: FreqOnce, Start: "2026-11-01", At: "01:30"}), "2026-11-01 01:00",
			[]string{"2026-11-01 01:30 -0400"}},
		{"a weekly skipped time", ny(Rule{Freq: FreqWeekly, Start: "2026-01-01", At: "02:00",
			Weekdays: []time.Weekday{time.Sunday}}), "2026-03-01 12:00",
			[]string{"2026-03-08 03:00 -0400", "2026-03-15 02:00 -0400"}},
		{"every days on a skipped time", ny(Rule{Freq: FreqEveryDays, Start: "2026-03-06", At: "02:15", Interval: 2}), "2026-03-06 03:00",
			[]string{"2026-03-08 03:00 -0400", "2026-03-10 02:15 -0400"}},
		{"half an hour skipped at Lord Howe", lh(Rule{Freq: FreqDaily, Start: "2026-01-01", At: "02:15"}), "2026-10-03 12:00",
			[]string{"2026-10-04 02:30 +1100", "2026-10-05 02:15 +1100"}},
		{"half an hour twice at Lord Howe", lh(Rule{Freq: FreqDaily, Start: "2026-01-01", At: "01:45"}), "2026-04-04 12:00",
			[]string{"2026-04-05 01:45 +1100", "2026-04-06 01:45 +1030"}},
		{"after the doubled half hour at Lord Howe", lh(Rule{Freq: FreqDaily, Start: "2026-01-01", At: "02:15"}), "2026-04-04 12:00",
			[]string{"2026-04-05 02:15 +1030"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.rule.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			got := occurrences(t, tt.rule, local(t, tt.rule, tt.from), len(tt.want)+1)
			if len(tt.want) == 0 {
				tt.want = nil
			}
			// One more than wanted is asked for: only rules with an end may stop early.
			if len(got) > len(tt.want) && (tt.rule.Until != "" || tt.rule.Freq == FreqOnce) {
				t.Errorf("an occurrence after the last: %v", got)
			}
			if diff := cmp.Diff(tt.want, got[:min(len(got), len(tt.want))]); diff != "" {
				t.Errorf("occurrences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextIsUTC(t *testing.T) {
	r := Rule{Freq: FreqDaily, Start: "2026-01-01", At: "08:00"}
	got, ok := r.Next(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC); !ok || got != want {
		t.Errorf("Next() = %v, %v; want %v", got, ok, want)
	}
}

// TestEveryDaysNoDrift follows rules for years through clock changes: every occurrence reads At
// on the local clock (none of these times is ever skipped) and lies Interval calendar days after
// the one before.
func TestEveryDaysNoDrift(t *testing.T) {
	for _, name := range []string{"Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Europe/London"} {
		for _, interval := range []int{2, 7, 365} {
			r := Rule{Freq: FreqEveryDays, Start: "2026-01-01", At: "09:15", Interval: interval, TimeZone: name}
			loc := zone(t, name)
			from := time.Date(2025, 12, 1, 0, 0, 0, 0, loc)
			end := from.AddDate(12, 0, 0)
			prev := time.Time{}
			n := 0
			for {
				next, ok := r.Next(from)
				if !ok {
					t.Fatalf("%s every %d: none after %v", name, interval, from)
				}
				if next.After(end) {
					break
				}
				l := next.In(loc)
				if l.Hour() != 9 || l.Minute() != 15 || l.Second() != 0 {
					t.Fatalf("%s every %d: %v reads %s", name, interval, next, l.Format(occLayout))
				}
				if !prev.IsZero() {
					y, m, d := prev.In(loc).Date()
					if days := dayNumber(l.Date()) - dayNumber(y, m, d); days != int64(interval) {
						t.Fatalf("%s every %d: %d days between %v and %v", name, interval, days, prev, next)
					}
				}
				prev, from = next, next
				n++
			}
			// From 2026-01-01 to the day before 2037-12-01 (end is that day's midnight).
			if last := dayNumber(2037, time.November, 30) - dayNumber(2026, time.January, 1); n != int(last/int64(interval))+1 {
				t.Errorf("%s every %d: %d occurrences, want %d", name, interval, n, last/int64(interval)+1)
			}
		}
	}
}

func TestNextNone(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		at   time.Time
	}{
		{"invalid rule", Rule{Freq: "monthly", Start: "2026-01-01", At: "08:00"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"past until", Rule{Freq: FreqWeekly, Start: "2026-01-01", At: "08:00", Until: "2026-01-10",
			Weekdays: []time.Weekday{time.Wednesday}}, time.Date(2026, 1, 7, 1, 0, 0, 0, time.UTC)},
		{"after the year 9999", Rule{Freq: FreqDaily, Start: "2026-01-01", At: "08:00"}, time.Date(10000, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"the end of time", Rule{Freq: FreqDaily, Start: "2026-01-01", At: "08:00"}, time.Unix(1<<62, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := tt.rule.Next(tt.at); ok {
				t.Errorf("Next(%v) = %v, want none", tt.at, got)
			}
		})
	}
	// The beginning of time is before every start.
	r := Rule{Freq: FreqDaily, Start: "2026-01-01", At: "08:00"}
	if got, ok := r.Next(time.Time{}); !ok || !got.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Next(zero) = %v, %v", got, ok)
	}
}

func TestRuleValidate(t *testing.T) {
	weekly := func(days ...time.Weekday) Rule {
		return Rule{Freq: FreqWeekly, Start: "2026-11-23", At: "08:00", Weekdays: days}
	}
	daily := func(edit func(*Rule)) Rule {
		r := Rule{Freq: FreqDaily, Start: "2026-11-23", At: "08:00", TimeZone: "Asia/Shanghai"}
		edit(&r)
		return r
	}
	tests := []struct {
		name string
		rule Rule
		want error
	}{
		{"once", Rule{Freq: FreqOnce, Start: "2026-11-23", At: "08:00"}, nil},
		{"daily", daily(func(*Rule) {}), nil},
		{"weekdays", Rule{Freq: FreqWeekdays, Start: "2026-11-23", At: "23:59", Until: "2026-12-31"}, nil},
		{"weekly", weekly(time.Saturday, time.Sunday), nil},
		{"every days", Rule{Freq: FreqEveryDays, Start: "2026-11-23", At: "00:00", Interval: MaxIntervalDay}, nil},
		{"leap day", daily(func(r *Rule) { r.Start = "2028-02-29" }), nil},
		{"utc", daily(func(r *Rule) { r.TimeZone = "UTC" }), nil},
		{"no freq", daily(func(r *Rule) { r.Freq = "" }), ErrInvalidFreq},
		{"monthly", daily(func(r *Rule) { r.Freq = "monthly" }), ErrInvalidFreq},
		{"capital freq", daily(func(r *Rule) { r.Freq = "Daily" }), ErrInvalidFreq},
		{"no start", daily(func(r *Rule) { r.Start = "" }), ErrInvalidDate},
		{"short month", daily(func(r *Rule) { r.Start = "2026-2-01" }), ErrInvalidDate},
		{"february 30", daily(func(r *Rule) { r.Start = "2026-02-30" }), ErrInvalidDate},
		{"not a leap year", daily(func(r *Rule) { r.Start = "2100-02-29" }), ErrInvalidDate},
		{"month 13", daily(func(r *Rule) { r.Start = "2026-13-01" }), ErrInvalidDate},
		{"last century", daily(func(r *Rule) { r.Start = "1999-12-31" }), ErrInvalidDate},
		{"slashes", daily(func(r *Rule) { r.Start = "2026/11/23" }), ErrInvalidDate},
		{"signed", daily(func(r *Rule) { r.Start = "+026-11-23" }), ErrInvalidDate},
		{"full-width digits", daily(func(r *Rule) { r.Start = "２026-11-23" }), ErrInvalidDate},
		{"no time", daily(func(r *Rule) { r.At = "" }), ErrInvalidTime},
		{"one-digit hour is not stored form", daily(func(r *Rule) { r.At = "8:00" }), ErrInvalidTime},
		{"24:00", daily(func(r *Rule) { r.At = "24:00" }), ErrInvalidTime},
		{"minute 60", daily(func(r *Rule) { r.At = "08:60" }), ErrInvalidTime},
		{"seconds", daily(func(r *Rule) { r.At = "08:00:00" }), ErrInvalidTime},
		{"no colon", daily(func(r *Rule) { r.At = "0800" }), ErrInvalidTime},
		{"padded", daily(func(r *Rule) { r.At = " 08:00" }), ErrInvalidTime},
		{"pm", daily(func(r *Rule) { r.At = "8:00pm" }), ErrInvalidTime},
		{"weekly without days", weekly(), ErrInvalidWeekdays},
		{"weekly twice a day", weekly(time.Monday, time.Monday), ErrInvalidWeekdays},
		{"weekday 7", weekly(time.Weekday(7)), ErrInvalidWeekdays},
		{"weekday -1", weekly(time.Weekday(-1)), ErrInvalidWeekdays},
		{"daily with days", daily(func(r *Rule) { r.Weekdays = []time.Weekday{time.Monday} }), ErrInvalidWeekdays},
		{"every 1 day", Rule{Freq: FreqEveryDays, Start: "2026-11-23", At: "08:00", Interval: 1}, ErrInvalidInterval},
		{"every 0 days", Rule{Freq: FreqEveryDays, Start: "2026-11-23", At: "08:00"}, ErrInvalidInterval},
		{"every 366 days", Rule{Freq: FreqEveryDays, Start: "2026-11-23", At: "08:00", Interval: 366}, ErrInvalidInterval},
		{"daily with interval", daily(func(r *Rule) { r.Interval = 2 }), ErrInvalidInterval},
		{"until before start", daily(func(r *Rule) { r.Until = "2026-11-22" }), ErrInvalidUntil},
		{"until malformed", daily(func(r *Rule) { r.Until = "2026-11-31" }), ErrInvalidUntil},
		{"once with until", Rule{Freq: FreqOnce, Start: "2026-11-23", At: "08:00", Until: "2026-11-23"}, ErrInvalidUntil},
		{"unknown zone", daily(func(r *Rule) { r.TimeZone = "Mars/Olympus" }), ErrInvalidTimeZone},
		{"local", daily(func(r *Rule) { r.TimeZone = "Local" }), ErrInvalidTimeZone},
		{"localtime", daily(func(r *Rule) { r.TimeZone = "localtime" }), ErrInvalidTimeZone},
		{"leap-second zone", daily(func(r *Rule) { r.TimeZone = "right/UTC" }), ErrInvalidTimeZone},
		{"path", daily(func(r *Rule) { r.TimeZone = "/etc/localtime" }), ErrInvalidTimeZone},
		{"dot dot", daily(func(r *Rule) { r.TimeZone = "Asia/../Asia/Shanghai" }), ErrInvalidTimeZone},
		{"space", daily(func(r *Rule) { r.TimeZone = "Asia/Shanghai " }), ErrInvalidTimeZone},
		{"too long", daily(func(r *Rule) { r.TimeZone = "Asia/" + strings.Repeat("x", 60) }), ErrInvalidTimeZone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			// The sentinel itself: errors.Is alone cannot tell rule.start from rule.until.
			if err != tt.want || !errors.Is(err, tt.want) && tt.want != nil {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseRule(t *testing.T) {
	days := []time.Weekday{time.Friday, time.Monday, time.Friday, time.Wednesday}
	tests := []struct {
		name    string
		in      Rule
		want    Rule
		wantErr error
	}{
		{"tidied",
			Rule{Freq: " weekly ", Start: " 2026-11-23 ", At: " 8:05 ", Weekdays: days, TimeZone: " "},
			Rule{Freq: FreqWeekly, Start: "2026-11-23", At: "08:05", Weekdays: []time.Weekday{time.Monday, time.Wednesday, time.Friday},
				TimeZone: "Asia/Shanghai"}, nil},
		{"kept", Rule{Freq: FreqEveryDays, Start: "2026-11-23", At: "20:00", Interval: 3, Until: "2027-01-01", TimeZone: "Europe/Berlin"},
			Rule{Freq: FreqEveryDays, Start: "2026-11-23", At: "20:00", Interval: 3, Until: "2027-01-01", TimeZone: "Europe/Berlin"}, nil},
		{"empty weekdays dropped", Rule{Freq: FreqDaily, Start: "2026-11-23", At: "20:00", Weekdays: []time.Weekday{}},
			Rule{Freq: FreqDaily, Start: "2026-11-23", At: "20:00", TimeZone: "Asia/Shanghai"}, nil},
		{"one-digit minute", Rule{Freq: FreqDaily, Start: "2026-11-23", At: "8:5"}, Rule{}, ErrInvalidTime},
		{"three-digit hour", Rule{Freq: FreqDaily, Start: "2026-11-23", At: "108:00"}, Rule{}, ErrInvalidTime},
		{"still invalid", Rule{Freq: FreqDaily, Start: "2026-11-23", At: "08:00", Until: "tomorrow"}, Rule{}, ErrInvalidUntil},
		{"days on daily", Rule{Freq: FreqDaily, Start: "2026-11-23", At: "08:00", Weekdays: days}, Rule{}, ErrInvalidWeekdays},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRule(tt.in)
			if err != tt.wantErr {
				t.Fatalf("ParseRule() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRule() (-want +got):\n%s", diff)
			}
		})
	}
	if want := []time.Weekday{time.Friday, time.Monday, time.Friday, time.Wednesday}; !cmp.Equal(days, want) {
		t.Errorf("ParseRule changed the caller's weekdays: %v", days)
	}
}

// oracle finds the occurrence of r on local date day the slow way, independently of wallInstant:
// the first minute from 15 hours before (more than any zone's offset today) at which the local
// clock reads At or later. That is At itself, its first reading when it comes twice, and the jump
// when it is skipped.
func oracle(loc *time.Location, day time.Time, at string) time.Time {
	h, m := int(at[0]-'0')*10+int(at[1]-'0'), int(at[3]-'0')*10+int(at[4]-'0')
	wall := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, time.UTC)
	for u := wall.Add(-15 * time.Hour); ; u = u.Add(time.Minute) {
		l := u.In(loc)
		if !time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC).Before(wall) {
			return u
		}
	}
}

// picks reports whether r rings on the local date day (a UTC midnight), from the rule's words
// rather than from the code under test.
func picks(r Rule, day time.Time) bool {
	start, _ := time.Parse(time.DateOnly, r.Start)
	if day.Before(start) {
		return false
	}
	if until, err := time.Parse(time.DateOnly, r.Until); err == nil && day.After(until) {
		return false
	}
	switch r.Freq {
	case FreqOnce:
		return day.Equal(start)
	case FreqDaily:
		return true
	case FreqWeekdays:
		return day.Weekday() != time.Saturday && day.Weekday() != time.Sunday
	case FreqWeekly:
		for _, d := range r.Weekdays {
			if d == day.Weekday() {
				return true
			}
		}
		return false
	case FreqEveryDays:
		return int(day.Sub(start).Hours()/24)%r.Interval == 0
	}
	return false
}

// propertyZones have offsets of every sort: none, half and three-quarter hours, DST at midnight
// (Havana, Santiago), half-hour DST (Lord Howe), two-hour DST (Troll), DST that comes and goes
// for Ramadan (Casablanca), the southern hemisphere, and Samoa, which dropped its DST in 2021.
var propertyZones = []string{"Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe",
	"America/Havana", "America/Santiago", "Antarctica/Troll", "Africa/Casablanca", "Pacific/Chatham",
	"Asia/Kolkata", "America/St_Johns", "Pacific/Apia", "Asia/Tehran", "Pacific/Kiritimati", "Pacific/Pago_Pago"}

// randomRule is a valid rule, with times and dates bunched where clocks change.
func randomRule(rng *rand.Rand, zone string, start time.Time) Rule {
	freqs := []Freq{FreqOnce, FreqDaily, FreqWeekdays, FreqWeekly, FreqEveryDays}
	r := Rule{Freq: freqs[rng.IntN(len(freqs))], TimeZone: zone, Start: start.Format(time.DateOnly)}
	if rng.IntN(2) == 0 {
		r.At = []string{"00:00", "00:30", "01:00", "01:30", "02:00", "02:15", "02:30", "03:00", "23:30"}[rng.IntN(9)]
	} else {
		r.At = time.Date(2000, 1, 1, rng.IntN(24), rng.IntN(60), 0, 0, time.UTC).Format("15:04")
	}
	switch r.Freq {
	case FreqWeekly:
		for d := range time.Weekday(7) {
			if rng.IntN(3) == 0 {
				r.Weekdays = append(r.Weekdays, d)
			}
		}
		if len(r.Weekdays) == 0 {
			r.Weekdays = []time.Weekday{time.Weekday(rng.IntN(7))}
		}
	case FreqEveryDays:
		r.Interval = []int{2, 3, 7, 14, 30, 90, 365, 2 + rng.IntN(MaxIntervalDay-1)}[rng.IntN(8)]
	}
	if r.Freq != FreqOnce && rng.IntN(3) == 0 {
		r.Until = start.AddDate(0, 0, rng.IntN(800)).Format(time.DateOnly)
	}
	return r
}

// TestNextProperty checks Next against the oracle for random rules and instants: Next(t) is
// after t, is the rule's occurrence of its day (reading At unless the clocks skipped it), and
// no occurrence lies between t and it.
func TestNextProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2026))
	n := 2000
	if testing.Short() {
		n = 200
	}
	skipped, doubled := 0, 0
	for range n {
		name := propertyZones[rng.IntN(len(propertyZones))]
		loc := zone(t, name)
		// An instant from 2000 to 2040, half the time within a day and a half before a clock
		// change, and a start from a year before it to a month after.
		at := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(40 * 365 * 24 * time.Hour))))
		_, change := at.In(loc).ZoneBounds()
		nearChange := !change.IsZero() && rng.IntN(2) == 0
		if nearChange {
			at = change.Add(-time.Duration(rng.Int64N(int64(36 * time.Hour))))
		}
		if rng.IntN(2) == 0 {
			at = at.Truncate(time.Hour) // and often on an occurrence-like minute
		}
		start := at.Add(time.Duration(rng.Int64N(int64(395*24*time.Hour))) - 365*24*time.Hour).In(loc)
		r := randomRule(rng, name, time.Date(max(start.Year(), 2000), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC))
		if nearChange && rng.IntN(2) == 0 {
			// At within an hour and a half of the reading after the change, in quarters of the
			// wall clock: the times skipped lie before it, the times doubled after it.
			l := change.In(loc)
			wall := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
			r.At = wall.Add(time.Duration(rng.IntN(13)-6) * 15 * time.Minute).Format("15:04")
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("randomRule() = %+v: %v", r, err)
		}
		next, ok := r.Next(at)

		// Scan the days from the one before at's local date: the first oracle occurrence after
		// at is what Next must have found.
		y, m, d := at.In(loc).Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		var want time.Time
		for range 2*MaxIntervalDay + 10 {
			if picks(r, day) {
				if occ := oracle(loc, day, r.At); occ.After(at) {
					want = occ
					break
				}
			}
			day = day.AddDate(0, 0, 1)
		}
		if !ok {
			if !want.IsZero() {
				t.Fatalf("%+v: Next(%v) = none, want %v", r, at, want.In(loc))
			}
			continue
		}
		if !next.After(at) || !next.Equal(want) {
			t.Fatalf("%+v: Next(%v) = %v, want %v", r, at, next.In(loc), want.In(loc))
		}
		l := next.In(loc)
		if l.Format("15:04") != r.At {
			// Only a skipped time may read otherwise, and then next is the jump.
			_, before := next.Add(-time.Second).In(loc).Zone()
			if _, after := l.Zone(); before >= after {
				t.Fatalf("%+v: Next(%v) = %v reads %s and is no jump", r, at, next, l.Format(occLayout))
			}
			skipped++
		}
		for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
			if next.Add(d).In(loc).Format(occLayout[:16]) == l.Format(occLayout[:16]) {
				doubled++
			}
		}
		if next.Second() != 0 || next.Nanosecond() != 0 {
			t.Fatalf("%+v: Next(%v) = %v, not on a minute", r, at, next)
		}
	}
	t.Logf("%d rules: %d rang at a jump, %d on the first of two readings", n, skipped, doubled)
}

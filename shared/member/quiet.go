package member

import (
	"fmt"
	"strings"
	"time"

	"yinling/shared/fail"
)

// ErrInvalidQuietHours is a start or end that is not a time of day, or a start equal to its end
// (which could mean "never quiet" as well as "always quiet").
var ErrInvalidQuietHours = &fail.Error{Kind: fail.Invalid, Code: "invalid_quiet_hours", Field: "quietHours"}

// QuietHours are the local times of day, "HH:MM", between which nothing is sent to a member:
// from Start (included) to End (excluded), crossing midnight when End is before Start. A reminder
// due in quiet hours waits for NextEnd; a promotion is not sent at all.
type QuietHours struct {
	Start string
	End   string
}

// DefaultQuietHours keep evenings and early mornings quiet.
var DefaultQuietHours = QuietHours{Start: "21:00", End: "08:00"}

// ParseQuietHours returns the quiet hours from start to end, each "HH:MM" or "H:MM" (24-hour
// clock, surrounding space ignored), written back as "HH:MM".
func ParseQuietHours(start, end string) (QuietHours, error) {
	s, ok1 := clockMinutes(start)
	e, ok2 := clockMinutes(end)
	if !ok1 || !ok2 || s == e {
		return QuietHours{}, ErrInvalidQuietHours
	}
	return QuietHours{Start: clock(s), End: clock(e)}, nil
}

// Validate checks q as stored or submitted.
func (q QuietHours) Validate() error {
	_, err := ParseQuietHours(q.Start, q.End)
	return err
}

// Contains reports whether t falls in q in loc (nil means DefaultTimeZone). Quiet hours that do
// not parse — a zero value from an old record — count as DefaultQuietHours: when in doubt, stay
// quiet.
func (q QuietHours) Contains(t time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = shanghai
	}
	start, end := q.minutes()
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if start < end {
		return start <= m && m < end
	}
	return m >= start || m < end
}

// NextEnd returns when a message held back at t may go out: t itself if t is not in quiet hours,
// else the next time the clocks of loc (nil means DefaultTimeZone) read End. Clock changes are
// honoured: on the night clocks go forward the quiet hours are an hour shorter; if End is a time
// the clocks skip, they end at the jump; if End comes twice as the clocks go back, the first
// after t counts.
func (q QuietHours) NextEnd(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = shanghai
	}
	if !q.Contains(t, loc) {
		return t
	}
	_, end := q.minutes()
	y, mo, d := t.In(loc).Date()
	for i := 0; i < 3; i++ { // today or tomorrow; a third day only for a zone that skipped one
		for _, c := range wallTimes(y, mo, d+i, end/60, end%60, loc) {
			if c.After(t) {
				return c
			}
		}
	}
	return t.Add(24 * time.Hour) // unreachable: some day ends every quiet period
}

// minutes returns q's bounds in minutes after midnight, or the default's if q does not parse.
func (q QuietHours) minutes() (start, end int) {
	s, ok1 := clockMinutes(q.Start)
	e, ok2 := clockMinutes(q.End)
	if !ok1 || !ok2 || s == e {
		s, _ = clockMinutes(DefaultQuietHours.Start)
		e, _ = clockMinutes(DefaultQuietHours.End)
	}
	return s, e
}

// clockMinutes parses "HH:MM" or "H:MM" into minutes after midnight.
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, ok1 := smallNumber(h)
	mm, ok2 := smallNumber(m)
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

func smallNumber(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// wallTimes returns the instants at which the clocks of loc read hh:mm on the given day: one
// usually; two, in order, when that time comes twice as clocks go back; and when clocks skip it
// going forward, the instant of the jump, which is when that time would have come.
func wallTimes(y int, mo time.Month, d, hh, mm int, loc *time.Location) []time.Time {
	want := time.Date(y, mo, d, hh, mm, 0, 0, time.UTC)
	c := time.Date(y, mo, d, hh, mm, 0, 0, loc)
	start, end := c.ZoneBounds()
	// time.Date picks one of the two zones around a transition without saying which: look at
	// what the clock reads at c, and at the same wall time in the neighbouring zones.
	if got := wall(c); !got.Equal(want) {
		if got.After(want) && !start.IsZero() {
			return []time.Time{start}
		}
		if got.Before(want) && !end.IsZero() {
			return []time.Time{end}
		}
		return []time.Time{c}
	}
	out := []time.Time{c}
	_, off := c.Zone()
	if !start.IsZero() {
		_, prev := start.Add(-time.Second).Zone()
		if alt := c.Add(time.Duration(off-prev) * time.Second); alt.Before(c) && wall(alt).Equal(want) {
			out = []time.Time{alt, c}
		}
	}
	if !end.IsZero() {
		_, next := end.Zone()
		if alt := c.Add(time.Duration(off-next) * time.Second); alt.After(c) && wall(alt).Equal(want) {
			out = append(out, alt)
		}
	}
	return out
}

// wall returns the date and time t's clock shows, as that reading in UTC, for comparing.
func wall(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

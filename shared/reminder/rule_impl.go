package reminder

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image has no zoneinfo; a rule's zone must load anywhere
)

// A rule's dates lie in the years firstYear to lastYear: four digits by the layout, and nothing
// before 2000 serves a reminder (zones then still had offsets in odd seconds, which occurrence
// ids, named by the minute, could not name).
const (
	firstYear = 2000
	lastYear  = 9999
)

// defaultTimeZone is where our stores are: the zone of a rule that names none.
const defaultTimeZone = "Asia/Shanghai"

// maxTimeZoneLen is longer than any IANA name (the longest is 32 bytes).
const maxTimeZoneLen = 64

const secondsPerDay = 24 * 60 * 60

// lastDay is the civil day number of lastYear's last day: Next finds nothing after it, which also
// keeps the day arithmetic far from overflow whatever t it is given.
var lastDay = dayNumber(lastYear, time.December, 31)

// plan is a valid rule read into numbers, so that Next parses nothing twice and allocates
// nothing.
type plan struct {
	freq     Freq
	start    int64 // civil day number of Start
	until    int64 // civil day number of Until, lastDay when there is none
	clock    int64 // At, in seconds after midnight
	days     uint8 // daily, weekdays, weekly: the weekdays picked, bit 1<<time.Weekday
	interval int64 // every_days
	loc      *time.Location
}

const (
	everyDay = 1<<7 - 1
	workDays = everyDay &^ (1<<time.Saturday | 1<<time.Sunday)
)

func (r Rule) validate() error {
	_, err := r.compile()
	return err
}

// compile checks r in its stored form and reads it into a plan. Each fault returns its sentinel
// itself, so callers and tests can tell ErrInvalidDate from ErrInvalidUntil (errors.Is cannot:
// they share a code).
func (r Rule) compile() (plan, error) {
	p := plan{freq: r.Freq}
	switch r.Freq {
	case FreqOnce, FreqDaily, FreqWeekdays, FreqWeekly, FreqEveryDays:
	default:
		return plan{}, ErrInvalidFreq
	}
	var ok bool
	if p.start, ok = parseDate(r.Start); !ok {
		return plan{}, ErrInvalidDate
	}
	if p.clock, ok = parseClock(r.At); !ok {
		return plan{}, ErrInvalidTime
	}
	switch r.Freq {
	case FreqWeekly:
		if len(r.Weekdays) == 0 {
			return plan{}, ErrInvalidWeekdays
		}
		for _, d := range r.Weekdays {
			if d < time.Sunday || d > time.Saturday || p.days&(1<<d) != 0 {
				return plan{}, ErrInvalidWeekdays
			}
			p.days |= 1 << d
		}
	case FreqDaily:
		p.days = everyDay
	case FreqWeekdays:
		p.days = workDays
	}
	if r.Freq != FreqWeekly && len(r.Weekdays) != 0 {
		return plan{}, ErrInvalidWeekdays
	}
	if r.Freq == FreqEveryDays {
		if r.Interval < 2 || r.Interval > MaxIntervalDay {
			return plan{}, ErrInvalidInterval
		}
		p.interval = int64(r.Interval)
	} else if r.Interval != 0 {
		return plan{}, ErrInvalidInterval
	}
	p.until = lastDay
	if r.Until != "" {
		if p.until, ok = parseDate(r.Until); !ok || p.until < p.start || r.Freq == FreqOnce {
			return plan{}, ErrInvalidUntil
		}
	}
	if r.Freq == FreqOnce {
		p.until = p.start
	}
	loc, err := loadZone(r.TimeZone)
	if err != nil {
		return plan{}, err
	}
	p.loc = loc
	return p, nil
}

// maxCandidates bounds the days next looks at. Occurrences grow with their day and the one of
// any day from two after t's local date on is after t, so a handful is always enough; the bound
// only guards against a zone stranger than any in the database.
const maxCandidates = 16

func (r Rule) next(t time.Time) (time.Time, bool) {
	p, err := r.compile()
	if err != nil {
		return time.Time{}, false
	}
	return p.next(t)
}

// next is the first occurrence strictly after t, from the calendar: the first day the rule picks
// from the day before t's local date, then the ones after it.
func (p plan) next(t time.Time) (time.Time, bool) {
	sec := t.Unix()
	if sec >= (lastDay+2)*secondsPerDay {
		return time.Time{}, false
	}
	d := p.start
	if sec > (p.start-2)*secondsPerDay { // else t's local date is before Start, and far from overflow
		_, off := t.In(p.loc).Zone()
		d = max(d, floorDiv(sec+int64(off), secondsPerDay)-1)
	}
	for range maxCandidates {
		var ok bool
		if d, ok = p.firstDayFrom(d); !ok || d > p.until {
			return time.Time{}, false
		}
		if occ := time.Unix(wallInstant(d*secondsPerDay+p.clock, p.loc), 0); occ.After(t) {
			return occ.UTC(), true
		}
		d++
	}
	return time.Time{}, false
}

// firstDayFrom is the first day from d (a civil day number, d ≥ p.start) that p picks. Every
// few days is counted in days from Start, so it jumps straight to the next multiple.
func (p plan) firstDayFrom(d int64) (int64, bool) {
	switch p.freq {
	case FreqOnce:
		return p.start, d <= p.start
	case FreqEveryDays:
		return p.start + (d-p.start+p.interval-1)/p.interval*p.interval, true
	}
	wd := weekday(d)
	for i := range int64(7) {
		if p.days&(1<<((wd+i)%7)) != 0 {
			return d + i, true
		}
	}
	return 0, false
}

// maxOffset is more than any zone's distance from UTC (today at most 14 hours; local mean times
// of the past reached 15:56), so the instants a wall time names lie within it.
const maxOffset = 26 * 60 * 60

// wallInstant is the instant (Unix seconds) at which loc's clocks read wall (seconds of a local
// date and time counted as if it were UTC): the first such instant when the clocks read it twice,
// and the moment of the jump when they skip it. time.Date leaves both cases unspecified (for a
// skipped time it in fact answers the hour before the jump), so it walks the zone's periods
// itself: the first period whose offset puts wall inside it holds the answer; when wall falls
// before the start of a period it was not in the one before either, so the clocks jumped over
// it at that start.
func wallInstant(wall int64, loc *time.Location) int64 {
	u := time.Unix(wall-maxOffset, 0).In(loc)
	var c int64
	for range 8 {
		_, off := u.Zone()
		start, end := u.ZoneBounds()
		c = wall - int64(off)
		if !start.IsZero() && c < start.Unix() {
			return start.Unix()
		}
		if end.IsZero() || c < end.Unix() {
			return c
		}
		u = end
	}
	return c
}

// parseDate reads a "2006-01-02" date into a civil day number (days since 1970-01-01), strictly:
// two-digit month and day, a day the month has, a year from firstYear to lastYear.
func parseDate(s string) (int64, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < firstYear || y > lastYear || m < 1 || m > 12 || d < 1 ||
		d > daysIn(time.Month(m), y) {
		return 0, false
	}
	return dayNumber(y, time.Month(m), d), true
}

// parseClock reads an "HH:MM" time of day, 24-hour clock, into seconds after midnight.
func parseClock(s string) (int64, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, ok1 := digits(s[0:2])
	m, ok2 := digits(s[3:5])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	return int64(h*3600 + m*60), true
}

// digits reads a run of ASCII digits (strconv.Atoi would take a sign).
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// daysIn is the number of days of month m of year y.
func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dayNumber is the civil day number of a date: days since 1970-01-01, in no zone at all.
func dayNumber(y int, m time.Month, d int) int64 {
	return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), secondsPerDay)
}

// weekday is the weekday of civil day d (day 0, 1970-01-01, was a Thursday).
func weekday(d int64) int64 { return floorMod(d+int64(time.Thursday), 7) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// zones memoises loaded zones: time.LoadLocation reads and parses the zone's data on every call
// (tens of microseconds and kilobytes), and Next runs for every reminder the dispatcher sends.
// Only names that loaded are kept, at most maxZones of them (the database has about 600; a
// case-insensitive file system would load every spelling of each).
var zones struct {
	sync.RWMutex
	m map[string]*time.Location
}

const maxZones = 1024

// loadZone loads the IANA zone name ("" is defaultTimeZone) or returns ErrInvalidTimeZone.
// "Local" and "localtime" would mean whatever zone the server runs in, and "right/…" and
// "posix/…" exist only on some hosts' zoneinfo (the right/ ones count leap seconds), so they are
// refused: a rule valid on a laptop must be valid on Lambda, which has only time/tzdata.
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		name = defaultTimeZone
	}
	zones.RLock()
	loc, ok := zones.m[name]
	zones.RUnlock()
	if ok {
		return loc, nil
	}
	if len(name) > maxTimeZoneLen || !zoneName(name) || strings.EqualFold(name, "Local") ||
		strings.EqualFold(name, "localtime") || strings.HasPrefix(name, "right/") ||
		strings.HasPrefix(name, "posix/") || name == "posixrules" {
		return nil, ErrInvalidTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, ErrInvalidTimeZone
	}
	zones.Lock()
	if zones.m == nil {
		zones.m = make(map[string]*time.Location)
	}
	if len(zones.m) < maxZones {
		zones.m[name] = loc
	}
	zones.Unlock()
	return loc, nil
}

// zoneName reports whether s has only the characters of IANA names, so nothing that looks like
// a path reaches the loader.
func zoneName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '/' || c == '_' || c == '-' || c == '+') {
			return false
		}
	}
	return s != "" && s[0] != '/' && !strings.Contains(s, "..")
}

package reminder

import "time"

// Freq is how a rule repeats.
type Freq string

// Frequencies.
const (
	FreqOnce      Freq = "once"
	FreqDaily     Freq = "daily"
	FreqWeekdays  Freq = "weekdays"   // Monday to Friday
	FreqWeekly    Freq = "weekly"     // on the chosen Weekdays
	FreqEveryDays Freq = "every_days" // every Interval days from Start
)

// Rule says when a reminder rings: at local time At on the days the frequency picks, from the
// local date Start to the local date Until (inclusive; "" means no end), in TimeZone.
type Rule struct {
	Freq     Freq
	Start    string         // local date "2006-01-02": the first day (the only one for FreqOnce)
	At       string         // local time of day "HH:MM", 24-hour clock
	Weekdays []time.Weekday // FreqWeekly: the days, each once, in any order
	Interval int            // FreqEveryDays: N ≥ 2
	Until    string         // local date "2006-01-02", or ""
	TimeZone string         // IANA name; "" is Asia/Shanghai
}

// Validate checks r as submitted. (Implementation: rule_impl.go.)
func (r Rule) Validate() error { return r.validate() }

// Next returns the first occurrence strictly after t, and false when the rule has none (a
// one-off already past, or past Until). A local time the clocks skip rings at the jump; a local
// time that comes twice rings the first time.
func (r Rule) Next(t time.Time) (time.Time, bool) { return r.next(t) }

package reminder

import (
	"testing"
	"time"
)

// FuzzRule builds a rule from anything: ParseRule never panics, refuses with one of the rule's
// errors, and a rule it accepts is stable (parsing it again changes nothing) and has a Next that
// ends and lies after t.
func FuzzRule(f *testing.F) {
	f.Add("daily", "2026-11-23", "8:00", []byte{}, 0, "", "", int64(1795392000))
	f.Add("weekly", " 2028-02-29", "07:30", []byte{1, 3, 5, 1}, 0, "2029-01-01", "Asia/Shanghai", int64(1830000000))
	f.Add("every_days", "2026-01-01", "23:59", []byte{}, 365, "", "America/New_York", int64(1772953200))
	f.Add("every_days", "2026-03-06", "02:30", []byte{}, 2, "", "America/New_York", int64(1772953200))
	f.Add("once", "2026-11-01", "01:30", []byte{}, 0, "", "America/New_York", int64(1793511000))
	f.Add("weekdays", "2000-01-01", "00:00", []byte{}, 0, "9999-12-31", "Australia/Lord_Howe", int64(253402214400))
	f.Add("weekly", "2026-11-23", "24:00", []byte{7, 255}, -1, "2026-11-22", "../etc/passwd", int64(-1))
	f.Fuzz(func(t *testing.T, freq, start, at string, weekdays []byte, interval int, until, zone string, sec int64) {
		in := Rule{Freq: Freq(freq), Start: start, At: at, Interval: interval, Until: until, TimeZone: zone}
		for _, b := range weekdays {
			in.Weekdays = append(in.Weekdays, time.Weekday(int8(b)))
		}
		r, err := ParseRule(in)
		if err != nil {
			switch err {
			case ErrInvalidFreq, ErrInvalidDate, ErrInvalidTime, ErrInvalidWeekdays, ErrInvalidInterval,
				ErrInvalidUntil, ErrInvalidTimeZone:
			default:
				t.Fatalf("ParseRule(%+v) error = %v", in, err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("ParseRule(%+v) = %+v, which Validate refuses: %v", in, r, err)
		}
		if again, err := ParseRule(r); err != nil || !sameRule(again, r) {
			t.Fatalf("ParseRule(%+v) = %+v, then %+v, %v", in, r, again, err)
		}
		from := time.Unix(sec, 0)
		next, ok := r.Next(from)
		if !ok {
			return
		}
		if !next.After(from) {
			t.Fatalf("%+v: Next(%v) = %v", r, from, next)
		}
		if after, ok := r.Next(next); ok && !after.After(next) {
			t.Fatalf("%+v: Next(%v) = %v", r, next, after)
		}
	})
}

// FuzzOccurrenceID: reading an id never panics, and an id read back names the same minute.
func FuzzOccurrenceID(f *testing.F) {
	for _, s := range []string{"20261123T0000Z", "20261101T0530Z", "20260229T0000Z", "20261123T2400Z", "", "99991231T2359Z"} {
		f.Add(s, int64(1795392000))
	}
	f.Fuzz(func(t *testing.T, s string, sec int64) {
		if at, err := ParseOccurrenceID(s); err == nil {
			if id := OccurrenceID(at); id != s {
				t.Fatalf("ParseOccurrenceID(%q) = %v, whose id is %q", s, at, id)
			}
		} else if err != ErrNothingToAck {
			t.Fatalf("ParseOccurrenceID(%q) error = %v", s, err)
		}
		// Any instant with a four-digit year comes back as its minute.
		at := time.Unix(sec, 0)
		if y := at.UTC().Year(); y < 0 || y > 9999 {
			return
		}
		back, err := ParseOccurrenceID(OccurrenceID(at))
		if err != nil || !back.Equal(at.Truncate(time.Minute)) {
			t.Fatalf("ParseOccurrenceID(OccurrenceID(%v)) = %v, %v", at, back, err)
		}
	})
}

package reminder

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ParseRule returns r as submitted, tidied into its stored form and validated: surrounding space
// trimmed, At "8:00" written "08:00", Weekdays sorted with repeats dropped, an empty TimeZone
// made Asia/Shanghai. What remains wrong is refused with the field's error, as Validate does.
func ParseRule(r Rule) (Rule, error) {
	r.Freq = Freq(strings.TrimSpace(string(r.Freq)))
	r.Start = strings.TrimSpace(r.Start)
	r.Until = strings.TrimSpace(r.Until)
	r.At = strings.TrimSpace(r.At)
	if len(r.At) == 4 && r.At[1] == ':' {
		r.At = "0" + r.At
	}
	r.Weekdays = weekdaySet(r.Weekdays)
	r.TimeZone = strings.TrimSpace(r.TimeZone)
	if r.TimeZone == "" {
		r.TimeZone = defaultTimeZone
	}
	if err := r.validate(); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// New returns the reminder d describes, active, with its first occurrence after now. The caller
// sets who it belongs to and who made it (ID, StoreID, MemberID, CreatedBy, CreatedVia).
func New(d Draft, now time.Time) (Reminder, error) {
	kind, err := ParseKind(string(d.Kind))
	if err != nil {
		return Reminder{}, err
	}
	text, err := validContent(d.Text, d.ClipKey)
	if err != nil {
		return Reminder{}, err
	}
	rule, err := ParseRule(d.Rule)
	if err != nil {
		return Reminder{}, err
	}
	next, ok := rule.Next(now)
	if !ok {
		return Reminder{}, ErrNoOccurrence
	}
	now = now.UTC().Truncate(time.Second)
	return Reminder{
		Kind:      kind,
		Text:      text,
		ClipKey:   d.ClipKey,
		Rule:      rule,
		Status:    StatusActive,
		NextAt:    next,
		CreatedAt: now,
		UpdatedAt: now,
	}, nil
}

// Apply returns r with p applied and validated as New validates a draft. A cancelled or done
// reminder changes no more (ErrCancelled). The next occurrence is found again from now when the
// rule changes or the reminder resumes; a paused reminder has none. An empty patch returns r as
// it was. The caller sets UpdatedBy and UpdatedVia.
func (r Reminder) Apply(p Patch, now time.Time) (Reminder, error) {
	if r.Status == StatusCancelled || r.Status == StatusDone {
		return Reminder{}, ErrCancelled
	}
	if p.Kind == nil && p.Text == nil && p.ClipKey == nil && p.Rule == nil && p.Status == nil {
		return r, nil
	}
	if p.Kind != nil {
		kind, err := ParseKind(string(*p.Kind))
		if err != nil {
			return Reminder{}, err
		}
		r.Kind = kind
	}
	if p.Text != nil || p.ClipKey != nil {
		text, clip := r.Text, r.ClipKey
		if p.Text != nil {
			text = *p.Text
		}
		if p.ClipKey != nil {
			clip = *p.ClipKey
		}
		var err error
		if r.Text, err = validContent(text, clip); err != nil {
			return Reminder{}, err
		}
		r.ClipKey = clip
	}
	resume := false
	if p.Status != nil {
		switch *p.Status {
		case StatusActive:
			resume = r.Status != StatusActive
		case StatusPaused:
		default:
			return Reminder{}, ErrInvalidStatus
		}
		r.Status = *p.Status
	}
	ruleChanged := false
	if p.Rule != nil {
		rule, err := ParseRule(*p.Rule)
		if err != nil {
			return Reminder{}, err
		}
		ruleChanged = !sameRule(rule, r.Rule)
		r.Rule = rule
	}
	if ruleChanged || resume {
		// Checked even when the reminder stays paused: a rule that can never ring again is a
		// mistake to tell the caller now, not when they resume.
		next, ok := r.Rule.Next(now)
		if !ok {
			return Reminder{}, ErrNoOccurrence
		}
		r.NextAt = next
	}
	if r.Status == StatusPaused {
		r.NextAt = time.Time{}
	}
	r.UpdatedAt = now.UTC().Truncate(time.Second)
	return r, nil
}

// Cancel returns r cancelled: it never rings again and changes no more.
func (r Reminder) Cancel(now time.Time) Reminder {
	r.Status = StatusCancelled
	r.NextAt = time.Time{}
	r.UpdatedAt = now.UTC().Truncate(time.Second)
	return r
}

// Advance returns r once the dispatcher has sent occurrence occ: LastAt is occ and NextAt the
// first occurrence after both occ and now, so after an outage the reminder rings once for what it
// missed rather than once per missed day. A rule with nothing left makes it done. A reminder
// that is no longer active (paused or cancelled meanwhile) keeps its status and no NextAt.
// UpdatedAt stays: this is the dispatcher's bookkeeping, not a change anyone made.
func (r Reminder) Advance(occ, now time.Time) Reminder {
	r.LastAt = occ
	if r.Status != StatusActive {
		r.NextAt = time.Time{}
		return r
	}
	next, ok := r.Rule.Next(later(occ, now))
	if !ok {
		r.Status = StatusDone
		next = time.Time{}
	}
	r.NextAt = next
	return r
}

// Late reports whether something due at due is too late to send at now (MaxLateness): the
// dispatcher, catching up after an outage, marks it so and the sender records it as expired.
func Late(due, now time.Time) bool { return now.Sub(due) > MaxLateness }

// Location returns the zone of r's rule, the one its times are shown in (Asia/Shanghai if the
// stored name no longer loads).
func (r Reminder) Location() *time.Location {
	if loc, err := loadZone(r.Rule.TimeZone); err == nil {
		return loc
	}
	loc, _ := loadZone(defaultTimeZone)
	return loc
}

// ValidClipKey reports whether key can be the S3 key of a recorded clip.
func ValidClipKey(key string) bool { return clipKeyPattern.MatchString(key) }

// clipKeyPattern is the S3 key of a recorded clip: uploads/<store>/<clip>.<audio type> as uploaded, clips/… once a reminder claimed it (shared/voice).
var clipKeyPattern = regexp.MustCompile(`^(uploads|clips)/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,64}\.(webm|ogg|m4a|mp3|wav)$`)

// validContent checks a reminder's text and clip together and returns the text trimmed: the text
// is what a call speaks and an SMS carries, so it has no control characters and at most
// MaxTextLen runes; it may be empty only when a recorded clip is spoken instead.
func validContent(text, clip string) (string, error) {
	if clip != "" && !clipKeyPattern.MatchString(clip) {
		return "", ErrInvalidClip
	}
	text = strings.TrimSpace(text)
	if text == "" {
		if clip == "" {
			return "", ErrInvalidText
		}
		return "", nil
	}
	if !utf8.ValidString(text) || strings.ContainsFunc(text, unicode.IsControl) {
		return "", ErrInvalidText
	}
	if utf8.RuneCountInString(text) > MaxTextLen {
		return "", ErrTextTooLong
	}
	return text, nil
}

// weekdaySet returns days sorted, each once, in a new slice (the caller's stays as it was), nil
// for none. A day out of range leaves them as they are, for validate to refuse. It takes time in
// proportion to len(days), however many a client sends.
func weekdaySet(days []time.Weekday) []time.Weekday {
	var set uint8
	for _, d := range days {
		if d < time.Sunday || d > time.Saturday {
			return days
		}
		set |= 1 << d
	}
	var out []time.Weekday
	for d := time.Sunday; d <= time.Saturday; d++ {
		if set&(1<<d) != 0 {
			out = append(out, d)
		}
	}
	return out
}

// sameRule reports whether a and b are the same rule in stored form.
func sameRule(a, b Rule) bool {
	return a.Freq == b.Freq && a.Start == b.Start && a.At == b.At && slices.Equal(a.Weekdays, b.Weekdays) &&
		a.Interval == b.Interval && a.Until == b.Until && a.TimeZone == b.TimeZone
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

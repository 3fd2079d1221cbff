package reminder

import "time"

// Ladder is how an unacknowledged occurrence is chased: Retries more calls Spacing apart, then
// (if Family) an alert to every family link that asked for alerts, then (if Staff) an alert to
// the store's staff, each step Spacing after the one before. An acknowledgement at any point
// stops the ladder.
type Ladder struct {
	Retries int
	Spacing time.Duration
	Family  bool
	Staff   bool
}

// Defaults of the ladder.
const (
	DefaultRetries = 2
	DefaultSpacing = 10 * time.Minute
	MaxRetries     = 5
	// MaxSpacing is SQS's longest message delay: each step of the ladder is one delayed message.
	MaxSpacing = 15 * time.Minute
)

// Ladders are the ladders per kind. A medication left unanswered matters most; an event
// reminder is retried once and goes no further.
type Ladders map[Kind]Ladder

// DefaultLadders returns the ladders with retries and spacing as given (the function's
// configuration), clamped to 0..MaxRetries and 1s..MaxSpacing.
func DefaultLadders(retries int, spacing time.Duration) Ladders {
	retries = max(0, min(retries, MaxRetries))
	spacing = max(time.Second, min(spacing, MaxSpacing))
	return Ladders{
		KindMedication: {Retries: retries, Spacing: spacing, Family: true, Staff: true},
		KindCheckup:    {Retries: retries, Spacing: spacing, Family: true},
		KindEvent:      {Retries: min(retries, 1), Spacing: spacing},
		KindCustom:     {Retries: min(retries, 1), Spacing: spacing},
	}
}

// For returns the ladder of kind k (an unknown kind is not chased).
func (l Ladders) For(k Kind) Ladder { return l[k] }

// Stage is a step of the ladder, carried by each ack-check message.
type Stage string

// Stages.
const (
	StageRetry  Stage = "retry"  // check after a call; retry if unanswered
	StageFamily Stage = "family" // retries used up: alert the family
	StageStaff  Stage = "staff"  // the family was told: alert staff
)

// After returns what to do when the occurrence is still unacknowledged at a check of stage s
// that followed attempt (0 is the first call): the next stage, and false when the ladder ends.
func (l Ladder) After(s Stage, attempt int) (Stage, bool) {
	switch s {
	case StageRetry:
		if attempt < l.Retries {
			return StageRetry, true
		}
		if l.Family {
			return StageFamily, true
		}
		if l.Staff {
			return StageStaff, true
		}
	case StageFamily:
		if l.Staff {
			return StageStaff, true
		}
	}
	return "", false
}

// NeedsHealthConsent reports whether k reveals health information (PIPL: sensitive), so it
// may be sent only to a member who granted the health consent.
func (k Kind) NeedsHealthConsent() bool { return k == KindMedication || k == KindCheckup }

// RingsInQuietHours reports whether k is sent even in the member's quiet hours: only
// medication, whose time matters more than sleep. Others wait for the quiet hours to end.
func (k Kind) RingsInQuietHours() bool { return k == KindMedication }

// ParseKind returns s as a Kind.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", ErrInvalidKind
}

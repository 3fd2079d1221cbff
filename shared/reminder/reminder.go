// Package reminder owns what a reminder is — the rules only, with no knowledge of where reminders
// are stored or how they travel: its kind, its text or recorded clip, when it recurs (rule.go),
// how an unanswered one is chased (ladder.go) and the names of its occurrences.
//
// A reminder belongs to one member of one store and is created by the member, by a family link
// with helper scope, or by staff (for one member, or for every member of a group at once). Its
// occurrences are instants: the rule's local time of day on the rule's days, in the rule's time
// zone, computed from the calendar every time — never by adding durations to the previous one —
// so they never drift across months, leap days or clock changes.
package reminder

import (
	"time"

	"yinling/shared/fail"
)

// Kind is what a reminder is about. It decides the consent it needs, whether it may break quiet
// hours, and its escalation ladder.
type Kind string

// Kinds.
const (
	KindMedication Kind = "medication" // 吃药: health consent; rings through quiet hours
	KindCheckup    Kind = "checkup"    // 复查/体检: health consent
	KindEvent      Kind = "event"      // 活动, e.g. tomorrow's doctor Q&A
	KindCustom     Kind = "custom"
)

// Kinds lists every kind, in the order pages offer them.
var Kinds = []Kind{KindMedication, KindCheckup, KindEvent, KindCustom}

// Status is where a reminder is in its life.
type Status string

// Statuses. Only an active reminder has a next occurrence that the dispatcher will find.
const (
	StatusActive    Status = "active"
	StatusPaused    Status = "paused"
	StatusCancelled Status = "cancelled"
	StatusDone      Status = "done" // a one-off that was sent, or a rule past its end date
)

// Via says who created or last changed a reminder, for the audit trail the senior sees.
type Via string

// Vias.
const (
	ViaMember Via = "member"
	ViaFamily Via = "family" // a helper-scope family link, by its id
	ViaStaff  Via = "staff"
)

// Limits.
const (
	MaxTextLen     = 200 // runes: a voice call speaks it, and it must fit an SMS with the link
	MaxIntervalDay = 365 // every N days, N from 2 to this
	// MaxPerMember bounds a senior's active and paused reminders: each one can ring their phone.
	MaxPerMember = 30
	// MaxLateness is how late a missed occurrence may still be sent after an outage; an older one
	// is recorded as expired instead — a medication reminder hours late could cause a double dose.
	MaxLateness = 2 * time.Hour
)

// Reminder is one reminder of one member.
type Reminder struct {
	ID       string
	StoreID  string
	MemberID string
	Kind     Kind
	Text     string
	// ClipKey is the S3 key of a recorded voice clip, "" when the text is spoken instead.
	ClipKey string
	Rule    Rule
	Status  Status
	// NextAt is the next occurrence the dispatcher will send: zero unless Status is active.
	NextAt time.Time
	// LastAt is the latest occurrence that was dispatched: the one "收到 / Done" acknowledges.
	LastAt time.Time
	// GroupID and BroadcastID are set on reminders staff sent to a whole group at once.
	GroupID     string
	BroadcastID string
	// SessionID is set on the reminders a Q&A booking made (shared/qa): its page links to the
	// booking, where it can be cancelled.
	SessionID  string
	CreatedBy  string // member id, family link id or staff id
	CreatedVia Via
	UpdatedBy  string
	UpdatedVia Via
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Draft is what a member, a family helper or staff submits to create a reminder.
type Draft struct {
	Kind    Kind
	Text    string
	ClipKey string
	Rule    Rule
}

// Patch is a change to a reminder; nil fields stay as they are. Status may only be set to
// active (resume) or paused; cancelling is its own operation.
type Patch struct {
	Kind    *Kind
	Text    *string
	ClipKey *string // "" removes the clip
	Rule    *Rule
	Status  *Status
}

// Errors a caller can cause.
var (
	ErrNotFound        = &fail.Error{Kind: fail.NotFound, Code: "reminder_not_found"}
	ErrInvalidKind     = &fail.Error{Kind: fail.Invalid, Code: "invalid_kind", Field: "kind"}
	ErrInvalidText     = &fail.Error{Kind: fail.Invalid, Code: "invalid_text", Field: "text"}
	ErrTextTooLong     = &fail.Error{Kind: fail.Invalid, Code: "too_long", Field: "text"}
	ErrInvalidFreq     = &fail.Error{Kind: fail.Invalid, Code: "invalid_recurrence", Field: "rule.freq"}
	ErrInvalidDate     = &fail.Error{Kind: fail.Invalid, Code: "invalid_date", Field: "rule.start"}
	ErrInvalidUntil    = &fail.Error{Kind: fail.Invalid, Code: "invalid_date", Field: "rule.until"}
	ErrInvalidTime     = &fail.Error{Kind: fail.Invalid, Code: "invalid_time", Field: "rule.at"}
	ErrInvalidWeekdays = &fail.Error{Kind: fail.Invalid, Code: "invalid_recurrence", Field: "rule.weekdays"}
	ErrInvalidInterval = &fail.Error{Kind: fail.Invalid, Code: "invalid_recurrence", Field: "rule.interval"}
	ErrInvalidTimeZone = &fail.Error{Kind: fail.Invalid, Code: "invalid_time_zone", Field: "rule.timeZone"}
	ErrNoOccurrence    = &fail.Error{Kind: fail.Invalid, Code: "no_occurrence", Field: "rule"}
	ErrInvalidStatus   = &fail.Error{Kind: fail.Invalid, Code: "invalid_reminder_status", Field: "status"}
	ErrInvalidClip     = &fail.Error{Kind: fail.Invalid, Code: "invalid_clip", Field: "clipKey"}
	ErrTooMany         = &fail.Error{Kind: fail.Conflict, Code: "too_many_reminders"}
	ErrCancelled       = &fail.Error{Kind: fail.Conflict, Code: "reminder_cancelled"}
	ErrNothingToAck    = &fail.Error{Kind: fail.Conflict, Code: "nothing_to_acknowledge"}
	ErrConsentRequired = &fail.Error{Kind: fail.Invalid, Code: "health_consent_required", Field: "kind"}
)

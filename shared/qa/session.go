package qa

import (
	"slices"
	"time"

	"yinling/shared/fail"
	"yinling/shared/field"
)

// Session is one doctor's Q&A session at one store. Confirmed and Waiting are the table's
// counts: seats taken, and members on the waitlist.
type Session struct {
	ID       string
	StoreID  string
	DoctorID string
	// Doctor is the doctor as they were when the session was made, so that a list of sessions
	// and every reminder text needs no second read.
	Doctor   Doctor
	Title    string
	StartAt  time.Time
	EndAt    time.Time
	TimeZone string // IANA name: the store's; times are shown and spoken in it
	Place    Place
	Capacity int
	// Booking is open from OpensAt until ClosesAt (before the start).
	OpensAt  time.Time
	ClosesAt time.Time
	// TargetGroups are the groups whose members may book; none means every member of the store.
	TargetGroups []string
	Notes        string
	// RemindBefore are when each confirmed booking is reminded, before the start: by default
	// the day before and an hour before.
	RemindBefore []time.Duration
	// MaxUpcoming, if not 0, refuses a member who already holds that many upcoming bookings.
	MaxUpcoming int
	Status      SessionStatus
	Confirmed   int
	Waiting     int
	Attended    int
	NoShow      int
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CancelledAt time.Time
}

// Place is where a session happens: in the store (Address says where in it), or online (URL).
type Place struct {
	Kind    PlaceKind
	Address string
	URL     string
}

// PlaceKind says whether a session is in the store or online.
type PlaceKind string

// Place kinds.
const (
	PlaceStore  PlaceKind = "store"
	PlaceOnline PlaceKind = "online"
)

// SessionStatus is where a session is in its life. A session that has ended is still
// "scheduled": time, not status, says it is past.
type SessionStatus string

// Session statuses.
const (
	SessionScheduled SessionStatus = "scheduled"
	SessionCancelled SessionStatus = "cancelled"
)

// SessionDraft is what staff submit to create a session. Zero optional fields take defaults.
type SessionDraft struct {
	DoctorID     string
	Title        string
	StartAt      time.Time
	EndAt        time.Time
	Place        Place
	Capacity     int
	OpensAt      time.Time // zero: now
	ClosesAt     time.Time // zero: DefaultCloseBefore before the start
	TargetGroups []string
	Notes        string
	RemindBefore []time.Duration // nil: DefaultRemindBefore; empty: no reminders
	MaxUpcoming  int
}

// SessionPatch changes a session; nil fields stay as they are. The time of a session that has
// bookings does not change (ErrSessionHasBookings): each booking's reminders were set for it.
type SessionPatch struct {
	Title        *string
	StartAt      *time.Time
	EndAt        *time.Time
	Place        *Place
	Capacity     *int
	OpensAt      *time.Time
	ClosesAt     *time.Time
	TargetGroups *[]string
	Notes        *string
	RemindBefore *[]time.Duration
	MaxUpcoming  *int
}

// Limits and defaults of sessions.
const (
	MaxTitleLen     = 60
	MaxPlaceLen     = 100
	MaxNotesLen     = 500
	MaxCapacity     = 500
	MaxTargetGroups = 10
	MaxReminders    = 3
	MaxDuration     = 8 * time.Hour
	// MaxAhead bounds how far ahead a session is scheduled: a typo in the year is refused.
	MaxAhead = 366 * 24 * time.Hour
	// DefaultCloseBefore closes booking two hours before the start, so staff can print the
	// question digest for the doctor.
	DefaultCloseBefore = 2 * time.Hour
	// MaxUpcomingLimit bounds MaxUpcoming.
	MaxUpcomingLimit = 20
	// MinRemindBefore and MaxRemindBefore bound each reminder's lead time.
	MinRemindBefore = 10 * time.Minute
	MaxRemindBefore = 7 * 24 * time.Hour
)

// DefaultRemindBefore reminds the day before and an hour before.
var DefaultRemindBefore = []time.Duration{24 * time.Hour, time.Hour}

// Errors about sessions a caller can cause. None changes anything.
var (
	ErrSessionNotFound    = &fail.Error{Kind: fail.NotFound, Code: "session_not_found"}
	ErrInvalidStart       = &fail.Error{Kind: fail.Invalid, Code: "invalid_start", Field: "startAt"}
	ErrInvalidEnd         = &fail.Error{Kind: fail.Invalid, Code: "invalid_end", Field: "endAt"}
	ErrInvalidCapacity    = &fail.Error{Kind: fail.Invalid, Code: "invalid_capacity", Field: "capacity"}
	ErrInvalidPlace       = &fail.Error{Kind: fail.Invalid, Code: "invalid_place", Field: "place.kind"}
	ErrPlaceURLRequired   = &fail.Error{Kind: fail.Invalid, Code: "online_url_required", Field: "place.url"}
	ErrInvalidWindow      = &fail.Error{Kind: fail.Invalid, Code: "invalid_booking_window", Field: "closesAt"}
	ErrTooManyTargets     = &fail.Error{Kind: fail.Invalid, Code: "too_many_groups", Field: "targetGroups"}
	ErrInvalidRemind      = &fail.Error{Kind: fail.Invalid, Code: "invalid_remind_before", Field: "remindBefore"}
	ErrInvalidMaxUpcoming = &fail.Error{Kind: fail.Invalid, Code: "invalid_max_upcoming", Field: "maxUpcoming"}
	ErrSessionCancelled   = &fail.Error{Kind: fail.Conflict, Code: "session_cancelled"}
	ErrSessionPast        = &fail.Error{Kind: fail.Conflict, Code: "session_past"}
	// ErrCapacityBelowBookings refuses a capacity smaller than the seats already taken: cancel
	// bookings first, and say sorry to each.
	ErrCapacityBelowBookings = &fail.Error{Kind: fail.Conflict, Code: "capacity_below_bookings", Field: "capacity"}
	ErrSessionHasBookings    = &fail.Error{Kind: fail.Conflict, Code: "session_has_bookings", Field: "startAt"}
	ErrEmptyPatch            = &fail.Error{Kind: fail.Invalid, Code: "empty_update"}
)

// NewSession validates d for a store in zone tz and returns the session it describes, with the
// doctor's details copied in. The caller sets ID, StoreID and CreatedBy.
func NewSession(d SessionDraft, doc Doctor, tz string, now time.Time) (Session, error) {
	now = now.UTC().Truncate(time.Second)
	s := Session{DoctorID: doc.ID, Doctor: doc, TimeZone: tz, Status: SessionScheduled, CreatedAt: now, UpdatedAt: now}
	var err error
	if s.Title, err = field.Line(d.Title, MaxTitleLen, "title", true); err != nil {
		return Session{}, err
	}
	s.StartAt, s.EndAt = minute(d.StartAt), minute(d.EndAt)
	s.Place, s.Capacity, s.TargetGroups = d.Place, d.Capacity, d.TargetGroups
	s.OpensAt, s.ClosesAt = minute(d.OpensAt), minute(d.ClosesAt)
	if s.OpensAt.IsZero() {
		s.OpensAt = now
	}
	if s.ClosesAt.IsZero() {
		s.ClosesAt = s.StartAt.Add(-DefaultCloseBefore)
	}
	if s.Notes, err = field.Text(d.Notes, MaxNotesLen, "notes", false); err != nil {
		return Session{}, err
	}
	s.RemindBefore = d.RemindBefore
	if s.RemindBefore == nil {
		s.RemindBefore = DefaultRemindBefore
	}
	s.MaxUpcoming = d.MaxUpcoming
	if err := s.validate(now); err != nil {
		return Session{}, err
	}
	return s, nil
}

// Apply returns s with p applied and validated as NewSession validates a draft. A cancelled
// session changes no more; one that has started neither. Capacity is checked against the seats
// taken by the caller's copy here, and again by the table, which holds the live count.
func (s Session) Apply(p SessionPatch, now time.Time) (Session, error) {
	now = now.UTC().Truncate(time.Second)
	if s.Status == SessionCancelled {
		return Session{}, ErrSessionCancelled
	}
	if s.Past(now) {
		return Session{}, ErrSessionPast
	}
	if p == (SessionPatch{}) {
		return Session{}, ErrEmptyPatch
	}
	var err error
	if p.Title != nil {
		if s.Title, err = field.Line(*p.Title, MaxTitleLen, "title", true); err != nil {
			return Session{}, err
		}
	}
	timeChanged := false
	if p.StartAt != nil && !minute(*p.StartAt).Equal(s.StartAt) {
		s.StartAt, timeChanged = minute(*p.StartAt), true
	}
	if p.EndAt != nil {
		s.EndAt = minute(*p.EndAt)
	}
	if timeChanged && s.Confirmed+s.Waiting > 0 {
		return Session{}, ErrSessionHasBookings
	}
	if p.Place != nil {
		s.Place = *p.Place
	}
	if p.Capacity != nil {
		s.Capacity = *p.Capacity
	}
	if p.OpensAt != nil {
		s.OpensAt = minute(*p.OpensAt)
	}
	if p.ClosesAt != nil {
		s.ClosesAt = minute(*p.ClosesAt)
	} else if timeChanged {
		s.ClosesAt = s.StartAt.Add(-DefaultCloseBefore)
	}
	if p.TargetGroups != nil {
		s.TargetGroups = *p.TargetGroups
	}
	if p.Notes != nil {
		if s.Notes, err = field.Text(*p.Notes, MaxNotesLen, "notes", false); err != nil {
			return Session{}, err
		}
	}
	if p.RemindBefore != nil {
		s.RemindBefore = *p.RemindBefore
	}
	if p.MaxUpcoming != nil {
		s.MaxUpcoming = *p.MaxUpcoming
	}
	if err := s.validate(now); err != nil {
		return Session{}, err
	}
	if s.Capacity < s.Confirmed {
		return Session{}, ErrCapacityBelowBookings
	}
	s.UpdatedAt = now
	return s, nil
}

// validate checks what NewSession and Apply both require; it tidies Place, TargetGroups and
// RemindBefore into their stored form.
func (s *Session) validate(now time.Time) error {
	if s.StartAt.IsZero() || !s.StartAt.After(now) || s.StartAt.After(now.Add(MaxAhead)) {
		return ErrInvalidStart
	}
	if !s.EndAt.After(s.StartAt) || s.EndAt.Sub(s.StartAt) > MaxDuration {
		return ErrInvalidEnd
	}
	if err := s.Place.validate(); err != nil {
		return err
	}
	if s.Capacity < 1 || s.Capacity > MaxCapacity {
		return ErrInvalidCapacity
	}
	if s.ClosesAt.After(s.StartAt) || !s.OpensAt.Before(s.ClosesAt) {
		return ErrInvalidWindow
	}
	groups := slices.Clone(s.TargetGroups)
	slices.Sort(groups)
	s.TargetGroups = slices.Compact(groups)
	if len(s.TargetGroups) > MaxTargetGroups {
		return ErrTooManyTargets
	}
	if len(s.TargetGroups) == 0 {
		s.TargetGroups = nil
	}
	if len(s.RemindBefore) > MaxReminders {
		return ErrInvalidRemind
	}
	before := slices.Clone(s.RemindBefore)
	for _, d := range before {
		if d < MinRemindBefore || d > MaxRemindBefore || d%time.Minute != 0 {
			return ErrInvalidRemind
		}
	}
	slices.SortFunc(before, func(a, b time.Duration) int { return int((b - a) / time.Minute) })
	s.RemindBefore = slices.Compact(before)
	if s.MaxUpcoming < 0 || s.MaxUpcoming > MaxUpcomingLimit {
		return ErrInvalidMaxUpcoming
	}
	return nil
}

func (p *Place) validate() error {
	var err error
	switch p.Kind {
	case PlaceStore:
		p.URL = ""
		p.Address, err = field.Line(p.Address, MaxPlaceLen, "place.address", false)
	case PlaceOnline:
		if p.URL, err = field.HTTPS(p.URL, "place.url"); err == nil && p.URL == "" {
			err = ErrPlaceURLRequired
		}
		if err == nil {
			p.Address, err = field.Line(p.Address, MaxPlaceLen, "place.address", false)
		}
	default:
		return ErrInvalidPlace
	}
	return err
}

// SeatsLeft is how many seats are free.
func (s Session) SeatsLeft() int { return max(0, s.Capacity-s.Confirmed) }

// Past reports whether s has started: a past session is neither booked nor changed.
func (s Session) Past(now time.Time) bool { return !now.Before(s.StartAt) }

// Open reports whether s takes bookings at now, and if not, why not.
func (s Session) Open(now time.Time) error {
	switch {
	case s.Status == SessionCancelled:
		return ErrSessionCancelled
	case s.Past(now):
		return ErrSessionPast
	case now.Before(s.OpensAt):
		return ErrBookingNotOpen
	case !now.Before(s.ClosesAt):
		return ErrBookingClosed
	}
	return nil
}

// Targets reports whether members of the given groups may book s.
func (s Session) Targets(groups []string) bool {
	if len(s.TargetGroups) == 0 {
		return true
	}
	for _, g := range groups {
		if slices.Contains(s.TargetGroups, g) {
			return true
		}
	}
	return false
}

// Location is the zone s is shown in (Asia/Shanghai if its name no longer loads).
func (s Session) Location() *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil && s.TimeZone != "" {
		return loc
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.UTC
	}
	return loc
}

// ReminderTimes are the instants a booking confirmed at now is reminded: each RemindBefore
// before the start that is still ahead, earliest first.
func (s Session) ReminderTimes(now time.Time) []time.Time {
	var out []time.Time
	for _, d := range s.RemindBefore { // longest lead first: earliest first
		if at := s.StartAt.Add(-d); at.After(now) {
			out = append(out, at)
		}
	}
	return out
}

// minute drops seconds: sessions, windows and reminders are scheduled to the minute, as the
// dispatcher sends.
func minute(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Minute)
}

package qa

import (
	"time"

	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/i18n"
	"yinling/shared/qa"
)

// Wire (JSON) forms of the Q&A API (shared/apispec/openapi.yaml). The domain types carry no json
// tags: what a client sees can change without touching what is stored, and back.

// doctorJSON is a doctor as every caller sees them; a session carries the doctor as they were
// when it was made (without the bio).
type doctorJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Title      string     `json:"title"`
	Speciality string     `json:"speciality"`
	Bio        string     `json:"bio,omitempty"`
	PhotoURL   string     `json:"photoUrl,omitempty"`
	CreatedAt  *time.Time `json:"createdAt,omitempty"`
}

func toDoctorJSON(d qa.Doctor) doctorJSON {
	return doctorJSON{ID: d.ID, Name: d.Name, Title: d.Title, Speciality: d.Speciality, Bio: d.Bio, PhotoURL: d.PhotoURL,
		CreatedAt: optTime(d.CreatedAt)}
}

type doctorDraftJSON struct {
	Name       string `json:"name"`
	Title      string `json:"title"`
	Speciality string `json:"speciality"`
	Bio        string `json:"bio"`
	PhotoURL   string `json:"photoUrl"`
}

func (in doctorDraftJSON) draft() qa.DoctorDraft {
	return qa.DoctorDraft{Name: in.Name, Title: in.Title, Speciality: in.Speciality, Bio: in.Bio, PhotoURL: in.PhotoURL}
}

type doctorList struct {
	Doctors []doctorJSON `json:"doctors"`
	Cursor  string       `json:"cursor,omitempty"`
}

type placeJSON struct {
	Kind    string `json:"kind"`
	Address string `json:"address,omitempty"`
	URL     string `json:"url,omitempty"`
}

func (in placeJSON) place() qa.Place {
	return qa.Place{Kind: qa.PlaceKind(in.Kind), Address: in.Address, URL: in.URL}
}

func toPlaceJSON(p qa.Place) placeJSON {
	return placeJSON{Kind: string(p.Kind), Address: p.Address, URL: p.URL}
}

// sessionJSON is a session as members, family links and staff see it. When is its start as
// people say it, in the caller's language and the session's zone, ready to show. My is the
// caller's own booking (members and family links); the counts of attendance and the record's
// times are for staff only.
type sessionJSON struct {
	ID           string       `json:"id"`
	Title        string       `json:"title"`
	Doctor       doctorJSON   `json:"doctor"`
	StartAt      time.Time    `json:"startAt"`
	EndAt        time.Time    `json:"endAt"`
	TimeZone     string       `json:"timeZone"`
	When         string       `json:"when"`
	Place        placeJSON    `json:"place"`
	Capacity     int          `json:"capacity"`
	SeatsLeft    int          `json:"seatsLeft"`
	Confirmed    int          `json:"confirmed"`
	Waiting      int          `json:"waiting"`
	OpensAt      time.Time    `json:"opensAt"`
	ClosesAt     time.Time    `json:"closesAt"`
	Bookable     bool         `json:"bookable"`
	Status       string       `json:"status"`
	TargetGroups []string     `json:"targetGroups"`
	Notes        string       `json:"notes,omitempty"`
	RemindBefore []int        `json:"remindBefore"` // minutes
	MaxUpcoming  int          `json:"maxUpcoming,omitempty"`
	CancelledAt  *time.Time   `json:"cancelledAt,omitempty"`
	My           *bookingJSON `json:"my,omitempty"`
	Attended     *int         `json:"attended,omitempty"`
	NoShow       *int         `json:"noShow,omitempty"`
	CreatedAt    *time.Time   `json:"createdAt,omitempty"`
	UpdatedAt    *time.Time   `json:"updatedAt,omitempty"`
}

// toSessionJSON renders s for a member or a family link, in l at now.
func toSessionJSON(s qa.Session, l i18n.Lang, now time.Time) sessionJSON {
	out := sessionJSON{ID: s.ID, Title: s.Title, Doctor: toDoctorJSON(s.Doctor), StartAt: s.StartAt.UTC(),
		EndAt: s.EndAt.UTC(), TimeZone: s.Location().String(), When: i18n.When(l, s.StartAt, s.Location()),
		Place: toPlaceJSON(s.Place), Capacity: s.Capacity, SeatsLeft: s.SeatsLeft(), Confirmed: s.Confirmed,
		Waiting: s.Waiting, OpensAt: s.OpensAt.UTC(), ClosesAt: s.ClosesAt.UTC(), Bookable: s.Open(now) == nil,
		Status: string(s.Status), TargetGroups: s.TargetGroups, Notes: s.Notes, RemindBefore: []int{},
		MaxUpcoming: s.MaxUpcoming, CancelledAt: optTime(s.CancelledAt)}
	// The session keeps the doctor as they were, without the bio: the same in every answer.
	out.Doctor.Bio, out.Doctor.CreatedAt = "", nil
	if out.TargetGroups == nil {
		out.TargetGroups = []string{}
	}
	for _, d := range s.RemindBefore {
		out.RemindBefore = append(out.RemindBefore, int(d/time.Minute))
	}
	return out
}

// toStaffSessionJSON renders s for staff: with attendance and the record's times.
func toStaffSessionJSON(s qa.Session, l i18n.Lang, now time.Time) sessionJSON {
	out := toSessionJSON(s, l, now)
	out.Attended, out.NoShow = &s.Attended, &s.NoShow
	out.CreatedAt, out.UpdatedAt = optTime(s.CreatedAt), optTime(s.UpdatedAt)
	return out
}

type sessionList struct {
	Sessions []sessionJSON `json:"sessions"`
	Cursor   string        `json:"cursor,omitempty"`
}

// sessionDraftJSON is a new session. Times are RFC 3339; remindBefore is in minutes, absent for
// the default (the day before and an hour before), empty for none.
type sessionDraftJSON struct {
	DoctorID     string    `json:"doctorId"`
	Title        string    `json:"title"`
	StartAt      string    `json:"startAt"`
	EndAt        string    `json:"endAt"`
	Place        placeJSON `json:"place"`
	Capacity     int       `json:"capacity"`
	OpensAt      string    `json:"opensAt"`
	ClosesAt     string    `json:"closesAt"`
	TargetGroups []string  `json:"targetGroups"`
	Notes        string    `json:"notes"`
	RemindBefore []int     `json:"remindBefore"`
	MaxUpcoming  int       `json:"maxUpcoming"`
}

func (in sessionDraftJSON) draft() (qa.SessionDraft, error) {
	d := qa.SessionDraft{DoctorID: in.DoctorID, Title: in.Title, Place: in.Place.place(), Capacity: in.Capacity,
		TargetGroups: in.TargetGroups, Notes: in.Notes, RemindBefore: minutes(in.RemindBefore), MaxUpcoming: in.MaxUpcoming}
	var err error
	if d.StartAt, err = parseTime(in.StartAt, qa.ErrInvalidStart); err != nil {
		return qa.SessionDraft{}, err
	}
	if d.EndAt, err = parseTime(in.EndAt, qa.ErrInvalidEnd); err != nil {
		return qa.SessionDraft{}, err
	}
	if d.OpensAt, err = optionalTime(in.OpensAt, qa.ErrInvalidWindow.OnField("opensAt")); err != nil {
		return qa.SessionDraft{}, err
	}
	if d.ClosesAt, err = optionalTime(in.ClosesAt, qa.ErrInvalidWindow); err != nil {
		return qa.SessionDraft{}, err
	}
	return d, nil
}

// sessionPatchJSON changes a session; absent fields stay as they are. The doctor does not change:
// cancel the session and make another.
type sessionPatchJSON struct {
	Title        *string    `json:"title"`
	StartAt      *string    `json:"startAt"`
	EndAt        *string    `json:"endAt"`
	Place        *placeJSON `json:"place"`
	Capacity     *int       `json:"capacity"`
	OpensAt      *string    `json:"opensAt"`
	ClosesAt     *string    `json:"closesAt"`
	TargetGroups *[]string  `json:"targetGroups"`
	Notes        *string    `json:"notes"`
	RemindBefore *[]int     `json:"remindBefore"`
	MaxUpcoming  *int       `json:"maxUpcoming"`
}

func (in sessionPatchJSON) patch() (qa.SessionPatch, error) {
	p := qa.SessionPatch{Title: in.Title, Capacity: in.Capacity, TargetGroups: in.TargetGroups, Notes: in.Notes,
		MaxUpcoming: in.MaxUpcoming}
	if in.Place != nil {
		pl := in.Place.place()
		p.Place = &pl
	}
	if in.RemindBefore != nil {
		rb := minutes(*in.RemindBefore)
		p.RemindBefore = &rb
	}
	for _, t := range []struct {
		in  *string
		out **time.Time
		bad *fail.Error
	}{
		{in.StartAt, &p.StartAt, qa.ErrInvalidStart},
		{in.EndAt, &p.EndAt, qa.ErrInvalidEnd},
		{in.OpensAt, &p.OpensAt, qa.ErrInvalidWindow.OnField("opensAt")},
		{in.ClosesAt, &p.ClosesAt, qa.ErrInvalidWindow},
	} {
		if t.in == nil {
			continue
		}
		v, err := parseTime(*t.in, t.bad)
		if err != nil {
			return qa.SessionPatch{}, err
		}
		*t.out = &v
	}
	if p == (qa.SessionPatch{}) {
		return p, qa.ErrEmptyPatch
	}
	return p, nil
}

// minutes turns minutes into durations, keeping nil (the default) apart from empty (none).
func minutes(ms []int) []time.Duration {
	if ms == nil {
		return nil
	}
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Minute
	}
	return out
}

func parseTime(s string, bad *fail.Error) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, bad
	}
	return t, nil
}

func optionalTime(s string, bad *fail.Error) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(s, bad)
}

// bookingJSON is a booking. Link is the booking's page (/b/{token}), for those who may cancel
// it; the rest is for staff only: whose it is, whether they came, how the question ranks, and a
// presigned GET of a recorded question.
type bookingJSON struct {
	SessionID        string     `json:"sessionId"`
	MemberID         string     `json:"memberId,omitempty"`
	Status           string     `json:"status"`
	Position         int        `json:"position,omitempty"`
	Question         string     `json:"question,omitempty"`
	HasQuestionClip  bool       `json:"hasQuestionClip"`
	Via              string     `json:"via"`
	By               string     `json:"by,omitempty"`
	CreatedAt        time.Time  `json:"createdAt"`
	PromotedAt       *time.Time `json:"promotedAt,omitempty"`
	CancelledAt      *time.Time `json:"cancelledAt,omitempty"`
	CancelledVia     string     `json:"cancelledVia,omitempty"`
	Link             string     `json:"link,omitempty"`
	MemberName       string     `json:"memberName,omitempty"`
	Attendance       *string    `json:"attendance,omitempty"`
	Rank             *int       `json:"rank,omitempty"`
	DuplicateOf      string     `json:"duplicateOf,omitempty"`
	QuestionAudioURL string     `json:"questionAudioUrl,omitempty"`
}

// toBookingJSON renders b for its member or a family link; link is "" where it must not show.
func toBookingJSON(b qa.Booking, link string) bookingJSON {
	return bookingJSON{SessionID: b.SessionID, MemberID: b.MemberID, Status: string(b.Status), Position: b.Position,
		Question: b.Question.Text, HasQuestionClip: b.Question.ClipKey != "", Via: string(b.Via),
		CreatedAt: b.CreatedAt.UTC(), PromotedAt: optTime(b.PromotedAt), CancelledAt: optTime(b.CancelledAt),
		CancelledVia: string(b.CancelledVia), Link: link}
}

// toStaffBookingJSON renders b for staff, with the member's name and the question's audio.
func toStaffBookingJSON(b qa.Booking, name, audioURL string) bookingJSON {
	out := toBookingJSON(b, "")
	attendance, rank := string(b.Attendance), b.Question.Rank
	out.By, out.MemberName, out.Attendance, out.Rank = b.By, name, &attendance, &rank
	out.DuplicateOf, out.QuestionAudioURL = b.Question.DuplicateOf, audioURL
	return out
}

// questionJSON is what a member brings to a booking: a question in words, a recorded one
// (uploaded first, named by its key), both or neither.
type questionJSON struct {
	Question        string `json:"question"`
	QuestionClipKey string `json:"questionClipKey"`
}

// familyBookJSON is a helper's booking for the senior.
type familyBookJSON struct {
	SessionID       string `json:"sessionId"`
	Question        string `json:"question"`
	QuestionClipKey string `json:"questionClipKey"`
}

// bookResult answers a booking: a seat (status confirmed) or a place on the waitlist (status
// waitlisted, with position), and the session as it stands.
type bookResult struct {
	Status   string      `json:"status"`
	Position int         `json:"position,omitempty"`
	Booking  bookingJSON `json:"booking"`
	Session  sessionJSON `json:"session"`
}

// cancelResult answers a cancellation; Promoted says the seat went to the first on the waitlist.
type cancelResult struct {
	Booking  bookingJSON `json:"booking"`
	Promoted bool        `json:"promoted"`
}

// myBookingJSON is one of a member's bookings as their own pages list it.
type myBookingJSON struct {
	SessionID string    `json:"sessionId"`
	Status    string    `json:"status"`
	Position  int       `json:"position,omitempty"`
	Title     string    `json:"title"`
	Doctor    string    `json:"doctor"`
	StartAt   time.Time `json:"startAt"`
	EndAt     time.Time `json:"endAt"`
	TimeZone  string    `json:"timeZone"`
	When      string    `json:"when"`
	Place     placeJSON `json:"place"`
	Link      string    `json:"link,omitempty"`
}

func toMyBookingJSON(b dynamostore.MemberBooking, l i18n.Lang, link string) myBookingJSON {
	loc := qa.Session{TimeZone: b.TimeZone}.Location()
	return myBookingJSON{SessionID: b.SessionID, Status: string(b.Status), Title: b.Title, Doctor: b.Doctor,
		StartAt: b.StartAt.UTC(), EndAt: b.EndAt.UTC(), TimeZone: loc.String(), When: i18n.When(l, b.StartAt, loc),
		Place: toPlaceJSON(b.Place), Link: link}
}

type myBookingList struct {
	Bookings []myBookingJSON `json:"bookings"`
}

// pageResult is what the booking page (/b/{token}) shows.
type pageResult struct {
	Session    sessionJSON `json:"session"`
	Booking    bookingJSON `json:"booking"`
	MemberName string      `json:"memberName"`
}

// staffSessionResult is one session for staff, with every booking: seats, then the waitlist in
// order, then cancelled ones.
type staffSessionResult struct {
	Session  sessionJSON   `json:"session"`
	Bookings []bookingJSON `json:"bookings"`
}

// cancelSessionResult answers a session's cancellation: how many members were told.
type cancelSessionResult struct {
	Session  sessionJSON `json:"session"`
	Notified int         `json:"notified"`
}

// bookingChangeJSON is what staff change of a booking; absent fields stay. Attendance "" clears
// a mistake, rank 0 unranks, duplicateOf "" unfolds.
type bookingChangeJSON struct {
	Attendance  *string `json:"attendance"`
	Rank        *int    `json:"rank"`
	DuplicateOf *string `json:"duplicateOf"`
}

func (in bookingChangeJSON) change() (dynamostore.BookingChange, error) {
	var c dynamostore.BookingChange
	if in.Attendance == nil && in.Rank == nil && in.DuplicateOf == nil {
		return c, qa.ErrEmptyPatch
	}
	if in.Attendance != nil {
		a, err := qa.ParseAttendance(*in.Attendance)
		if err != nil {
			return c, err
		}
		c.Attendance = &a
	}
	if in.Rank != nil && (*in.Rank < 0 || *in.Rank > qa.MaxRank) {
		return c, qa.ErrInvalidRank
	}
	c.Rank, c.DuplicateOf = in.Rank, in.DuplicateOf
	return c, nil
}

// optTime is t in UTC, or nil for the zero time (an absent field).
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

package qa

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"yinling/shared/fail"
	"yinling/shared/field"
	"yinling/shared/i18n"
	"yinling/shared/reminder"
)

// Booking is one member's place at one session: a seat, or a place on the waitlist. A member
// holds at most one booking per session; booking again after cancelling reuses it.
type Booking struct {
	StoreID   string
	SessionID string
	MemberID  string
	Status    BookingStatus
	// Ticket orders the waitlist: the session hands out one number per member who found it
	// full, in the order they asked. It stays on the booking after a promotion.
	Ticket int
	// Position is the place on the waitlist (1 is next), for a waitlisted booking as read.
	Position int
	Question Question
	// Via and By say who booked: the member, a helper family link (by its id) or staff.
	Via reminder.Via
	By  string
	// ReminderIDs are the reminders the booking made: the notice that it is confirmed, then
	// one for each of the session's RemindBefore still ahead. Cancelling cancels them.
	ReminderIDs  []string
	Attendance   Attendance
	CreatedAt    time.Time
	UpdatedAt    time.Time
	PromotedAt   time.Time // when a waitlisted booking got a seat
	CancelledAt  time.Time
	CancelledBy  string
	CancelledVia reminder.Via
}

// Question is what a member wants to ask the doctor: text, a recorded clip, or both. Staff
// order the questions for the doctor and mark those another member asked already.
type Question struct {
	Text    string
	ClipKey string
	// Rank orders the question in the digest (0: unranked, after the ranked ones).
	Rank int
	// DuplicateOf is the member whose question this one repeats; the digest folds it in.
	DuplicateOf string
}

// BookingStatus is where a booking is.
type BookingStatus string

// Booking statuses.
const (
	BookingConfirmed  BookingStatus = "confirmed"
	BookingWaitlisted BookingStatus = "waitlisted"
	BookingCancelled  BookingStatus = "cancelled"
)

// Live reports whether the booking holds a seat or a place on the waitlist.
func (s BookingStatus) Live() bool { return s == BookingConfirmed || s == BookingWaitlisted }

// Attendance is what staff recorded of a confirmed booking once the session took place.
type Attendance string

// Attendances; "" is not recorded yet.
const (
	Attended Attendance = "attended"
	NoShow   Attendance = "no_show"
)

// ParseAttendance accepts "attended", "no_show" and "" (to clear a mistake).
func ParseAttendance(s string) (Attendance, error) {
	switch a := Attendance(s); a {
	case Attended, NoShow, "":
		return a, nil
	}
	return "", ErrInvalidAttendance
}

// Limits of questions.
const (
	MaxQuestionLen = 300
	MaxRank        = 999
)

// Errors about bookings a caller can cause. None changes anything.
var (
	ErrBookingNotFound   = &fail.Error{Kind: fail.NotFound, Code: "booking_not_found"}
	ErrBookingNotOpen    = &fail.Error{Kind: fail.Conflict, Code: "booking_not_open"}
	ErrBookingClosed     = &fail.Error{Kind: fail.Conflict, Code: "booking_closed"}
	ErrNotInTargetGroups = &fail.Error{Kind: fail.Forbidden, Code: "session_not_for_you"}
	ErrUnverified        = &fail.Error{Kind: fail.Forbidden, Code: "phone_not_verified"}
	ErrTooManyUpcoming   = &fail.Error{Kind: fail.Conflict, Code: "too_many_bookings"}
	ErrInvalidAttendance = &fail.Error{Kind: fail.Invalid, Code: "invalid_attendance", Field: "attendance"}
	ErrAttendanceEarly   = &fail.Error{Kind: fail.Conflict, Code: "session_not_started", Field: "attendance"}
	ErrNotConfirmed      = &fail.Error{Kind: fail.Conflict, Code: "booking_not_confirmed"}
	ErrInvalidRank       = &fail.Error{Kind: fail.Invalid, Code: "invalid_rank", Field: "rank"}
	ErrInvalidDuplicate  = &fail.Error{Kind: fail.Invalid, Code: "invalid_duplicate", Field: "duplicateOf"}
	// ErrBusy answers a booking that lost every race for the session's seat count: hundreds of
	// people asking at the same second. Asking again works.
	ErrBusy = &fail.Error{Kind: fail.Unavailable, Code: "busy_try_again"}
)

// ParseQuestion checks a question as submitted: text, a clip key, or neither.
func ParseQuestion(text, clipKey string) (Question, error) {
	t, err := field.Text(text, MaxQuestionLen, "question", false)
	if err != nil {
		return Question{}, err
	}
	if clipKey != "" && !reminder.ValidClipKey(clipKey) {
		return Question{}, fail.InvalidField("invalid_clip", "questionClipKey")
	}
	return Question{Text: t, ClipKey: clipKey}, nil
}

// BookingToken is the capability in the link of a booking's page (/b/{token}: the session in
// large type, and a cancel button that works without signing in), derived from the booking so
// that it is never stored: the table keeps only its hash. 132 bits of an HMAC under key.
func BookingToken(key []byte, storeID, sessionID, memberID string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("yinling booking link\x00" + storeID + "\x00" + sessionID + "\x00" + memberID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))[:22]
}

// ValidBookingToken reports whether s has the shape of a BookingToken, so that a malformed one
// costs no read. It is the shape of a reminder's page token: 22 base64url characters of an HMAC.
func ValidBookingToken(s string) bool { return reminder.ValidLinkToken(s) }

// Notice is why a member is told about a booking through the reminder pipeline.
type Notice string

// Notices.
const (
	NoticeConfirmed Notice = "confirmed" // a seat, on booking
	NoticePromoted  Notice = "promoted"  // a seat, off the waitlist
	NoticeCancelled Notice = "cancelled" // the store cancelled the session
	NoticeUpcoming  Notice = "upcoming"  // one of RemindBefore
)

// Text is what a call speaks and an SMS carries for notice n about s, in l:
// "您已预约：11月25日 周三 上午9:30 张医生（心内科）健康讲座，地点：二楼活动室". It fits
// reminder.MaxTextLen.
func (s Session) Text(l i18n.Lang, n Notice) string {
	where := s.Place.Address
	if s.Place.Kind == PlaceOnline {
		where = i18n.T(l, "qa.place.online")
	}
	if where == "" {
		where = i18n.T(l, "qa.place.store")
	}
	doctor := s.Doctor.Name
	if s.Doctor.Speciality != "" {
		doctor += i18n.T(l, "qa.doctor.open") + s.Doctor.Speciality + i18n.T(l, "qa.doctor.close")
	}
	out := i18n.Fill(i18n.T(l, "qa.notice."+string(n)),
		"when", i18n.When(l, s.StartAt, s.Location()), "doctor", doctor, "title", s.Title, "place", where)
	if r := []rune(out); len(r) > reminder.MaxTextLen {
		out = string(r[:reminder.MaxTextLen-1]) + "…"
	}
	return out
}

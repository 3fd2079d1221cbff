// Package qa owns the doctor Q&A sessions (定期邀请名医答疑) a store schedules — doctors,
// sessions with a limited number of seats, bookings, the waitlist, the questions seniors bring
// and who came — as rules only, with no knowledge of where they are stored.
//
// A seat is a booking that is confirmed; a full session puts newcomers on its waitlist, in the
// order they asked, and a cancelled seat goes to the first of them. The table does the counting
// (shared/dynamostore): nothing here can overbook, because nothing here writes.
package qa

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"yinling/shared/fail"
)

// Doctor is a doctor a store invites to answer its members' questions.
type Doctor struct {
	ID         string
	StoreID    string
	Name       string
	Title      string // e.g. 主任医师
	Speciality string // e.g. 心内科
	Bio        string
	PhotoURL   string
	CreatedAt  time.Time
}

// DoctorDraft is what staff submit to add a doctor.
type DoctorDraft struct {
	Name       string
	Title      string
	Speciality string
	Bio        string
	PhotoURL   string
}

// Limits of a doctor's fields, in runes.
const (
	MaxDoctorNameLen = 40
	MaxDoctorLineLen = 60 // title, speciality
	MaxBioLen        = 500
	MaxURLLen        = 500
)

// Errors about doctors.
var (
	ErrDoctorNotFound = &fail.Error{Kind: fail.NotFound, Code: "doctor_not_found"}
	// ErrDoctorRequired refuses a session whose doctor is missing or another store's.
	ErrDoctorRequired = &fail.Error{Kind: fail.Invalid, Code: "doctor_not_found", Field: "doctorId"}
)

// NewDoctor validates d and returns the doctor it describes; the caller sets ID and StoreID.
func NewDoctor(d DoctorDraft, now time.Time) (Doctor, error) {
	var (
		doc Doctor
		err error
	)
	if doc.Name, err = line(d.Name, MaxDoctorNameLen, "name", true); err != nil {
		return Doctor{}, err
	}
	if doc.Title, err = line(d.Title, MaxDoctorLineLen, "title", false); err != nil {
		return Doctor{}, err
	}
	if doc.Speciality, err = line(d.Speciality, MaxDoctorLineLen, "speciality", false); err != nil {
		return Doctor{}, err
	}
	if doc.Bio, err = paragraph(d.Bio, MaxBioLen, "bio", false); err != nil {
		return Doctor{}, err
	}
	if doc.PhotoURL, err = httpsURL(d.PhotoURL, "photoUrl"); err != nil {
		return Doctor{}, err
	}
	doc.CreatedAt = now.UTC().Truncate(time.Second)
	return doc, nil
}

// line checks one line of text for field: trimmed, valid UTF-8 without control characters, at
// most max runes, and not empty if required.
func line(s string, max int, field string, required bool) (string, error) {
	return checkText(strings.TrimSpace(s), max, field, required, unicode.IsControl)
}

// paragraph checks text that may run over several lines, like line otherwise.
func paragraph(s string, max int, field string, required bool) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	return checkText(s, max, field, required, func(r rune) bool { return unicode.IsControl(r) && r != '\n' })
}

func checkText(s string, max int, field string, required bool, bad func(rune) bool) (string, error) {
	switch {
	case !utf8.ValidString(s) || strings.ContainsFunc(s, bad):
		return "", fail.InvalidField("invalid_text", field)
	case s == "" && required:
		return "", fail.InvalidField("required", field)
	case utf8.RuneCountInString(s) > max:
		return "", fail.InvalidField("too_long", field)
	}
	return s, nil
}

// httpsURL accepts "" or an https URL without spaces: a photo or an online session's link is
// opened by seniors' phones, and plain http inside WeChat warns them off.
func httpsURL(s, field string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if !strings.HasPrefix(s, "https://") || len(s) <= len("https://") || len(s) > MaxURLLen ||
		strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", fail.InvalidField("invalid_url", field)
	}
	return s, nil
}

// Package qa owns the doctor Q&A sessions (定期邀请名医答疑) a store schedules — doctors,
// sessions with a limited number of seats, bookings, the waitlist, the questions seniors bring
// and who came — as rules only, with no knowledge of where they are stored.
//
// A seat is a booking that is confirmed; a full session puts newcomers on its waitlist, in the
// order they asked, and a cancelled seat goes to the first of them. The table does the counting
// (shared/dynamostore): nothing here can overbook, because nothing here writes.
package qa

import (
	"time"

	"yinling/shared/fail"
	"yinling/shared/field"
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
	if doc.Name, err = field.Line(d.Name, MaxDoctorNameLen, "name", true); err != nil {
		return Doctor{}, err
	}
	if doc.Title, err = field.Line(d.Title, MaxDoctorLineLen, "title", false); err != nil {
		return Doctor{}, err
	}
	if doc.Speciality, err = field.Line(d.Speciality, MaxDoctorLineLen, "speciality", false); err != nil {
		return Doctor{}, err
	}
	if doc.Bio, err = field.Text(d.Bio, MaxBioLen, "bio", false); err != nil {
		return Doctor{}, err
	}
	if doc.PhotoURL, err = field.HTTPS(d.PhotoURL, "photoUrl"); err != nil {
		return Doctor{}, err
	}
	doc.CreatedAt = now.UTC().Truncate(time.Second)
	return doc, nil
}

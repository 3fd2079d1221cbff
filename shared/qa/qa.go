// Package qa owns the doctor Q&A sessions (定期邀请名医答疑) a store schedules: doctors, and —
// as the Q&A capability lands — sessions, seats, waitlists and questions.
package qa

import (
	"time"

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

// ErrDoctorNotFound is a missing doctor, or another store's.
var ErrDoctorNotFound = &fail.Error{Kind: fail.NotFound, Code: "doctor_not_found"}

package qa

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/fail"
	"yinling/shared/reminder"
)

var now = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) // 08:00 in Shanghai

func draft() SessionDraft {
	return SessionDraft{DoctorID: "D1", Title: " 高血压健康讲座 ", StartAt: now.Add(49*time.Hour + 30*time.Minute + 17*time.Second),
		EndAt: now.Add(51 * time.Hour), Place: Place{Kind: PlaceStore, Address: "二楼活动室"}, Capacity: 20}
}

var doctor = Doctor{ID: "D1", Name: "张医生", Title: "主任医师", Speciality: "心内科"}

func TestNewSession(t *testing.T) {
	s, err := NewSession(draft(), doctor, "Asia/Shanghai", now)
	if err != nil {
		t.Fatal(err)
	}
	// Trimmed, to the minute, closing two hours before, reminded the day before and an hour before.
	want := struct {
		Title             string
		Start, Opens, End string
		Closes            string
		Remind            []time.Duration
	}{"高血压健康讲座", "2026-11-25T01:30:00Z", "2026-11-23T00:00:00Z", "2026-11-25T03:00:00Z", "2026-11-24T23:30:00Z",
		[]time.Duration{24 * time.Hour, time.Hour}}
	got := want
	got.Title, got.Start, got.Opens, got.End = s.Title, s.StartAt.Format(time.RFC3339), s.OpensAt.Format(time.RFC3339), s.EndAt.Format(time.RFC3339)
	got.Closes, got.Remind = s.ClosesAt.Format(time.RFC3339), s.RemindBefore
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewSession (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name string
		edit func(*SessionDraft)
		want error
	}{
		{"start in the past", func(d *SessionDraft) { d.StartAt = now.Add(-time.Hour) }, ErrInvalidStart},
		{"end before start", func(d *SessionDraft) { d.EndAt = d.StartAt }, ErrInvalidEnd},
		{"nine hours", func(d *SessionDraft) { d.EndAt = d.StartAt.Add(9 * time.Hour) }, ErrInvalidEnd},
		{"no seats", func(d *SessionDraft) { d.Capacity = 0 }, ErrInvalidCapacity},
		{"online without a link", func(d *SessionDraft) { d.Place = Place{Kind: PlaceOnline} }, ErrPlaceURLRequired},
		{"online over http", func(d *SessionDraft) { d.Place = Place{Kind: PlaceOnline, URL: "http://x.cn"} }, fail.InvalidField("invalid_url", "place.url")},
		{"unknown place", func(d *SessionDraft) { d.Place.Kind = "park" }, ErrInvalidPlace},
		{"closes after the start", func(d *SessionDraft) { d.ClosesAt = d.StartAt.Add(time.Minute) }, ErrInvalidWindow},
		{"reminder 5 minutes before", func(d *SessionDraft) { d.RemindBefore = []time.Duration{5 * time.Minute} }, ErrInvalidRemind},
		{"no title", func(d *SessionDraft) { d.Title = " " }, fail.InvalidField("required", "title")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := draft()
			tt.edit(&d)
			if _, err := NewSession(d, doctor, "Asia/Shanghai", now); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	s, err := NewSession(draft(), doctor, "Asia/Shanghai", now)
	if err != nil {
		t.Fatal(err)
	}
	s.Confirmed = 5
	capacity, later := 4, s.StartAt.Add(time.Hour)
	title := "新的标题"
	for _, tt := range []struct {
		name string
		s    Session
		p    SessionPatch
		at   time.Time
		want error
	}{
		{"title", s, SessionPatch{Title: &title}, now, nil},
		{"capacity below the seats taken", s, SessionPatch{Capacity: &capacity}, now, ErrCapacityBelowBookings},
		{"moving a booked session", s, SessionPatch{StartAt: &later}, now, ErrSessionHasBookings},
		{"after the start", s, SessionPatch{Title: &title}, s.StartAt, ErrSessionPast},
		{"empty", s, SessionPatch{}, now, ErrEmptyPatch},
		{"cancelled", func() Session { c := s; c.Status = SessionCancelled; return c }(), SessionPatch{Title: &title}, now, ErrSessionCancelled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Apply(tt.p, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && got.Title != title {
				t.Errorf("title = %q", got.Title)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	s, _ := NewSession(draft(), doctor, "Asia/Shanghai", now)
	for _, tt := range []struct {
		at   time.Time
		want error
	}{
		{now, nil},
		{now.Add(-time.Minute), ErrBookingNotOpen},
		{s.ClosesAt, ErrBookingClosed},
		{s.StartAt, ErrSessionPast},
	} {
		if err := s.Open(tt.at); !errors.Is(err, tt.want) {
			t.Errorf("Open(%v) = %v, want %v", tt.at, err, tt.want)
		}
	}
}

// A seat brings a notice at the next minute and the reminders still ahead; the texts name the
// day, the doctor and the place in the words a call speaks, and fit an SMS reminder.
func TestReminders(t *testing.T) {
	s, _ := NewSession(draft(), doctor, "Asia/Shanghai", now)
	s.ID, s.StoreID = "X1", "s1"
	b := Booking{MemberID: "M1"}
	at := func(rs []reminder.Reminder) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Rule.Start+" "+r.Rule.At+" "+string(r.Kind)+" "+r.Text)
		}
		return out
	}
	rs, err := s.Reminders(b, NoticeConfirmed, now.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2026-11-23 08:01 event 您已预约：11月25日 周三 上午9:30 张医生（心内科）高血压健康讲座，地点：二楼活动室。",
		"2026-11-24 09:30 event 提醒：11月25日 周三 上午9:30 张医生（心内科）高血压健康讲座，地点：二楼活动室。",
		"2026-11-25 08:30 event 提醒：11月25日 周三 上午9:30 张医生（心内科）高血压健康讲座，地点：二楼活动室。",
	}
	if diff := cmp.Diff(want, at(rs)); diff != "" {
		t.Errorf("reminders (-want +got):\n%s", diff)
	}
	for _, r := range rs {
		if r.MemberID != "M1" || r.SessionID != "X1" || r.StoreID != "s1" {
			t.Errorf("reminder %+v not tagged with its booking", r)
		}
	}
	// Booked an hour and a half before: the day-before reminder is gone, the hour-before stays.
	late, err := s.Reminders(b, NoticePromoted, s.StartAt.Add(-90*time.Minute))
	if err != nil || len(late) != 2 || !strings.HasPrefix(late[0].Text, "好消息") {
		t.Errorf("late promotion: %v, %v", at(late), err)
	}
	cancelled, err := s.Reminders(b, NoticeCancelled, now)
	if err != nil || len(cancelled) != 1 {
		t.Errorf("cancel notice: %v, %v", at(cancelled), err)
	}
	s.Title = strings.Repeat("长", MaxTitleLen)
	s.Place.Address = strings.Repeat("址", MaxPlaceLen)
	if text := s.Text(NoticeLang, NoticeUpcoming); utf8.RuneCountInString(text) > reminder.MaxTextLen {
		t.Errorf("longest text has %d runes", utf8.RuneCountInString(text))
	}
}

func TestBookingToken(t *testing.T) {
	a := BookingToken([]byte("k"), "s1", "X1", "M1")
	if len(a) != 22 || !ValidBookingToken(a) || a == BookingToken([]byte("k"), "s1", "X1", "M2") || a != BookingToken([]byte("k"), "s1", "X1", "M1") {
		t.Errorf("BookingToken = %q: not 22 characters, not stable, or not per member", a)
	}
}

func TestParseQuestion(t *testing.T) {
	if q, err := ParseQuestion("  降压药饭前吃还是饭后吃？\r\n谢谢 ", ""); err != nil || q.Text != "降压药饭前吃还是饭后吃？\n谢谢" {
		t.Errorf("ParseQuestion = %+v, %v", q, err)
	}
	for _, in := range [][2]string{{strings.Repeat("问", MaxQuestionLen+1), ""}, {"a\x00b", ""}, {"", "../etc/passwd"}} {
		if _, err := ParseQuestion(in[0], in[1]); err == nil {
			t.Errorf("ParseQuestion(%q, %q) accepted", in[0], in[1])
		}
	}
}

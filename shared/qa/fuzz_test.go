package qa

import (
	"testing"
	"time"
	"unicode/utf8"

	"yinling/shared/fail"
	"yinling/shared/reminder"
)

// FuzzNewSession builds a session from anything staff could send: NewSession never panics,
// refuses only with a caller's error, and a session it accepts keeps its own rules — a start
// ahead, an end after it within the longest session, a window that closes by the start, at most
// three reminders — and every message it makes fits a reminder.
func FuzzNewSession(f *testing.F) {
	f.Add("高血压健康讲座", int64(49*3600), int64(51*3600), "store", "二楼活动室", "", 20, int64(0), int64(0), 1440, 60, "备注")
	f.Add("线上答疑", int64(3*3600), int64(4*3600), "online", "", "https://meeting.example.cn/j/1", 500, int64(-60), int64(7200), 15, 0, "")
	f.Add(" ", int64(-1), int64(0), "park", "\x00", "http://x", 0, int64(1), int64(-1), -5, 99999, "\r\n")
	f.Fuzz(func(t *testing.T, title string, start, end int64, kind, address, url string, capacity int, opens, closes int64, r1, r2 int, notes string) {
		at := func(sec int64) time.Time {
			if sec == 0 {
				return time.Time{}
			}
			return now.Add(time.Duration(sec%(400*24*3600)) * time.Second)
		}
		d := SessionDraft{DoctorID: "D1", Title: title, StartAt: at(start), EndAt: at(end), Capacity: capacity,
			Place: Place{Kind: PlaceKind(kind), Address: address, URL: url}, OpensAt: at(opens), ClosesAt: at(closes),
			RemindBefore: []time.Duration{time.Duration(r1) * time.Minute, time.Duration(r2) * time.Minute}, Notes: notes}
		s, err := NewSession(d, doctor, "Asia/Shanghai", now)
		if err != nil {
			if fe, ok := fail.As(err); !ok || fe.Kind != fail.Invalid {
				t.Fatalf("NewSession error %v is not a caller's error", err)
			}
			return
		}
		switch {
		case !s.StartAt.After(now), !s.EndAt.After(s.StartAt), s.EndAt.Sub(s.StartAt) > MaxDuration:
			t.Fatalf("accepted times %v–%v", s.StartAt, s.EndAt)
		case s.ClosesAt.After(s.StartAt), !s.OpensAt.Before(s.ClosesAt):
			t.Fatalf("accepted window %v–%v for a start at %v", s.OpensAt, s.ClosesAt, s.StartAt)
		case len(s.RemindBefore) > MaxReminders, s.Capacity < 1 || s.Capacity > MaxCapacity:
			t.Fatalf("accepted %+v", s)
		}
		for _, n := range []Notice{NoticeConfirmed, NoticePromoted, NoticeCancelled, NoticeUpcoming} {
			if text := s.Text(NoticeLang, n); utf8.RuneCountInString(text) > reminder.MaxTextLen || !utf8.ValidString(text) {
				t.Fatalf("%s text %q", n, text)
			}
		}
		if _, err := s.Reminders(Booking{MemberID: "M1"}, NoticeConfirmed, now); err != nil {
			t.Fatalf("an accepted session cannot make its reminders: %v", err)
		}
	})
}

// FuzzParseQuestion: a question is refused with a caller's error or kept within its limit.
func FuzzParseQuestion(f *testing.F) {
	f.Add("降压药饭前吃还是饭后吃？", "")
	f.Add("a\x00b", "uploads/s1/c1.webm")
	f.Add("\r\n", "../../etc/passwd")
	f.Fuzz(func(t *testing.T, text, clip string) {
		q, err := ParseQuestion(text, clip)
		if err != nil {
			if fe, ok := fail.As(err); !ok || fe.Kind != fail.Invalid {
				t.Fatalf("ParseQuestion error %v is not a caller's error", err)
			}
			return
		}
		if utf8.RuneCountInString(q.Text) > MaxQuestionLen || q.ClipKey != "" && !reminder.ValidClipKey(q.ClipKey) {
			t.Fatalf("accepted %+v", q)
		}
	})
}

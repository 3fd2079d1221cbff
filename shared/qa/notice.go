package qa

import (
	"time"

	"yinling/shared/i18n"
	"yinling/shared/reminder"
)

// NoticeLang is the language of every message about a booking. A message goes to the senior,
// whoever booked — a daughter in Shenzhen may read English, her mother hears Mandarin.
const NoticeLang = i18n.ZhCN

// Reminders are the reminders that tell b's member about notice n, at now, through the
// reminder pipeline (so they go by the member's own channel, respect quiet hours and are
// chased like any other): a notice one minute from now, and, for a seat (NoticeConfirmed,
// NoticePromoted), one for each of RemindBefore still ahead. Each is of kind event, for the
// member, tagged with the session; the caller sets IDs and who made them.
func (s Session) Reminders(b Booking, n Notice, now time.Time) ([]reminder.Reminder, error) {
	loc := s.Location()
	once := func(at time.Time, text string) (reminder.Reminder, error) {
		local := at.In(loc)
		r, err := reminder.New(reminder.Draft{Kind: reminder.KindEvent, Text: text, Rule: reminder.Rule{
			Freq: reminder.FreqOnce, Start: local.Format(time.DateOnly), At: local.Format("15:04"), TimeZone: loc.String(),
		}}, now)
		r.StoreID, r.MemberID, r.SessionID = s.StoreID, b.MemberID, s.ID
		return r, err
	}
	// The next whole minute: the dispatcher sends each minute's reminders once that minute
	// comes, and a notice must not wait for a clock time the page showed.
	soon := now.UTC().Truncate(time.Minute).Add(time.Minute)
	first, err := once(soon, s.Text(NoticeLang, n))
	if err != nil {
		return nil, err
	}
	out := []reminder.Reminder{first}
	if n != NoticeConfirmed && n != NoticePromoted {
		return out, nil
	}
	for _, at := range s.ReminderTimes(soon) {
		r, err := once(at, s.Text(NoticeLang, NoticeUpcoming))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"yinling/shared/group"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
	"yinling/shared/testenv"
)

// qaFixture is a store with one doctor and verified members m000…, against DynamoDB Local.
type qaFixture struct {
	t   *testing.T
	s   *Store
	now time.Time
	doc qa.Doctor
}

const qaStore = "s-qa"

func newQAFixture(t *testing.T, members int) *qaFixture {
	t.Helper()
	env := testenv.New(t)
	f := &qaFixture{t: t, s: New(env.DynamoDB, env.TableName()), now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	f.doc = qa.Doctor{ID: ids.New(), StoreID: qaStore, Name: "张医生", Title: "主任医师", Speciality: "心内科", CreatedAt: f.now}
	if err := f.s.CreateDoctor(context.Background(), f.doc); err != nil {
		t.Fatal(err)
	}
	var reqs [][2]any
	for i := range members {
		reqs = append(reqs, [2]any{f.memberID(i), true})
	}
	f.seedMembers(reqs)
	return f
}

func (f *qaFixture) memberID(i int) string { return fmt.Sprintf("m%03d", i) }

// seedMembers writes members (id, verified) in batches.
func (f *qaFixture) seedMembers(ms [][2]any) {
	f.t.Helper()
	phone, err := member.ParsePhone("13800138000")
	if err != nil {
		f.t.Fatal(err)
	}
	var items []any
	for _, m := range ms {
		mem := member.Member{ID: m[0].(string), StoreID: qaStore, Name: "会员" + m[0].(string), Phone: phone,
			Channel: member.ChannelSMS, CreatedAt: f.now, UpdatedAt: f.now}
		if m[1].(bool) {
			mem.VerifiedAt, mem.VerifiedBy = f.now, "otp"
		}
		it, err := f.s.memberItem(context.Background(), mem, "h-"+mem.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		items = append(items, it)
	}
	f.batchPut(items)
}

func (f *qaFixture) batchPut(items []any) {
	f.t.Helper()
	for _, it := range items {
		if err := f.s.putNew(context.Background(), it); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *qaFixture) session(capacity int, targets ...string) qa.Session {
	f.t.Helper()
	sess, err := qa.NewSession(qa.SessionDraft{
		DoctorID: f.doc.ID, Title: "高血压健康讲座", StartAt: f.now.Add(48 * time.Hour), EndAt: f.now.Add(50 * time.Hour),
		Place: qa.Place{Kind: qa.PlaceStore, Address: "二楼活动室"}, Capacity: capacity, TargetGroups: targets,
	}, f.doc, "Asia/Shanghai", f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	sess.ID, sess.StoreID, sess.CreatedBy = ids.New(), qaStore, "staff-1"
	if err := f.s.CreateQASession(context.Background(), sess); err != nil {
		f.t.Fatal(err)
	}
	return sess
}

// qaKey derives the fixture's page tokens.
var qaKey = []byte("qa-test-key")

// notices makes the reminders a booking brings, as the qa function does.
func (f *qaFixture) notices(by string, via reminder.Via) NoticeFunc {
	return Notices(qaKey, by, via, f.now)
}

func (f *qaFixture) book(sess qa.Session, memberID string) (BookResult, error) {
	return f.s.Book(context.Background(), BookRequest{StoreID: qaStore, SessionID: sess.ID, MemberID: memberID,
		Question: qa.Question{Text: "血压高能吃什么？"}, Via: reminder.ViaMember, By: memberID,
		LinkHash: member.HashToken(qa.BookingToken(qaKey, qaStore, sess.ID, memberID)),
		Notices:  f.notices(memberID, reminder.ViaMember), Now: f.now})
}

func (f *qaFixture) cancel(sess qa.Session, memberID string) (CancelResult, error) {
	return f.s.CancelBooking(context.Background(), CancelRequest{StoreID: qaStore, SessionID: sess.ID, MemberID: memberID,
		By: memberID, Via: reminder.ViaMember, Notices: f.notices("system", reminder.ViaStaff), Now: f.now})
}

// liveReminders counts a member's reminders of a session by status.
func (f *qaFixture) reminders(memberID, sessionID string) map[reminder.Status]int {
	f.t.Helper()
	page, err := f.s.ListMemberReminders(context.Background(), qaStore, memberID, "", 100)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[reminder.Status]int{}
	for _, r := range page.Items {
		if r.SessionID == sessionID {
			out[r.Status]++
		}
	}
	return out
}

// The race: 200 members book 20 seats at once. Exactly 20 get seats and 180 wait, at
// positions 1…180, each told a different one; then 5 seat holders cancel at once, and exactly
// the first 5 on the waitlist get their seats, with their reminders.
func TestBookingRace(t *testing.T) {
	const members, seats, cancels = 200, 20, 5
	f := newQAFixture(t, members)
	sess := f.session(seats)

	results := make([]BookResult, members)
	errs := make([]error, members)
	var wg sync.WaitGroup
	for i := range members {
		wg.Go(func() { results[i], errs[i] = f.book(sess, f.memberID(i)) })
	}
	wg.Wait()
	var confirmed, waiting []int
	told := map[int]bool{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("booking %d: %v", i, errs[i])
		}
		switch r.Booking.Status {
		case qa.BookingConfirmed:
			confirmed = append(confirmed, i)
		case qa.BookingWaitlisted:
			waiting = append(waiting, i)
			if told[r.Booking.Position] {
				t.Errorf("position %d told twice", r.Booking.Position)
			}
			told[r.Booking.Position] = true
		default:
			t.Errorf("booking %d is %q", i, r.Booking.Status)
		}
	}
	if len(confirmed) != seats || len(waiting) != members-seats {
		t.Fatalf("%d confirmed, %d waitlisted; want %d and %d", len(confirmed), len(waiting), seats, members-seats)
	}
	for p := 1; p <= members-seats; p++ {
		if !told[p] {
			t.Errorf("nobody was told position %d", p)
		}
	}
	got, err := f.s.GetQASession(context.Background(), qaStore, sess.ID)
	if err != nil || got.Confirmed != seats || got.Waiting != members-seats {
		t.Fatalf("session counts confirmed %d waiting %d (%v); want %d, %d", got.Confirmed, got.Waiting, err, seats, members-seats)
	}
	all, err := f.s.SessionBookings(context.Background(), qaStore, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	byMember := map[string]qa.Booking{}
	var order []string // the waitlist, first first
	for _, b := range all {
		byMember[b.MemberID] = b
		if b.Status == qa.BookingWaitlisted {
			order = append(order, b.MemberID)
			if b.Position != len(order) {
				t.Errorf("waitlist listing: %s at %d, want %d", b.MemberID, b.Position, len(order))
			}
		}
	}
	if len(order) != members-seats {
		t.Fatalf("stored waitlist has %d, want %d", len(order), members-seats)
	}
	// Each told position is the stored one.
	for _, i := range waiting {
		if stored := byMember[f.memberID(i)]; stored.Ticket != results[i].Booking.Ticket {
			t.Errorf("%s: told ticket %d, stored %d", f.memberID(i), results[i].Booking.Ticket, stored.Ticket)
		}
	}

	// Five seat holders cancel at once.
	var cwg sync.WaitGroup
	cres := make([]CancelResult, cancels)
	cerrs := make([]error, cancels)
	for k := range cancels {
		cwg.Go(func() { cres[k], cerrs[k] = f.cancel(sess, f.memberID(confirmed[k])) })
	}
	cwg.Wait()
	promoted := map[string]bool{}
	for k := range cancels {
		if cerrs[k] != nil {
			t.Fatalf("cancel %d: %v", k, cerrs[k])
		}
		if cres[k].Promoted == nil {
			t.Fatalf("cancel %d promoted nobody", k)
		}
		promoted[cres[k].Promoted.MemberID] = true
	}
	for _, m := range order[:cancels] {
		if !promoted[m] {
			t.Errorf("%s was among the first %d on the waitlist but was not promoted (promoted: %v)", m, cancels, promoted)
		}
	}
	got, err = f.s.GetQASession(context.Background(), qaStore, sess.ID)
	if err != nil || got.Confirmed != seats || got.Waiting != members-seats-cancels {
		t.Errorf("after cancels: confirmed %d waiting %d (%v); want %d, %d", got.Confirmed, got.Waiting, err, seats, members-seats-cancels)
	}
	all, err = f.s.SessionBookings(context.Background(), qaStore, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	count := map[qa.BookingStatus]int{}
	for _, b := range all {
		count[b.Status]++
		if b.Status == qa.BookingWaitlisted && b.MemberID != order[cancels+b.Position-1] {
			t.Errorf("after cancels %s is at %d, want %s there", b.MemberID, b.Position, order[cancels+b.Position-1])
		}
	}
	if count[qa.BookingConfirmed] != seats || count[qa.BookingWaitlisted] != members-seats-cancels || count[qa.BookingCancelled] != cancels {
		t.Errorf("bookings by status %v", count)
	}
	// A promoted member has the reminders a seat brings; a cancelled one has none left ringing.
	if r := f.reminders(order[0], sess.ID); r[reminder.StatusActive] != 3 {
		t.Errorf("promoted member's reminders %v, want 3 active (notice, day before, hour before)", r)
	}
	if r := f.reminders(f.memberID(confirmed[0]), sess.ID); r[reminder.StatusActive] != 0 || r[reminder.StatusCancelled] != 3 {
		t.Errorf("cancelled member's reminders %v, want 3 cancelled", r)
	}
}

// Refusals change nothing, and a second tap answers the first booking.
func TestBookingRules(t *testing.T) {
	f := newQAFixture(t, 3)
	f.seedMembers([][2]any{{"unverified", false}})
	ctx := context.Background()
	sess := f.session(1)

	first, err := f.book(sess, f.memberID(0))
	if err != nil || first.Booking.Status != qa.BookingConfirmed || first.Replayed {
		t.Fatalf("first booking %+v, %v", first.Booking, err)
	}
	again, err := f.book(sess, f.memberID(0))
	if err != nil || !again.Replayed || again.Booking.Status != qa.BookingConfirmed {
		t.Fatalf("second tap %+v replayed=%v, %v", again.Booking, again.Replayed, err)
	}
	if r := f.reminders(f.memberID(0), sess.ID); r[reminder.StatusActive] != 3 {
		t.Errorf("reminders after a double tap %v, want 3", r)
	}
	w, err := f.book(sess, f.memberID(1))
	if err != nil || w.Booking.Status != qa.BookingWaitlisted || w.Booking.Position != 1 {
		t.Fatalf("full session: %+v, %v", w.Booking, err)
	}
	w2, err := f.book(sess, f.memberID(1))
	if err != nil || !w2.Replayed || w2.Booking.Position != 1 {
		t.Fatalf("waitlisted double tap: %+v, %v", w2.Booking, err)
	}
	w3, err := f.book(sess, f.memberID(2))
	if err != nil || w3.Booking.Position != 2 {
		t.Fatalf("second on the waitlist: %+v, %v; a dropped ticket must not shift positions", w3.Booking, err)
	}

	for _, tt := range []struct {
		name   string
		member string
		sess   func() qa.Session
		want   error
	}{
		{"unverified", "unverified", func() qa.Session { return f.session(5) }, qa.ErrUnverified},
		{"no such member", "ghost", func() qa.Session { return f.session(5) }, member.ErrNotFound},
		{"not in the target group", f.memberID(0), func() qa.Session { return f.session(5, "G-other") }, qa.ErrNotInTargetGroups},
		{"no such session", f.memberID(0), func() qa.Session { return qa.Session{ID: ids.New()} }, qa.ErrSessionNotFound},
		{"closed", f.memberID(0), func() qa.Session {
			s := f.session(5)
			s.ClosesAt = f.now
			f.mustUpdate(s)
			return s
		}, qa.ErrBookingClosed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.sess()
			if _, err := f.book(s, tt.member); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if s.StoreID == "" {
				return
			}
			got, err := f.s.GetQASession(ctx, qaStore, s.ID)
			if err != nil || got.Confirmed != 0 || got.Waiting != 0 {
				t.Errorf("refused booking changed the session: %+v, %v", got, err)
			}
			if _, err := f.s.GetBooking(ctx, qaStore, s.ID, tt.member); !errors.Is(err, qa.ErrBookingNotFound) {
				t.Errorf("refused booking stored: %v", err)
			}
		})
	}

	// A waitlisted member who cancels leaves; the one behind moves up.
	if _, err := f.cancel(sess, f.memberID(1)); err != nil {
		t.Fatal(err)
	}
	b, err := f.s.GetBooking(ctx, qaStore, sess.ID, f.memberID(2))
	if err != nil || b.Position != 1 {
		t.Errorf("after the first waiter left: %+v, %v", b, err)
	}
	// The seat holder cancels: the seat goes to the one waiting, and booking again after
	// cancelling waits behind them.
	res, err := f.cancel(sess, f.memberID(0))
	if err != nil || res.Promoted == nil || res.Promoted.MemberID != f.memberID(2) {
		t.Fatalf("cancel: %+v, %v", res, err)
	}
	if again, err := f.cancel(sess, f.memberID(0)); err != nil || again.Booking.Status != qa.BookingCancelled || again.Promoted != nil {
		t.Errorf("cancelling twice: %+v, %v", again, err)
	}
	back, err := f.book(sess, f.memberID(0))
	if err != nil || back.Booking.Status != qa.BookingWaitlisted || back.Booking.Position != 1 {
		t.Errorf("booking again: %+v, %v", back.Booking, err)
	}
}

func (f *qaFixture) mustUpdate(s qa.Session) {
	f.t.Helper()
	cur, err := f.s.GetQASession(context.Background(), qaStore, s.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	s.UpdatedAt = cur.UpdatedAt.Add(time.Second)
	if err := f.s.UpdateQASession(context.Background(), s, cur.UpdatedAt); err != nil {
		f.t.Fatal(err)
	}
}

// Capacity: lowering it below the seats taken is refused; raising it fills the new seats from
// the waitlist in order. Cancelling the session tells everyone once, even when retried.
func TestCapacityAndSessionCancel(t *testing.T) {
	f := newQAFixture(t, 5)
	ctx := context.Background()
	sess := f.session(2)
	for i := range 5 {
		if _, err := f.book(sess, f.memberID(i)); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := f.s.GetQASession(ctx, qaStore, sess.ID)
	lower := cur
	lower.Capacity = 1
	if err := f.s.UpdateQASession(ctx, lower, cur.UpdatedAt); !errors.Is(err, qa.ErrCapacityBelowBookings) {
		t.Fatalf("capacity below bookings: %v", err)
	}
	raise := cur
	raise.Capacity, raise.UpdatedAt = 4, cur.UpdatedAt.Add(time.Second)
	if err := f.s.UpdateQASession(ctx, raise, cur.UpdatedAt); err != nil {
		t.Fatal(err)
	}
	promoted, err := f.s.FillSeats(ctx, qaStore, sess.ID, f.notices("staff-1", reminder.ViaStaff), f.now)
	if err != nil || len(promoted) != 2 || promoted[0].MemberID != f.memberID(2) || promoted[1].MemberID != f.memberID(3) {
		t.Fatalf("fill seats: %+v, %v", promoted, err)
	}
	got, _ := f.s.GetQASession(ctx, qaStore, sess.ID)
	if got.Confirmed != 4 || got.Waiting != 1 {
		t.Errorf("after raising: confirmed %d waiting %d", got.Confirmed, got.Waiting)
	}

	_, told, err := f.s.CancelQASession(ctx, qaStore, sess.ID, "staff-1", f.notices("staff-1", reminder.ViaStaff), f.now)
	if err != nil || told != 5 {
		t.Fatalf("cancel session told %d, %v; want 5", told, err)
	}
	_, told, err = f.s.CancelQASession(ctx, qaStore, sess.ID, "staff-1", f.notices("staff-1", reminder.ViaStaff), f.now)
	if err != nil || told != 0 {
		t.Errorf("cancelling again told %d, %v; want 0", told, err)
	}
	for i := range 5 {
		r := f.reminders(f.memberID(i), sess.ID)
		// The cancelled notice rings; any seat's reminders do not.
		if r[reminder.StatusActive] != 1 {
			t.Errorf("%s after the session was cancelled: %v, want exactly the notice active", f.memberID(i), r)
		}
	}
	if _, err := f.book(sess, f.memberID(0)); !errors.Is(err, qa.ErrSessionCancelled) {
		t.Errorf("booking a cancelled session: %v", err)
	}
}

// A session for one group: only its active members book, the group's health counts the seats,
// and attendance — refused before the start — moves the session's and the group's counts.
func TestGroupSessionAndAttendance(t *testing.T) {
	f := newQAFixture(t, 2)
	ctx := context.Background()
	g := group.Group{ID: ids.New(), StoreID: qaStore, Name: "高血压群", EntryRule: group.RuleOpen, CreatedAt: f.now, UpdatedAt: f.now}
	f.batchPut([]any{toGroupItem(g), toMembershipItem(member.Membership{StoreID: qaStore, GroupID: g.ID, MemberID: f.memberID(0),
		Status: member.StatusActive, Path: member.PathQR, JoinedAt: f.now})})
	sess := f.session(5, g.ID)
	if _, err := f.book(sess, f.memberID(1)); !errors.Is(err, qa.ErrNotInTargetGroups) {
		t.Fatalf("outsider booked: %v", err)
	}
	if _, err := f.book(sess, f.memberID(0)); err != nil {
		t.Fatal(err)
	}
	attended := qa.Attended
	if _, _, err := f.s.ChangeBooking(ctx, qaStore, sess.ID, f.memberID(0), BookingChange{Attendance: &attended}, f.now); !errors.Is(err, qa.ErrAttendanceEarly) {
		t.Fatalf("attendance before the start: %v", err)
	}
	later := sess.StartAt.Add(time.Hour)
	if _, _, err := f.s.ChangeBooking(ctx, qaStore, sess.ID, f.memberID(0), BookingChange{Attendance: &attended}, later); err != nil {
		t.Fatal(err)
	}
	noShow := qa.NoShow
	if _, _, err := f.s.ChangeBooking(ctx, qaStore, sess.ID, f.memberID(0), BookingChange{Attendance: &noShow}, later); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.GetQASession(ctx, qaStore, sess.ID)
	if err != nil || got.Attended != 0 || got.NoShow != 1 {
		t.Errorf("session attendance %d/%d (%v), want 0 attended, 1 no-show", got.Attended, got.NoShow, err)
	}
	h, err := f.s.GroupHealth(ctx, qaStore, g.ID, later)
	if err != nil || h.Bookings != 1 || h.Attended != 0 || h.NoShow != 1 {
		t.Errorf("group health bookings %d attended %d no-show %d (%v)", h.Bookings, h.Attended, h.NoShow, err)
	}
}

// Erasure cancels the member's live bookings — the seat goes to the first waiter — and removes
// every booking, copy, booking link and reminder of theirs; others' stay.
func TestEraseActivity(t *testing.T) {
	f := newQAFixture(t, 3)
	ctx := context.Background()
	sess := f.session(1)
	for i := range 3 {
		if _, err := f.book(sess, f.memberID(i)); err != nil {
			t.Fatal(err)
		}
	}
	gone := f.memberID(0)
	if err := f.s.EraseActivity(ctx, qaStore, gone, qaKey, f.now); err != nil {
		t.Fatal(err)
	}
	if err := f.s.EraseActivity(ctx, qaStore, gone, qaKey, f.now); err != nil {
		t.Fatalf("erasing again: %v", err)
	}
	if b, err := f.s.GetBooking(ctx, qaStore, sess.ID, f.memberID(1)); err != nil || b.Status != qa.BookingConfirmed {
		t.Errorf("the first waiter after the erasure: %+v, %v; want confirmed", b, err)
	}
	if b, err := f.s.GetBooking(ctx, qaStore, sess.ID, f.memberID(2)); err != nil || b.Position != 1 {
		t.Errorf("the second waiter: %+v, %v; want position 1", b, err)
	}
	if _, err := f.s.GetBooking(ctx, qaStore, sess.ID, gone); !errors.Is(err, qa.ErrBookingNotFound) {
		t.Errorf("the erased member's booking: %v", err)
	}
	if bs, err := f.s.MemberBookings(ctx, qaStore, gone, f.now, 10); err != nil || len(bs) != 0 {
		t.Errorf("the erased member's copies: %+v, %v", bs, err)
	}
	if _, err := f.s.BookingLinkFrom(ctx, member.HashToken(qa.BookingToken(qaKey, qaStore, sess.ID, gone)), "203.0.113.9", f.now); !errors.Is(err, qa.ErrBookingNotFound) {
		t.Errorf("the erased member's booking page: %v", err)
	}
	if r := f.reminders(gone, sess.ID); len(r) != 0 {
		t.Errorf("the erased member's reminders: %v", r)
	}
	if r := f.reminders(f.memberID(1), sess.ID); r[reminder.StatusActive] != 3 {
		t.Errorf("the promoted member's reminders: %v, want 3 active", r)
	}
	got, err := f.s.GetQASession(ctx, qaStore, sess.ID)
	if err != nil || got.Confirmed != 1 || got.Waiting != 1 {
		t.Errorf("session counts %d/%d (%v), want 1 confirmed, 1 waiting", got.Confirmed, got.Waiting, err)
	}
}

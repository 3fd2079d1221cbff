package qa

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"yinling/shared/access"
	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
)

// A senior's sessions and bookings (/api/sessions, /api/me/bookings), with the session signup
// gave them. The family routes (family.go) answer the same for the senior a link opens.

func (h *Handler) mySessions(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.sessions(ctx, r, a)
}

func (h *Handler) mySession(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return apigw.Response{}, qa.ErrSessionNotFound
	}
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var (
		wg         sync.WaitGroup
		sess       qa.Session
		b          qa.Booking
		sErr, bErr error
	)
	wg.Go(func() { sess, sErr = h.d.Store.GetQASession(ctx, a.storeID, id) })
	wg.Go(func() { b, bErr = h.d.Store.GetBooking(ctx, a.storeID, id, a.memberID) })
	wg.Wait()
	if sErr != nil {
		return apigw.Response{}, sErr
	}
	if bErr != nil && !errors.Is(bErr, qa.ErrBookingNotFound) {
		return apigw.Response{}, bErr
	}
	out := toSessionJSON(sess, apigw.Lang(r), h.now())
	if bErr == nil {
		my := toBookingJSON(b, h.link(r, a, id))
		out.My = &my
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func (h *Handler) bookMine(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in questionJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	q, err := qa.ParseQuestion(in.Question, in.QuestionClipKey)
	if err != nil {
		return apigw.Response{}, err
	}
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return apigw.Response{}, qa.ErrSessionNotFound
	}
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.book(ctx, r, a, id, q)
}

func (h *Handler) cancelMine(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return apigw.Response{}, qa.ErrSessionNotFound
	}
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.cancel(ctx, r, a, id)
}

func (h *Handler) myBookings(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.bookings(ctx, r, a)
}

// sessions lists the upcoming sessions a's member may book, soonest first: the store's
// scheduled sessions meant for everyone or for a group the member is active in, each with the
// member's booking if they have one. A page may hold fewer sessions than asked for (those for
// other groups are left out), or none, and still carry a cursor.
func (h *Handler) sessions(ctx context.Context, r *apigw.Request, a actor) (apigw.Response, error) {
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	now, lang, cursor := h.now(), apigw.Lang(r), r.QueryStringParameters["cursor"]
	var (
		wg             sync.WaitGroup
		page           dynamostore.Page[qa.Session]
		mp             dynamostore.MemberPage
		pageErr, mpErr error
	)
	wg.Go(func() { page, pageErr = h.d.Store.ListQASessions(ctx, a.storeID, now, false, cursor, limit) })
	wg.Go(func() { mp, mpErr = h.d.Store.MemberPage(ctx, a.storeID, a.memberID) })
	wg.Wait()
	if pageErr != nil {
		return apigw.Response{}, pageErr
	}
	if mpErr != nil {
		return apigw.Response{}, missing(mpErr, a)
	}
	var groups []string
	for _, ms := range mp.Memberships {
		if ms.Status == member.StatusActive {
			groups = append(groups, ms.GroupID)
		}
	}
	booked := map[string]bool{}
	for _, b := range mp.Bookings {
		booked[b.SessionID] = true
	}
	var shown []qa.Session
	var sessionIDs []string // listed and booked: a member with no bookings costs no read
	for _, s := range page.Items {
		if s.Status == qa.SessionScheduled && s.Targets(groups) {
			shown = append(shown, s)
			if booked[s.ID] {
				sessionIDs = append(sessionIDs, s.ID)
			}
		}
	}
	mine, err := h.d.Store.MemberBookingsOf(ctx, a.storeID, a.memberID, sessionIDs)
	if err != nil {
		return apigw.Response{}, err
	}
	out := sessionList{Sessions: make([]sessionJSON, len(shown)), Cursor: page.Cursor}
	for i, s := range shown {
		out.Sessions[i] = toSessionJSON(s, lang, now)
		if b, ok := mine[s.ID]; ok {
			my := toBookingJSON(b, h.link(r, a, s.ID))
			out.Sessions[i].My = &my
		}
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// bookings lists a's member's bookings of sessions not over yet, soonest first, cancelled ones
// too (the page says so rather than drop them).
func (h *Handler) bookings(ctx context.Context, r *apigw.Request, a actor) (apigw.Response, error) {
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	now, lang := h.now(), apigw.Lang(r)
	bs, err := h.d.Store.MemberBookings(ctx, a.storeID, a.memberID, now, limit)
	if err != nil {
		return apigw.Response{}, err
	}
	out := myBookingList{Bookings: make([]myBookingJSON, len(bs))}
	for i, b := range bs {
		out.Bookings[i] = toMyBookingJSON(b, lang, h.link(r, a, b.SessionID))
		if b.Status != qa.BookingWaitlisted {
			continue
		}
		cur, err := h.d.Store.GetBooking(ctx, a.storeID, b.SessionID, a.memberID)
		if err != nil {
			return apigw.Response{}, err
		}
		// Promoted or cancelled since the copy was read: say what the booking is now.
		out.Bookings[i].Status, out.Bookings[i].Position = string(cur.Status), cur.Position
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// book gives a's member a seat at session id, or a place on its waitlist. A live booking they
// had already (a double tap, a retry) answers 200 with that booking; a new one 201. Who may book
// — a verified member of a target group, within the booking window, under the member's limit
// of upcoming bookings — the table checks in the same transaction that takes the seat.
func (h *Handler) book(ctx context.Context, r *apigw.Request, a actor, id string, q qa.Question) (apigw.Response, error) {
	q, err := h.claim(ctx, a.storeID, q)
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.now()
	res, err := h.d.Store.Book(ctx, dynamostore.BookRequest{StoreID: a.storeID, SessionID: id, MemberID: a.memberID,
		Question: q, Via: a.via, By: a.by, LinkHash: member.HashToken(h.bookingToken(a.storeID, id, a.memberID)),
		Notices: h.notices(a.by, a.via, now), Now: now})
	if err != nil {
		return apigw.Response{}, missing(err, a)
	}
	sess, b, status := res.Session, res.Booking, http.StatusOK
	if !res.Replayed {
		// The session was read before this booking counted.
		status = http.StatusCreated
		if b.Status == qa.BookingConfirmed {
			sess.Confirmed++
		} else {
			sess.Waiting++
		}
	}
	my := toBookingJSON(b, h.link(r, a, id))
	out := bookResult{Status: string(b.Status), Position: b.Position, Booking: my,
		Session: toSessionJSON(sess, apigw.Lang(r), now)}
	out.Session.My = &my
	return apigw.JSON(status, out), nil
}

// cancel cancels a's member's booking of session id, with its reminders; a seat goes to the
// first on the waitlist, in the same transaction.
func (h *Handler) cancel(ctx context.Context, r *apigw.Request, a actor, id string) (apigw.Response, error) {
	now := h.now()
	res, err := h.d.Store.CancelBooking(ctx, dynamostore.CancelRequest{StoreID: a.storeID, SessionID: id,
		MemberID: a.memberID, By: a.by, Via: a.via, Notices: h.notices(a.by, a.via, now), Now: now})
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, cancelResult{Booking: toBookingJSON(res.Booking, h.link(r, a, id)),
		Promoted: res.Promoted != nil}), nil
}

// me is the caller, from their session (access.Member).
func (h *Handler) me(ctx context.Context, r *apigw.Request) (actor, error) {
	sess, err := access.Member(ctx, h.d.Store, r, h.d.Now())
	if err != nil {
		return actor{}, err
	}
	return actor{storeID: sess.StoreID, memberID: sess.MemberID, via: reminder.ViaMember, by: sess.MemberID,
		links: true, missing: access.ErrSessionRequired}, nil
}

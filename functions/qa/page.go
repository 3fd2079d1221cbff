package qa

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
)

// The booking page (/b/{token}): the link in every message about a booking. No login — a senior
// taps the link in an SMS — so the token is the credential: 132 bits derived from the booking
// (qa.BookingToken), looked up by its hash, with failed lookups limited per address like family
// tokens. It shows the session in large type and the booking's status, and cancels it.

func (h *Handler) page(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.pageActor(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	id := a.session
	// The session, the booking and the senior's name are independent: fetched together, the page
	// opens in the time of the slowest, on a phone that may be on a weak signal.
	var (
		wg                  sync.WaitGroup
		sess                qa.Session
		b                   qa.Booking
		m                   member.Member
		sErr, bErr, nameErr error
	)
	wg.Go(func() { sess, sErr = h.d.Store.GetQASession(ctx, a.storeID, id) })
	wg.Go(func() { b, bErr = h.d.Store.GetBooking(ctx, a.storeID, id, a.memberID) })
	wg.Go(func() { m, _, nameErr = h.d.Store.MemberWithStore(ctx, a.storeID, a.memberID) })
	wg.Wait()
	if errors.Is(sErr, qa.ErrSessionNotFound) || errors.Is(nameErr, member.ErrNotFound) {
		return apigw.Response{}, qa.ErrBookingNotFound // gone since: the senior erased their data
	}
	if err := errors.Join(sErr, bErr, nameErr); err != nil {
		return apigw.Response{}, err
	}
	booking := toBookingJSON(b, h.link(r, a.actor, id))
	return apigw.JSON(http.StatusOK, pageResult{Session: toSessionJSON(sess, apigw.Lang(r), h.now()),
		Booking: booking, MemberName: m.Name}), nil
}

// pageCancel is the page's cancel button: the member's own doing.
func (h *Handler) pageCancel(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.pageActor(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.cancel(ctx, r, a.actor, a.session)
}

// pageBooking is the member a booking page token speaks for, and the session.
type pageBooking struct {
	actor
	session string
}

// pageActor is the booking a page token leads to. A token that cannot be one counts against the
// caller's address without a read, like a miss.
func (h *Handler) pageActor(ctx context.Context, r *apigw.Request) (pageBooking, error) {
	token := r.PathParameters["token"]
	now := h.d.Now().UTC()
	client := r.RequestContext.HTTP.SourceIP
	if !qa.ValidBookingToken(token) {
		if err := h.d.Store.CountFailedGuess(ctx, dynamostore.GuessBooking, client, now); err != nil {
			return pageBooking{}, err
		}
		return pageBooking{}, qa.ErrBookingNotFound
	}
	link, err := h.d.Store.BookingLinkFrom(ctx, member.HashToken(token), client, now)
	if err != nil {
		return pageBooking{}, err
	}
	return pageBooking{actor: actor{storeID: link.StoreID, memberID: link.MemberID, via: reminder.ViaMember,
		by: link.MemberID, links: true, missing: qa.ErrBookingNotFound}, session: link.SessionID}, nil
}

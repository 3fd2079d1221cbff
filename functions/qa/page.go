package qa

import (
	"context"
	"net/http"

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
	p, err := h.d.Store.BookingPage(ctx, a.storeID, a.session, a.memberID)
	if err != nil {
		return apigw.Response{}, err // qa.ErrBookingNotFound too if the senior erased their data since
	}
	booking := toBookingJSON(p.Booking, h.link(r, a.actor, a.session))
	return apigw.JSON(http.StatusOK, pageResult{Session: toSessionJSON(p.Session, apigw.Lang(r), h.now()),
		Booking: booking, MemberName: p.MemberName}), nil
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

package qa

import (
	"context"

	"yinling/shared/access"
	"yinling/shared/apigw"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
)

// A family link's sessions and bookings (/api/family/{token}/…): scope view reads the senior's
// sessions and bookings; scope helper also books a seat for the senior, with a question, and
// cancels one — recorded as the link's doing. Unknown, expired and revoked links answer alike,
// and failed lookups are limited per address as in signup.

func (h *Handler) familySessions(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.family(ctx, r, member.ScopeView)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.sessions(ctx, r, a)
}

func (h *Handler) familyBookings(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.family(ctx, r, member.ScopeView)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.bookings(ctx, r, a)
}

func (h *Handler) familyBook(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in familyBookJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	q, err := qa.ParseQuestion(in.Question, in.QuestionClipKey)
	if err != nil {
		return apigw.Response{}, err
	}
	if !ids.Valid(in.SessionID) {
		return apigw.Response{}, qa.ErrSessionNotFound
	}
	a, err := h.family(ctx, r, member.ScopeHelper)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.book(ctx, r, a, in.SessionID, q)
}

func (h *Handler) familyCancel(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	id := r.PathParameters["sessionId"]
	if !ids.Valid(id) {
		return apigw.Response{}, qa.ErrSessionNotFound
	}
	a, err := h.family(ctx, r, member.ScopeHelper)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.cancel(ctx, r, a, id)
}

// family is the senior a family link opens, if the link is usable and its scope allows need. A
// token that cannot be one counts against the caller's address without a read, like a miss.
// Only a helper link's answers carry booking page links (each one cancels).
func (h *Handler) family(ctx context.Context, r *apigw.Request, need member.Scope) (actor, error) {
	link, err := access.Family(ctx, h.d.Store, r, need, h.d.Now().UTC())
	if err != nil {
		return actor{}, err
	}
	return actor{storeID: link.StoreID, memberID: link.MemberID, via: reminder.ViaFamily, by: link.ID,
		links: link.Scope.Allows(member.ScopeHelper), missing: member.ErrLinkNotFound}, nil
}

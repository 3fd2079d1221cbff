package reminders

import (
	"context"
	"net/http"

	"yinling/shared/access"
	"yinling/shared/apigw"
	"yinling/shared/reminder"
)

// A senior's own reminders (/api/me/reminders), with the session signup gave them. Nothing is
// sent to a phone that is not verified yet; that is the sender's rule, so a reminder can be set
// up before.

func (h *Handler) myReminders(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.list(ctx, r, a)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, h.listJSON(r, page)), nil
}

func (h *Handler) createMine(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in draftJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	rem, err := h.create(ctx, a, in)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, toReminderJSON(rem, h.link(r, rem))), nil
}

func (h *Handler) updateMine(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in patchJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	rem, err := h.update(ctx, a, r.PathParameters["id"], in)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toReminderJSON(rem, h.link(r, rem))), nil
}

func (h *Handler) cancelMine(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.cancel(ctx, a, r.PathParameters["id"]); err != nil {
		return apigw.Response{}, err
	}
	return apigw.NoContent(), nil
}

// me is the caller, from their session (access.Member).
func (h *Handler) me(ctx context.Context, r *apigw.Request) (actor, error) {
	sess, err := access.Member(ctx, h.d.Store, r, h.d.Now())
	if err != nil {
		return actor{}, err
	}
	return actor{storeID: sess.StoreID, memberID: sess.MemberID, via: reminder.ViaMember, by: sess.MemberID,
		missing: access.ErrSessionRequired}, nil
}

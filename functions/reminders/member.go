package reminders

import (
	"context"
	"net/http"

	"yinling/shared/access"
	"yinling/shared/apigw"
	"yinling/shared/reminder"
)

// A senior's own reminders (/api/me/reminders), with the session signup gave them, and their
// recorded clips (/api/me/voice-uploads). Nothing is sent to a phone that is not verified yet;
// that is the sender's rule, so a reminder can be set up before.

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

// myUpload answers where the senior uploads a clip they recorded — their question for a doctor
// Q&A session, which the booking then names (functions/qa claims it for the same store).
func (h *Handler) myUpload(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in uploadJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	a, err := h.me(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.presign(ctx, a.storeID, in)
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

package reminders

import (
	"context"
	"net/http"

	"yinling/shared/access"
	"yinling/shared/apigw"
	"yinling/shared/member"
	"yinling/shared/reminder"
)

// A family link's reminders (/api/family/{token}/…): scope view reads the senior's reminders;
// scope helper also adds, changes and cancels them and uploads recorded clips — a daughter's
// own voice saying "妈，该吃降压药了" is heard where a synthetic one is not. Unknown, expired
// and revoked links answer alike, and failed lookups are limited per address as in signup.

func (h *Handler) familyReminders(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.family(ctx, r, member.ScopeView)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.list(ctx, r, a)
	if err != nil {
		return apigw.Response{}, err
	}
	out := reminderList{Reminders: make([]reminderJSON, len(page.Items)), Cursor: page.Cursor}
	for i, rem := range page.Items {
		out.Reminders[i] = h.familyJSON(ctx, rem)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// familyJSON renders rem for a family link: no page link (see reminderJSON), but, for a reminder
// with a recorded clip, a presigned URL of it, so that the family page's Listen plays the voice
// that was recorded. Signing is computed here, no call to S3; a text reminder gets no URL and is
// spoken by the phone, as the page always did.
func (h *Handler) familyJSON(ctx context.Context, rem reminder.Reminder) reminderJSON {
	out := toReminderJSON(rem, "")
	if rem.ClipKey == "" {
		return out
	}
	url, err := h.d.Clips.URL(ctx, rem.ClipKey, audioTTL)
	if err != nil {
		// The list is still worth showing: Listen then speaks the words, if any.
		h.d.Log.WarnContext(ctx, "presign reminder clip", "reminder", rem.ID, "err", err)
		return out
	}
	out.AudioURL = url
	return out
}

func (h *Handler) familyCreate(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in draftJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	a, err := h.family(ctx, r, member.ScopeHelper)
	if err != nil {
		return apigw.Response{}, err
	}
	rem, err := h.create(ctx, a, in)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, h.familyJSON(ctx, rem)), nil
}

func (h *Handler) familyUpdate(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in patchJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	a, err := h.family(ctx, r, member.ScopeHelper)
	if err != nil {
		return apigw.Response{}, err
	}
	rem, err := h.update(ctx, a, r.PathParameters["id"], in)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, h.familyJSON(ctx, rem)), nil
}

func (h *Handler) familyCancel(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := h.family(ctx, r, member.ScopeHelper)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.cancel(ctx, a, r.PathParameters["id"]); err != nil {
		return apigw.Response{}, err
	}
	return apigw.NoContent(), nil
}

func (h *Handler) familyUpload(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in uploadJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	a, err := h.family(ctx, r, member.ScopeHelper)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.presign(ctx, a.storeID, in)
}

// presign answers where to upload one clip of a store.
func (h *Handler) presign(ctx context.Context, storeID string, in uploadJSON) (apigw.Response, error) {
	u, err := h.d.Clips.Presign(ctx, storeID, in.ContentType, in.Size)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, toUploadResult(u)), nil
}

// family is the senior a family link opens, if the link is usable and its scope allows need. A
// token that cannot be one counts against the caller's address without a read, like a miss.
func (h *Handler) family(ctx context.Context, r *apigw.Request, need member.Scope) (actor, error) {
	link, err := access.Family(ctx, h.d.Store, r, need, h.d.Now().UTC())
	if err != nil {
		return actor{}, err
	}
	return actor{storeID: link.StoreID, memberID: link.MemberID, via: reminder.ViaFamily, by: link.ID,
		missing: member.ErrLinkNotFound}, nil
}

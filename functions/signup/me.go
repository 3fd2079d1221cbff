package signup

import (
	"context"
	"errors"
	"net/http"
	"time"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/member"
)

// A senior's own data (PIPL): change it, take it with them, or erase it.

var errProfileConflict = &fail.Error{Kind: fail.Conflict, Code: "profile_changed"}

func (h *Handler) updateMe(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	sess, err := h.session(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in patchMeJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	m, store, err := h.d.Store.MemberWithStore(ctx, sess.StoreID, sess.MemberID)
	if errors.Is(err, member.ErrNotFound) {
		return apigw.Response{}, errSessionRequired
	}
	if err != nil {
		return apigw.Response{}, err
	}
	updated, changes, err := m.Apply(in.patch(), store.Interests, h.d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	err = h.d.Store.UpdateProfile(ctx, updated, m.UpdatedAt, changes)
	if errors.Is(err, dynamostore.ErrProfileChanged) {
		// Someone (another tab, a relative) saved a moment ago: say so rather than overwrite.
		return apigw.Response{}, errProfileConflict
	}
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toProfileJSON(updated, h.d.Now())), nil
}

func (h *Handler) exportMe(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	sess, err := h.session(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.MemberPage(ctx, sess.StoreID, sess.MemberID)
	if errors.Is(err, member.ErrNotFound) {
		return apigw.Response{}, errSessionRequired
	}
	if err != nil {
		return apigw.Response{}, err
	}
	history, err := h.d.Store.ConsentHistory(ctx, sess.StoreID, sess.MemberID)
	if err != nil {
		return apigw.Response{}, err
	}
	resp := apigw.JSON(http.StatusOK, toExportJSON(page, history, h.d.Now()))
	resp.Headers["content-disposition"] = `attachment; filename="yinling-my-data.json"`
	return resp, nil
}

// eraseMe deletes the senior's personal data and ends the session. It is final: the next visit
// is a new signup.
func (h *Handler) eraseMe(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	sess, err := h.session(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.MemberPage(ctx, sess.StoreID, sess.MemberID)
	if errors.Is(err, member.ErrNotFound) {
		return apigw.Response{}, errSessionRequired
	}
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.d.Store.Erase(ctx, page, sess.TokenHash); err != nil {
		return apigw.Response{}, err
	}
	h.d.Log.InfoContext(ctx, "member erased", "member", sess.MemberID, "store", sess.StoreID)
	resp := apigw.NoContent()
	resp.Cookies = []string{sessionCookie("", -time.Second)} // and forget the cookie
	return resp, nil
}

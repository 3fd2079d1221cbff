package signup

import (
	"context"
	"errors"
	"net/http"
	"time"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/ids"
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
	sess, page, err := h.myPage(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	history, err := h.d.Store.ConsentHistory(ctx, sess.StoreID, sess.MemberID)
	if err != nil {
		return apigw.Response{}, err
	}
	act, err := h.d.Store.MemberActivity(ctx, sess.StoreID, sess.MemberID)
	if err != nil {
		return apigw.Response{}, err
	}
	resp := apigw.JSON(http.StatusOK, toExportJSON(page, history, act, h.d.Now()))
	resp.Headers["content-disposition"] = `attachment; filename="yinling-my-data.json"`
	return resp, nil
}

// eraseMe deletes the senior's personal data and ends the session. It is final: the next visit
// is a new signup.
func (h *Handler) eraseMe(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	sess, page, err := h.myPage(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	// Bookings and reminders first: should this fail, the member is still there to try again.
	if err := h.d.Store.EraseActivity(ctx, sess.StoreID, sess.MemberID, h.d.Key, h.d.Now()); err != nil {
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

var errNotActive = &fail.Error{Kind: fail.Conflict, Code: "not_active_member", Field: "groupId"}

// referral gives the senior their own code to bring a neighbour into a group they are active in
// (the first such group unless groupId says which). Asking again returns the same code.
func (h *Handler) referral(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in referralJSON
	if r.Body != "" {
		if err := apigw.Decode(r, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	_, page, err := h.myPage(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var ms *member.Membership
	for i, m := range page.Memberships {
		if m.Status == member.StatusActive && (in.GroupID == "" || m.GroupID == in.GroupID) {
			ms = &page.Memberships[i]
			break
		}
	}
	if ms == nil {
		return apigw.Response{}, errNotActive
	}
	base := apigw.BaseURL(h.d.BaseURL, r)
	if ms.ReferralCode != "" {
		return apigw.JSON(http.StatusOK, referralResult{Code: ms.ReferralCode, URL: base + "/join/" + ms.ReferralCode, GroupID: ms.GroupID}), nil
	}
	for attempt := 0; ; attempt++ {
		code := ids.NewCode()
		err := h.d.Store.CreateReferral(ctx, *ms, code, h.d.Now().UTC().Truncate(time.Second))
		switch {
		case errors.Is(err, dynamostore.ErrCodeTaken) && attempt < 3:
			continue
		case errors.Is(err, dynamostore.ErrExists):
			// Made by a parallel request a moment ago: answer with it.
			cur, err := h.d.Store.GetMembership(ctx, ms.StoreID, ms.MemberID, ms.GroupID)
			if err != nil {
				return apigw.Response{}, err
			}
			if cur.ReferralCode == "" {
				return apigw.Response{}, errNotActive
			}
			code = cur.ReferralCode
		case err != nil:
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusCreated, referralResult{Code: code, URL: base + "/join/" + code, GroupID: ms.GroupID}), nil
	}
}

// myPage returns the caller's session and everything in their partition; a session whose
// member was erased since is no session.
func (h *Handler) myPage(ctx context.Context, r *apigw.Request) (dynamostore.Session, dynamostore.MemberPage, error) {
	sess, err := h.session(ctx, r)
	if err != nil {
		return dynamostore.Session{}, dynamostore.MemberPage{}, err
	}
	page, err := h.d.Store.MemberPage(ctx, sess.StoreID, sess.MemberID)
	if errors.Is(err, member.ErrNotFound) {
		return dynamostore.Session{}, dynamostore.MemberPage{}, errSessionRequired
	}
	return sess, page, err
}

package signup

import (
	"context"
	"errors"
	"net/http"
	"time"

	"yinling/shared/access"
	"yinling/shared/apigw"
	"yinling/shared/ids"
	"yinling/shared/member"
)

// Family links (capability links, DESIGN.md §6): a senior gives a relative a link that shows
// their page — and, with scope helper, lets them help — until it expires or is revoked. The
// token is shown once, in the link; only its hash is stored.

func (h *Handler) createFamilyLink(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	sess, err := h.session(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in familyLinkJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	scope, err := member.ParseScope(in.Scope)
	if err != nil {
		return apigw.Response{}, err
	}
	owner := member.Member{ID: sess.MemberID, StoreID: sess.StoreID}
	link, token, err := member.NewFamilyLink(owner, sess.MemberID, member.FamilyLinkDraft{
		Label: in.Label, Scope: scope, Alerts: in.Alerts, AlertPhone: in.AlertPhone,
		AlertChannel: member.Channel(in.AlertChannel), TTLDays: in.TTLDays,
	}, h.d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	link.ID = ids.New()
	if err := h.d.Store.CreateFamilyLink(ctx, link); err != nil {
		return apigw.Response{}, err
	}
	out := toLinkJSON(link)
	out.URL = apigw.BaseURL(h.d.BaseURL, r) + "/f/" + token
	return apigw.JSON(http.StatusCreated, out), nil
}

func (h *Handler) revokeFamilyLink(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	sess, err := h.session(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return apigw.Response{}, member.ErrLinkNotFound
	}
	if err := h.d.Store.RevokeFamilyLink(ctx, sess.StoreID, sess.MemberID, id); err != nil {
		return apigw.Response{}, err
	}
	return apigw.NoContent(), nil
}

// family is what a link's holder sees: one senior, within the link's scope. Unknown, expired and
// revoked tokens answer alike.
func (h *Handler) family(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	now := h.d.Now().UTC()
	link, err := access.Family(ctx, h.d.Store, r, member.ScopeView, now)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.MemberPage(ctx, link.StoreID, link.MemberID)
	if errors.Is(err, member.ErrNotFound) {
		return apigw.Response{}, member.ErrLinkNotFound // the senior erased their data
	}
	if err != nil {
		return apigw.Response{}, err
	}
	for _, l := range page.Links {
		if l.ID == link.ID && now.Sub(l.LastUsedAt) > time.Hour {
			if err := h.d.Store.TouchFamilyLink(ctx, link, now); err != nil {
				h.d.Log.WarnContext(ctx, "record family link use", "err", err) // a view still succeeds
			}
		}
	}
	return apigw.JSON(http.StatusOK, familyViewJSON{
		Name: page.Member.Name, Label: link.Label, Scope: string(link.Scope), ExpiresAt: link.ExpiresAt.UTC(),
	}), nil
}

package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"yinling/shared/apigw"
	"yinling/shared/ids"
	"yinling/shared/member"
)

// createFamilyLink makes a family link for a senior who asked staff to (many cannot copy a link
// on their phone), with how they consented recorded on the link. The URL is answered once, for
// staff to hand over; the senior sees the link on their page and can revoke it like their own.
// Two calls: the member (404 for another store's), then the link's transaction.
func (h *Handler) createFamilyLink(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndMember(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in staffLinkJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	consent := member.LinkConsent(in.Consent)
	if err := member.ValidStaffConsent(consent); err != nil {
		return apigw.Response{}, err
	}
	scope, err := member.ParseScope(in.Scope)
	if err != nil {
		return apigw.Response{}, err
	}
	m, _, err := h.d.Store.MemberWithStore(ctx, staff.StoreID, id)
	if errors.Is(err, member.ErrNotFound) {
		return apigw.Response{}, member.ErrNotFound
	}
	if err != nil {
		return apigw.Response{}, err
	}
	link, token, err := member.NewFamilyLink(m, staff.ID, member.FamilyLinkDraft{
		Label: in.Label, Scope: scope, Alerts: in.Alerts, TTLDays: in.TTLDays, Consent: consent,
	}, h.d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	link.ID = ids.New()
	if err := h.d.Store.CreateFamilyLink(ctx, link); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, staffLinkResult{
		ID: link.ID, URL: apigw.BaseURL(h.d.BaseURL, r) + "/f/" + token, MemberID: m.ID, Label: link.Label,
		Scope: string(link.Scope), Alerts: link.Alerts, Consent: string(link.Consent), ExpiresAt: link.ExpiresAt.UTC(),
	}), nil
}

type staffLinkJSON struct {
	Label   string `json:"label"`
	Scope   string `json:"scope"`
	Alerts  bool   `json:"alerts"`
	TTLDays *int   `json:"ttlDays"`
	Consent string `json:"consent"`
}

type staffLinkResult struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	MemberID  string    `json:"memberId"`
	Label     string    `json:"label"`
	Scope     string    `json:"scope"`
	Alerts    bool      `json:"alerts"`
	Consent   string    `json:"consent"`
	ExpiresAt time.Time `json:"expiresAt"`
}

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
// Two calls: the member (404 for another store's), then the link's transaction; a draft that
// breaks a rule is refused before either.
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
	// NewFamilyLink needs only the senior's id and store, both known here, so the draft is
	// checked before the member is read.
	link, token, err := member.NewFamilyLink(member.Member{ID: id, StoreID: staff.StoreID}, staff.ID, member.FamilyLinkDraft{
		Label: in.Label, Scope: scope, Alerts: in.Alerts, AlertPhone: in.AlertPhone,
		AlertChannel: member.Channel(in.AlertChannel), TTLDays: in.TTLDays, Consent: consent,
	}, h.d.Now())
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
	link.ID = ids.New()
	if err := h.d.Store.CreateFamilyLink(ctx, link); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, staffLinkResult{
		ID: link.ID, URL: apigw.BaseURL(h.d.BaseURL, r) + "/f/" + token, MemberID: m.ID, Label: link.Label,
		Scope: string(link.Scope), Alerts: link.Alerts, AlertPhone: link.AlertPhone.Masked(), AlertChannel: string(link.AlertChannel),
		Consent: string(link.Consent), ExpiresAt: link.ExpiresAt.UTC(),
	}), nil
}

type staffLinkJSON struct {
	Label        string `json:"label"`
	Scope        string `json:"scope"`
	Alerts       bool   `json:"alerts"`
	AlertPhone   string `json:"alertPhone"`
	AlertChannel string `json:"alertChannel"`
	TTLDays      *int   `json:"ttlDays"`
	Consent      string `json:"consent"`
}

// staffLinkResult answers a staff-made link. The relative's number comes back masked: staff read
// it back to the senior by its last digits and never see it whole.
type staffLinkResult struct {
	ID           string    `json:"id"`
	URL          string    `json:"url"`
	MemberID     string    `json:"memberId"`
	Label        string    `json:"label"`
	Scope        string    `json:"scope"`
	Alerts       bool      `json:"alerts"`
	AlertPhone   string    `json:"alertPhone,omitempty"`
	AlertChannel string    `json:"alertChannel,omitempty"`
	Consent      string    `json:"consent"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

package promotions

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"yinling/shared/access"
	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/i18n"
	"yinling/shared/member"
	"yinling/shared/promo"
)

// The offer page (/o/{token}): the link in every push. No login — a senior taps the link in an
// SMS — so the token is the credential: the chunk's code and the member's place in it, with a
// MAC that binds it to that member (promo.OfferToken), checked against the chunk's member list
// in constant time. Every miss counts against the caller's address, like booking and family
// tokens. It shows the offer at the member's own tier's price and unsubscribes in one tap.

// errOfferNotFound answers any token that does not lead to an offer, whatever the reason.
var errOfferNotFound = &fail.Error{Kind: fail.NotFound, Code: "offer_not_found"}

// offerPage is what the page shows, and the member's first open counted: the chunk, the
// campaign with the member, and the open (first time only) — three calls at most.
func (h *Handler) offerPage(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	ch, memberID, err := h.offerChunk(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	c, rec, err := h.d.Store.OfferOf(ctx, ch, memberID)
	if errors.Is(err, promo.ErrNotFound) {
		return apigw.Response{}, errOfferNotFound // gone since: the senior erased their data
	}
	if err != nil {
		return apigw.Response{}, err
	}
	if _, err := h.d.Store.OpenOffer(ctx, ch, memberID); err != nil {
		// The page still opens: a lost count is better than a senior who sees an error.
		h.d.Log.WarnContext(ctx, "count offer open", "campaign", ch.CampaignID, "err", err)
	}
	return apigw.JSON(http.StatusOK, toOfferPage(c, rec, apigw.Lang(r))), nil
}

// offerUnsubscribe is the page's unsubscribe button: the member's own doing, counted in the
// campaign's and the group's figures.
func (h *Handler) offerUnsubscribe(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	ch, memberID, err := h.offerChunk(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	rec, err := h.recipient(ctx, ch.StoreID, memberID, errOfferNotFound)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.withdraw(ctx, rec, &ch); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, unsubscribeResult{Unsubscribed: true}), nil
}

// unsubscribeMe stops marketing pushes for the signed-in senior (their own page's switch).
func (h *Handler) unsubscribeMe(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	sess, err := access.Member(ctx, h.d.Store, r, h.d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	rec, err := h.recipient(ctx, sess.StoreID, sess.MemberID, access.ErrSessionRequired)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.withdraw(ctx, rec, nil); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, unsubscribeResult{Unsubscribed: true}), nil
}

// offerChunk is the chunk an offer token names and the member at its place. A token that
// cannot be one, an unknown chunk, a place past its members and a MAC that does not match all
// answer alike, each counted as a failed guess.
func (h *Handler) offerChunk(ctx context.Context, r *apigw.Request) (dynamostore.OfferChunk, string, error) {
	token := r.PathParameters["token"]
	code, pos, ok := promo.ParseOfferToken(token)
	if !ok {
		return dynamostore.OfferChunk{}, "", h.miss(ctx, r)
	}
	ch, err := h.d.Store.OfferChunkFrom(ctx, code, r.RequestContext.HTTP.SourceIP, h.d.Now().UTC())
	if errors.Is(err, dynamostore.ErrNoChunk) {
		return dynamostore.OfferChunk{}, "", errOfferNotFound // counted by the lookup
	}
	if err != nil {
		return dynamostore.OfferChunk{}, "", err
	}
	if pos >= len(ch.Members) || !promo.ValidOfferToken(h.d.Key, token, ch.Members[pos]) {
		return dynamostore.OfferChunk{}, "", h.miss(ctx, r)
	}
	return ch, ch.Members[pos], nil
}

// miss counts a failed lookup against the caller's address and answers not found.
func (h *Handler) miss(ctx context.Context, r *apigw.Request) error {
	if err := h.d.Store.CountFailedGuess(ctx, dynamostore.GuessOffer, r.RequestContext.HTTP.SourceIP, h.d.Now().UTC()); err != nil {
		return err
	}
	return errOfferNotFound
}

// recipient reads one member as the fan-out sees them (consents and opt-out included); a member
// who is gone answers missing.
func (h *Handler) recipient(ctx context.Context, store, memberID string, missing error) (dynamostore.Recipient, error) {
	recs, err := h.d.Store.Recipients(ctx, store, []string{memberID})
	if err != nil {
		return dynamostore.Recipient{}, err
	}
	rec, ok := recs[memberID]
	if !ok {
		return dynamostore.Recipient{}, missing
	}
	return rec, nil
}

// withdraw unsubscribes rec from marketing pushes: the marketing consent withdrawn, with its
// record in the consent history, and the opt-out, in one transaction (dynamostore.Unsubscribe);
// from, the chunk of the link used, if any, is counted in its campaign's and group's figures.
// A member already opted out is left as is: unsubscribing twice changes nothing.
func (h *Handler) withdraw(ctx context.Context, rec dynamostore.Recipient, from *dynamostore.OfferChunk) error {
	if rec.OptedOut {
		return nil
	}
	now := h.now()
	w := member.Consent{Kind: member.ConsentMarketing, Granted: false, Version: member.ConsentVersion, At: now}
	// A member who withdrew the consent on their profile already still gets a record of this
	// choice: the history shows each time they said no.
	if changes := member.Changes(rec.Consents, map[member.ConsentKind]bool{member.ConsentMarketing: false}, now); len(changes) == 1 {
		w = changes[0]
	}
	first, err := h.d.Store.Unsubscribe(ctx, rec.Member, w, from, now)
	if err != nil {
		return err
	}
	if first {
		h.d.Log.InfoContext(ctx, "member unsubscribed", "store", rec.StoreID, "member", rec.ID, "from_offer", from != nil)
	}
	return nil
}

// toOfferPage renders campaign c for recipient rec in l.
func toOfferPage(c promo.Campaign, rec dynamostore.Recipient, l i18n.Lang) offerPageJSON {
	tier := rec.Tier
	if tier == "" {
		tier = member.TierMember
	}
	out := offerPageJSON{Title: c.Title, Body: c.Body, ImageURL: c.ImageURL, MemberName: rec.Name, Tier: string(tier),
		Status: string(c.Status), Unsubscribed: rec.OptedOut}
	parts := []string{c.Title, c.Body}
	if o := c.Offer; o != nil {
		price := o.Price(tier)
		loc := zone(rec.TimeZone)
		from, until := o.PickupFrom.UTC(), o.PickupUntil.UTC()
		out.Price, out.PriceText = &price, "¥"+promo.Yuan(price)
		out.PickupPlace, out.PickupFrom, out.PickupUntil = o.PickupPlace, &from, &until
		out.PickupText = i18n.Fill(i18n.T(l, "promo.offer.window"),
			"from", i18n.When(l, from, loc), "until", i18n.When(l, until, loc))
		place := o.PickupPlace
		if place == "" {
			place = i18n.T(l, "promo.offer.in_store")
		}
		parts = append(parts, i18n.Fill(i18n.T(l, "promo.offer.speak_price"), "yuan", promo.Yuan(price)),
			i18n.Fill(i18n.T(l, "promo.offer.speak_pickup"), "place", place, "when", out.PickupText))
	}
	out.Speak = sentence(l, parts)
	return out
}

// zone is a member's time zone; one that no longer loads is the default zone.
func zone(name string) *time.Location {
	loc, err := member.ParseTimeZone(name)
	if err != nil {
		loc, _ = member.ParseTimeZone("")
	}
	return loc
}

// sentence joins parts as one text to read aloud, each ended by a full stop unless it ends in
// one already: "买一送一。本周三到店。" rather than "买一送一。。本周三到店".
func sentence(l i18n.Lang, parts []string) string {
	stop, space := i18n.T(l, "promo.offer.stop"), ""
	if l == i18n.En {
		space = " "
	}
	var b strings.Builder
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(space)
		}
		b.WriteString(p)
		if !slices.ContainsFunc(stops, func(s string) bool { return strings.HasSuffix(p, s) }) {
			b.WriteString(stop)
		}
	}
	return b.String()
}

// stops end a sentence already.
var stops = []string{".", "!", "?", "。", "！", "？"}

package promotions

import (
	"time"

	"yinling/shared/apigw"
	"yinling/shared/fail"
	"yinling/shared/member"
	"yinling/shared/promo"
)

// Wire (JSON) forms of the campaign API (shared/apispec/openapi.yaml). The domain types carry
// no json tags: what a client sees can change without touching what is stored, and back.

// campaignDraftJSON is a new campaign as staff submit it. Times are RFC 3339; sendAt absent
// sends at once. Prices are in fen, one per tier.
type campaignDraftJSON struct {
	Kind     string          `json:"kind"`
	Title    string          `json:"title"`
	Body     string          `json:"body"`
	ImageURL string          `json:"imageUrl"`
	Audience audienceJSON    `json:"audience"`
	Offer    *offerDraftJSON `json:"offer"`
	Channel  string          `json:"channel"`
	SendAt   string          `json:"sendAt"`
	Days     int             `json:"days"`
}

// audienceJSON is who a campaign is for, in drafts and answers alike.
type audienceJSON struct {
	Groups   []string `json:"groups"`
	Tags     []string `json:"tags"`
	Tiers    []string `json:"tiers"`
	AgeBands []string `json:"ageBands"`
	Match    string   `json:"match"`
}

type offerDraftJSON struct {
	Prices      map[string]int `json:"prices"`
	PickupPlace string         `json:"pickupPlace"`
	PickupFrom  string         `json:"pickupFrom"`
	PickupUntil string         `json:"pickupUntil"`
}

// draft is in as the domain takes it; only times that cannot be read are refused here, the
// rest is promo.New's to judge.
func (in campaignDraftJSON) draft() (promo.Draft, error) {
	d := promo.Draft{Kind: promo.Kind(in.Kind), Title: in.Title, Body: in.Body, ImageURL: in.ImageURL,
		Audience: in.Audience.audience(), Channel: promo.Channel(in.Channel), Days: in.Days}
	var err error
	if d.SendAt, err = optionalTime(in.SendAt, apigw.ErrInvalidType.OnField("sendAt")); err != nil {
		return promo.Draft{}, err
	}
	if in.Offer != nil {
		if d.Offer, err = in.Offer.offer(); err != nil {
			return promo.Draft{}, err
		}
	}
	return d, nil
}

func (in audienceJSON) audience() promo.Audience {
	a := promo.Audience{Groups: in.Groups, Tags: in.Tags, Match: promo.Match(in.Match)}
	for _, t := range in.Tiers {
		a.Tiers = append(a.Tiers, member.Tier(t))
	}
	for _, b := range in.AgeBands {
		a.AgeBands = append(a.AgeBands, member.AgeBand(b))
	}
	return a
}

func (in offerDraftJSON) offer() (*promo.Offer, error) {
	o := &promo.Offer{PickupPlace: in.PickupPlace}
	if in.Prices != nil {
		o.Prices = make(map[member.Tier]int, len(in.Prices))
		for t, p := range in.Prices {
			o.Prices[member.Tier(t)] = p
		}
	}
	var err error
	if o.PickupFrom, err = optionalTime(in.PickupFrom, promo.ErrInvalidPickup.OnField("offer.pickupFrom")); err != nil {
		return nil, err
	}
	if o.PickupUntil, err = optionalTime(in.PickupUntil, promo.ErrInvalidPickup); err != nil {
		return nil, err
	}
	return o, nil
}

// optionalTime reads an RFC 3339 time; "" is the zero time, which the domain judges.
func optionalTime(s string, bad *fail.Error) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, bad
	}
	return t, nil
}

// campaignJSON is a campaign as staff see it; stats only where they were read (one campaign,
// not a list).
type campaignJSON struct {
	ID          string       `json:"id"`
	Kind        string       `json:"kind"`
	Title       string       `json:"title"`
	Body        string       `json:"body"`
	ImageURL    string       `json:"imageUrl,omitempty"`
	Audience    audienceJSON `json:"audience"`
	Offer       *offerJSON   `json:"offer,omitempty"`
	Channel     string       `json:"channel"`
	SendAt      time.Time    `json:"sendAt"`
	Days        int          `json:"days"`
	Run         int          `json:"run"`
	Status      string       `json:"status"`
	CreatedBy   string       `json:"createdBy"`
	CancelledBy string       `json:"cancelledBy,omitempty"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	Stats       *statsJSON   `json:"stats,omitempty"`
}

type offerJSON struct {
	Prices      map[string]int `json:"prices"`
	PickupPlace string         `json:"pickupPlace,omitempty"`
	PickupFrom  time.Time      `json:"pickupFrom"`
	PickupUntil time.Time      `json:"pickupUntil"`
}

func toCampaignJSON(c promo.Campaign) campaignJSON {
	out := campaignJSON{ID: c.ID, Kind: string(c.Kind), Title: c.Title, Body: c.Body, ImageURL: c.ImageURL,
		Audience: toAudienceJSON(c.Audience), Channel: string(c.Channel), SendAt: c.SendAt.UTC(), Days: c.Days,
		Run: c.Run, Status: string(c.Status), CreatedBy: c.CreatedBy, CancelledBy: c.CancelledBy,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if o := c.Offer; o != nil {
		out.Offer = &offerJSON{Prices: map[string]int{}, PickupPlace: o.PickupPlace, PickupFrom: o.PickupFrom.UTC(),
			PickupUntil: o.PickupUntil.UTC()}
		for t, p := range o.Prices {
			out.Offer.Prices[string(t)] = p
		}
	}
	return out
}

// toAudienceJSON renders a; absent criteria are empty lists, never null.
func toAudienceJSON(a promo.Audience) audienceJSON {
	out := audienceJSON{Groups: append([]string{}, a.Groups...), Tags: append([]string{}, a.Tags...),
		Tiers: []string{}, AgeBands: []string{}, Match: string(a.Match)}
	for _, t := range a.Tiers {
		out.Tiers = append(out.Tiers, string(t))
	}
	for _, b := range a.AgeBands {
		out.AgeBands = append(out.AgeBands, string(b))
	}
	return out
}

// statsJSON are a campaign's figures (promo.Stats); suppressed names every reason, zeros too,
// so a page draws the same table for every campaign.
type statsJSON struct {
	Audience     int            `json:"audience"`
	Queued       int            `json:"queued"`
	Deferred     int            `json:"deferred"`
	Sent         int            `json:"sent"`
	Failed       int            `json:"failed"`
	Skipped      int            `json:"skipped"`
	Opened       int            `json:"opened"`
	Unsubscribed int            `json:"unsubscribed"`
	Suppressed   map[string]int `json:"suppressed"`
}

func toStatsJSON(s promo.Stats) *statsJSON {
	out := &statsJSON{Audience: s.Audience, Queued: s.Queued, Deferred: s.Deferred, Sent: s.Sent, Failed: s.Failed,
		Skipped: s.Skipped, Opened: s.Opened, Unsubscribed: s.Unsubscribed, Suppressed: map[string]int{}}
	for _, r := range promo.SuppressionReasons {
		out.Suppressed[string(r)] = s.Suppressed[r]
	}
	return out
}

// toCampaignStatsJSON renders one campaign with its figures.
func toCampaignStatsJSON(c promo.Campaign, s promo.Stats) campaignJSON {
	out := toCampaignJSON(c)
	out.Stats = toStatsJSON(s)
	return out
}

type campaignList struct {
	Campaigns []campaignJSON `json:"campaigns"`
	Cursor    string         `json:"cursor,omitempty"`
}

// offerPageJSON is what the offer page shows one member. Price (fen) and priceText are the
// member's own tier's; they and the pickup are absent for content. PickupText is the window as
// people say it, in the member's zone and the caller's language; Speak is the whole offer in
// one sentence for the phone to read aloud.
type offerPageJSON struct {
	Title        string     `json:"title"`
	Body         string     `json:"body"`
	ImageURL     string     `json:"imageUrl,omitempty"`
	MemberName   string     `json:"memberName"`
	Tier         string     `json:"tier"`
	Price        *int       `json:"price,omitempty"`
	PriceText    string     `json:"priceText,omitempty"`
	PickupPlace  string     `json:"pickupPlace,omitempty"`
	PickupFrom   *time.Time `json:"pickupFrom,omitempty"`
	PickupUntil  *time.Time `json:"pickupUntil,omitempty"`
	PickupText   string     `json:"pickupText,omitempty"`
	Speak        string     `json:"speak"`
	Status       string     `json:"status"`
	Unsubscribed bool       `json:"unsubscribed"`
}

// unsubscribeResult answers an unsubscribe, the first and every later one alike.
type unsubscribeResult struct {
	Unsubscribed bool `json:"unsubscribed"`
}

// Package promo owns what a store may push to its members — promotion campaigns (an offer with
// a price per tier, picked up in the store: 线上参与,线下领取) and recurring content (早晚报) —
// and the rules that keep pushes from driving members away: who is in a campaign's audience,
// the consent and opt-out it needs, the weekly budget of messages per member, and quiet hours.
// Rules only: how campaigns are stored and fanned out is shared/dynamostore's and the fanout
// function's.
package promo

import (
	"slices"
	"strconv"
	"time"

	"yinling/shared/fail"
	"yinling/shared/field"
	"yinling/shared/member"
)

// Kind is what a campaign pushes. Each kind has its own weekly budget per member: a senior who
// had two offers this week still gets the morning health tip.
type Kind string

// Kinds.
const (
	KindPromotion Kind = "promotion" // an offer
	KindContent   Kind = "content"   // health tips and store news (早晚报)
)

// Channel is how a campaign reaches people.
type Channel string

// Channels.
const (
	ChannelSMS   Channel = "sms"   // a text with the link to the offer page
	ChannelVoice Channel = "voice" // a call that speaks the body
	ChannelWeCom Channel = "wecom" // one post to each audience group's WeCom robot
)

// Paid reports whether ch is paid per message (and so counts against the store's daily quota).
func (ch Channel) Paid() bool { return ch == ChannelSMS || ch == ChannelVoice }

// Status is where a campaign is in its life.
type Status string

// Statuses.
const (
	StatusScheduled Status = "scheduled" // waiting for SendAt
	StatusSending   Status = "sending"   // the fan-out is under way
	StatusSent      Status = "sent"      // every page of the audience was handled
	StatusCancelled Status = "cancelled" // stopped by staff: no further message goes
)

// Campaign is one push to an audience.
type Campaign struct {
	ID       string
	StoreID  string
	Kind     Kind
	Title    string // staff's name for it, and the offer page's heading
	Body     string // what the SMS says (before the link) or the call speaks
	ImageURL string
	Audience Audience
	Offer    *Offer // promotions only; nil for content
	Channel  Channel
	SendAt   time.Time
	// Days is how many days running the campaign is sent, each day at SendAt's time: 1 for a
	// promotion; up to MaxDays for content (a morning tip every day of the month). Run is the
	// day under way or next, 0 first.
	Days   int
	Run    int
	Status Status
	// CreatedBy is the staff member who made it; CancelledBy who stopped it.
	CreatedBy   string
	CancelledBy string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Offer is what a promotion offers: a price per tier, picked up in the store within a window.
type Offer struct {
	// Prices are in fen (分), one for every tier: a member sees their own tier's price.
	Prices      map[member.Tier]int
	PickupPlace string
	PickupFrom  time.Time
	PickupUntil time.Time
}

// Draft is what staff submit to create a campaign. A zero SendAt sends now.
type Draft struct {
	Kind     Kind
	Title    string
	Body     string
	ImageURL string
	Audience Audience
	Offer    *Offer
	Channel  Channel
	SendAt   time.Time
	Days     int // content only; 0 means 1
}

// Limits.
const (
	MaxTitleLen = 40
	// MaxSMSBody keeps an SMS in one 70-character segment with the store's signature (【…】)
	// and the offer link around it: a split SMS arrives in pieces on old phones.
	MaxSMSBody = 45
	// MaxVoiceBody is about thirty seconds of speech.
	MaxVoiceBody = 120
	// MaxWeComBody is a robot post: markdown, read on a phone.
	MaxWeComBody  = 500
	MaxPlaceLen   = 100
	MaxPrice      = 10_000_000 // ¥100,000 in fen: more is a typo
	MaxAhead      = 90 * 24 * time.Hour
	MaxPickupDays = 90
	MaxDays       = 31
)

// Errors a caller can cause; none changes anything.
var (
	ErrNotFound       = &fail.Error{Kind: fail.NotFound, Code: "campaign_not_found"}
	ErrInvalidKind    = &fail.Error{Kind: fail.Invalid, Code: "invalid_campaign_kind", Field: "kind"}
	ErrInvalidChannel = &fail.Error{Kind: fail.Invalid, Code: "invalid_channel", Field: "channel"}
	ErrBodyTooLong    = &fail.Error{Kind: fail.Invalid, Code: "body_too_long", Field: "body"}
	ErrPriceMissing   = &fail.Error{Kind: fail.Invalid, Code: "price_missing", Field: "offer.prices"}
	ErrInvalidPrice   = &fail.Error{Kind: fail.Invalid, Code: "invalid_price", Field: "offer.prices"}
	ErrOfferRequired  = &fail.Error{Kind: fail.Invalid, Code: "offer_required", Field: "offer"}
	ErrOfferForbidden = &fail.Error{Kind: fail.Invalid, Code: "offer_not_for_content", Field: "offer"}
	ErrInvalidPickup  = &fail.Error{Kind: fail.Invalid, Code: "invalid_pickup_window", Field: "offer.pickupUntil"}
	ErrSendAtPast     = &fail.Error{Kind: fail.Invalid, Code: "send_at_past", Field: "sendAt"}
	ErrSendAtFar      = &fail.Error{Kind: fail.Invalid, Code: "send_at_too_far", Field: "sendAt"}
	ErrInvalidDays    = &fail.Error{Kind: fail.Invalid, Code: "invalid_days", Field: "days"}
	ErrCancelled      = &fail.Error{Kind: fail.Conflict, Code: "campaign_cancelled"}
	ErrAlreadySent    = &fail.Error{Kind: fail.Conflict, Code: "campaign_sent"}
)

// New validates d and returns the campaign it describes, scheduled. The caller checks that the
// audience's groups exist in the store and sets ID, StoreID and CreatedBy.
func New(d Draft, now time.Time) (Campaign, error) {
	now = now.UTC().Truncate(time.Second)
	c := Campaign{Kind: d.Kind, Channel: d.Channel, Status: StatusScheduled, CreatedAt: now, UpdatedAt: now}
	switch d.Kind {
	case KindPromotion, KindContent:
	default:
		return Campaign{}, ErrInvalidKind
	}
	var err error
	if c.Title, err = field.Line(d.Title, MaxTitleLen, "title", true); err != nil {
		return Campaign{}, err
	}
	limit, ok := map[Channel]int{ChannelSMS: MaxSMSBody, ChannelVoice: MaxVoiceBody, ChannelWeCom: MaxWeComBody}[d.Channel]
	if !ok {
		return Campaign{}, ErrInvalidChannel
	}
	if c.Body, err = field.Line(d.Body, limit, "body", true); err != nil {
		if fe, _ := fail.As(err); fe != nil && fe.Code == "too_long" {
			return Campaign{}, ErrBodyTooLong // for SMS: one segment with the link
		}
		return Campaign{}, err
	}
	if c.ImageURL, err = field.HTTPS(d.ImageURL, "imageUrl"); err != nil {
		return Campaign{}, err
	}
	if c.Audience, err = d.Audience.Parse(); err != nil {
		return Campaign{}, err
	}
	if c.Offer, err = parseOffer(d.Kind, d.Offer); err != nil {
		return Campaign{}, err
	}
	c.SendAt = d.SendAt.UTC().Truncate(time.Second)
	switch {
	case c.SendAt.IsZero():
		c.SendAt = now
	case c.SendAt.Before(now.Add(-time.Minute)):
		return Campaign{}, ErrSendAtPast
	case c.SendAt.After(now.Add(MaxAhead)):
		return Campaign{}, ErrSendAtFar
	}
	switch c.Days = max(d.Days, 1); {
	case c.Days > MaxDays, c.Days > 1 && c.Kind != KindContent: // an offer is pushed once
		return Campaign{}, ErrInvalidDays
	}
	if c.Offer != nil && !c.Offer.PickupUntil.After(c.SendAt) {
		return Campaign{}, ErrInvalidPickup // over before anyone hears of it
	}
	return c, nil
}

func parseOffer(k Kind, o *Offer) (*Offer, error) {
	if k == KindContent {
		if o != nil {
			return nil, ErrOfferForbidden
		}
		return nil, nil
	}
	if o == nil {
		return nil, ErrOfferRequired
	}
	out := Offer{Prices: map[member.Tier]int{}, PickupFrom: o.PickupFrom.UTC(), PickupUntil: o.PickupUntil.UTC()}
	for _, t := range Tiers {
		p, ok := o.Prices[t]
		if !ok {
			return nil, ErrPriceMissing.OnField("offer.prices." + string(t))
		}
		if p < 0 || p > MaxPrice {
			return nil, ErrInvalidPrice.OnField("offer.prices." + string(t))
		}
		out.Prices[t] = p
	}
	if len(o.Prices) != len(Tiers) {
		return nil, ErrInvalidPrice // a tier we do not know
	}
	var err error
	if out.PickupPlace, err = field.Line(o.PickupPlace, MaxPlaceLen, "offer.pickupPlace", false); err != nil {
		return nil, err
	}
	if out.PickupFrom.IsZero() || !out.PickupUntil.After(out.PickupFrom) ||
		out.PickupUntil.Sub(out.PickupFrom) > MaxPickupDays*24*time.Hour {
		return nil, ErrInvalidPickup
	}
	return &out, nil
}

// Tiers are the tiers an offer prices, in the order pages show them.
var Tiers = []member.Tier{member.TierMember, member.TierLeader, member.TierPartner}

// Price is what m pays under o: their tier's price (an unknown tier pays the member price).
func (o Offer) Price(t member.Tier) int {
	if p, ok := o.Prices[t]; ok {
		return p
	}
	return o.Prices[member.TierMember]
}

// RunAt is when run r of c is sent: SendAt, then the same time on each following day.
func (c Campaign) RunAt(r int) time.Time { return c.SendAt.Add(time.Duration(r) * 24 * time.Hour) }

// Cap is the weekly budget of c's kind for a member reached through a group whose own cap is
// groupCap (0: none) in a store whose cap is storeCap: a promotion obeys the group, then the
// store; content has its own budget.
func (c Campaign) Cap(storeCap, groupCap int) int {
	switch {
	case c.Kind == KindContent:
		return DefaultContentCap
	case groupCap > 0:
		return groupCap
	}
	return storeCap
}

// Yuan writes a price in fen as yuan with two decimals: 1590 → "15.90".
func Yuan(fen int) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return sign + strconv.Itoa(fen/100) + "." + string(rune('0'+fen%100/10)) + string(rune('0'+fen%10))
}

// Cancel returns c cancelled by staff, given its stats so far. A campaign that finished its
// fan-out can still be cancelled while messages wait to go (held for quiet hours, or not yet
// delivered): the sender skips them. One with nothing left to send is refused.
func (c Campaign) Cancel(by string, st Stats, now time.Time) (Campaign, error) {
	switch {
	case c.Status == StatusCancelled:
		return c, nil
	case c.Status == StatusSent && st.Pending() == 0:
		return Campaign{}, ErrAlreadySent
	}
	c.Status, c.CancelledBy, c.UpdatedAt = StatusCancelled, by, now.UTC().Truncate(time.Second)
	return c, nil
}

// sortedSet returns the values sorted, each once, nil for none.
func sortedSet[T ~string](vs []T) []T {
	out := slices.Clone(vs)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

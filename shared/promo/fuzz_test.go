package promo

import (
	"strings"
	"testing"
	"time"

	"yinling/shared/fail"
	"yinling/shared/member"
)

// FuzzNew builds a campaign from anything staff could send: New never panics, refuses only with
// a caller's error, and a campaign it accepts has an audience of groups, a body its channel can
// carry, and — for a promotion — a price for every tier and a pickup window open after sending.
func FuzzNew(f *testing.F) {
	f.Add("promotion", "sms", "冬季护膝", "护膝会员价9.9元", "G1,G2", "太极", "leader", "70-79", "all", 990, 890, 790, int64(0), int64(7*24*3600))
	f.Add("content", "wecom", "早报", "今天降温，注意保暖", "G1", "", "", "", "any", -1, 0, 0, int64(3600), int64(0))
	f.Add("ad", "email", "", "\x00", "", "#", "vip", "200", "most", 0, 0, 0, int64(-3600), int64(-1))
	f.Fuzz(func(t *testing.T, kind, channel, title, body, groups, tags, tiers, ages, match string, p1, p2, p3 int, sendIn, pickupFor int64) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		a := Audience{Groups: split(groups), Tags: split(tags), Match: Match(match)}
		for _, t := range split(tiers) {
			a.Tiers = append(a.Tiers, member.Tier(t))
		}
		for _, b := range split(ages) {
			a.AgeBands = append(a.AgeBands, member.AgeBand(b))
		}
		d := Draft{Kind: Kind(kind), Channel: Channel(channel), Title: title, Body: body, Audience: a,
			SendAt: now.Add(time.Duration(sendIn%(200*24*3600)) * time.Second)}
		if pickupFor != 0 {
			d.Offer = &Offer{Prices: map[member.Tier]int{member.TierMember: p1, member.TierLeader: p2, member.TierPartner: p3},
				PickupFrom: now, PickupUntil: now.Add(time.Duration(pickupFor%(200*24*3600)) * time.Second)}
		}
		c, err := New(d, now)
		if err != nil {
			if fe, ok := fail.As(err); !ok || fe.Kind != fail.Invalid {
				t.Fatalf("New error %v is not a caller's error", err)
			}
			return
		}
		if len(c.Audience.Groups) == 0 || c.Audience.Match == "" || c.Body == "" || c.Channel == ChannelSMS && len([]rune(c.Body)) > MaxSMSBody {
			t.Fatalf("accepted %+v", c)
		}
		if c.Kind == KindPromotion {
			if c.Offer == nil || len(c.Offer.Prices) != len(Tiers) || !c.Offer.PickupUntil.After(c.SendAt) {
				t.Fatalf("accepted offer %+v", c.Offer)
			}
		}
	})
}

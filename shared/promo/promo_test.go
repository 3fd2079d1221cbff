package promo

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/fail"
	"yinling/shared/member"
)

var now = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai

func offer() *Offer {
	return &Offer{Prices: map[member.Tier]int{member.TierMember: 990, member.TierLeader: 890, member.TierPartner: 790},
		PickupPlace: "本店收银台", PickupFrom: now, PickupUntil: now.Add(7 * 24 * time.Hour)}
}

func draft() Draft {
	return Draft{Kind: KindPromotion, Title: "冬季保暖护膝", Body: "护膝会员价9.9元，到店领取", Channel: ChannelSMS,
		Audience: Audience{Groups: []string{"G2", "G1", "G2"}}, Offer: offer()}
}

func TestNew(t *testing.T) {
	c, err := New(draft(), now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != StatusScheduled || !c.SendAt.Equal(now) || c.Audience.Match != MatchAll ||
		!cmp.Equal(c.Audience.Groups, []string{"G1", "G2"}) || c.Offer.Price(member.TierLeader) != 890 {
		t.Errorf("New = %+v", c)
	}
	for _, tt := range []struct {
		name string
		edit func(*Draft)
		want error
	}{
		{"no groups", func(d *Draft) { d.Audience.Groups = nil }, ErrNoGroups},
		{"unknown kind", func(d *Draft) { d.Kind = "ad" }, ErrInvalidKind},
		{"unknown channel", func(d *Draft) { d.Channel = "email" }, ErrInvalidChannel},
		{"sms body too long", func(d *Draft) { d.Body = strings.Repeat("护", MaxSMSBody+1) }, ErrBodyTooLong},
		{"the same body fits a call", func(d *Draft) { d.Body, d.Channel = strings.Repeat("护", MaxSMSBody+1), ChannelVoice }, nil},
		{"no body", func(d *Draft) { d.Body = "  " }, fail.InvalidField("required", "body")},
		{"price missing for a tier", func(d *Draft) { delete(d.Offer.Prices, member.TierPartner) }, ErrPriceMissing},
		{"negative price", func(d *Draft) { d.Offer.Prices[member.TierLeader] = -1 }, ErrInvalidPrice},
		{"price for an unknown tier", func(d *Draft) { d.Offer.Prices["vip"] = 1 }, ErrInvalidPrice},
		{"promotion without offer", func(d *Draft) { d.Offer = nil }, ErrOfferRequired},
		{"content with offer", func(d *Draft) { d.Kind = KindContent }, ErrOfferForbidden},
		{"content", func(d *Draft) { d.Kind, d.Offer = KindContent, nil }, nil},
		{"pickup ends before it starts", func(d *Draft) { d.Offer.PickupUntil = d.Offer.PickupFrom }, ErrInvalidPickup},
		{"pickup over before the send", func(d *Draft) {
			d.SendAt = now.Add(8 * 24 * time.Hour)
		}, ErrInvalidPickup},
		{"send time in the past", func(d *Draft) { d.SendAt = now.Add(-time.Hour) }, ErrSendAtPast},
		{"send time a year ahead", func(d *Draft) { d.SendAt = now.AddDate(1, 0, 0) }, ErrSendAtFar},
		{"http image", func(d *Draft) { d.ImageURL = "http://x.cn/a.jpg" }, fail.InvalidField("invalid_url", "imageUrl")},
		{"unknown tier in audience", func(d *Draft) { d.Audience.Tiers = []member.Tier{"vip"} }, ErrInvalidTier},
		{"unknown match", func(d *Draft) { d.Audience.Match = "most" }, ErrInvalidMatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := draft()
			tt.edit(&d)
			_, err := New(d, now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("New = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	c, _ := New(draft(), now)
	got, err := c.Cancel("staff-1", Stats{}, now)
	if err != nil || got.Status != StatusCancelled || got.CancelledBy != "staff-1" {
		t.Fatalf("Cancel = %+v, %v", got, err)
	}
	if again, err := got.Cancel("staff-2", Stats{}, now); err != nil || again.CancelledBy != "staff-1" {
		t.Errorf("cancelling twice = %+v, %v", again, err)
	}
	c.Status = StatusSent
	done := Stats{Queued: 5, Sent: 3, Failed: 1, Skipped: 1}
	if _, err := c.Cancel("staff-1", done, now); !errors.Is(err, ErrAlreadySent) {
		t.Errorf("cancelling a sent campaign with nothing left = %v", err)
	}
	held := Stats{Queued: 5, Deferred: 2, Sent: 3}
	if got, err := c.Cancel("staff-1", held, now); err != nil || got.Status != StatusCancelled {
		t.Errorf("cancelling a sent campaign with 2 messages held = %+v, %v", got, err)
	}
}

func TestIncludes(t *testing.T) {
	leader70s := member.Member{Tier: member.TierLeader, BirthYear: 1951, Tags: []string{"太极"}}
	plain60s := member.Member{BirthYear: 1962}
	for _, tt := range []struct {
		name     string
		audience Audience
		m        member.Member
		groups   []string
		want     bool
	}{
		{"whole group", Audience{Groups: []string{"G1"}}, plain60s, []string{"G1"}, true},
		{"not in the groups", Audience{Groups: []string{"G1"}}, plain60s, []string{"G2"}, false},
		{"all: leaders in their 70s", Audience{Groups: []string{"G1"}, Tiers: []member.Tier{member.TierLeader},
			AgeBands: []member.AgeBand{member.Age70s}}, leader70s, []string{"G1"}, true},
		{"all: a 60s member is not", Audience{Groups: []string{"G1"}, Tiers: []member.Tier{member.TierLeader},
			AgeBands: []member.AgeBand{member.Age60s}}, leader70s, []string{"G1"}, false},
		{"any: leaders or 60s", Audience{Groups: []string{"G1"}, Tiers: []member.Tier{member.TierLeader},
			AgeBands: []member.AgeBand{member.Age60s}, Match: MatchAny}, plain60s, []string{"G1"}, true},
		{"a member without a tier is a member", Audience{Groups: []string{"G1"}, Tiers: []member.Tier{member.TierMember}},
			plain60s, []string{"G1"}, true},
		{"tags: any of them", Audience{Groups: []string{"G1"}, Tags: []string{"广场舞", "太极"}}, leader70s, []string{"G2", "G1"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.audience.Parse()
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Includes(tt.m, tt.groups, now); got != tt.want {
				t.Errorf("Includes = %v, want %v", got, tt.want)
			}
		})
	}
}

// The window rolls: a send exactly seven days ago no longer counts, one a second later does.
func TestLedger(t *testing.T) {
	var l Ledger
	for _, ago := range []time.Duration{8 * 24 * time.Hour, Window, Window - time.Second, time.Hour} {
		l = append(l, now.Add(-ago))
	}
	if got := len(l.Within(now)); got != 2 {
		t.Errorf("Within = %d sends, want 2", got)
	}
	if !l.Allows(3, now) || l.Allows(2, now) {
		t.Errorf("Allows: 2 sends in the window against caps 3 and 2")
	}
	added := l.Add(now)
	if len(added) != 3 || !added[2].Equal(now) || len(l) != 4 {
		t.Errorf("Add = %v (and l = %v): want the two in the window and now, l untouched", added, l)
	}
	if Ledger(nil).Allows(0, now) {
		t.Error("a cap of 0 allows a push")
	}
}

func TestCap(t *testing.T) {
	caps := map[string]int{"G1": 3, "G2": 1}
	capOf := func(g string) (int, bool) { c, ok := caps[g]; return c, ok }
	a := Audience{Groups: []string{"G1", "G2", "G3"}}
	for _, tt := range []struct {
		active []string
		want   int
	}{
		{[]string{"G1"}, 3},
		{[]string{"G1", "G2"}, 1}, // the group that asks for fewer is obeyed
		{[]string{"G3"}, 2},       // no cap of its own: the store's
		{[]string{"G2", "G9"}, 1}, // G9 is not in the campaign
	} {
		if got := Cap(2, a, tt.active, capOf); got != tt.want {
			t.Errorf("Cap(active %v) = %d, want %d", tt.active, got, tt.want)
		}
	}
}

func TestDecide(t *testing.T) {
	base := member.Member{VerifiedAt: now.AddDate(0, -1, 0), Channel: member.ChannelSMS, TimeZone: "Asia/Shanghai",
		QuietHours: member.DefaultQuietHours,
		Consents:   member.Consents{member.ConsentMarketing: {Kind: member.ConsentMarketing, Granted: true}}}
	full := Ledger{now.Add(-time.Hour), now.Add(-2 * time.Hour)}
	night := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC) // 22:30 in Shanghai
	for _, tt := range []struct {
		name     string
		edit     func(*member.Member)
		optedOut bool
		ledger   Ledger
		at       time.Time
		want     Decision
	}{
		{"send", nil, false, nil, now, Decision{Send: true}},
		{"unverified", func(m *member.Member) { m.VerifiedAt = time.Time{} }, false, nil, now, Decision{Reason: ReasonUnverified}},
		{"no consent", func(m *member.Member) { m.Consents = nil }, false, nil, now, Decision{Reason: ReasonNoConsent}},
		{"opted out", nil, true, nil, now, Decision{Reason: ReasonOptedOut}},
		{"channel none", func(m *member.Member) { m.Channel = member.ChannelNone }, false, nil, now, Decision{Reason: ReasonChannel}},
		{"budget", nil, false, full, now, Decision{Reason: ReasonBudget}},
		{"consent is checked before the budget", func(m *member.Member) { m.Consents = nil }, false, full, now, Decision{Reason: ReasonNoConsent}},
		// 22:30 in Shanghai: quiet until 08:00 there, 00:00 UTC.
		{"quiet hours delay", nil, false, nil, night, Decision{Reason: ReasonQuietHours, At: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := base
			if tt.edit != nil {
				tt.edit(&m)
			}
			got := Decide(m, tt.optedOut, tt.ledger, 2, tt.at)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOfferToken(t *testing.T) {
	key := []byte("k")
	code := ChunkCode(key, "s1", "C1", 0, 3, 2)
	if len(code) != ChunkCodeLen || code == ChunkCode(key, "s1", "C1", 0, 3, 3) || code != ChunkCode(key, "s1", "C1", 0, 3, 2) {
		t.Fatalf("ChunkCode = %q: want 10 characters, stable, different per chunk", code)
	}
	for _, pos := range []int{0, 1, 31, 32, 96, MaxChunkPlaces - 1} {
		tok := OfferToken(key, code, pos, "M1")
		gotCode, gotPos, ok := ParseOfferToken(tok)
		if len(tok) != OfferTokenLen || !ok || gotCode != code || gotPos != pos {
			t.Errorf("OfferToken(%d) = %q parsed as %q %d %v", pos, tok, gotCode, gotPos, ok)
		}
		if !ValidOfferToken(key, tok, "M1") || ValidOfferToken(key, tok, "M2") || ValidOfferToken([]byte("other"), tok, "M1") {
			t.Errorf("ValidOfferToken(%q): want only M1 under key k", tok)
		}
	}
	for _, bad := range []string{"", "abc", strings.Repeat("l", OfferTokenLen), strings.Repeat("a", OfferTokenLen+1)} {
		if _, _, ok := ParseOfferToken(bad); ok {
			t.Errorf("ParseOfferToken(%q): want refused", bad)
		}
	}
}

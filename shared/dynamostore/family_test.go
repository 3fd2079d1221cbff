package dynamostore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/pii"
	"yinling/shared/testenv"
)

// A link's alert number is stored on both of its items, and AlertLinks returns exactly the
// senior's usable links with alerts and a number: not expired, revoked, silent or number-less
// links, nor another senior's.
func TestAlertLinks(t *testing.T) {
	env := testenv.New(t)
	s := New(env.DynamoDB, env.TableName())
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	senior, other := seedLinkMember(t, s, "01JDR00000000000000000000A"), seedLinkMember(t, s, "01JDR00000000000000000000B")

	create := func(m member.Member, d member.FamilyLinkDraft, at time.Time) member.FamilyLink {
		t.Helper()
		l, _, err := member.NewFamilyLink(m, m.ID, d, at)
		if err != nil {
			t.Fatalf("NewFamilyLink(%+v): %v", d, err)
		}
		l.ID = ids.New()
		if err := s.CreateFamilyLink(ctx, l); err != nil {
			t.Fatalf("CreateFamilyLink: %v", err)
		}
		return l
	}
	daughter := create(senior, member.FamilyLinkDraft{Label: "女儿", Alerts: true, AlertPhone: "139 0013 9000"}, now)
	son := create(senior, member.FamilyLinkDraft{Label: "儿子", Scope: member.ScopeHelper, Alerts: true,
		AlertPhone: "+44 7700 900123", AlertChannel: member.ChannelSMS}, now)
	create(senior, member.FamilyLinkDraft{Label: "孙女"}, now) // no alerts
	create(senior, member.FamilyLinkDraft{Label: "侄子", Alerts: true, AlertPhone: "13700137000", TTLDays: new(1)},
		now.Add(-25*time.Hour)) // expired an hour ago
	revoked := create(senior, member.FamilyLinkDraft{Label: "女婿", Alerts: true, AlertPhone: "13600136000"}, now)
	if err := s.RevokeFamilyLink(ctx, senior.StoreID, senior.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	// A link made before links carried a number: alerts on, nowhere to send them.
	legacy := member.FamilyLink{ID: ids.New(), StoreID: senior.StoreID, MemberID: senior.ID, Label: "老链接", Scope: member.ScopeView,
		Alerts: true, TokenHash: member.HashToken(member.NewToken()), CreatedBy: senior.ID, CreatedAt: now, ExpiresAt: now.AddDate(0, 0, 30)}
	if err := s.CreateFamilyLink(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	create(other, member.FamilyLinkDraft{Label: "女儿", Alerts: true, AlertPhone: "13500135000"}, now)

	got, err := s.AlertLinks(ctx, senior.StoreID, senior.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []member.FamilyLink{daughter, son}
	slices.SortFunc(want, func(a, b member.FamilyLink) int { return strings.Compare(a.ID, b.ID) }) // LINK#<ulid> order
	// Phones compare as they do in Go; cmp cannot see their unexported digits.
	phoneEqual := cmp.Comparer(func(a, b member.Phone) bool { return a == b })
	if diff := cmp.Diff(want, got, phoneEqual); diff != "" {
		t.Errorf("AlertLinks (-want +got):\n%s", diff)
	}
	for _, l := range got {
		if l.AlertPhone.IsZero() || (l.AlertChannel != member.ChannelVoice && l.AlertChannel != member.ChannelSMS) {
			t.Errorf("alert link %s has phone %v, channel %q", l.Label, l.AlertPhone, l.AlertChannel)
		}
	}

	// The copy a family page reads carries the number too, so both items are erased alike.
	byToken, err := s.FamilyLinkByTokenFrom(ctx, son.TokenHash, "203.0.113.9", now)
	if err != nil {
		t.Fatal(err)
	}
	if byToken.AlertPhone.E164() != "+447700900123" || byToken.AlertChannel != member.ChannelSMS {
		t.Errorf("token copy: phone %v, channel %q", byToken.AlertPhone, byToken.AlertChannel)
	}

	// A senior without links, or without any that asked for alerts, has none: no error.
	if got, err := s.AlertLinks(ctx, senior.StoreID, "01JDR00000000000000000000C", now); err != nil || len(got) != 0 {
		t.Errorf("AlertLinks of nobody = %v, %v; want none", got, err)
	}
	// Once they expire, none are left.
	if got, err := s.AlertLinks(ctx, senior.StoreID, senior.ID, now.AddDate(0, 0, 31)); err != nil || len(got) != 0 {
		t.Errorf("AlertLinks after expiry = %v, %v; want none", got, err)
	}
}

// A stored number that does not parse leaves the link without one instead of failing its reads;
// a plain E.164 written before phones were sealed still reads; a sealed one reads only on its
// own link.
func TestFamilyLinkItemStoredAlertPhone(t *testing.T) {
	ctx := context.Background()
	s := New(nil, "no-table") // converting items makes no call
	it := familyLinkItem{ID: "L1", StoreID: "s1", MemberID: "m1", Alerts: true, AlertPhone: "+86 not a number", AlertChannel: "voice"}
	if l, err := s.linkFrom(ctx, it); err != nil || !l.AlertPhone.IsZero() {
		t.Errorf("garbled phone read as %v, %v", l.AlertPhone, err)
	}
	it.AlertPhone = "+8613900139000"
	if l, err := s.linkFrom(ctx, it); err != nil || l.AlertPhone.E164() != "+8613900139000" {
		t.Errorf("legacy plain phone read as %v, %v", l.AlertPhone, err)
	}
	phone, _ := member.ParsePhone("+8613900139000")
	sealed, err := s.sealPhone(ctx, phone, alertPhoneOwner("s1", "m1", "L1"))
	if err != nil {
		t.Fatal(err)
	}
	it.AlertPhone = sealed
	if l, err := s.linkFrom(ctx, it); err != nil || l.AlertPhone.E164() != "+8613900139000" {
		t.Errorf("sealed phone read as %v, %v", l.AlertPhone, err)
	}
	it.ID = "L2" // the ciphertext copied onto another link
	if l, err := s.linkFrom(ctx, it); !errors.Is(err, pii.ErrNotAuthentic) {
		t.Errorf("sealed phone of L1 on L2 read as %v, %v; want ErrNotAuthentic", l.AlertPhone, err)
	}
	if it := toFamilyLinkItem(member.FamilyLink{}, "pk", "sk", ""); it.AlertPhone != "" || it.AlertChannel != "" {
		t.Errorf("a link without alerts stores phone %q, channel %q", it.AlertPhone, it.AlertChannel)
	}
}

// seedLinkMember writes a bare member of store s-test: all a family link needs to exist.
func seedLinkMember(t *testing.T, s *Store, id string) member.Member {
	t.Helper()
	phone, err := member.ParsePhone("13800138000")
	if err != nil {
		t.Fatal(err)
	}
	m := member.Member{ID: id, StoreID: "s-test", Name: "王秀英", Phone: phone, Channel: member.ChannelVoice}
	it, err := s.memberItem(context.Background(), m, "hash-"+id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.putNew(context.Background(), it); err != nil {
		t.Fatalf("seed member %s: %v", id, err)
	}
	return m
}

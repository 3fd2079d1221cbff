package promo

import (
	"fmt"
	"testing"
	"time"

	"yinling/shared/member"
)

// BenchmarkAudience is the fan-out's pure work per member of a page: whether the member is in
// the campaign's audience, then what to do with them (consent, budget, quiet hours). A page is
// 1,000 members, so a page's filtering costs a thousand times one op.
func BenchmarkAudience(b *testing.B) {
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai: outside quiet hours
	m := member.Member{ID: "01JDR0000000000000000M0001", StoreID: "s1", VerifiedAt: now.AddDate(0, -1, 0),
		BirthYear: 1951, Channel: member.ChannelSMS, QuietHours: member.DefaultQuietHours,
		TimeZone: member.DefaultTimeZone, Tier: member.TierLeader, Tags: []string{"高血压", "太极", "广场舞"},
		Consents: member.Consents{member.ConsentMarketing: {Kind: member.ConsentMarketing, Granted: true}}}
	groups := make([]string, 5)
	for i := range groups {
		groups[i] = fmt.Sprintf("01JDR00000000000000000G%03d", i)
	}
	audiences := []struct {
		name string
		a    Audience
	}{
		{"audience=groups", Audience{Groups: groups[:1]}},
		{"audience=all-of-3", Audience{Groups: groups, Tags: []string{"太极"}, Tiers: []member.Tier{member.TierLeader},
			AgeBands: []member.AgeBand{member.Age70s}}},
		{"audience=any-of-2", Audience{Groups: groups, Tags: []string{"书法", "合唱"}, Tiers: []member.Tier{member.TierLeader},
			Match: MatchAny}},
	}
	activeIn := groups[3:]
	ledger := Ledger{now.Add(-72 * time.Hour)}
	for _, aa := range audiences {
		a, err := aa.a.Parse()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(aa.name, func(b *testing.B) {
			want := a.Includes(m, activeIn, now)
			b.ReportAllocs()
			for b.Loop() {
				if a.Includes(m, activeIn, now) != want {
					b.Fatal("Includes changed its mind")
				}
				if d := Decide(m, false, ledger, 2, now); !d.Send {
					b.Fatalf("Decide = %+v, want Send", d)
				}
			}
		})
	}
}

// BenchmarkChunkCode is the key derivation of a chunk and of each of its offer tokens (an HMAC
// each), which the fan-out pays per chunk and per recipient.
func BenchmarkChunkCode(b *testing.B) {
	key := []byte("0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		code := ChunkCode(key, "s1", "01JDR00000000000000000C001", 0, 3, 7)
		if OfferToken(key, code, 41, "01JDR0000000000000000M0001") == "" {
			b.Fatal("empty token")
		}
	}
}

package dynamostore

import "testing"

// BenchmarkKeys is the cost of the key strings the hottest paths build per item: a member's
// profile and membership (every audience page, every session lookup), a reminder's delivery
// and its Due bucket (every reminder sent), and a booking (every seat).
func BenchmarkKeys(b *testing.B) {
	const (
		store  = "01JDR00000000000000000S001"
		member = "01JDR0000000000000000M0001"
		group  = "01JDR00000000000000000G001"
		rem    = "01JDR00000000000000000R001"
		occ    = "2026-11-23T08:00"
	)
	keys := []struct {
		name string
		key  func() (string, string)
	}{
		{"key=member", func() (string, string) { return memberKey(store, member) }},
		{"key=membership", func() (string, string) { return membershipKey(store, member, group) }},
		{"key=delivery", func() (string, string) { return deliveryKey(store, rem, occ, "A0") }},
		{"key=due", func() (string, string) { return duePK(occ, dueShard(rem)), rem }},
		{"key=booking", func() (string, string) { return bookingKey(store, "01JDR00000000000000000Q001", member) }},
	}
	for _, k := range keys {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if pk, sk := k.key(); pk == "" || sk == "" {
					b.Fatal("empty key")
				}
			}
		})
	}
}

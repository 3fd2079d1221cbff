package fanout

import (
	"testing"
	"time"
)

func TestStoreDay(t *testing.T) {
	late := time.Date(2026, 11, 23, 17, 30, 0, 0, time.UTC) // 01:30 on the 24th in Shanghai
	for _, tt := range []struct {
		zone, want string
	}{
		{"Asia/Shanghai", "2026-11-24"},
		{"", "2026-11-24"}, // a store without a zone is in the default one
		{"America/New_York", "2026-11-23"},
		{"Not/AZone", "2026-11-24"}, // unreadable: the default zone, never UTC
	} {
		if got := storeDay(late, tt.zone); got != tt.want {
			t.Errorf("storeDay(%s, %q) = %s, want %s", late, tt.zone, got, tt.want)
		}
	}
}

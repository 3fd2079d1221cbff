package reminder

import (
	"testing"
	"time"
)

func TestOccurrenceID(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 23, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)), "20261123T0000Z"},
		{time.Date(2026, 11, 1, 1, 30, 0, 0, ny), "20261101T0530Z"}, // the first 01:30
		{time.Date(2026, 11, 1, 1, 30, 0, 0, ny).Add(time.Hour), "20261101T0630Z"},
		{time.Date(2026, 11, 23, 0, 0, 59, 999, time.UTC), "20261123T0000Z"},
	}
	for _, tt := range tests {
		got := OccurrenceID(tt.at)
		if got != tt.want {
			t.Errorf("OccurrenceID(%v) = %s, want %s", tt.at, got, tt.want)
		}
		back, err := ParseOccurrenceID(got)
		if err != nil || !back.Equal(tt.at.Truncate(time.Minute)) {
			t.Errorf("ParseOccurrenceID(%s) = %v, %v", got, back, err)
		}
	}
	for _, s := range []string{"", "20261123T0000", "2026-11-23T00:00Z", "20261123T2400Z", "20261131T0000Z", "20261123t0000z"} {
		if _, err := ParseOccurrenceID(s); err != ErrNothingToAck {
			t.Errorf("ParseOccurrenceID(%q) error = %v", s, err)
		}
	}
}

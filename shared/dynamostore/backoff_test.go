package dynamostore

import (
	"testing"
	"time"
)

// TestBackoff: every attempt a retry loop can pass — from 0, as the loops that count their
// first try as 0 do — waits between its base and twice its base, capped at 2^4 × 10 ms.
// (backoff(0) used to shift by −1 and panic: the long soak met it in RecordChunk's first lost
// race.)
func TestBackoff(t *testing.T) {
	for attempt := range 10 {
		base := 10 * time.Millisecond << min(max(attempt-1, 0), 4)
		for range 20 {
			if d := backoff(attempt); d < base || d >= 2*base {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v)", attempt, d, base, 2*base)
			}
		}
	}
}

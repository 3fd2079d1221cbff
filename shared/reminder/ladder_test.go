package reminder

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLadderAfter(t *testing.T) {
	type step struct {
		stage   Stage
		attempt int
	}
	// walk follows the ladder of k from the check after the first call until it ends.
	walk := func(l Ladder) []step {
		var got []step
		s, attempt := StageRetry, 0
		for range 20 {
			next, ok := l.After(s, attempt)
			if !ok {
				break
			}
			if next == StageRetry {
				attempt++
			}
			got = append(got, step{next, attempt})
			s = next
		}
		return got
	}
	ladders := DefaultLadders(DefaultRetries, DefaultSpacing)
	tests := []struct {
		kind Kind
		want []step
	}{
		{KindMedication, []step{{StageRetry, 1}, {StageRetry, 2}, {StageFamily, 2}, {StageStaff, 2}}},
		{KindCheckup, []step{{StageRetry, 1}, {StageRetry, 2}, {StageFamily, 2}}},
		{KindEvent, []step{{StageRetry, 1}}},
		{KindCustom, []step{{StageRetry, 1}}},
		{"unknown", nil},
	}
	if len(tests)-1 != len(Kinds) {
		t.Fatalf("a kind without a case: %v", Kinds)
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, walk(ladders.For(tt.kind)), cmp.AllowUnexported(step{})); diff != "" {
				t.Errorf("ladder (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLadderAfterStages(t *testing.T) {
	tests := []struct {
		name    string
		ladder  Ladder
		stage   Stage
		attempt int
		want    Stage
		wantOK  bool
	}{
		{"retries left", Ladder{Retries: 2}, StageRetry, 1, StageRetry, true},
		{"retries used, nobody else", Ladder{Retries: 2}, StageRetry, 2, "", false},
		{"no retries, staff only", Ladder{Staff: true}, StageRetry, 0, StageStaff, true},
		{"family then nobody", Ladder{Family: true}, StageFamily, 0, "", false},
		{"family then staff", Ladder{Family: true, Staff: true}, StageFamily, 0, StageStaff, true},
		{"staff is the end", Ladder{Retries: 5, Family: true, Staff: true}, StageStaff, 0, "", false},
		{"unknown stage", Ladder{Retries: 5, Family: true, Staff: true}, "sms", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.ladder.After(tt.stage, tt.attempt)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("After(%q, %d) = %q, %v; want %q, %v", tt.stage, tt.attempt, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDefaultLaddersClamp(t *testing.T) {
	tests := []struct {
		name        string
		retries     int
		spacing     time.Duration
		wantRetries int
		wantSpacing time.Duration
	}{
		{"defaults", DefaultRetries, DefaultSpacing, DefaultRetries, DefaultSpacing},
		{"negative", -1, -time.Minute, 0, time.Second},
		{"too many", 99, time.Hour, MaxRetries, MaxSpacing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := DefaultLadders(tt.retries, tt.spacing)
			if got := l.For(KindMedication); got.Retries != tt.wantRetries || got.Spacing != tt.wantSpacing {
				t.Errorf("medication = %+v, want %d retries %v apart", got, tt.wantRetries, tt.wantSpacing)
			}
			if got := l.For(KindEvent); got.Retries != min(tt.wantRetries, 1) || got.Family || got.Staff {
				t.Errorf("event = %+v", got)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	tests := []struct {
		kind            Kind
		health, quietOK bool
	}{
		{KindMedication, true, true},
		{KindCheckup, true, false},
		{KindEvent, false, false},
		{KindCustom, false, false},
	}
	for _, tt := range tests {
		if got, err := ParseKind(string(tt.kind)); got != tt.kind || err != nil {
			t.Errorf("ParseKind(%q) = %q, %v", tt.kind, got, err)
		}
		if tt.kind.NeedsHealthConsent() != tt.health || tt.kind.RingsInQuietHours() != tt.quietOK {
			t.Errorf("%s: health %v, quiet hours %v", tt.kind, tt.kind.NeedsHealthConsent(), tt.kind.RingsInQuietHours())
		}
	}
	for _, s := range []string{"", "Medication", " medication", "pill"} {
		if _, err := ParseKind(s); err != ErrInvalidKind {
			t.Errorf("ParseKind(%q) error = %v", s, err)
		}
	}
}

package member

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestChanges(t *testing.T) {
	then := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := time.Date(2026, 11, 23, 8, 0, 0, 999, time.FixedZone("CST", 8*3600))
	at := now.UTC().Truncate(time.Second)
	rec := func(k ConsentKind, granted bool, version string, when time.Time) Consent {
		return Consent{Kind: k, Granted: granted, Version: version, At: when}
	}
	current := Consents{
		ConsentService:   rec(ConsentService, true, ConsentVersion, then),
		ConsentHealth:    rec(ConsentHealth, false, ConsentVersion, then),
		ConsentMarketing: rec(ConsentMarketing, true, ConsentVersion, then),
	}
	tests := []struct {
		name string
		prev Consents
		next map[ConsentKind]bool
		want []Consent
	}{
		{"signup records every kind, refusals too", nil,
			map[ConsentKind]bool{ConsentMarketing: false, ConsentService: true, ConsentHealth: true},
			[]Consent{rec(ConsentService, true, ConsentVersion, at), rec(ConsentHealth, true, ConsentVersion, at), rec(ConsentMarketing, false, ConsentVersion, at)}},
		{"nothing changed", current,
			map[ConsentKind]bool{ConsentService: true, ConsentHealth: false, ConsentMarketing: true}, nil},
		{"nothing chosen", current, nil, nil},
		{"marketing withdrawn", current,
			map[ConsentKind]bool{ConsentMarketing: false},
			[]Consent{rec(ConsentMarketing, false, ConsentVersion, at)}},
		{"health granted, others as they were", current,
			map[ConsentKind]bool{ConsentService: true, ConsentHealth: true},
			[]Consent{rec(ConsentHealth, true, ConsentVersion, at)}},
		{"unknown kind ignored", current, map[ConsentKind]bool{"location": true}, nil},
		{"granted again under a new text version", Consents{ConsentService: rec(ConsentService, true, "2025-01-01", then)},
			map[ConsentKind]bool{ConsentService: true},
			[]Consent{rec(ConsentService, true, ConsentVersion, at)}},
		{"refused again under a new text version: nothing to record",
			Consents{ConsentMarketing: rec(ConsentMarketing, false, "2025-01-01", then)},
			map[ConsentKind]bool{ConsentMarketing: false}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Changes(tt.prev, tt.next, now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Changes() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConsentsApply(t *testing.T) {
	then := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	prev := Consents{ConsentService: {ConsentService, true, ConsentVersion, then}}
	changes := []Consent{{ConsentMarketing, true, ConsentVersion, then.Add(time.Hour)}}
	got := prev.Apply(changes)
	want := Consents{ConsentService: prev[ConsentService], ConsentMarketing: changes[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Apply() (-want +got):\n%s", diff)
	}
	if len(prev) != 1 {
		t.Errorf("Apply changed its receiver")
	}
	if !got.Granted(ConsentMarketing) || got.Granted(ConsentHealth) || Consents(nil).Granted(ConsentService) {
		t.Errorf("Granted() wrong on %v", got)
	}
}

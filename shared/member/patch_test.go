package member

import (
	"errors"
	"testing"
	"time"
)

func TestApply(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	base, _, err := NewSignup(SignupDraft{Name: "王秀英", Phone: "13800138000", BirthYear: 1952,
		Consents: map[ConsentKind]bool{ConsentService: true}, AcceptCovenant: true}, nil, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	ch := ChannelSMS
	tests := []struct {
		name        string
		patch       ProfilePatch
		wantErr     error
		wantChanges int
		check       func(Member) bool
	}{
		{"empty", ProfilePatch{}, ErrEmptyPatch, 0, nil},
		{"name", ProfilePatch{Name: str(" 王秀兰 ")}, nil, 0, func(m Member) bool { return m.Name == "王秀兰" }},
		{"emoji name", ProfilePatch{Name: str("王🌸")}, ErrInvalidName, 0, nil},
		{"channel", ProfilePatch{Channel: &ch}, nil, 0, func(m Member) bool { return m.Channel == ChannelSMS }},
		{"quiet hours", ProfilePatch{QuietHours: &QuietHours{Start: "22:00", End: "07:00"}}, nil, 0,
			func(m Member) bool { return m.QuietHours == QuietHours{Start: "22:00", End: "07:00"} }},
		{"bad zone", ProfilePatch{TimeZone: str("Mars/Olympus")}, ErrInvalidTimeZone, 0, nil},
		{"grant health", ProfilePatch{Consents: map[ConsentKind]bool{ConsentHealth: true}}, nil, 1,
			func(m Member) bool {
				return m.Consents.Granted(ConsentHealth) && m.Consents[ConsentHealth].At.Equal(now)
			}},
		{"same choice again", ProfilePatch{Consents: map[ConsentKind]bool{ConsentMarketing: false}}, nil, 0, nil},
		{"withdraw service", ProfilePatch{Consents: map[ConsentKind]bool{ConsentService: false}}, ErrConsentRequired, 0, nil},
		{"interest not offered", ProfilePatch{Interests: &[]string{"炒股"}}, ErrInvalidInterest, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes, err := base.Apply(tt.patch, []string{"太极拳"}, now)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Apply() error = %v, want %v", err, tt.wantErr)
			}
			if len(changes) != tt.wantChanges {
				t.Errorf("changes = %v, want %d", changes, tt.wantChanges)
			}
			if tt.check != nil && !tt.check(got) {
				t.Errorf("Apply() = %+v", got)
			}
		})
	}
}

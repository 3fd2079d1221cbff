package reminder

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// now is Monday 2026-11-23 08:30:15.5 in Shanghai.
var now = time.Date(2026, 11, 23, 0, 30, 15, 5e8, time.UTC)

func TestNew(t *testing.T) {
	daily := Rule{Freq: FreqDaily, Start: "2026-11-01", At: "8:00"}
	tests := []struct {
		name    string
		draft   Draft
		want    Reminder
		wantErr error
	}{
		{"text", Draft{Kind: KindMedication, Text: "  吃降压药 \n", Rule: daily}, Reminder{
			Kind: KindMedication, Text: "吃降压药", Status: StatusActive,
			Rule:      Rule{Freq: FreqDaily, Start: "2026-11-01", At: "08:00", TimeZone: "Asia/Shanghai"},
			NextAt:    time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), // 08:00 in Shanghai tomorrow
			CreatedAt: now.Truncate(time.Second), UpdatedAt: now.Truncate(time.Second),
		}, nil},
		{"clip without text", Draft{Kind: KindCustom, ClipKey: "uploads/M1/clip_01.m4a", Rule: Rule{Freq: FreqOnce, Start: "2026-11-23", At: "20:00"}}, Reminder{
			Kind: KindCustom, ClipKey: "uploads/M1/clip_01.m4a", Status: StatusActive,
			Rule:      Rule{Freq: FreqOnce, Start: "2026-11-23", At: "20:00", TimeZone: "Asia/Shanghai"},
			NextAt:    time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
			CreatedAt: now.Truncate(time.Second), UpdatedAt: now.Truncate(time.Second),
		}, nil},
		{"the longest text", Draft{Kind: KindCheckup, Text: strings.Repeat("查", MaxTextLen), Rule: daily}, Reminder{
			Kind: KindCheckup, Text: strings.Repeat("查", MaxTextLen), Status: StatusActive,
			Rule:      Rule{Freq: FreqDaily, Start: "2026-11-01", At: "08:00", TimeZone: "Asia/Shanghai"},
			NextAt:    time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
			CreatedAt: now.Truncate(time.Second), UpdatedAt: now.Truncate(time.Second),
		}, nil},
		{"unknown kind", Draft{Kind: "pill", Text: "x", Rule: daily}, Reminder{}, ErrInvalidKind},
		{"no kind", Draft{Text: "x", Rule: daily}, Reminder{}, ErrInvalidKind},
		{"no text and no clip", Draft{Kind: KindEvent, Text: " \t", Rule: daily}, Reminder{}, ErrInvalidText},
		{"control character", Draft{Kind: KindEvent, Text: "明天\n早上", Rule: daily}, Reminder{}, ErrInvalidText},
		{"escape", Draft{Kind: KindEvent, Text: "a\x1b[2Jb", Rule: daily}, Reminder{}, ErrInvalidText},
		{"invalid utf-8", Draft{Kind: KindEvent, Text: "a\xffb", Rule: daily}, Reminder{}, ErrInvalidText},
		{"too long", Draft{Kind: KindEvent, Text: strings.Repeat("查", MaxTextLen+1), Rule: daily}, Reminder{}, ErrTextTooLong},
		{"clip elsewhere", Draft{Kind: KindEvent, ClipKey: "private/M1/c.m4a", Rule: daily}, Reminder{}, ErrInvalidClip},
		{"clip of another type", Draft{Kind: KindEvent, ClipKey: "uploads/M1/c.exe", Rule: daily}, Reminder{}, ErrInvalidClip},
		{"clip path", Draft{Kind: KindEvent, ClipKey: "uploads/../c.m4a", Rule: daily}, Reminder{}, ErrInvalidClip},
		{"clip trailing newline", Draft{Kind: KindEvent, ClipKey: "uploads/M1/c.m4a\n", Rule: daily}, Reminder{}, ErrInvalidClip},
		{"clip name too long", Draft{Kind: KindEvent, ClipKey: "uploads/M1/" + strings.Repeat("c", 65) + ".m4a", Rule: daily}, Reminder{}, ErrInvalidClip},
		{"bad rule", Draft{Kind: KindEvent, Text: "x", Rule: Rule{Freq: FreqDaily, Start: "2026-11-01"}}, Reminder{}, ErrInvalidTime},
		{"once already past", Draft{Kind: KindEvent, Text: "x", Rule: Rule{Freq: FreqOnce, Start: "2026-11-23", At: "08:00"}}, Reminder{}, ErrNoOccurrence},
		{"ended", Draft{Kind: KindEvent, Text: "x", Rule: Rule{Freq: FreqDaily, Start: "2026-11-01", At: "08:00", Until: "2026-11-22"}}, Reminder{}, ErrNoOccurrence},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.draft, now)
			if err != tt.wantErr {
				t.Fatalf("New() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("New() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApply(t *testing.T) {
	base, err := New(Draft{Kind: KindMedication, Text: "吃药", Rule: Rule{Freq: FreqDaily, Start: "2026-11-01", At: "08:00"}}, now.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	base.ID, base.StoreID, base.MemberID = "R1", "S1", "M1"
	base.LastAt = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	base.NextAt = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	paused := base
	paused.Status, paused.NextAt = StatusPaused, time.Time{}
	withClip := base
	withClip.ClipKey = "uploads/M1/c.ogg"
	cancelled, done := base.Cancel(now), base
	done.Status, done.NextAt = StatusDone, time.Time{}

	ptr := func(s string) *string { return &s }
	status := func(s Status) *Status { return &s }
	kind := func(k Kind) *Kind { return &k }
	updated := func(r Reminder, edit func(*Reminder)) Reminder {
		r.UpdatedAt = now.Truncate(time.Second)
		edit(&r)
		return r
	}
	tomorrowAt := func(h int) time.Time { return time.Date(2026, 11, 24, h-8, 0, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		from    Reminder
		patch   Patch
		want    Reminder
		wantErr error
	}{
		{"empty patch", base, Patch{}, base, nil},
		{"text", base, Patch{Text: ptr(" 吃两片 ")}, updated(base, func(r *Reminder) { r.Text = "吃两片" }), nil},
		{"kind", base, Patch{Kind: kind(KindCheckup)}, updated(base, func(r *Reminder) { r.Kind = KindCheckup }), nil},
		{"bad kind", base, Patch{Kind: kind("x")}, Reminder{}, ErrInvalidKind},
		{"empty text without clip", base, Patch{Text: ptr("")}, Reminder{}, ErrInvalidText},
		{"empty text with clip", withClip, Patch{Text: ptr("")}, updated(withClip, func(r *Reminder) { r.Text = "" }), nil},
		{"clip removed, text stays", withClip, Patch{ClipKey: ptr("")}, updated(withClip, func(r *Reminder) { r.ClipKey = "" }), nil},
		{"clip and text removed", withClip, Patch{ClipKey: ptr(""), Text: ptr("")}, Reminder{}, ErrInvalidText},
		{"bad clip", base, Patch{ClipKey: ptr("uploads/M1/c")}, Reminder{}, ErrInvalidClip},
		{"too long", base, Patch{Text: ptr(strings.Repeat("药", MaxTextLen+1))}, Reminder{}, ErrTextTooLong},
		{"rule", base, Patch{Rule: &Rule{Freq: FreqDaily, Start: "2026-11-01", At: "9:00"}},
			updated(base, func(r *Reminder) {
				r.Rule.At, r.NextAt = "09:00", time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
			}), nil},
		{"same rule keeps next", base, Patch{Rule: &Rule{Freq: FreqDaily, Start: "2026-11-01", At: "08:00"}},
			updated(base, func(*Reminder) {}), nil},
		{"rule with no future", base, Patch{Rule: &Rule{Freq: FreqOnce, Start: "2026-11-01", At: "08:00"}}, Reminder{}, ErrNoOccurrence},
		{"bad rule", base, Patch{Rule: &Rule{Freq: FreqWeekly, Start: "2026-11-01", At: "08:00"}}, Reminder{}, ErrInvalidWeekdays},
		{"pause", base, Patch{Status: status(StatusPaused)},
			updated(base, func(r *Reminder) { r.Status, r.NextAt = StatusPaused, time.Time{} }), nil},
		{"resume", paused, Patch{Status: status(StatusActive)},
			updated(paused, func(r *Reminder) { r.Status, r.NextAt = StatusActive, tomorrowAt(8) }), nil},
		{"resume with a new rule", paused, Patch{Status: status(StatusActive), Rule: &Rule{Freq: FreqOnce, Start: "2026-11-24", At: "10:00"}},
			updated(paused, func(r *Reminder) {
				r.Status, r.NextAt = StatusActive, tomorrowAt(10)
				r.Rule = Rule{Freq: FreqOnce, Start: "2026-11-24", At: "10:00", TimeZone: "Asia/Shanghai"}
			}), nil},
		{"new rule while paused", paused, Patch{Rule: &Rule{Freq: FreqOnce, Start: "2026-11-24", At: "10:00"}},
			updated(paused, func(r *Reminder) {
				r.Rule = Rule{Freq: FreqOnce, Start: "2026-11-24", At: "10:00", TimeZone: "Asia/Shanghai"}
			}), nil},
		{"dead rule while paused", paused, Patch{Rule: &Rule{Freq: FreqOnce, Start: "2026-11-01", At: "10:00"}}, Reminder{}, ErrNoOccurrence},
		{"pause while paused", paused, Patch{Status: status(StatusPaused)}, updated(paused, func(*Reminder) {}), nil},
		{"active while active keeps next", base, Patch{Status: status(StatusActive)}, updated(base, func(*Reminder) {}), nil},
		{"cancel by patch", base, Patch{Status: status(StatusCancelled)}, Reminder{}, ErrInvalidStatus},
		{"done by patch", base, Patch{Status: status(StatusDone)}, Reminder{}, ErrInvalidStatus},
		{"unknown status", base, Patch{Status: status("sleeping")}, Reminder{}, ErrInvalidStatus},
		{"cancelled", cancelled, Patch{Text: ptr("x")}, Reminder{}, ErrCancelled},
		{"cancelled resumed", cancelled, Patch{Status: status(StatusActive)}, Reminder{}, ErrCancelled},
		{"done", done, Patch{Status: status(StatusActive)}, Reminder{}, ErrCancelled},
		{"cancelled, empty patch", cancelled, Patch{}, Reminder{}, ErrCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.from.Apply(tt.patch, now)
			if err != tt.wantErr {
				t.Fatalf("Apply() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Apply() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	r, err := New(Draft{Kind: KindEvent, Text: "义诊", Rule: Rule{Freq: FreqDaily, Start: "2026-11-01", At: "08:00"}}, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.Status, want.NextAt, want.UpdatedAt = StatusCancelled, time.Time{}, now.Truncate(time.Second)
	if diff := cmp.Diff(want, r.Cancel(now)); diff != "" {
		t.Errorf("Cancel() (-want +got):\n%s", diff)
	}
}

func TestAdvance(t *testing.T) {
	sh := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour-8, 0, 0, 0, time.UTC) }
	daily, err := New(Draft{Kind: KindMedication, Text: "吃药", Rule: Rule{Freq: FreqDaily, Start: "2026-11-01", At: "08:00"}}, sh(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	once, err := New(Draft{Kind: KindEvent, Text: "义诊", Rule: Rule{Freq: FreqOnce, Start: "2026-11-20", At: "09:00"}}, sh(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	ending, err := New(Draft{Kind: KindCheckup, Text: "复查", Rule: Rule{Freq: FreqDaily, Start: "2026-11-01", At: "08:00", Until: "2026-11-21"}}, sh(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	paused := daily
	paused.Status, paused.NextAt = StatusPaused, time.Time{}
	tests := []struct {
		name       string
		r          Reminder
		occ, now   time.Time
		wantStatus Status
		wantNext   time.Time
	}{
		{"on time", daily, sh(20, 8), sh(20, 8).Add(3 * time.Second), StatusActive, sh(21, 8)},
		{"a little late", daily, sh(20, 8), sh(20, 9), StatusActive, sh(21, 8)},
		{"dispatched early", daily, sh(20, 8), sh(20, 7), StatusActive, sh(21, 8)},
		{"after a three-day outage", daily, sh(20, 8), sh(23, 10), StatusActive, sh(24, 8)},
		{"outage ends before the hour", daily, sh(20, 8), sh(23, 7), StatusActive, sh(23, 8)},
		{"once is done", once, sh(20, 9), sh(20, 9), StatusDone, time.Time{}},
		{"the last day is done", ending, sh(21, 8), sh(21, 8), StatusDone, time.Time{}},
		{"the day before the last", ending, sh(20, 8), sh(20, 8), StatusActive, sh(21, 8)},
		{"paused meanwhile", paused, sh(20, 8), sh(20, 8), StatusPaused, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.r.Advance(tt.occ, tt.now)
			want := tt.r
			want.LastAt, want.Status, want.NextAt = tt.occ, tt.wantStatus, tt.wantNext
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Advance() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLate(t *testing.T) {
	occ := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		now  time.Time
		want bool
	}{
		{occ.Add(-time.Minute), false},
		{occ, false},
		{occ.Add(MaxLateness), false},
		{occ.Add(MaxLateness + time.Second), true},
		{occ.Add(72 * time.Hour), true},
	}
	for _, tt := range tests {
		if got := Late(occ, tt.now); got != tt.want {
			t.Errorf("Late(%v, %v) = %v, want %v", occ, tt.now, got, tt.want)
		}
	}
}

func TestLocation(t *testing.T) {
	tests := []struct{ zone, want string }{
		{"", "Asia/Shanghai"},
		{"Asia/Urumqi", "Asia/Urumqi"},
		{"Mars/Olympus", "Asia/Shanghai"},
		{"Local", "Asia/Shanghai"},
	}
	for _, tt := range tests {
		if got := (Reminder{Rule: Rule{TimeZone: tt.zone}}).Location().String(); got != tt.want {
			t.Errorf("Location(%q) = %s, want %s", tt.zone, got, tt.want)
		}
	}
}

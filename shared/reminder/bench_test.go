package reminder

import (
	"testing"
	"time"
)

// BenchmarkNext is what the dispatcher pays per reminder it sends, per frequency.
func BenchmarkNext(b *testing.B) {
	rules := []struct {
		name string
		rule Rule
	}{
		{"freq=once", Rule{Freq: FreqOnce, Start: "2026-12-01", At: "08:00", TimeZone: "Asia/Shanghai"}},
		{"freq=daily", Rule{Freq: FreqDaily, Start: "2026-01-01", At: "08:00", TimeZone: "Asia/Shanghai"}},
		{"freq=weekdays", Rule{Freq: FreqWeekdays, Start: "2026-01-01", At: "08:00", TimeZone: "Asia/Shanghai"}},
		{"freq=weekly", Rule{Freq: FreqWeekly, Start: "2026-01-01", At: "08:00", TimeZone: "Asia/Shanghai",
			Weekdays: []time.Weekday{time.Sunday}}},
		{"freq=every_days", Rule{Freq: FreqEveryDays, Start: "2026-01-01", At: "08:00", Interval: 365, TimeZone: "Asia/Shanghai"}},
		{"freq=daily/zone=America_New_York", Rule{Freq: FreqDaily, Start: "2026-01-01", At: "02:30", TimeZone: "America/New_York"}},
	}
	from := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, bb := range rules {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := bb.rule.Next(from); !ok {
					b.Fatal("no occurrence")
				}
			}
		})
	}
}

// BenchmarkNew is the domain's share of creating a reminder.
func BenchmarkNew(b *testing.B) {
	drafts := []struct {
		name  string
		draft Draft
	}{
		{"content=text", Draft{Kind: KindMedication, Text: "早饭后吃一片降压药", Rule: Rule{Freq: FreqDaily, Start: "2026-11-01", At: "8:00"}}},
		{"content=clip", Draft{Kind: KindCustom, ClipKey: "uploads/M1/clip_01.m4a",
			Rule: Rule{Freq: FreqWeekly, Start: "2026-11-01", At: "19:30", Weekdays: []time.Weekday{time.Friday, time.Monday}}}},
	}
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, bb := range drafts {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(bb.draft, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

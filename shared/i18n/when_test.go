package i18n

import (
	"testing"
	"time"
)

func TestWhen(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		utc     string
		zh, en  string
		zhClock string
		enClock string
	}{
		{"2026-11-23T00:00:00Z", "11月23日 周一 上午8:00", "Mon 23 Nov, 8:00 AM", "上午8:00", "8:00 AM"},
		{"2026-11-23T04:30:00Z", "11月23日 周一 中午12:30", "Mon 23 Nov, 12:30 PM", "中午12:30", "12:30 PM"},
		{"2026-11-23T06:05:00Z", "11月23日 周一 下午2:05", "Mon 23 Nov, 2:05 PM", "下午2:05", "2:05 PM"},
		{"2026-11-23T12:00:00Z", "11月23日 周一 晚上8:00", "Mon 23 Nov, 8:00 PM", "晚上8:00", "8:00 PM"},
		{"2026-11-22T16:10:00Z", "11月23日 周一 凌晨12:10", "Mon 23 Nov, 12:10 AM", "凌晨12:10", "12:10 AM"},
		{"2026-03-01T01:00:00Z", "3月1日 周日 上午9:00", "Sun 1 Mar, 9:00 AM", "上午9:00", "9:00 AM"},
	} {
		at, err := time.Parse(time.RFC3339, tt.utc)
		if err != nil {
			t.Fatal(err)
		}
		if got := When(ZhCN, at, sh); got != tt.zh {
			t.Errorf("When(zh, %s) = %q, want %q", tt.utc, got, tt.zh)
		}
		if got := When(En, at, sh); got != tt.en {
			t.Errorf("When(en, %s) = %q, want %q", tt.utc, got, tt.en)
		}
		if got := Clock(ZhCN, at, sh); got != tt.zhClock {
			t.Errorf("Clock(zh, %s) = %q, want %q", tt.utc, got, tt.zhClock)
		}
		if got := Clock(En, at, sh); got != tt.enClock {
			t.Errorf("Clock(en, %s) = %q, want %q", tt.utc, got, tt.enClock)
		}
	}
}

package i18n

import (
	"fmt"
	"time"
)

// When writes an instant the way people of l say it, in loc: "11月23日 周一 上午8:00" in
// Chinese, "Mon 23 Nov, 8:00 AM" in English. Seniors read the day and the half of the day
// before the digits, so both are spelled out; the year is left out (what we show is weeks away
// at most).
func When(l Lang, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if l == En {
		return t.Format("Mon 2 Jan, 3:04 PM")
	}
	return fmt.Sprintf("%d月%d日 %s %s%d:%02d", int(t.Month()), t.Day(), zhWeekdays[t.Weekday()], zhHalf(t.Hour()), hour12(t.Hour()), t.Minute())
}

// Clock writes only the time of day: "上午8:00", "8:00 AM".
func Clock(l Lang, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if l == En {
		return t.Format("3:04 PM")
	}
	return fmt.Sprintf("%s%d:%02d", zhHalf(t.Hour()), hour12(t.Hour()), t.Minute())
}

var zhWeekdays = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// zhHalf is the part of the day Chinese speakers name before the hour; "中午12:30" reads
// better than "下午12:30", and "晚上8:00" than "下午8:00".
func zhHalf(h int) string {
	switch {
	case h < 6:
		return "凌晨"
	case h < 12:
		return "上午"
	case h < 13:
		return "中午"
	case h < 18:
		return "下午"
	default:
		return "晚上"
	}
}

func hour12(h int) int {
	if h %= 12; h == 0 {
		return 12
	}
	return h
}

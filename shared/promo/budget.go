package promo

import (
	"slices"
	"time"

	"yinling/shared/member"
)

// Window is the budget's rolling window: a member gets at most their cap of one kind in any
// seven days, not per calendar week (which would allow twice the cap across a Sunday night).
const Window = 7 * 24 * time.Hour

// DefaultContentCap is the weekly budget of content pushes when a store sets none: a morning
// and an evening post a day.
const DefaultContentCap = 14

// Ledger is what a member was sent of one kind: the send times, oldest first. Care messages
// (medication, session reminders) never enter it: they are not pushes.
type Ledger []time.Time

// Within returns the sends of l in the window ending at now.
func (l Ledger) Within(now time.Time) Ledger {
	from := now.Add(-Window)
	i, _ := slices.BinarySearchFunc(l, from, func(t, from time.Time) int {
		if t.After(from) {
			return 1
		}
		return -1
	})
	return l[i:]
}

// Allows reports whether one more send at now stays within cap.
func (l Ledger) Allows(cap int, now time.Time) bool { return len(l.Within(now)) < cap }

// Add returns l with a send at now, and without the sends the window has left behind: the
// ledger stays as small as the cap.
func (l Ledger) Add(now time.Time) Ledger {
	return append(slices.Clone(l.Within(now)), now.UTC())
}

// Cap is m's weekly budget of promotions in a campaign for audience: the smallest push cap
// among the audience's groups the member is active in (a group that asks for fewer pushes is
// obeyed), or the store's when none of them sets one. capOf answers a group's cap, 0 and false
// for a group without one of its own.
func Cap(storeCap int, audience Audience, activeIn []string, capOf func(group string) (int, bool)) int {
	out, found := 0, false
	for _, g := range activeIn {
		if !slices.Contains(audience.Groups, g) {
			continue
		}
		if c, ok := capOf(g); ok && (!found || c < out) {
			out, found = c, true
		}
	}
	if !found {
		return storeCap
	}
	return out
}

// Reason says why a member of the audience is not contacted (now, or at all).
type Reason string

// Reasons. Each is a column of a campaign's stats.
const (
	ReasonUnverified Reason = "unverified"  // never: a number nobody verified is never called
	ReasonNoConsent  Reason = "no_consent"  // never: marketing consent not granted
	ReasonOptedOut   Reason = "opted_out"   // never: unsubscribed from a push's link
	ReasonChannel    Reason = "channel"     // never: the member asked for no messages
	ReasonBudget     Reason = "budget"      // not this time: the weekly cap is reached
	ReasonQuietHours Reason = "quiet_hours" // later: at the end of the member's quiet hours
)

// Unreachable says why no push may reach m at all — not verified, unsubscribed, no marketing
// consent, no channel — or "" when one may. The sender asks again just before calling: a member
// may change their mind after the fan-out decided.
func Unreachable(m member.Member, optedOut bool) Reason {
	switch {
	case !m.Verified():
		return ReasonUnverified
	case optedOut: // before consent: unsubscribing withdraws it too, and stats should say which
		return ReasonOptedOut
	case !m.Consents.Granted(member.ConsentMarketing):
		return ReasonNoConsent
	case m.Channel == member.ChannelNone:
		return ReasonChannel
	}
	return ""
}

// Decision is what to do with one member of an audience at now.
type Decision struct {
	Send   bool
	Reason Reason    // why not, when Send is false
	At     time.Time // ReasonQuietHours: when to send instead
}

// Decide applies, in order, what makes a push never go (verification, opt-out, consent, the
// member's channel), the weekly budget, and quiet hours, which delay rather than drop. optedOut
// is whether the member unsubscribed from a push's link (kept apart from consent so that the
// stats can tell them apart); ledger is their sends of the campaign's kind.
func Decide(m member.Member, optedOut bool, ledger Ledger, cap int, now time.Time) Decision {
	if r := Unreachable(m, optedOut); r != "" {
		return Decision{Reason: r}
	}
	if !ledger.Allows(cap, now) {
		return Decision{Reason: ReasonBudget}
	}
	loc, err := member.ParseTimeZone(m.TimeZone)
	if err != nil {
		loc, _ = member.ParseTimeZone(member.DefaultTimeZone)
	}
	if m.QuietHours.Contains(now, loc) {
		return Decision{Reason: ReasonQuietHours, At: m.QuietHours.NextEnd(now, loc)}
	}
	return Decision{Send: true}
}

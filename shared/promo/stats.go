package promo

// ReasonQuota: the store's daily quota of paid messages was reached (not this time).
const ReasonQuota Reason = "quota"

// SuppressionReasons are the reasons counted in a campaign's stats, in the order pages show them.
var SuppressionReasons = []Reason{ReasonBudget, ReasonNoConsent, ReasonOptedOut, ReasonUnverified, ReasonChannel, ReasonQuota}

// Stats are a campaign's figures, refreshed as it sends. Audience counts the members the
// audience matched (each once per run); each of them is then Queued, Deferred (queued for the
// end of their quiet hours, and counted in Queued too) or Suppressed for a reason. A queued
// message ends Sent, Failed (the provider refused it) or Skipped (the campaign was cancelled, or
// the member withdrew consent, before it went). Opened counts members who opened the offer page,
// each once; Unsubscribed those who unsubscribed from it.
type Stats struct {
	Audience     int
	Queued       int
	Deferred     int
	Sent         int
	Failed       int
	Skipped      int
	Opened       int
	Unsubscribed int
	Suppressed   map[Reason]int
}

// Pending counts the queued messages that have not ended yet (sent, failed or skipped).
func (s Stats) Pending() int { return max(0, s.Queued-s.Sent-s.Failed-s.Skipped) }

// Add returns s with o added.
func (s Stats) Add(o Stats) Stats {
	out := Stats{Audience: s.Audience + o.Audience, Queued: s.Queued + o.Queued, Deferred: s.Deferred + o.Deferred,
		Sent: s.Sent + o.Sent, Failed: s.Failed + o.Failed, Skipped: s.Skipped + o.Skipped, Opened: s.Opened + o.Opened,
		Unsubscribed: s.Unsubscribed + o.Unsubscribed, Suppressed: map[Reason]int{}}
	for _, m := range []map[Reason]int{s.Suppressed, o.Suppressed} {
		for r, n := range m {
			out.Suppressed[r] += n
		}
	}
	return out
}

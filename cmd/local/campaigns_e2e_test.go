package main

import (
	"testing"
	"time"
)

// TestCampaignsInBrowser runs web/e2e/campaigns.mjs — a real chromium, phones sized and labelled
// like WeChat's — against the whole local stack, its queues polled and its schedules firing every
// few seconds: a senior joins the demo group with marketing consent; staff sign in on
// /admin/campaigns, see the SMS body's limit and why, see the API's refusal by the field it names,
// and create a promotion for the demo group, sent now by SMS; the fan-out and the sender put the
// offer's link in the local outbox; opened on a phone that never signed in, /o/<token> shows the
// senior's own price and the pickup, 听一听 reads it aloud and one tap unsubscribes (the taps are
// counted); staff see sent ≥ 1, opened 1, unsubscribed 1, the page stops refreshing once the
// campaign is sent, and a campaign scheduled for tomorrow is cancelled with two taps. Screenshots
// land in artifacts/e2e-campaigns.
func TestCampaignsInBrowser(t *testing.T) {
	e := startE2EWith(t, e2eOptions{tick: 5 * time.Second, timeout: 4 * time.Minute})
	e.run(t, "campaigns.mjs", "e2e-campaigns", "--token", e.token, "--join-code", e.joinCode)
}

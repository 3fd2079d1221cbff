package main

import (
	"testing"
	"time"
)

// TestQAInBrowser runs web/e2e/qa.mjs — a real chromium, phones sized and labelled like WeChat's —
// against the whole local stack: staff add a doctor and schedule a talk with one seat on
// /admin/sessions; a phone without a session is told how to get in; one senior books it on
// /sessions in one tap (the taps are counted) and sees the confirmation in place; a second, with a
// question typed and recorded (chromium's fake microphone), joins the waiting list; the first
// cancels from the booking page (/b/<token>, the link "my page" shows) on a phone that never
// signed in, and the second is promoted; staff add a seat and the first senior's daughter books
// it back for her on a helper family link (a view link only sees); staff play the recorded
// question, rank the questions and mark a repeat, mark attendance once the talk has started,
// and print the question digest on one page. The talk starts a few minutes in, so the
// run waits for it. Screenshots and the printed digest land in artifacts/e2e-qa.
func TestQAInBrowser(t *testing.T) {
	e := startE2EWith(t, e2eOptions{timeout: 6 * time.Minute})
	e.run(t, "qa.mjs", "e2e-qa", "--token", e.token, "--join-code", e.joinCode)
}

package main

import (
	"bytes"
	"encoding/json"

	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReminderLadderOnTheLocalStack is the reminders issue's end-to-end test on the whole local
// stack — gateway, functions, queue pollers, the scheduled dispatcher (ticking every 2 s), the
// emulators — driven only through the HTTP API as a senior and staff would: a senior joins and
// verifies, makes a family link that asks for alerts, and sets a medication reminder for the next
// minute. Nobody acknowledges it: it reaches the outbox, is retried twice ten seconds apart (the
// local spacing), and the family's number gets the alert — all within a minute of its time.
func TestReminderLadderOnTheLocalStack(t *testing.T) {
	e := startE2EWith(t, e2eOptions{tick: 2 * time.Second, timeout: 3 * time.Minute})
	c := &apiClient{t: t, base: e.baseURL}

	// Join and verify with the code from the outbox.
	var joined struct{ MemberID string }
	c.do("POST", "/api/signup", "", map[string]any{"code": e.joinCode, "name": "王秀英", "phone": "138 0013 8123",
		"birthYear": 1950, "consents": map[string]bool{"service": true, "health": true}, "acceptCovenant": true}, &joined)
	var otp string
	for _, m := range c.outbox(e.token) {
		if m.Kind == "otp" && m.MemberID == joined.MemberID {
			otp = regexp.MustCompile(`\d{6}`).FindString(m.Text)
		}
	}
	var session struct{ Token string }
	c.do("POST", "/api/signup/verify", "", map[string]any{"memberId": joined.MemberID, "otp": otp}, &session)
	c.do("POST", "/api/me/family-links", session.Token, map[string]any{"label": "女儿", "scope": "view", "alerts": true,
		"alertPhone": "139 0013 9123", "alertChannel": "sms"}, nil)

	// A one-off medication reminder at the next minute (or the one after, if the next is close).
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	due := time.Now().In(shanghai).Truncate(time.Minute).Add(time.Minute)
	if time.Until(due) < 20*time.Second {
		due = due.Add(time.Minute)
	}
	var rem struct{ ID string }
	c.do("POST", "/api/me/reminders", session.Token, map[string]any{"kind": "medication", "text": "该吃降压药了",
		"rule": map[string]any{"freq": "once", "start": due.Format("2006-01-02"), "at": due.Format("15:04")}}, &rem)

	// Wait for the ladder: A0, A1, A2, then the family alert.
	want := []string{":A0", ":A1", ":A2", ":F"}
	deadline := due.Add(time.Minute)
	seen := map[string]time.Time{}
	for time.Now().Before(deadline) && len(seen) < len(want) {
		time.Sleep(time.Second)
		for _, m := range c.outbox(e.token) {
			if !strings.Contains(m.MessageID, rem.ID) {
				continue
			}
			for _, w := range want {
				if strings.Contains(m.MessageID, w) {
					if _, ok := seen[w]; !ok {
						seen[w] = m.At
					}
					if w == ":F" && (m.To != "+8613900139123" || m.Channel != "sms" || !strings.Contains(m.Text, "王秀英")) {
						t.Errorf("family alert = %+v, want an SMS to the daughter naming her mother", m)
					}
				}
			}
		}
	}
	for _, w := range want {
		if _, ok := seen[w]; !ok {
			t.Errorf("no %s delivery of the reminder within a minute of %v (seen %v)\nstack log:\n%s", w, due, seen, e.stackLog.Bytes())
		}
	}
	if len(seen) == len(want) {
		t.Logf("due %v: first call +%v, retries +%v and +%v, family alert +%v", due.Format("15:04:05"),
			seen[":A0"].Sub(due).Round(time.Second), seen[":A1"].Sub(due).Round(time.Second),
			seen[":A2"].Sub(due).Round(time.Second), seen[":F"].Sub(due).Round(time.Second))
	}
}

// apiClient calls the local gateway as a page would.
type apiClient struct {
	t    *testing.T
	base string
}

func (c *apiClient) do(method, path, bearer string, body, out any) {
	c.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	if bearer != "" {
		req.Header.Set("authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	if resp.StatusCode >= 300 {
		c.t.Fatalf("%s %s = %d: %s", method, path, resp.StatusCode, raw.Bytes())
	}
	if out != nil {
		if err := json.Unmarshal(raw.Bytes(), out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

type outboxMessage struct {
	MessageID, MemberID, Channel, To, Text, Kind string
	At                                           time.Time
}

func (c *apiClient) outbox(staffToken string) []outboxMessage {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+"/api/admin/outbox?limit=100", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("authorization", "Bearer "+staffToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ Items []outboxMessage }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&page) != nil {
		c.t.Fatalf("GET /api/admin/outbox = %d", resp.StatusCode)
	}
	return page.Items
}

package signup_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/member"
)

// signupFrom is the sample signup of phone, sent from the client address ip.
func signupFrom(t testing.TB, event, ip, phone string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	req := readEvent(t, event)
	var body map[string]any
	if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
		t.Fatal(err)
	}
	body["phone"] = phone
	b, _ := json.Marshal(body)
	req.Body = string(b)
	req.RequestContext.HTTP.SourceIP = ip
	return req
}

// mobile is the i-th of a run of distinct mainland mobile numbers.
func mobile(i int) string { return fmt.Sprintf("139 %04d %04d", i/10000, i%10000) }

// fillAddress sends member.OTPMaxPerHourPerClient codes on behalf of each address of ips in
// turn, three to each of a run of numbers starting at first (a number's own limit): repeated
// signups count as first ones do. It returns the next unused number.
func (f *fixture) fillAddress(t *testing.T, first int, ips ...string) int {
	t.Helper()
	n := first
	for i := 0; i < member.OTPMaxPerHourPerClient; i++ {
		ip := ips[i%len(ips)]
		if resp, _ := f.invoke(signupFrom(t, "signup", ip, mobile(n))); resp.StatusCode != 201 {
			t.Fatalf("code %d from %s to %s: %d %s", i+1, ip, mobile(n), resp.StatusCode, resp.Body)
		}
		if i%member.OTPMaxPerHour == member.OTPMaxPerHour-1 {
			n++
		}
	}
	return n
}

// One address gets member.OTPMaxPerHourPerClient codes sent an hour, to any numbers; the next
// is refused in the caller's language, costs no more calls than a signup, and changes nothing —
// while another address, and the number's own limit, work as before.
func TestOTPSendsArePerAddressLimited(t *testing.T) {
	const busy, other = "198.51.100.7", "203.0.113.50"
	f := newFixture(t)
	// A member who joined earlier, from elsewhere: asking for a code from the busy address
	// later is a sign-in, counted against that address too.
	knownID, _ := f.signedIn(t, "signup")
	next := f.fillAddress(t, 0, busy)

	for _, tt := range []struct {
		name, event, phone, lang string
	}{
		{"a new number", "signup", mobile(next), "zh"},
		{"a new number, in English", "signup-en", mobile(next + 1), "en"},
		{"a member's sign-in", "signup", phoneDigits, "zh"},
	} {
		before := f.items()
		f.calls.Reset()
		resp, body := f.invoke(signupFrom(t, tt.event, busy, tt.phone))
		calls := f.calls.Snapshot().Count
		code, field := errCode(body)
		e, _ := body["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if resp.StatusCode != 429 || code != "otp_send_limit_ip" || field != "" {
			t.Errorf("%s over the address's limit: %d %s, want 429 otp_send_limit_ip", tt.name, resp.StatusCode, resp.Body)
		}
		chinese := strings.ContainsAny(msg, "验证码网络")
		if msg == "" || strings.HasPrefix(msg, "error.") || chinese != (tt.lang == "zh") {
			t.Errorf("%s: message %q is not the catalog's, in %s", tt.name, msg, tt.lang)
		}
		if after := f.items(); after != before {
			t.Errorf("%s: items %d → %d, want nothing written or sent", tt.name, before, after)
		}
		// The limit rides in the signup's own transaction: the code and the caller's failed
		// lookups, the join context, the write (and, for a sign-in, its membership and code).
		want := map[string]int{"DynamoDB.BatchGetItem": 2, "DynamoDB.TransactWriteItems": 1}
		if tt.phone == phoneDigits {
			want = map[string]int{"DynamoDB.BatchGetItem": 2, "DynamoDB.TransactWriteItems": 2, "DynamoDB.GetItem": 1}
		}
		if diff := cmp.Diff(want, calls); diff != "" {
			t.Errorf("%s: AWS calls of the refusal (-want +got):\n%s", tt.name, diff)
		}
	}

	// Another address is not affected, and costs what a signup always cost.
	f.calls.Reset()
	if resp, _ := f.invoke(signupFrom(t, "signup", other, mobile(next+2))); resp.StatusCode != 201 {
		t.Errorf("another address: %d %s, want 201", resp.StatusCode, resp.Body)
	}
	if n := f.calls.Snapshot().Count; n["DynamoDB.BatchGetItem"] != 2 || n["DynamoDB.TransactWriteItems"] != 1+1 || f.calls.Total() != 4 {
		t.Errorf("a signup made these AWS calls:\n%s", f.calls.Snapshot())
	}
	if resp, body := f.invoke(signupFrom(t, "signup", other, phoneDigits)); resp.StatusCode != 201 || body["memberId"] != knownID {
		t.Errorf("the member's sign-in from another address: %d %s, want 201", resp.StatusCode, resp.Body)
	}
	// The number's own limit holds at an address under its own.
	for i := 1; i < member.OTPMaxPerHour; i++ {
		if resp, _ := f.invoke(signupFrom(t, "signup", other, mobile(next+2))); resp.StatusCode != 201 {
			t.Fatalf("code %d to one number: %d %s", i+1, resp.StatusCode, resp.Body)
		}
	}
	before := f.items()
	resp, body := f.invoke(signupFrom(t, "signup", other, mobile(next+2)))
	if code, field := errCode(body); resp.StatusCode != 429 || code != "otp_send_limit" || field != "phone" || f.items() != before {
		t.Errorf("code %d to one number: %d %s, want 429 otp_send_limit and nothing written", member.OTPMaxPerHour+1, resp.StatusCode, resp.Body)
	}

	// The table holds the busy address's count under a keyed hash only, and forgets it.
	counters := f.clientCounters(t)
	if len(counters) != 3 { // busy, other, and the sample signup's address
		t.Fatalf("client counters = %v, want one per address", counters)
	}
	var full map[string]any
	for _, c := range counters {
		if c["Count"] == fmt.Sprint(member.OTPMaxPerHourPerClient) {
			full = c
		}
	}
	if full == nil {
		t.Fatalf("no counter holds %d: %v", member.OTPMaxPerHourPerClient, counters)
	}
	raw, _ := json.Marshal(full)
	for _, ip := range []string{busy, other} {
		plain := sha256.Sum256([]byte(ip))
		unkeyed := sha256.Sum256([]byte("yinling client\x00" + ip))
		for _, leak := range []string{ip, hex.EncodeToString(plain[:8]), hex.EncodeToString(unkeyed[:8])} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("a counter holds %q, the address or an unkeyed hash of it: %s", leak, raw)
			}
		}
	}
	exp, _ := full["ExpiresAt"].(string)
	if at, err := strconv.ParseInt(exp, 10, 64); err != nil || at <= f.now.Unix() || at > f.now.Add(2*time.Hour).Unix() {
		t.Errorf("counter expires at %q, want within 2 hours of %d", exp, f.now.Unix())
	}
	if all := f.scanJSON(t); strings.Contains(all, busy) || strings.Contains(all, other) {
		t.Errorf("an item of the table holds a client address")
	}

	// The next hour starts afresh.
	f.now = f.now.Add(time.Hour)
	if resp, _ := f.invoke(signupFrom(t, "signup", busy, mobile(next+3))); resp.StatusCode != 201 {
		t.Errorf("the busy address an hour later: %d %s, want 201", resp.StatusCode, resp.Body)
	}
}

// An IPv6 caller counts by its /64, one subscriber's: a phone may take any address in it, and
// must not count afresh by doing so. Another /64 is another caller; an IPv4 address written as
// IPv6 is that IPv4 address.
func TestOTPSendsPerAddressCountIPv6ByPrefix(t *testing.T) {
	f := newFixture(t)
	next := f.fillAddress(t, 0, "2001:db8:1:2::1", "2001:db8:1:2:a:b:c:d", "2001:db8:1:2:ffff:ffff:ffff:fffe")
	resp, body := f.invoke(signupFrom(t, "signup", "2001:db8:1:2::99", mobile(next)))
	if code, _ := errCode(body); resp.StatusCode != 429 || code != "otp_send_limit_ip" {
		t.Errorf("another address of a full /64: %d %s, want 429 otp_send_limit_ip", resp.StatusCode, resp.Body)
	}
	if resp, _ := f.invoke(signupFrom(t, "signup", "2001:db8:1:3::1", mobile(next+1))); resp.StatusCode != 201 {
		t.Errorf("another /64: %d %s, want 201", resp.StatusCode, resp.Body)
	}

	next = f.fillAddress(t, next+2, "192.0.2.44")
	resp, body = f.invoke(signupFrom(t, "signup", "::ffff:192.0.2.44", mobile(next)))
	if code, _ := errCode(body); resp.StatusCode != 429 || code != "otp_send_limit_ip" {
		t.Errorf("a full IPv4 address written as IPv6: %d %s, want 429 otp_send_limit_ip", resp.StatusCode, resp.Body)
	}
}

// clientCounters returns the per-address counters of codes sent, their attributes as strings.
func (f *fixture) clientCounters(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(f.scanJSON(t), "\n") {
		var it map[string]map[string]any
		if line == "" || json.Unmarshal([]byte(line), &it) != nil {
			continue
		}
		if pk, _ := it["PK"]["Value"].(string); !strings.HasPrefix(pk, "CLIENT#") {
			continue
		}
		flat := map[string]any{}
		for k, v := range it {
			flat[k] = v["Value"]
		}
		out = append(out, flat)
	}
	return out
}

// scanJSON returns every item of the test table, one JSON line each.
func (f *fixture) scanJSON(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	p := dynamodb.NewScanPaginator(f.env.DynamoDB, &dynamodb.ScanInput{TableName: strPtr(f.env.TableName())})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			raw, _ := json.Marshal(it)
			b.Write(raw)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

package latency

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
)

// route is one of the main routes as the load drives it: a request that succeeds with status.
type route struct {
	name   string
	h      func(f *fixture) lambda.Handler
	req    func(f *fixture, i int) events.APIGatewayV2HTTPRequest
	status int
	// setup runs once before the route's requests (a session with seats for the bookings).
	setup func(f *fixture)
}

// routes are the main routes of issue #8. Request i of the booking route books member
// i%members a seat at session i/members.
func routes() []route {
	var booked []string
	return []route{
		{name: "signup", status: 201,
			h:   func(f *fixture) lambda.Handler { return f.signup },
			req: func(f *fixture, _ int) events.APIGatewayV2HTTPRequest { return f.signupReq() }},
		{name: "my-page", status: 200,
			h:   func(f *fixture) lambda.Handler { return f.signup },
			req: func(f *fixture, i int) events.APIGatewayV2HTTPRequest { return f.meReq(i % len(f.sessions)) }},
		{name: "booking", status: 201,
			h: func(f *fixture) lambda.Handler { return f.qa },
			setup: func(f *fixture) {
				booked = booked[:0]
				// enough sessions that nobody books one twice: the route's request alone, then
				// requestsPerRoute more, members to a session
				for range requestsPerRoute/members + 1 {
					booked = append(booked, f.newSession(500))
				}
			},
			req: func(f *fixture, i int) events.APIGatewayV2HTTPRequest {
				m := i % len(f.sessions)
				return f.bookReq(booked[(i/len(f.sessions))%len(booked)], m)
			}},
		{name: "campaign-create", status: 201,
			h:   func(f *fixture) lambda.Handler { return f.promotions },
			req: func(f *fixture, _ int) events.APIGatewayV2HTTPRequest { f.phones++; return f.campaignReq(f.phones) }},
	}
}

// wantCalls are each main route's exact AWS calls, one request alone. The budget (DESIGN.md
// §8) is 2 DynamoDB calls typical and 3 at most, no Scan; signup's fourth write is the outbox,
// which stands in for the SMS provider's call.
var wantCalls = map[string]map[string]int{
	// the code and the caller's failed-lookup count; store, group and phone lookup; the join;
	// the outbox's write of the code's SMS
	"signup": {"DynamoDB.BatchGetItem": 2, "DynamoDB.TransactWriteItems": 2},
	// the session; the member's partition; the names of their groups
	"my-page": {"DynamoDB.GetItem": 1, "DynamoDB.Query": 1, "DynamoDB.BatchGetItem": 1},
	// the session token; the seat (or a waitlist ticket); the booking with its reminders
	"booking": {"DynamoDB.GetItem": 1, "DynamoDB.UpdateItem": 1, "DynamoDB.TransactWriteItems": 1},
	// store and groups (caps, names); the campaign, sent tomorrow so nothing is queued yet
	"campaign-create": {"DynamoDB.BatchGetItem": 1, "DynamoDB.PutItem": 1},
}

// TestRouteCalls makes one request of each main route and checks its AWS calls exactly.
func TestRouteCalls(t *testing.T) {
	f := newFixture(t, 2)
	for _, r := range routes() {
		if r.setup != nil {
			r.setup(f)
		}
		f.calls.Reset()
		f.call(r.h(f), r.req(f, 0), r.status)
		got := f.calls.Snapshot()
		if n := scans(got); n != 0 {
			t.Errorf("%s made %d Scan calls", r.name, n)
		}
		if diff := cmp.Diff(wantCalls[r.name], got.Count); diff != "" {
			t.Errorf("%s: AWS calls (-want +got):\n%s", r.name, diff)
		}
	}
}

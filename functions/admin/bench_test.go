package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// BenchmarkRoutes measures each admin route on Lambda's JSON path against DynamoDB Local, and
// reports what it costs in AWS terms: calls and capacity units per request. Latency here is the
// emulator's, not DynamoDB's; the counts are exact.
func BenchmarkRoutes(b *testing.B) {
	cases := []struct {
		name  string
		event string
		edit  func(r *events.APIGatewayV2HTTPRequest, i int)
	}{
		{"list-groups", "list-groups", nil},
		{"get-group", "get-group", nil},
		{"create-group", "create-group", func(r *events.APIGatewayV2HTTPRequest, i int) {
			r.Headers["idempotency-key"] = fmt.Sprintf("bench-%d", i)
		}},
		{"update-group", "update-group", nil},
		{"create-invite", "create-invite", nil},
		// On the members seedMembers writes: three in the listed group.
		{"list-members", "list-members", nil},
		{"list-members-filtered", "list-members-filtered", nil},
		{"get-member", "get-member", nil},
		{"update-member", "update-member", nil},
		{"export-members", "export-members", nil},
		{"metrics", "metrics", nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b)
			f.seedMembers(b)
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(readEvent(b, c.event), &req); err != nil {
				b.Fatal(err)
			}
			payloads := make([][]byte, b.N)
			for i := range payloads {
				if c.edit != nil {
					c.edit(&req, i)
				}
				payloads[i], _ = json.Marshal(req)
			}
			f.calls.Reset()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, err := f.handler.Invoke(context.Background(), payloads[i])
				if err != nil {
					b.Fatal(err)
				}
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode >= 300 {
					b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
				}
			}
			b.StopTimer()
			calls := f.calls.Snapshot()
			// DynamoDB Local reports only the total for most calls, so the total is what we
			// publish; it is the emulator's estimate of DynamoDB's capacity units.
			var units float64
			for _, c := range calls.Capacity {
				units += c.Units
			}
			n := float64(b.N)
			b.ReportMetric(float64(calls.Total())/n, "aws-calls/op")
			b.ReportMetric(units/n, "capacity-units/op")
		})
	}
}

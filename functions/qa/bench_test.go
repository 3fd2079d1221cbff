package qa_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/testenv"
)

// The Q&A benchmarks run the handler on Lambda's JSON path against DynamoDB Local and report
// what a booking costs in AWS terms — calls and capacity units, exact — and how long it takes
// under load (the emulator's latency, not DynamoDB's: the ratio between operations is what
// carries over).

// BenchmarkBookingCalls measures one booking of a free seat, one cancellation that frees it (no
// one waiting), and one cancellation that hands the seat to the first on the waitlist, one
// client alone: their calls, capacity units and latency.
func BenchmarkBookingCalls(b *testing.B) {
	f := newFixture(b)
	var book, cancelFree, cancelPromote stat
	for i := 0; i < b.N; i++ {
		session := f.session(1)
		book.measure(f, func() { f.book(session, memberA, 201) })
		cancelFree.measure(f, func() {
			f.do(testenv.WithSession(testenv.WithParam(readEvent(b, "cancel"), "id", session), f.sessions[memberA]), 200)
		})
		f.book(session, memberA, 201)
		f.book(session, memberB, 201) // waitlisted
		cancelPromote.measure(f, func() {
			body := f.do(testenv.WithSession(testenv.WithParam(readEvent(b, "cancel"), "id", session), f.sessions[memberA]), 200)
			if body["promoted"] != true {
				b.Fatalf("cancel did not promote: %v", body)
			}
		})
	}
	book.report(b, "book")
	cancelFree.report(b, "cancel")
	cancelPromote.report(b, "cancel-promote")
}

// stat adds up the AWS calls and capacity units of one kind of operation.
type stat struct {
	n            int
	calls, units float64
	took         time.Duration
}

func (s *stat) measure(f *fixture, op func()) {
	f.calls.Reset()
	t0 := time.Now()
	op()
	s.took += time.Since(t0)
	snap := f.calls.Snapshot()
	s.n++
	s.calls += float64(snap.Total())
	for _, c := range snap.Capacity {
		s.units += c.Units
	}
}

func (s *stat) report(b *testing.B, name string) {
	b.ReportMetric(s.calls/float64(s.n), name+"-aws-calls/op")
	b.ReportMetric(s.units/float64(s.n), name+"-capacity-units/op")
	b.ReportMetric(float64(s.took.Microseconds())/1000/float64(s.n), name+"-ms")
}

// BenchmarkBookingLoad is the load: 50 clients at once. In "book", each books one seat
// at each of 10 sessions of 20 seats, so each session fills and then waitlists the other 30. In
// "churn", every client books a seat at the same session of 20 seats and cancels it, 10 times
// over, so seats are won, lost to the waitlist and handed on by promotions all the while —
// the worst case for contention on one session. Each reports booking latency percentiles and
// booking throughput, and checks the end state of the sessions.
func BenchmarkBookingLoad(b *testing.B) {
	const clients, rounds, seats = 50, 10, 20
	f := newFixture(b)
	members := make([]string, clients)
	for i := range members {
		members[i] = fmt.Sprintf("01JDR0000000000000000M%04d", i)
		f.join(storeID, groupID, members[i], "SEED2345", "会员", fmt.Sprintf("1380000%04d", i), true)
	}
	b.Run("book", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			book := make([][][]byte, rounds)
			sessions := make([]string, rounds)
			for r := range rounds {
				sessions[r] = f.session(seats)
				book[r] = payloads(b, testenv.WithParam(readEvent(b, "book"), "id", sessions[r]), members, f.sessions)
			}
			load(b, f, clients, func(c int, lat *[]time.Duration) {
				for r := range rounds {
					t0 := time.Now()
					invoke(b, f, book[r][c], 201)
					*lat = append(*lat, time.Since(t0))
				}
			})
			for _, id := range sessions {
				f.checkCounts(b, id, seats, clients-seats)
			}
		}
	})
	b.Run("churn", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			session := f.session(seats)
			book := payloads(b, testenv.WithParam(readEvent(b, "book"), "id", session), members, f.sessions)
			cancel := payloads(b, testenv.WithParam(readEvent(b, "cancel"), "id", session), members, f.sessions)
			load(b, f, clients, func(c int, lat *[]time.Duration) {
				for range rounds {
					t0 := time.Now()
					invoke(b, f, book[c], 201)
					*lat = append(*lat, time.Since(t0))
					invoke(b, f, cancel[c], 200)
				}
			})
			f.checkCounts(b, session, 0, 0)
		}
	})
}

// load runs client(c) for every client at once and reports the latencies they record, the
// throughput, and the AWS calls per request (every request the clients made, reads included).
func load(b *testing.B, f *fixture, clients int, client func(c int, lat *[]time.Duration)) {
	b.Helper()
	f.calls.Reset()
	lat := make([][]time.Duration, clients)
	begin := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() { client(c, &lat[c]) })
	}
	wg.Wait()
	took := time.Since(begin)
	if b.Failed() {
		b.Fatalf("logs:\n%s", f.logs.String())
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "book-p50-ms")
	b.ReportMetric(pct(0.95), "book-p95-ms")
	b.ReportMetric(pct(0.99), "book-p99-ms")
	b.ReportMetric(float64(len(all))/took.Seconds(), "bookings/s")
	b.ReportMetric(float64(f.calls.Snapshot().Total())/float64(len(all)), "aws-calls/booking")
}

// checkCounts fails the benchmark unless the session's counts are confirmed and waiting.
func (f *fixture) checkCounts(b *testing.B, session string, confirmed, waiting int) {
	b.Helper()
	sess := f.do(testenv.WithSession(testenv.WithParam(readEvent(b, "session"), "id", session), f.sessions[memberA]), 200)
	if sess["confirmed"] != float64(confirmed) || sess["waiting"] != float64(waiting) {
		b.Fatalf("session %s: confirmed %v, waiting %v; want %d, %d", session, sess["confirmed"], sess["waiting"], confirmed, waiting)
	}
}

// payloads are req for each member, with their session token, as Lambda's JSON payloads.
func payloads(b *testing.B, req events.APIGatewayV2HTTPRequest, members []string, sessions map[string]string) [][]byte {
	b.Helper()
	out := make([][]byte, len(members))
	for i, m := range members {
		p, err := json.Marshal(testenv.WithSession(req, sessions[m]))
		if err != nil {
			b.Fatal(err)
		}
		out[i] = p
	}
	return out
}

// invoke sends one payload from a load client; the fixture's clock stands still.
func invoke(b *testing.B, f *fixture, payload []byte, status int) {
	out, err := f.handler.Invoke(context.Background(), payload)
	if err != nil {
		b.Error(err)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != status {
		b.Errorf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
}

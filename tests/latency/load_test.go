package latency

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/awscalls"
)

// Load: requestsPerRoute requests of each route from clients at once (bounded: a few hundred
// per route on a shared 2-core machine). members verified members share the my-page and booking
// requests (each books each of the route's sessions once).
const (
	requestsPerRoute = 240
	clients          = 8
	members          = 30
)

// BenchmarkRoutes runs each main route under the load, then the bare SDK script that makes the
// same DynamoDB calls (the route's exact calls, one request alone, as TestRouteCalls asserts)
// under the same load, and reports both: p50/p95/p99 latency, throughput, and the handler's
// ratio to the floor. The figures are DynamoDB Local's on loopback, not DynamoDB's: the ratio
// is what carries over.
func BenchmarkRoutes(b *testing.B) {
	f := newFixture(b, members)
	for _, r := range routes() {
		b.Run("route="+r.name, func(b *testing.B) {
			if r.setup != nil {
				r.setup(f)
			}
			// One request alone gives the calls the floor repeats.
			f.calls.Reset()
			f.call(r.h(f), r.req(f, 0), r.status)
			shape := f.calls.Snapshot()
			floor := newFloor(b, f, shape)
			var handler, bare result
			var n int
			for b.Loop() {
				// Every round has requests of its own: new phones, new idempotency keys, new
				// sessions to book (a repeated request would measure the replay path instead).
				if r.setup != nil && n > 0 {
					r.setup(f)
				}
				reqs := make([]events.APIGatewayV2HTTPRequest, requestsPerRoute)
				for i := range reqs {
					reqs[i] = r.req(f, i+1)
				}
				n = len(reqs)
				f.calls.Reset()
				handler = runLoad(b, len(reqs), func(i int) error {
					status, body, err := invoke(r.h(f), reqs[i])
					if err == nil && status != r.status {
						err = fmt.Errorf("%d, want %d: %v", status, r.status, body)
					}
					return err
				})
				handler.calls = f.calls.Snapshot()
				bare = runLoad(b, len(reqs), floor.request)
			}
			handler.report(b, "")
			bare.report(b, "floor-")
			b.ReportMetric(handler.pct(0.50)/bare.pct(0.50), "p50-x-floor")
			b.ReportMetric(bare.perSec/handler.perSec, "time-x-floor")
			b.ReportMetric(float64(handler.calls.Total())/float64(n), "aws-calls/req")
			b.ReportMetric(units(handler.calls)/float64(n), "capacity-units/req")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// result is one load's latencies and throughput.
type result struct {
	lat    []time.Duration
	perSec float64
	calls  awscalls.Calls
}

func (r result) pct(p float64) float64 {
	return float64(r.lat[int(p*float64(len(r.lat)-1))].Microseconds()) / 1000
}

func (r result) report(b *testing.B, prefix string) {
	b.ReportMetric(r.pct(0.50), prefix+"p50-ms")
	b.ReportMetric(r.pct(0.95), prefix+"p95-ms")
	b.ReportMetric(r.pct(0.99), prefix+"p99-ms")
	b.ReportMetric(r.perSec, prefix+"req/s")
}

func units(c awscalls.Calls) float64 {
	var u float64
	for _, v := range c.Capacity {
		u += v.Units
	}
	return u
}

// runLoad runs do(0…n-1) from clients goroutines at once and returns the sorted latencies and
// the throughput; any error fails the benchmark.
func runLoad(b *testing.B, n int, do func(i int) error) result {
	b.Helper()
	lat := make([]time.Duration, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	begin := time.Now()
	for range clients {
		wg.Go(func() {
			for i := range next {
				t0 := time.Now()
				err := do(i)
				lat[i] = time.Since(t0)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(begin)
	if len(errs) > 0 {
		b.Fatalf("%d of %d requests failed, first: %v", len(errs), n, errs[0])
	}
	slices.Sort(lat)
	return result{lat: lat, perSec: float64(n) / took.Seconds()}
}

// floor is the bare SDK script: per request, the same DynamoDB operations as the route made,
// as many of each, on items of its own — reads of a few small items, transactions of as many
// small items as the route's, puts, an update of a counter — with nothing else: no parsing, no validation, no
// rules, no response. It is the least any implementation of the route's calls pays.
type floor struct {
	db    *dynamodb.Client
	table string
	ops   []string // the route's operations, in a fixed order, repeated per their count
	// txItems is how many items the floor's transactions write: as many as the route's, going
	// by the capacity they consumed (2 write units per item of up to 1 KB in a transaction).
	txItems int
	seq     sync.Mutex
	n       int
}

func newFloor(b *testing.B, f *fixture, shape awscalls.Calls) *floor {
	b.Helper()
	fl := &floor{db: dynamodb.NewFromConfig(f.env.AWS), table: f.env.TableName(), txItems: 4}
	if n := shape.Count["DynamoDB.TransactWriteItems"]; n > 0 {
		fl.txItems = min(100, max(1, int(math.Round(shape.Capacity["DynamoDB.TransactWriteItems"].Units/float64(n)/2))))
	}
	for _, op := range slices.Sorted(func(yield func(string) bool) {
		for k := range shape.Count {
			if !yield(k) {
				return
			}
		}
	}) {
		for range shape.Count[op] {
			fl.ops = append(fl.ops, op)
		}
	}
	// A partition of five small items for the reads to find.
	for i := range 5 {
		if _, err := fl.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &fl.table,
			Item: item("FLOOR#read", fmt.Sprintf("ITEM#%d", i))}); err != nil {
			b.Fatal(err)
		}
	}
	return fl
}

// item is a small item of about 300 bytes, the size of a member or a booking.
func item(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk},
		"Name":  &types.AttributeValueMemberS{Value: "会员一二三"},
		"Data":  &types.AttributeValueMemberS{Value: fmt.Sprintf("%0200d", 0)},
		"Count": &types.AttributeValueMemberN{Value: "1"},
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
}

// request makes one request's operations.
func (fl *floor) request(int) error {
	fl.seq.Lock()
	fl.n++
	n := fl.n
	fl.seq.Unlock()
	ctx := context.Background()
	own := fmt.Sprintf("FLOOR#w%d", n)
	for _, op := range fl.ops {
		var err error
		switch op {
		case "DynamoDB.GetItem":
			_, err = fl.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &fl.table, Key: key("FLOOR#read", "ITEM#0")})
		case "DynamoDB.BatchGetItem":
			keys := []map[string]types.AttributeValue{key("FLOOR#read", "ITEM#1"), key("FLOOR#read", "ITEM#2"), key("FLOOR#read", "ITEM#3")}
			_, err = fl.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{fl.table: {Keys: keys}}})
		case "DynamoDB.Query":
			_, err = fl.db.Query(ctx, &dynamodb.QueryInput{TableName: &fl.table, KeyConditionExpression: aws.String("PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "FLOOR#read"}},
				Limit:                     aws.Int32(20)})
		case "DynamoDB.PutItem":
			_, err = fl.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &fl.table, Item: item(own, "PUT")})
		case "DynamoDB.UpdateItem":
			_, err = fl.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &fl.table, Key: key("FLOOR#counter", fmt.Sprint(n%8)),
				UpdateExpression:          aws.String("ADD #c :one"),
				ExpressionAttributeNames:  map[string]string{"#c": "Count"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}})
		case "DynamoDB.TransactWriteItems":
			var items []types.TransactWriteItem
			for i := range fl.txItems {
				items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &fl.table, Item: item(own, fmt.Sprintf("TX#%d#%d", len(items), i))}})
			}
			_, err = fl.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		default:
			err = fmt.Errorf("the floor has no %s", op)
		}
		if err != nil {
			return fmt.Errorf("floor %s: %w", op, err)
		}
	}
	return nil
}

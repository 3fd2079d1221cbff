// Package awscalls owns the measurement of AWS usage in tests and
// benchmarks: an aws-sdk-go-v2 middleware that counts the requests each client
// sends, per service and operation, and sums the DynamoDB capacity they
// consume. DESIGN.md §8 budgets are checked with it.
//
//	var calls awscalls.Counter
//	cfg.APIOptions = append(cfg.APIOptions, calls.Register)
//	before := calls.Snapshot()
//	… exercise the code …
//	used := calls.Snapshot().Sub(before) // used.Count["DynamoDB.PutItem"], used.Total()
package awscalls

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Capacity is DynamoDB consumed capacity, summed over calls. Units is the
// CapacityUnits total (reads plus writes, table plus indexes); Read and Write
// are filled only where DynamoDB splits them (transactions, some batch calls).
type Capacity struct {
	Units float64
	Read  float64
	Write float64
}

func (c Capacity) add(o Capacity) Capacity {
	return Capacity{Units: c.Units + o.Units, Read: c.Read + o.Read, Write: c.Write + o.Write}
}

func (c Capacity) sub(o Capacity) Capacity {
	return Capacity{Units: c.Units - o.Units, Read: c.Read - o.Read, Write: c.Write - o.Write}
}

// Calls is a copy of a Counter's figures, keyed "Service.Operation", for
// example "DynamoDB.PutItem" or "SQS.SendMessageBatch".
type Calls struct {
	// Count is the number of requests sent, retries included.
	Count map[string]int
	// Capacity is the DynamoDB capacity consumed by successful calls that
	// asked for it.
	Capacity map[string]Capacity
}

// Total returns the number of requests in c.
func (c Calls) Total() int {
	n := 0
	for _, v := range c.Count {
		n += v
	}
	return n
}

// Of returns the number of requests in c to service ("DynamoDB", "SQS", "S3").
func (c Calls) Of(service string) int {
	n := 0
	for k, v := range c.Count {
		if s, _, _ := strings.Cut(k, "."); s == service {
			n += v
		}
	}
	return n
}

// Sub returns the calls made between the snapshots before and c.
func (c Calls) Sub(before Calls) Calls {
	d := Calls{Count: map[string]int{}, Capacity: map[string]Capacity{}}
	for k, v := range c.Count {
		if n := v - before.Count[k]; n != 0 {
			d.Count[k] = n
		}
	}
	for k, v := range before.Count {
		if _, ok := c.Count[k]; !ok && v != 0 {
			d.Count[k] = -v
		}
	}
	for k, v := range c.Capacity {
		if cu := v.sub(before.Capacity[k]); cu != (Capacity{}) {
			d.Capacity[k] = cu
		}
	}
	for k, v := range before.Capacity {
		if _, ok := c.Capacity[k]; !ok && v != (Capacity{}) {
			d.Capacity[k] = Capacity{}.sub(v)
		}
	}
	return d
}

// String lists one operation a line, sorted by key, then the total:
//
//	DynamoDB.PutItem 2 (capacity 2 = read 0 + write 2)
//	SQS.SendMessageBatch 3
//	total 5
func (c Calls) String() string {
	keys := slices.Collect(maps.Keys(c.Count))
	for k := range c.Capacity {
		if _, ok := c.Count[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d", k, c.Count[k])
		if cu, ok := c.Capacity[k]; ok {
			fmt.Fprintf(&b, " (capacity %g = read %g + write %g)", cu.Units, cu.Read, cu.Write)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "total %d", c.Total())
	return b.String()
}

// Counter counts the requests sent by the SDK clients it is registered on.
// The zero value is ready to use and it is safe for concurrent use.
//
// It counts attempts, not logical operations: a call the SDK retries once
// counts twice, because every attempt is a request that AWS bills and
// throttles. Capacity is added only from the attempt that succeeds.
type Counter struct {
	mu       sync.Mutex
	count    map[string]int
	capacity map[string]Capacity
}

// Register adds the counting middleware to stack. It has the signature of
// an aws.Config APIOptions entry:
//
//	cfg.APIOptions = append(cfg.APIOptions, counter.Register)
//
// The middleware sits at the end of the Finalize step: after the SDK's retry
// middleware (so it runs once per attempt) and after signing (so it sees only
// attempts that go on the wire); below it are only deserialization and the
// HTTP round trip, so when it returns the output is already decoded.
//
// DynamoDB reports capacity only when the input sets ReturnConsumedCapacity
// to TOTAL (or INDEXES); with the default NONE, Capacity stays empty.
func (c *Counter) Register(stack *middleware.Stack) error {
	m := middleware.FinalizeMiddlewareFunc(c.id(), c.handle)
	if _, ok := stack.Finalize.Get(m.ID()); ok {
		return nil // registered twice on one client: count once
	}
	return stack.Finalize.Add(m, middleware.After)
}

// id is unique per Counter so that two counters can watch one client.
func (c *Counter) id() string {
	return fmt.Sprintf("awscalls.Counter@%p", c)
}

func (c *Counter) handle(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	key := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
	c.mu.Lock()
	if c.count == nil {
		c.count = map[string]int{}
	}
	c.count[key]++
	c.mu.Unlock()

	out, md, err := next.HandleFinalize(ctx, in)
	if err == nil {
		if cu, ok := consumed(out.Result); ok {
			c.mu.Lock()
			if c.capacity == nil {
				c.capacity = map[string]Capacity{}
			}
			c.capacity[key] = c.capacity[key].add(cu)
			c.mu.Unlock()
		}
	}
	return out, md, err
}

// consumed sums the ConsumedCapacity field of a DynamoDB output. Every
// DynamoDB output that reports capacity has that field, either one
// *types.ConsumedCapacity (GetItem, PutItem, Query, …) or a slice of them,
// one per table (BatchWriteItem, TransactWriteItems, …); reflection finds it
// without listing the operations.
func consumed(out any) (Capacity, bool) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return Capacity{}, false
	}
	f := v.Elem().FieldByName("ConsumedCapacity")
	if !f.IsValid() || !f.CanInterface() {
		return Capacity{}, false
	}
	var list []types.ConsumedCapacity
	switch cc := f.Interface().(type) {
	case *types.ConsumedCapacity:
		if cc != nil {
			list = []types.ConsumedCapacity{*cc}
		}
	case []types.ConsumedCapacity:
		list = cc
	}
	if len(list) == 0 {
		return Capacity{}, false
	}
	var sum Capacity
	for _, cc := range list {
		sum = sum.add(Capacity{Units: deref(cc.CapacityUnits), Read: deref(cc.ReadCapacityUnits), Write: deref(cc.WriteCapacityUnits)})
	}
	return sum, true
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// Snapshot returns a copy of the figures so far.
func (c *Counter) Snapshot() Calls {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Calls{Count: maps.Clone(c.count), Capacity: maps.Clone(c.capacity)}
	if s.Count == nil {
		s.Count = map[string]int{}
	}
	if s.Capacity == nil {
		s.Capacity = map[string]Capacity{}
	}
	return s
}

// Total returns the number of requests counted so far.
func (c *Counter) Total() int {
	return c.Snapshot().Total()
}

// Reset sets every figure back to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count = nil
	c.capacity = nil
}

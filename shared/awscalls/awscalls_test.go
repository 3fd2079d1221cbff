package awscalls_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/awscalls"
)

// fakeAWS answers the DynamoDB and SQS JSON protocols for the operations the
// tests call. fail500[target] is how many times target answers 500 first.
type fakeAWS struct {
	t        *testing.T
	mu       sync.Mutex
	fail500  map[string]int
	requests int
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	target := r.Header.Get("X-Amz-Target")
	fail := f.fail500[target] > 0
	if fail {
		f.fail500[target]--
	}
	f.mu.Unlock()

	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request: %v", err)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		f.t.Errorf("%s: Content-Type %q, want application/x-amz-json-1.0", target, ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.t.Errorf("%s: request is not signed", target)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if fail {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"try again"}`)
		return
	}
	switch target {
	case "DynamoDB_20120810.PutItem":
		fmt.Fprint(w, `{"ConsumedCapacity":{"TableName":"yinling","CapacityUnits":1.0}}`)
	case "DynamoDB_20120810.GetItem":
		fmt.Fprint(w, `{"Item":{"PK":{"S":"STORE#S1"}}}`)
	case "DynamoDB_20120810.Query":
		fmt.Fprint(w, `{"Count":0,"ScannedCount":0,"Items":[],"ConsumedCapacity":{"TableName":"yinling","CapacityUnits":0.5,"ReadCapacityUnits":0.5}}`)
	case "DynamoDB_20120810.TransactWriteItems":
		fmt.Fprint(w, `{"ConsumedCapacity":[{"TableName":"yinling","CapacityUnits":4,"WriteCapacityUnits":4},{"TableName":"audit","CapacityUnits":2,"WriteCapacityUnits":2}]}`)
	case "DynamoDB_20120810.DeleteItem":
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`)
	case "AmazonSQS.SendMessageBatch":
		var in struct {
			Entries []struct{ Id, MessageBody string }
		}
		if err := json.Unmarshal(body, &in); err != nil {
			f.t.Errorf("SendMessageBatch body: %v", err)
		}
		type ok struct{ Id, MessageId, MD5OfMessageBody string }
		out := struct {
			Successful []ok
			Failed     []struct{}
		}{Failed: []struct{}{}}
		for _, e := range in.Entries {
			sum := md5.Sum([]byte(e.MessageBody))
			out.Successful = append(out.Successful, ok{e.Id, "m-" + e.Id, hex.EncodeToString(sum[:])})
		}
		json.NewEncoder(w).Encode(out)
	default:
		f.t.Errorf("unexpected target %q", target)
		w.WriteHeader(http.StatusNotImplemented)
	}
}

type clients struct {
	ddb *dynamodb.Client
	sqs *sqs.Client
}

// newClients returns real SDK clients pointed at srv, with counters
// registered and retries (3 attempts) that do not wait.
func newClients(srv *httptest.Server, counters ...*awscalls.Counter) clients {
	cfg := aws.Config{
		Region:       "cn-north-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.RateLimiter = ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
	for _, c := range counters {
		cfg.APIOptions = append(cfg.APIOptions, c.Register)
	}
	return clients{ddb: dynamodb.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}
}

var (
	table = aws.String("yinling")
	item  = map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "STORE#S1"}}
)

func putItem(ctx context.Context, c clients) error {
	_, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
	return err
}

func sendBatch(ctx context.Context, c clients) error {
	_, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
		QueueUrl: aws.String("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/deliveries"),
		Entries: []sqstypes.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String(`{"type":"t","v":1}`)},
			{Id: aws.String("b"), MessageBody: aws.String(`{"type":"t","v":1}`)},
		},
	})
	return err
}

func TestCounter(t *testing.T) {
	tests := []struct {
		name    string
		fail500 map[string]int
		run     func(context.Context, clients) error
		wantErr bool
		want    awscalls.Calls
	}{
		{
			name: "PutItem with capacity",
			run:  putItem,
			want: awscalls.Calls{
				Count:    map[string]int{"DynamoDB.PutItem": 1},
				Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: 1}},
			},
		},
		{
			name: "GetItem without capacity",
			run: func(ctx context.Context, c clients) error {
				_, err := c.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: item})
				return err
			},
			want: awscalls.Calls{Count: map[string]int{"DynamoDB.GetItem": 1}, Capacity: map[string]awscalls.Capacity{}},
		},
		{
			name: "Query twice",
			run: func(ctx context.Context, c clients) error {
				for range 2 {
					_, err := c.ddb.Query(ctx, &dynamodb.QueryInput{
						TableName:                 table,
						KeyConditionExpression:    aws.String("PK = :pk"),
						ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: "STORE#S1"}},
						Limit:                     aws.Int32(20),
						ReturnConsumedCapacity:    ddbtypes.ReturnConsumedCapacityTotal,
					})
					if err != nil {
						return err
					}
				}
				return nil
			},
			want: awscalls.Calls{
				Count:    map[string]int{"DynamoDB.Query": 2},
				Capacity: map[string]awscalls.Capacity{"DynamoDB.Query": {Units: 1, Read: 1}},
			},
		},
		{
			name: "TransactWriteItems sums tables",
			run: func(ctx context.Context, c clients) error {
				_, err := c.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
					TransactItems:          []ddbtypes.TransactWriteItem{{Put: &ddbtypes.Put{TableName: table, Item: item}}},
					ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal,
				})
				return err
			},
			want: awscalls.Calls{
				Count:    map[string]int{"DynamoDB.TransactWriteItems": 1},
				Capacity: map[string]awscalls.Capacity{"DynamoDB.TransactWriteItems": {Units: 6, Write: 6}},
			},
		},
		{
			name: "SQS and DynamoDB together",
			run: func(ctx context.Context, c clients) error {
				for range 3 {
					if err := sendBatch(ctx, c); err != nil {
						return err
					}
				}
				return putItem(ctx, c)
			},
			want: awscalls.Calls{
				Count:    map[string]int{"SQS.SendMessageBatch": 3, "DynamoDB.PutItem": 1},
				Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: 1}},
			},
		},
		{
			name:    "a retried call counts each attempt, capacity once",
			fail500: map[string]int{"DynamoDB_20120810.PutItem": 1},
			run:     putItem,
			want: awscalls.Calls{
				Count:    map[string]int{"DynamoDB.PutItem": 2},
				Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: 1}},
			},
		},
		{
			name:    "SQS retry",
			fail500: map[string]int{"AmazonSQS.SendMessageBatch": 2},
			run:     sendBatch,
			want:    awscalls.Calls{Count: map[string]int{"SQS.SendMessageBatch": 3}, Capacity: map[string]awscalls.Capacity{}},
		},
		{
			name:    "exhausted retries",
			fail500: map[string]int{"DynamoDB_20120810.PutItem": 5},
			run:     putItem,
			wantErr: true,
			want:    awscalls.Calls{Count: map[string]int{"DynamoDB.PutItem": 3}, Capacity: map[string]awscalls.Capacity{}},
		},
		{
			name: "client error is not retried",
			run: func(ctx context.Context, c clients) error {
				_, err := c.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: item, ConditionExpression: aws.String("attribute_exists(PK)")})
				return err
			},
			wantErr: true,
			want:    awscalls.Calls{Count: map[string]int{"DynamoDB.DeleteItem": 1}, Capacity: map[string]awscalls.Capacity{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeAWS{t: t, fail500: tt.fail500}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			var counter awscalls.Counter
			c := newClients(srv, &counter)

			err := tt.run(context.Background(), c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run error = %v, want error %v", err, tt.wantErr)
			}
			got := counter.Snapshot()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if got.Total() != fake.requests || counter.Total() != fake.requests {
				t.Errorf("Total() = %d, Counter.Total() = %d, server saw %d requests", got.Total(), counter.Total(), fake.requests)
			}
		})
	}
}

func TestCounterConcurrentAndReset(t *testing.T) {
	srv := httptest.NewServer(&fakeAWS{t: t})
	defer srv.Close()
	var a, b awscalls.Counter
	// b is registered twice on the same client and must still count once.
	c := newClients(srv, &a, &b, &b)

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := putItem(context.Background(), c); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := sendBatch(context.Background(), c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	want := awscalls.Calls{
		Count:    map[string]int{"DynamoDB.PutItem": 20, "SQS.SendMessageBatch": 20},
		Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: 20}},
	}
	for name, counter := range map[string]*awscalls.Counter{"a": &a, "b": &b} {
		if diff := cmp.Diff(want, counter.Snapshot()); diff != "" {
			t.Errorf("counter %s (-want +got):\n%s", name, diff)
		}
	}

	a.Reset()
	if err := putItem(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	want = awscalls.Calls{
		Count:    map[string]int{"DynamoDB.PutItem": 1},
		Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: 1}},
	}
	if diff := cmp.Diff(want, a.Snapshot()); diff != "" {
		t.Errorf("after Reset (-want +got):\n%s", diff)
	}
}

// TestRegisterPosition pins the reason counts are per attempt: the counter
// runs inside the retry loop, after signing.
func TestRegisterPosition(t *testing.T) {
	var c awscalls.Counter
	stack := middleware.NewStack("op", func() any { return nil })
	for _, id := range []string{"Retry", "Signing"} {
		if err := stack.Finalize.Add(middleware.FinalizeMiddlewareFunc(id, nil), middleware.After); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Register(stack); err != nil {
		t.Fatal(err)
	}
	if err := c.Register(stack); err != nil {
		t.Fatalf("second Register: %v", err)
	}
	got := stack.Finalize.List()
	if len(got) != 3 || got[0] != "Retry" || got[1] != "Signing" || !strings.HasPrefix(got[2], "awscalls.Counter") {
		t.Errorf("Finalize order = %v, want [Retry Signing awscalls.Counter@…]", got)
	}
}

func TestCallsSubAndString(t *testing.T) {
	before := awscalls.Calls{
		Count:    map[string]int{"DynamoDB.PutItem": 2, "DynamoDB.Query": 1},
		Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: 2}},
	}
	after := awscalls.Calls{
		Count:    map[string]int{"DynamoDB.PutItem": 5, "DynamoDB.Query": 1, "SQS.SendMessageBatch": 3},
		Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: 5, Write: 1}},
	}
	tests := []struct {
		name       string
		got        awscalls.Calls
		want       awscalls.Calls
		wantString string
	}{
		{
			name: "after minus before",
			got:  after.Sub(before),
			want: awscalls.Calls{
				Count:    map[string]int{"DynamoDB.PutItem": 3, "SQS.SendMessageBatch": 3},
				Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: 3, Write: 1}},
			},
			wantString: "DynamoDB.PutItem 3 (capacity 3 = read 0 + write 1)\nSQS.SendMessageBatch 3\ntotal 6",
		},
		{
			name:       "nothing happened",
			got:        after.Sub(after),
			want:       awscalls.Calls{Count: map[string]int{}, Capacity: map[string]awscalls.Capacity{}},
			wantString: "total 0",
		},
		{
			name:       "zero before",
			got:        before.Sub(awscalls.Calls{}),
			want:       before,
			wantString: "DynamoDB.PutItem 2 (capacity 2 = read 0 + write 0)\nDynamoDB.Query 1\ntotal 3",
		},
		{
			name: "reset in between shows negatives",
			got:  awscalls.Calls{}.Sub(before),
			want: awscalls.Calls{
				Count:    map[string]int{"DynamoDB.PutItem": -2, "DynamoDB.Query": -1},
				Capacity: map[string]awscalls.Capacity{"DynamoDB.PutItem": {Units: -2}},
			},
			wantString: "DynamoDB.PutItem -2 (capacity -2 = read 0 + write 0)\nDynamoDB.Query -1\ntotal -3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("Sub (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantString, tt.got.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCallsOf(t *testing.T) {
	c := awscalls.Calls{Count: map[string]int{"DynamoDB.PutItem": 5, "DynamoDB.Query": 1, "SQS.SendMessageBatch": 3,
		"DynamoDBStreams.GetRecords": 7}}
	for service, want := range map[string]int{"DynamoDB": 6, "SQS": 3, "S3": 0, "DynamoDBStreams": 7, "": 0} {
		if got := c.Of(service); got != want {
			t.Errorf("Of(%q) = %d, want %d", service, got, want)
		}
	}
}

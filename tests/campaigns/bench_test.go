package campaigns

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"yinling/shared/awscalls"
	"yinling/shared/promo"
)

// benchAudience is the campaign: 10,000 members of one group, all reachable.
const benchAudience = 10_000

// BenchmarkCampaign10k sends one promotion to 10,000 members through the local stack — the
// create (as the API makes it), the fan-out in pages of 1,000, the sender in chunks of 97 — and,
// in the same run, a bare SDK script that makes only the calls no design can avoid. It reports
// for each the AWS calls the code makes (SQS requests apart), the write units, and the wall time;
// and the SQS requests of Lambda's own polling (a receive and a batch delete per batch).
func BenchmarkCampaign10k(b *testing.B) {
	for range b.N {
		var counter awscalls.Counter
		h := newCountedHarness(b, noon, 0, &counter)
		h.group("g1", 0)
		for part := range slices.Chunk(seq(benchAudience), 2000) {
			h.members("g1", "m"+strconv.Itoa(part[0]/2000), len(part), nil)
		}
		counter.Reset()
		t0 := time.Now()
		// The API's create: the groups' check, the put, the first fan-out message.
		if _, err := h.st.GetGroups(context.Background(), store, []string{"g1"}); err != nil {
			b.Fatal(err)
		}
		h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
		h.drain(1)
		took := time.Since(t0)
		calls := counter.Snapshot()
		if _, st := h.stats("C1"); st.Sent != benchAudience || h.p.total() != benchAudience {
			b.Fatalf("sent %d (stats %+v), want %d", h.p.total(), st, benchAudience)
		}
		report(b, "yinling", calls, took)
		b.ReportMetric(float64(h.polls), "poller-sqs-requests")
		b.Logf("yinling, 10,000 members:\n%s\npoller SQS requests %d, wall %v", calls, h.polls, took.Round(time.Millisecond))

		var bare awscalls.Counter
		cfg := h.env.AWS.Copy()
		cfg.APIOptions = append(cfg.APIOptions, bare.Register)
		t0 = time.Now()
		bareCampaign(b, dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg), h.env.TableName(), h.deliveries)
		took = time.Since(t0)
		report(b, "bare", bare.Snapshot(), took)
		b.Logf("bare SDK script:\n%s\nwall %v", bare.Snapshot(), took.Round(time.Millisecond))
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func report(b *testing.B, name string, c awscalls.Calls, took time.Duration) {
	sqsCalls, wcu := 0, 0.0
	for k, n := range c.Count {
		if len(k) > 4 && k[:4] == "SQS." {
			sqsCalls += n
		}
	}
	for _, cu := range c.Capacity {
		wcu += cu.Write
	}
	b.ReportMetric(float64(c.Total()), name+"-aws-calls")
	b.ReportMetric(float64(sqsCalls), name+"-sqs-requests")
	b.ReportMetric(wcu, name+"-write-units")
	b.ReportMetric(took.Seconds(), name+"-seconds")
}

// bareCampaign is the floor: the calls any design makes to send one message to each of 10,000
// members with their budget counted. It reads the audience (a Query per 1,000 memberships) and
// the profiles, which hold consent and the budget (a BatchGetItem per 100); counts each send in
// the member's profile (an UpdateItem per member would be 10,000 calls: a transaction per 100 is
// the fewest); and hands the recipients to a sender (a SendMessageBatch of ten chunks of 100).
// It keeps no per-chunk record, no stats, no claims, and it cannot survive a crash or a
// redelivery without contacting someone twice — that is what the difference buys.
func bareCampaign(b *testing.B, db *dynamodb.Client, q *sqs.Client, table, queueURL string) {
	ctx := context.Background()
	var start map[string]ddbtypes.AttributeValue
	var ids []string
	for {
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, IndexName: aws.String("GSI1"),
			KeyConditionExpression: aws.String("GSI1PK = :pk AND begins_with(GSI1SK, :st)"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":pk": &ddbtypes.AttributeValueMemberS{Value: "STORE#" + store + "#GROUP#g1#MEMBERS"},
				":st": &ddbtypes.AttributeValueMemberS{Value: "active#"}},
			Limit: aws.Int32(1000), ExclusiveStartKey: start, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range out.Items {
			ids = append(ids, it["MemberID"].(*ddbtypes.AttributeValueMemberS).Value)
		}
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	if len(ids) != benchAudience {
		b.Fatalf("bare script read %d members, want %d", len(ids), benchAudience)
	}
	var chunks []string
	for part := range slices.Chunk(ids, 100) {
		keys := make([]map[string]ddbtypes.AttributeValue, len(part))
		for i, id := range part {
			keys[i] = memberKeyAV(id)
		}
		for len(keys) > 0 {
			out, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
				table: {Keys: keys}}, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
			if err != nil {
				b.Fatal(err)
			}
			keys = out.UnprocessedKeys[table].Keys
		}
		items := make([]ddbtypes.TransactWriteItem, len(part))
		for i, id := range part {
			items[i] = ddbtypes.TransactWriteItem{Update: &ddbtypes.Update{TableName: &table, Key: memberKeyAV(id),
				UpdateExpression:          aws.String("ADD BareSends :one"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": &ddbtypes.AttributeValueMemberN{Value: "1"}}}}
		}
		if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items,
			ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal}); err != nil {
			b.Fatal(err)
		}
		chunks = append(chunks, fmt.Sprint(part))
	}
	for batch := range slices.Chunk(chunks, 10) {
		entries := make([]sqstypes.SendMessageBatchRequestEntry, len(batch))
		for i, body := range batch {
			entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(body)}
		}
		if _, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &queueURL, Entries: entries}); err != nil {
			b.Fatal(err)
		}
	}
}

func memberKeyAV(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "STORE#" + store + "#MEMBER#" + id},
		"SK": &ddbtypes.AttributeValueMemberS{Value: "PROFILE"}}
}

package localstack_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/localstack"
	"yinling/shared/sam"
	"yinling/shared/testenv"
)

func clientsOf(env *testenv.Env) localstack.Clients {
	return localstack.Clients{DynamoDB: env.DynamoDB, SQS: env.SQS, S3: env.S3}
}

// TestTablesMatchTemplate checks every table against its own template entry: keys, indexes,
// billing mode and TTL.
func TestTablesMatchTemplate(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	for _, res := range env.Template.Tables() {
		t.Run(res.LogicalID, func(t *testing.T) {
			name := env.Ref(res.LogicalID)
			if want := env.Resources.Prefix + res.LogicalID; name != want {
				t.Errorf("table name = %q, want %q", name, want)
			}
			d, err := env.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{"KeySchema": keys(d.Table.KeySchema)}
			indexes := map[string]any{}
			for _, ix := range d.Table.GlobalSecondaryIndexes {
				indexes[aws.ToString(ix.IndexName)] = keys(ix.KeySchema)
			}
			got["GlobalSecondaryIndexes"] = indexes
			if d.Table.BillingModeSummary != nil {
				got["BillingMode"] = string(d.Table.BillingModeSummary.BillingMode)
			}
			ttl, err := env.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &name})
			if err != nil {
				t.Fatal(err)
			}
			if ttl.TimeToLiveDescription.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled {
				got["TTL"] = aws.ToString(ttl.TimeToLiveDescription.AttributeName)
			}

			p := res.Properties
			want := map[string]any{"KeySchema": templateKeys(p["KeySchema"])}
			wantIdx := map[string]any{}
			gsis, _ := p["GlobalSecondaryIndexes"].([]any)
			for _, x := range gsis {
				ix := x.(map[string]any)
				wantIdx[ix["IndexName"].(string)] = templateKeys(ix["KeySchema"])
			}
			want["GlobalSecondaryIndexes"] = wantIdx
			if bm, ok := p["BillingMode"].(string); ok {
				want["BillingMode"] = bm
			}
			if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
				want["TTL"] = ttl["AttributeName"]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("table (-template +emulator):\n%s", diff)
			}
		})
	}
	// The dispatcher's sparse index is a data contract; losing it must fail loudly.
	if got := env.Template.Resources["Table"].Properties["GlobalSecondaryIndexes"]; !strings.Contains(fmt.Sprint(got), "Due") {
		t.Errorf("template Table lost its Due index: %v", got)
	}
}

func keys(ks []ddbtypes.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	return out
}

func templateKeys(x any) []string {
	var out []string
	list, _ := x.([]any)
	for _, k := range list {
		m := k.(map[string]any)
		out = append(out, m["AttributeName"].(string)+" "+m["KeyType"].(string))
	}
	return out
}

// TestQueuesMatchTemplate checks each queue's attributes against its template entry, the
// RedrivePolicy pointing at the real ARN of the DLQ.
func TestQueuesMatchTemplate(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	for _, res := range env.Template.Queues() {
		t.Run(res.LogicalID, func(t *testing.T) {
			q := env.Resources.Queues[res.LogicalID]
			out, err := env.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
				QueueUrl:       &q.URL,
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Attributes["QueueArn"]; got != q.Arn || !strings.HasSuffix(got, ":"+env.Resources.Prefix+res.LogicalID) {
				t.Errorf("QueueArn = %q, Resources say %q", got, q.Arn)
			}
			for _, attr := range []string{"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"} {
				if x, ok := res.Properties[attr]; ok {
					if got, want := out.Attributes[attr], fmt.Sprint(x); got != want {
						t.Errorf("%s = %q, template says %q", attr, got, want)
					}
				}
			}
			rp, ok := res.Properties["RedrivePolicy"].(map[string]any)
			if !ok {
				if out.Attributes["RedrivePolicy"] != "" {
					t.Errorf("unexpected RedrivePolicy %s", out.Attributes["RedrivePolicy"])
				}
				return
			}
			var got struct {
				DeadLetterTargetArn string `json:"deadLetterTargetArn"`
				MaxReceiveCount     int    `json:"maxReceiveCount"`
			}
			if err := json.Unmarshal([]byte(out.Attributes["RedrivePolicy"]), &got); err != nil {
				t.Fatalf("RedrivePolicy %q: %v", out.Attributes["RedrivePolicy"], err)
			}
			dlq := rp["deadLetterTargetArn"].(sam.Value).Name
			if got.DeadLetterTargetArn != env.Resources.Queues[dlq].Arn || got.DeadLetterTargetArn == "" {
				t.Errorf("deadLetterTargetArn = %q, want %s's ARN %q", got.DeadLetterTargetArn, dlq, env.Resources.Queues[dlq].Arn)
			}
			if got.MaxReceiveCount != rp["maxReceiveCount"] {
				t.Errorf("maxReceiveCount = %d, template says %v", got.MaxReceiveCount, rp["maxReceiveCount"])
			}
		})
	}
}

// TestRedriveMovesToDLQ: a message received and released five times moves to the DLQ on the
// sixth receive, as the template's maxReceiveCount: 5 says.
func TestRedriveMovesToDLQ(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	queue, dlq := env.Ref("DeliveriesQueue"), env.Ref("DeliveriesDLQ")
	if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: aws.String(`{"id":"r1"}`)}); err != nil {
		t.Fatal(err)
	}
	receive := func(url string) []sqstypes.Message {
		t.Helper()
		out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &url,
			MaxNumberOfMessages:         10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	for i := 1; i <= 5; i++ {
		msgs := receive(queue)
		if len(msgs) != 1 {
			t.Fatalf("receive %d: %d messages, want 1", i, len(msgs))
		}
		if got := msgs[0].Attributes["ApproximateReceiveCount"]; got != strconv.Itoa(i) {
			t.Errorf("receive %d: ApproximateReceiveCount = %s", i, got)
		}
		// A failed record: make it visible again at once instead of after 180 s.
		if _, err := env.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: &queue, ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if msgs := receive(queue); len(msgs) != 0 {
		t.Fatalf("sixth receive got %d messages; want the message moved to the DLQ", len(msgs))
	}
	msgs := receive(dlq)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != `{"id":"r1"}` {
		t.Fatalf("DLQ holds %v, want the one message", msgs)
	}
}

// TestResolve checks Ref and GetAtt against what CloudFormation answers.
func TestResolve(t *testing.T) {
	env := testenv.New(t)
	r := env.Resources
	p := r.Prefix
	q := r.Queues["DeliveriesQueue"]
	tests := []struct {
		name    string
		value   sam.Value
		want    string
		wantErr string
	}{
		{"table ref", sam.Value{Kind: sam.Ref, Name: "Table"}, p + "Table", ""},
		{"table arn", sam.Value{Kind: sam.GetAtt, Name: "Table", Attr: "Arn"}, r.Tables["Table"].Arn, ""},
		{"queue ref is its URL", sam.Value{Kind: sam.Ref, Name: "DeliveriesQueue"}, q.URL, ""},
		{"queue name", sam.Value{Kind: sam.GetAtt, Name: "DeliveriesQueue", Attr: "QueueName"}, p + "DeliveriesQueue", ""},
		{"queue arn", sam.Value{Kind: sam.GetAtt, Name: "DeliveriesQueue", Attr: "Arn"}, "arn:aws:sqs:us-east-1:000000000000:" + p + "DeliveriesQueue", ""},
		{"bucket ref", sam.Value{Kind: sam.Ref, Name: "VoiceBucket"}, strings.ToLower(p) + "voicebucket", ""},
		{"bucket arn sub", sam.Value{Kind: sam.Sub, Template: "${VoiceBucket.Arn}/*"}, "arn:aws:s3:::" + strings.ToLower(p) + "voicebucket/*", ""},
		{"parameter default", sam.Value{Kind: sam.Ref, Name: "LogLevel"}, "info", ""},
		{"kms key ref is a local key id", sam.Value{Kind: sam.Ref, Name: "PiiKey"}, "local:PiiKey", ""},
		{"empty parameter default", sam.Value{Kind: sam.Ref, Name: "PublicBaseUrl"}, "", ""},
		{"pseudo parameters", sam.Value{Kind: sam.Sub, Template: "${AWS::Region}/${AWS::AccountId}/${AWS::Partition}"}, "us-east-1/000000000000/aws", ""},
		{"no local counterpart", sam.Value{Kind: sam.Ref, Name: "HttpApi"}, "", "HttpApi (AWS::Serverless::HttpApi) has no local counterpart"},
		{"unknown attribute", sam.Value{Kind: sam.GetAtt, Name: "Table", Attr: "StreamArn"}, "", "attribute not available locally"},
		{"unknown name", sam.Value{Kind: sam.Ref, Name: "Nope"}, "", "Nope is not a resource or parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.value.Resolve(r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Resolve = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	env := testenv.New(t)
	r := env.Resources
	sender, _ := env.Template.Function("sender")
	tests := []struct {
		name      string
		overrides func(string) (string, bool)
		want      map[string]string
	}{
		{"template values", nil, map[string]string{
			"TABLE_NAME":               r.Tables["Table"].Name,
			"LOG_LEVEL":                "info",
			"PUBLIC_BASE_URL":          "",
			"ACK_CHECKS_QUEUE_URL":     r.Queues["AckChecksQueue"].URL,
			"ACK_CHECK_DELAY_SECONDS":  "600",
			"VOICE_BUCKET":             r.Buckets["VoiceBucket"].Name,
			"MAX_RETRIES":              "2",
			"NOTIFY_MODE":              "aws",
			"PII_HASH_KEY":             pinnedLocalSecret("PiiHashKey"),
			"SMS_ORIGINATION_IDENTITY": "",
			"PII_KMS_KEY_ID":           "local:PiiKey",
		}},
		{"overrides win", func(name string) (string, bool) {
			v, ok := map[string]string{"PUBLIC_BASE_URL": "http://127.0.0.1:8080", "ACK_CHECK_DELAY_SECONDS": "5", "UNDECLARED": "x"}[name]
			return v, ok
		}, map[string]string{
			"TABLE_NAME":               r.Tables["Table"].Name,
			"LOG_LEVEL":                "info",
			"PUBLIC_BASE_URL":          "http://127.0.0.1:8080",
			"ACK_CHECKS_QUEUE_URL":     r.Queues["AckChecksQueue"].URL,
			"ACK_CHECK_DELAY_SECONDS":  "5",
			"VOICE_BUCKET":             r.Buckets["VoiceBucket"].Name,
			"MAX_RETRIES":              "2",
			"NOTIFY_MODE":              "aws",
			"PII_HASH_KEY":             pinnedLocalSecret("PiiHashKey"),
			"SMS_ORIGINATION_IDENTITY": "",
			"PII_KMS_KEY_ID":           "local:PiiKey",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Env(sender, tt.overrides)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Env (-want +got):\n%s", diff)
			}
		})
	}
	// Every function of the template must have a resolvable environment locally.
	for _, f := range env.Template.Functions {
		if _, err := r.Env(f, nil); err != nil {
			t.Errorf("Env(%s): %v", f.LogicalID, err)
		}
	}
}

// TestCreateAgainKeepsDataAndAppliesChanges is the dev restart: the same prefix finds the
// resources, keeps their data, and brings them in line with a changed template.
func TestCreateAgainKeepsDataAndAppliesChanges(t *testing.T) {
	env := testenv.New(t) // for its clients only
	ctx := t.Context()
	const v1 = `
Resources:
  Q: {Type: AWS::SQS::Queue, Properties: {VisibilityTimeout: 30}}
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: TTL, Enabled: true}
  B: {Type: AWS::S3::Bucket}
`
	v2 := strings.Replace(v1, "VisibilityTimeout: 30", "VisibilityTimeout: 45", 1)
	v2 = strings.Replace(v2, "AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]",
		`AttributeDefinitions: [{AttributeName: PK, AttributeType: S}, {AttributeName: G, AttributeType: S}]
      GlobalSecondaryIndexes: [{IndexName: ByG, KeySchema: [{AttributeName: G, KeyType: HASH}], Projection: {ProjectionType: KEYS_ONLY}}]`, 1)
	parse := func(s string) *sam.Template {
		t.Helper()
		tmpl, err := sam.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return tmpl
	}
	prefix := env.Resources.Prefix + "again-"
	first, err := localstack.Create(ctx, parse(v1), clientsOf(env), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Delete(context.Background()) })
	table := first.Tables["T"].Name
	if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &table,
		Item:      map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "kept"}},
	}); err != nil {
		t.Fatal(err)
	}

	for _, tmpl := range []string{v1, v2} {
		again, err := localstack.Create(ctx, parse(tmpl), clientsOf(env), prefix)
		if err != nil {
			t.Fatalf("second Create: %v", err)
		}
		if diff := cmp.Diff(first.Queues, again.Queues); diff != "" {
			t.Errorf("queues differ (-first +again):\n%s", diff)
		}
		if diff := cmp.Diff(first.Tables, again.Tables); diff != "" {
			t.Errorf("tables differ (-first +again):\n%s", diff)
		}
	}
	item, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &table,
		Key:       map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "kept"}},
	})
	if err != nil || item.Item == nil {
		t.Errorf("item lost across Create: %v %v", item, err)
	}
	d, err := env.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Table.GlobalSecondaryIndexes) != 1 || aws.ToString(d.Table.GlobalSecondaryIndexes[0].IndexName) != "ByG" {
		t.Errorf("index ByG not added: %+v", d.Table.GlobalSecondaryIndexes)
	}
	qa, err := env.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(first.Queues["Q"].URL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := qa.Attributes["VisibilityTimeout"]; got != "45" {
		t.Errorf("VisibilityTimeout = %s after template change, want 45", got)
	}
}

// TestDeleteRemovesEverything, objects included, and tolerates a second Delete.
func TestDeleteRemovesEverything(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	r, err := localstack.Create(ctx, env.Template, clientsOf(env), env.Resources.Prefix+"del-")
	if err != nil {
		t.Fatal(err)
	}
	bucket := r.Buckets["VoiceBucket"].Name
	for i := range 3 {
		if _, err := env.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &bucket, Key: aws.String(fmt.Sprintf("tts/%d.mp3", i)), Body: strings.NewReader("clip"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := r.Delete(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range r.Tables {
		_, err := env.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &tb.Name})
		var nf *ddbtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("table %s: DescribeTable after Delete: %v", tb.Name, err)
		}
	}
	list, err := env.SQS.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(r.Prefix)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.QueueUrls) != 0 {
		t.Errorf("queues left: %v", list.QueueUrls)
	}
	_, err = env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket after Delete: %v", err)
	}
}

// TestCreationOrder: a queue is created after the queue its RedrivePolicy names, whatever
// their names, and a cycle is reported.
func TestCreationOrder(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	const tmpl = `
Resources:
  AQueue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt ZDead.Arn, maxReceiveCount: 2}
  ZDead: {Type: AWS::SQS::Queue}
`
	parsed, err := sam.Parse([]byte(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	r, err := localstack.Create(ctx, parsed, clientsOf(env), env.Resources.Prefix+"ord-")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Delete(context.Background())
	if got := slices.Sorted(maps.Keys(r.Queues)); !slices.Equal(got, []string{"AQueue", "ZDead"}) {
		t.Errorf("queues = %v", got)
	}

	cyclic, err := sam.Parse([]byte(`
Resources:
  A: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt B.Arn, maxReceiveCount: 2}}}
  B: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt A.Arn, maxReceiveCount: 2}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := localstack.Create(ctx, cyclic, clientsOf(env), env.Resources.Prefix+"cyc-"); err == nil || !strings.Contains(err.Error(), "refers to itself") {
		t.Errorf("cyclic Create: %v", err)
	}
}

// A secret referenced as CloudFormation does ({{resolve:secretsmanager:…}}) resolves to a stable
// local value, not the reference text.
func TestSecretDynamicReference(t *testing.T) {
	env := testenv.New(t)
	signup, ok := env.Template.Function("signup")
	if !ok {
		t.Fatal("no signup function")
	}
	got, err := env.Resources.Env(signup, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := got["PII_HASH_KEY"]
	if !strings.HasPrefix(key, "local-") || strings.Contains(key, "resolve") {
		t.Errorf("PII_HASH_KEY = %q, want a local secret value", key)
	}
	// Data keyed by the secret (phone lookups) must survive a restart of the local stack.
	again, err := testenv.New(t).Resources.Env(signup, nil)
	if err != nil || again["PII_HASH_KEY"] != key {
		t.Errorf("the local secret changed between two stacks: %q, %q (%v)", key, again["PII_HASH_KEY"], err)
	}
}

// pinnedLocalSecret is the local stand-in of a Secrets Manager secret, derived from its logical
// id. Pinned here: local data keyed by it (phone lookup hashes) must stay readable across
// versions.
func pinnedLocalSecret(id string) string {
	sum := sha256.Sum256([]byte("yinling local secret, not for production: " + id))
	return "local-" + hex.EncodeToString(sum[:16])
}

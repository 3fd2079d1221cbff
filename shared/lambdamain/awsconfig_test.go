package lambdamain

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// The SDK's own service-specific endpoint variables must reach the clients built from AWSConfig:
// that is how the local stack and the tests point functions at the emulators.
func TestAWSConfigHonoursServiceEndpointVariables(t *testing.T) {
	var ddbHits, sqsHits atomic.Int32
	ddb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ddbHits.Add(1)
		if got := r.Header.Get("Authorization"); got == "" {
			t.Errorf("request to DynamoDB is not signed")
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"TableNames":[]}`))
	}))
	defer ddb.Close()
	sq := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sqsHits.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"QueueUrls":[]}`))
	}))
	defer sq.Close()
	env := map[string]string{
		"AWS_REGION": "ap-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "token", "AWS_ENDPOINT_URL_DYNAMODB": ddb.URL, "AWS_ENDPOINT_URL_SQS": sq.URL,
	}
	cfg := AWSConfig(func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if cfg.Region != "ap-east-1" {
		t.Errorf("region = %q", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SessionToken != "token" {
		t.Errorf("credentials = %+v, %v", creds, err)
	}
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if _, err := sqs.NewFromConfig(cfg).ListQueues(context.Background(), &sqs.ListQueuesInput{}); err != nil {
		t.Fatalf("ListQueues: %v", err)
	}
	if ddbHits.Load() != 1 || sqsHits.Load() != 1 {
		t.Errorf("hits: dynamodb %d, sqs %d; want 1 each", ddbHits.Load(), sqsHits.Load())
	}
}

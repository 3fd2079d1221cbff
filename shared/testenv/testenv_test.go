package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"
)

// recorder is a testing.TB that records Skip and Fatal instead of ending the real test.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestNewWithoutEmulators(t *testing.T) {
	tests := []struct {
		name      string
		require   string
		dynamo    string
		wantSkip  string
		wantFatal string
	}{
		{"skips", "", "", "emulators not running: use make test", ""},
		{"fails when required", "1", "", "", "AWS_ENDPOINT_URL_DYNAMODB is unset but YINLING_REQUIRE_EMULATORS=1: start the emulators (make test)"},
		{"one variable missing is enough", "", "http://127.0.0.1:1", "emulators not running: use make test", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RequireVar, tt.require)
			t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", tt.dynamo)
			t.Setenv("AWS_ENDPOINT_URL_SQS", "")
			t.Setenv("AWS_ENDPOINT_URL_S3", "")
			rec := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				New(rec)
			}()
			<-done
			if diff := cmp.Diff([]string{tt.wantSkip, tt.wantFatal}, []string{rec.skipped, rec.fatal}); diff != "" {
				t.Errorf("skip, fatal (-want +got):\n%s", diff)
			}
		})
	}
}

// countCalls is the kind of middleware the budget tests add: it counts AWS calls.
func countCalls(n *atomic.Int64) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				n.Add(1)
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

func TestNewCountsOnlyTheTestsCalls(t *testing.T) {
	var calls atomic.Int64
	env := New(t, WithAPIOptions(countCalls(&calls)))
	if got := calls.Load(); got != 0 {
		t.Fatalf("%d calls counted before the test made any; resource setup must not be counted", got)
	}
	ctx := t.Context()
	table := env.TableName()
	if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &table,
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "STORE#1"},
			"SK": &types.AttributeValueMemberS{Value: "META"},
		},
	}); err != nil {
		t.Fatal(err)
	}
	bucket := env.Ref("VoiceBucket")
	if _, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("tts/abc.mp3"), Body: strings.NewReader("mp3")}); err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("counted %d calls, want 2", got)
	}

	// A function builds its S3 client with no options at all: the endpoint is an IP address,
	// so the SDK addresses buckets path-style by itself and reaches the same object.
	plain := s3.NewFromConfig(env.AWS)
	out, err := plain.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("tts/abc.mp3")})
	if err != nil {
		t.Fatalf("GetObject with a default S3 client: %v", err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "mp3" {
		t.Errorf("object body = %q", body)
	}
}

func TestEnvHelpers(t *testing.T) {
	env := New(t)
	fenv := env.FunctionEnv("dispatcher")
	want := map[string]string{
		"TABLE_NAME":           env.TableName(),
		"LOG_LEVEL":            "info",
		"PUBLIC_BASE_URL":      "",
		"DELIVERIES_QUEUE_URL": env.Ref("DeliveriesQueue"),
		"FANOUT_QUEUE_URL":     env.Ref("FanoutQueue"),
	}
	if diff := cmp.Diff(want, fenv); diff != "" {
		t.Errorf("FunctionEnv (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(env.TableName(), env.Resources.Prefix) {
		t.Errorf("table %q lacks the test's prefix %q", env.TableName(), env.Resources.Prefix)
	}
	other := New(t)
	if other.Resources.Prefix == env.Resources.Prefix {
		t.Errorf("two envs share prefix %q", env.Resources.Prefix)
	}
	if v := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); v == "" {
		t.Error("New succeeded without AWS_ENDPOINT_URL_DYNAMODB")
	}
}

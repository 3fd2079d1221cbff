// Package testenv gives integration tests, in any package, SDK clients connected to the local
// emulators and a fresh copy of the template's tables, queues and buckets, under a prefix of
// their own and deleted when the test ends.
//
// The SDK reaches the emulators only through its own AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_S3 variables, which `make test` sets: there is no
// endpoint code here, exactly as in the functions' mains. Without those variables a test is
// skipped, unless YINLING_REQUIRE_EMULATORS=1 (set by `make test`) makes it fail, so CI never
// skips silently.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"yinling/shared/lambdamain"
	"yinling/shared/localstack"
	"yinling/shared/sam"
)

// EndpointVars are the SDK's endpoint variables that must point at the emulators.
var EndpointVars = []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3"}

// RequireVar, set to 1, turns a skip for missing emulators into a failure.
const RequireVar = "YINLING_REQUIRE_EMULATORS"

// Env is one test's connection to the emulators.
type Env struct {
	// AWS is the configuration the clients below were built from, the caller's APIOptions
	// included; build further clients from it.
	AWS      aws.Config
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	// S3 uses path-style addressing (bucket in the path), which fauxqs needs on a host name.
	S3 *s3.Client
	// Template is the project's template.yaml.
	Template *sam.Template
	// Resources are this test's tables, queues and buckets.
	Resources *localstack.Resources

	t testing.TB
}

// Option configures New.
type Option func(*options)

type options struct {
	apiOptions []func(*middleware.Stack) error
}

// WithAPIOptions adds SDK middleware (e.g. a call counter) to Env's config and clients. The
// calls that create and delete the test's resources do not go through it.
func WithAPIOptions(fns ...func(*middleware.Stack) error) Option {
	return func(o *options) { o.apiOptions = append(o.apiOptions, fns...) }
}

// New connects to the emulators and creates the template's resources under a fresh prefix,
// deleted at t.Cleanup. It skips (or fails, see the package doc) when the emulators' endpoint
// variables are unset.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	for _, v := range EndpointVars {
		if os.Getenv(v) == "" {
			if os.Getenv(RequireVar) == "1" {
				t.Fatalf("%s is unset but %s=1: start the emulators (make test)", v, RequireVar)
			}
			t.Skip("emulators not running: use make test")
		}
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}

	path, err := sam.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := sam.Load(path)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The same configuration the functions' mains build, from the emulator variables that
	// `local test` sets; SDK log lines go to the test log.
	base := lambdamain.AWSConfig(func(k string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return localDefaults[k]
	}, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))

	// Resources are made with clients free of the caller's middleware, so a call counter
	// counts only what the test does.
	res, err := localstack.Create(ctx, tmpl, clients(base), prefix())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := res.Delete(ctx); err != nil {
			t.Errorf("testenv cleanup: %v", err)
		}
	})

	cfg := base.Copy()
	cfg.APIOptions = append(cfg.APIOptions, o.apiOptions...)
	c := clients(cfg)
	return &Env{
		AWS:       cfg,
		DynamoDB:  c.DynamoDB,
		SQS:       c.SQS,
		S3:        c.S3,
		Template:  tmpl,
		Resources: res,
		t:         t,
	}
}

func clients(cfg aws.Config) localstack.Clients {
	return localstack.Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg),
		SQS:      sqs.NewFromConfig(cfg),
		S3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
	}
}

// prefix returns a short random prefix: "t" and 8 hex digits, then "-".
func prefix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "t" + hex.EncodeToString(b) + "-"
}

// TableName returns the physical name of the template's table; the test fails unless the
// template has exactly one.
func (e *Env) TableName() string {
	e.t.Helper()
	if len(e.Resources.Tables) != 1 {
		e.t.Fatalf("TableName: the template has %d tables; use Ref", len(e.Resources.Tables))
	}
	for _, tb := range e.Resources.Tables {
		return tb.Name
	}
	return ""
}

// Ref returns what CloudFormation's Ref would for a logical id: a table or bucket name, a
// queue URL, a parameter's default.
func (e *Env) Ref(logicalID string) string {
	e.t.Helper()
	v, err := e.Resources.Ref(logicalID)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// FunctionEnv returns a function's resolved environment variables, the function named by its
// logical id or its short name ("sender").
func (e *Env) FunctionEnv(function string) map[string]string {
	e.t.Helper()
	f, ok := e.Template.Function(function)
	if !ok {
		e.t.Fatalf("FunctionEnv: no function %q in the template", function)
	}
	env, err := e.Resources.Env(f, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return env
}

// localDefaults fill what the emulators do not check but the SDK needs.
var localDefaults = map[string]string{
	"AWS_REGION":            "us-east-1",
	"AWS_ACCESS_KEY_ID":     "local",
	"AWS_SECRET_ACCESS_KEY": "local",
}

// testWriter sends log output to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Event reads the sample API Gateway event events/<function>/<name>.json of the repository: the
// events that sam local invoke, the local runner and the handler tests share.
func Event(t testing.TB, function, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	tmpl, err := sam.Find()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(tmpl), "events", function, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("event %s/%s: %v", function, name, err)
	}
	return req
}

// WithSession returns req carrying a member's session token in the session cookie.
func WithSession(req events.APIGatewayV2HTTPRequest, token string) events.APIGatewayV2HTTPRequest {
	req.Cookies = []string{"yl_session=" + token}
	return req
}

// WithParam returns req with a path parameter set, in its path as well; req's own map is left as
// it was, so one sample event serves many requests.
func WithParam(req events.APIGatewayV2HTTPRequest, param, value string) events.APIGatewayV2HTTPRequest {
	params := map[string]string{}
	for k, v := range req.PathParameters {
		params[k] = v
	}
	params[param] = value
	req.PathParameters = params
	path := req.RouteKey[strings.Index(req.RouteKey, " ")+1:]
	for k, v := range params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	req.RawPath, req.RequestContext.HTTP.Path = path, path
	return req
}

// WithBody returns req with body.
func WithBody(req events.APIGatewayV2HTTPRequest, body string) events.APIGatewayV2HTTPRequest {
	req.Body = body
	return req
}

// ErrorOf reads the error envelope of an answer's decoded body: its code, field and message.
func ErrorOf(body map[string]any) (code, field, message string) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	message, _ = e["message"].(string)
	return code, field, message
}

package fuzz

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"yinling/functions/admin"
	"yinling/functions/escalator"
	"yinling/functions/fanout"
	"yinling/functions/promotions"
	"yinling/functions/qa"
	"yinling/functions/reminders"
	"yinling/functions/sender"
	"yinling/functions/signup"
	"yinling/functions/web"
	"yinling/shared/apigw"
	"yinling/shared/envconfig"
	"yinling/shared/lambdamain"
	"yinling/shared/pii"
	"yinling/shared/sam"
)

// httpFunction is an HTTP function's handler as its main builds it.
type httpFunction interface {
	Handle(ctx context.Context, req apigw.Request) (apigw.Response, error)
	Routes() []string
}

// sqsFunction is a queue consumer's handler as its main builds it.
type sqsFunction interface {
	Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)
}

// builder loads a function's Env from lookup and builds its handler through the function's Wire.
type builder[H any] func(lookup envconfig.Lookup, cfg aws.Config, log *slog.Logger) (H, error)

func wired[E any, H any](wire func(E, aws.Config, *slog.Logger) H) builder[H] {
	return func(lookup envconfig.Lookup, cfg aws.Config, log *slog.Logger) (H, error) {
		var env E
		if err := envconfig.Load(lookup, &env); err != nil {
			var zero H
			return zero, fmt.Errorf("configuration: %w", err)
		}
		return wire(env, cfg, log), nil
	}
}

// The functions the targets drive, by sam.Function.Name. TestEveryFunctionIsFuzzed holds them
// to template.yaml.
var (
	httpFunctions = map[string]builder[httpFunction]{
		"admin":      wired(func(e admin.Env, c aws.Config, l *slog.Logger) httpFunction { return admin.Wire(e, c, l) }),
		"promotions": wired(func(e promotions.Env, c aws.Config, l *slog.Logger) httpFunction { return promotions.Wire(e, c, l) }),
		"qa":         wired(func(e qa.Env, c aws.Config, l *slog.Logger) httpFunction { return qa.Wire(e, c, l) }),
		"reminders":  wired(func(e reminders.Env, c aws.Config, l *slog.Logger) httpFunction { return reminders.Wire(e, c, l) }),
		"signup":     wired(func(e signup.Env, c aws.Config, l *slog.Logger) httpFunction { return signup.Wire(e, c, l) }),
		"web":        wired(func(e web.Env, _ aws.Config, l *slog.Logger) httpFunction { return web.Wire(e, l) }),
	}
	sqsFunctions = map[string]builder[sqsFunction]{
		"escalator": wired(func(e escalator.Env, c aws.Config, l *slog.Logger) sqsFunction { return escalator.Wire(e, c, l) }),
		"fanout":    wired(func(e fanout.Env, c aws.Config, l *slog.Logger) sqsFunction { return fanout.Wire(e, c, l) }),
		"sender":    wired(func(e sender.Env, c aws.Config, l *slog.Logger) sqsFunction { return sender.Wire(e, c, l) }),
	}
)

// project is template.yaml, decoded once per process, and the directory it is in.
var project = sync.OnceValues(func() (*sam.Template, error) {
	path, err := sam.Find()
	if err != nil {
		return nil, err
	}
	return sam.Load(path)
})

func template(t testing.TB) (*sam.Template, string) {
	t.Helper()
	tmpl, err := project()
	if err != nil {
		t.Fatal(err)
	}
	path, err := sam.Find()
	if err != nil {
		t.Fatal(err)
	}
	return tmpl, filepath.Dir(path)
}

// function returns the template's function by short name.
func function(t testing.TB, name string) sam.Function {
	t.Helper()
	tmpl, _ := template(t)
	f, ok := tmpl.Function(name)
	if !ok {
		t.Fatalf("no function %q in template.yaml", name)
	}
	return f
}

// localValues are what the local stack (cmd/local) chooses instead of the template's defaults:
// messages go to the outbox in the table, never to End User Messaging.
var localValues = map[string]string{"NOTIFY_MODE": "outbox"}

// resolver answers Ref and GetAtt as CloudFormation would for a stack whose queues live at the
// fake endpoint: a table's name, a queue's URL, a parameter's default, the local key id of a KMS
// key (which selects pii's local wrapper: no KMS call).
type resolver struct {
	tmpl     *sam.Template
	endpoint string
}

func (r resolver) Ref(name string) (string, error) {
	if p, ok := r.tmpl.Parameters[name]; ok {
		return p.Default, nil
	}
	switch name {
	case "AWS::Region":
		return "us-east-1", nil
	case "AWS::AccountId":
		return "000000000000", nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return "fuzz", nil
	}
	res, ok := r.tmpl.Resources[name]
	if !ok {
		return "", fmt.Errorf("Ref %s: not in the template", name)
	}
	switch res.Type {
	case sam.TypeQueue:
		return r.endpoint + "/000000000000/fuzz-" + name, nil
	case sam.TypeBucket:
		return "fuzz-" + strings.ToLower(name), nil
	case "AWS::KMS::Key":
		return pii.LocalKeyPrefix + name, nil
	case "AWS::SecretsManager::Secret":
		return "arn:aws:secretsmanager:us-east-1:000000000000:secret:fuzz-" + name, nil
	}
	return "fuzz-" + name, nil
}

func (r resolver) GetAtt(id, attr string) (string, error) {
	if _, ok := r.tmpl.Resources[id]; !ok {
		return "", fmt.Errorf("GetAtt %s.%s: not in the template", id, attr)
	}
	switch attr {
	case "QueueUrl":
		return r.Ref(id)
	case "QueueName":
		return "fuzz-" + id, nil
	}
	return "arn:aws:fuzz:us-east-1:000000000000:fuzz-" + id + "/" + attr, nil
}

// secretRef is CloudFormation's {{resolve:secretsmanager:…}}, replaced by a fixed local value.
var secretRef = regexp.MustCompile(`\{\{resolve:secretsmanager:[^}]*\}\}`)

// functionEnv resolves f's environment variables from the template.
func functionEnv(t testing.TB, f sam.Function, endpoint string) map[string]string {
	t.Helper()
	tmpl, _ := template(t)
	env := map[string]string{}
	for name, v := range f.Env {
		if lv, ok := localValues[name]; ok {
			env[name] = lv
			continue
		}
		s, err := v.Resolve(resolver{tmpl: tmpl, endpoint: endpoint})
		if err != nil {
			t.Fatalf("%s: %s: %v", f.LogicalID, name, err)
		}
		env[name] = secretRef.ReplaceAllString(s, "fuzz-secret-not-for-production")
	}
	return env
}

// awsConfig is the configuration the functions' mains build, every service pointed at fake.
func awsConfig(fake *fakeAWS) aws.Config {
	vars := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "fuzz", "AWS_SECRET_ACCESS_KEY": "fuzz",
		"AWS_ENDPOINT_URL": fake.URL,
	}
	return lambdamain.AWSConfig(func(k string) string { return vars[k] }, slog.New(slog.DiscardHandler))
}

// build builds the function name of the template against a fresh fake endpoint, logging to log.
// The functions' business metrics (EMF lines written to os.Stdout by Wire's emitter) are sent to
// /dev/null: twenty thousand inputs would bury the fuzzer's own output.
func build[H any](t testing.TB, builders map[string]builder[H], name string, log *slog.Logger) H {
	t.Helper()
	b, ok := builders[name]
	if !ok {
		t.Fatalf("no builder for function %q", name)
	}
	fake := newFakeAWS(t)
	env := functionEnv(t, function(t, name), fake.URL)
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devNull.Close() })
	stdout := os.Stdout
	os.Stdout = devNull
	defer func() { os.Stdout = stdout }()
	h, err := b(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, awsConfig(fake), log)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return h
}

// logRecorder keeps what a handler logged at warn and above during one input.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.lines = append(r.lines, string(p))
		return len(p), nil
	}), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func (r *logRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = r.lines[:0]
}

// find returns the first line containing s, or "".
func (r *logRecorder) find(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// samples returns the sample events events/<function>/*.json, by file name.
func samples(t testing.TB, function string) map[string]events.APIGatewayV2HTTPRequest {
	t.Helper()
	_, root := template(t)
	paths, err := filepath.Glob(filepath.Join(root, "events", function, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]events.APIGatewayV2HTTPRequest{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = ev
	}
	return out
}

func TestEveryFunctionIsFuzzed(t *testing.T) {
	tmpl, _ := template(t)
	for _, f := range tmpl.Functions {
		_, isHTTP := httpFunctions[f.Name]
		_, isSQS := sqsFunctions[f.Name]
		if len(f.Routes) > 0 && !isHTTP {
			t.Errorf("%s serves HttpApi routes but has no entry in httpFunctions (and no Fuzz…Routes target)", f.LogicalID)
		}
		if len(f.Queues) > 0 && !isSQS {
			t.Errorf("%s consumes a queue but has no entry in sqsFunctions (and no Fuzz…Messages target)", f.LogicalID)
		}
	}
	for name := range httpFunctions {
		f := function(t, name)
		h := build(t, httpFunctions, name, slog.New(slog.DiscardHandler))
		var declared []string
		for _, r := range f.Routes {
			declared = append(declared, r.Key())
		}
		slices.Sort(declared)
		if served := h.Routes(); !slices.Equal(declared, served) {
			t.Errorf("%s: template routes %v, handler routes %v", name, declared, served)
		}
	}
}

// The fuzz inputs reach the decoders only if the fake's session, family link and profile are
// still what the store reads: no sample request of a member or family route may be refused for
// its credentials.
func TestFakeCredentialsLetRequestsIn(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(httpFunctions)) {
		cases, claims := routeCases(t, name, function(t, name))
		h := build(t, httpFunctions, name, slog.New(slog.DiscardHandler))
		for _, rc := range cases {
			req := rc.request(claims, false, rc.base.Body, "", rc.base.RawQueryString)
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var e apigw.ErrorBody
			_ = json.Unmarshal([]byte(resp.Body), &e)
			code := e.Error.Code
			if code == "session_required" || code == "unauthorized" ||
				code == "family_link_not_found" && strings.Contains(rc.route.Path, "{token}") {
				t.Errorf("%s: %d %s: the fake's credentials no longer let requests in", rc.route.Key(), resp.StatusCode, code)
			}
		}
	}
}

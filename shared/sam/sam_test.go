package sam

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loadProject loads the real template.yaml from the module root.
func loadProject(t *testing.T) *Template {
	t.Helper()
	p, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func mustFunction(t *testing.T, tmpl *Template, name string) Function {
	t.Helper()
	f, ok := tmpl.Function(name)
	if !ok {
		t.Fatalf("no function %s", name)
	}
	return f
}

func TestProjectRoutes(t *testing.T) {
	tmpl := loadProject(t)
	// The complete route lists are held to the handlers and the OpenAPI document by cmd/local's
	// template test; here, routes that will always be there show that events, paths with
	// parameters and authorizers are read right.
	tests := []struct {
		function string
		want     []string // route keys with their authorizer, all of which must be there
	}{
		{"AdminFunction", []string{
			"GET /api/admin/groups StaffJwt",
			"POST /api/admin/groups StaffJwt",
			"GET /api/admin/groups/{id} StaffJwt",
			"PATCH /api/admin/groups/{id} StaffJwt",
			"POST /api/admin/groups/{id}/invites StaffJwt",
		}},
		{"WebFunction", []string{"GET / ", "GET /admin ", "GET /static/{file} "}},
		{"SenderFunction", nil},
		{"DispatcherFunction", nil},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			got := map[string]bool{}
			for _, r := range mustFunction(t, tmpl, tt.function).Routes {
				got[r.Key()+" "+r.Authorizer] = true
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("route %q missing from %v", w, got)
				}
			}
			if tt.want == nil && len(got) > 0 {
				t.Errorf("routes = %v, want none", got)
			}
		})
	}
}

func TestProjectFunctions(t *testing.T) {
	tmpl := loadProject(t)
	tests := []struct {
		function string
		want     Function
	}{
		{"DispatcherFunction", Function{
			LogicalID: "DispatcherFunction",
			CodeUri:   "functions/dispatcher/cmd",
			Name:      "dispatcher",
			Timeout:   55 * time.Second,
			Env: map[string]Value{
				"TABLE_NAME":           {Kind: Ref, Name: "Table"},
				"LOG_LEVEL":            {Kind: Ref, Name: "LogLevel"},
				"PUBLIC_BASE_URL":      {Kind: Ref, Name: "PublicBaseUrl"},
				"DELIVERIES_QUEUE_URL": {Kind: Ref, Name: "DeliveriesQueue"},
				"FANOUT_QUEUE_URL":     {Kind: Ref, Name: "FanoutQueue"},
			},
			Schedules: []Schedule{{Expression: "rate(1 minute)", Every: time.Minute}},
		}},
		{"SenderFunction", Function{
			LogicalID: "SenderFunction",
			CodeUri:   "functions/sender/cmd",
			Name:      "sender",
			Timeout:   30 * time.Second,
			Env: map[string]Value{
				"TABLE_NAME":               {Kind: Ref, Name: "Table"},
				"LOG_LEVEL":                {Kind: Ref, Name: "LogLevel"},
				"PUBLIC_BASE_URL":          {Kind: Ref, Name: "PublicBaseUrl"},
				"ACK_CHECKS_QUEUE_URL":     {Kind: Ref, Name: "AckChecksQueue"},
				"ACK_CHECK_DELAY_SECONDS":  {Kind: Literal, Lit: "600"},
				"MAX_RETRIES":              {Kind: Literal, Lit: "2"},
				"VOICE_BUCKET":             {Kind: Ref, Name: "VoiceBucket"},
				"PII_HASH_KEY":             {Kind: Sub, Template: "{{resolve:secretsmanager:${PiiHashKey}:SecretString}}"},
				"NOTIFY_MODE":              {Kind: Ref, Name: "NotifyMode"},
				"PII_KMS_KEY_ID":           {Kind: Ref, Name: "PiiKey"},
				"SMS_ORIGINATION_IDENTITY": {Kind: Ref, Name: "SmsOriginationIdentity"},
			},
			Queues: []SQSEvent{{
				QueueLogicalID:          "DeliveriesQueue",
				BatchSize:               10,
				MaxBatchingWindow:       time.Second,
				ReportBatchItemFailures: true,
				MaxConcurrency:          5,
			}},
		}},
		{"fanout", Function{
			LogicalID: "FanoutFunction",
			CodeUri:   "functions/fanout/cmd",
			Name:      "fanout",
			Timeout:   60 * time.Second,
			Env: map[string]Value{
				"TABLE_NAME":           {Kind: Ref, Name: "Table"},
				"LOG_LEVEL":            {Kind: Ref, Name: "LogLevel"},
				"PUBLIC_BASE_URL":      {Kind: Ref, Name: "PublicBaseUrl"},
				"DELIVERIES_QUEUE_URL": {Kind: Ref, Name: "DeliveriesQueue"},
				"FANOUT_QUEUE_URL":     {Kind: Ref, Name: "FanoutQueue"},
				"PII_HASH_KEY":         {Kind: Sub, Template: "{{resolve:secretsmanager:${PiiHashKey}:SecretString}}"},
				"PII_KMS_KEY_ID":       {Kind: Ref, Name: "PiiKey"},
			},
			Queues: []SQSEvent{{QueueLogicalID: "FanoutQueue", BatchSize: 1, ReportBatchItemFailures: true, MaxConcurrency: 2}},
		}},
		{"signup", Function{ // Globals' Timeout; a secret by dynamic reference
			LogicalID: "SignupFunction",
			CodeUri:   "functions/signup/cmd",
			Name:      "signup",
			Timeout:   10 * time.Second,
			Env: map[string]Value{
				"TABLE_NAME":               {Kind: Ref, Name: "Table"},
				"LOG_LEVEL":                {Kind: Ref, Name: "LogLevel"},
				"PUBLIC_BASE_URL":          {Kind: Ref, Name: "PublicBaseUrl"},
				"NOTIFY_MODE":              {Kind: Ref, Name: "NotifyMode"},
				"SMS_ORIGINATION_IDENTITY": {Kind: Ref, Name: "SmsOriginationIdentity"},
				"PII_HASH_KEY":             {Kind: Sub, Template: "{{resolve:secretsmanager:${PiiHashKey}:SecretString}}"},
				"PII_KMS_KEY_ID":           {Kind: Ref, Name: "PiiKey"},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			got := mustFunction(t, tmpl, tt.function)
			if tt.function == "signup" {
				got.Routes = nil // a growing list, held to its handler by cmd/local's template test
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("function (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProjectResources(t *testing.T) {
	tmpl := loadProject(t)
	ids := func(rs []Resource) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.LogicalID)
		}
		return out
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"tables", ids(tmpl.Tables()), []string{"Table"}},
		{"queues", ids(tmpl.Queues()), []string{"AckChecksDLQ", "AckChecksQueue", "DeliveriesDLQ", "DeliveriesQueue", "FanoutDLQ", "FanoutQueue"}},
		{"buckets", ids(tmpl.Buckets()), []string{"VoiceBucket"}},
		{"functions", func() []string {
			var out []string
			for _, f := range tmpl.Functions {
				out = append(out, f.Name)
			}
			return out
		}(), []string{"admin", "dispatcher", "escalator", "fanout", "promotions", "qa", "reminders", "sender", "signup", "web"}},
		{"redrive refs", Refs(tmpl.Resources["DeliveriesQueue"].Properties), []string{"DeliveriesDLQ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	redrive := tmpl.Resources["DeliveriesQueue"].Properties["RedrivePolicy"]
	want := map[string]any{
		"deadLetterTargetArn": Value{Kind: GetAtt, Name: "DeliveriesDLQ", Attr: "Arn"},
		"maxReceiveCount":     5,
	}
	if diff := cmp.Diff(want, redrive); diff != "" {
		t.Errorf("DeliveriesQueue RedrivePolicy (-want +got):\n%s", diff)
	}
	if got, want := tmpl.Parameters["AllowedOrigin"], (Parameter{Type: "String", Default: "*"}); got != want {
		t.Errorf("AllowedOrigin = %+v, want %+v", got, want)
	}
}

// fakeResolver answers Ref X with "ref:X" and GetAtt X.A with "att:X.A", and fails on "Missing".
type fakeResolver struct{}

func (fakeResolver) Ref(name string) (string, error) {
	if name == "Missing" {
		return "", errors.New("no Missing")
	}
	return "ref:" + name, nil
}

func (fakeResolver) GetAtt(id, attr string) (string, error) { return "att:" + id + "." + attr, nil }

// paramResolver answers parameters with their Default, as the local stack does.
type paramResolver struct{ params map[string]Parameter }

func (p paramResolver) Ref(name string) (string, error) {
	if prm, ok := p.params[name]; ok {
		return prm.Default, nil
	}
	return fakeResolver{}.Ref(name)
}

func (p paramResolver) GetAtt(id, attr string) (string, error) {
	return fakeResolver{}.GetAtt(id, attr)
}

func TestIntrinsicForms(t *testing.T) {
	tests := []struct {
		name       string
		yaml       string
		want       Value
		resolved   string
		resolveErr bool
	}{
		{"short Ref", `!Ref Table`, Value{Kind: Ref, Name: "Table"}, "ref:Table", false},
		{"long Ref", `{Ref: Table}`, Value{Kind: Ref, Name: "Table"}, "ref:Table", false},
		{"short GetAtt", `!GetAtt Q.Arn`, Value{Kind: GetAtt, Name: "Q", Attr: "Arn"}, "att:Q.Arn", false},
		{"short GetAtt dotted attr", `!GetAtt Db.Endpoint.Address`, Value{Kind: GetAtt, Name: "Db", Attr: "Endpoint.Address"}, "att:Db.Endpoint.Address", false},
		{"short GetAtt list", `!GetAtt [Q, QueueName]`, Value{Kind: GetAtt, Name: "Q", Attr: "QueueName"}, "att:Q.QueueName", false},
		{"long GetAtt", `{"Fn::GetAtt": [Q, Arn]}`, Value{Kind: GetAtt, Name: "Q", Attr: "Arn"}, "att:Q.Arn", false},
		{"long GetAtt string", `{"Fn::GetAtt": Q.Arn}`, Value{Kind: GetAtt, Name: "Q", Attr: "Arn"}, "att:Q.Arn", false},
		{"short Sub", `!Sub "${T.Arn}/index/*"`, Value{Kind: Sub, Template: "${T.Arn}/index/*"}, "att:T.Arn/index/*", false},
		{"Sub pseudo and escape", `!Sub "https://x.${AWS::Region}.${B}/${!Literal}"`, Value{Kind: Sub, Template: "https://x.${AWS::Region}.${B}/${!Literal}"}, "https://x.ref:AWS::Region.ref:B/${Literal}", false},
		{"long Sub with vars", `{"Fn::Sub": ['${A}-${Own}', {Own: !Ref X}]}`, Value{Kind: Sub, Template: "${A}-${Own}", Vars: map[string]any{"Own": Value{Kind: Ref, Name: "X"}}}, "ref:A-ref:X", false},
		{"Join", `!Join [":", [a, !Ref B, 3]]`, Value{Kind: Func, Name: "Fn::Join", Args: []any{":", []any{"a", Value{Kind: Ref, Name: "B"}, 3}}}, "a:ref:B:3", false},
		{"Select", `!Select [1, [a, !GetAtt X.Y]]`, Value{Kind: Func, Name: "Fn::Select", Args: []any{1, []any{"a", Value{Kind: GetAtt, Name: "X", Attr: "Y"}}}}, "att:X.Y", false},
		{"If is understood, not resolved", `!If [IsProd, a, b]`, Value{Kind: Func, Name: "Fn::If", Args: []any{"IsProd", "a", "b"}}, "", true},
		{"Ref failure", `!Sub "${Missing}"`, Value{Kind: Sub, Template: "${Missing}"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse([]byte("Resources:\n  R:\n    Type: Test\n    Properties:\n      P: " + tt.yaml + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			got := tmpl.Resources["R"].Properties["P"]
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("decoded (-want +got):\n%s", diff)
			}
			s, err := got.(Value).Resolve(fakeResolver{})
			if (err != nil) != tt.resolveErr {
				t.Fatalf("Resolve error = %v, want error %v", err, tt.resolveErr)
			}
			if s != tt.resolved {
				t.Errorf("Resolve = %q, want %q", s, tt.resolved)
			}
		})
	}
}

const inlineTemplate = `
AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Since: {Type: String, Default: 2024-05-01}
  Stage: {Type: String, Default: dev}
  Size: {Type: Number, Default: 25}
Globals:
  Function:
    Timeout: !Ref Size
    Environment:
      Variables: {STAGE: !Ref Stage, SHARED: global, N: 7}
  HttpApi:
    Auth: {DefaultAuthorizer: Jwt}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: {DefaultAuthorizer: OwnJwt}
  Q:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/billing
      Environment:
        Variables: {SHARED: own, QUEUE: {"Fn::GetAtt": [Q, QueueName]}}
      Events:
        Implicit: {Type: HttpApi, Properties: {Method: get, Path: /a}}
        Open: {Type: HttpApi, Properties: {Method: POST, Path: /b, Auth: {Authorizer: NONE}}}
        Explicit: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /c}}
        CatchAll: {Type: HttpApi}
        Poll:
          Type: SQS
          Properties: {Queue: !GetAtt Q.Arn, MaximumBatchingWindowInSeconds: 2}
        Hourly: {Type: Schedule, Properties: {Schedule: rate(2 hours)}}
        Nightly: {Type: ScheduleV2, Properties: {ScheduleExpression: "cron(0 3 * * ? *)"}}
        Off: {Type: Schedule, Properties: {Schedule: rate(1 day), Enabled: false}}
`

func TestInlineFunction(t *testing.T) {
	tmpl, err := Parse([]byte(inlineTemplate))
	if err != nil {
		t.Fatal(err)
	}
	want := []Function{{
		LogicalID: "Fn",
		CodeUri:   "functions/billing",
		Name:      "billing",
		Timeout:   25 * time.Second,
		Env: map[string]Value{
			"STAGE":  {Kind: Ref, Name: "Stage"},
			"SHARED": {Kind: Literal, Lit: "own"},
			"N":      {Kind: Literal, Lit: "7"},
			"QUEUE":  {Kind: GetAtt, Name: "Q", Attr: "QueueName"},
		},
		Routes: []Route{
			{Authorizer: "Jwt"}, // $default
			{Method: "GET", Path: "/a", Authorizer: "Jwt"},
			{Method: "POST", Path: "/b"},
			{Method: "ANY", Path: "/c", Authorizer: "OwnJwt"},
		},
		Queues:    []SQSEvent{{QueueLogicalID: "Q", BatchSize: 10, MaxBatchingWindow: 2 * time.Second}},
		Schedules: []Schedule{{Expression: "rate(2 hours)", Every: 2 * time.Hour}, {Expression: "cron(0 3 * * ? *)"}},
	}}
	if diff := cmp.Diff(want, tmpl.Functions); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	if got := tmpl.Parameters["Since"].Default; got != "2024-05-01" {
		t.Errorf("date-like Default = %q, want the text", got)
	}
	if got := tmpl.Functions[0].Routes[0].Key(); got != "$default" {
		t.Errorf("catch-all key = %q", got)
	}

	r := paramResolver{tmpl.Parameters}
	env := map[string]string{}
	for k, v := range tmpl.Functions[0].Env {
		if env[k], err = v.Resolve(r); err != nil {
			t.Fatal(err)
		}
	}
	wantEnv := map[string]string{"STAGE": "dev", "SHARED": "own", "N": "7", "QUEUE": "att:Q.QueueName"}
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("resolved env (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	fn := func(events string) string {
		return "Resources:\n  Q: {Type: AWS::SQS::Queue}\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: f\n      Events:\n" + events
	}
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"unknown tag", "Resources:\n  R: {Type: T, Properties: {P: !Bogus x}}", "unknown tag !Bogus"},
		{"GetAtt without attr", "Resources:\n  R: {Type: T, Properties: {P: !GetAtt X}}", "Fn::GetAtt wants"},
		{"no type", "Resources:\n  R: {Properties: {}}", "has no Type"},
		{"SQS queue by name", fn("        E: {Type: SQS, Properties: {Queue: my-queue}}"), "Queue must be !GetAtt"},
		{"SQS unknown queue", fn("        E: {Type: SQS, Properties: {Queue: !GetAtt Nope.Arn}}"), "Nope is not an AWS::SQS::Queue"},
		{"bad rate", fn("        E: {Type: Schedule, Properties: {Schedule: rate(5 weeks)}}"), "is not rate(N unit)"},
		{"bad batch", fn("        E: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: lots}}"), "BatchSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		expr    string
		want    time.Duration
		wantErr bool
	}{
		{"rate(1 minute)", time.Minute, false},
		{"rate(5 minutes)", 5 * time.Minute, false},
		{"rate(1 hour)", time.Hour, false},
		{"rate(3 hours)", 3 * time.Hour, false},
		{"rate(1 day)", 24 * time.Hour, false},
		{"rate(2 days)", 48 * time.Hour, false},
		{"cron(0 8 * * ? *)", 0, false},
		{"at(2026-01-01T00:00:00)", 0, false},
		{"rate(0 minutes)", 0, true},
		{"rate(1 second)", 0, true},
		{"every minute", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := ParseRate(tt.expr)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseRate = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFindWalksUp(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "functions", "admin")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "template.yaml"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(deep)
	got, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "template.yaml"); got != want {
		t.Errorf("Find = %q, want %q", got, want)
	}
}

func TestRefs(t *testing.T) {
	tmpl, err := Parse([]byte(`
Resources:
  R:
    Type: T
    Properties:
      A: !Ref One
      B: [!GetAtt Two.Arn, !Sub "${Three.Arn}/${AWS::Region}/${Own}/${!Esc}"]
      C: !Join ["", [!Ref Four]]
      D: !Sub ["${Own}", {Own: !Ref Five}]
      E: !Ref AWS::AccountId
`))
	if err != nil {
		t.Fatal(err)
	}
	got := Refs(tmpl.Resources["R"].Properties)
	slices.Sort(got)
	want := []string{"Five", "Four", "One", "Own", "Three", "Two"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Refs (-want +got):\n%s", diff)
	}
}

func ExampleRoute_Key() {
	fmt.Println(Route{Method: "GET", Path: "/api/admin/groups/{id}"}.Key())
	// Output: GET /api/admin/groups/{id}
}

// Every dead-letter queue alarms on its first message and every function on its first error,
// to the one alarm topic: a new queue or function without its alarm fails here.
func TestProjectAlarms(t *testing.T) {
	tmpl := loadProject(t)
	watched := map[string]bool{} // "AWS/SQS:DeliveriesDLQ", "AWS/Lambda:QaFunction"
	for _, r := range tmpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := r.Properties
		if p["Threshold"] != 0 || p["ComparisonOperator"] != "GreaterThanThreshold" || p["TreatMissingData"] != "notBreaching" {
			t.Errorf("%s: alarm not on the first one: %v", r.LogicalID, p)
		}
		if diff := cmp.Diff([]any{Value{Kind: Ref, Name: "AlarmTopic"}}, p["AlarmActions"]); diff != "" {
			t.Errorf("%s: AlarmActions (-want +got):\n%s", r.LogicalID, diff)
		}
		dims, _ := p["Dimensions"].([]any)
		if len(dims) != 1 {
			t.Errorf("%s: dimensions %v", r.LogicalID, dims)
			continue
		}
		v, _ := dims[0].(map[string]any)["Value"].(Value)
		switch {
		case p["Namespace"] == "AWS/SQS" && p["MetricName"] == "ApproximateNumberOfMessagesVisible" && v.Kind == GetAtt && v.Attr == "QueueName":
			watched["AWS/SQS:"+v.Name] = true
		case p["Namespace"] == "AWS/Lambda" && p["MetricName"] == "Errors" && v.Kind == Ref:
			watched["AWS/Lambda:"+v.Name] = true
		default:
			t.Errorf("%s: an alarm on neither a DLQ's depth nor a function's errors: %v", r.LogicalID, p)
		}
	}
	for _, q := range tmpl.Queues() {
		if strings.HasSuffix(q.LogicalID, "DLQ") && !watched["AWS/SQS:"+q.LogicalID] {
			t.Errorf("dead-letter queue %s has no alarm", q.LogicalID)
		}
	}
	for _, f := range tmpl.Functions {
		if !watched["AWS/Lambda:"+f.LogicalID] {
			t.Errorf("function %s has no errors alarm", f.LogicalID)
		}
	}
}

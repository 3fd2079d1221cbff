// Package sam reads the project's SAM template (template.yaml, the single source of truth for
// functions, routes, tables, queues and schedules) into Go values, so that the local stack and
// the tests derive every name, key, index, route and batch setting from it instead of keeping a
// second copy.
//
// It understands CloudFormation's intrinsic functions in both YAML forms (`!Ref X` and
// `Ref: X`, `!GetAtt X.Arn` and `Fn::GetAtt: [X, Arn]`, `!Sub`, `!If`, …) and the subset of
// SAM that the project uses: Globals.Function, AWS::Serverless::Function with HttpApi, SQS and
// Schedule events.
package sam

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Resource types the local stack creates.
const (
	TypeTable    = "AWS::DynamoDB::Table"
	TypeQueue    = "AWS::SQS::Queue"
	TypeBucket   = "AWS::S3::Bucket"
	TypeFunction = "AWS::Serverless::Function"
)

// samDefaultTimeout is what SAM gives a function that sets no Timeout, here or in Globals.
const samDefaultTimeout = 3 * time.Second

// Template is a decoded SAM template.
type Template struct {
	// Functions are the AWS::Serverless::Function resources, sorted by logical id.
	Functions []Function
	// Resources are all resources by logical id, functions included.
	Resources map[string]Resource
	// Parameters are the template's parameters by name.
	Parameters map[string]Parameter
}

// Resource is one entry of the template's Resources section.
type Resource struct {
	LogicalID string
	Type      string
	// Properties is the decoded Properties mapping: map[string]any, []any, string, int,
	// float64, bool, nil, and Value for intrinsic functions.
	Properties map[string]any
}

// Parameter is one entry of the template's Parameters section.
type Parameter struct {
	Type    string
	Default string
}

// Function is an AWS::Serverless::Function with Globals.Function applied.
type Function struct {
	LogicalID string
	// CodeUri is the function's code directory, e.g. "functions/admin/cmd".
	CodeUri string
	// Name is the function's short name, taken from CodeUri: "admin" for functions/admin/cmd.
	Name string
	// Timeout is the function's Timeout, else Globals', else SAM's default of 3 s.
	Timeout time.Duration
	// Env is Globals' environment variables overlaid with the function's own.
	Env map[string]Value
	// Routes are the HttpApi events, sorted by path then method.
	Routes []Route
	// Queues are the SQS events, sorted by queue.
	Queues []SQSEvent
	// Schedules are the enabled Schedule and ScheduleV2 events, in event-name order.
	Schedules []Schedule
}

// Route is an HttpApi event.
type Route struct {
	// Method is upper case; "ANY" matches every method.
	Method string
	// Path is an API Gateway path, e.g. "/api/admin/groups/{id}" or "/static/{proxy+}".
	Path string
	// Authorizer names the API's authorizer that guards the route; "" means none.
	Authorizer string
}

// Key returns the route in API Gateway v2's routeKey form, "GET /api/admin/groups/{id}"
// (or "$default" for a catch-all event without Method and Path).
func (r Route) Key() string {
	if r.Method == "" && r.Path == "" {
		return "$default"
	}
	return r.Method + " " + r.Path
}

// SQSEvent is an SQS event source mapping.
type SQSEvent struct {
	// QueueLogicalID is the queue the Queue property's !GetAtt X.Arn points at.
	QueueLogicalID string
	// BatchSize is the most records per invocation; 10 when unset, as in Lambda.
	BatchSize int
	// MaxBatchingWindow is how long Lambda may wait to fill a batch.
	MaxBatchingWindow time.Duration
	// ReportBatchItemFailures is set when FunctionResponseTypes has ReportBatchItemFailures:
	// the handler reports failed records and only those return to the queue.
	ReportBatchItemFailures bool
	// MaxConcurrency is ScalingConfig.MaximumConcurrency; 0 means unlimited.
	MaxConcurrency int
}

// Schedule is a Schedule (EventBridge rule) or ScheduleV2 (EventBridge Scheduler) event.
type Schedule struct {
	// Expression is as written: "rate(1 minute)", "cron(0 8 * * ? *)".
	Expression string
	// Every is the period of a rate() expression; 0 for cron() and at().
	Every time.Duration
}

// Load reads and decodes the template at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	return t, nil
}

// Find returns the path of template.yaml in the module root: the nearest directory, from the
// working directory up, that holds go.mod. Tests run in their package directory, so this finds
// the project's template from any package.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find template: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "template.yaml")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("find template: %w", err)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find template: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Parse decodes a template from its YAML text.
func Parse(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	raw, err := decode(&doc)
	if err != nil {
		return nil, err
	}
	root, ok := raw.(map[string]any)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	t := &Template{Resources: map[string]Resource{}, Parameters: map[string]Parameter{}}

	for name, p := range mapAt(root, "Parameters") {
		pm, _ := p.(map[string]any)
		def, err := scalar(pm["Default"])
		if err != nil {
			return nil, fmt.Errorf("parameter %s: Default: %w", name, err)
		}
		typ, _ := pm["Type"].(string)
		t.Parameters[name] = Parameter{Type: typ, Default: def}
	}

	for id, r := range mapAt(root, "Resources") {
		rm, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s is not a mapping", id)
		}
		typ, _ := rm["Type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
		props, _ := rm["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		t.Resources[id] = Resource{LogicalID: id, Type: typ, Properties: props}
	}

	globals := mapAt(mapAt(root, "Globals"), "Function")
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		if r.Type != TypeFunction {
			continue
		}
		f, err := t.function(r, globals, mapAt(root, "Globals"))
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		t.Functions = append(t.Functions, f)
	}
	return t, nil
}

// Tables returns the AWS::DynamoDB::Table resources, sorted by logical id.
func (t *Template) Tables() []Resource { return t.ofType(TypeTable) }

// Queues returns the AWS::SQS::Queue resources, sorted by logical id.
func (t *Template) Queues() []Resource { return t.ofType(TypeQueue) }

// Buckets returns the AWS::S3::Bucket resources, sorted by logical id.
func (t *Template) Buckets() []Resource { return t.ofType(TypeBucket) }

func (t *Template) ofType(typ string) []Resource {
	var out []Resource
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		if r := t.Resources[id]; r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Function returns the function whose logical id or short Name is name.
func (t *Template) Function(name string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == name || f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

func (t *Template) function(r Resource, globals, allGlobals map[string]any) (Function, error) {
	p := r.Properties
	f := Function{LogicalID: r.LogicalID, Env: map[string]Value{}}
	codeURI, ok := p["CodeUri"].(string)
	if !ok {
		return f, errors.New("CodeUri is not a local directory")
	}
	f.CodeUri = codeURI
	f.Name = functionName(codeURI)

	timeout := p["Timeout"]
	if timeout == nil {
		timeout = globals["Timeout"]
	}
	secs, err := t.seconds(timeout)
	if err != nil {
		return f, fmt.Errorf("property Timeout: %w", err)
	}
	f.Timeout = secs
	if f.Timeout == 0 {
		f.Timeout = samDefaultTimeout
	}

	for _, vars := range []map[string]any{
		mapAt(mapAt(globals, "Environment"), "Variables"),
		mapAt(mapAt(p, "Environment"), "Variables"),
	} {
		for k, x := range vars {
			v, err := valueOf(x)
			if err != nil {
				return f, fmt.Errorf("environment %s: %w", k, err)
			}
			f.Env[k] = v
		}
	}

	events := mapAt(p, "Events")
	for _, name := range slices.Sorted(maps.Keys(events)) {
		ev, _ := events[name].(map[string]any)
		ep := mapAt(ev, "Properties")
		typ, _ := ev["Type"].(string)
		var err error
		switch typ {
		case "HttpApi":
			var rt Route
			rt, err = t.route(ep, allGlobals)
			f.Routes = append(f.Routes, rt)
		case "SQS":
			var q SQSEvent
			q, err = t.sqsEvent(ep)
			f.Queues = append(f.Queues, q)
		case "Schedule", "ScheduleV2":
			var s Schedule
			var enabled bool
			s, enabled, err = t.schedule(ep)
			if enabled {
				f.Schedules = append(f.Schedules, s)
			}
		}
		if err != nil {
			return f, fmt.Errorf("event %s: %w", name, err)
		}
	}
	slices.SortFunc(f.Routes, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	slices.SortFunc(f.Queues, func(a, b SQSEvent) int { return strings.Compare(a.QueueLogicalID, b.QueueLogicalID) })
	return f, nil
}

// functionName is the directory that names a function: functions/admin/cmd → admin.
func functionName(codeURI string) string {
	p := path.Clean(filepath.ToSlash(codeURI))
	if path.Base(p) == "cmd" {
		p = path.Dir(p)
	}
	return path.Base(p)
}

func (t *Template) route(p map[string]any, globals map[string]any) (Route, error) {
	method, err := t.text(p["Method"])
	if err != nil {
		return Route{}, fmt.Errorf("property Method: %w", err)
	}
	pth, err := t.text(p["Path"])
	if err != nil {
		return Route{}, fmt.Errorf("property Path: %w", err)
	}
	rt := Route{Method: strings.ToUpper(method), Path: pth}
	if rt.Method == "" && rt.Path != "" {
		rt.Method = "ANY"
	}

	// An event without its own Auth.Authorizer takes its API's DefaultAuthorizer; the API is
	// the ApiId resource, or SAM's implicit API shaped by Globals.HttpApi.
	auth, set := mapAt(p, "Auth")["Authorizer"]
	if !set {
		apiProps := mapAt(globals, "HttpApi")
		if v, ok := p["ApiId"].(Value); ok && v.Kind == Ref {
			if api, ok := t.Resources[v.Name]; ok {
				apiProps = api.Properties
			}
		}
		auth = mapAt(apiProps, "Auth")["DefaultAuthorizer"]
	}
	name, err := t.text(auth)
	if err != nil {
		return Route{}, fmt.Errorf("Auth.Authorizer: %w", err)
	}
	if name != "NONE" {
		rt.Authorizer = name
	}
	return rt, nil
}

func (t *Template) sqsEvent(p map[string]any) (SQSEvent, error) {
	q, ok := p["Queue"].(Value)
	if !ok || q.Kind != GetAtt || q.Attr != "Arn" {
		return SQSEvent{}, fmt.Errorf("property Queue must be !GetAtt <Queue>.Arn, got %v", p["Queue"])
	}
	if r, ok := t.Resources[q.Name]; !ok || r.Type != TypeQueue {
		return SQSEvent{}, fmt.Errorf("property Queue: %s is not an %s of this template", q.Name, TypeQueue)
	}
	ev := SQSEvent{QueueLogicalID: q.Name, BatchSize: 10}
	if x, ok := p["BatchSize"]; ok {
		n, err := t.integer(x)
		if err != nil {
			return ev, fmt.Errorf("BatchSize: %w", err)
		}
		ev.BatchSize = n
	}
	w, err := t.seconds(p["MaximumBatchingWindowInSeconds"])
	if err != nil {
		return ev, fmt.Errorf("MaximumBatchingWindowInSeconds: %w", err)
	}
	ev.MaxBatchingWindow = w
	types, _ := p["FunctionResponseTypes"].([]any)
	ev.ReportBatchItemFailures = slices.Contains(types, any("ReportBatchItemFailures"))
	if x, ok := mapAt(p, "ScalingConfig")["MaximumConcurrency"]; ok {
		n, err := t.integer(x)
		if err != nil {
			return ev, fmt.Errorf("ScalingConfig.MaximumConcurrency: %w", err)
		}
		ev.MaxConcurrency = n
	}
	return ev, nil
}

func (t *Template) schedule(p map[string]any) (Schedule, bool, error) {
	expr, err := t.text(p["Schedule"])
	if err == nil && expr == "" {
		expr, err = t.text(p["ScheduleExpression"]) // ScheduleV2
	}
	if err != nil {
		return Schedule{}, false, fmt.Errorf("Schedule: %w", err)
	}
	enabled := true
	if b, ok := p["Enabled"].(bool); ok {
		enabled = b
	}
	if s, ok := p["State"].(string); ok {
		enabled = s == "ENABLED"
	}
	every, err := ParseRate(expr)
	if err != nil {
		return Schedule{}, false, err
	}
	return Schedule{Expression: expr, Every: every}, enabled, nil
}

var rateRE = regexp.MustCompile(`^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$`)

// ParseRate returns the period of a rate(N minute|minutes|hour|hours|day|days) expression,
// 0 for cron() and at() expressions, and an error for anything else. Like the rest of this
// package it is lenient about singular and plural ("rate(1 minutes)").
func ParseRate(expr string) (time.Duration, error) {
	if strings.HasPrefix(expr, "cron(") || strings.HasPrefix(expr, "at(") {
		return 0, nil
	}
	m := rateRE.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q is not rate(N unit), cron() or at()", expr)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("schedule %q: rate must be a positive integer", expr)
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[m[2][0]]
	return time.Duration(n) * unit, nil
}

// text renders a scalar, resolving a Ref to a parameter to its Default; other intrinsics are
// errors (these fields are fixed at deploy time in this project).
func (t *Template) text(x any) (string, error) {
	if v, ok := x.(Value); ok {
		if v.Kind == Ref {
			if p, ok := t.Parameters[v.Name]; ok {
				return p.Default, nil
			}
		}
		return "", fmt.Errorf("%v cannot be resolved from the template alone", v)
	}
	return scalar(x)
}

func (t *Template) integer(x any) (int, error) {
	s, err := t.text(x)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}

func (t *Template) seconds(x any) (time.Duration, error) {
	if x == nil {
		return 0, nil
	}
	n, err := t.integer(x)
	return time.Duration(n) * time.Second, err
}

// scalar renders a decoded non-intrinsic scalar; nil is "".
func scalar(x any) (string, error) {
	if _, ok := x.(Value); ok {
		return "", fmt.Errorf("%v is not a literal", x)
	}
	return Resolve(x, nil)
}

// valueOf turns a decoded scalar or intrinsic into a Value.
func valueOf(x any) (Value, error) {
	if v, ok := x.(Value); ok {
		return v, nil
	}
	s, err := scalar(x)
	if err != nil {
		return Value{}, err
	}
	return Value{Kind: Literal, Lit: s}, nil
}

// mapAt returns m[key] as a mapping, or nil.
func mapAt(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}

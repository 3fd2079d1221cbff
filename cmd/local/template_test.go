package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"yinling/shared/apispec"
	"yinling/shared/sam"
)

// These tests hold template.yaml (what AWS deploys), the function packages (what runs), the
// OpenAPI document (what clients build on) and events/ (what sam local and the tests send) to
// one another, so none can drift.

func loadTemplate(t *testing.T) (*sam.Template, string) {
	t.Helper()
	path, err := sam.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := sam.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl, filepath.Dir(path)
}

// placeholderEnv gives every declared variable a value, as CloudFormation would: a literal its
// own (numbers must parse), a reference a placeholder.
func placeholderEnv(f sam.Function) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := f.Env[k]
		if !ok {
			return "", false
		}
		if v.Kind == sam.Literal {
			return v.Lit, true
		}
		return "placeholder-" + strings.ToLower(k), true
	}
}

func TestEveryFunctionDirectoryIsInTheTemplate(t *testing.T) {
	tmpl, root := loadTemplate(t)
	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk, inTemplate, registered []string
	for _, d := range dirs {
		if d.IsDir() {
			onDisk = append(onDisk, d.Name())
		}
	}
	for _, f := range tmpl.Functions {
		inTemplate = append(inTemplate, f.Name)
		if want := "functions/" + f.Name + "/cmd"; f.CodeUri != want {
			t.Errorf("%s: CodeUri = %q, want %q (SAM's go1.x build method builds the main package)", f.LogicalID, f.CodeUri, want)
		}
	}
	for name := range functions {
		registered = append(registered, name)
	}
	slices.Sort(inTemplate)
	slices.Sort(registered)
	if diff := cmp.Diff(onDisk, inTemplate); diff != "" {
		t.Errorf("functions/ vs template.yaml (-disk +template):\n%s", diff)
	}
	if diff := cmp.Diff(inTemplate, registered); diff != "" {
		t.Errorf("template.yaml vs cmd/local registry (-template +registry):\n%s", diff)
	}
}

func TestRoutesMatchHandlers(t *testing.T) {
	tmpl, _ := loadTemplate(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, f := range tmpl.Functions {
		reg, ok := functions[f.Name]
		if !ok {
			continue // reported by TestEveryFunctionDirectoryIsInTheTemplate
		}
		t.Run(f.Name, func(t *testing.T) {
			_, served, err := reg.build(placeholderEnv(f), aws.Config{}, log)
			if err != nil {
				t.Fatalf("build with the template's variables: %v", err)
			}
			var declared []string
			for _, r := range f.Routes {
				declared = append(declared, r.Key())
			}
			slices.Sort(declared)
			slices.Sort(served)
			if diff := cmp.Diff(declared, served, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("routes (-template.yaml +handler):\n%s", diff)
			}
		})
	}
}

func TestEnvVariablesAreDeclared(t *testing.T) {
	tmpl, _ := loadTemplate(t)
	for _, f := range tmpl.Functions {
		reg, ok := functions[f.Name]
		if !ok {
			continue
		}
		for _, name := range reg.envNames {
			if lambdaReserved[name] {
				continue // set by the Lambda runtime; a template may not declare it
			}
			if _, ok := f.Env[name]; !ok {
				t.Errorf("%s reads %s, which template.yaml does not declare for it", f.LogicalID, name)
			}
		}
	}
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	tmpl, _ := loadTemplate(t)
	spec, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, f := range tmpl.Functions {
		for _, r := range f.Routes {
			declared = append(declared, r.Key())
		}
	}
	slices.Sort(declared)
	if diff := cmp.Diff(declared, spec.Routes()); diff != "" {
		t.Errorf("routes (-template.yaml +openapi.yaml):\n%s", diff)
	}
}

// Staff routes, and only staff routes, sit behind the JWT authorizer.
func TestAdminRoutesRequireTheAuthorizer(t *testing.T) {
	tmpl, _ := loadTemplate(t)
	for _, f := range tmpl.Functions {
		for _, r := range f.Routes {
			admin := strings.HasPrefix(r.Path, "/api/admin/") || r.Path == "/api/admin"
			if admin && r.Authorizer != authorizerName {
				t.Errorf("%s %s: staff route without the %s authorizer", f.LogicalID, r.Key(), authorizerName)
			}
			if !admin && r.Authorizer != "" {
				t.Errorf("%s %s: public route behind authorizer %q", f.LogicalID, r.Key(), r.Authorizer)
			}
		}
	}
}

// Every sample event of an HTTP function names a route that function serves.
func TestSampleEventsMatchRoutes(t *testing.T) {
	tmpl, root := loadTemplate(t)
	for _, f := range tmpl.Functions {
		files, _ := filepath.Glob(filepath.Join(root, "events", f.Name, "*.json"))
		if len(f.Routes) > 0 && len(files) == 0 {
			t.Errorf("%s serves routes but has no sample events in events/%s", f.LogicalID, f.Name)
		}
		keys := map[string]bool{}
		for _, r := range f.Routes {
			keys[r.Key()] = true
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev struct {
				RouteKey string `json:"routeKey"`
			}
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			if ev.RouteKey != "" && !keys[ev.RouteKey] {
				t.Errorf("%s: routeKey %q is not a route of %s", file, ev.RouteKey, f.LogicalID)
			}
		}
	}
}

// The SQS consumers must report partial batch failures, and each queue's visibility timeout
// must be at least six times its consumer's timeout, with a DLQ after at least 5 receives.
func TestQueuesFollowLambdaGuidance(t *testing.T) {
	tmpl, _ := loadTemplate(t)
	consumed := 0
	for _, f := range tmpl.Functions {
		for _, q := range f.Queues {
			consumed++
			if !q.ReportBatchItemFailures {
				t.Errorf("%s: SQS event without ReportBatchItemFailures", f.LogicalID)
			}
			props := tmpl.Resources[q.QueueLogicalID].Properties
			vis, _ := props["VisibilityTimeout"].(int)
			if min := int(6 * f.Timeout.Seconds()); vis < min {
				t.Errorf("%s: VisibilityTimeout %d < 6 × %s timeout = %d", q.QueueLogicalID, vis, f.LogicalID, min)
			}
			redrive, _ := props["RedrivePolicy"].(map[string]any)
			if n, _ := redrive["maxReceiveCount"].(int); n < 5 {
				t.Errorf("%s: maxReceiveCount %v, want ≥ 5", q.QueueLogicalID, redrive["maxReceiveCount"])
			}
		}
	}
	if consumed != 3 {
		t.Errorf("%d queues consumed, want deliveries, fanout and ack-checks", consumed)
	}
}

// lambdaReserved are variables the Lambda runtime sets itself; CloudFormation refuses them in a
// function's Environment, so a function may read them without declaring them.
var lambdaReserved = map[string]bool{"AWS_LAMBDA_FUNCTION_NAME": true, "AWS_REGION": true}

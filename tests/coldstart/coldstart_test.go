// Package coldstart measures what a Lambda cold start of each function costs — process start to
// the first `next` request (init) and the first event to its response (first invoke) — against a
// hello-world Go Lambda built and started the same way, and checks that no function reaches the
// network during init. It also measures each function's artifact for arm64 against its budget.
//
// Every function is built for the host with the Lambda flags and run as Lambda runs it: a fresh
// process with the Lambda environment, the function's own variables from template.yaml, and a
// Runtime API served by the harness. Its AWS endpoints point at counting proxies in front of the
// emulators; AWS_ENDPOINT_URL (every other service) and HTTP(S)_PROXY (every other host) point
// at counting addresses that answer nothing.
package coldstart

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/pii"
	"yinling/shared/queues"
	"yinling/shared/reminder"
	"yinling/shared/sam"
	"yinling/shared/sqsmsg"
	"yinling/shared/testenv"
)

// httpEvents name each HTTP function's first event among its samples in events/<fn>/: a request
// that reads the table, as most of the function's requests do.
var httpEvents = map[string]string{
	"admin":      "list-groups",
	"signup":     "join-info",
	"qa":         "staff-sessions",
	"reminders":  "staff-list",
	"promotions": "list",
	"web":        "home-zh",
}

// occurrence is the minute the first messages' reminder occurrence is due.
var occurrence = reminder.OccurrenceID(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))

// queueBodies are the first message a queue consumer gets, by queue: one delivery of a
// reminder occurrence, one acknowledgement check, one page of a campaign's audience. They name
// items that do not exist, so the consumer reads the table, finds nothing and drops them.
var queueBodies = map[string]func() (string, error){
	"DeliveriesQueue": func() (string, error) {
		return sqsmsg.Encode(queues.TypeDeliver, queues.Deliver{Store: "s-test", Reminder: "01JDR00000000000000000R001",
			Member: "01JDR0000000000000000M0001", Occurrence: occurrence, Attempt: queues.Attempt(0)})
	},
	"AckChecksQueue": func() (string, error) {
		return sqsmsg.Encode(queues.TypeCheck, queues.Check{Store: "s-test", Reminder: "01JDR00000000000000000R001",
			Member: "01JDR0000000000000000M0001", Occurrence: occurrence, Stage: "retry", Attempt: 0})
	},
	"FanoutQueue": func() (string, error) {
		return sqsmsg.Encode(queues.TypeFanout, queues.Fanout{Store: "s-test", Campaign: "01JDR00000000000000000C001",
			GroupID: "01JDR00000000000000000G001"})
	},
}

// kmsKeyARN stands for the PII key a deployed function names.
const kmsKeyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// subject is one function ready to be cold-started.
type subject struct {
	name  string
	bin   string
	env   []string
	event []byte
}

// harness is the emulators' resources, the counting proxies and every subject.
type harness struct {
	net      *network
	subjects []subject // hello first
}

// newHarness builds hello and every function of the template for the host and prepares their
// environments and first events. It needs the emulators (testenv skips without them).
func newHarness(t testing.TB) *harness {
	t.Helper()
	env := testenv.New(t)
	bins := hostBuild(t, targets(t, env.Template, true))

	h := &harness{net: &network{}}
	t.Cleanup(h.net.close)
	endpoints := map[string]string{}
	for _, v := range testenv.EndpointVars {
		u, err := h.net.proxy(os.Getenv(v))
		if err != nil {
			t.Fatal(err)
		}
		endpoints[v] = u
	}
	for _, v := range []string{"AWS_ENDPOINT_URL", "HTTP_PROXY", "HTTPS_PROXY"} {
		u, err := h.net.sink()
		if err != nil {
			t.Fatal(err)
		}
		endpoints[v] = u
	}

	h.subjects = append(h.subjects, subject{name: "hello", bin: bins["hello"],
		env: lambdaEnv("hello", endpoints, nil), event: []byte(`{"hello":"world"}`)})
	for _, f := range env.Template.Functions {
		fenv, err := env.Resources.Env(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range fenv {
			// The emulators have no KMS, so the local stack names a local key, which a function
			// refuses inside Lambda; here it gets a KMS key as in AWS, and KMS is one of the
			// services behind AWS_ENDPOINT_URL, which only counts.
			if strings.HasPrefix(v, pii.LocalKeyPrefix) {
				fenv[k] = kmsKeyARN
			}
		}
		h.subjects = append(h.subjects, subject{name: f.Name, bin: bins[f.Name],
			env: lambdaEnv(f.LogicalID, endpoints, fenv), event: firstEvent(t, env, f)})
	}
	return h
}

// lambdaEnv is the environment Lambda gives a provided.al2023 function of 128 MB (the
// template's MemorySize), the function's own variables, and the endpoints; nothing is
// inherited from the test's environment.
func lambdaEnv(function string, endpoints, own map[string]string) []string {
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                "/var/task",
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"_HANDLER":                        "bootstrap",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME":        function,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + function,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2026/11/23/[$LATEST]0123456789abcdef",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_SESSION_TOKEN":               "local",
		"AWS_XRAY_DAEMON_ADDRESS":         "169.254.79.129:2000",
	}
	maps.Copy(env, own)
	maps.Copy(env, endpoints)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// firstEvent is what Lambda would hand f first: a sample API Gateway request for an HTTP
// function, a one-message SQS batch for a queue consumer, a scheduled event for the dispatcher.
func firstEvent(t testing.TB, env *testenv.Env, f sam.Function) []byte {
	t.Helper()
	var ev any
	switch {
	case len(f.Routes) > 0:
		name, ok := httpEvents[f.Name]
		if !ok {
			t.Fatalf("%s serves HTTP but has no first event in httpEvents", f.Name)
		}
		ev = testenv.Event(t, f.Name, name)
	case len(f.Queues) > 0:
		q := f.Queues[0].QueueLogicalID
		body, ok := queueBodies[q]
		if !ok {
			t.Fatalf("%s consumes %s but queueBodies has no message for it", f.Name, q)
		}
		b, err := body()
		if err != nil {
			t.Fatal(err)
		}
		arn, err := env.Resources.GetAtt(q, "Arn")
		if err != nil {
			t.Fatal(err)
		}
		ev = events.SQSEvent{Records: []events.SQSMessage{{
			MessageId: "059f36b4-87a3-44ab-83d2-661975830a7d", ReceiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
			Body: b, EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: "us-east-1",
			Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1795420800000",
				"ApproximateFirstReceiveTimestamp": "1795420800010"},
		}}}
	case len(f.Schedules) > 0:
		ev = events.EventBridgeEvent{Version: "0", ID: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
			DetailType: "Scheduled Event", Source: "aws.events", AccountID: "123456789012",
			Time: time.Now().UTC().Truncate(time.Minute), Region: "us-east-1",
			Resources: []string{"arn:aws:events:us-east-1:123456789012:rule/coldstart"}, Detail: json.RawMessage(`{}`)}
	default:
		t.Fatalf("%s has no HTTP, SQS or Schedule event", f.Name)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// run cold-starts s once and fails t unless it answered, without an error, having made no
// network call during init.
func (h *harness) run(t testing.TB, s subject) start {
	t.Helper()
	st, err := coldStart(s.bin, s.env, s.event, h.net, 30*time.Second)
	if err != nil {
		t.Fatalf("%s: %v\noutput:\n%s", s.name, err, st.Output)
	}
	if st.Failed {
		t.Fatalf("%s: the first invocation failed: %s\noutput:\n%s", s.name, st.Response, st.Output)
	}
	if st.NetDuringInit != 0 {
		t.Errorf("%s: %d network connections during init; init must make none (DESIGN.md §8)\noutput:\n%s",
			s.name, st.NetDuringInit, st.Output)
	}
	return st
}

// httpStatus is the status code of an API Gateway response, or 0 for other responses.
func httpStatus(resp []byte) int {
	var r struct {
		StatusCode int `json:"statusCode"`
	}
	_ = json.Unmarshal(resp, &r)
	return r.StatusCode
}

// TestInitMakesNoNetworkCall cold-starts every function once, as Lambda would, and checks that
// none connects anywhere before asking for its first event, and that each then serves its first
// event against the emulators (which it reaches through the proxies: the test also checks the
// proxies see the traffic, so a count of zero means something).
func TestInitMakesNoNetworkCall(t *testing.T) {
	h := newHarness(t)
	for _, s := range h.subjects {
		before := h.net.total()
		st := h.run(t, s)
		after := h.net.total()
		if status := httpStatus(st.Response); status >= 500 {
			t.Errorf("%s: first event answered %d: %s", s.name, status, st.Response)
		}
		if strings.Contains(string(st.Response), `"itemIdentifier"`) {
			t.Errorf("%s: the first batch reported a failure: %s\noutput:\n%s", s.name, st.Response, st.Output)
		}
		if s.name != "hello" && s.name != "web" && after == before {
			t.Errorf("%s: no connection through the proxies at all; is the first event reaching the emulators?", s.name)
		}
		t.Logf("%-10s init %6.1f ms  first invoke %6.1f ms  connections during init %d, in all %d",
			s.name, ms(st.Init), ms(st.Invoke), st.NetDuringInit, after-before)
	}
}

// BenchmarkColdStart cold-starts hello and then each function b.N times (make bench runs it
// with -benchtime=20x: 20 cold starts each) and reports the median and maximum of init and of
// the first invocation, and the ratio of the init median to hello's median in the same run.
func BenchmarkColdStart(b *testing.B) {
	h := newHarness(b)
	var helloInit time.Duration
	for _, s := range h.subjects {
		b.Run("fn="+s.name, func(b *testing.B) {
			var inits, invokes []time.Duration
			for b.Loop() {
				st := h.run(b, s)
				inits = append(inits, st.Init)
				invokes = append(invokes, st.Invoke)
			}
			initMed, invokeMed := median(inits), median(invokes)
			if s.name == "hello" {
				helloInit = initMed
			}
			b.ReportMetric(ms(initMed), "init-p50-ms")
			b.ReportMetric(ms(slices.Max(inits)), "init-max-ms")
			b.ReportMetric(ms(invokeMed), "invoke-p50-ms")
			b.ReportMetric(ms(slices.Max(invokes)), "invoke-max-ms")
			if helloInit > 0 {
				b.ReportMetric(float64(initMed)/float64(helloInit), "init-x-hello")
			}
			b.ReportMetric(float64(len(inits)), "starts")
			b.ReportMetric(0, "ns/op") // the per-start wall time includes the harness; the metrics above are the figures
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// TestHarnessSeesNetworkDuringInit runs a Lambda that calls DynamoDB's endpoint before asking
// for its first event: the harness must count that connection, or the test above proves nothing.
func TestHarnessSeesNetworkDuringInit(t *testing.T) {
	h := newHarness(t)
	bin := hostBuild(t, []target{{"netinit", "./tests/coldstart/testdata/netinit"}})["netinit"]
	hello := h.subjects[0]
	st, err := coldStart(bin, hello.env, hello.event, h.net, 30*time.Second)
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, st.Output)
	}
	if st.NetDuringInit != 1 {
		t.Errorf("connections during init = %d, want 1", st.NetDuringInit)
	}
}

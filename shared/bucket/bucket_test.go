package bucket

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/awscalls"
	"yinling/shared/faults"
)

func TestEndpoint(t *testing.T) {
	tests := []struct {
		name      string
		cfg       aws.Config
		bucket    string
		pathStyle bool
		want      string
	}{
		{"china", aws.Config{Region: "cn-north-1"}, "voice", false, "https://voice.s3.cn-north-1.amazonaws.com.cn"},
		{"china path style", aws.Config{Region: "cn-northwest-1"}, "voice", true, "https://s3.cn-northwest-1.amazonaws.com.cn/voice"},
		{"elsewhere", aws.Config{Region: "ap-east-1"}, "voice", false, "https://voice.s3.ap-east-1.amazonaws.com"},
		{"base endpoint", aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("https://s3.example.com")}, "voice", false, "https://voice.s3.example.com"},
		{"base endpoint path", aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("https://example.com/s3/")}, "voice", false, "https://voice.example.com/s3"},
		{"IPv4", aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:4566")}, "voice", false, "http://127.0.0.1:4566/voice"},
		{"IPv6", aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://[::1]:4566")}, "voice", false, "http://[::1]:4566/voice"},
		{"localhost", aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://localhost:4566")}, "voice", false, "http://localhost:4566/voice"},
		{"dots", aws.Config{Region: "ap-east-1"}, "voice.example", false, "https://s3.ap-east-1.amazonaws.com/voice.example"},
		{"uppercase", aws.Config{Region: "ap-east-1"}, "Voice", false, "https://s3.ap-east-1.amazonaws.com/Voice"},
		{"AWS_ENDPOINT_URL_S3 wins", aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://10.0.0.1"),
			ConfigSources: []any{endpointSource{"S3": "http://127.0.0.1:9324"}}}, "voice", false, "http://127.0.0.1:9324/voice"},
		{"another service's endpoint", aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://10.0.0.1"),
			ConfigSources: []any{endpointSource{"SQS": "http://127.0.0.1:9324"}}}, "voice", false, "http://10.0.0.1/voice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := endpoint(tt.cfg, tt.bucket, tt.pathStyle)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("endpoint = %s, want %s", got, tt.want)
			}
		})
	}
	for _, cfg := range []aws.Config{{}, {Region: "us-east-1", BaseEndpoint: aws.String("ftp://x")}, {Region: "us-east-1", BaseEndpoint: aws.String("not a url")}} {
		b := New(cfg, "voice")
		if _, err := b.Head(t.Context(), "k"); err == nil {
			t.Errorf("Head with config %+v: no error", cfg)
		}
		if _, err := b.PresignGet(t.Context(), "k", time.Minute); err == nil {
			t.Errorf("PresignGet with config %+v: no error", cfg)
		}
	}
}

// endpointSource answers the SDK's question for a service's endpoint, as lambdamain's
// AWS_ENDPOINT_URL_<SERVICE> source does.
type endpointSource map[string]string

func (e endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, ok := e[sdkID]
	return v, ok, nil
}

// answer is one scripted HTTP answer.
type answer struct {
	status int
	body   string
}

// script is an HTTP client that answers requests with its answers in turn, the last one
// again once they run out, and keeps the requests.
type script struct {
	mu       sync.Mutex
	answers  []answer
	requests []*http.Request
}

func (s *script) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.answers[min(len(s.requests), len(s.answers)-1)]
	s.requests = append(s.requests, r)
	h := http.Header{"X-Amz-Request-Id": {"req-" + string(rune('0'+len(s.requests)))}}
	if r.Method == http.MethodHead {
		a.body = "" // HEAD answers have no body
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(strings.NewReader(a.body)), Request: r}, nil
}

func (s *script) sent() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// offline is a configuration whose calls reach client and are retried up to 3 attempts at
// once, through apiOptions.
func offline(client aws.HTTPClient, backoff func(), apiOptions ...func(*middleware.Stack) error) aws.Config {
	return aws.Config{
		Region:       "cn-north-1",
		Credentials:  testCreds,
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		HTTPClient:   client,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
					if backoff != nil {
						backoff()
					}
					return 0, nil
				})
			})
		},
		APIOptions: apiOptions,
	}
}

const (
	slowDown      = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>R</RequestId></Error>`
	internalError = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`
	badDigest     = `<Error><Code>BadDigest</Code><Message>The Content-SHA256 you specified did not match what we received.</Message></Error>`
	copyResult    = `<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><ETag>"e"</ETag></CopyObjectResult>`
)

// apiErr is what a test checks of an error: its status, S3's code and message, the request id.
type apiErr struct {
	Status          int
	Code, Message   string
	RequestID       string
	NotFound, Fault bool
}

func apiErrOf(t *testing.T, err error) apiErr {
	t.Helper()
	var re *awshttp.ResponseError
	var ae smithy.APIError
	if !errors.As(err, &re) || !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is no *awshttp.ResponseError around a smithy.APIError", err, err)
	}
	var op *smithy.OperationError
	if !errors.As(err, &op) || op.Service() != "S3" {
		t.Errorf("error %v is no S3 operation error", err)
	}
	return apiErr{Status: re.HTTPStatusCode(), Code: ae.ErrorCode(), Message: ae.ErrorMessage(), RequestID: re.ServiceRequestID(),
		NotFound: NotFound(err), Fault: ae.ErrorFault() == smithy.FaultServer}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		answers  []answer
		call     func(*Bucket) error
		want     apiErr
		attempts int
	}{
		{"missing on HEAD", []answer{{404, ""}}, head, apiErr{404, "NotFound", "Not Found", "req-1", true, false}, 1},
		{"missing without ListBucket", []answer{{403, ""}}, head, apiErr{403, "Forbidden", "Forbidden", "req-1", true, false}, 1},
		{"client error", []answer{{400, badDigest}}, put, apiErr{400, "BadDigest", "The Content-SHA256 you specified did not match what we received.", "req-1", false, false}, 1},
		{"throttled on every attempt", []answer{{503, slowDown}}, put, apiErr{503, "SlowDown", "Please reduce your request rate.", "req-3", false, true}, 3},
		{"failed copy answered with 200", []answer{{200, internalError}}, copyObject, apiErr{500, "InternalError", "We encountered an internal error. Please try again.", "req-3", false, true}, 3},
		{"HEAD failing on the server", []answer{{500, ""}}, head, apiErr{500, "InternalServerError", "Internal Server Error", "req-3", false, true}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &script{answers: tt.answers}
			err := tt.call(New(offline(srv, nil), "voice"))
			if diff := cmp.Diff(tt.want, apiErrOf(t, err)); diff != "" {
				t.Errorf("error %v (-want +got):\n%s", err, diff)
			}
			if n := len(srv.sent()); n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
		})
	}
}

func head(b *Bucket) error {
	_, err := b.Head(context.Background(), "uploads/s1/a.webm")
	return err
}

func put(b *Bucket) error {
	return b.Put(context.Background(), "tts/a.mp3", "audio/mpeg", []byte("ID3"))
}

func copyObject(b *Bucket) error {
	return b.Copy(context.Background(), "uploads/s1/a.webm", "clips/s1/a.webm")
}

// TestRetriesAreSignedAgain: the retry middleware sits before signing, so each attempt carries
// its own date and attempt number, and a late attempt is not refused as too old.
func TestRetriesAreSignedAgain(t *testing.T) {
	srv := &script{answers: []answer{{503, slowDown}, {500, internalError}, {200, copyResult}}}
	b := New(offline(srv, nil), "voice")
	clock := signingTime
	b.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	if err := copyObject(b); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range srv.sent() {
		got = append(got, r.Header.Get("X-Amz-Date")+" "+r.Header.Get("Amz-Sdk-Request"))
	}
	want := []string{"20261123T083016Z attempt=1; max=3", "20261123T083017Z attempt=2; max=3", "20261123T083018Z attempt=3; max=3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

// TestCountedAndFaulted: the project's SDK middleware — the call counter and the fault
// injector — sees Bucket's calls as the SDK client's: "S3.HeadObject" and so on, every
// attempt counted, an injected throttle retried by the SDK's retryer.
func TestCountedAndFaulted(t *testing.T) {
	var calls awscalls.Counter
	inj := faults.New(1, faults.Rule{Services: []string{"S3"}, Operations: []string{"PutObject"}, Rate: 1})
	srv := &script{answers: []answer{{200, ""}}}
	// The first attempt of PutObject meets the injected throttle; the retryer backs off (where
	// the injector is paused) and the second attempt goes through.
	b := New(offline(srv, inj.Pause, calls.Register, inj.Register), "voice")
	ctx := t.Context()

	if _, err := b.Head(ctx, "uploads/s1/a.webm"); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "tts/a.mp3", "audio/mpeg", []byte("ID3")); err != nil {
		t.Fatalf("Put: %v (the injected throttle was not retried)", err)
	}
	srv.answers = []answer{{200, copyResult}}
	if err := b.Copy(ctx, "uploads/s1/a.webm", "clips/s1/a.webm"); err != nil {
		t.Fatal(err)
	}

	want := map[string]int{"S3.HeadObject": 1, "S3.PutObject": 2, "S3.CopyObject": 1}
	if diff := cmp.Diff(want, calls.Snapshot().Count); diff != "" {
		t.Errorf("counted (-want +got):\n%s", diff)
	}
	wantFaults := faults.Counts{
		ByOperation: map[string]map[faults.Kind]int{"S3.PutObject": {faults.Throttle: 1}},
		Calls:       map[string]int{"S3.HeadObject": 1, "S3.PutObject": 1, "S3.CopyObject": 1},
	}
	if diff := cmp.Diff(wantFaults, inj.Counts()); diff != "" {
		t.Errorf("faults (-want +got):\n%s", diff)
	}
	if n := len(srv.sent()); n != 3 {
		t.Errorf("%d requests reached S3, want 3 (the throttled attempt never left)", n)
	}

	// A fault injected outside the retry loop reaches the caller as the SDK client's would.
	inj = faults.New(1, faults.Rule{Services: []string{"S3"}, Rate: 1, Kinds: []faults.Kind{faults.ServerError}, Placement: faults.PerCall})
	b = New(offline(srv, nil, inj.Register), "voice")
	_, err := b.Head(ctx, "uploads/s1/a.webm")
	if got := apiErrOf(t, err); got.Status < 500 || !faults.Injected(err) || NotFound(err) {
		t.Errorf("Head with a per-call 5xx = %v (%+v), want the injected server error", err, got)
	}
}

func TestErrorDocument(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		isError       bool
		code, message string
	}{
		{"S3's", internalError, true, "InternalError", "We encountered an internal error. Please try again."},
		{"without declaration", badDigest, true, "BadDigest", "The Content-SHA256 you specified did not match what we received."},
		{"entities", "\n  <Error>\n<Code>AccessDenied</Code><Message>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos;</Message></Error>", true, "AccessDenied", `<a> & "b" 'c'`},
		{"attributes", `<?xml version="1.0"?><Error xmlns="x"><Code>SlowDown</Code></Error>`, true, "SlowDown", ""},
		{"copy result", copyResult, false, "", ""},
		{"ErrorDocument is not Error", `<ErrorDocument><Code>X</Code></ErrorDocument>`, false, "X", ""},
		{"empty", "", false, "", ""},
		{"HTML from a proxy", "<html><body>502 Bad Gateway</body></html>", false, "", ""},
		{"unterminated", "<Error><Code>SlowDown", true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorDocument([]byte(tt.body)); got != tt.isError {
				t.Errorf("errorDocument = %v, want %v", got, tt.isError)
			}
			if code, msg := element(tt.body, "Code"), element(tt.body, "Message"); code != tt.code || msg != tt.message {
				t.Errorf("code, message = %q, %q; want %q, %q", code, msg, tt.code, tt.message)
			}
		})
	}
}

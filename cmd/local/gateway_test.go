package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/staffjwt"
)

// recorder is a function that records the events it gets and answers with respond.
type recorder struct {
	mu      sync.Mutex
	events  []events.APIGatewayV2HTTPRequest
	respond func(ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}

func (r *recorder) handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.respond != nil {
		return r.respond(ev)
	}
	b, _ := json.Marshal(map[string]any{"routeKey": ev.RouteKey, "params": ev.PathParameters})
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"}, Body: string(b)}, nil
}

func (r *recorder) calls() []events.APIGatewayV2HTTPRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.APIGatewayV2HTTPRequest(nil), r.events...)
}

func (r *recorder) function(name string) LambdaFunction {
	return LambdaFunction{Name: name, Handler: lambda.NewHandler(r.handle), Timeout: 10 * time.Second}
}

// rawHandler is a lambda.Handler answering with fixed bytes, for responses lambda.NewHandler
// cannot produce.
type rawHandler []byte

func (h rawHandler) Invoke(context.Context, []byte) ([]byte, error) { return h, nil }

// fakeVerifier accepts the token "good" with fixed claims.
type fakeVerifier map[string]string

func (v fakeVerifier) Verify(token string, _ time.Time) (map[string]string, error) {
	if token != "Bearer good" {
		return nil, staffjwt.ErrSignature
	}
	return v, nil
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newTestGateway(t *testing.T, cfg GatewayConfig) (*Gateway, *httptest.Server) {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = quietLog()
	}
	g, err := NewGateway(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return g, srv
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestGatewayRouting(t *testing.T) {
	rec := &recorder{}
	fn := rec.function("Fn")
	paths := []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/admin"},
		{"GET", "/static/{file}"},
		{"GET", "/api/admin/groups"},
		{"POST", "/api/admin/groups"},
		{"GET", "/api/admin/groups/{id}"},
		{"PATCH", "/api/admin/groups/{id}"},
		{"GET", "/api/admin/groups/export"},
		{"POST", "/api/admin/groups/{id}/invites"},
		{"GET", "/files/{proxy+}"},
		{"GET", "/files/{kind}/latest"},
		{"ANY", "/any/{x}"},
		{"DELETE", "/any/{x}"},
	}
	var routes []Route
	for _, p := range paths {
		routes = append(routes, Route{Method: p.method, Path: p.path, Function: fn})
	}
	_, srv := newTestGateway(t, GatewayConfig{Routes: routes})

	tests := []struct {
		method, path string
		wantStatus   int
		wantKey      string
		wantParams   map[string]string
	}{
		{"GET", "/", 200, "GET /", nil},
		{"GET", "/admin", 200, "GET /admin", nil},
		{"GET", "/static/app.js", 200, "GET /static/{file}", map[string]string{"file": "app.js"}},
		{"GET", "/static/a%2Fb%20c.js", 200, "GET /static/{file}", map[string]string{"file": "a/b c.js"}},
		{"GET", "/api/admin/groups", 200, "GET /api/admin/groups", nil},
		{"POST", "/api/admin/groups", 200, "POST /api/admin/groups", nil},
		{"GET", "/api/admin/groups/export", 200, "GET /api/admin/groups/export", nil},
		{"GET", "/api/admin/groups/g1", 200, "GET /api/admin/groups/{id}", map[string]string{"id": "g1"}},
		{"PATCH", "/api/admin/groups/g1", 200, "PATCH /api/admin/groups/{id}", map[string]string{"id": "g1"}},
		{"POST", "/api/admin/groups/g1/invites", 200, "POST /api/admin/groups/{id}/invites", map[string]string{"id": "g1"}},
		{"GET", "/files/a/latest", 200, "GET /files/{kind}/latest", map[string]string{"kind": "a"}},
		{"GET", "/files/a/b/c", 200, "GET /files/{proxy+}", map[string]string{"proxy": "a/b/c"}},
		{"GET", "/files/a", 200, "GET /files/{proxy+}", map[string]string{"proxy": "a"}},
		{"PUT", "/any/1", 200, "ANY /any/{x}", map[string]string{"x": "1"}},
		{"DELETE", "/any/1", 200, "DELETE /any/{x}", map[string]string{"x": "1"}},
		{"GET", "/files", 404, "", nil},
		{"GET", "/nope", 404, "", nil},
		{"GET", "/admin/", 404, "", nil},
		{"GET", "/static/", 404, "", nil},
		{"POST", "/admin", 404, "", nil},
		{"DELETE", "/api/admin/groups/g1", 404, "", nil},
		{"GET", "/api/admin/groups/g1/invites", 404, "", nil},
		// API Gateway does not answer HEAD from a GET route.
		{"HEAD", "/admin", 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			before := len(rec.calls())
			resp, body := do(t, newRequest(t, tt.method, srv.URL+tt.path, nil))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			calls := rec.calls()
			if tt.wantStatus == 404 {
				if tt.method != "HEAD" {
					if diff := cmp.Diff(`{"message":"Not Found"}`, string(body)); diff != "" {
						t.Errorf("body (-want +got):\n%s", diff)
					}
				}
				if len(calls) != before {
					t.Errorf("function was invoked for an unmatched route")
				}
				return
			}
			got := calls[len(calls)-1]
			if got.RouteKey != tt.wantKey || got.RequestContext.RouteKey != tt.wantKey {
				t.Errorf("routeKey = %q / %q, want %q", got.RouteKey, got.RequestContext.RouteKey, tt.wantKey)
			}
			if diff := cmp.Diff(tt.wantParams, got.PathParameters); diff != "" {
				t.Errorf("pathParameters (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGatewayCatchAll(t *testing.T) {
	rec := &recorder{}
	_, srv := newTestGateway(t, GatewayConfig{Routes: []Route{
		{Method: "GET", Path: "/", Function: rec.function("Fn")},
		{Method: "ANY", Path: "/{proxy+}", Function: rec.function("Fn")},
	}})
	tests := []struct {
		method, path string
		wantStatus   int
		wantKey      string
	}{
		{"GET", "/", 200, "GET /"},
		{"POST", "/", 404, ""},
		{"POST", "/a/b", 200, "ANY /{proxy+}"},
		{"HEAD", "/a", 200, "ANY /{proxy+}"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, _ := do(t, newRequest(t, tt.method, srv.URL+tt.path, nil))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == 200 {
				calls := rec.calls()
				if got := calls[len(calls)-1].RouteKey; got != tt.wantKey {
					t.Errorf("routeKey = %q, want %q", got, tt.wantKey)
				}
			}
		})
	}
}

func TestGatewayEvent(t *testing.T) {
	rec := &recorder{}
	claims := map[string]string{"sub": "u-1", "custom:store_id": "s-1", "custom:role": "staff", "scope": "a b"}
	g, srv := newTestGateway(t, GatewayConfig{
		Routes:      []Route{{Method: "POST", Path: "/api/admin/groups/{id}/invites", Authorizer: "StaffJwt", Function: rec.function("AdminFunction")}},
		Authorizers: map[string]TokenVerifier{"StaffJwt": fakeVerifier(claims)},
		APIID:       "api1",
		AccountID:   "123456789012",
		Region:      "cn-north-1",
	})
	now := time.Date(2025, 3, 1, 10, 4, 5, 678_000_000, time.UTC)
	g.now = func() time.Time { return now }

	req := newRequest(t, "POST", srv.URL+"/api/admin/groups/g%201/invites?x=1&x=2&y=a+b%26&z", strings.NewReader(`{"a":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer good")
	req.Header.Set("User-Agent", "test-agent")
	req.Header.Add("X-Multi", "v1")
	req.Header.Add("X-Multi", "v2")
	req.Header.Add("Cookie", "a=1; b=2")
	req.Header.Add("Cookie", "c=3")
	resp, _ := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	calls := rec.calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	got := calls[0]

	// Random per request: checked for shape, then left out of the comparison.
	if got.RequestContext.RequestID == "" || got.RequestContext.RequestID != resp.Header.Get("Apigw-Requestid") {
		t.Errorf("requestId = %q, apigw-requestid header = %q", got.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid"))
	}
	if !strings.HasPrefix(got.Headers["x-amzn-trace-id"], "Root=1-") {
		t.Errorf("x-amzn-trace-id = %q", got.Headers["x-amzn-trace-id"])
	}
	got.RequestContext.RequestID = ""
	delete(got.Headers, "x-amzn-trace-id")

	host := strings.TrimPrefix(srv.URL, "http://")
	port := host[strings.LastIndex(host, ":")+1:]
	key := "POST /api/admin/groups/{id}/invites"
	want := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       key,
		RawPath:        "/api/admin/groups/g%201/invites",
		RawQueryString: "x=1&x=2&y=a+b%26&z",
		Cookies:        []string{"a=1", "b=2", "c=3"},
		Headers: map[string]string{
			"accept-encoding":   "gzip",
			"authorization":     "Bearer good",
			"content-length":    "7",
			"content-type":      "application/json",
			"host":              host,
			"user-agent":        "test-agent",
			"x-forwarded-for":   "127.0.0.1",
			"x-forwarded-port":  port,
			"x-forwarded-proto": "http",
			"x-multi":           "v1,v2",
		},
		QueryStringParameters: map[string]string{"x": "1,2", "y": "a b&", "z": ""},
		PathParameters:        map[string]string{"id": "g 1"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     key,
			AccountID:    "123456789012",
			Stage:        "$default",
			APIID:        "api1",
			DomainName:   "127.0.0.1",
			DomainPrefix: "127",
			Time:         "01/Mar/2025:10:04:05 +0000",
			TimeEpoch:    now.UnixMilli(),
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: []string{"a", "b"}},
			},
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    "POST",
				Path:      "/api/admin/groups/g%201/invites",
				Protocol:  "HTTP/1.1",
				SourceIP:  "127.0.0.1",
				UserAgent: "test-agent",
			},
		},
		Body: `{"a":1}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestGatewayRequestBody(t *testing.T) {
	rec := &recorder{}
	_, srv := newTestGateway(t, GatewayConfig{Routes: []Route{{Method: "POST", Path: "/x", Function: rec.function("Fn")}}})
	binary := []byte{0xff, 0x00, 0x89, 'P', 'N', 'G'}
	tests := []struct {
		name, contentType string
		body              []byte
		wantBody          string
		wantBase64        bool
	}{
		{"json", "application/json", []byte(`{"a":"银龄"}`), `{"a":"银龄"}`, false},
		{"json with charset", "application/json; charset=utf-8", []byte(`{}`), `{}`, false},
		{"text", "text/plain", []byte("hi"), "hi", false},
		{"html", "text/html; charset=utf-8", []byte("<p>"), "<p>", false},
		{"xml", "application/xml", []byte("<a/>"), "<a/>", false},
		{"javascript", "application/javascript", []byte("x()"), "x()", false},
		{"form", "application/x-www-form-urlencoded", []byte("a=1"), base64.StdEncoding.EncodeToString([]byte("a=1")), true},
		{"problem json", "application/problem+json", []byte("{}"), base64.StdEncoding.EncodeToString([]byte("{}")), true},
		{"binary", "image/png", binary, base64.StdEncoding.EncodeToString(binary), true},
		{"no content type", "", []byte("hi"), base64.StdEncoding.EncodeToString([]byte("hi")), true},
		{"empty", "application/json", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "POST", srv.URL+"/x", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if resp, _ := do(t, req); resp.StatusCode != 200 {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			calls := rec.calls()
			got := calls[len(calls)-1]
			if got.Body != tt.wantBody || got.IsBase64Encoded != tt.wantBase64 {
				t.Errorf("body = %q base64 = %v, want %q %v", got.Body, got.IsBase64Encoded, tt.wantBody, tt.wantBase64)
			}
		})
	}
}

func TestGatewayRequestTooLarge(t *testing.T) {
	rec := &recorder{}
	_, srv := newTestGateway(t, GatewayConfig{Routes: []Route{{Method: "POST", Path: "/x", Function: rec.function("Fn")}}})
	big := bytes.Repeat([]byte("a"), maxRequestBody+1)
	tests := []struct {
		name string
		body io.Reader
	}{
		{"declared length", bytes.NewReader(big)},
		{"chunked", io.MultiReader(bytes.NewReader(big))}, // unknown length: sent chunked
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, newRequest(t, "POST", srv.URL+"/x", tt.body))
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status = %d, want 413 (%s)", resp.StatusCode, body)
			}
		})
	}
	if n := len(rec.calls()); n != 0 {
		t.Errorf("function invoked %d times", n)
	}
}

func TestGatewayResponse(t *testing.T) {
	okJSON := func(ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 201,
			Headers:    map[string]string{"content-type": "application/json", "x-thing": "a,b"},
			Cookies:    []string{"s=1; HttpOnly; Path=/", "t=2"},
			Body:       `{"ok":true}`,
		}, nil
	}
	png := []byte{0x89, 'P', 'N', 'G', 0}
	tests := []struct {
		name        string
		fn          LambdaFunction
		timeout     time.Duration
		wantStatus  int
		wantHeaders map[string][]string
		wantBody    []byte
	}{
		{
			name:       "headers cookies body",
			fn:         LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(okJSON)},
			wantStatus: 201,
			wantHeaders: map[string][]string{
				"Content-Type": {"application/json"},
				"X-Thing":      {"a,b"},
				"Set-Cookie":   {"s=1; HttpOnly; Path=/", "t=2"},
			},
			wantBody: []byte(`{"ok":true}`),
		},
		{
			name: "base64 body",
			fn: LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(func() (events.APIGatewayV2HTTPResponse, error) {
				return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"}, Body: base64.StdEncoding.EncodeToString(png), IsBase64Encoded: true}, nil
			})},
			wantStatus:  200,
			wantHeaders: map[string][]string{"Content-Type": {"image/png"}},
			wantBody:    png,
		},
		{
			name: "no content type is not sniffed",
			fn: LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(func() (events.APIGatewayV2HTTPResponse, error) {
				return events.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
			})},
			wantStatus:  204,
			wantHeaders: map[string][]string{"Content-Type": nil},
			wantBody:    []byte{},
		},
		{
			name: "function error",
			fn: LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(func() (events.APIGatewayV2HTTPResponse, error) {
				return events.APIGatewayV2HTTPResponse{}, errors.New("boom")
			})},
			wantStatus:  500,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
			wantBody:    []byte(`{"message":"Internal Server Error"}`),
		},
		{
			name: "panic",
			fn: LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(func() (events.APIGatewayV2HTTPResponse, error) {
				panic("boom")
			})},
			wantStatus: 500,
			wantBody:   []byte(`{"message":"Internal Server Error"}`),
		},
		{
			name:       "response not JSON",
			fn:         LambdaFunction{Name: "Fn", Handler: rawHandler("not json")},
			wantStatus: 500,
			wantBody:   []byte(`{"message":"Internal Server Error"}`),
		},
		{
			name:       "response over Lambda's limit",
			fn:         LambdaFunction{Name: "Fn", Handler: rawHandler(`{"statusCode":200,"body":"` + strings.Repeat("a", maxResponsePayload) + `"}`)},
			wantStatus: 500,
			wantBody:   []byte(`{"message":"Internal Server Error"}`),
		},
		{
			name: "function timeout",
			fn: LambdaFunction{Name: "Fn", Timeout: 20 * time.Millisecond, Handler: lambda.NewHandler(func(ctx context.Context) (events.APIGatewayV2HTTPResponse, error) {
				<-ctx.Done()
				time.Sleep(50 * time.Millisecond) // a handler slow to notice its deadline
				return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
			})},
			wantStatus: 500,
			wantBody:   []byte(`{"message":"Internal Server Error"}`),
		},
		{
			name:    "integration timeout",
			timeout: 20 * time.Millisecond,
			fn: LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(func() (events.APIGatewayV2HTTPResponse, error) {
				time.Sleep(100 * time.Millisecond)
				return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
			})},
			wantStatus: 503,
			wantBody:   []byte(`{"message":"Service Unavailable"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, srv := newTestGateway(t, GatewayConfig{Routes: []Route{{Method: "GET", Path: "/x", Function: tt.fn}}})
			if tt.timeout > 0 {
				g.timeout = tt.timeout
			}
			resp, body := do(t, newRequest(t, "GET", srv.URL+"/x", nil))
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			for k, want := range tt.wantHeaders {
				if diff := cmp.Diff(want, resp.Header.Values(k)); diff != "" {
					t.Errorf("header %s (-want +got):\n%s", k, diff)
				}
			}
			if resp.Header.Get("Apigw-Requestid") == "" {
				t.Error("no apigw-requestid header")
			}
			if diff := cmp.Diff(tt.wantBody, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGatewayAuthorizer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const issuer, audience = "https://cognito-idp.local/pool", "client"
	iss := staffjwt.NewIssuer(key, "kid1", issuer, audience)
	staff := map[string]string{"sub": "u-1", "custom:store_id": "s-1", "custom:role": "manager"}
	mint := func(i *staffjwt.Issuer, at time.Time) string {
		tok, err := i.MintAt(staff, at, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rec := &recorder{}
	_, srv := newTestGateway(t, GatewayConfig{
		Routes: []Route{
			{Method: "GET", Path: "/api/admin/groups", Authorizer: "StaffJwt", Function: rec.function("Admin")},
			{Method: "GET", Path: "/", Function: rec.function("Web")},
		},
		Authorizers: map[string]TokenVerifier{"StaffJwt": iss.Verifier()},
	})
	tests := []struct {
		name, path, authorization string
		wantStatus                int
		wantWWWAuth               string
	}{
		{name: "valid", path: "/api/admin/groups", authorization: "Bearer " + mint(iss, time.Now()), wantStatus: 200},
		{name: "valid without Bearer", path: "/api/admin/groups", authorization: mint(iss, time.Now()), wantStatus: 200},
		{name: "missing", path: "/api/admin/groups", wantStatus: 401},
		{name: "garbage", path: "/api/admin/groups", authorization: "Bearer x.y.z", wantStatus: 401,
			wantWWWAuth: `Bearer scope="" error="invalid_token" error_description="the token is not valid"`},
		{name: "expired", path: "/api/admin/groups", authorization: "Bearer " + mint(iss, time.Now().Add(-2*time.Hour)), wantStatus: 401,
			wantWWWAuth: `Bearer scope="" error="invalid_token" error_description="the token has expired"`},
		{name: "wrong audience", path: "/api/admin/groups", authorization: "Bearer " + mint(staffjwt.NewIssuer(key, "kid1", issuer, "other"), time.Now()), wantStatus: 401,
			wantWWWAuth: `Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"`},
		{name: "route without authorizer ignores the header", path: "/", authorization: "Bearer x", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.calls())
			req := newRequest(t, "GET", srv.URL+tt.path, nil)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, body := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			calls := rec.calls()
			if tt.wantStatus == 401 {
				if string(body) != `{"message":"Unauthorized"}` {
					t.Errorf("body = %s", body)
				}
				if got := resp.Header.Get("Www-Authenticate"); got != tt.wantWWWAuth {
					t.Errorf("www-authenticate = %q, want %q", got, tt.wantWWWAuth)
				}
				if len(calls) != before {
					t.Error("function invoked for an unauthorized request")
				}
				return
			}
			ev := calls[len(calls)-1]
			if tt.path == "/" {
				if ev.RequestContext.Authorizer != nil {
					t.Errorf("authorizer = %+v on a public route", ev.RequestContext.Authorizer)
				}
				return
			}
			got := ev.RequestContext.Authorizer.JWT.Claims
			for _, k := range []string{"sub", "custom:store_id", "custom:role"} {
				if got[k] != staff[k] {
					t.Errorf("claim %s = %q, want %q", k, got[k], staff[k])
				}
			}
			if got["iss"] != issuer || got["aud"] != audience || got["exp"] == "" {
				t.Errorf("standard claims = %v", got)
			}
		})
	}
}

func TestNewGatewayErrors(t *testing.T) {
	h := LambdaFunction{Name: "Fn", Handler: rawHandler("{}")}
	auth := map[string]TokenVerifier{"StaffJwt": fakeVerifier(nil)}
	tests := []struct {
		name   string
		routes []Route
	}{
		{"unknown authorizer", []Route{{Method: "GET", Path: "/a", Authorizer: "Other", Function: h}}},
		{"duplicate route", []Route{{Method: "GET", Path: "/a", Function: h}, {Method: "GET", Path: "/a", Function: h}}},
		{"greedy not last", []Route{{Method: "GET", Path: "/{p+}/a", Function: h}}},
		{"unknown method", []Route{{Method: "get", Path: "/a", Function: h}}},
		{"relative path", []Route{{Method: "GET", Path: "a", Function: h}}},
		{"empty segment", []Route{{Method: "GET", Path: "/a//b", Function: h}}},
		{"trailing slash", []Route{{Method: "GET", Path: "/a/", Function: h}}},
		{"partial variable", []Route{{Method: "GET", Path: "/a{b}", Function: h}}},
		{"empty variable", []Route{{Method: "GET", Path: "/{}", Function: h}}},
		{"repeated variable", []Route{{Method: "GET", Path: "/{a}/{a}", Function: h}}},
		{"no handler", []Route{{Method: "GET", Path: "/a", Function: LambdaFunction{Name: "Fn"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewGateway(GatewayConfig{Routes: tt.routes, Authorizers: auth}); err == nil {
				t.Error("NewGateway() accepted a bad configuration")
			}
		})
	}
}

func TestInvoke(t *testing.T) {
	t.Run("lambda context and caller cancellation", func(t *testing.T) {
		var got *lambdacontext.LambdaContext
		var ctxErr error
		fn := LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(func(ctx context.Context) error {
			got, _ = lambdacontext.FromContext(ctx)
			ctxErr = ctx.Err()
			return nil
		})}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the caller gave up; Lambda runs the invocation anyway
		if _, err := invoke(ctx, fn, "arn:fn", []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if got == nil || got.InvokedFunctionArn != "arn:fn" || len(got.AwsRequestID) != 36 {
			t.Errorf("lambda context = %+v", got)
		}
		if ctxErr != nil {
			t.Errorf("handler context error = %v, want nil", ctxErr)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		fn := LambdaFunction{Name: "Fn", Timeout: 10 * time.Millisecond, Handler: lambda.NewHandler(func() error {
			<-release // ignores its context, as a badly behaved handler may
			return nil
		})}
		if _, err := invoke(context.Background(), fn, "arn:fn", []byte("{}")); !errors.Is(err, errTimeout) {
			t.Errorf("invoke() error = %v, want errTimeout", err)
		}
	})
}

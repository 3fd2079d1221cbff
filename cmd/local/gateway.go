package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"yinling/shared/staffjwt"
)

// Defaults for the identity of the local "account": the emulators' usual account id and region.
const (
	defaultAccountID = "000000000000"
	defaultRegion    = "us-east-1"
	defaultAPIID     = "local"
)

// Limits API Gateway HTTP API and Lambda enforce, applied here so that a request or response that
// would fail in AWS fails locally too.
const (
	// maxRequestBody is the HTTP API payload limit.
	maxRequestBody = 10 << 20
	// maxResponsePayload is Lambda's limit on a synchronous invocation's response.
	maxResponsePayload = 6_291_556
	// integrationTimeout is the longest an HTTP API waits for its Lambda integration.
	integrationTimeout = 30 * time.Second
)

// LambdaFunction is one function of template.yaml as the local stack invokes it.
type LambdaFunction struct {
	// Name is the function's name, used in its ARN and in logs (the logical id will do).
	Name string
	// Handler is the function, usually lambda.NewHandler(h.Handle): the same JSON path the
	// Lambda runtime takes, so encoding mistakes show up locally.
	Handler lambda.Handler
	// Timeout is the function's Timeout from the template; zero means no limit.
	Timeout time.Duration
}

// TokenVerifier checks an Authorization header's value (the token, with or without a "Bearer "
// prefix, as the JWT authorizer accepts it) and returns the claims as API Gateway passes them
// on; *staffjwt.Verifier is one.
type TokenVerifier interface {
	Verify(token string, now time.Time) (map[string]string, error)
}

// Route is one HttpApi event of a function.
type Route struct {
	// Method is an HTTP method in upper case, or ANY.
	Method string
	// Path is the route's path template: "/", "/api/admin/groups/{id}", "/static/{proxy+}".
	Path string
	// Authorizer names an entry of GatewayConfig.Authorizers ("StaffJwt"), or is empty.
	Authorizer string
	// Function serves the route.
	Function LambdaFunction
}

// GatewayConfig configures a Gateway.
type GatewayConfig struct {
	Routes []Route
	// Authorizers are the JWT authorizers by name, as template.yaml names them.
	Authorizers map[string]TokenVerifier
	// APIID, AccountID and Region fill requestContext and ARNs; empty ones get local defaults.
	APIID     string
	AccountID string
	Region    string
	// Log receives function errors; nil means slog.Default().
	Log *slog.Logger
}

// Gateway is an http.Handler that does what API Gateway HTTP API does in front of Lambda with
// payload format 2.0: it picks the most specific route, runs the route's JWT authorizer, builds
// the event as AWS does, invokes the function and turns its response into the HTTP response,
// answering with API Gateway's own error bodies where AWS would.
type Gateway struct {
	routes    []*route
	apiID     string
	accountID string
	region    string
	log       *slog.Logger
	// now and timeout are fields so that tests can pin the clock and shorten the wait.
	now     func() time.Time
	timeout time.Duration
}

var _ TokenVerifier = (*staffjwt.Verifier)(nil)

// NewGateway checks the routes (valid templates, known authorizers, no duplicate route keys)
// and returns a Gateway serving them.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	g := &Gateway{
		apiID:     orDefault(cfg.APIID, defaultAPIID),
		accountID: orDefault(cfg.AccountID, defaultAccountID),
		region:    orDefault(cfg.Region, defaultRegion),
		log:       cfg.Log,
		now:       time.Now,
		timeout:   integrationTimeout,
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	seen := map[string]bool{}
	for _, r := range cfg.Routes {
		rt, err := compileRoute(r)
		if err != nil {
			return nil, err
		}
		if seen[rt.key] {
			return nil, fmt.Errorf("route %s: defined twice", rt.key)
		}
		seen[rt.key] = true
		if r.Authorizer != "" {
			v := cfg.Authorizers[r.Authorizer]
			if v == nil {
				return nil, fmt.Errorf("route %s: unknown authorizer %q", rt.key, r.Authorizer)
			}
			rt.verifier = v
		}
		if r.Function.Handler == nil {
			return nil, fmt.Errorf("route %s: function %q has no handler", rt.key, r.Function.Name)
		}
		rt.arn = functionARN(g.region, g.accountID, r.Function.Name)
		g.routes = append(g.routes, rt)
	}
	return g, nil
}

// segKind orders path segments by specificity: API Gateway prefers a literal segment to a path
// variable, and a path variable to a greedy one.
type segKind int

const (
	segLiteral segKind = iota
	segParam
	segGreedy
)

type segment struct {
	kind segKind
	text string // the literal, or the variable's name
}

type route struct {
	Route
	key      string // the routeKey: "GET /api/admin/groups/{id}"
	segs     []segment
	verifier TokenVerifier
	arn      string
}

var methods = map[string]bool{
	"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "ANY": true,
}

func compileRoute(r Route) (*route, error) {
	key := r.Method + " " + r.Path
	if !methods[r.Method] {
		return nil, fmt.Errorf("route %s: unsupported method", key)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, fmt.Errorf("route %s: path must start with /", key)
	}
	rt := &route{Route: r, key: key}
	names := map[string]bool{}
	parts := splitPath(r.Path)
	for i, s := range parts {
		seg := segment{kind: segLiteral, text: s}
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			seg.kind, seg.text = segParam, s[1:len(s)-1]
			if name, ok := strings.CutSuffix(seg.text, "+"); ok {
				seg.kind, seg.text = segGreedy, name
			}
			if seg.text == "" || strings.ContainsAny(seg.text, "{}+/") || names[seg.text] {
				return nil, fmt.Errorf("route %s: bad path variable %q", key, s)
			}
			names[seg.text] = true
		} else if s == "" || strings.ContainsAny(s, "{}") {
			return nil, fmt.Errorf("route %s: bad path segment %q", key, s)
		}
		if seg.kind == segGreedy && i != len(parts)-1 {
			return nil, fmt.Errorf("route %s: a greedy path variable must be last", key)
		}
		rt.segs = append(rt.segs, seg)
	}
	return rt, nil
}

// splitPath returns the segments of a path; "/" has none.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the path variables if rt matches the request's decoded path segments.
func (rt *route) match(segs []string) (map[string]string, bool) {
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range rt.segs {
		if i >= len(segs) {
			return nil, false
		}
		switch s.kind {
		case segLiteral:
			if segs[i] != s.text {
				return nil, false
			}
		case segParam:
			if segs[i] == "" {
				return nil, false
			}
			set(s.text, segs[i])
		case segGreedy:
			rest := strings.Join(segs[i:], "/")
			if rest == "" {
				return nil, false
			}
			set(s.text, rest)
			return params, true
		}
	}
	return params, len(segs) == len(rt.segs)
}

// moreSpecific reports whether a beats b for a request both match: at the first segment where
// they differ the more specific kind wins; on equal paths a named method beats ANY.
func moreSpecific(a, b *route) bool {
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind < b.segs[i].kind
		}
	}
	return a.Method != "ANY" && b.Method == "ANY"
}

func (g *Gateway) lookup(method string, segs []string) (*route, map[string]string) {
	var best *route
	var bestParams map[string]string
	for _, rt := range g.routes {
		if rt.Method != method && rt.Method != "ANY" {
			continue
		}
		params, ok := rt.match(segs)
		if ok && (best == nil || moreSpecific(rt, best)) {
			best, bestParams = rt, params
		}
	}
	return best, bestParams
}

// decodedSegments splits the escaped path and decodes each segment, so "%2F" stays inside its
// path variable as API Gateway keeps it.
func decodedSegments(escaped string) []string {
	segs := splitPath(escaped)
	for i, s := range segs {
		if d, err := url.PathUnescape(s); err == nil {
			segs[i] = d
		}
	}
	return segs
}

// ServeHTTP serves one request the way API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := g.now()
	requestID := newAPIGatewayRequestID()
	w.Header().Set("Apigw-Requestid", requestID)

	rt, params := g.lookup(r.Method, decodedSegments(r.URL.EscapedPath()))
	if rt == nil {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.ContentLength > maxRequestBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}

	var claims map[string]string
	if rt.verifier != nil {
		token := r.Header.Get("Authorization")
		if token == "" {
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		if claims, err = rt.verifier.Verify(token, now); err != nil {
			w.Header().Set("Www-Authenticate", `Bearer scope="" error="invalid_token" error_description="`+tokenErrorDescription(err)+`"`)
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
	}

	ev := g.event(r, rt, params, body, claims, now, requestID)
	payload, err := json.Marshal(ev)
	if err != nil {
		g.log.Error("encode API Gateway event", "route", rt.key, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}

	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := invoke(r.Context(), rt.Function, rt.arn, payload)
		done <- result{out, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(g.timeout):
		// As in AWS, the function runs on; only the caller stops waiting.
		g.log.Error("integration timeout", "route", rt.key, "function", rt.Function.Name, "after", g.timeout)
		writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if res.err != nil {
		g.log.Error("function error", "route", rt.key, "function", rt.Function.Name, "err", res.err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResponse(w, res.out); err != nil {
		g.log.Error("bad function response", "route", rt.key, "function", rt.Function.Name, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// event builds the payload format 2.0 event for r as API Gateway does.
func (g *Gateway) event(r *http.Request, rt *route, params map[string]string, body []byte, claims map[string]string, now time.Time, requestID string) events.APIGatewayV2HTTPRequest {
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers, cookies := eventHeaders(r, sourceIP)
	if len(body) > 0 {
		// API Gateway reads the whole body first, so even a chunked request arrives with a length.
		headers["content-length"] = strconv.Itoa(len(body))
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.key,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.key,
			AccountID:    g.accountID,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        g.apiID,
			DomainName:   hostOnly(r.Host),
			DomainPrefix: strings.SplitN(hostOnly(r.Host), ".", 2)[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if claims != nil {
		jwt := &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}
		if s := claims["scope"]; s != "" {
			jwt.Scopes = strings.Fields(s)
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: jwt}
	}
	if len(body) > 0 {
		if textual(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// eventHeaders lowercases header names, joins repeated values with commas, moves cookies to
// their own list and adds the headers API Gateway adds (host, x-forwarded-*, x-amzn-trace-id).
func eventHeaders(r *http.Request, sourceIP string) (map[string]string, []string) {
	headers := make(map[string]string, len(r.Header)+5)
	var cookies []string
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[name] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	headers["x-forwarded-proto"] = proto
	headers["x-forwarded-port"] = port
	headers["x-amzn-trace-id"] = newTraceID()
	return headers, cookies
}

// queryParameters decodes the query string, joining repeated keys' values with commas as
// payload format 2.0 does; nil when there is no query, as AWS omits the field.
func queryParameters(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	params := map[string]string{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if old, ok := params[k]; ok {
			v = old + "," + v
		}
		params[k] = v
	}
	if len(params) == 0 {
		return nil
	}
	return params
}

// queryUnescape decodes one query key or value; an invalid escape is passed on as sent.
func queryUnescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// textual reports whether API Gateway passes a body of this content type as text; everything
// else, a missing type and form posts included, arrives base64-encoded.
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript":
		return true
	}
	return strings.HasPrefix(mt, "text/")
}

// writeResponse turns a payload format 2.0 response into the HTTP response.
func writeResponse(w http.ResponseWriter, out []byte) error {
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("status code %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("decode base64 body: %w", err)
		}
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		// API Gateway does not sniff a content type; neither should net/http.
		h["Content-Type"] = nil
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// writeMessage writes one of API Gateway's own error responses.
func writeMessage(w http.ResponseWriter, status int, message string) {
	b, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// tokenErrorDescription is the www-authenticate error_description for a refused token, worded
// as API Gateway words it.
func tokenErrorDescription(err error) string {
	switch {
	case errors.Is(err, staffjwt.ErrExpired):
		return "the token has expired"
	case errors.Is(err, staffjwt.ErrAudience):
		return "the token does not have a valid audience"
	case errors.Is(err, staffjwt.ErrIssuer):
		return "the token does not have a valid issuer"
	default:
		return "the token is not valid"
	}
}

// errTimeout is Lambda's "Task timed out": the function ran past its Timeout.
var errTimeout = errors.New("task timed out")

// invoke calls fn with payload as the Lambda service does: with a LambdaContext carrying a new
// request id and the function's ARN, a deadline of the function's Timeout, and a context that
// the caller's cancellation does not reach (Lambda finishes an invocation its client gave up
// on). A panic becomes an error, and so does a response over Lambda's payload limit. On
// timeout the caller gets errTimeout at once; the handler's goroutine ends when it notices its
// context.
func invoke(ctx context.Context, fn LambdaFunction, arn string, payload []byte) ([]byte, error) {
	ctx = lambdacontext.NewContext(context.WithoutCancel(ctx), &lambdacontext.LambdaContext{
		AwsRequestID:       newUUID(),
		InvokedFunctionArn: arn,
	})
	if fn.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, fn.Timeout)
		defer cancel() // after the handler returned, or after its deadline passed anyway
	}
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
			}
		}()
		out, err := fn.Handler.Invoke(ctx, payload)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		if r.err == nil && len(r.out) > maxResponsePayload {
			return nil, fmt.Errorf("response payload of %d bytes exceeds %d", len(r.out), maxResponsePayload)
		}
		return r.out, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w after %s", fn.Name, errTimeout, fn.Timeout)
	}
}

func functionARN(region, account, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// newAPIGatewayRequestID returns an id shaped like API Gateway's ("Mc7UVioPPHcEKPA=").
func newAPIGatewayRequestID() string {
	return base64.StdEncoding.EncodeToString(randomBytes(11))
}

// newTraceID returns an X-Ray trace header value, as API Gateway adds to every request.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s", time.Now().Unix(), hex.EncodeToString(randomBytes(12)))
}

// newUUID returns a random (version 4) UUID, the form of Lambda request ids and event ids.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

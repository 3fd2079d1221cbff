package fuzz

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"yinling/shared/apigw"
	"yinling/shared/apispec"
	"yinling/shared/sam"
	"yinling/shared/tenant"
)

// One target per HTTP function: the fuzzer picks one of the function's routes of template.yaml
// (route, modulo their number), and mutates its JSON body, its path parameters ("/"-separated,
// in the order of the path; "" keeps the sample's) and its query string ("" keeps the sample's).
// A staff route carries a valid staff authorizer context (manager picks the role), any other a
// session cookie the fake endpoint knows, and a {token} of a family link one it knows too, so
// the input reaches the decoders behind the credentials.
//
// Every answer must be one the API can give: no panic, a status below 500, an error envelope
// with a code on every refusal, an answer the OpenAPI document allows, and the capability
// headers under a capability link.

func FuzzAdminRoutes(f *testing.F)      { fuzzRoutes(f, "admin") }
func FuzzPromotionsRoutes(f *testing.F) { fuzzRoutes(f, "promotions") }
func FuzzQARoutes(f *testing.F)         { fuzzRoutes(f, "qa") }
func FuzzRemindersRoutes(f *testing.F)  { fuzzRoutes(f, "reminders") }
func FuzzSignupRoutes(f *testing.F)     { fuzzRoutes(f, "signup") }
func FuzzWebRoutes(f *testing.F)        { fuzzRoutes(f, "web") }

// Tokens of the right shape for each kind of capability parameter, and an id for the rest: what
// a sample's REPLACED_BY_TEST becomes.
const (
	familyToken = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 43 base64url characters: a session or family token
	linkToken   = "AAAAAAAAAAAAAAAAAAAAAA"                      // 22: a reminder's or a booking's page
	offerToken  = "aaaaaaaaaaaaaaaaaaaa"                        // 20: an offer page
	anyID       = "01JDQ7Z6W3V8G0X5Y4K2M9N1PA"
)

// routeCase is one route of the template with the request its fuzz inputs start from.
type routeCase struct {
	route  sam.Route
	params []string
	base   events.APIGatewayV2HTTPRequest
}

var paramRE = regexp.MustCompile(`\{([^}]+)\}`)

// routeCases returns the function's routes in template order, each with its plainest sample
// event (the shortest file name: "create-group", not "create-group-bad-rule") or, when it has
// none, a bare request; and the samples' staff claims.
func routeCases(t testing.TB, function string, f sam.Function) ([]routeCase, map[string]string) {
	t.Helper()
	all := samples(t, function)
	var claims map[string]string
	for _, name := range slices.Sorted(maps.Keys(all)) {
		ev := all[name]
		if a := ev.RequestContext.Authorizer; claims == nil && a != nil && a.JWT != nil && tenant.Role(a.JWT.Claims[tenant.ClaimRole]).Valid() {
			claims = a.JWT.Claims
		}
	}
	var out []routeCase
	for _, r := range f.Routes {
		rc := routeCase{route: r}
		for _, m := range paramRE.FindAllStringSubmatch(r.Path, -1) {
			rc.params = append(rc.params, m[1])
		}
		best := ""
		for name, ev := range all {
			if ev.RouteKey == r.Key() && (best == "" || len(name) < len(best) || len(name) == len(best) && name < best) {
				best, rc.base = name, ev
			}
		}
		if best == "" {
			rc.base = events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: r.Key(),
				Headers: map[string]string{"accept-language": "zh-CN", "content-type": "application/json"}}
			rc.base.RequestContext.HTTP = events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, SourceIP: "203.0.113.9"}
		}
		out = append(out, rc)
	}
	if claims == nil {
		claims = map[string]string{tenant.ClaimSubject: "staff-1", tenant.ClaimStoreID: fakeStore, tenant.ClaimRole: string(tenant.RoleStaff)}
	}
	return out, claims
}

// defaultParam is a path parameter's value when the input keeps the sample's.
func (rc routeCase) defaultParam(name string) string {
	if v := rc.base.PathParameters[name]; v != "" && v != "REPLACED_BY_TEST" {
		return v
	}
	switch {
	case name == "token" && (strings.Contains(rc.route.Path, "/family/") || strings.HasPrefix(rc.route.Path, "/f/")):
		return familyToken
	case name == "token" && (strings.HasPrefix(rc.route.Path, "/api/o/") || strings.HasPrefix(rc.route.Path, "/o/")):
		return offerToken
	case name == "token":
		return linkToken
	case name == "file" || name == "proxy+":
		return "app.css"
	}
	return anyID
}

// request builds the route's request from one fuzz input.
func (rc routeCase) request(claims map[string]string, manager bool, body, params, query string) events.APIGatewayV2HTTPRequest {
	req := rc.base
	req.Headers = maps.Clone(req.Headers)
	delete(req.Headers, "authorization")
	req.RequestContext.RequestID = "fuzz"
	req.Body, req.IsBase64Encoded = body, false

	values := map[string]string{}
	given := strings.Split(params, "/")
	path := rc.route.Path
	for i, name := range rc.params {
		v := rc.defaultParam(name)
		if params != "" && i < len(given) {
			v = given[i]
		}
		values[strings.TrimSuffix(name, "+")] = v
		path = strings.Replace(path, "{"+name+"}", url.PathEscape(v), 1)
	}
	if len(values) == 0 {
		values = nil
	}
	req.PathParameters = values
	req.RawPath, req.RequestContext.HTTP.Path = path, path
	req.RequestContext.HTTP.Method = rc.route.Method

	if query != "" {
		// API Gateway passes the raw string and a map of its parameters, repeated ones joined
		// with commas; it decodes what it can of a malformed one, as ParseQuery does.
		q, _ := url.ParseQuery(query)
		req.RawQueryString, req.QueryStringParameters = query, nil
		for k, vs := range q {
			if req.QueryStringParameters == nil {
				req.QueryStringParameters = map[string]string{}
			}
			req.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}

	if rc.route.Authorizer != "" {
		c := maps.Clone(claims)
		if manager {
			c[tenant.ClaimRole] = string(tenant.RoleManager)
		}
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c}}
		req.Cookies = nil
	} else {
		req.RequestContext.Authorizer = nil
		req.Cookies = []string{"yl_session=" + familyToken}
	}
	return req
}

// contract is the OpenAPI document, loaded once per process.
var contract = sync.OnceValues(apispec.Load)

// capabilityPrefixes are the routes served under a capability link.
var capabilityPrefixes = []string{"/api/family/", "/api/b/", "/api/r/", "/api/o/"}

func fuzzRoutes(f *testing.F, name string) {
	fn := function(f, name)
	cases, claims := routeCases(f, name, fn)
	if len(cases) == 0 {
		f.Fatalf("%s has no routes", name)
	}
	index := map[string]int{}
	for i, rc := range cases {
		index[rc.route.Key()] = i
		f.Add(uint8(i), false, rc.base.Body, "", rc.base.RawQueryString)
	}
	for _, ev := range samples(f, name) {
		if i, ok := index[ev.RouteKey]; ok && ev.Body != cases[i].base.Body {
			f.Add(uint8(i), false, ev.Body, "", ev.RawQueryString)
		}
	}
	f.Add(uint8(0), true, `{"":`, "../..", "limit=0&cursor=%ZZ")
	f.Add(uint8(1), false, "null", strings.Repeat("x", 300), "limit=99999999999999999999")
	f.Add(uint8(2), true, "[]", "%00", "cursor=eyJQSyI6IlNUT1JFI3MtdGVzdCIsIlNLIjoiR1JPVVAjeCJ9")

	spec, err := contract()
	if err != nil {
		f.Fatal(err)
	}
	documented := map[string]bool{}
	for _, k := range spec.Routes() {
		documented[k] = true
	}
	logs := &logRecorder{}
	h := build(f, httpFunctions, name, logs.logger())
	invoke := lambda.NewHandler(h.Handle)

	f.Fuzz(func(t *testing.T, route uint8, manager bool, body, params, query string) {
		rc := cases[int(route)%len(cases)]
		req := rc.request(claims, manager, body, params, query)
		payload, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		logs.reset()
		out, err := invoke.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("%s: Invoke: %v", rc.route.Key(), err)
		}
		var resp apigw.Response
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: answer is not a response: %v", rc.route.Key(), err)
		}
		key := rc.route.Key()
		if line := logs.find(`msg="handler panic"`); line != "" {
			t.Fatalf("%s: the handler panicked:\n%s\nrequest: %s", key, line, payload)
		}
		if resp.StatusCode < 200 || resp.StatusCode >= 500 {
			t.Fatalf("%s: status %d\nbody: %s\nlog:\n%s\nrequest: %s", key, resp.StatusCode, resp.Body, logs, payload)
		}
		// A refusal is held to the OpenAPI document whole. A success only to its status and
		// media type: the fake accepts a write to an item that is not there and then returns
		// no attributes, so a success's body is made of nothing (an empty group's id).
		if documented[key] {
			err := spec.CheckResponse(key, resp.StatusCode, resp.Headers["content-type"], []byte(resp.Body))
			if err != nil && (resp.StatusCode >= 400 || errors.Is(err, apispec.ErrUndeclaredStatus) || errors.Is(err, apispec.ErrContentType)) {
				t.Fatalf("%s: answer breaks the OpenAPI contract: %v\nrequest: %s", key, err, payload)
			}
		}
		if resp.StatusCode >= 400 && strings.HasPrefix(rc.route.Path, "/api/") {
			var e apigw.ErrorBody
			if err := json.Unmarshal([]byte(resp.Body), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s: %d without an error envelope: %s", key, resp.StatusCode, resp.Body)
			}
		}
		for _, p := range capabilityPrefixes {
			if strings.HasPrefix(rc.route.Path, p) &&
				(resp.Headers["referrer-policy"] != "no-referrer" || !strings.Contains(resp.Headers["x-robots-tag"], "noindex")) {
				t.Fatalf("%s %d: capability headers missing: %v", key, resp.StatusCode, resp.Headers)
			}
		}
	})
}

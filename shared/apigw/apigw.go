// Package apigw adapts API Gateway HTTP API (payload 2.0) events to Yinling's HTTP conventions:
// routing by route key, JSON bodies with a 64 KiB cap, the error envelope with messages in the
// caller's language, request ids, and the staff identity the JWT authorizer put in the context.
package apigw

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/fail"
	"yinling/shared/i18n"
)

// Request and Response are the HTTP API payload 2.0 event shapes.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// HandlerFunc serves one route. A returned *fail.Error becomes a 4xx envelope; any other error is
// logged and becomes a 500 that tells the caller nothing about the cause.
type HandlerFunc func(ctx context.Context, r *Request) (Response, error)

// Mux dispatches on the route key API Gateway matched ("GET /api/admin/groups/{id}"), so the
// routes live in template.yaml and nowhere else is a path parsed.
type Mux struct {
	log    *slog.Logger
	routes map[string]HandlerFunc
}

// NewMux returns an empty Mux that logs through log.
func NewMux(log *slog.Logger) *Mux {
	return &Mux{log: log, routes: map[string]HandlerFunc{}}
}

// Route registers fn for routeKey ("METHOD /path/{param}"). Registering a key twice is a
// programming error.
func (m *Mux) Route(routeKey string, fn HandlerFunc) {
	if _, dup := m.routes[routeKey]; dup {
		panic("apigw: route registered twice: " + routeKey)
	}
	m.routes[routeKey] = fn
}

// Routes returns the registered route keys, sorted; the template test holds them to template.yaml.
func (m *Mux) Routes() []string {
	keys := make([]string, 0, len(m.routes))
	for k := range m.routes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Handle is the Lambda entry point. It never returns an error: API Gateway would turn one into a
// bare 500 without our envelope.
func (m *Mux) Handle(ctx context.Context, req Request) (resp Response, _ error) {
	log := m.log.With("request_id", req.RequestContext.RequestID, "route", req.RouteKey)
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "handler panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = errorResponse(&req, &fail.Error{Code: "internal"}, http.StatusInternalServerError)
		}
		if resp.Headers == nil {
			resp.Headers = map[string]string{}
		}
		resp.Headers["x-request-id"] = req.RequestContext.RequestID
	}()
	fn, ok := m.routes[req.RouteKey]
	if !ok {
		return errorResponse(&req, &fail.Error{Kind: fail.NotFound, Code: "route_not_found"}, http.StatusNotFound), nil
	}
	resp, err := fn(ctx, &req)
	if err == nil {
		return resp, nil
	}
	if fe, ok := fail.As(err); ok {
		log.InfoContext(ctx, "request refused", "error_code", fe.Code, "field", fe.Field)
		return errorResponse(&req, fe, Status(fe.Kind)), nil
	}
	log.ErrorContext(ctx, "request failed", "err", err)
	return errorResponse(&req, &fail.Error{Code: "internal"}, http.StatusInternalServerError), nil
}

// Status maps an error kind to its HTTP status.
func Status(k fail.Kind) int {
	switch k {
	case fail.Invalid:
		return http.StatusBadRequest
	case fail.Unauthenticated:
		return http.StatusUnauthorized
	case fail.Forbidden:
		return http.StatusForbidden
	case fail.NotFound:
		return http.StatusNotFound
	case fail.Conflict:
		return http.StatusConflict
	case fail.TooLarge:
		return http.StatusRequestEntityTooLarge
	case fail.RateLimited:
		return http.StatusTooManyRequests
	case fail.Unsupported:
		return http.StatusUnsupportedMediaType
	case fail.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorBody is the error envelope: {"error":{"code","message","field"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of the envelope.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func errorResponse(r *Request, fe *fail.Error, status int) Response {
	lang := Lang(r)
	msg := i18n.T(lang, "error."+fe.Code)
	return JSON(status, ErrorBody{Error: ErrorDetail{Code: fe.Code, Message: msg, Field: fe.Field}})
}

// JSON renders v as the response body. API responses are personal: never cached.
func JSON(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unmarshalable type) gets here.
		panic(fmt.Sprintf("apigw: marshal %T: %v", v, err))
	}
	return Response{
		StatusCode: status,
		Headers: map[string]string{
			"content-type":           "application/json; charset=utf-8",
			"cache-control":          "no-store",
			"x-content-type-options": "nosniff",
		},
		Body: string(b),
	}
}

// NoContent is a 204.
func NoContent() Response {
	return Response{StatusCode: http.StatusNoContent, Headers: map[string]string{"cache-control": "no-store"}}
}

// Lang is the caller's language from Accept-Language (HTTP API lowercases header names).
func Lang(r *Request) i18n.Lang {
	return i18n.FromAcceptLanguage(Header(r, "accept-language"))
}

// Header returns a request header by name: API Gateway lowercases names, but a hand-written
// event or another gateway may not.
func Header(r *Request, name string) string {
	if v, ok := r.Headers[name]; ok {
		return v
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// CapabilityHeaders returns resp with the headers every answer about a capability link (a family
// link, a booking, reminder or offer page token) carries: the token stays out of Referer headers
// and search indexes.
func CapabilityHeaders(resp Response) Response {
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["referrer-policy"] = "no-referrer"
	resp.Headers["x-robots-tag"] = "noindex, nofollow"
	return resp
}

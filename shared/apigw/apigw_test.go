package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/fail"
	"yinling/shared/tenant"
)

func TestMuxMapsErrorsToEnvelopes(t *testing.T) {
	var logs bytes.Buffer
	m := NewMux(slog.New(slog.NewJSONHandler(&logs, nil)))
	m.Route("GET /ok", func(ctx context.Context, r *Request) (Response, error) {
		return JSON(200, map[string]string{"hello": "世界"}), nil
	})
	m.Route("GET /refused", func(ctx context.Context, r *Request) (Response, error) {
		return Response{}, &fail.Error{Kind: fail.Conflict, Code: "not_found", Field: "x"}
	})
	m.Route("GET /broken", func(ctx context.Context, r *Request) (Response, error) {
		return Response{}, errors.New("dynamodb: secret table detail")
	})
	m.Route("GET /panics", func(ctx context.Context, r *Request) (Response, error) {
		panic("nil map")
	})
	tests := []struct {
		route, lang string
		status      int
		body        string
	}{
		{"GET /ok", "", 200, `{"hello":"世界"}`},
		{"GET /refused", "en", 409, `{"error":{"code":"not_found","message":"We could not find what you asked for.","field":"x"}}`},
		{"GET /broken", "zh-CN", 500, `{"error":{"code":"internal","message":"系统开小差了，请稍后再试。"}}`},
		{"GET /panics", "en", 500, `{"error":{"code":"internal","message":"Something went wrong on our side. Please try again in a moment."}}`},
		{"GET /nowhere", "en", 404, `{"error":{"code":"route_not_found","message":"There is no such address."}}`},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			req := Request{RouteKey: tt.route, Headers: map[string]string{"accept-language": tt.lang}}
			req.RequestContext.RequestID = "req-1"
			resp, err := m.Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if diff := cmp.Diff(tt.body, resp.Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if resp.Headers["x-request-id"] != "req-1" {
				t.Errorf("x-request-id = %q", resp.Headers["x-request-id"])
			}
		})
	}
	if !strings.Contains(logs.String(), "secret table detail") {
		t.Errorf("internal error was not logged")
	}
}

func TestDecode(t *testing.T) {
	type target struct {
		Name string `json:"name"`
		Cap  *int   `json:"cap"`
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(`{"name":"晨练"}`))
	tests := []struct {
		name    string
		req     Request
		want    target
		wantErr error
	}{
		{"ok", Request{Body: `{"name":"晨练","cap":2}`}, target{Name: "晨练", Cap: ptr(2)}, nil},
		{"base64", Request{Body: b64, IsBase64Encoded: true}, target{Name: "晨练"}, nil},
		{"json+charset", Request{Body: `{}`, Headers: map[string]string{"content-type": "application/json; charset=utf-8"}}, target{}, nil},
		{"empty", Request{Body: "  "}, target{}, ErrBodyRequired},
		{"form", Request{Body: `name=x`, Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}}, target{}, ErrUnsupportedMT},
		{"malformed", Request{Body: `{"name":`}, target{}, ErrInvalidJSON},
		{"trailing", Request{Body: `{"name":"a"} {"name":"b"}`}, target{Name: "a"}, ErrInvalidJSON},
		{"array", Request{Body: `[1]`}, target{}, ErrInvalidJSON},
		{"unknown", Request{Body: `{"nme":"a"}`}, target{}, ErrUnknownField},
		{"type", Request{Body: `{"cap":"2"}`}, target{}, ErrInvalidType},
		{"bad base64", Request{Body: "%%%", IsBase64Encoded: true}, target{}, ErrInvalidJSON},
		{"too large", Request{Body: `{"name":"` + strings.Repeat("x", MaxBody) + `"}`}, target{}, ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got target
			err := Decode(&tt.req, &got)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return // what a refused body left in the target is never used
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeNamesTheField(t *testing.T) {
	var v struct {
		Cap int `json:"cap"`
	}
	for body, field := range map[string]string{`{"cap":"x"}`: "cap", `{"storeId":"s2"}`: "storeId"} {
		err := Decode(&Request{Body: body}, &v)
		fe, ok := fail.As(err)
		if !ok || fe.Field != field {
			t.Errorf("Decode(%s) = %v, want an error on field %q", body, err, field)
		}
	}
}

func TestLimit(t *testing.T) {
	for q, want := range map[string]int{"": 50, "1": 1, "100": 100, "0": -1, "101": -1, "x": -1, "-3": -1} {
		r := Request{QueryStringParameters: map[string]string{"limit": q}}
		got, err := Limit(&r, 50, 100)
		if want < 0 {
			if !errors.Is(err, ErrInvalidLimit) {
				t.Errorf("Limit(%q) error = %v, want ErrInvalidLimit", q, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("Limit(%q) = %d, %v; want %d", q, got, err, want)
		}
	}
}

func TestStaff(t *testing.T) {
	withClaims := func(c map[string]string) *Request {
		r := &Request{}
		r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c},
		}
		return r
	}
	good := map[string]string{"sub": "u1", "custom:store_id": "s1", "custom:role": "manager", "name": "王"}
	tests := []struct {
		name    string
		req     *Request
		want    tenant.Staff
		wantErr error
	}{
		{"valid", withClaims(good), tenant.Staff{ID: "u1", StoreID: "s1", Role: tenant.RoleManager, Name: "王"}, nil},
		{"no authorizer", &Request{}, tenant.Staff{}, fail.ErrUnauthorized},
		{"no store", withClaims(map[string]string{"sub": "u1", "custom:role": "staff"}), tenant.Staff{}, fail.ErrUnauthorized},
		{"store with separator", withClaims(map[string]string{"sub": "u1", "custom:store_id": "s1#GROUP", "custom:role": "staff"}), tenant.Staff{}, fail.ErrUnauthorized},
		{"unknown role", withClaims(map[string]string{"sub": "u1", "custom:store_id": "s1", "custom:role": "owner"}), tenant.Staff{}, fail.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Staff(tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Staff() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Staff() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	for k, ok := range map[string]bool{"": true, "6f1c2a8e-3d4b-4c7a-9e10-2b5f7d8c9a01": true, "a:b.c_d": true,
		strings.Repeat("k", 65): false, "has space": false, "中文": false} {
		_, _, err := IdempotencyKey(&Request{Headers: map[string]string{"idempotency-key": k}})
		if (err == nil) != ok {
			t.Errorf("IdempotencyKey(%q) error = %v, want ok=%v", k, err, ok)
		}
	}
}

func TestJSONHeaders(t *testing.T) {
	resp := JSON(201, map[string]int{"n": 1})
	want := map[string]string{"content-type": "application/json; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff"}
	if diff := cmp.Diff(want, resp.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	var v map[string]int
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil || v["n"] != 1 {
		t.Errorf("body = %q", resp.Body)
	}
}

func ptr[T any](v T) *T { return &v }

func TestIdempotencyHashesTheBody(t *testing.T) {
	key := map[string]string{"idempotency-key": "k1"}
	k, a, _ := IdempotencyKey(&Request{Headers: key, Body: `{"name":"a"}`})
	_, b, _ := IdempotencyKey(&Request{Headers: key, Body: `{"name":"b"}`})
	_, a2, _ := IdempotencyKey(&Request{Headers: key, Body: `{"name":"a"}`})
	if k != "k1" || a == b || a != a2 {
		t.Errorf("IdempotencyKey: key %q, hashes a=%s b=%s a2=%s", k, a, b, a2)
	}
}

func TestCookieAndBearer(t *testing.T) {
	r := &Request{Cookies: []string{"a=1", " yl_session = tok ", "b=2=3"}, Headers: map[string]string{"authorization": "Bearer  abc "}}
	for name, want := range map[string]string{"a": "1", "yl_session": "tok", "b": "2=3", "c": ""} {
		if got := Cookie(r, name); got != want {
			t.Errorf("Cookie(%q) = %q, want %q", name, got, want)
		}
	}
	if got := BearerToken(r); got != "abc" {
		t.Errorf("BearerToken = %q", got)
	}
	if got := BearerToken(&Request{Headers: map[string]string{"authorization": "Basic x"}}); got != "" {
		t.Errorf("BearerToken(Basic) = %q", got)
	}
}

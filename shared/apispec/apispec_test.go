package apispec

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t *testing.T) *Spec {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	return s
}

func TestLoadParsesOnce(t *testing.T) {
	a, b := mustLoad(t), mustLoad(t)
	if a != b {
		t.Error("Load() returned two different specs; want the document parsed once")
	}
}

// TestEveryRefResolves walks the whole document, not only the parts Load compiles, so a $ref in
// a part nothing validates yet (an example, a parameter) cannot dangle either.
func TestEveryRefResolves(t *testing.T) {
	doc, err := decodeYAML(document)
	if err != nil {
		t.Fatal(err)
	}
	refs := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs++
				if !strings.HasPrefix(ref, "#/") || lookup(doc, ref[1:]) == nil {
					t.Errorf("%s: $ref %q does not resolve", at, ref)
				}
			}
			for k, e := range v {
				walk(e, at+"/"+escape(k))
			}
		case []any:
			for i, e := range v {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "")
	if refs < 50 {
		t.Errorf("found %d $refs; the walk is missing most of the document", refs)
	}
}

func TestRoutes(t *testing.T) {
	want := []string{
		"DELETE /api/admin/members/{id}/reminders/{rid}",
		"DELETE /api/family/{token}/bookings/{sessionId}",
		"DELETE /api/family/{token}/reminders/{id}",
		"DELETE /api/me",
		"DELETE /api/me/family-links/{id}",
		"DELETE /api/me/reminders/{id}",
		"DELETE /api/sessions/{id}/bookings/me",
		"GET /",
		"GET /admin",
		"GET /admin/campaigns",
		"GET /admin/reminders",
		"GET /admin/sessions",
		"GET /admin/sessions/digest",
		"GET /api/admin/alerts",
		"GET /api/admin/broadcasts/{id}",
		"GET /api/admin/campaigns",
		"GET /api/admin/campaigns/{id}",
		"GET /api/admin/doctors",
		"GET /api/admin/groups",
		"GET /api/admin/groups/{id}",
		"GET /api/admin/members",
		"GET /api/admin/members/export",
		"GET /api/admin/members/{id}",
		"GET /api/admin/members/{id}/reminders",
		"GET /api/admin/metrics",
		"GET /api/admin/outbox",
		"GET /api/admin/queues",
		"GET /api/admin/reminders/{id}/deliveries",
		"GET /api/admin/sessions",
		"GET /api/admin/sessions/{id}",
		"GET /api/b/{token}",
		"GET /api/family/{token}",
		"GET /api/family/{token}/bookings",
		"GET /api/family/{token}/reminders",
		"GET /api/family/{token}/sessions",
		"GET /api/join/{code}",
		"GET /api/me",
		"GET /api/me/bookings",
		"GET /api/me/export",
		"GET /api/me/reminders",
		"GET /api/o/{token}",
		"GET /api/r/{token}",
		"GET /api/sessions",
		"GET /api/sessions/{id}",
		"GET /b/{token}",
		"GET /f/{token}",
		"GET /join/{code}",
		"GET /me",
		"GET /o/{token}",
		"GET /r/{token}",
		"GET /sessions",
		"GET /static/{file}",
		"PATCH /api/admin/groups/{id}",
		"PATCH /api/admin/members/{id}",
		"PATCH /api/admin/members/{id}/reminders/{rid}",
		"PATCH /api/admin/sessions/{id}",
		"PATCH /api/admin/sessions/{id}/bookings/{memberId}",
		"PATCH /api/family/{token}/reminders/{id}",
		"PATCH /api/me",
		"PATCH /api/me/reminders/{id}",
		"POST /api/admin/campaigns",
		"POST /api/admin/campaigns/{id}/cancel",
		"POST /api/admin/doctors",
		"POST /api/admin/groups",
		"POST /api/admin/groups/{id}/invites",
		"POST /api/admin/groups/{id}/reminders",
		"POST /api/admin/members/{id}/family-links",
		"POST /api/admin/members/{id}/reminders",
		"POST /api/admin/sessions",
		"POST /api/admin/sessions/{id}/cancel",
		"POST /api/admin/voice-uploads",
		"POST /api/b/{token}/cancel",
		"POST /api/family/{token}/bookings",
		"POST /api/family/{token}/reminders",
		"POST /api/family/{token}/voice-uploads",
		"POST /api/me/family-links",
		"POST /api/me/referral",
		"POST /api/me/reminders",
		"POST /api/me/voice-uploads",
		"POST /api/o/{token}/unsubscribe",
		"POST /api/r/{token}/ack",
		"POST /api/sessions/{id}/bookings",
		"POST /api/signup",
		"POST /api/signup/verify",
		"POST /api/unsubscribe",
	}
	if diff := cmp.Diff(want, mustLoad(t).Routes()); diff != "" {
		t.Errorf("Routes() (-want +got):\n%s", diff)
	}
}

// TestExamples holds every example in the document to its schema: an example a client developer
// copies must be a valid request or response.
func TestExamples(t *testing.T) {
	doc, err := decodeYAML(document)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCompiler(doc)
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{doc: doc, c: c}
	checked := 0
	check := func(schemaPtr, examplePtr string, example any) {
		t.Helper()
		sch, err := b.compile(schemaPtr)
		if err != nil {
			t.Errorf("%s: %v", schemaPtr, err)
			return
		}
		checked++
		if err := sch.Validate(example); err != nil {
			t.Errorf("example %s does not match %s:\n%v", examplePtr, schemaPtr, err)
		}
	}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			switch ex := v["examples"].(type) {
			case []any: // a Schema Object's examples
				for i, e := range ex {
					check(at, at+"/examples/"+strconv.Itoa(i), e)
				}
			case map[string]any: // a Media Type or Parameter Object's Example Objects
				if _, ok := v["schema"]; ok {
					for _, name := range slices.Sorted(maps.Keys(ex)) {
						e, _ := ex[name].(map[string]any)
						check(at+"/schema", at+"/examples/"+escape(name), e["value"])
					}
				}
			}
			for k, e := range v {
				walk(e, at+"/"+escape(k))
			}
		case []any:
			for i, e := range v {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "")
	if checked < 20 {
		t.Errorf("checked %d examples; the walk is missing most of them", checked)
	}
}

// group is a valid Group body as the admin function renders one, changed by edit.
func group(edit func(g map[string]any)) []byte {
	g := map[string]any{
		"id":        "01JDCXR7Q0V3YB9F6K2M8N4P5T",
		"name":      "邻里健康群",
		"covenant":  "",
		"entryRule": "open",
		"pushCap":   2,
		"joinCode":  "7KQ4M2XD",
		"joinUrl":   "https://yl.example.cn/join/7KQ4M2XD",
		"createdAt": "2026-11-23T08:00:00.123456789Z",
		"updatedAt": "2026-11-23T08:00:00.123456789Z",
	}
	if edit != nil {
		edit(g)
	}
	b, err := json.Marshal(g)
	if err != nil {
		panic(err)
	}
	return b
}

func TestCheckResponse(t *testing.T) {
	const (
		jsonCT    = "application/json; charset=utf-8"
		getGroup  = "GET /api/admin/groups/{id}"
		postGroup = "POST /api/admin/groups"
		list      = "GET /api/admin/groups"
		invite    = "POST /api/admin/groups/{id}/invites"
	)
	validInvite := `{"code":"H3NW8RTA","url":"https://yl.example.cn/join/H3NW8RTA","groupId":"01JDCXR7Q0V3YB9F6K2M8N4P5T",` +
		`"maxUses":1,"createdAt":"2026-11-23T08:00:00Z","expiresAt":"2026-12-07T08:00:00Z"}`
	tests := []struct {
		name        string
		route       string
		status      int
		contentType string
		body        string
		wantErr     error
	}{
		{"group", getGroup, 200, jsonCT, string(group(nil)), nil},
		{"created group", postGroup, 201, jsonCT, string(group(nil)), nil},
		{"media type case and parameters ignored", getGroup, 200, "Application/JSON", string(group(nil)), nil},
		{"group with covenant and 40-rune name", getGroup, 200, jsonCT, string(group(func(g map[string]any) {
			g["name"], g["covenant"], g["pushCap"], g["entryRule"] = strings.Repeat("群", 40), "互相尊重\n不发广告", 21, "approval"
		})), nil},
		{"last page", list, 200, jsonCT, `{"items":[]}`, nil},
		{"page with cursor", list, 200, jsonCT, `{"items":[` + string(group(nil)) + `],"cursor":"eyJQSyI6IlMifQ"}`, nil},
		{"invite", invite, 201, jsonCT, validInvite, nil},
		{"error envelope", getGroup, 404, jsonCT, `{"error":{"code":"group_not_found","message":"没有找到这个群。"}}`, nil},
		{"error envelope with field", postGroup, 400, jsonCT, `{"error":{"code":"invalid_push_cap","message":"m","field":"pushCap"}}`, nil},
		{"gateway 401", getGroup, 401, "application/json", `{"message":"Unauthorized"}`, nil},
		{"gateway 429", list, 429, "application/json", `{"message":"Too Many Requests"}`, nil},
		{"home page", "GET /", 200, "text/html; charset=utf-8", "<!doctype html>", nil},
		{"style sheet", "GET /static/{file}", 200, "text/css; charset=utf-8", "body{}", nil},
		{"script", "GET /static/{file}", 200, "text/javascript; charset=utf-8", "void 0", nil},

		{"unknown route", "GET /api/admin/nowhere", 200, jsonCT, `{}`, ErrUnknownOperation},
		{"wrong method", "DELETE /api/admin/groups/{id}", 204, "", "", ErrUnknownOperation},
		{"create answers 200", postGroup, 200, jsonCT, string(group(nil)), ErrUndeclaredStatus},
		{"get answers 201", getGroup, 201, jsonCT, string(group(nil)), ErrUndeclaredStatus},
		{"409 is not declared for update", "PATCH /api/admin/groups/{id}", 409, jsonCT, `{"error":{"code":"conflict","message":"m"}}`, ErrUndeclaredStatus},
		{"get by id never answers 400", getGroup, 400, jsonCT, `{"error":{"code":"invalid_id","message":"m"}}`, ErrUndeclaredStatus},
		{"list has no 404", list, 404, jsonCT, `{"error":{"code":"not_found","message":"m"}}`, ErrUndeclaredStatus},
		{"missing required field", getGroup, 200, jsonCT, string(group(func(g map[string]any) { delete(g, "joinUrl") })), ErrInvalidBody},
		{"extra field leaks", getGroup, 200, jsonCT, string(group(func(g map[string]any) { g["storeId"] = "S1" })), ErrInvalidBody},
		{"pushCap out of range", getGroup, 200, jsonCT, string(group(func(g map[string]any) { g["pushCap"] = 22 })), ErrInvalidBody},
		{"unknown entry rule", getGroup, 200, jsonCT, string(group(func(g map[string]any) { g["entryRule"] = "secret" })), ErrInvalidBody},
		{"timestamp not RFC 3339", getGroup, 200, jsonCT, string(group(func(g map[string]any) { g["createdAt"] = "2026-11-23 08:00" })), ErrInvalidBody},
		{"timestamp not UTC", getGroup, 200, jsonCT, string(group(func(g map[string]any) { g["createdAt"] = "2026-11-23T16:00:00+08:00" })), ErrInvalidBody},
		{"id not a ULID", getGroup, 200, jsonCT, string(group(func(g map[string]any) { g["id"] = "g1" })), ErrInvalidBody},
		{"null list", list, 200, jsonCT, `{"items":null}`, ErrInvalidBody},
		{"empty cursor", list, 200, jsonCT, `{"items":[],"cursor":""}`, ErrInvalidBody},
		{"extra property in error", getGroup, 404, jsonCT, `{"error":{"code":"group_not_found","message":"m","detail":"x"}}`, ErrInvalidBody},
		{"extra property beside error", getGroup, 404, jsonCT, `{"error":{"code":"group_not_found","message":"m"},"requestId":"r"}`, ErrInvalidBody},
		{"code not snake_case", getGroup, 404, jsonCT, `{"error":{"code":"GroupNotFound","message":"m"}}`, ErrInvalidBody},
		{"error without message", getGroup, 404, jsonCT, `{"error":{"code":"group_not_found"}}`, ErrInvalidBody},
		{"empty field", postGroup, 400, jsonCT, `{"error":{"code":"required","message":"m","field":""}}`, ErrInvalidBody},
		{"gateway shape where only ours is declared", getGroup, 404, jsonCT, `{"message":"Not Found"}`, ErrInvalidBody},
		{"both shapes at once", getGroup, 401, jsonCT, `{"message":"Unauthorized","error":{"code":"unauthorized","message":"m"}}`, ErrInvalidBody},
		{"not JSON", getGroup, 200, jsonCT, `{"id":`, ErrInvalidBody},
		{"trailing data", getGroup, 200, jsonCT, string(group(nil)) + `{}`, ErrInvalidBody},
		{"JSON sent as text", getGroup, 200, "text/plain; charset=utf-8", string(group(nil)), ErrContentType},
		{"no content type", getGroup, 200, "", string(group(nil)), ErrContentType},
		{"page sent as JSON", "GET /admin", 200, jsonCT, `{}`, ErrContentType},
		{"image not declared", "GET /static/{file}", 200, "image/png", "\x89PNG", ErrContentType},
	}
	s := mustLoad(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CheckResponse(tt.route, tt.status, tt.contentType, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("CheckResponse() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestCheckRequest(t *testing.T) {
	const (
		create = "POST /api/admin/groups"
		update = "PATCH /api/admin/groups/{id}"
		invite = "POST /api/admin/groups/{id}/invites"
	)
	tests := []struct {
		name    string
		route   string
		body    string
		wantErr error
	}{
		{"create with a name", create, `{"name":"邻里健康群"}`, nil},
		{"create with every field", create, `{"name":"太极拳","covenant":"互相尊重\n不发广告","entryRule":"approval","pushCap":0}`, nil},
		{"40 runes", create, `{"name":"` + strings.Repeat("群", 40) + `"}`, nil},
		{"emoji counts as one", create, `{"name":"` + strings.Repeat("🌞", 40) + `"}`, nil},
		{"2000-rune covenant", create, `{"name":"x","covenant":"` + strings.Repeat("约", 2000) + `"}`, nil},
		{"patch one field", update, `{"pushCap":21}`, nil},
		{"patch clears covenant", update, `{"covenant":""}`, nil},
		{"invite without body", invite, ``, nil},
		{"invite with defaults", invite, `{}`, nil},
		{"invite at the limits", invite, `{"ttlDays":90,"maxUses":1000}`, nil},
		{"get without body", "GET /api/admin/groups", ``, nil},

		{"unknown route", "POST /api/admin/members", `{}`, ErrUnknownOperation},
		{"unknown field", create, `{"name":"x","pushcap":1}`, ErrInvalidBody},
		{"unknown field in patch", update, `{"joinCode":"7KQ4M2XD"}`, ErrInvalidBody},
		{"pushCap over 21", create, `{"name":"x","pushCap":22}`, ErrInvalidBody},
		{"negative pushCap", update, `{"pushCap":-1}`, ErrInvalidBody},
		{"fractional pushCap", create, `{"name":"x","pushCap":1.5}`, ErrInvalidBody},
		{"pushCap as text", create, `{"name":"x","pushCap":"2"}`, ErrInvalidBody},
		{"missing name", create, `{"covenant":"x"}`, ErrInvalidBody},
		{"empty name", update, `{"name":""}`, ErrInvalidBody},
		{"blank name", create, `{"name":"   "}`, ErrInvalidBody},
		{"41 runes", create, `{"name":"` + strings.Repeat("群", 41) + `"}`, ErrInvalidBody},
		{"line break in name", create, `{"name":"a\nb"}`, ErrInvalidBody},
		{"control character in covenant", create, `{"name":"x","covenant":"a\u0007b"}`, ErrInvalidBody},
		{"line separator in covenant", create, `{"name":"x","covenant":"a\u2028b"}`, ErrInvalidBody},
		{"2001-rune covenant", create, `{"name":"x","covenant":"` + strings.Repeat("约", 2001) + `"}`, ErrInvalidBody},
		{"unknown entry rule", create, `{"name":"x","entryRule":"secret"}`, ErrInvalidBody},
		{"empty patch", update, `{}`, ErrInvalidBody},
		{"null instead of a field", update, `{"name":null}`, ErrInvalidBody},
		{"create without body", create, ``, ErrInvalidBody},
		{"whitespace body", update, "  \n", ErrInvalidBody},
		{"not an object", create, `["x"]`, ErrInvalidBody},
		{"not JSON", create, `{"name":`, ErrInvalidBody},
		{"trailing data", create, `{"name":"x"}{}`, ErrInvalidBody},
		{"ttlDays 0", invite, `{"ttlDays":0}`, ErrInvalidBody},
		{"ttlDays 91", invite, `{"ttlDays":91}`, ErrInvalidBody},
		{"maxUses 1001", invite, `{"maxUses":1001}`, ErrInvalidBody},
		{"body on a get", "GET /api/admin/groups/{id}", `{}`, ErrInvalidBody},
	}
	s := mustLoad(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CheckRequest(tt.route, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("CheckRequest() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// minimal is a small valid document; the parse tests swap one part of it for a broken one.
const minimal = `
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /things/{id}:
    get:
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
        204:
          description: nothing
components:
  schemas:
    Thing:
      type: object
      required: [n]
      properties:
        n: {type: integer}
`

func TestParse(t *testing.T) {
	s, err := parse([]byte(minimal))
	if err != nil {
		t.Fatalf("parse(minimal) error = %v", err)
	}
	// YAML reads `200:` as an integer key; it must still be status 200.
	if err := s.CheckResponse("GET /things/{id}", 200, "application/json", []byte(`{"n":1}`)); err != nil {
		t.Errorf("CheckResponse(200) error = %v", err)
	}
	if err := s.CheckResponse("GET /things/{id}", 200, "application/json", []byte(`{"n":"1"}`)); !errors.Is(err, ErrInvalidBody) {
		t.Errorf("CheckResponse(200, bad body) error = %v, want ErrInvalidBody", err)
	}
	if err := s.CheckResponse("GET /things/{id}", 204, "", nil); err != nil {
		t.Errorf("CheckResponse(204) error = %v", err)
	}
	if err := s.CheckResponse("GET /things/{id}", 204, "", []byte("x")); !errors.Is(err, ErrInvalidBody) {
		t.Errorf("CheckResponse(204 with a body) error = %v, want ErrInvalidBody", err)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		wantErr  string
	}{
		{"default response", "        204:", "        default:", `"default": list every status`},
		{"status range", "        204:", "        2XX:", `"2XX": list every status`},
		{"dangling ref", "schemas/Thing'}", "schemas/Thin'}", `"#/components/schemas/Thin": not found`},
		{"remote ref", "'#/components/schemas/Thing'", "'https://example.com/thing.json'", "only local refs"},
		{"OpenAPI 3.0", "openapi: 3.1.0", "openapi: 3.0.3", "want 3.1.x"},
		{"broken schema", "{type: integer}", "{type: integr}", "compile /components/schemas/Thing"},
		{"wildcard media type", "application/json:", "application/*:", "want a plain media type"},
		{"not YAML", "info: {", "info: {{", "parse openapi.yaml"},
		{"number as a key", "        204:", "        2.5: {description: x}\n        204:", "want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimal, tt.old, tt.new, 1)
			if src == minimal {
				t.Fatalf("%q is not in the document", tt.old)
			}
			_, err := parse([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parse() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

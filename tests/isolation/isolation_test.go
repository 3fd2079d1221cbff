package isolation

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/sam"
)

func project(t *testing.T) (*sam.Template, string) {
	t.Helper()
	path, err := sam.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := sam.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl, filepath.Join(filepath.Dir(path), "events")
}

// Every route of the template becomes a target, and every one can be filled with a victim's
// objects: a new route whose parameter or body id is of an unknown kind fails here, before the
// matrix runs against the stack.
func TestTargetsCoverTheTemplate(t *testing.T) {
	tmpl, events := project(t)
	targets, err := Targets(tmpl, events)
	if err != nil {
		t.Fatal(err)
	}
	routes := 0
	for _, f := range tmpl.Functions {
		routes += len(f.Routes)
	}
	if len(targets) != routes {
		t.Fatalf("%d targets for %d routes", len(targets), routes)
	}
	victim := Objects{}
	for _, k := range []Kind{Group, Member, Session, Campaign, Broadcast, Reminder, FamilyLink, Doctor, Code} {
		victim[k] = "V-" + string(k)
	}
	staff, withID := 0, 0
	for _, tg := range targets {
		req, err := tg.Request(victim, "TOKEN", Shift(time.Now()))
		if err != nil {
			t.Errorf("%s: %v", tg.Route.Key(), err)
			continue
		}
		if strings.Contains(req.Path, "{") {
			t.Errorf("%s: unfilled path %s", tg.Route.Key(), req.Path)
		}
		if tg.Staff() {
			staff++
			if req.Refs {
				withID++
			}
		}
	}
	if staff == 0 || withID == 0 {
		t.Errorf("%d staff routes, %d naming an object: the template's authorizer is not seen", staff, withID)
	}
}

func TestRequest(t *testing.T) {
	tg := Target{Function: "qa", Route: sam.Route{Method: "POST", Path: "/api/family/{token}/bookings"}, Sample: "family-book"}
	tg.event.RouteKey = tg.Route.Key()
	tg.event.Body = `{"sessionId": "01JDS0000000000000000000S1", "note": "01JDS0000000000000000000S1", "startAt": "2026-11-25T01:30:00Z", "day": "2026-11-24"}`
	tg.event.Headers = map[string]string{"authorization": "Bearer x", "content-type": "application/json"}
	tg.event.QueryStringParameters = map[string]string{"group": "01JDQ7Z6W3V8G0X5Y4K2M9N1PA", "lang": "en"}
	got, err := tg.Request(Objects{Session: "S-A", Group: "G-A"}, "tok/en", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{
		Method: "POST", Path: "/api/family/tok%2Fen/bookings",
		Query:  map[string][]string{"group": {"G-A"}, "lang": {"en"}},
		Body:   `{"day":"2026-11-26","note":"01JDS0000000000000000000S1","sessionId":"S-A","startAt":"2026-11-27T01:30:00Z"}`,
		Header: http.Header{"Content-Type": {"application/json"}},
		Refs:   true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Request (-want +got):\n%s", diff)
	}
	if _, err := tg.Request(Objects{}, "t", 0); err == nil {
		t.Error("a victim without a session: no error")
	}
	plain, err := tg.Request(nil, "t", 0)
	if err != nil || plain.Refs || !strings.Contains(plain.Body, "01JDS0000000000000000000S1") {
		t.Errorf("nil victim: %+v, %v; want the sample's ids and no Refs", plain, err)
	}
}

func TestParamKind(t *testing.T) {
	for _, tc := range []struct {
		path, param string
		want        Kind
		err         bool
	}{
		{"/api/admin/groups/{id}", "id", Group, false},
		{"/api/admin/members/{id}/reminders/{rid}", "rid", Reminder, false},
		{"/api/me/family-links/{id}", "id", FamilyLink, false},
		{"/api/admin/sessions/{id}/bookings/{memberId}", "memberId", Member, false},
		{"/static/{file}", "file", "", false},
		{"/api/admin/widgets/{id}", "id", "", true},
		{"/api/x/{slug}", "slug", "", true},
	} {
		segs := strings.Split(tc.path, "/")
		i := 0
		for j, s := range segs {
			if s == "{"+tc.param+"}" {
				i = j
			}
		}
		got, err := paramKind(segs[:i], tc.param)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("paramKind(%s, %s) = %q, %v; want %q, error %v", tc.path, tc.param, got, err, tc.want, tc.err)
		}
	}
}

func TestLeaks(t *testing.T) {
	secrets := []string{"王秀英", "01JDQ7Z6W3V8G0X5Y4K2M9N1PA", "+8613800138000", ""}
	for _, tc := range []struct {
		body string
		want []string
	}{
		{`{"error":{"code":"not_found"}}`, nil},
		{`{"name":"\u738b\u79c0\u82f1"}`, []string{"王秀英"}},
		{`{"to":"%2B8613800138000"}`, []string{"+8613800138000"}},
		{`<p>01JDQ7Z6W3V8G0X5Y4K2M9N1PA</p>`, []string{"01JDQ7Z6W3V8G0X5Y4K2M9N1PA"}},
	} {
		if diff := cmp.Diff(tc.want, Leaks([]byte(tc.body), secrets)); diff != "" {
			t.Errorf("Leaks(%s) (-want +got):\n%s", tc.body, diff)
		}
	}
}

func TestRefused(t *testing.T) {
	for status, want := range map[int]bool{200: false, 201: false, 400: false, 401: true, 403: true, 404: true, 409: false, 500: false} {
		if Refused(status) != want {
			t.Errorf("Refused(%d) = %v", status, !want)
		}
	}
}

func TestPageHeaderProblems(t *testing.T) {
	good := http.Header{
		"Content-Security-Policy": {"default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'"},
		"X-Content-Type-Options":  {"nosniff"},
		"Referrer-Policy":         {"no-referrer"},
		"X-Robots-Tag":            {"noindex, nofollow"},
	}
	if p := PageHeaderProblems(good, true); len(p) != 0 {
		t.Errorf("good headers: %v", p)
	}
	for name, tc := range map[string]struct {
		key, value string
		capability bool
	}{
		"third-party script": {"Content-Security-Policy", "default-src 'self'; script-src 'self' https://cdn.example.com; object-src 'none'; frame-ancestors 'none'", false},
		"unsafe-inline":      {"Content-Security-Policy", "script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'", false},
		"framable":           {"Content-Security-Policy", "default-src 'self'; object-src 'none'", false},
		"no script rule":     {"Content-Security-Policy", "img-src 'self'; object-src 'none'; frame-ancestors 'none'", false},
		"sniffing":           {"X-Content-Type-Options", "", false},
		"no referrer policy": {"Referrer-Policy", "", false},
		"capability referer": {"Referrer-Policy", "strict-origin-when-cross-origin", true},
		"capability indexed": {"X-Robots-Tag", "", true},
	} {
		h := good.Clone()
		h.Set(tc.key, tc.value)
		if tc.value == "" {
			h.Del(tc.key)
		}
		if p := PageHeaderProblems(h, tc.capability); len(p) == 0 {
			t.Errorf("%s: no problem found in %v", name, h)
		}
	}
}

func TestCookieProblems(t *testing.T) {
	for cookie, want := range map[string]int{
		"yl_session=abc; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax": 0,
		"yl_session=abc; Path=/; HttpOnly; Secure; SameSite=None":              1,
		"yl_session=abc; Path=/; Secure; SameSite=Strict":                      1,
		"yl_session=abc": 3,
	} {
		if got := CookieProblems(cookie); len(got) != want {
			t.Errorf("CookieProblems(%q) = %v, want %d problems", cookie, got, want)
		}
	}
}

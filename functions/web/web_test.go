package web

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"yinling/shared/apigw"
	"yinling/shared/fail"
	"yinling/shared/i18n"
	"yinling/shared/member"
	"yinling/shared/promo"
	assets "yinling/web"
)

// pageBudget is the most one page may weigh: its HTML plus the CSS and JS it references.
const pageBudget = 50 << 10

func newHandler(t *testing.T) *Handler {
	t.Helper()
	return New(Deps{Log: slog.New(slog.DiscardHandler)})
}

// invoke runs payload through the same JSON path Lambda uses and decodes the response.
func invoke(t *testing.T, h *Handler, payload []byte) apigw.Response {
	t.Helper()
	out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp apigw.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return resp
}

// get builds a minimal request for routeKey and invokes it.
func get(t *testing.T, h *Handler, routeKey string, query, headers map[string]string) apigw.Response {
	t.Helper()
	req := apigw.Request{Version: "2.0", RouteKey: routeKey, QueryStringParameters: query, Headers: headers}
	if file, ok := strings.CutPrefix(routeKey, "GET /static/"); ok {
		req.RouteKey = "GET /static/{file}"
		req.PathParameters = map[string]string{"file": file}
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return invoke(t, h, b)
}

// readEvent reads events/web/<name>.json. With fresh set, the event's ?v= and If-None-Match
// (where present) become that file's current values: they are content hashes, which change with
// every edit of the file, while everything else in the event stays as AWS sent it.
func readEvent(t *testing.T, name string, fresh *staticFile) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "web", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if fresh == nil {
		return b
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("event %s: %v", name, err)
	}
	req.QueryStringParameters["v"] = fresh.version
	req.RawQueryString = "v=" + fresh.version
	if _, ok := req.Headers["if-none-match"]; ok {
		req.Headers["if-none-match"] = fresh.etag
	}
	if b, err = json.Marshal(req); err != nil {
		t.Fatal(err)
	}
	return b
}

// result is what a case compares: the status and the headers it names.
type result struct {
	Status  int
	Headers map[string]string
}

func securityHeaders(more map[string]string) map[string]string {
	h := map[string]string{
		"content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
		"x-content-type-options":  "nosniff",
		"referrer-policy":         "strict-origin-when-cross-origin",
	}
	for k, v := range more {
		h[k] = v
	}
	return h
}

func htmlHeaders(lang string, more map[string]string) map[string]string {
	h := securityHeaders(map[string]string{
		"content-type":     "text/html; charset=utf-8",
		"cache-control":    "no-cache",
		"content-language": lang,
		"vary":             "Accept-Language",
	})
	for k, v := range more {
		h[k] = v
	}
	return h
}

func TestEvents(t *testing.T) {
	h := newHandler(t)
	css, js := h.static["app.css"], h.static["admin.js"]
	joinJS, meJS, familyJS, remJS := h.static["join.js"], h.static["me.js"], h.static["family.js"], h.static["rem.js"]
	noindex := map[string]string{"x-robots-tag": "noindex, nofollow"}
	// My page plays voice clips: its CSP lets audio come from the voice bucket.
	meHeaders := map[string]string{"x-robots-tag": "noindex, nofollow", "content-security-policy": cspVoice}
	// A family link's URL is its token: the page keeps it out of Referer headers and indexes.
	familyHeaders := map[string]string{"x-robots-tag": "noindex, nofollow", "referrer-policy": "no-referrer", "content-security-policy": cspVoice}
	tests := []struct {
		event    string
		fresh    *staticFile
		want     result
		contains []string
		empty    bool // the body must be empty (304)
	}{
		{
			event: "home-zh",
			want:  result{200, htmlHeaders("zh-CN", nil)},
			contains: []string{`<html lang="zh-CN">`, "请扫描门店里的二维码加入社群", "店员",
				`href="/static/app.css?v=` + css.version + `"`, `href="?lang=en"`},
		},
		{
			event:    "home-en",
			want:     result{200, htmlHeaders("en", nil)},
			contains: []string{`<html lang="en">`, "Please scan the QR code in the store", "Ask the staff", `href="?lang=zh-CN"`},
		},
		{
			event:    "home-lang-query", // ?lang=en wins over a Chinese Accept-Language
			want:     result{200, htmlHeaders("en", nil)},
			contains: []string{`<html lang="en">`, "Welcome to Yinling"},
		},
		{
			event: "admin",
			want:  result{200, htmlHeaders("zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow"})},
			contains: []string{"员工令牌", "make token", "令牌无效或已经过期", "公开加入", "邀请加入", "审核加入", `href="/admin/reminders"`,
				`href="/admin/campaigns"`, `src="/static/admin.js?v=` + js.version + `"`, `type="password"`},
		},
		{
			event: "join-zh",
			want:  result{200, htmlHeaders("zh-CN", noindex)},
			contains: []string{`<html lang="zh-CN">`, "群公约", "用药、复查提醒", "优惠活动", ">加入</button>",
				"验证码已发送到 {phone}", "没收到？重新发送", "请拿着手机到店里问问店员", "<noscript>",
				`id="phone" name="phone" type="tel" inputmode="tel"`, `id="birthYear" name="birthYear" class="short" type="text" inputmode="numeric"`,
				`inputmode="numeric" pattern="[0-9]*" maxlength="6" autocomplete="one-time-code"`,
				`src="/static/join.js?v=` + joinJS.version + `"`, `href="?lang=en"`},
		},
		{
			event:    "join-en",
			want:     result{200, htmlHeaders("en", noindex)},
			contains: []string{`<html lang="en">`, "Group rules", ">Join</button>", "We have sent a code to {phone}", "Send it again"},
		},
		{
			event: "me-zh",
			want:  result{200, htmlHeaders("zh-CN", meHeaders)},
			contains: []string{`<html lang="zh-CN">`, "<title>我的</title>", "我的社群", "请重新打开入群链接", "审核中", "已加入",
				"<noscript>", `src="/static/me.js?v=` + meJS.version + `"`, `src="/static/rem.js?v=` + remJS.version + `"`,
				"我的提醒", ">添加提醒</button>", ">保存提醒</button>", `name="freq" value="daily" checked`, `type="time" value="08:00"`},
		},
		{
			event:    "me-lang-query", // ?lang=en wins over a Chinese Accept-Language
			want:     result{200, htmlHeaders("en", meHeaders)},
			contains: []string{`<html lang="en">`, "My groups", "Waiting for approval", `href="?lang=zh-CN"`},
		},
		{
			event: "me-zh", // the family links section and its form
			want:  result{200, htmlHeaders("zh-CN", meHeaders)},
			contains: []string{"家人链接", "只能看", "可以帮忙", "提醒没确认时告诉TA", ">生成链接</button>", ">复制链接</button>",
				"只显示这一次", ">停用</button>", `name="scope" value="view" checked`, `name="scope" value="helper"`,
				"家人的手机号", `id="alert-phone" name="alertPhone" type="tel"`},
		},
		{
			event: "family-zh",
			want:  result{200, htmlHeaders("zh-CN", familyHeaders)},
			contains: []string{`<html lang="zh-CN">`, "<title>家人的页面</title>", "这是 {name} 的页面", "这个链接已经不能用了",
				"请联系您的家人", "<noscript>", `<meta name="referrer" content="no-referrer">`,
				`src="/static/family.js?v=` + familyJS.version + `"`, `href="?lang=en"`, ">录一段话</button>", `<audio id="rec-play"`},
		},
		{
			event:    "family-en",
			want:     result{200, htmlHeaders("en", familyHeaders)},
			contains: []string{`<html lang="en">`, "This is {name}'s page", "This link no longer works", `href="?lang=zh-CN"`},
		},
		{
			// The senior's Q&A sessions: the cookie says whose, so no index; a question may be
			// recorded, so the CSP lets the clip go to the voice bucket.
			event: "sessions-zh",
			want:  result{200, htmlHeaders("zh-CN", meHeaders)},
			contains: []string{`<html lang="zh-CN">`, "<title>医生讲座预约</title>", "近期的医生讲座", "请先打开入群链接", "<noscript>",
				`id="ses-tpl"`, ">取消预约</button>", "想问医生什么？（可以不填）", `maxlength="300"`,
				`src="/static/seslist.js?v=` + h.static["seslist.js"].version + `"`, `href="?lang=en"`},
		},
		{
			event:    "sessions-en",
			want:     result{200, htmlHeaders("en", meHeaders)},
			contains: []string{`<html lang="en">`, "<title>Doctor talks</title>", "Please open your join link first", ">Cancel my booking</button>"},
		},
		{
			event: "booking-zh", // a booking's page: its token is in every message about the booking
			want:  result{200, htmlHeaders("zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "referrer-policy": "no-referrer"})},
			contains: []string{"<title>我的预约</title>", ">听一听</button>", ">取消预约</button>", "这个预约已经没有了",
				`<meta name="referrer" content="no-referrer">`, `src="/static/booking.js?v=` + h.static["booking.js"].version + `"`},
		},
		{
			event: "admin-sessions",
			want:  result{200, htmlHeaders("zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "content-security-policy": cspVoice})},
			contains: []string{"<title>医生讲座 · 店员</title>", "员工令牌", "安排一场讲座", "添加医生", ">到场</button>", ">未到</button>",
				`href="/admin/sessions/digest"`, `type="password"`, `src="/static/staff-sessions.js?v=` + h.static["staff-sessions.js"].version + `"`},
		},
		{
			event: "admin-digest",
			want:  result{200, htmlHeaders("zh-CN", noindex)},
			contains: []string{"<title>问题单 · 给医生</title>", `class="print-me"`, ">打印</button>", `href="/admin/sessions"`,
				`src="/static/staff-digest.js?v=` + h.static["staff-digest.js"].version + `"`},
		},
		{
			event: "offer-zh", // an offer's page: its token is in the message that brought the senior
			want:  result{200, htmlHeaders("zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "referrer-policy": "no-referrer", "content-security-policy": cspImages})},
			contains: []string{"<title>优惠活动</title>", ">听一听</button>", ">不想再收到优惠信息</button>", "这个优惠已经没有了",
				"已为您退订，以后不会再给您发优惠信息。", `<meta name="referrer" content="no-referrer">`, `loading="lazy"`,
				`src="/static/offer.js?v=` + h.static["offer.js"].version + `"`},
		},
		{
			event: "admin-campaigns",
			want:  result{200, htmlHeaders("zh-CN", noindex)},
			contains: []string{"<title>推送活动 · 店员</title>", "员工令牌", "新建推送", `type="password"`, `href="/admin"`,
				`src="/static/staff-campaigns.js?v=` + h.static["staff-campaigns.js"].version + `"`},
		},
		{
			event: "static-css",
			fresh: &css,
			want: result{200, securityHeaders(map[string]string{
				"content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=31536000, immutable", "etag": css.etag,
			})},
			contains: []string{".primary", "font-size: 1.25rem"},
		},
		{
			event: "static-css-stale", // a ?v= of other bytes: served, but never cached as immutable
			want: result{200, securityHeaders(map[string]string{
				"content-type": "text/css; charset=utf-8", "cache-control": "no-cache", "etag": css.etag,
			})},
			contains: []string{".primary"},
		},
		{
			event: "static-js",
			fresh: &js,
			want: result{200, securityHeaders(map[string]string{
				"content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=31536000, immutable", "etag": js.etag,
			})},
			contains: []string{"sessionStorage", "Idempotency-Key"},
		},
		{
			event: "static-missing",
			want: result{404, map[string]string{
				"content-type": "application/json; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff",
			}},
			contains: []string{`{"error":{"code":"not_found","message":"没有找到您要的内容。"}}`},
		},
		{
			event: "static-if-none-match",
			fresh: &css,
			want: result{304, securityHeaders(map[string]string{
				"content-type": "", "cache-control": "public, max-age=31536000, immutable", "etag": css.etag,
			})},
			empty: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			payload := readEvent(t, tt.event, tt.fresh)
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(payload, &req); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(h.Routes(), req.RouteKey) {
				t.Fatalf("event routeKey %q is not one of the function's routes %v", req.RouteKey, h.Routes())
			}
			resp := invoke(t, h, payload)
			got := result{Status: resp.StatusCode, Headers: map[string]string{}}
			for k := range tt.want.Headers {
				got.Headers[k] = resp.Headers[k]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if rid := resp.Headers["x-request-id"]; rid != req.RequestContext.RequestID {
				t.Errorf("x-request-id = %q, want %q", rid, req.RequestContext.RequestID)
			}
			for _, s := range tt.contains {
				if !strings.Contains(resp.Body, s) {
					t.Errorf("body does not contain %q", s)
				}
			}
			if tt.empty && resp.Body != "" {
				t.Errorf("body = %d bytes, want none", len(resp.Body))
			}
		})
	}
}

// A revisit of a page whose bytes have not changed costs a 304, in the language it was served in.
func TestPageRevalidates(t *testing.T) {
	h := newHandler(t)
	first := get(t, h, "GET /", nil, map[string]string{"accept-language": "en"})
	etag := first.Headers["etag"]
	if etag == "" {
		t.Fatal("page has no etag")
	}
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"same language", map[string]string{"accept-language": "en", "if-none-match": etag}, 304},
		{"weak form", map[string]string{"accept-language": "en", "if-none-match": "W/" + etag}, 304},
		{"other language", map[string]string{"accept-language": "zh-CN", "if-none-match": etag}, 200},
		{"stale tag", map[string]string{"accept-language": "en", "if-none-match": `"0000"`}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(t, h, "GET /", nil, tt.headers).StatusCode; got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPageLang(t *testing.T) {
	tests := []struct {
		query, accept string
		want          i18n.Lang
	}{
		{"", "", i18n.ZhCN},
		{"", "en-US,en;q=0.9", i18n.En},
		{"en", "zh-CN", i18n.En},
		{"EN", "", i18n.En},
		{"zh-CN", "en", i18n.ZhCN},
		{"zh-cn", "en", i18n.ZhCN},
		{"fr", "en", i18n.En}, // a language we do not speak: the browser's choice decides
		{"<script>", "", i18n.ZhCN},
	}
	for _, tt := range tests {
		r := &apigw.Request{
			QueryStringParameters: map[string]string{"lang": tt.query},
			Headers:               map[string]string{"accept-language": tt.accept},
		}
		if got := pageLang(r); got != tt.want {
			t.Errorf("pageLang(?lang=%q, Accept-Language %q) = %q, want %q", tt.query, tt.accept, got, tt.want)
		}
	}
}

func TestETagMatch(t *testing.T) {
	const etag = `"abc123"`
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{`"abc123"`, true},
		{`W/"abc123"`, true},
		{`"x", "abc123"`, true},
		{`"x","y"`, false},
		{`abc123`, false},
		{"*", true},
	}
	for _, tt := range tests {
		if got := etagMatch(tt.header, etag); got != tt.want {
			t.Errorf("etagMatch(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// pageRoutes are the routes that serve an HTML page.
var pageRoutes = []string{"GET /", "GET /admin", "GET /join/{code}", "GET /me", "GET /f/{token}", "GET /r/{token}", "GET /admin/reminders",
	"GET /sessions", "GET /b/{token}", "GET /admin/sessions", "GET /admin/sessions/digest", "GET /o/{token}", "GET /admin/campaigns"}

var staticRef = regexp.MustCompile(`(?:href|src)="/static/([^"?]+)\?v=([0-9a-f]+)"`)

// Each page, in each language, with the CSS and JS it references, stays under the budget a cheap
// phone on a weak signal can load quickly; every reference resolves to current bytes.
func TestPageWeight(t *testing.T) {
	h := newHandler(t)
	for _, route := range pageRoutes {
		for _, l := range i18n.Langs {
			resp := get(t, h, route, map[string]string{"lang": string(l)}, nil)
			total := len(resp.Body)
			refs := staticRef.FindAllStringSubmatch(resp.Body, -1)
			if len(refs) == 0 {
				t.Errorf("%s (%s) references no static file", route, l)
			}
			for _, m := range refs {
				f, ok := h.static[m[1]]
				if !ok || f.version != m[2] {
					t.Errorf("%s (%s) references /static/%s?v=%s, which is not current", route, l, m[1], m[2])
					continue
				}
				total += len(f.body)
			}
			t.Logf("%s (%s): %d bytes with its CSS and JS (HTML %d)", route, l, total, len(resp.Body))
			if total > pageBudget {
				t.Errorf("%s (%s) weighs %d bytes, over the %d budget", route, l, total, pageBudget)
			}
		}
	}
}

var tCall = regexp.MustCompile(`\{\{-?\s*T\s+"([^"]*)"`)

// Every key a template asks for is a page key present in every catalog: a missing translation
// fails here, not as a raw key on a senior's screen.
func TestTemplateKeysExist(t *testing.T) {
	var n int
	err := fs.WalkDir(assets.Templates(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets.Templates(), p)
		if err != nil {
			return err
		}
		for _, m := range tCall.FindAllStringSubmatch(string(b), -1) {
			n++
			if !strings.HasPrefix(m[1], "page.") {
				t.Errorf("%s: key %q does not start with page.", p, m[1])
			}
			if !i18n.Has(m[1]) {
				t.Errorf("%s: key %q is missing from a catalog", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("found no T calls: has the template syntax changed?")
	}
	// The layout's language switch names the other language in itself.
	if !i18n.Has("page.common.lang_name") {
		t.Error(`key "page.common.lang_name" is missing from a catalog`)
	}
}

var (
	msgBlock = regexp.MustCompile(`(?s)<script type="application/json" id="msg">(.*?)</script>`)
	msgUse   = regexp.MustCompile(`\bmsg\.(\w+)`)
)

// admin.js reads its texts from a JSON block the template fills; the block must be valid JSON in
// every language and hold every text the script uses, entry rule names included.
func TestAdminMessages(t *testing.T) {
	h := newHandler(t)
	js := h.static["admin.js"].body
	want := []string{"open", "invite", "approval"} // looked up as msg[group.entryRule]
	for _, m := range msgUse.FindAllStringSubmatch(js, -1) {
		want = append(want, m[1])
	}
	for _, l := range i18n.Langs {
		body := get(t, h, "GET /admin", map[string]string{"lang": string(l)}, nil).Body
		m := msgBlock.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("admin (%s): no message block", l)
		}
		var msgs map[string]string
		if err := json.Unmarshal([]byte(m[1]), &msgs); err != nil {
			t.Fatalf("admin (%s): message block is not JSON: %v", l, err)
		}
		for _, k := range want {
			if msgs[k] == "" {
				t.Errorf("admin (%s): message %q used by admin.js is missing", l, k)
			}
		}
	}
}

// The routes the handler serves are exactly the WebFunction's events in template.yaml.
func TestRoutesMatchTemplate(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Properties struct {
				Events map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Method string `yaml:"Method"`
						Path   string `yaml:"Path"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	var want []string
	for _, e := range tpl.Resources["WebFunction"].Properties.Events {
		if e.Type == "HttpApi" {
			want = append(want, e.Properties.Method+" "+e.Properties.Path)
		}
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, newHandler(t).Routes()); diff != "" {
		t.Errorf("routes (-template.yaml +handler):\n%s", diff)
	}
}

func TestWireNeedsNoAWS(t *testing.T) {
	// The web function makes no AWS call, so its Wire takes no AWS config at all.
	h := Wire(Env{BaseURL: "https://yl.example.cn"}, slog.New(slog.DiscardHandler))
	if got := get(t, h, "GET /", nil, nil).StatusCode; got != 200 {
		t.Fatalf("GET / = %d, want 200", got)
	}
}

// The senior pages' scripts read their texts from the page's JSON block, like admin.js: every
// text a script uses is there, in every language, and a status the API sends has its words.
func TestSeniorPageMessages(t *testing.T) {
	h := newHandler(t)
	// rem.js, on every reminder page, names kinds as msg['k_' + kind] and repeats as msg[freq].
	rem := []string{"k_medication", "k_checkup", "k_event", "k_custom", "daily", "weekdays", "weekly", "every_days"}
	tests := []struct {
		route    string
		scripts  []string
		lookedUp []string // keys a script reads as msg[value from the API]
	}{
		{"GET /join/{code}", []string{"join.js"}, nil},
		{"GET /me", []string{"rem.js", "remlist.js", "me.js"}, append([]string{"active", "pending_approval", "pending_verification", "view", "helper"}, rem...)},
		{"GET /f/{token}", []string{"rem.js", "remlist.js", "recorder.js", "seslist.js", "family.js"}, append([]string{"view", "helper"}, rem...)},
		{"GET /sessions", []string{"rem.js", "recorder.js", "seslist.js", "sessions.js"}, rem},
		{"GET /b/{token}", []string{"rem.js", "booking.js"}, rem},
		// staff-sessions.js names attendance as msg['att_' + attendance] and who booked as
		// msg['via_' + via].
		{"GET /admin/sessions", []string{"rem.js", "staff.js", "staff-sessions.js"},
			append([]string{"att_", "att_attended", "att_no_show", "via_member", "via_family", "via_staff"}, rem...)},
		{"GET /admin/sessions/digest", []string{"rem.js", "staff.js", "staff-digest.js"}, rem},
		{"GET /r/{token}", []string{"rem.js", "reminder.js"}, rem},
		{"GET /admin/reminders", []string{"rem.js", "remlist.js", "recorder.js", "staff-reminders.js"}, append([]string{"st_active", "st_paused", "st_cancelled", "st_done"}, rem...)},
		// offer.js names the price by msg['tier_' + tier].
		{"GET /o/{token}", []string{"rem.js", "offer.js"}, append([]string{"tier_member", "tier_leader", "tier_partner"}, rem...)},
		// staff-campaigns.js names a campaign's status, kind and channel, the channel's limit, and
		// each figure of its stats by prefix + the API's value.
		{"GET /admin/campaigns", []string{"rem.js", "staff.js", "staff-campaigns.js"}, append([]string{
			"st_scheduled", "st_sending", "st_sent", "st_cancelled", "kind_promotion", "kind_content",
			"ch_sms", "ch_voice", "ch_wecom", "help_sms", "help_voice", "help_wecom",
			"stat_audience", "stat_queued", "stat_deferred", "stat_sent", "stat_failed", "stat_skipped", "stat_opened", "stat_unsubscribed",
			"sup_budget", "sup_no_consent", "sup_opted_out", "sup_unverified", "sup_channel", "sup_quota",
		}, rem...)},
	}
	for _, tt := range tests {
		want := slices.Clone(tt.lookedUp)
		for _, script := range tt.scripts {
			if _, ok := h.static[script]; !ok {
				t.Fatalf("no static file %s", script)
			}
			for _, m := range msgUse.FindAllStringSubmatch(h.static[script].body, -1) {
				want = append(want, m[1])
			}
		}
		for _, l := range i18n.Langs {
			body := get(t, h, tt.route, map[string]string{"lang": string(l)}, nil).Body
			m := msgBlock.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("%s (%s): no message block", tt.route, l)
			}
			var msgs map[string]string
			if err := json.Unmarshal([]byte(m[1]), &msgs); err != nil {
				t.Fatalf("%s (%s): message block is not JSON: %v", tt.route, l, err)
			}
			for _, k := range want {
				if msgs[k] == "" {
					t.Errorf("%s (%s): message %q used by %v is missing", tt.route, l, k, tt.scripts)
				}
			}
		}
	}
}

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// A text the scripts fill in ("验证码已发送到 {phone}") has the same placeholders in every language,
// so no translation drops the number or the name.
func TestPagePlaceholdersMatch(t *testing.T) {
	for key, zh := range i18n.CatalogFor(i18n.ZhCN) {
		if !strings.HasPrefix(key, "page.") {
			continue
		}
		want := placeholder.FindAllString(zh, -1)
		slices.Sort(want)
		for _, l := range i18n.Langs[1:] {
			got := placeholder.FindAllString(i18n.T(l, key), -1)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Errorf("%s (%s) has placeholders %v, zh-CN has %v", key, l, got, want)
			}
		}
	}
}

var dataField = regexp.MustCompile(`data-field="([^"]+)"`)

// join.js shows an API error next to the element whose data-field is the error's field; the
// page must name exactly the fields the signup and verification errors name.
func TestJoinPageNamesTheAPIFields(t *testing.T) {
	var want []string
	for _, e := range []*fail.Error{
		member.ErrNameRequired, member.ErrInvalidPhone, member.ErrInvalidBirthYear, member.ErrInvalidGender,
		member.ErrInvalidInterest, member.ErrConsentRequired, member.ErrCovenantRequired, member.ErrOTPWrong,
	} {
		want = append(want, e.Field)
	}
	slices.Sort(want)
	b, err := fs.ReadFile(assets.Templates(), "join.html")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range dataField.FindAllStringSubmatch(string(b), -1) {
		got = append(got, m[1])
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data-field names (-API errors +join.html):\n%s", diff)
	}
}

// The reminder page a text message links to and the staff reminders page: their headers, their
// words in both languages, their scripts. The reminder page's URL is a token, like a family
// link's: no Referer, no index.
func TestReminderPages(t *testing.T) {
	h := newHandler(t)
	js := func(name string) string { return `src="/static/` + name + `?v=` + h.static[name].version + `"` }
	tests := []struct {
		route, lang string
		headers     map[string]string
		contains    []string
	}{
		{"GET /r/{token}", "zh-CN", map[string]string{"referrer-policy": "no-referrer", "x-robots-tag": "noindex, nofollow", "content-security-policy": cspVoice},
			[]string{"<title>提醒</title>", ">收到</button>", ">听一听</button>", "好的，已收到", "现在还没有要确认的提醒", "<noscript>",
				`<meta name="referrer" content="no-referrer">`, `<audio id="audio"`, js("rem.js"), js("reminder.js")}},
		{"GET /r/{token}", "en", nil, []string{`<html lang="en">`, ">Done</button>", ">Listen</button>", "Got it", "Nothing to confirm yet"}},
		{"GET /admin/reminders", "zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "content-security-policy": cspVoice, "referrer-policy": "strict-origin-when-cross-origin"},
			[]string{"<title>提醒管理</title>", "员工令牌", "发送队列", "发件箱", "本地开发用", "上面选中的整个群", `href="/admin"`,
				`type="password"`, js("rem.js"), js("remlist.js"), js("staff-reminders.js")}},
		{"GET /admin/reminders", "en", nil, []string{`<html lang="en">`, "Queues", "Outbox", "The whole group chosen above"}},
	}
	for _, tt := range tests {
		resp := get(t, h, tt.route, map[string]string{"lang": tt.lang}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s (%s): status %d", tt.route, tt.lang, resp.StatusCode)
		}
		for k, v := range tt.headers {
			if got := resp.Headers[k]; got != v {
				t.Errorf("%s (%s): %s = %q, want %q", tt.route, tt.lang, k, got, v)
			}
		}
		for _, c := range tt.contains {
			if !strings.Contains(resp.Body, c) {
				t.Errorf("%s (%s): body does not contain %q", tt.route, tt.lang, c)
			}
		}
	}
}

// The doctor Q&A pages and what they add to my page and the family page: their headers, their
// words in both languages, their scripts. The booking page's URL is a token, like a reminder
// page's: no Referer, no index; the staff page plays questions recorded as clips.
func TestQAPages(t *testing.T) {
	h := newHandler(t)
	js := func(name string) string { return `src="/static/` + name + `?v=` + h.static[name].version + `"` }
	noindex := map[string]string{"x-robots-tag": "noindex, nofollow", "content-security-policy": csp, "referrer-policy": "strict-origin-when-cross-origin"}
	tests := []struct {
		route, lang string
		headers     map[string]string
		contains    []string
	}{
		{"GET /sessions", "zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "content-security-policy": cspVoice},
			[]string{"<title>医生讲座预约</title>", "请先打开入群链接", "短信验证码", `id="ses-list"`, `href="/me"`,
				js("rem.js"), js("recorder.js"), js("seslist.js"), js("sessions.js"), `"setReminders": "已为您设好提醒`, `"book": "预约"`,
				`id="q-rec"`, ">录一段问题</button>", ">删掉录音</button>"}},
		{"GET /sessions", "en", nil, []string{`<html lang="en">`, "Upcoming doctor talks", `"book": "Book"`, `"setReminders": "Reminders are set`,
			">Record my question</button>", `"recDone": "Recorded.`}},
		{"GET /b/{token}", "zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "referrer-policy": "no-referrer", "content-security-policy": csp},
			[]string{">听一听</button>", ">取消预约</button>", "不想取消，就不用点。", `"cancelConfirm": "确定取消？再点一次"`, js("rem.js"), js("booking.js")}},
		{"GET /b/{token}", "en", nil, []string{">Listen</button>", ">Cancel my booking</button>", "This booking is no longer here"}},
		{"GET /me", "zh-CN", nil, []string{"我的预约", `href="/sessions"`, `id="book-tpl"`, "听一听，或取消"}},
		{"GET /me", "en", nil, []string{"My bookings", "See the upcoming doctor talks"}},
		{"GET /f/{token}", "zh-CN", map[string]string{"referrer-policy": "no-referrer"},
			[]string{`id="ses-section"`, `id="ses-tpl"`, `"sesHelper": "您可以替TA预约或取消`, js("seslist.js")}},
		{"GET /admin/sessions", "zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "content-security-policy": cspVoice},
			[]string{"医生讲座", "员工令牌", "开始前几分钟截止报名", "和谁的问题重复", "打印给医生的问题单", `href="/admin"`,
				js("rem.js"), js("staff.js"), js("staff-sessions.js")}},
		{"GET /admin/sessions", "en", nil, []string{"Schedule a talk", "Same question as", "Print the question sheet for the doctor"}},
		{"GET /admin/sessions/digest", "zh-CN", noindex, []string{"会员的问题（按顺序）", `class="print-me"`, js("staff-digest.js")}},
		{"GET /admin", "zh-CN", nil, []string{`href="/admin/sessions"`, "医生讲座、预约和问题"}},
		// A reminder a booking made links on to the booking's page.
		{"GET /r/{token}", "zh-CN", nil, []string{`id="booking-link"`, "查看这次讲座预约，或取消"}},
	}
	for _, tt := range tests {
		resp := get(t, h, tt.route, map[string]string{"lang": tt.lang}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s (%s): status %d", tt.route, tt.lang, resp.StatusCode)
		}
		for k, v := range tt.headers {
			if got := resp.Headers[k]; got != v {
				t.Errorf("%s (%s): %s = %q, want %q", tt.route, tt.lang, k, got, v)
			}
		}
		for _, c := range tt.contains {
			if !strings.Contains(resp.Body, c) {
				t.Errorf("%s (%s): body does not contain %q", tt.route, tt.lang, c)
			}
		}
	}
}

// The offer page a promotion's message links to and the staff campaigns page: their headers,
// their words in both languages, their scripts. The offer page's URL is a token, like a booking
// page's: no Referer, no index; its CSP lets the offer's picture come from any https origin.
func TestCampaignPages(t *testing.T) {
	h := newHandler(t)
	js := func(name string) string { return `src="/static/` + name + `?v=` + h.static[name].version + `"` }
	tests := []struct {
		route, lang string
		headers     map[string]string
		contains    []string
	}{
		{"GET /o/{token}", "zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "referrer-policy": "no-referrer", "content-security-policy": cspImages},
			[]string{"<title>优惠活动</title>", ">听一听</button>", ">不想再收到优惠信息</button>", "点一下就退订",
				"已为您退订，以后不会再给您发优惠信息。", "健康提醒不受影响", "线上参与，线下领取", `"yourPrice": "您的价格（{tier}）"`,
				`"tier_leader": "团长价"`, `"pickup": "到店领取：{place}，{when}"`, `"ended": "这个优惠已经结束了"`,
				`<img id="image" alt="" width="640" height="480" loading="lazy"`, "<noscript>",
				`<meta name="referrer" content="no-referrer">`, js("rem.js"), js("offer.js")}},
		{"GET /o/{token}", "en", nil, []string{`<html lang="en">`, ">Listen</button>", ">No more offers, please</button>",
			"You are unsubscribed", "This offer is no longer here", `"tier_partner": "partner price"`}},
		{"GET /admin/campaigns", "zh-CN", map[string]string{"x-robots-tag": "noindex, nofollow", "content-security-policy": csp, "referrer-policy": "strict-origin-when-cross-origin"},
			[]string{"<title>推送活动 · 店员</title>", "员工令牌", "新建推送", "发给哪些社群", "会员价", "团长价", "合伙人价",
				`name="channel" value="sms" checked`, `name="kind" value="promotion" checked`, `name="when" value="now" checked`,
				`"help_sms": "短信最多 {n} 个字：加上店名和优惠链接，正好是一条短信。`, "发送情况", ">取消推送</button>",
				`"cancelConfirm": "确定取消？再点一次"`, `href="/admin"`, `type="password"`, js("rem.js"), js("staff.js"), js("staff-campaigns.js")}},
		{"GET /admin/campaigns", "en", nil, []string{`<html lang="en">`, "New campaign", "Which groups", ">Cancel the campaign</button>", "Delivery"}},
		{"GET /admin", "en", nil, []string{`href="/admin/campaigns"`, ">Campaigns</a>"}},
	}
	for _, tt := range tests {
		resp := get(t, h, tt.route, map[string]string{"lang": tt.lang}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s (%s): status %d", tt.route, tt.lang, resp.StatusCode)
		}
		for k, v := range tt.headers {
			if got := resp.Headers[k]; got != v {
				t.Errorf("%s (%s): %s = %q, want %q", tt.route, tt.lang, k, got, v)
			}
		}
		for _, c := range tt.contains {
			if !strings.Contains(resp.Body, c) {
				t.Errorf("%s (%s): body does not contain %q", tt.route, tt.lang, c)
			}
		}
	}
}

// staff-campaigns.js shows an API error next to the element whose data-field is the error's
// field, or the nearest enclosing one ("offer.prices.member" shows by the prices): every field a
// campaign error names must find one, and every suppression reason the stats count has its words.
func TestCampaignPageNamesTheAPIFields(t *testing.T) {
	// field.Line, field.HTTPS, too_many_values, and a pickup start that is not a time.
	fields := []string{"title", "imageUrl", "offer.pickupPlace", "audience", "offer.pickupFrom"}
	for _, e := range []*fail.Error{
		promo.ErrInvalidKind, promo.ErrInvalidChannel, promo.ErrBodyTooLong, promo.ErrPriceMissing, promo.ErrInvalidPrice,
		promo.ErrOfferRequired, promo.ErrOfferForbidden, promo.ErrInvalidPickup, promo.ErrSendAtPast, promo.ErrSendAtFar,
		promo.ErrInvalidDays, promo.ErrNoGroups, promo.ErrTooManyGroups, promo.ErrInvalidMatch, promo.ErrInvalidTier,
		promo.ErrInvalidAge, promo.ErrInvalidTag,
	} {
		fields = append(fields, e.Field)
	}
	for _, t := range promo.Tiers {
		fields = append(fields, "offer.prices."+string(t))
	}
	b, err := fs.ReadFile(assets.Templates(), "staff-campaigns.html")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, m := range dataField.FindAllStringSubmatch(string(b), -1) {
		named[m[1]] = true
	}
	for _, f := range fields {
		name := f
		for name != "" && !named[name] {
			i := strings.LastIndex(name, ".")
			if i < 0 {
				name = ""
				break
			}
			name = name[:i]
		}
		if name == "" {
			t.Errorf("field %q of a campaign error has no data-field in staff-campaigns.html", f)
		}
	}
	h := newHandler(t)
	body := get(t, h, "GET /admin/campaigns", nil, nil).Body
	for _, r := range promo.SuppressionReasons {
		if !strings.Contains(body, `"sup_`+string(r)+`": "`) {
			t.Errorf("suppression reason %q has no words (sup_%s) on /admin/campaigns", r, r)
		}
	}
}

// Package web is the function that serves the H5 pages: the landing page a senior sees without a
// group code (GET /), the join page a group's QR code, a staff invite or a referral opens
// (GET /join/{code}), the senior's own page (GET /me), the page a family link opens
// (GET /f/{token}), the page a reminder's text message links to (GET /r/{token}), the doctor
// Q&A sessions a senior books (GET /sessions) and the page every booking message links to
// (GET /b/{token}), the page a promotion's message links to (GET /o/{token}), the staff admin
// pages (GET /admin, GET /admin/reminders, GET /admin/sessions and its printable question digest,
// GET /admin/sessions/digest, GET /admin/campaigns) and the static files they use
// (GET /static/{file}). The pages and files are embedded (package
// yinling/web), rendered per language from the i18n catalog, and cached by the phone as long as
// they are unchanged: HTML is revalidated on every visit (a deploy shows at once), static files
// are immutable under a content-hash URL. The function makes no AWS call: the senior pages are
// shells whose small scripts read the JSON API.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"yinling/shared/apigw"
	"yinling/shared/fail"
	"yinling/shared/i18n"
	assets "yinling/web"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	LogLevel string `env:"LOG_LEVEL,optional"`
	BaseURL  string `env:"PUBLIC_BASE_URL,optional"`
}

// Deps are what the handler needs; tests and the local stack build them as main does.
type Deps struct {
	Log *slog.Logger
	// BaseURL is the public origin for absolute links a page prints (join and share pages);
	// "" uses the request's host. Today's pages link relatively.
	BaseURL string
}

// Handler serves the H5 pages.
type Handler struct {
	*apigw.Mux
	d      Deps
	static map[string]staticFile
	pages  map[string]map[i18n.Lang]*template.Template // page name → language → template
	// rendered holds each page in each language, rendered once: a page is the same bytes for
	// everyone until the next deploy (what differs per person, the scripts fetch).
	rendered map[string]map[i18n.Lang]renderedPage
}

type renderedPage struct {
	body string
	etag string
}

// A page is one template file (templates/<name>.html) rendered inside layout.html.
type page struct {
	name    string
	noindex bool // staff pages stay out of search engines
	// noReferrer keeps the page's URL out of every Referer header: a family link's URL is its
	// token, a capability that must not leak to whatever the page loads or links to.
	noReferrer bool
	// voice pages play voice clips and, on the family page, upload them: their CSP lets audio
	// come from, and uploads go to, the voice bucket (see cspVoice).
	voice bool
	// images pages show a picture staff linked (an offer's): their CSP lets images come from
	// any https origin (see cspImages).
	images bool
}

// staticFile is one embedded file under /static/, hashed once when the handler is built.
type staticFile struct {
	body        string
	contentType string
	version     string // the ?v= that makes its URL immutable: a prefix of its SHA-256
	etag        string
}

// Header values every response of this function carries. The CSP allows no inline script or
// style and no third-party origin: a page can run only the files embedded here, and only the
// voice pages may fetch anything from elsewhere (audio, and a clip's upload).
const (
	csp = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	// cspVoice adds where voice clips live: a presigned S3 URL, to play one (media-src) and to
	// PUT a recording (connect-src), and blob: for hearing a recording before it is saved. The
	// web function is not told the bucket's name, so S3's domains stand for it (AWS's, and AWS
	// China's); loopback is the local stack's S3 emulator, and can only ever reach the phone
	// itself.
	voiceSources = "https://*.amazonaws.com https://*.amazonaws.com.cn http://127.0.0.1:* http://localhost:*"
	cspVoice     = "default-src 'self'; img-src 'self' data:; media-src 'self' blob: " + voiceSources + "; connect-src 'self' " + voiceSources + "; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	// cspImages lets an offer's picture come from wherever staff host it, over https only (the
	// API refuses any other link); scripts, styles and connections stay our own. The page sends
	// no Referer, so the picture's host never sees the offer's token.
	cspImages      = "default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	cacheHTML      = "no-cache"
	cacheImmutable = "public, max-age=31536000, immutable"
)

// contentTypes are the static file kinds we serve, fixed here rather than read from the
// system's MIME table so Lambda and a laptop answer the same.
var contentTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".webp": "image/webp",
}

// New returns the handler with every page route registered. The embedded files are read,
// hashed and parsed here, once per process; a broken template is a build defect and panics.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{Mux: apigw.NewMux(d.Log), d: d}
	var err error
	if h.static, err = loadStatic(assets.Static()); err != nil {
		panic(err)
	}
	home, admin := page{name: "home"}, page{name: "admin", noindex: true}
	// A join page's URL carries a code and my page is one person's: neither belongs in a search
	// engine. Both are the same shell for everyone (the script reads the code from the path and
	// the member from the session cookie), so one ETag serves every code and every senior.
	join, me := page{name: "join", noindex: true}, page{name: "me", noindex: true, voice: true}
	// A family link's page is the same shell for every token too; the token is a capability, so
	// it stays out of Referer headers and search indexes. So is a reminder's page: its token is
	// in every text message of that reminder.
	family := page{name: "family", noindex: true, noReferrer: true, voice: true}
	reminder := page{name: "reminder", noindex: true, noReferrer: true, voice: true}
	staffReminders := page{name: "staff-reminders", noindex: true, voice: true}
	// The doctor Q&A pages: the senior's list of sessions (the cookie says whose; a question may
	// be recorded and uploaded), the booking page every booking message links to (its token is
	// the capability, like a reminder's), the staff page (it plays questions recorded as clips)
	// and the digest staff print for the doctor.
	sessions := page{name: "sessions", noindex: true, voice: true}
	booking := page{name: "booking", noindex: true, noReferrer: true}
	staffSessions := page{name: "staff-sessions", noindex: true, voice: true}
	staffDigest := page{name: "staff-digest", noindex: true}
	// The offer page every promotion's message links to: its token is the capability, like a
	// booking's, and it may show a picture from elsewhere; and the staff page that sends them.
	offer := page{name: "offer", noindex: true, noReferrer: true, images: true}
	staffCampaigns := page{name: "staff-campaigns", noindex: true}
	if h.pages, err = parsePages(assets.Templates(), h.assetURL,
		home.name, admin.name, join.name, me.name, family.name, reminder.name, staffReminders.name,
		sessions.name, booking.name, staffSessions.name, staffDigest.name, offer.name, staffCampaigns.name); err != nil {
		panic(err)
	}
	if err := h.render(); err != nil {
		panic(err)
	}
	h.Route("GET /", h.servePage(home))
	h.Route("GET /admin", h.servePage(admin))
	h.Route("GET /join/{code}", h.servePage(join))
	h.Route("GET /me", h.servePage(me))
	h.Route("GET /f/{token}", h.servePage(family))
	h.Route("GET /r/{token}", h.servePage(reminder))
	h.Route("GET /admin/reminders", h.servePage(staffReminders))
	h.Route("GET /sessions", h.servePage(sessions))
	h.Route("GET /b/{token}", h.servePage(booking))
	h.Route("GET /admin/sessions", h.servePage(staffSessions))
	h.Route("GET /admin/sessions/digest", h.servePage(staffDigest))
	h.Route("GET /o/{token}", h.servePage(offer))
	h.Route("GET /admin/campaigns", h.servePage(staffCampaigns))
	h.Route("GET /static/{file}", h.serveStatic)
	return h
}

// Wire builds the handler from its configuration. The web function makes no AWS calls, so cfg
// is unused; Wire keeps the shape every function's has for lambdamain and the local stack.
func Wire(env Env, log *slog.Logger) *Handler {
	return New(Deps{Log: log, BaseURL: env.BaseURL})
}

func loadStatic(fsys fs.FS) (map[string]staticFile, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read static files: %w", err)
	}
	out := make(map[string]staticFile, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue // /static/{file} is one path segment
		}
		ct, ok := contentTypes[path.Ext(e.Name())]
		if !ok {
			return nil, fmt.Errorf("static file %s: no content type for %q", e.Name(), path.Ext(e.Name()))
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read static file %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		v := hex.EncodeToString(sum[:])[:12]
		out[e.Name()] = staticFile{body: string(b), contentType: ct, version: v, etag: `"` + v + `"`}
	}
	return out, nil
}

// assetURL is the template function "asset": the content-hash URL of a static file. An unknown
// name fails the render, so a typo cannot ship a page without its stylesheet.
func (h *Handler) assetURL(name string) (string, error) {
	f, ok := h.static[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.version, nil
}

// parsePages parses layout.html and parts.html (the pieces pages share) with each named page,
// then clones the set once per language
// with "T" bound to that language's catalog, so templates say {{T "page.home.title"}}.
func parsePages(fsys fs.FS, asset func(string) (string, error), names ...string) (map[string]map[i18n.Lang]*template.Template, error) {
	out := make(map[string]map[i18n.Lang]*template.Template, len(names))
	for _, name := range names {
		base, err := template.New("layout.html").
			Funcs(template.FuncMap{"T": func(string) string { return "" }, "asset": asset}).
			ParseFS(fsys, "layout.html", "parts.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[name] = make(map[i18n.Lang]*template.Template, len(i18n.Langs))
		for _, l := range i18n.Langs {
			t, err := base.Clone()
			if err != nil {
				return nil, fmt.Errorf("clone page %s: %w", name, err)
			}
			out[name][l] = t.Funcs(template.FuncMap{"T": func(key string) string { return i18n.T(l, key) }})
		}
	}
	return out, nil
}

// pageData is what layout.html and every page see.
type pageData struct {
	Page      string
	Lang      i18n.Lang
	Other     i18n.Lang // the language the switch link offers
	OtherName string    // its name, in itself ("English", "中文")
}

// render renders every page in every language once, with its ETag.
func (h *Handler) render() error {
	h.rendered = map[string]map[i18n.Lang]renderedPage{}
	for name, byLang := range h.pages {
		h.rendered[name] = map[i18n.Lang]renderedPage{}
		for lang, tmpl := range byLang {
			other := otherLang(lang)
			data := pageData{Page: name, Lang: lang, Other: other, OtherName: i18n.T(other, "page.common.lang_name")}
			var buf bytes.Buffer
			if err := tmpl.ExecuteTemplate(&buf, "layout.html", data); err != nil {
				return fmt.Errorf("render page %s (%s): %w", name, lang, err)
			}
			// A revisit on a slow line then costs a 304 rather than the page again.
			sum := sha256.Sum256(buf.Bytes())
			h.rendered[name][lang] = renderedPage{body: buf.String(), etag: `"` + hex.EncodeToString(sum[:])[:16] + `"`}
		}
	}
	return nil
}

func (h *Handler) servePage(p page) apigw.HandlerFunc {
	return func(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
		lang := pageLang(r)
		rp := h.rendered[p.name][lang]
		hdr := baseHeaders()
		hdr["content-type"] = "text/html; charset=utf-8"
		hdr["cache-control"] = cacheHTML
		hdr["content-language"] = string(lang)
		hdr["vary"] = "Accept-Language"
		if p.noindex {
			hdr["x-robots-tag"] = "noindex, nofollow"
		}
		if p.noReferrer {
			hdr["referrer-policy"] = "no-referrer"
		}
		if p.voice {
			hdr["content-security-policy"] = cspVoice
		}
		if p.images {
			hdr["content-security-policy"] = cspImages
		}
		hdr["etag"] = rp.etag
		return conditional(r, hdr, rp.body), nil
	}
}

func (h *Handler) serveStatic(_ context.Context, r *apigw.Request) (apigw.Response, error) {
	f, ok := h.static[r.PathParameters["file"]]
	if !ok {
		return apigw.Response{}, fail.ErrNotFound
	}
	hdr := baseHeaders()
	hdr["content-type"] = f.contentType
	hdr["etag"] = f.etag
	// Immutable only under the URL of exactly these bytes: during a deploy an old instance may
	// still answer for a new page's ?v=, and must not let a phone keep old bytes under it.
	if r.QueryStringParameters["v"] == f.version {
		hdr["cache-control"] = cacheImmutable
	} else {
		hdr["cache-control"] = cacheHTML
	}
	return conditional(r, hdr, f.body), nil
}

// conditional answers 304 without a body when the request's If-None-Match names the ETag in
// hdr, else 200 with body.
func conditional(r *apigw.Request, hdr map[string]string, body string) apigw.Response {
	if etagMatch(apigw.Header(r, "if-none-match"), hdr["etag"]) {
		delete(hdr, "content-type")
		return apigw.Response{StatusCode: http.StatusNotModified, Headers: hdr}
	}
	return apigw.Response{StatusCode: http.StatusOK, Headers: hdr, Body: body}
}

// etagMatch applies If-None-Match's weak comparison (RFC 9110 §13.1.2): "*" or any listed tag
// equal to etag once a W/ prefix is dropped.
func etagMatch(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" || etag == "" {
		return false
	}
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func baseHeaders() map[string]string {
	return map[string]string{
		"content-security-policy": csp,
		"x-content-type-options":  "nosniff",
		"referrer-policy":         "strict-origin-when-cross-origin",
		"x-frame-options":         "DENY", // frame-ancestors for WebViews that predate it
	}
}

// pageLang is the language of a page: ?lang=en|zh-CN first (the switch link, or a link staff
// send), then Accept-Language, then zh-CN.
func pageLang(r *apigw.Request) i18n.Lang {
	if q := r.QueryStringParameters["lang"]; q != "" {
		for _, l := range i18n.Langs {
			if strings.EqualFold(q, string(l)) {
				return l
			}
		}
	}
	return apigw.Lang(r)
}

// otherLang is the language the switch link offers: the first supported one that is not l.
func otherLang(l i18n.Lang) i18n.Lang {
	for _, o := range i18n.Langs {
		if o != l {
			return o
		}
	}
	return l
}

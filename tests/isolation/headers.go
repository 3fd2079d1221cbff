package isolation

import (
	"net/http"
	"strings"
)

// PageHeaderProblems returns what is wrong with an H5 page's security headers: a CSP that is
// not strict (a script source other than 'self', a nonce or a hash; 'unsafe-inline' or
// 'unsafe-eval' for scripts; no frame-ancestors 'none'; no object-src 'none'), no
// X-Content-Type-Options: nosniff, no Referrer-Policy — no-referrer, with noindex, on a page
// whose URL is a capability.
func PageHeaderProblems(h http.Header, capability bool) []string {
	var out []string
	csp := h.Values("Content-Security-Policy")
	if len(csp) != 1 {
		out = append(out, "want one Content-Security-Policy header, got "+strings.Join(csp, " | "))
	} else {
		out = append(out, cspProblems(csp[0])...)
	}
	if v := h.Get("X-Content-Type-Options"); !strings.EqualFold(v, "nosniff") {
		out = append(out, "X-Content-Type-Options is "+quote(v)+", want nosniff")
	}
	rp := h.Get("Referrer-Policy")
	switch {
	case rp == "":
		out = append(out, "no Referrer-Policy")
	case capability && rp != "no-referrer":
		out = append(out, "capability page: Referrer-Policy is "+quote(rp)+", want no-referrer")
	}
	if capability && !strings.Contains(h.Get("X-Robots-Tag"), "noindex") {
		out = append(out, "capability page: X-Robots-Tag is "+quote(h.Get("X-Robots-Tag"))+", want noindex")
	}
	return out
}

// cspProblems checks one policy.
func cspProblems(policy string) []string {
	dirs := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		name := strings.ToLower(f[0])
		if _, dup := dirs[name]; !dup { // the first of a repeated directive wins
			dirs[name] = f[1:]
		}
	}
	var out []string
	scripts, ok := dirs["script-src"]
	if !ok {
		scripts, ok = dirs["default-src"]
	}
	if !ok {
		out = append(out, "CSP restricts no script source (neither script-src nor default-src): "+policy)
	}
	for _, s := range scripts {
		ls := strings.ToLower(s)
		switch {
		case ls == "'self'", ls == "'none'", ls == "'strict-dynamic'", ls == "'report-sample'",
			strings.HasPrefix(ls, "'nonce-"), strings.HasPrefix(ls, "'sha256-"), strings.HasPrefix(ls, "'sha384-"), strings.HasPrefix(ls, "'sha512-"):
		default:
			out = append(out, "CSP allows script source "+s)
		}
	}
	if fa := dirs["frame-ancestors"]; len(fa) != 1 || fa[0] != "'none'" {
		out = append(out, "CSP frame-ancestors is "+quote(strings.Join(fa, " "))+", want 'none'")
	}
	obj, ok := dirs["object-src"]
	if !ok {
		obj = dirs["default-src"]
	}
	if len(obj) != 1 || obj[0] != "'none'" {
		out = append(out, "CSP object-src (or default-src) is "+quote(strings.Join(obj, " "))+", want 'none'")
	}
	return out
}

// CookieProblems returns what a Set-Cookie value lacks: HttpOnly, Secure, SameSite.
func CookieProblems(setCookie string) []string {
	attrs := map[string]string{}
	for i, p := range strings.Split(setCookie, ";") {
		if i == 0 {
			continue // name=value
		}
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		attrs[strings.ToLower(k)] = v
	}
	var out []string
	if _, ok := attrs["httponly"]; !ok {
		out = append(out, "no HttpOnly")
	}
	if _, ok := attrs["secure"]; !ok {
		out = append(out, "no Secure")
	}
	switch strings.ToLower(attrs["samesite"]) {
	case "lax", "strict":
	default:
		out = append(out, "SameSite is "+quote(attrs["samesite"])+", want Lax or Strict")
	}
	return out
}

func quote(s string) string { return `"` + s + `"` }

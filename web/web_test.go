package web

import (
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func readAll(t *testing.T, fsys fs.FS) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The pages load nothing from elsewhere (no CDN, font or analytics script) and do nothing the
// Content-Security-Policy would block: no inline script or style, no event-handler attributes.
func TestAssetsAreSelfContained(t *testing.T) {
	forbidden := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"an absolute URL", regexp.MustCompile(`(?i)https?://|["'(=]\s*//[a-z0-9]`)},
		{"@import or a web font", regexp.MustCompile(`(?i)@import|@font-face`)},
		{"a style attribute", regexp.MustCompile(`(?i)\sstyle=`)},
		{"an event-handler attribute", regexp.MustCompile(`(?i)<[^>]*\son[a-z]+=`)},
	}
	files := readAll(t, Templates())
	for p, s := range readAll(t, Static()) {
		files["static/"+p] = s
	}
	for p, s := range files {
		for _, f := range forbidden {
			if m := f.re.FindString(s); m != "" {
				t.Errorf("%s has %s: %q", p, f.what, m)
			}
		}
		if path.Ext(p) != ".html" {
			continue
		}
		for _, tag := range regexp.MustCompile(`(?i)<script\b[^>]*>`).FindAllString(s, -1) {
			if !strings.Contains(tag, `src="{{asset `) && !strings.Contains(tag, `type="application/json"`) {
				t.Errorf("%s has a script the CSP would block: %s", p, tag)
			}
		}
	}
}

// Scripts insert what the API returns as text, never as markup.
func TestScriptsNeverInsertHTML(t *testing.T) {
	unsafe := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(`)
	for p, s := range readAll(t, Static()) {
		if path.Ext(p) != ".js" {
			continue
		}
		if m := unsafe.FindString(s); m != "" {
			t.Errorf("%s uses %s", p, m)
		}
		// The staff admin page (members, group health, printable QR) is allowed more; the
		// senior pages stay small.
		limit := 15 << 10
		if p == "admin.js" {
			limit = 25 << 10
		}
		if len(s) > limit {
			t.Errorf("%s is %d bytes, over %d KiB", p, len(s), limit>>10)
		}
	}
}

// Type scales with the phone's font setting (rem, never px) and body text is at least 18px at
// the default 16px root.
func TestFontSizesAreLargeAndScalable(t *testing.T) {
	css, err := fs.ReadFile(Static(), "app.css")
	if err != nil {
		t.Fatal(err)
	}
	sizes := regexp.MustCompile(`font-size:\s*([0-9.]+)([a-z%]*)`).FindAllStringSubmatch(string(css), -1)
	if len(sizes) == 0 {
		t.Fatal("no font-size in app.css")
	}
	for _, m := range sizes {
		if m[2] != "rem" && !(m[2] == "%" && m[1] == "100") {
			t.Errorf("font-size %s%s: use rem so the phone's font setting applies", m[1], m[2])
			continue
		}
		if n, _ := strconv.ParseFloat(m[1], 64); m[2] == "rem" && n < 1.125 {
			t.Errorf("font-size %srem is under 18px", m[1])
		}
	}
}

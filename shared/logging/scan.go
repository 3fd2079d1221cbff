package logging

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Finding is one secret Scan found in a log line.
type Finding struct {
	Line int    // 1-based
	Kind string // "phone", "otp", "token"
	// Match is the offending text with its middle blanked, so the report does not print it.
	Match string
}

func (f Finding) String() string { return fmt.Sprintf("line %d: %s %s", f.Line, f.Kind, f.Match) }

// The scanner's patterns. They are its own, not the masker's, so that a line the masker let
// through is judged independently. Each candidate must stand alone (no letter or digit glued to
// either side), which keeps ULIDs, hex hashes, epoch milliseconds and longer numbers out.
var scanPatterns = []struct {
	kind string
	re   *regexp.Regexp
	// group is the submatch that is the secret (0: the whole match).
	group int
	// alone requires the secret to stand alone.
	alone bool
}{
	// Mainland mobiles, with or without +86/0086/86 and with space, hyphen or dot groups.
	{"phone", regexp.MustCompile(`(?:(?:\+|00)86[ .-]?)?1[3-9]\d[ .-]?\d{4}[ .-]?\d{4}`), 0, true},
	// E.164 numbers of any country.
	{"phone", regexp.MustCompile(`\+[1-9](?:[ .-]?\d){7,14}`), 0, true},
	// A one-time code under a key that names it, in JSON or key=value form.
	{"otp", regexp.MustCompile(`(?i)"?\b(?:otp|otp_?code|sms_?code|verify_?code|verification_?code|code)"?\s*[:=]\s*"?(\d{4,8})\b`), 1, false},
	// A one-time code in a sentence, as the SMS text says it.
	{"otp", regexp.MustCompile(`(?i)(?:验证码|code is|one-time code|otp)\D{0,12}(\d{4,8})\b`), 1, false},
	// A capability link's token in a page or API path: /f/, /r/, /b/, /o/ and /api/family/….
	{"token", regexp.MustCompile(`/(?:api/)?(?:f|r|b|o|family)/([A-Za-z0-9_-]{16,})`), 1, false},
	// token=…, session cookie, Authorization values.
	{"token", regexp.MustCompile(`(?i)\b(?:token|yl_session|session)=([A-Za-z0-9_.~-]{16,})`), 1, false},
	{"token", regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9_.~+/-]{16,}=*)`), 1, false},
	// A JWT anywhere.
	{"token", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), 0, false},
	// A session or family-link token (member.NewToken: 43 base64url characters) anywhere.
	{"token", regexp.MustCompile(`[A-Za-z0-9_-]{43}`), 0, true},
}

// ScanLine returns the secrets in one log line: phone numbers, one-time codes, tokens.
// "[phone]" and "[redacted]" are what the logger leaves in their place and are not findings.
func ScanLine(line string) []Finding {
	var out []Finding
	var spans [][2]int // what was found already: one secret is one finding
	for _, p := range scanPatterns {
		for _, m := range p.re.FindAllStringSubmatchIndex(line, -1) {
			start, end := m[2*p.group], m[2*p.group+1]
			if start < 0 {
				continue
			}
			if p.alone && (start > 0 && tokenChar(line[start-1]) || end < len(line) && tokenChar(line[end])) {
				continue
			}
			if p.kind == "token" && p.group == 0 && p.alone && !mixedToken(line[start:end]) {
				continue // 43 characters of one class (a word, a run of digits) are no token
			}
			if slices.ContainsFunc(spans, func(sp [2]int) bool { return start < sp[1] && sp[0] < end }) {
				continue
			}
			spans = append(spans, [2]int{start, end})
			out = append(out, Finding{Kind: p.kind, Match: blank(line[start:end])})
		}
	}
	return out
}

// tokenChar is a character a token or number could continue with.
func tokenChar(c byte) bool { return alnum(c) || c == '_' || c == '-' }

// mixedToken reports whether s has upper and lower case letters and a digit, as 256 random bits
// in base64url all but always have, and as words, hex hashes and numbers do not.
func mixedToken(s string) bool {
	var up, low, dig bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		up = up || c >= 'A' && c <= 'Z'
		low = low || c >= 'a' && c <= 'z'
		dig = dig || c >= '0' && c <= '9'
	}
	return up && low && dig
}

// blank keeps a secret's first and last two characters.
func blank(s string) string {
	if len(s) <= 4 {
		return strings.Repeat("*", len(s))
	}
	return s[:2] + strings.Repeat("*", len(s)-4) + s[len(s)-2:]
}

// Scan reads log lines from r and returns every finding, and how many lines it read.
func Scan(r io.Reader) ([]Finding, int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []Finding
	n := 0
	for sc.Scan() {
		n++
		for _, f := range ScanLine(sc.Text()) {
			f.Line = n
			out = append(out, f)
		}
	}
	return out, n, sc.Err()
}

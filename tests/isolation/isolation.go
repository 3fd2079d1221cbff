// Package isolation owns the tenant-isolation matrix of issue #9: every HttpApi route of
// template.yaml (none is listed by hand), each turned into a request from its sample event under
// events/<function>/ with a victim's ids filled into its path, query and body, and the checks on
// the answers: a refusal (401, 403 or 404) wherever one is owed, never a byte of the victim's
// data, and the security headers of pages and cookies.
//
// The package builds requests and judges answers; it serves nothing. The stack that answers is
// cmd/local's own gateway with its JWT authorizer (TestIsolationMatrix in cmd/local), which lives
// in package main and so cannot be imported from here.
package isolation

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/ids"
	"yinling/shared/sam"
)

// Kind is a kind of object a route can name.
type Kind string

// The kinds of object a route names by id or code. A new kind of route parameter or body id
// fails Target.Request until it is added here and the matrix seeds one.
const (
	Group      Kind = "group"
	Member     Kind = "member"
	Session    Kind = "session" // a doctor's Q&A session
	Campaign   Kind = "campaign"
	Broadcast  Kind = "broadcast"
	Reminder   Kind = "reminder"
	FamilyLink Kind = "familyLink"
	Doctor     Kind = "doctor"
	Code       Kind = "code" // a join, invite or referral code
)

// Objects are one store's ids by kind: what the matrix names in an intruder's requests.
type Objects map[Kind]string

// Target is one HttpApi route of the template, as the matrix calls it.
type Target struct {
	// Function is the function's short name ("admin").
	Function string
	Route    sam.Route
	// Sample names the sample event the request is built from ("create-group"), "" if the route
	// has none (the request then has no body and no query).
	Sample string
	event  events.APIGatewayV2HTTPRequest
}

// Staff reports whether the route is behind the staff JWT authorizer.
func (t Target) Staff() bool { return t.Route.Authorizer != "" }

// Params are the route's path parameters in order: "id", "token", "proxy" for {proxy+}.
func (t Target) Params() []string {
	var out []string
	for _, m := range paramRE.FindAllStringSubmatch(t.Route.Path, -1) {
		out = append(out, strings.TrimSuffix(m[1], "+"))
	}
	return out
}

var paramRE = regexp.MustCompile(`\{([^}]+)\}`)

// Targets returns every HttpApi route of every function of tmpl, sorted by route key, each with
// its plainest sample event from eventsDir (events/<function>/*.json whose routeKey is the
// route's): the one with the shortest file name, which by the project's naming is the good case
// ("create-group", not "create-group-bad-rule").
func Targets(tmpl *sam.Template, eventsDir string) ([]Target, error) {
	var out []Target
	for _, f := range tmpl.Functions {
		samples, err := loadSamples(filepath.Join(eventsDir, f.Name))
		if err != nil {
			return nil, err
		}
		for _, r := range f.Routes {
			t := Target{Function: f.Name, Route: r}
			for _, s := range samples {
				if s.event.RouteKey != r.Key() {
					continue
				}
				if t.Sample == "" || len(s.name) < len(t.Sample) || len(s.name) == len(t.Sample) && s.name < t.Sample {
					t.Sample, t.event = s.name, s.event
				}
			}
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("isolation: the template has no HttpApi route")
	}
	slices.SortFunc(out, func(a, b Target) int { return strings.Compare(a.Route.Key(), b.Route.Key()) })
	return out, nil
}

type sample struct {
	name  string
	event events.APIGatewayV2HTTPRequest
}

func loadSamples(dir string) ([]sample, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []sample
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("isolation: sample %s: %w", p, err)
		}
		if ev.RouteKey != "" {
			out = append(out, sample{name: strings.TrimSuffix(filepath.Base(p), ".json"), event: ev})
		}
	}
	return out, nil
}

// Request is one call of the matrix, before its credential is applied.
type Request struct {
	Method string
	// Path is the route's path with its parameters filled, escaped.
	Path  string
	Query url.Values
	Body  string
	// Header is the sample's headers without credentials and hop-by-hop ones.
	Header http.Header
	// Refs reports whether the request names one of the victim's objects (not counting the
	// {token} parameter): whoever is not the victim's staff or the victim must then be refused.
	Refs bool
}

// Request builds the route's request: path parameters from victim by kind ({token} is token),
// ids in the sample's query and JSON body replaced by the victim's of the same kind, and the
// sample's dates moved shift later (so that "tomorrow" in a sample is still in the future). With
// a nil victim the sample's own values stay. A parameter or body id of a kind victim lacks is an
// error: the matrix must seed one.
func (t Target) Request(victim Objects, token string, shift time.Duration) (Request, error) {
	req := Request{Method: t.Route.Method, Query: url.Values{}, Header: http.Header{}}
	if req.Method == "ANY" {
		req.Method = http.MethodGet
	}
	var fillErr error
	fill := func(k Kind) string {
		v, ok := victim[k]
		if !ok && fillErr == nil {
			fillErr = fmt.Errorf("isolation: %s: no %s to name", t.Route.Key(), k)
		}
		req.Refs = true
		return v
	}
	segments := strings.Split(t.Route.Path, "/")
	for i, seg := range segments {
		m := paramRE.FindStringSubmatch(seg)
		if m == nil {
			continue
		}
		name := strings.TrimSuffix(m[1], "+")
		var v string
		switch {
		case name == "token":
			v = token
		case victim == nil:
			v = t.event.PathParameters[name]
		default:
			k, err := paramKind(segments[:i], name)
			if err != nil {
				return Request{}, fmt.Errorf("isolation: %s: %w", t.Route.Key(), err)
			}
			if k == "" {
				v = t.event.PathParameters[name] // a static file: nobody's data
			} else {
				v = fill(k)
			}
		}
		segments[i] = strings.Replace(seg, m[0], url.PathEscape(v), 1)
	}
	req.Path = strings.Join(segments, "/")

	for k, v := range t.event.QueryStringParameters {
		if kind, ok := queryKinds[k]; ok && victim != nil && ids.Valid(v) {
			v = fill(kind)
		}
		req.Query.Set(k, v)
	}
	body := t.event.Body
	if t.event.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return Request{}, fmt.Errorf("isolation: %s: sample body: %w", t.Route.Key(), err)
		}
		body = string(b)
	}
	if strings.HasPrefix(strings.TrimSpace(body), "{") {
		var v any
		d := json.NewDecoder(strings.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&v); err == nil {
			v = rewrite(v, "", victim, fill, shift)
			b, err := json.Marshal(v)
			if err != nil {
				return Request{}, err
			}
			body = string(b)
		}
	}
	req.Body = body
	for k, v := range t.event.Headers {
		switch strings.ToLower(k) {
		case "authorization", "cookie", "host", "content-length", "x-forwarded-for", "x-forwarded-proto", "idempotency-key":
			continue
		}
		req.Header.Set(k, v)
	}
	if _, ok := t.event.Headers["idempotency-key"]; ok {
		req.Header.Set("Idempotency-Key", newKey())
	}
	return req, fillErr
}

// paramKind names the kind of a path parameter from its name, or for {id} from the segment
// before it: /api/admin/groups/{id} is a group. "" means a static file.
func paramKind(before []string, name string) (Kind, error) {
	switch name {
	case "code":
		return Code, nil
	case "file", "proxy":
		return "", nil
	case "rid":
		return Reminder, nil
	case "memberId":
		return Member, nil
	case "sessionId":
		return Session, nil
	case "id":
		if len(before) > 0 {
			if k, ok := collectionKinds[before[len(before)-1]]; ok {
				return k, nil
			}
		}
		return "", fmt.Errorf("{id} after %q: unknown kind of object (add it to collectionKinds)", strings.Join(before, "/"))
	}
	return "", fmt.Errorf("path parameter {%s}: unknown kind of object (add it to paramKind)", name)
}

var collectionKinds = map[string]Kind{
	"groups": Group, "members": Member, "sessions": Session, "campaigns": Campaign,
	"broadcasts": Broadcast, "reminders": Reminder, "family-links": FamilyLink, "doctors": Doctor,
}

// bodyKinds and queryKinds say which ids a JSON body key or a query parameter holds.
var (
	bodyKinds = map[string]Kind{
		"doctorId": Doctor, "sessionId": Session, "groupId": Group, "group": Group, "groups": Group,
		"memberId": Member, "campaignId": Campaign, "reminderId": Reminder,
	}
	queryKinds = map[string]Kind{"group": Group, "member": Member, "session": Session}
)

var (
	dateRE     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T`)
)

// rewrite walks a decoded JSON body: ids under a known key become the victim's, dates move.
func rewrite(v any, key string, victim Objects, fill func(Kind) string, shift time.Duration) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = rewrite(e, k, victim, fill, shift)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = rewrite(e, key, victim, fill, shift)
		}
		return x
	case string:
		if k, ok := bodyKinds[key]; ok && victim != nil && ids.Valid(x) {
			return fill(k)
		}
		if dateRE.MatchString(x) {
			if d, err := time.Parse(time.DateOnly, x); err == nil {
				return d.Add(shift).Format(time.DateOnly)
			}
		}
		if dateTimeRE.MatchString(x) {
			if d, err := time.Parse(time.RFC3339, x); err == nil {
				return d.Add(shift).UTC().Format(time.RFC3339)
			}
		}
	}
	return v
}

// Shift is how far the samples' dates move so that they lie as far ahead of now as they lay
// ahead of sampleDay, the day the samples were written for, plus a margin of two days.
func Shift(now time.Time) time.Duration {
	days := int(now.UTC().Sub(sampleDay).Hours()/24) + 2
	if days < 0 {
		days = 0
	}
	return time.Duration(days) * 24 * time.Hour
}

// sampleDay is the "today" of the sample events (their handler tests pin the clock there).
var sampleDay = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func newKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "iso-" + base64.RawURLEncoding.EncodeToString(b)
}

// Refused reports whether status is a refusal the matrix accepts: 401, 403 or 404.
func Refused(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound
}

// Leaks returns the secrets found in an answer's body: in its bytes, its URL-unescaped form and,
// when it is JSON, in every decoded string (so a \u-escaped name is found too).
func Leaks(body []byte, secrets []string) []string {
	hay := [][]byte{body}
	if u, err := url.QueryUnescape(string(body)); err == nil {
		hay = append(hay, []byte(u))
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		var b strings.Builder
		strs(v, &b)
		hay = append(hay, []byte(b.String()))
	}
	var out []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, h := range hay {
			if bytes.Contains(h, []byte(s)) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func strs(v any, b *strings.Builder) {
	switch x := v.(type) {
	case string:
		b.WriteString(x)
		b.WriteByte('\n')
	case []any:
		for _, e := range x {
			strs(e, b)
		}
	case map[string]any:
		for k, e := range x {
			b.WriteString(k)
			b.WriteByte('\n')
			strs(e, b)
		}
	}
}

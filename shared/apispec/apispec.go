// Package apispec holds the handlers to the published contract: it owns openapi.yaml, the
// OpenAPI 3.1 description of the HTTP API as deployed, and checks requests and responses against
// it, so a handler test fails when a handler answers something the document does not say (an
// undeclared status, another content type, a body that breaks its schema).
package apispec

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed openapi.yaml
var document []byte

// baseURL names the document for the schema compiler; nothing is fetched from it.
const baseURL = "https://yinling.local/openapi.json"

// Errors of the checks. Each is returned wrapped with detail; compare with errors.Is.
var (
	ErrUnknownOperation = errors.New("apispec: no such operation")
	ErrUndeclaredStatus = errors.New("apispec: status not declared")
	ErrContentType      = errors.New("apispec: content type not declared")
	ErrInvalidBody      = errors.New("apispec: body does not match the spec")
)

// Spec is the parsed and compiled document. It is read-only and safe for concurrent use.
type Spec struct {
	ops map[string]*operation // by route key
}

type operation struct {
	// request is nil when the operation takes no body.
	request *requestBody
	// responses by status; "default" and ranges like "4XX" are refused at load.
	responses map[int]map[string]*jsonschema.Schema // media type → schema (nil: not JSON or no schema)
}

type requestBody struct {
	required bool
	schema   *jsonschema.Schema // of application/json
}

var load = sync.OnceValues(func() (*Spec, error) { return parse(document) })

// Load returns the embedded document, parsed and compiled on the first call.
func Load() (*Spec, error) { return load() }

// Routes returns every operation as an API Gateway route key ("GET /api/admin/groups/{id}"),
// sorted.
func (s *Spec) Routes() []string {
	keys := make([]string, 0, len(s.ops))
	for k := range s.ops {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CheckResponse reports whether the operation routeKey may answer status with a body of
// contentType (parameters such as charset are ignored): the status must be listed for the
// operation (a "default" response would not count), the media type must be one it lists, and a
// JSON body must match its schema. body is the decoded body (not base64). A status declared
// without content must come with an empty body.
func (s *Spec) CheckResponse(routeKey string, status int, contentType string, body []byte) error {
	op, err := s.op(routeKey)
	if err != nil {
		return err
	}
	content, ok := op.responses[status]
	if !ok {
		return fmt.Errorf("%s: %w: %d (declared: %v)", routeKey, ErrUndeclaredStatus, status, declared(op))
	}
	if len(content) == 0 {
		if len(body) != 0 {
			return fmt.Errorf("%s %d: %w: a body, but none is declared", routeKey, status, ErrInvalidBody)
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("%s %d: %w: %q", routeKey, status, ErrContentType, contentType)
	}
	sch, ok := content[mt]
	if !ok {
		return fmt.Errorf("%s %d: %w: %q (declared: %v)", routeKey, status, ErrContentType, mt, slices.Sorted(maps.Keys(content)))
	}
	if !isJSON(mt) {
		return nil
	}
	if err := validate(sch, body); err != nil {
		return fmt.Errorf("%s %d: %w", routeKey, status, err)
	}
	return nil
}

// CheckRequest reports whether body is a valid JSON request body of the operation routeKey. An
// empty body is valid only where the body is optional; an operation without a request body
// accepts only an empty one.
func (s *Spec) CheckRequest(routeKey string, body []byte) error {
	op, err := s.op(routeKey)
	if err != nil {
		return err
	}
	empty := len(strings.TrimSpace(string(body))) == 0
	switch {
	case op.request == nil && empty:
		return nil
	case op.request == nil:
		return fmt.Errorf("%s: %w: a body, but the operation takes none", routeKey, ErrInvalidBody)
	case empty && op.request.required:
		return fmt.Errorf("%s: %w: the body is required", routeKey, ErrInvalidBody)
	case empty:
		return nil
	}
	if err := validate(op.request.schema, body); err != nil {
		return fmt.Errorf("%s: %w", routeKey, err)
	}
	return nil
}

func (s *Spec) op(routeKey string) (*operation, error) {
	op, ok := s.ops[routeKey]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownOperation, routeKey)
	}
	return op, nil
}

// validate parses body as JSON and checks it against sch (nil: any JSON value).
func validate(sch *jsonschema.Schema, body []byte) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(body)))
	if err != nil {
		return fmt.Errorf("%w: not JSON: %v", ErrInvalidBody, err)
	}
	if sch == nil {
		return nil
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBody, err)
	}
	return nil
}

func declared(op *operation) []int {
	return slices.Sorted(maps.Keys(op.responses))
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// parse builds a Spec from an OpenAPI 3.1 document in YAML (or JSON, which is YAML).
func parse(src []byte) (*Spec, error) {
	doc, err := decodeYAML(src)
	if err != nil {
		return nil, err
	}
	c, err := newCompiler(doc)
	if err != nil {
		return nil, err
	}
	b := &builder{doc: doc, c: c}
	return b.spec()
}

// newCompiler checks that every $ref of doc resolves and returns a compiler holding doc as one
// resource, so schemas compile from pointers into it and their $refs resolve within it.
func newCompiler(doc map[string]any) (*jsonschema.Compiler, error) {
	if err := checkRefs(doc); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1's schema dialect is 2020-12
	c.AssertFormat()                     // date-time, uri: the contract promises them
	if err := c.AddResource(baseURL, doc); err != nil {
		return nil, fmt.Errorf("add document: %w", err)
	}
	return c, nil
}

// builder walks the document's paths and compiles the schemas each operation uses.
type builder struct {
	doc map[string]any
	c   *jsonschema.Compiler
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func (b *builder) spec() (*Spec, error) {
	if v, _ := b.doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		return nil, fmt.Errorf("openapi version %q: want 3.1.x", v)
	}
	// Every component schema compiles, used or not: a broken one should fail here, not when a
	// route starts using it.
	schemas, _ := lookup(b.doc, "/components/schemas").(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		if _, err := b.compile(pointer("components", "schemas", name)); err != nil {
			return nil, err
		}
	}
	paths, ok := b.doc["paths"].(map[string]any)
	if !ok {
		return nil, errors.New("no paths")
	}
	s := &Spec{ops: map[string]*operation{}}
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item, itemPtr, err := b.resolve(paths[path], pointer("paths", path))
		if err != nil {
			return nil, err
		}
		if err := b.compileParams(item, itemPtr); err != nil {
			return nil, err
		}
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			opPtr := itemPtr + "/" + m
			op, err := b.operation(raw, opPtr)
			if err != nil {
				return nil, err
			}
			s.ops[strings.ToUpper(m)+" "+path] = op
		}
	}
	if len(s.ops) == 0 {
		return nil, errors.New("no operations")
	}
	return s, nil
}

func (b *builder) operation(raw any, ptr string) (*operation, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not an object", ptr)
	}
	if err := b.compileParams(obj, ptr); err != nil {
		return nil, err
	}
	op := &operation{responses: map[int]map[string]*jsonschema.Schema{}}
	if raw, ok := obj["requestBody"]; ok {
		rb, rbPtr, err := b.resolve(raw, ptr+"/requestBody")
		if err != nil {
			return nil, err
		}
		content, err := b.content(rb, rbPtr)
		if err != nil {
			return nil, err
		}
		if _, ok := content["application/json"]; !ok || len(content) != 1 {
			return nil, fmt.Errorf("%s: request bodies are application/json only", rbPtr)
		}
		required, _ := rb["required"].(bool)
		op.request = &requestBody{required: required, schema: content["application/json"]}
	}
	responses, ok := obj["responses"].(map[string]any)
	if !ok || len(responses) == 0 {
		return nil, fmt.Errorf("%s: no responses", ptr)
	}
	for key, raw := range responses {
		status, err := strconv.Atoi(key)
		if err != nil || status < 100 || status > 599 {
			// A default or a range would let any status pass; the contract lists each one.
			return nil, fmt.Errorf("%s/responses: %q: list every status explicitly", ptr, key)
		}
		resp, respPtr, err := b.resolve(raw, ptr+"/responses/"+key)
		if err != nil {
			return nil, err
		}
		if op.responses[status], err = b.content(resp, respPtr); err != nil {
			return nil, err
		}
	}
	return op, nil
}

// content compiles the schema of each JSON media type of a response or request body.
func (b *builder) content(obj map[string]any, ptr string) (map[string]*jsonschema.Schema, error) {
	raw, ok := obj["content"]
	if !ok {
		return nil, nil
	}
	media, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s/content: not an object", ptr)
	}
	out := make(map[string]*jsonschema.Schema, len(media))
	for key, m := range media {
		mt, params, err := mime.ParseMediaType(key)
		if err != nil || len(params) != 0 || strings.Contains(mt, "*") {
			return nil, fmt.Errorf("%s/content: %q: want a plain media type", ptr, key)
		}
		mo, _ := m.(map[string]any)
		out[mt] = nil
		if _, ok := mo["schema"]; ok && isJSON(mt) {
			if out[mt], err = b.compile(ptr + "/content/" + escape(key) + "/schema"); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// compileParams compiles the parameters' schemas: nothing checks parameters yet, but a broken
// schema is still a broken contract.
func (b *builder) compileParams(obj map[string]any, ptr string) error {
	params, _ := obj["parameters"].([]any)
	for i, raw := range params {
		p, pPtr, err := b.resolve(raw, ptr+"/parameters/"+strconv.Itoa(i))
		if err != nil {
			return err
		}
		if _, ok := p["schema"]; ok {
			if _, err := b.compile(pPtr + "/schema"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *builder) compile(ptr string) (*jsonschema.Schema, error) {
	sch, err := b.c.Compile(baseURL + "#" + urlEncodePointer(ptr))
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", ptr, err)
	}
	return sch, nil
}

// resolve follows OpenAPI Reference Objects ($ref to a response, parameter, request body or path
// item) to the object they name and returns it with its JSON pointer. Siblings of $ref (summary,
// description) only document, so they are dropped.
func (b *builder) resolve(v any, ptr string) (map[string]any, string, error) {
	for range 16 {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("%s: not an object", ptr)
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj, ptr, nil
		}
		ptr = strings.TrimPrefix(ref, "#")
		if v = lookup(b.doc, ptr); v == nil {
			return nil, "", fmt.Errorf("$ref %q: not found", ref)
		}
	}
	return nil, "", fmt.Errorf("%s: $ref chain too long", ptr)
}

// checkRefs reports the first $ref of doc that is not a local JSON pointer to something in doc.
// The document is meant to stand alone: a client generator gets one file.
func checkRefs(doc map[string]any) error {
	var walk func(v any, at string) error
	walk = func(v any, at string) error {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !strings.HasPrefix(ref, "#/") {
					return fmt.Errorf("%s: $ref %q: only local refs (#/…)", at, ref)
				}
				if lookup(doc, ref[1:]) == nil {
					return fmt.Errorf("%s: $ref %q: not found", at, ref)
				}
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if err := walk(v[k], at+"/"+escape(k)); err != nil {
					return err
				}
			}
		case []any:
			for i, e := range v {
				if err := walk(e, at+"/"+strconv.Itoa(i)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(doc, "")
}

// lookup returns the value at JSON pointer ptr (RFC 6901) in doc, or nil.
func lookup(doc any, ptr string) any {
	if ptr == "" {
		return doc
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil
	}
	v := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := v.(type) {
		case map[string]any:
			v = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// pointer builds a JSON pointer from unescaped tokens.
func pointer(tokens ...string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteString("/" + escape(t))
	}
	return sb.String()
}

func escape(tok string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

// urlEncodePointer makes a JSON pointer safe as a URL fragment ("{id}" and the like), token by
// token so the separators stay.
func urlEncodePointer(ptr string) string {
	toks := strings.Split(ptr, "/")
	for i, t := range toks {
		toks[i] = url.PathEscape(t)
	}
	return strings.Join(toks, "/")
}

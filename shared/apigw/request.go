package apigw

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"

	"yinling/shared/fail"
	"yinling/shared/tenant"
)

// MaxBody is the largest JSON body we read; uploads go straight to S3 with presigned URLs.
const MaxBody = 64 << 10

// Errors of the request layer.
var (
	ErrBodyRequired  = &fail.Error{Kind: fail.Invalid, Code: "body_required"}
	ErrBodyTooLarge  = &fail.Error{Kind: fail.TooLarge, Code: "body_too_large"}
	ErrInvalidJSON   = &fail.Error{Kind: fail.Invalid, Code: "invalid_json"}
	ErrInvalidType   = &fail.Error{Kind: fail.Invalid, Code: "invalid_type"}
	ErrUnknownField  = &fail.Error{Kind: fail.Invalid, Code: "unknown_field"}
	ErrUnsupportedMT = &fail.Error{Kind: fail.Unsupported, Code: "unsupported_media_type"}
	ErrInvalidLimit  = &fail.Error{Kind: fail.Invalid, Code: "invalid_limit", Field: "limit"}
)

// Body returns the raw request body, decoded from base64 when API Gateway encoded it, and refuses
// bodies over MaxBody.
func Body(r *Request) ([]byte, error) {
	if len(r.Body) > base64.StdEncoding.EncodedLen(MaxBody) {
		return nil, ErrBodyTooLarge
	}
	b := []byte(r.Body)
	if r.IsBase64Encoded {
		var err error
		if b, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
			return nil, ErrInvalidJSON
		}
	}
	if len(b) > MaxBody {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// Decode reads a JSON object body into v strictly: one object, no unknown fields, no trailing
// data, right types. Every failure is a *fail.Error that names the field where it can.
func Decode(r *Request, v any) error {
	if ct := Header(r, "content-type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return ErrUnsupportedMT
		}
	}
	b, err := Body(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return ErrBodyRequired
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrInvalidJSON
	}
	return nil
}

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return ErrInvalidJSON
		}
		return ErrInvalidType.OnField(typeErr.Field)
	}
	// encoding/json reports unknown fields only as text: `json: unknown field "x"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return ErrUnknownField.OnField(strings.Trim(name, `"`))
	}
	return ErrInvalidJSON
}

// Limit reads the "limit" query parameter: def when absent, 1..max otherwise.
func Limit(r *Request, def, max int) (int, error) {
	s, ok := r.QueryStringParameters["limit"]
	if !ok || s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, ErrInvalidLimit
	}
	return n, nil
}

// Staff returns the staff identity that the JWT authorizer verified. In AWS, API Gateway has
// already refused requests without a valid token; this check keeps a misconfigured route from
// ever serving data without one.
func Staff(r *Request) (tenant.Staff, error) {
	if r.RequestContext.Authorizer == nil || r.RequestContext.Authorizer.JWT == nil {
		return tenant.Staff{}, fail.ErrUnauthorized
	}
	c := r.RequestContext.Authorizer.JWT.Claims
	s := tenant.Staff{
		ID:      c[tenant.ClaimSubject],
		StoreID: c[tenant.ClaimStoreID],
		Role:    tenant.Role(c[tenant.ClaimRole]),
		Name:    c[tenant.ClaimName],
	}
	if !tenant.ValidID(s.ID) || !tenant.ValidID(s.StoreID) {
		return tenant.Staff{}, fail.ErrUnauthorized
	}
	if !s.Role.Valid() {
		return tenant.Staff{}, fail.ErrForbidden
	}
	return s, nil
}

// ErrInvalidIdempotencyKey refuses an Idempotency-Key header we cannot store safely.
var ErrInvalidIdempotencyKey = &fail.Error{Kind: fail.Invalid, Code: "invalid_idempotency_key", Field: "Idempotency-Key"}

// IdempotencyKey returns the request's Idempotency-Key header ("" when absent: 1–64 characters
// of letters, digits, '-', '_', ':' or '.'; a UUID fits) and the hex SHA-256 of the body, so
// that reusing a key for a different request can be refused rather than answered with the
// first request's result.
func IdempotencyKey(r *Request) (key, requestHash string, err error) {
	k := Header(r, "idempotency-key")
	if k == "" {
		return "", "", nil
	}
	if len(k) > 64 {
		return "", "", ErrInvalidIdempotencyKey
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_:.", c)) {
			return "", "", ErrInvalidIdempotencyKey
		}
	}
	body, err := Body(r)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(body)
	return k, hex.EncodeToString(sum[:]), nil
}

// BaseURL is the origin links should use: the configured public one, or else the request's own.
func BaseURL(configured string, r *Request) string {
	if configured != "" {
		return strings.TrimSuffix(configured, "/")
	}
	return "https://" + r.RequestContext.DomainName
}

// Cookie returns the value of the named cookie (payload 2.0 lists cookies apart from the
// headers), or "".
func Cookie(r *Request, name string) string {
	for _, c := range r.Cookies {
		k, v, ok := strings.Cut(c, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// BearerToken returns the token of an "Authorization: Bearer …" header, or "".
func BearerToken(r *Request) string {
	h := Header(r, "authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

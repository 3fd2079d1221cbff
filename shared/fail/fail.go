// Package fail defines the errors a caller can cause and be told about: each carries a kind
// (which the HTTP layer maps to a status) and a stable snake_case code (which the HTTP layer maps
// to a message in the caller's language). Anything that is not a *fail.Error is internal and is
// never shown to a caller.
package fail

import (
	"errors"
	"fmt"
)

// Kind classifies what the caller did wrong.
type Kind int

// Kinds, one per status the API answers with for a caller's mistake.
const (
	Invalid         Kind = iota + 1 // 400: the request is malformed or breaks a rule
	Unauthenticated                 // 401: no credential, or one that is not valid
	Forbidden                       // 403: a valid credential that may not do this
	NotFound                        // 404: missing, or not the caller's to see
	Conflict                        // 409: the state of the resource forbids it
	TooLarge                        // 413: the body is over the limit
	RateLimited                     // 429: too many attempts; slow down
	Unsupported                     // 415: a content type we do not read
	Unavailable                     // 503: a provider we depend on failed; trying again may work
)

// Error is a caller-facing error. Code is a persistent contract (clients branch on it); Field
// names the offending input where there is one.
type Error struct {
	Kind  Kind
	Code  string
	Field string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s)", e.Code, e.Field)
	}
	return e.Code
}

// Is makes errors.Is match on kind and code, so a field-specific copy of a sentinel still
// matches the sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// OnField returns a copy of e that names the offending field.
func (e *Error) OnField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// InvalidField is shorthand for a 400 on one field.
func InvalidField(code, field string) *Error {
	return &Error{Kind: Invalid, Code: code, Field: field}
}

// Errors every layer uses.
var (
	ErrNotFound     = &Error{Kind: NotFound, Code: "not_found"}
	ErrBadCursor    = &Error{Kind: Invalid, Code: "invalid_cursor", Field: "cursor"}
	ErrUnauthorized = &Error{Kind: Unauthenticated, Code: "unauthorized"}
	ErrForbidden    = &Error{Kind: Forbidden, Code: "forbidden"}
)

package notify

import (
	"errors"
	"fmt"
)

// Reasons a message is refused for good. They are recorded with a failed delivery, so they are a
// persistent contract like a key.
const (
	ReasonInvalidMessage   = "invalid_message"   // the message itself is malformed
	ReasonInvalidRecipient = "invalid_recipient" // the number is malformed or unreachable
	ReasonOptedOut         = "opted_out"         // the person asked for no more messages
	ReasonTooLong          = "too_long"          // over the channel's length limit
	ReasonNoRoute          = "no_route"          // no provider serves this recipient
	ReasonRejected         = "rejected"          // the provider refused the request as invalid
)

// PermanentError is a failure that a retry cannot fix: the caller records it and gives up.
type PermanentError struct {
	Reason string // one of the Reason constants
	Err    error
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return "permanent: " + e.Reason
	}
	return fmt.Sprintf("permanent (%s): %v", e.Reason, e.Err)
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying, for reason.
func Permanent(reason string, err error) error {
	return &PermanentError{Reason: reason, Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is permanent. Every other error is
// transient: retry it.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ReasonOf returns the reason of a permanent error, or "" for a transient one.
func ReasonOf(err error) string {
	var p *PermanentError
	if errors.As(err, &p) {
		return p.Reason
	}
	return ""
}

type errText string

func (e errText) Error() string { return string(e) }

// Package sqsmsg owns the wire format of Yinling's SQS messages and the two
// ends of every queue: Queue sends typed messages with SendMessageBatch
// (batching, id sanitising, per-entry retries) and Processor runs a Lambda SQS
// batch, reporting failed records as BatchItemFailures so that one poison
// record never fails its batch.
//
// Every message body is an Envelope: {"type":"…","v":1,"body":{…}}. The type
// says how to read the body; v is the envelope version, bumped only if the
// envelope itself changes. SQS delivers at least once, so consumers must make
// duplicates harmless.
package sqsmsg

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the envelope version written by Encode.
const Version = 1

// Envelope is the JSON body of every message on a Yinling queue.
type Envelope struct {
	Type string          `json:"type"`
	V    int             `json:"v"`
	Body json.RawMessage `json:"body"`
}

// Encode wraps body, marshalled as JSON, in an Envelope of type typ and
// returns it as an SQS message body.
func Encode(typ string, body any) (string, error) {
	if typ == "" {
		return "", errors.New("encode message: empty type")
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("encode %s message: %w", typ, err)
	}
	raw, err := json.Marshal(Envelope{Type: typ, V: Version, Body: b})
	if err != nil {
		return "", fmt.Errorf("encode %s message: %w", typ, err)
	}
	return string(raw), nil
}

// Decode parses an SQS message body written by Encode. It rejects bodies that
// are not a JSON object, have an empty type or a version below 1; it accepts
// newer versions and leaves the decision to the caller, who can check V.
func Decode(raw string) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return Envelope{}, fmt.Errorf("decode message: %w", err)
	}
	if e.Type == "" {
		return Envelope{}, errors.New("decode message: missing type")
	}
	if e.V < 1 {
		return Envelope{}, fmt.Errorf("decode %s message: invalid version %d", e.Type, e.V)
	}
	return e, nil
}

// Unmarshal decodes the envelope's body into v.
func (e Envelope) Unmarshal(v any) error {
	if len(e.Body) == 0 {
		return fmt.Errorf("decode %s body: empty body", e.Type)
	}
	if err := json.Unmarshal(e.Body, v); err != nil {
		return fmt.Errorf("decode %s body: %w", e.Type, err)
	}
	return nil
}

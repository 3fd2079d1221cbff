// Package consumer routes the messages of an SQS-triggered function to a handler per message
// type (the sqsmsg envelope's "type"). A message of a type the function does not handle fails:
// it is retried and then parked in the queue's DLQ for a person to look at — never dropped.
package consumer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/sqsmsg"
)

// HandlerFunc handles one decoded message.
type HandlerFunc func(ctx context.Context, msg sqsmsg.Envelope, raw events.SQSMessage) error

// Router dispatches SQS records by message type.
type Router struct {
	proc     sqsmsg.Processor
	handlers map[string]HandlerFunc
}

// New returns a Router with no handlers.
func New(log *slog.Logger) *Router {
	return &Router{proc: sqsmsg.Processor{Log: log}, handlers: map[string]HandlerFunc{}}
}

// On registers fn for messages of type typ.
func (r *Router) On(typ string, fn HandlerFunc) {
	if _, dup := r.handlers[typ]; dup {
		panic("consumer: message type registered twice: " + typ)
	}
	r.handlers[typ] = fn
}

// Handle is the Lambda entry point: one failed record never fails its batch.
func (r *Router) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return r.proc.Process(ctx, ev, r.one), nil
}

func (r *Router) one(ctx context.Context, m events.SQSMessage) error {
	env, err := sqsmsg.Decode(m.Body)
	if err != nil {
		return fmt.Errorf("decode message %s: %w", m.MessageId, err)
	}
	fn, ok := r.handlers[env.Type]
	if !ok {
		return fmt.Errorf("message %s: no handler for type %q", m.MessageId, env.Type)
	}
	return fn(ctx, env, m)
}

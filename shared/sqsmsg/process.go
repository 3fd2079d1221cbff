package sqsmsg

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
)

// Processor runs a Lambda SQS batch one record at a time. The event source
// mapping must enable ReportBatchItemFailures, or SQS ignores the response
// and retries the whole batch.
type Processor struct {
	// Log receives one line per failed record; nil means slog.Default().
	Log *slog.Logger
}

// Process calls fn for each record in order and reports the records whose fn
// returned an error or panicked as BatchItemFailures, so SQS redelivers only
// those (and, after maxReceiveCount, moves them to the DLQ). Once ctx is done
// the remaining records are reported as failures without calling fn. Process
// never fails the whole batch.
func (p Processor) Process(ctx context.Context, ev events.SQSEvent, fn func(ctx context.Context, m events.SQSMessage) error) events.SQSEventResponse {
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range ev.Records {
		err := ctx.Err()
		if err == nil {
			err = call(ctx, fn, m)
		}
		if err != nil {
			log.ErrorContext(ctx, "sqs record failed",
				slog.String("message_id", m.MessageId),
				slog.String("receive_count", m.Attributes["ApproximateReceiveCount"]),
				slog.Any("error", err))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

// call runs fn and turns a panic into an error carrying the stack, so that a
// poison record costs only itself.
func call(ctx context.Context, fn func(context.Context, events.SQSMessage) error, m events.SQSMessage) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx, m)
}

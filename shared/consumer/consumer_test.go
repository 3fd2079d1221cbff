package consumer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/sqsmsg"
)

func TestHandleRoutesByTypeAndFailsOnlyBadRecords(t *testing.T) {
	r := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var handled []string
	r.On("reminder.due", func(ctx context.Context, msg sqsmsg.Envelope, raw events.SQSMessage) error {
		var body struct{ ID string }
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		handled = append(handled, body.ID)
		return nil
	})
	r.On("always.fails", func(context.Context, sqsmsg.Envelope, events.SQSMessage) error {
		return errors.New("provider down")
	})
	encode := func(typ string, body any) string {
		s, err := sqsmsg.Encode(typ, body)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: encode("reminder.due", map[string]string{"ID": "r1"})},
		{MessageId: "m2", Body: `not json`},
		{MessageId: "m3", Body: encode("unknown.type", map[string]string{})},
		{MessageId: "m4", Body: encode("always.fails", map[string]string{})},
		{MessageId: "m5", Body: encode("reminder.due", map[string]string{"ID": "r2"})},
	}}
	resp, err := r.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle returned an error, which would fail the whole batch: %v", err)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "m2"}, {ItemIdentifier: "m3"}, {ItemIdentifier: "m4"}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"r1", "r2"}, handled); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
}

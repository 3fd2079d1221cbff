package sqsmsg

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func TestProcess(t *testing.T) {
	// Each record's body says what the handler does with it.
	handler := func(ctx context.Context, m events.SQSMessage) error {
		switch m.Body {
		case "fail":
			return errors.New("provider down")
		case "panic":
			panic("nil map")
		case "decode":
			_, err := Decode(m.Body)
			return err
		}
		return nil
	}
	tests := []struct {
		name     string
		bodies   []string
		cancel   bool
		want     []string // MessageIds reported as failures
		wantLogs []string
	}{
		{"empty batch", nil, false, nil, nil},
		{"all succeed", []string{"ok", "ok"}, false, nil, nil},
		{"error fails only its record", []string{"ok", "fail", "ok"}, false, []string{"m1"}, []string{"provider down"}},
		{"panic fails only its record", []string{"panic", "ok", "fail"}, false, []string{"m0", "m2"}, []string{"panic: nil map", "goroutine"}},
		{"poison body", []string{"decode"}, false, []string{"m0"}, []string{"decode message"}},
		{"done context fails the rest unprocessed", []string{"ok", "ok"}, true, []string{"m0", "m1"}, []string{"context canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev events.SQSEvent
			for i, b := range tt.bodies {
				ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + string(rune('0'+i)), Body: b})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			var logs bytes.Buffer
			p := Processor{Log: slog.New(slog.NewJSONHandler(&logs, nil))}

			got := p.Process(ctx, ev, handler)

			want := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
			for _, id := range tt.want {
				want.BatchItemFailures = append(want.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if n := strings.Count(logs.String(), "\n"); n != len(tt.want) {
				t.Errorf("%d log lines, want one per failure (%d):\n%s", n, len(tt.want), logs.String())
			}
			for _, s := range append(tt.wantLogs, tt.want...) {
				if !strings.Contains(logs.String(), s) {
					t.Errorf("logs do not contain %q:\n%s", s, logs.String())
				}
			}
		})
	}
}

func TestProcessNilLogger(t *testing.T) {
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m0"}}}
	got := Processor{}.Process(context.Background(), ev, func(context.Context, events.SQSMessage) error {
		panic(errors.New("boom"))
	})
	want := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "m0"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

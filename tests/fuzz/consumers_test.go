package fuzz

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/queues"
	"yinling/shared/sqsmsg"
)

// One target per queue consumer: a batch of one to three records with fuzzed bodies, through the
// function's real handler against the fake endpoint. The handler never panics (sender and
// escalator have no recover of their own; fanout's router turns a panic into a logged failure,
// looked for in its log), never fails the whole batch, names only records of the batch as
// failures, and reports every record whose body is no message envelope at all, so a poison
// message ends in the DLQ and is never silently lost.

func FuzzSenderMessages(f *testing.F)    { fuzzMessages(f, "sender") }
func FuzzEscalatorMessages(f *testing.F) { fuzzMessages(f, "escalator") }
func FuzzFanoutMessages(f *testing.F)    { fuzzMessages(f, "fanout") }

func encode(t testing.TB, typ string, body any) string {
	t.Helper()
	s, err := sqsmsg.Encode(typ, body)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fuzzMessages(f *testing.F, name string) {
	deliver := encode(f, queues.TypeDeliver, queues.Deliver{Store: fakeStore, Reminder: anyID, Member: fakeMember,
		Occurrence: "20261123T0000Z", Attempt: queues.Attempt(0)})
	robot := encode(f, queues.TypeDeliver, queues.Deliver{Store: fakeStore, Reminder: anyID, Occurrence: "20261123T0000Z",
		Attempt: queues.RobotAttempt, Broadcast: anyID, Late: true})
	check := encode(f, queues.TypeCheck, queues.Check{Store: fakeStore, Reminder: anyID, Member: fakeMember,
		Occurrence: "20261123T0000Z", Stage: "retry", Attempt: 1})
	family := encode(f, queues.TypeCheck, queues.Check{Store: fakeStore, Reminder: anyID, Member: fakeMember,
		Occurrence: "20261123T0000Z", Stage: "family", Attempt: 2})
	fanout := encode(f, queues.TypeFanout, queues.Fanout{Store: fakeStore, Campaign: anyID, Run: 1, GroupID: anyID})
	page := encode(f, queues.TypeFanout, queues.Fanout{Store: fakeStore, Campaign: anyID, Run: 2, Page: 3, Group: 1,
		GroupID: anyID, Cursor: "eyJQSyI6IngifQ"})
	push := encode(f, queues.TypePush, queues.Push{Store: fakeStore, Campaign: anyID, Chunk: "abcdefghij"})
	seeds := [][3]string{
		{deliver, robot, push}, {check, family, ""}, {fanout, page, ""}, {deliver, deliver, check},
		{`{"type":"reminder.deliver","v":1,"body":{"store":1}}`, `{"type":"","v":1}`, "null"},
		{`{"type":"campaign.push","v":1,"body":null}`, `{"type":"campaign.fanout","v":1,"body":{"run":-1,"group":-5}}`, "{"},
		{`{"type":"reminder.check","v":2,"body":{"stage":"family","attempt":-1}}`, `{"type":"x","v":0}`, ""},
	}
	for _, s := range seeds {
		f.Add(uint8(3), s[0], s[1], s[2])
	}
	logs := &logRecorder{}
	h := build(f, sqsFunctions, name, logs.logger())

	f.Fuzz(func(t *testing.T, n uint8, b0, b1, b2 string) {
		bodies := []string{b0, b1, b2}[:1+int(n)%3]
		ev := events.SQSEvent{}
		ids := map[string]bool{}
		for i, b := range bodies {
			id := fmt.Sprintf("m%d", i)
			ids[id] = true
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, Body: b, EventSource: "aws:sqs",
				Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
		}
		logs.reset()
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("Handle failed the whole batch: %v", err)
		}
		if line := logs.find("debug.Stack"); line != "" { // sqsmsg.Processor logs a recovered panic's stack
			t.Fatalf("a record panicked:\n%s", line)
		}
		failed := map[string]bool{}
		for _, bf := range resp.BatchItemFailures {
			if !ids[bf.ItemIdentifier] {
				t.Fatalf("failure %q names no record of the batch", bf.ItemIdentifier)
			}
			failed[bf.ItemIdentifier] = true
		}
		for i, b := range bodies {
			if _, err := sqsmsg.Decode(b); err != nil && !failed[fmt.Sprintf("m%d", i)] {
				t.Fatalf("record m%d (%q) is no message (%v) but was neither reported nor retried\nlog:\n%s", i, b, err, logs)
			}
		}
	})
}

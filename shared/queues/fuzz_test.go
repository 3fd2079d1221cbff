package queues

import (
	"encoding/json"
	"reflect"
	"testing"

	"yinling/shared/sqsmsg"
)

// FuzzDecode reads any SQS body as each consumer does — the envelope, then the body of the type
// it names: nothing panics, an envelope accepted has a type and a version, and a body accepted
// is written back by Encode into an envelope that decodes to the same message.
func FuzzDecode(f *testing.F) {
	for _, m := range []sqsmsg.Outgoing{
		{Type: TypeDeliver, Body: Deliver{Store: "s-test", Reminder: "R1", Member: "M1", Occurrence: "20261123T0000Z", Attempt: Attempt(0)}},
		{Type: TypeCheck, Body: Check{Store: "s-test", Reminder: "R1", Member: "M1", Occurrence: "20261123T0000Z", Stage: "retry", Attempt: 1}},
		StartMessage("s-test", "C1", 1, "G1"),
		PushMessage("s-test", "C1", "abcdefghij"),
	} {
		body, err := sqsmsg.Encode(m.Type, m.Body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, s := range []string{"", "null", "[]", `{"type":"x"}`, `{"type":"reminder.check","v":1,"body":{"attempt":"1"}}`,
		`{"type":"campaign.fanout","v":9,"body":{"run":1e3}}`, `{"type":"reminder.deliver","v":1,"body":"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		env, err := sqsmsg.Decode(raw)
		if err != nil {
			return
		}
		if env.Type == "" || env.V < 1 {
			t.Fatalf("Decode(%q) = %+v", raw, env)
		}
		var msg any
		switch env.Type {
		case TypeDeliver:
			msg = &Deliver{}
		case TypeCheck:
			msg = &Check{}
		case TypeFanout:
			msg = &Fanout{}
		case TypePush:
			msg = &Push{}
		default:
			return // no consumer reads it: the router fails it, and it goes to the DLQ
		}
		if err := env.Unmarshal(msg); err != nil {
			return
		}
		again, err := sqsmsg.Encode(env.Type, msg)
		if err != nil {
			t.Fatalf("Encode(%+v): %v", msg, err)
		}
		env2, err := sqsmsg.Decode(again)
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)) = %v", msg, err)
		}
		msg2 := reflect.New(reflect.TypeOf(msg).Elem()).Interface()
		if err := env2.Unmarshal(msg2); err != nil || !reflect.DeepEqual(msg, msg2) {
			t.Fatalf("%s round trip: %+v, then %+v (%v); wire %s", env.Type, msg, msg2, err, again)
		}
		if !json.Valid([]byte(again)) {
			t.Fatalf("Encode wrote %q", again)
		}
	})
}

// FuzzAttemptNumber reads any attempt name: only "A" and one or two digits is a call to the
// senior, and the number read names the same call again.
func FuzzAttemptNumber(f *testing.F) {
	for _, s := range []string{"A0", "A1", "A99", "A100", "A-1", "A+1", "A", "S", "W", "F01JDQ", "A01", "A1 ", "A١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := AttemptNumber(s)
		if !ok {
			return
		}
		if n < 0 || n > 99 {
			t.Fatalf("AttemptNumber(%q) = %d", s, n)
		}
		if m, ok := AttemptNumber(Attempt(n)); !ok || m != n {
			t.Fatalf("AttemptNumber(%q) = %d, but Attempt(%d) reads back as %d, %v", s, n, n, m, ok)
		}
	})
}

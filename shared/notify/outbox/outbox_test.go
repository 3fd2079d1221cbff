package outbox_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/awscalls"
	"yinling/shared/dynamostore"
	"yinling/shared/notify"
	"yinling/shared/notify/outbox"
	"yinling/shared/testenv"
)

var now = time.Date(2026, 11, 23, 8, 0, 0, 123000000, time.UTC)

func message(id string) notify.Message {
	return notify.Message{
		ID: id, StoreID: "s1", MemberID: "m1", Channel: notify.ChannelVoice, To: "+8613800138000",
		Text: "张阿姨，8:00 该吃降压药了。", SpeakText: "张阿姨，八点该吃降压药了。",
		Link: "https://yl.example/r/R1", Kind: notify.KindReminder, Lang: "zh-CN",
	}
}

// Against DynamoDB Local: a message lands once, a redelivery gets the first receipt, and the
// dev page's listing shows it with the full and the masked recipient.
func TestOutbox(t *testing.T) {
	calls := &awscalls.Counter{}
	env := testenv.New(t, testenv.WithAPIOptions(calls.Register))
	clock := now
	box := outbox.New(dynamostore.New(env.DynamoDB, env.TableName()), func() time.Time { return clock })
	ctx := t.Context()

	m := message("rem-R1#2026-11-23T08:00#0")
	first, err := box.Send(ctx, m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	want := notify.Receipt{Provider: "outbox", ProviderID: m.ID, At: now}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("receipt (-want +got):\n%s", diff)
	}
	if n := calls.Total(); n != 1 {
		t.Errorf("first send made %d AWS calls, want 1", n)
	}

	clock = now.Add(2 * time.Minute) // SQS redelivers after the visibility timeout
	again, err := box.Send(ctx, m)
	if err != nil {
		t.Fatalf("Send again: %v", err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("receipt of a redelivery (-first +again):\n%s", diff)
	}

	page, err := box.List(ctx, "s1", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	wantEntries := []dynamostore.OutboxEntry{{
		StoreID: "s1", MessageID: m.ID, MemberID: "m1", Channel: "voice",
		To: "+8613800138000", ToMasked: "+86138****8000",
		Text: m.Text, SpeakText: m.SpeakText, Link: m.Link, Kind: "reminder", Lang: "zh-CN", At: now,
	}}
	if diff := cmp.Diff(wantEntries, page.Items); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

// A message no provider would take is refused locally too, before touching the table.
func TestOutboxRefusesWhatProvidersWould(t *testing.T) {
	box := outbox.New(nil, nil)
	m := message("x")
	m.To = ""
	if _, err := box.Send(t.Context(), m); notify.ReasonOf(err) != notify.ReasonInvalidRecipient {
		t.Errorf("Send without a recipient: %v, want invalid_recipient", err)
	}
}

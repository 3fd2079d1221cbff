package notify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/notify"
)

func TestPermanentSurvivesWrapping(t *testing.T) {
	base := errors.New("bad number")
	perm := notify.Permanent(notify.ReasonInvalidRecipient, base)
	tests := []struct {
		name      string
		err       error
		permanent bool
		reason    string
	}{
		{"permanent", perm, true, notify.ReasonInvalidRecipient},
		{"wrapped", fmt.Errorf("send reminder r1: %w", perm), true, notify.ReasonInvalidRecipient},
		{"transient", fmt.Errorf("throttled: %w", base), false, ""},
		{"nil", nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.IsPermanent(tt.err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.permanent)
			}
			if got := notify.ReasonOf(tt.err); got != tt.reason {
				t.Errorf("ReasonOf = %q, want %q", got, tt.reason)
			}
		})
	}
	if !errors.Is(perm, base) {
		t.Error("a permanent error hides its cause from errors.Is")
	}
}

func TestMainland(t *testing.T) {
	tests := map[string]bool{
		"+8613800138000": true,
		"+85291234567":   false, // Hong Kong
		"+85362345678":   false, // Macau
		"+886912345678":  false, // Taiwan
		"+14155550100":   false,
		"13800138000":    false, // not E.164: the caller normalises first
	}
	for to, want := range tests {
		if got := notify.Mainland(to); got != want {
			t.Errorf("Mainland(%q) = %v, want %v", to, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := map[string]string{
		"+8613800138000":                       "+86138****8000",
		"+14155550100":                         "+141****0100",
		"+8521234":                             "+****",
		"693a91f6-7xxx-4c7b-a1c3-2b1fe4c2cafe": "693a****cafe", // a WeCom robot key
		"short":                                "****",
		"":                                     "****",
	}
	for in, want := range tests {
		if got := notify.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := notify.Message{ID: "r1#0", StoreID: "s1", To: "+8613800138000", Text: "hi", Kind: notify.KindReminder}
	tests := []struct {
		name   string
		edit   func(*notify.Message)
		reason string
	}{
		{"complete", func(*notify.Message) {}, ""},
		{"speech only", func(m *notify.Message) { m.Text, m.SpeakText = "", "hi" }, ""},
		{"no id", func(m *notify.Message) { m.ID = "" }, notify.ReasonInvalidMessage},
		{"no store", func(m *notify.Message) { m.StoreID = "" }, notify.ReasonInvalidMessage},
		{"no recipient", func(m *notify.Message) { m.To = "" }, notify.ReasonInvalidRecipient},
		{"no text", func(m *notify.Message) { m.Text = "" }, notify.ReasonInvalidMessage},
		{"unknown kind", func(m *notify.Message) { m.Kind = "spam" }, notify.ReasonInvalidMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			if got := notify.ReasonOf(m.Check()); got != tt.reason {
				t.Errorf("Check reason %q, want %q", got, tt.reason)
			}
		})
	}
}

// named records which provider a Router chose.
func named(name string) notify.Sender {
	return notify.SenderFunc(func(_ context.Context, m notify.Message) (notify.Receipt, error) {
		return notify.Receipt{Provider: name, ProviderID: m.ID, At: time.Unix(0, 0)}, nil
	})
}

func TestRouter(t *testing.T) {
	voice := notify.Router{
		{Match: notify.ToMainland, Sender: named("aliyun")},
		{Sender: named("aws")},
	}
	byChannel := notify.Router{
		{Match: notify.OnChannel(notify.ChannelVoice), Sender: voice},
		{Match: notify.OnChannel(notify.ChannelSMS), Sender: named("sms")},
	}
	tests := []struct {
		to      string
		channel notify.Channel
		want    string
		reason  string
	}{
		{"+8613800138000", notify.ChannelVoice, "aliyun", ""},
		{"+85291234567", notify.ChannelVoice, "aws", ""},
		{"+8613800138000", notify.ChannelSMS, "sms", ""},
		{"key", notify.ChannelWeCom, "", notify.ReasonNoRoute},
	}
	for _, tt := range tests {
		got, err := byChannel.Send(t.Context(), notify.Message{ID: "m", To: tt.to, Channel: tt.channel})
		if diff := cmp.Diff(tt.want, got.Provider); diff != "" || notify.ReasonOf(err) != tt.reason {
			t.Errorf("%s %s: provider %q, err %v; want %q, reason %q", tt.channel, tt.to, got.Provider, err, tt.want, tt.reason)
		}
	}
}

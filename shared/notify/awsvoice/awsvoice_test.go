package awsvoice_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/notify"
	"yinling/shared/notify/awsvoice"
	"yinling/shared/notify/internal/smsvoicetest"
)

var now = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

const target = "PinpointSMSVoiceV2.SendVoiceMessage"

func newSender(t *testing.T, srv *smsvoicetest.Server, cfg awsvoice.Config) *awsvoice.Sender {
	t.Helper()
	if cfg.OriginationIdentity == "" {
		cfg.OriginationIdentity = "+18005550199"
	}
	cfg.Now = func() time.Time { return now }
	s, err := awsvoice.New(srv.Client(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func reminder() notify.Message {
	return notify.Message{
		ID: "rem-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#2026-11-23T08:00#0", StoreID: "s1", MemberID: "m1",
		Channel: notify.ChannelVoice, To: "+14155550100",
		Text: "张阿姨，8:00 该吃降压药了。", SpeakText: "张阿姨，八点该吃降压药了。",
		Kind: notify.KindReminder, Lang: "zh-CN",
	}
}

// The request is exactly what the API reference documents for SendVoiceMessage, and the
// response's MessageId becomes the receipt.
func TestSendRequestAndReceipt(t *testing.T) {
	tests := []struct {
		name string
		cfg  awsvoice.Config
		msg  func(notify.Message) notify.Message
		want map[string]any
	}{
		{
			name: "mandarin with a configuration set",
			cfg:  awsvoice.Config{ConfigurationSetName: "yinling-voice"},
			msg:  func(m notify.Message) notify.Message { return m },
			want: map[string]any{
				"DestinationPhoneNumber": "+14155550100",
				"OriginationIdentity":    "+18005550199",
				"MessageBody":            `<speak><prosody rate="90%">张阿姨，八点该吃降压药了。<break time="1s"/>张阿姨，八点该吃降压药了。</prosody></speak>`,
				"MessageBodyTextType":    "SSML",
				"VoiceId":                "ZHIYU",
				"ConfigurationSetName":   "yinling-voice",
				"Context": map[string]any{
					"message_id": "rem-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#2026-11-23T08:00#0",
					"store_id":   "s1",
					"kind":       "reminder",
				},
			},
		},
		{
			name: "english text, escaped, no configuration set",
			cfg:  awsvoice.Config{OriginationIdentity: "pool-abc"},
			msg: func(m notify.Message) notify.Message {
				m.Lang, m.SpeakText, m.Text, m.Kind = "en", "", `Take <2> pills & "rest"`, notify.KindAlert
				return m
			},
			want: map[string]any{
				"DestinationPhoneNumber": "+14155550100",
				"OriginationIdentity":    "pool-abc",
				"MessageBody":            `<speak><prosody rate="90%">Take &lt;2&gt; pills &amp; &#34;rest&#34;<break time="1s"/>Take &lt;2&gt; pills &amp; &#34;rest&#34;</prosody></speak>`,
				"MessageBodyTextType":    "SSML",
				"VoiceId":                "JOANNA",
				"Context": map[string]any{
					"message_id": "rem-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#2026-11-23T08:00#0",
					"store_id":   "s1",
					"kind":       "alert",
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smsvoicetest.New(t, smsvoicetest.Reply{Status: 200, Body: `{"MessageId":"a1b2c3d4-voice"}`})
			got, err := newSender(t, srv, tt.cfg).Send(t.Context(), tt.msg(reminder()))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := notify.Receipt{Provider: "aws-voice", ProviderID: "a1b2c3d4-voice", At: now}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			if reqs[0].Target != target {
				t.Errorf("X-Amz-Target %q, want %q", reqs[0].Target, target)
			}
			if diff := cmp.Diff(tt.want, reqs[0].Body); diff != "" {
				t.Errorf("request body (-want +got):\n%s", diff)
			}
		})
	}
}

// Error answers as the API documents them (HTTP status, __type, Reason) are classified
// permanent or transient; only throttling is retried inside Send.
func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		reply     smsvoicetest.Reply
		permanent bool
		reason    string
		requests  int
	}{
		{"validation", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"ValidationException","Message":"Invalid destination phone number","Reason":"INVALID_PARAMETER","Fields":[{"Name":"DestinationPhoneNumber","Message":"invalid"}]}`},
			true, notify.ReasonRejected, 1},
		{"validation, namespaced type", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"com.amazonaws.pinpointsmsvoicev2#ValidationException","message":"Destination country blocked","Reason":"DESTINATION_COUNTRY_BLOCKED"}`},
			true, notify.ReasonNoRoute, 1},
		{"opted out", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"ConflictException","Message":"The destination phone number is opted out","Reason":"DESTINATION_PHONE_NUMBER_OPTED_OUT","ResourceType":"opt-out-list","ResourceId":"Default"}`},
			true, notify.ReasonOptedOut, 1},
		{"conflict", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"ConflictException","Message":"Number capabilities mismatch","Reason":"NUMBER_CAPABILITIES_MISMATCH"}`},
			true, notify.ReasonRejected, 1},
		{"throttled, retried", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"ThrottlingException","Message":"Rate exceeded"}`},
			false, "", 2},
		{"internal server error, not retried", smsvoicetest.Reply{Status: 500,
			Body: `{"__type":"InternalServerException","Message":"Internal failure","RequestId":"r-1"}`},
			false, "", 1},
		{"access denied", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"AccessDeniedException","Message":"not authorized","Reason":"ACCOUNT_DISABLED"}`},
			false, "", 1},
		{"quota", smsvoicetest.Reply{Status: 402,
			Body: `{"__type":"ServiceQuotaExceededException","Message":"monthly spend limit reached","Reason":"MONTHLY_SPEND_LIMIT_REACHED_FOR_VOICE"}`},
			false, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smsvoicetest.New(t, tt.reply)
			_, err := newSender(t, srv, awsvoice.Config{MaxAttempts: 2}).Send(t.Context(), reminder())
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := notify.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			if got := notify.ReasonOf(err); got != tt.reason {
				t.Errorf("ReasonOf = %q, want %q", got, tt.reason)
			}
			if got := len(srv.Requests()); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
		})
	}
}

func TestThrottledThenAccepted(t *testing.T) {
	srv := smsvoicetest.New(t,
		smsvoicetest.Reply{Status: 400, Body: `{"__type":"ThrottlingException","Message":"Rate exceeded"}`},
		smsvoicetest.Reply{Status: 200, Body: `{"MessageId":"m-2"}`})
	got, err := newSender(t, srv, awsvoice.Config{}).Send(t.Context(), reminder())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got.ProviderID != "m-2" || len(srv.Requests()) != 2 {
		t.Errorf("receipt %+v after %d requests, want m-2 after 2", got, len(srv.Requests()))
	}
}

// Refusals that need no request: AWS cannot call mainland numbers, an SSML body over the limit,
// a malformed message.
func TestRefusedWithoutARequest(t *testing.T) {
	long := reminder()
	long.SpeakText = strings.Repeat("药", 2990) // 5,980 characters said twice
	mainland := reminder()
	mainland.To = "+8613800138000"
	noID := reminder()
	noID.ID = ""
	tests := []struct {
		name   string
		msg    notify.Message
		reason string
	}{
		{"mainland number", mainland, notify.ReasonNoRoute},
		{"too long", long, notify.ReasonTooLong},
		{"no id", noID, notify.ReasonInvalidMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smsvoicetest.New(t)
			_, err := newSender(t, srv, awsvoice.Config{}).Send(t.Context(), tt.msg)
			if got := notify.ReasonOf(err); got != tt.reason {
				t.Errorf("ReasonOf(%v) = %q, want %q", err, got, tt.reason)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests, want none", n)
			}
		})
	}
}

func TestNewNeedsOriginationIdentity(t *testing.T) {
	if _, err := awsvoice.New(nil, awsvoice.Config{}); err == nil {
		t.Error("New without OriginationIdentity succeeded")
	}
}

func TestSSML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  您好 ", `<speak><prosody rate="90%">您好<break time="1s"/>您好</prosody></speak>`},
		{"a<b>&c'd", `<speak><prosody rate="90%">a&lt;b&gt;&amp;c&#39;d<break time="1s"/>a&lt;b&gt;&amp;c&#39;d</prosody></speak>`},
		{"</prosody><speak>", `<speak><prosody rate="90%">&lt;/prosody&gt;&lt;speak&gt;<break time="1s"/>&lt;/prosody&gt;&lt;speak&gt;</prosody></speak>`},
	}
	for _, tt := range tests {
		if got := awsvoice.SSML(tt.in); got != tt.want {
			t.Errorf("SSML(%q) =\n%s\nwant\n%s", tt.in, got, tt.want)
		}
	}
}

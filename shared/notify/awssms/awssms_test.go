package awssms_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/notify"
	"yinling/shared/notify/awssms"
	"yinling/shared/notify/internal/smsvoicetest"
)

var now = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

const target = "PinpointSMSVoiceV2.SendTextMessage"

func newSender(t *testing.T, srv *smsvoicetest.Server, cfg awssms.Config) *awssms.Sender {
	t.Helper()
	if cfg.OriginationIdentity == "" {
		cfg.OriginationIdentity = "YINLING"
	}
	cfg.Now = func() time.Time { return now }
	s, err := awssms.New(srv.Client(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func message(kind string) notify.Message {
	return notify.Message{
		ID: "cmp-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#m1", StoreID: "s1", MemberID: "m1",
		Channel: notify.ChannelSMS, To: "+85291234567",
		Text: "【幸福里药房】周六上午义诊，欢迎参加。", Link: "https://yl.example/r/01JDQ7",
		Kind: kind, Lang: "zh-CN",
	}
}

// The request is exactly what the API reference documents for SendTextMessage: the body is the
// text, a space and the link; the message type follows the kind.
func TestSendRequestAndReceipt(t *testing.T) {
	tests := []struct {
		name string
		cfg  awssms.Config
		msg  notify.Message
		want map[string]any
	}{
		{
			name: "promotion",
			cfg:  awssms.Config{ConfigurationSetName: "yinling-sms"},
			msg:  message(notify.KindPromotion),
			want: map[string]any{
				"DestinationPhoneNumber": "+85291234567",
				"OriginationIdentity":    "YINLING",
				"MessageBody":            "【幸福里药房】周六上午义诊，欢迎参加。 https://yl.example/r/01JDQ7",
				"MessageType":            "PROMOTIONAL",
				"ConfigurationSetName":   "yinling-sms",
				"Context":                map[string]any{"message_id": "cmp-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#m1", "store_id": "s1", "kind": "promotion"},
			},
		},
	}
	for _, kind := range []string{notify.KindOTP, notify.KindReminder, notify.KindAlert} {
		m := message(kind)
		m.Link = ""
		tests = append(tests, struct {
			name string
			cfg  awssms.Config
			msg  notify.Message
			want map[string]any
		}{
			name: kind + " without a link",
			msg:  m,
			want: map[string]any{
				"DestinationPhoneNumber": "+85291234567",
				"OriginationIdentity":    "YINLING",
				"MessageBody":            "【幸福里药房】周六上午义诊，欢迎参加。",
				"MessageType":            "TRANSACTIONAL",
				"Context":                map[string]any{"message_id": "cmp-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#m1", "store_id": "s1", "kind": kind},
			},
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smsvoicetest.New(t, smsvoicetest.Reply{Status: 200, Body: `{"MessageId":"sms-42"}`})
			got, err := newSender(t, srv, tt.cfg).Send(t.Context(), tt.msg)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if diff := cmp.Diff(notify.Receipt{Provider: "aws-sms", ProviderID: "sms-42", At: now}, got); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Target != target {
				t.Fatalf("requests %+v, want one %s", reqs, target)
			}
			if diff := cmp.Diff(tt.want, reqs[0].Body); diff != "" {
				t.Errorf("request body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		reply     smsvoicetest.Reply
		permanent bool
		reason    string
		requests  int
	}{
		{"invalid number", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"ValidationException","Message":"Invalid destination phone number","Reason":"INVALID_PARAMETER"}`},
			true, notify.ReasonRejected, 1},
		{"opted out", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"ConflictException","Message":"opted out","Reason":"DESTINATION_PHONE_NUMBER_OPTED_OUT"}`},
			true, notify.ReasonOptedOut, 1},
		{"throttled", smsvoicetest.Reply{Status: 400,
			Body: `{"__type":"ThrottlingException","Message":"Rate exceeded"}`},
			false, "", 2},
		{"internal", smsvoicetest.Reply{Status: 500,
			Body: `{"__type":"InternalServerException","Message":"Internal failure"}`},
			false, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smsvoicetest.New(t, tt.reply)
			_, err := newSender(t, srv, awssms.Config{MaxAttempts: 2}).Send(t.Context(), message(notify.KindReminder))
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

// A body over the limit is refused, never cut: the limit counts the link too.
func TestTooLongIsRefused(t *testing.T) {
	tests := []struct {
		name     string
		maxChars int
		text     string
		refused  bool
	}{
		{"default limit, at it", 0, strings.Repeat("药", 134-1-len("https://yl.example/r/01JDQ7")), false},
		{"default limit, one over", 0, strings.Repeat("药", 134-len("https://yl.example/r/01JDQ7")), true},
		{"configured limit", 40, strings.Repeat("药", 20), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smsvoicetest.New(t, smsvoicetest.Reply{Status: 200, Body: `{"MessageId":"sms-1"}`})
			m := message(notify.KindReminder)
			m.Text = tt.text
			_, err := newSender(t, srv, awssms.Config{MaxChars: tt.maxChars}).Send(t.Context(), m)
			if tt.refused {
				if notify.ReasonOf(err) != notify.ReasonTooLong || len(srv.Requests()) != 0 {
					t.Errorf("err %v after %d requests, want too_long before any", err, len(srv.Requests()))
				}
				return
			}
			if err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		body string
		want int
	}{
		{"", 0},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("{", 80), 1}, // extension characters take two septets
		{strings.Repeat("{", 81), 2},
		{strings.Repeat("药", 70), 1},
		{strings.Repeat("药", 71), 2},
		{strings.Repeat("药", 134), 2},
		{strings.Repeat("药", 135), 3},
		{strings.Repeat("a", 69) + "药", 1}, // one Chinese character makes the whole body UCS-2
		{strings.Repeat("😀", 35), 1},       // two UTF-16 units each
		{strings.Repeat("😀", 36), 2},
	}
	for _, tt := range tests {
		if got := awssms.Segments(tt.body); got != tt.want {
			t.Errorf("Segments(%d runes starting %q) = %d, want %d", len([]rune(tt.body)), string([]rune(tt.body)[:min(3, len([]rune(tt.body)))]), got, tt.want)
		}
	}
}

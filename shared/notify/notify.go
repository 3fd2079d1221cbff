// Package notify owns how a message reaches a person: one small interface, Sender, and the
// providers behind it, each in its own package and chosen per store in config:
//
//	awsvoice     a phone call that speaks the text (AWS End User Messaging SMS and Voice v2)
//	awssms       a text message with a link to the H5 page (the same AWS API)
//	aliyunvoice  a phone call to a mainland China number (Aliyun voice notification)
//	wecom        a push to a WeCom group through its robot's webhook, 20 a minute per robot
//	outbox       local development: every message lands in the table and on a dev page
//
// AWS cannot place voice calls to mainland China numbers (+86), which is what a senior of a
// store in mainland China has. A store's voice channel is therefore a Router: numbers for which Mainland is true go to
// a mainland provider (aliyunvoice), the rest to AWS. The same seam serves SMS should a store
// need a mainland SMS provider.
//
// No adapter repeats a request the provider may have accepted — the provider APIs take no
// idempotency token, so a retry hidden inside an adapter could call a senior twice; only a
// request the provider refused unprocessed (AWS throttling) is tried again within Send.
// Retrying is the caller's decision: an error that IsPermanent (a bad number, an opt-out, a
// text too long) must not be retried; any other error is transient (throttling, a provider
// outage, our own misconfiguration) and the caller retries it, which for the sender function
// means SQS redelivery and, in the end, the DLQ. Message.ID is the
// caller's idempotency key — (reminder, occurrence, attempt) or (campaign, member) — claimed in
// the table before Send is called; adapters pass it to the provider where the provider keeps it
// (AWS event Context, Aliyun OutId) so delivery events can be matched back.
package notify

import (
	"context"
	"strings"
	"time"
)

// Channel is how a message travels.
type Channel string

// Channels. ChannelOutbox is a store's configuration for local development: every message is
// written to the table instead of being sent. ChannelWeCom pushes to a group through its
// robot (package wecom), which shares the robot's 20 messages a minute through the table.
const (
	ChannelVoice  Channel = "voice"
	ChannelSMS    Channel = "sms"
	ChannelWeCom  Channel = "wecom"
	ChannelOutbox Channel = "outbox"
)

// Kinds of message. The kind decides the SMS message type (promotions are PROMOTIONAL, the rest
// TRANSACTIONAL) and is recorded with every delivery.
const (
	KindOTP       = "otp"
	KindReminder  = "reminder"
	KindPromotion = "promotion"
	KindAlert     = "alert"
)

// Message is one message to one person.
type Message struct {
	// ID is the idempotency key: (reminder, occurrence, attempt) or (campaign, member).
	ID       string
	StoreID  string
	MemberID string
	Channel  Channel
	// To is an E.164 number (+8613800138000) for voice and SMS, a robot webhook key for WeCom.
	To string
	// Text is what is written (SMS, WeCom, the outbox page).
	Text string
	// SpeakText is the plain text a voice call speaks; the voice adapters build the SSML or
	// template parameters from it. Empty means Text.
	SpeakText string
	// Link is the H5 page's URL, appended to an SMS.
	Link string
	Kind string // KindOTP, KindReminder, KindPromotion or KindAlert
	Lang string // BCP 47, e.g. zh-CN or en; empty means zh
}

// Speech is what a voice call says: SpeakText, or Text when there is none.
func (m Message) Speech() string {
	if m.SpeakText != "" {
		return m.SpeakText
	}
	return m.Text
}

// Check refuses, with a permanent error, a message that no provider could deliver: no ID, no
// store, no recipient, nothing to say, or an unknown kind.
func (m Message) Check() error {
	switch {
	case m.ID == "":
		return Permanent(ReasonInvalidMessage, errText("message has no id"))
	case m.StoreID == "":
		return Permanent(ReasonInvalidMessage, errText("message has no store"))
	case m.To == "":
		return Permanent(ReasonInvalidRecipient, errText("message has no recipient"))
	case m.Text == "" && m.SpeakText == "":
		return Permanent(ReasonInvalidMessage, errText("message has no text"))
	}
	switch m.Kind {
	case KindOTP, KindReminder, KindPromotion, KindAlert:
		return nil
	}
	return Permanent(ReasonInvalidMessage, errText("unknown message kind "+m.Kind))
}

// Receipt is a provider's acknowledgement that it accepted a message.
type Receipt struct {
	Provider   string // "aws-voice", "aws-sms", "aliyun-voice", "outbox"
	ProviderID string // the provider's message or call id
	At         time.Time
}

// Sender delivers one message. See the package doc for what its errors mean.
type Sender interface {
	Send(ctx context.Context, m Message) (Receipt, error)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) (Receipt, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) (Receipt, error) { return f(ctx, m) }

// Mainland reports whether to is a mainland China number in E.164 (+86…). Hong Kong (+852),
// Macau (+853) and Taiwan (+886) are not.
func Mainland(to string) bool { return strings.HasPrefix(to, "+86") }

// Mask hides the middle of a recipient for logs and pages: +8613800138000 → +86138****8000,
// a WeCom key → its first and last four characters. Phone numbers and OTPs never appear in a
// log line whole.
func Mask(to string) string {
	r := []rune(to)
	if len(r) > 0 && r[0] == '+' {
		if len(r) <= 8 {
			return "+****"
		}
		return string(r[:len(r)-8]) + "****" + string(r[len(r)-4:])
	}
	if len(r) <= 12 {
		return "****"
	}
	return string(r[:4]) + "****" + string(r[len(r)-4:])
}

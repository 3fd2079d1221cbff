// Package awssms sends a text message with a link to the H5 page, through AWS End User
// Messaging SMS and Voice v2 (SendTextMessage).
//
// Length: a message in Chinese is sent in UCS-2, 70 characters in one segment, and 67 per
// segment once it is split; one in plain Latin letters uses the GSM 7-bit alphabet, 160 and 153.
// Every segment is billed, and a long text is not what a senior reads. Send never truncates: a
// body (text, a space, the link) over Config.MaxChars is refused with a permanent too_long
// error, so the author shortens it. Segments tells what a body costs.
//
// Mainland China numbers need registered templates and sender ids with AWS; a store may route
// them to a mainland SMS provider through a notify.Router instead.
package awssms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2/types"

	"yinling/shared/notify"
	"yinling/shared/notify/internal/smsvoice"
)

// Provider names this adapter in receipts.
const Provider = "aws-sms"

// DefaultMaxChars is two UCS-2 segments: room for a sentence and a short link.
const DefaultMaxChars = 134

// Client is the part of *pinpointsmsvoicev2.Client this package uses.
type Client interface {
	SendTextMessage(ctx context.Context, in *pinpointsmsvoicev2.SendTextMessageInput, optFns ...func(*pinpointsmsvoicev2.Options)) (*pinpointsmsvoicev2.SendTextMessageOutput, error)
}

// Config is a store's SMS configuration.
type Config struct {
	// OriginationIdentity is the sender: a phone number, sender id, pool, or their ARN. Required.
	OriginationIdentity string
	// ConfigurationSetName routes delivery events to an event destination. Optional.
	ConfigurationSetName string
	// MaxChars is the longest body accepted, in characters (default DefaultMaxChars).
	MaxChars int
	// MaxAttempts bounds the tries of a throttled send (default 3); nothing else is retried.
	MaxAttempts int
	// Now stamps receipts; default time.Now.
	Now func() time.Time
}

// Sender sends text messages. It is safe for concurrent use.
type Sender struct {
	api   Client
	cfg   Config
	retry func(*pinpointsmsvoicev2.Options)
}

// New returns a Sender that texts through api with cfg.
func New(api Client, cfg Config) (*Sender, error) {
	if cfg.OriginationIdentity == "" {
		return nil, errors.New("awssms: OriginationIdentity is required")
	}
	if cfg.MaxChars <= 0 {
		cfg.MaxChars = DefaultMaxChars
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{api: api, cfg: cfg, retry: smsvoice.RetryOnlyThrottled(cfg.MaxAttempts)}, nil
}

// Send texts Body(m) to m.To. See notify for what its errors mean.
func (s *Sender) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := m.Check(); err != nil {
		return notify.Receipt{}, err
	}
	body := Body(m)
	if n := utf8.RuneCountInString(body); n > s.cfg.MaxChars {
		return notify.Receipt{}, notify.Permanent(notify.ReasonTooLong,
			fmt.Errorf("awssms: body of %d characters is over the limit of %d", n, s.cfg.MaxChars))
	}
	in := &pinpointsmsvoicev2.SendTextMessageInput{
		DestinationPhoneNumber: aws.String(m.To),
		OriginationIdentity:    aws.String(s.cfg.OriginationIdentity),
		MessageBody:            aws.String(body),
		MessageType:            messageType(m.Kind),
		Context:                smsvoice.Context(m),
	}
	if s.cfg.ConfigurationSetName != "" {
		in.ConfigurationSetName = aws.String(s.cfg.ConfigurationSetName)
	}
	out, err := s.api.SendTextMessage(ctx, in, s.retry)
	if err != nil {
		return notify.Receipt{}, smsvoice.Classify("send text message "+m.ID, err)
	}
	return notify.Receipt{Provider: Provider, ProviderID: aws.ToString(out.MessageId), At: s.cfg.Now()}, nil
}

// messageType is PROMOTIONAL for promotions and TRANSACTIONAL for what a person needs now (a
// code, a reminder, an alert): carriers and quiet-hour rules treat the two differently.
func messageType(kind string) types.MessageType {
	if kind == notify.KindPromotion {
		return types.MessageTypePromotional
	}
	return types.MessageTypeTransactional
}

// Body is what an SMS says: the text, then a space and the link if there is one.
func Body(m notify.Message) string {
	text := strings.TrimSpace(m.Text)
	if m.Link == "" {
		return text
	}
	if text == "" {
		return m.Link
	}
	return text + " " + m.Link
}

// Segments is how many billed segments body takes: GSM 7-bit when every character is in the
// GSM alphabet (160 septets alone, 153 per part), otherwise UCS-2 (70 UTF-16 units alone, 67 per
// part).
func Segments(body string) int {
	if body == "" {
		return 0
	}
	single, part := 160, 153
	n, ok := gsmSeptets(body)
	if !ok {
		single, part = 70, 67
		n = len(utf16.Encode([]rune(body)))
	}
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}

// gsmSeptets counts body in GSM 03.38 septets; ok is false if a character is outside the
// alphabet.
func gsmSeptets(body string) (n int, ok bool) {
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			n++
		case strings.ContainsRune(gsmExtended, r):
			n += 2 // escape + character
		default:
			return 0, false
		}
	}
	return n, true
}

const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "\f^{}\\[~]|€"
)

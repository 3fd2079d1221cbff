// Package awsvoice calls a person and speaks a message, through AWS End User Messaging SMS and
// Voice v2 (SendVoiceMessage) — the API once called Pinpoint SMS and Voice v2.
//
// The text is spoken by Amazon Polly from SSML this package builds: XML-escaped, a little slower
// than normal (prosody rate 90%), and said twice with a one-second pause, because seniors often
// pick up after the first words. Chinese is spoken by ZHIYU, Polly's Mandarin (cmn-CN) voice.
//
// AWS cannot place voice calls to mainland China numbers: Send refuses them (notify.Mainland)
// with a permanent no_route error, and a store's voice channel routes them to a mainland
// provider (aliyunvoice) with a notify.Router.
package awsvoice

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2/types"

	"yinling/shared/notify"
	"yinling/shared/notify/internal/smsvoice"
)

// Provider names this adapter in receipts.
const Provider = "aws-voice"

// MaxSSML is the API's limit on an SSML message body, tags included.
const MaxSSML = 6000

// Client is the part of *pinpointsmsvoicev2.Client this package uses.
type Client interface {
	SendVoiceMessage(ctx context.Context, in *pinpointsmsvoicev2.SendVoiceMessageInput, optFns ...func(*pinpointsmsvoicev2.Options)) (*pinpointsmsvoicev2.SendVoiceMessageOutput, error)
}

// Config is a store's voice configuration.
type Config struct {
	// OriginationIdentity is the number that calls: a phone number, its id or ARN, or a pool id
	// or ARN. Required.
	OriginationIdentity string
	// ConfigurationSetName routes delivery events (answered, busy, …) to an event destination.
	// Optional.
	ConfigurationSetName string
	// Voices maps a language's primary subtag to a Polly voice; it adds to or overrides the
	// defaults, zh → ZHIYU and en → JOANNA. Unlisted languages are spoken by ZHIYU.
	Voices map[string]types.VoiceId
	// MaxAttempts bounds the tries of a throttled call (default 3); nothing else is retried.
	MaxAttempts int
	// Now stamps receipts; default time.Now.
	Now func() time.Time
}

// Sender places voice calls. It is safe for concurrent use.
type Sender struct {
	api    Client
	cfg    Config
	voices map[string]types.VoiceId
	retry  func(*pinpointsmsvoicev2.Options)
}

// New returns a Sender that calls through api with cfg.
func New(api Client, cfg Config) (*Sender, error) {
	if cfg.OriginationIdentity == "" {
		return nil, errors.New("awsvoice: OriginationIdentity is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	voices := map[string]types.VoiceId{"zh": types.VoiceIdZhiyu, "en": types.VoiceIdJoanna}
	for k, v := range cfg.Voices {
		voices[strings.ToLower(k)] = v
	}
	return &Sender{api: api, cfg: cfg, voices: voices, retry: smsvoice.RetryOnlyThrottled(cfg.MaxAttempts)}, nil
}

// Send calls m.To and speaks m.Speech(). See notify for what its errors mean.
func (s *Sender) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := m.Check(); err != nil {
		return notify.Receipt{}, err
	}
	if notify.Mainland(m.To) {
		return notify.Receipt{}, notify.Permanent(notify.ReasonNoRoute,
			fmt.Errorf("awsvoice: AWS cannot call mainland China numbers (%s)", notify.Mask(m.To)))
	}
	body := SSML(m.Speech())
	if n := utf8.RuneCountInString(body); n > MaxSSML {
		return notify.Receipt{}, notify.Permanent(notify.ReasonTooLong,
			fmt.Errorf("awsvoice: SSML of %d characters is over the limit of %d", n, MaxSSML))
	}
	in := &pinpointsmsvoicev2.SendVoiceMessageInput{
		DestinationPhoneNumber: aws.String(m.To),
		OriginationIdentity:    aws.String(s.cfg.OriginationIdentity),
		MessageBody:            aws.String(body),
		MessageBodyTextType:    types.VoiceMessageBodyTextTypeSsml,
		VoiceId:                s.voice(m.Lang),
		Context:                smsvoice.Context(m),
	}
	if s.cfg.ConfigurationSetName != "" {
		in.ConfigurationSetName = aws.String(s.cfg.ConfigurationSetName)
	}
	out, err := s.api.SendVoiceMessage(ctx, in, s.retry)
	if err != nil {
		return notify.Receipt{}, smsvoice.Classify("send voice message "+m.ID, err)
	}
	return notify.Receipt{Provider: Provider, ProviderID: aws.ToString(out.MessageId), At: s.cfg.Now()}, nil
}

// voice picks the voice for a BCP 47 language tag by its primary subtag (zh-CN → zh).
func (s *Sender) voice(lang string) types.VoiceId {
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if v, ok := s.voices[primary]; ok {
		return v
	}
	return s.voices["zh"]
}

// SSML is what a call says for text: the text XML-escaped, spoken at 90% speed, twice, with a
// one-second pause between.
func SSML(text string) string {
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(strings.TrimSpace(text))) // never fails on a strings.Builder
	t := esc.String()
	return `<speak><prosody rate="90%">` + t + `<break time="1s"/>` + t + `</prosody></speak>`
}

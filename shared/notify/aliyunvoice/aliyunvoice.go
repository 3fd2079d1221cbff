// Package aliyunvoice calls a mainland China number and speaks a message through Aliyun's voice
// notification API (语音服务 dyvmsapi, version 2017-05-25, SingleCallByTts) — the provider for
// the numbers AWS cannot call.
//
// Aliyun speaks only templates approved in its console: Config.TtsCode names one whose single
// variable (Config.TextParam, default "text") receives the message's plain text, e.g. a
// template "${text}". The variable must stay under 250 characters and may not contain a link;
// a longer text is refused with a permanent too_long error. The call plays the message twice
// (PlayTimes 2), as the AWS adapter does.
//
// The request is an RPC-style call signed with signature version 1.0 (HMAC-SHA1), implemented
// here from Aliyun's published algorithm (see sign.go) rather than with Aliyun's SDK, which
// would add megabytes to every function for one call.
package aliyunvoice

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"yinling/shared/notify"
)

// Provider names this adapter in receipts.
const Provider = "aliyun-voice"

// Endpoint is the voice service's public endpoint.
const Endpoint = "https://dyvmsapi.aliyuncs.com/"

// MaxParam is the limit Aliyun puts on a template variable's content.
const MaxParam = 249

// Config is a store's mainland voice configuration.
type Config struct {
	AccessKeyID     string // required
	AccessKeySecret string // required
	// TtsCode is the approved text-to-speech template (TTS_…). Required.
	TtsCode string
	// TextParam is the template variable that receives the text; default "text".
	TextParam string
	// CalledShowNumber is the caller id shown, a number bought in the console. Empty uses the
	// public number pool (公共模式), whose templates differ from dedicated numbers' (专属模式).
	CalledShowNumber string
	// Speed is the speaking rate, -500 to 500; 0 leaves Aliyun's default.
	Speed int
	// Endpoint overrides Endpoint (tests).
	Endpoint string
	// HTTP is the client to use; default a client with a 10-second timeout.
	HTTP *http.Client
	// Now stamps requests and receipts; default time.Now.
	Now func() time.Time
}

// Sender places calls through Aliyun. It is safe for concurrent use.
type Sender struct {
	cfg Config
}

// New returns a Sender with cfg.
func New(cfg Config) (*Sender, error) {
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" || cfg.TtsCode == "" {
		return nil, errors.New("aliyunvoice: AccessKeyID, AccessKeySecret and TtsCode are required")
	}
	if cfg.Speed < -500 || cfg.Speed > 500 {
		return nil, fmt.Errorf("aliyunvoice: Speed %d is outside -500..500", cfg.Speed)
	}
	if cfg.TextParam == "" {
		cfg.TextParam = "text"
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = Endpoint
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{cfg: cfg}, nil
}

// Send calls m.To, which must be a mainland number, and speaks m.Speech().
//
// Errors: a malformed number, a template variable Aliyun refuses, or a blocked number is
// permanent; flow control (isv.BUSINESS_LIMIT_CONTROL: 1 call a minute, 5 an hour, 20 a day to
// one number), throttling, Aliyun's own failures and our configuration (RAM, balance, template)
// are transient. Send never retries by itself: the API takes no idempotency token.
func (s *Sender) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := m.Check(); err != nil {
		return notify.Receipt{}, err
	}
	called, ok := nationalMobile(m.To)
	if !ok {
		return notify.Receipt{}, notify.Permanent(notify.ReasonNoRoute,
			fmt.Errorf("aliyunvoice: %s is not a mainland China number", notify.Mask(m.To)))
	}
	text := strings.TrimSpace(m.Speech())
	if n := utf8.RuneCountInString(text); n > MaxParam {
		return notify.Receipt{}, notify.Permanent(notify.ReasonTooLong,
			fmt.Errorf("aliyunvoice: text of %d characters is over the template limit of %d", n, MaxParam))
	}
	param, err := ttsParam(s.cfg.TextParam, text)
	if err != nil {
		return notify.Receipt{}, notify.Permanent(notify.ReasonInvalidMessage, err)
	}

	form := url.Values{
		"CalledNumber": {called},
		"TtsCode":      {s.cfg.TtsCode},
		"TtsParam":     {param},
		"PlayTimes":    {"2"},
		"OutId":        {OutID(m.ID)},
	}
	if s.cfg.CalledShowNumber != "" {
		form.Set("CalledShowNumber", s.cfg.CalledShowNumber)
	}
	if s.cfg.Speed != 0 {
		form.Set("Speed", strconv.Itoa(s.cfg.Speed))
	}
	nonce, err := newNonce()
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("aliyunvoice: nonce: %w", err)
	}
	query := url.Values{
		"AccessKeyId":      {s.cfg.AccessKeyID},
		"Action":           {"SingleCallByTts"},
		"Format":           {"JSON"},
		"RegionId":         {"cn-hangzhou"}, // as Aliyun's SDKs send it; the service is not regional
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {nonce},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {s.cfg.Now().UTC().Format("2006-01-02T15:04:05Z")},
		"Version":          {"2017-05-25"},
	}
	// As Aliyun's SDKs do for a POST: the common parameters and the signature in the query, the
	// operation's parameters in a form body (so the called number stays out of URLs and access
	// logs), and the signature over both.
	query.Set("Signature", Sign(http.MethodPost, s.cfg.AccessKeySecret, merge(query, form)))

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Endpoint+"?"+query.Encode(), strings.NewReader(form.Encode()))
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("aliyunvoice: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("aliyunvoice: single call by tts %s: %w", m.ID, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("aliyunvoice: single call by tts %s: read answer: %w", m.ID, err)
	}
	var ans answer
	if err := json.Unmarshal(body, &ans); err != nil || ans.Code == "" {
		return notify.Receipt{}, fmt.Errorf("aliyunvoice: single call by tts %s: HTTP %d, unreadable answer %.200q", m.ID, res.StatusCode, body)
	}
	if ans.Code != "OK" || res.StatusCode/100 != 2 {
		return notify.Receipt{}, classify(m.ID, res.StatusCode, ans)
	}
	return notify.Receipt{Provider: Provider, ProviderID: ans.CallID, At: s.cfg.Now()}, nil
}

// answer is SingleCallByTts's JSON answer, success and error alike.
type answer struct {
	RequestID string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	CallID    string `json:"CallId"`
}

// permanentCodes are the answers that the same request would get again. Everything else —
// flow control, throttling, isp.* system errors, and our own configuration (RAM permission,
// balance, template, account) — is transient: a retry, or a DLQ redrive after the fix, delivers.
var permanentCodes = map[string]string{
	"isv.MOBILE_NUMBER_ILLEGAL":   notify.ReasonInvalidRecipient,
	"isv.INVALID_PARAMETERS":      notify.ReasonRejected,
	"InvalidParameters":           notify.ReasonRejected,
	"isv.TEMPLATE_PARAMS_ILLEGAL": notify.ReasonRejected,
	"isv.BLACK_KEY_CONTROL_LIMIT": notify.ReasonRejected,
	"isv.COMPLAINT_REJECT":        notify.ReasonRejected,
	"ComplaintReject":             notify.ReasonRejected,
	"isv.MOBILE_COUNT_OVER_LIMIT": notify.ReasonRejected,
}

func classify(id string, status int, a answer) error {
	err := fmt.Errorf("aliyunvoice: single call by tts %s: HTTP %d, %s: %s (request %s)", id, status, a.Code, a.Message, a.RequestID)
	if status < 500 {
		if reason, ok := permanentCodes[a.Code]; ok {
			return notify.Permanent(reason, err)
		}
	}
	return err
}

// nationalMobile turns +86XXXXXXXXXXX into the 11-digit national form Aliyun's CalledNumber takes.
func nationalMobile(to string) (string, bool) {
	n, ok := strings.CutPrefix(to, "+86")
	if !ok || len(n) != 11 || n[0] != '1' {
		return "", false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return n, true
}

// ttsParam is the template's variables as JSON, not HTML-escaped: Aliyun reads it as JSON.
func ttsParam(name, text string) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{name: text}); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// OutID is the OutId sent with a call for message id: Aliyun returns it in call receipts, and
// takes at most 15 bytes, so it is a hash of the id (75 bits of SHA-256, base32).
func OutID(messageID string) string {
	h := sha256.Sum256([]byte(messageID))
	return strings.ToLower(base32.StdEncoding.EncodeToString(h[:]))[:15]
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func merge(a, b url.Values) url.Values {
	out := make(url.Values, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

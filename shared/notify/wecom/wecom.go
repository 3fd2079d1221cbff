// Package wecom pushes a message to a WeCom group (企业微信群) through the group's robot: a
// webhook whose key is the message's recipient (notify.Message.To). A message with a link goes
// as markdown, the link under a "查看详情" (or "Open") label; one without, as plain text.
//
// WeCom accepts 20 messages a minute per robot (PerMinute) and answers the 21st with errcode
// 45009. Several functions and campaigns may push through one robot at once, so the count is
// shared through a Limiter — in AWS, StoreLimiter, a counter per robot and minute in the table
// — and asked before every request. A robot whose minute is used up gets no request: Send
// returns a transient error wrapping ErrRobotBusy and the caller tries again later (for the
// sender function, SQS redelivery).
//
// The webhook key is the robot's only credential: anyone holding it can post to the group. It
// appears in no log line, error or table key — notify.Mask in messages, a hash in keys.
package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"yinling/shared/notify"
)

// Provider names this adapter in receipts.
const Provider = "wecom"

// BaseURL is WeCom's API host.
const BaseURL = "https://qyapi.weixin.qq.com"

// PerMinute is how many messages WeCom accepts from one robot in a minute.
const PerMinute = 20

// Content limits, in bytes of UTF-8, as WeCom documents them.
const (
	MaxText     = 2048
	MaxMarkdown = 4096
)

// ErrRobotBusy reports that the robot has sent its PerMinute messages this minute. It is
// transient: the same message goes through in a later minute.
var ErrRobotBusy = errors.New("wecom: robot busy for the rest of the minute")

// Limiter shares a robot's per-minute allowance between every sender of a store.
type Limiter interface {
	// Take counts one message through robotKey of storeID in now's minute, if the minute
	// has room, and reports whether it did.
	Take(ctx context.Context, storeID, robotKey string, now time.Time) (bool, error)
}

// Config is a store's WeCom configuration. The robot itself is the message's recipient.
type Config struct {
	// BaseURL overrides BaseURL (tests).
	BaseURL string
	// HTTPClient is the client to use; default a client with a 10-second timeout that follows
	// no redirect.
	HTTPClient *http.Client
	// Limiter counts messages per robot and minute. nil counts in this process only, which
	// holds the limit for a single process (a local run) but not across Lambda instances: in
	// AWS, use StoreLimiter.
	Limiter Limiter
	// Now stamps receipts and decides the minute; default time.Now.
	Now func() time.Time
}

// Sender pushes messages through WeCom group robots. It is safe for concurrent use.
type Sender struct {
	cfg Config
}

// New returns a Sender with cfg.
func New(cfg Config) *Sender {
	if cfg.BaseURL == "" {
		cfg.BaseURL = BaseURL
	}
	if cfg.HTTPClient == nil {
		// A redirect would carry the key to another address; WeCom answers in place.
		cfg.HTTPClient = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Limiter == nil {
		cfg.Limiter = &memoryLimiter{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{cfg: cfg}
}

// Send posts m to the robot whose webhook key is m.To, once the limiter grants a slot.
//
// Errors: content over WeCom's limit, an invalid or removed robot key, and a message WeCom
// refuses as malformed are permanent. A busy robot (ErrRobotBusy, from the limiter or from
// WeCom's errcode 45009), WeCom's other failures, HTTP 5xx, network errors and a cancelled ctx
// are transient. Send never retries by itself: the webhook takes no idempotency token, and a
// repeat would post twice to the group.
func (s *Sender) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := m.Check(); err != nil {
		return notify.Receipt{}, err
	}
	body, err := Body(m)
	if err != nil {
		return notify.Receipt{}, err
	}
	robot := notify.Mask(m.To)
	now := s.cfg.Now()
	ok, err := s.cfg.Limiter.Take(ctx, m.StoreID, m.To, now)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("wecom: send %s to robot %s: take a slot: %w", m.ID, robot, err)
	}
	if !ok {
		return notify.Receipt{}, fmt.Errorf("%w: send %s to robot %s", ErrRobotBusy, m.ID, robot)
	}

	// The URL is assembled after parsing the base alone, so that no error below (a bad base,
	// a network failure, a redirect) can print the key: *url.Error carries the whole URL.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.BaseURL, bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("wecom: base URL: %w", err)
	}
	req.URL.Path = strings.TrimSuffix(req.URL.Path, "/") + "/cgi-bin/webhook/send"
	req.URL.RawPath = ""
	req.URL.RawQuery = url.Values{"key": {m.To}}.Encode()
	req.Header.Set("Content-Type", "application/json")
	res, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return notify.Receipt{}, fmt.Errorf("wecom: send %s to robot %s: %w", m.ID, robot, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("wecom: send %s to robot %s: read answer: %w", m.ID, robot, err)
	}
	if err := classify(fmt.Sprintf("wecom: send %s to robot %s", m.ID, robot), res.StatusCode, raw); err != nil {
		return notify.Receipt{}, err
	}
	// The webhook returns no message id: the message's own id is the one to match on.
	return notify.Receipt{Provider: Provider, ProviderID: m.ID, At: now}, nil
}

// answer is the webhook's JSON answer, success and error alike.
type answer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Error codes of the webhook. Only what the same request would get again is permanent; the
// rest, WeCom's own failures among them, is worth a retry.
const (
	codeOK                 = 0
	codeInvalidCredential  = 40001
	codeInvalidMessageType = 40008
	codeInvalidToken       = 40014
	codeInvalidParameter   = 40058 // e.g. "markdown.content exceed max length 4096"
	codeEmptyContent       = 44004
	codeFreqOutOfLimit     = 45009
	codeInvalidWebhookURL  = 93000
)

var permanentCodes = map[int]string{
	codeInvalidWebhookURL:  notify.ReasonInvalidRecipient,
	codeInvalidCredential:  notify.ReasonInvalidRecipient,
	codeInvalidToken:       notify.ReasonInvalidRecipient,
	codeInvalidMessageType: notify.ReasonRejected,
	codeEmptyContent:       notify.ReasonRejected,
	codeInvalidParameter:   notify.ReasonRejected,
}

// classify turns the webhook's HTTP status and answer into nil (accepted) or an error that
// says whether a retry can help.
func classify(op string, status int, raw []byte) error {
	var a answer
	readable := json.Unmarshal(raw, &a) == nil && a.ErrCode != nil
	switch {
	case status >= 500:
		return fmt.Errorf("%s: HTTP %d %.200q", op, status, raw)
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return fmt.Errorf("%s: HTTP %d %.200q", op, status, raw)
	case status >= 400 && !readable:
		return notify.Permanent(notify.ReasonRejected, fmt.Errorf("%s: HTTP %d %.200q", op, status, raw))
	case !readable:
		return fmt.Errorf("%s: HTTP %d, unreadable answer %.200q", op, status, raw)
	}
	code := *a.ErrCode
	if code == codeOK && status/100 == 2 {
		return nil
	}
	err := fmt.Errorf("%s: HTTP %d, errcode %d: %.200s", op, status, code, a.ErrMsg)
	if code == codeFreqOutOfLimit {
		// Someone else posts through this robot too, or our count is off: as busy as if the
		// limiter had said so.
		return fmt.Errorf("%w (%w)", err, ErrRobotBusy)
	}
	if reason, ok := permanentCodes[code]; ok {
		return notify.Permanent(reason, err)
	}
	if status >= 400 {
		return notify.Permanent(notify.ReasonRejected, err)
	}
	return err
}

// Body is the JSON the webhook receives for m: markdown with a labelled link when m has a
// Link, plain text otherwise. Content over WeCom's limit is refused with a permanent too_long
// error, never truncated.
func Body(m notify.Message) ([]byte, error) {
	text := m.Text
	if text == "" {
		text = m.SpeakText // a message written only to be spoken still has something to say
	}
	var v any
	if m.Link == "" {
		if n := len(text); n > MaxText {
			return nil, notify.Permanent(notify.ReasonTooLong,
				fmt.Errorf("wecom: text of %d bytes is over the limit of %d", n, MaxText))
		}
		v = struct {
			MsgType string  `json:"msgtype"`
			Text    content `json:"text"`
		}{"text", content{text}}
	} else {
		md := text + "\n[" + linkLabel(m.Lang) + "](" + linkTarget.Replace(m.Link) + ")"
		if n := len(md); n > MaxMarkdown {
			return nil, notify.Permanent(notify.ReasonTooLong,
				fmt.Errorf("wecom: markdown of %d bytes is over the limit of %d", n, MaxMarkdown))
		}
		v = struct {
			MsgType  string  `json:"msgtype"`
			Markdown content `json:"markdown"`
		}{"markdown", content{md}}
	}
	// WeCom reads the JSON as it is; HTML escaping would only make <, > and & bytes longer.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, notify.Permanent(notify.ReasonInvalidMessage, fmt.Errorf("wecom: %w", err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

type content struct {
	Content string `json:"content"`
}

// linkTarget keeps a link from ending its markdown link early: a space or a parenthesis would.
var linkTarget = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29")

// linkLabel is the text of the link in a markdown message: English for en, Chinese otherwise
// (an empty Lang means zh).
func linkLabel(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if base == "en" {
		return "Open"
	}
	return "查看详情"
}

// RobotSlots is the table's per-robot, per-minute counter; *dynamostore.Store implements it.
type RobotSlots interface {
	TakeRobotSlot(ctx context.Context, storeID, robotKey string, now time.Time, perMinute int) (bool, error)
}

// StoreLimiter is the Limiter for AWS: the count lives in the table, shared by every function.
type StoreLimiter struct {
	Store RobotSlots
}

// Take implements Limiter with PerMinute messages a minute.
func (l StoreLimiter) Take(ctx context.Context, storeID, robotKey string, now time.Time) (bool, error) {
	return l.Store.TakeRobotSlot(ctx, storeID, robotKey, now, PerMinute)
}

// memoryLimiter counts in this process: the default for a Sender without a Limiter.
type memoryLimiter struct {
	mu     sync.Mutex
	minute time.Time
	counts map[[2]string]int
}

func (l *memoryLimiter) Take(_ context.Context, storeID, robotKey string, now time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if minute := now.UTC().Truncate(time.Minute); minute.After(l.minute) {
		l.minute, l.counts = minute, map[[2]string]int{} // a new minute forgets the last
	}
	k := [2]string{storeID, robotKey}
	if l.counts[k] >= PerMinute {
		return false, nil
	}
	l.counts[k]++
	return true, nil
}

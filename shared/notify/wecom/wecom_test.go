package wecom_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/dynamostore"
	"yinling/shared/notify"
	"yinling/shared/notify/wecom"
)

// The table's counter is what StoreLimiter needs.
var _ wecom.RobotSlots = (*dynamostore.Store)(nil)

const key = "693a91f6-7xxx-4c7b-a1c3-2b1fe4c2cafe"

var now = time.Date(2026, 11, 23, 8, 0, 5, 0, time.UTC)

// server is a stand-in for qyapi.weixin.qq.com that checks each request as WeCom documents
// the group robot's webhook and answers with status and answer.
type server struct {
	t      *testing.T
	srv    *httptest.Server
	status int
	answer string
	mu     sync.Mutex
	bodies []string
}

func newServer(t *testing.T, status int, answer string) *server {
	s := &server{t: t, status: status, answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	t := s.t
	if r.Method != http.MethodPost || r.URL.Path != "/cgi-bin/webhook/send" {
		t.Errorf("request %s %s, want POST /cgi-bin/webhook/send", r.Method, r.URL.Path)
	}
	if diff := cmp.Diff(url.Values{"key": {key}}, r.URL.Query()); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	raw, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(raw))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(s.status)
	io.WriteString(w, s.answer)
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// limiter is a fake Limiter: it grants while room > 0 and records what it was asked.
type limiter struct {
	mu    sync.Mutex
	room  int
	err   error
	asked []string
}

func (l *limiter) Take(_ context.Context, storeID, robotKey string, at time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked = append(l.asked, storeID+" "+robotKey+" "+at.Format(time.RFC3339))
	if l.err != nil {
		return false, l.err
	}
	if l.room <= 0 {
		return false, nil
	}
	l.room--
	return true, nil
}

func newSender(s *server, l wecom.Limiter) *wecom.Sender {
	return wecom.New(wecom.Config{BaseURL: s.srv.URL, Limiter: l, Now: func() time.Time { return now }})
}

func message() notify.Message {
	return notify.Message{
		ID: "bc-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#G1", StoreID: "s1", Channel: notify.ChannelWeCom, To: key,
		Text: "张阿姨，8:00 该吃降压药了。", Kind: notify.KindReminder, Lang: "zh-CN",
	}
}

const okAnswer = `{"errcode":0,"errmsg":"ok"}`

func TestWeComSendBodies(t *testing.T) {
	tests := []struct {
		name string
		edit func(*notify.Message)
		want string
	}{
		{"text", func(*notify.Message) {},
			`{"msgtype":"text","text":{"content":"张阿姨，8:00 该吃降压药了。"}}`},
		{"text, not HTML-escaped", func(m *notify.Message) { m.Text = `周六 <社区中心> 太极拳 & "义诊"` },
			`{"msgtype":"text","text":{"content":"周六 <社区中心> 太极拳 & \"义诊\""}}`},
		{"spoken only", func(m *notify.Message) { m.Text, m.SpeakText = "", "八点该吃药了" },
			`{"msgtype":"text","text":{"content":"八点该吃药了"}}`},
		{"markdown, zh", func(m *notify.Message) { m.Link = "https://yl.example/o/O1" },
			`{"msgtype":"markdown","markdown":{"content":"张阿姨，8:00 该吃降压药了。\n[查看详情](https://yl.example/o/O1)"}}`},
		{"markdown, no lang is zh", func(m *notify.Message) { m.Link, m.Lang = "https://yl.example/o/O1", "" },
			`{"msgtype":"markdown","markdown":{"content":"张阿姨，8:00 该吃降压药了。\n[查看详情](https://yl.example/o/O1)"}}`},
		{"markdown, en", func(m *notify.Message) {
			m.Text, m.Link, m.Lang = "Tai chi on Saturday at 9:00.", "https://yl.example/o/O1?a=1&b=2", "en-GB"
		}, `{"msgtype":"markdown","markdown":{"content":"Tai chi on Saturday at 9:00.\n[Open](https://yl.example/o/O1?a=1&b=2)"}}`},
		{"markdown, a link that would end early", func(m *notify.Message) { m.Link = "https://yl.example/o/(O1) x" },
			`{"msgtype":"markdown","markdown":{"content":"张阿姨，8:00 该吃降压药了。\n[查看详情](https://yl.example/o/%28O1%29%20x)"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, 200, okAnswer)
			l := &limiter{room: 1}
			m := message()
			tt.edit(&m)
			got, err := newSender(s, l).Send(t.Context(), m)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if diff := cmp.Diff(notify.Receipt{Provider: "wecom", ProviderID: m.ID, At: now}, got); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.want}, s.requests()); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"s1 " + key + " 2026-11-23T08:00:05Z"}, l.asked); diff != "" {
				t.Errorf("limiter asked (-want +got):\n%s", diff)
			}
		})
	}
}

// Errors as WeCom answers them: HTTP status and errcode. Only what the same request would get
// again is permanent, and none names the robot's whole key.
func TestWeComSendErrors(t *testing.T) {
	errAnswer := func(code, msg string) string {
		return `{"errcode":` + code + `,"errmsg":"` + msg + `, hint: [1755605200056773468916791], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=` + code + `"}`
	}
	tests := []struct {
		name   string
		status int
		answer string
		reason string // "" for transient
		busy   bool
	}{
		{"robot over its limit", 200, errAnswer("45009", "api freq out of limit"), "", true},
		{"invalid webhook key", 200, errAnswer("93000", "invalid webhook url"), notify.ReasonInvalidRecipient, false},
		{"invalid credential", 200, errAnswer("40001", "invalid credential"), notify.ReasonInvalidRecipient, false},
		{"invalid token", 200, errAnswer("40014", "invalid access_token"), notify.ReasonInvalidRecipient, false},
		{"invalid message type", 200, errAnswer("40008", "invalid message type"), notify.ReasonRejected, false},
		{"empty content", 200, errAnswer("44004", "empty content"), notify.ReasonRejected, false},
		{"over WeCom's length", 200, errAnswer("40058", "markdown.content exceed max length 4096. invalid Request Parameter"), notify.ReasonRejected, false},
		{"system busy", 200, errAnswer("-1", "system busy"), "", false},
		{"other error", 200, errAnswer("60020", "not allow to access from your ip"), "", false},
		{"unreadable 200", 200, `<html>ok</html>`, "", false},
		{"server error", 500, `Internal Server Error`, "", false},
		{"gateway page", 502, `<html>Bad Gateway</html>`, "", false},
		{"bad request", 400, `<html>Bad Request</html>`, notify.ReasonRejected, false},
		{"not found", 404, `404 page not found`, notify.ReasonRejected, false},
		{"too many requests", 429, `Too Many Requests`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.status, tt.answer)
			_, err := newSender(s, &limiter{room: 1}).Send(t.Context(), message())
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := notify.ReasonOf(err); got != tt.reason {
				t.Errorf("ReasonOf(%v) = %q, want %q", err, got, tt.reason)
			}
			if got := errors.Is(err, wecom.ErrRobotBusy); got != tt.busy {
				t.Errorf("errors.Is(%v, ErrRobotBusy) = %v, want %v", err, got, tt.busy)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error %q names the robot's key", err)
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d requests, want exactly 1 (no retry inside Send)", n)
			}
		})
	}
}

// A robot whose minute is used up, or a limiter that cannot tell, gets no request.
func TestWeComRobotBusy(t *testing.T) {
	tests := []struct {
		name string
		l    *limiter
		busy bool
	}{
		{"minute used up", &limiter{room: 0}, true},
		{"limiter failed", &limiter{err: errors.New("dynamodb: throttled")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, 200, okAnswer)
			_, err := newSender(s, tt.l).Send(t.Context(), message())
			if err == nil || notify.IsPermanent(err) {
				t.Fatalf("Send: %v, want a transient error", err)
			}
			if got := errors.Is(err, wecom.ErrRobotBusy); got != tt.busy {
				t.Errorf("errors.Is(%v, ErrRobotBusy) = %v, want %v", err, got, tt.busy)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error %q names the robot's key", err)
			}
			if n := len(s.requests()); n != 0 {
				t.Errorf("%d requests, want none", n)
			}
		})
	}
}

// What WeCom would refuse is refused before the limiter and the request: a message without
// what every message needs, and content over WeCom's limits in bytes, not characters.
func TestWeComRefusedWithoutARequest(t *testing.T) {
	msg := func(edit func(*notify.Message)) notify.Message {
		m := message()
		edit(&m)
		return m
	}
	link := "https://yl.example/o/O1"
	mdOverhead := len("\n[查看详情](" + link + ")")
	tests := []struct {
		name   string
		msg    notify.Message
		reason string
	}{
		{"no recipient", msg(func(m *notify.Message) { m.To = "" }), notify.ReasonInvalidRecipient},
		{"no text", msg(func(m *notify.Message) { m.Text = "" }), notify.ReasonInvalidMessage},
		// 683 characters, 2049 bytes: under 2048 characters, over 2048 bytes.
		{"text over 2048 bytes", msg(func(m *notify.Message) { m.Text = strings.Repeat("药", 683) }), notify.ReasonTooLong},
		{"markdown over 4096 bytes", msg(func(m *notify.Message) {
			m.Text, m.Link = strings.Repeat("a", wecom.MaxMarkdown-mdOverhead+1), link
		}), notify.ReasonTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, 200, okAnswer)
			l := &limiter{room: 1}
			_, err := newSender(s, l).Send(t.Context(), tt.msg)
			if got := notify.ReasonOf(err); got != tt.reason {
				t.Errorf("ReasonOf(%v) = %q, want %q", err, got, tt.reason)
			}
			if n := len(s.requests()); n != 0 || len(l.asked) != 0 {
				t.Errorf("%d requests and %d slots asked, want none", n, len(l.asked))
			}
		})
	}

	// Exactly at the limits is fine.
	for name, m := range map[string]notify.Message{
		"text of 2048 bytes": msg(func(m *notify.Message) { m.Text = strings.Repeat("药", 682) + "ab" }),
		"markdown of 4096 bytes": msg(func(m *notify.Message) {
			m.Text, m.Link = strings.Repeat("a", wecom.MaxMarkdown-mdOverhead), link
		}),
	} {
		s := newServer(t, 200, okAnswer)
		if _, err := newSender(s, &limiter{room: 1}).Send(t.Context(), m); err != nil {
			t.Errorf("%s: Send: %v", name, err)
		}
	}
}

// A cancelled context ends the request in flight; the error is transient, says why, and does
// not carry the URL (and with it the key) that net/http puts in its errors.
func TestWeComContextCancel(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices a closed connection only once the body is read
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before Close, which waits for the handler
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	snd := wecom.New(wecom.Config{BaseURL: srv.URL, Limiter: &limiter{room: 1}})
	_, err := snd.Send(ctx, message())
	if !errors.Is(err, context.Canceled) || notify.IsPermanent(err) {
		t.Fatalf("Send: %v, want a transient context.Canceled", err)
	}
	if strings.Contains(err.Error(), key) {
		t.Errorf("error %q names the robot's key", err)
	}
}

// A WeCom that cannot be reached is a transient failure, and the error keeps the key out too.
func TestWeComUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, err := wecom.New(wecom.Config{BaseURL: srv.URL, Limiter: &limiter{room: 1}}).Send(t.Context(), message())
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("Send: %v, want a transient error", err)
	}
	if strings.Contains(err.Error(), key) {
		t.Errorf("error %q names the robot's key", err)
	}
}

// Without a Limiter, a Sender still keeps each robot to 20 messages a minute in its process.
func TestWeComWithoutLimiterCountsInProcess(t *testing.T) {
	s := newServer(t, 200, okAnswer)
	clock := now
	snd := wecom.New(wecom.Config{BaseURL: s.srv.URL, Now: func() time.Time { return clock }})
	send := func(m notify.Message) error {
		_, err := snd.Send(t.Context(), m)
		return err
	}
	for i := range wecom.PerMinute {
		if err := send(message()); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if err := send(message()); !errors.Is(err, wecom.ErrRobotBusy) {
		t.Errorf("message 21 in a minute: %v, want ErrRobotBusy", err)
	}
	other := message()
	other.StoreID = "s2"
	if err := send(other); err != nil {
		t.Errorf("the same robot key in another store: %v", err)
	}
	clock = now.Add(time.Minute)
	if err := send(message()); err != nil {
		t.Errorf("the next minute: %v", err)
	}
	if n := len(s.requests()); n != wecom.PerMinute+2 {
		t.Errorf("%d requests, want %d", n, wecom.PerMinute+2)
	}
}

// slots records what StoreLimiter asks of the table.
type slots struct{ got []int }

func (s *slots) TakeRobotSlot(_ context.Context, storeID, robotKey string, at time.Time, perMinute int) (bool, error) {
	s.got = append(s.got, perMinute)
	return storeID == "s1" && robotKey == key && at.Equal(now), nil
}

func TestWeComStoreLimiterAsksForPerMinute(t *testing.T) {
	sl := &slots{}
	ok, err := wecom.StoreLimiter{Store: sl}.Take(t.Context(), "s1", key, now)
	if !ok || err != nil {
		t.Errorf("Take = %v, %v; want true", ok, err)
	}
	if diff := cmp.Diff([]int{20}, sl.got); diff != "" {
		t.Errorf("perMinute (-want +got):\n%s", diff)
	}
}

// A redirect is not followed: it would carry the key to wherever it points.
func TestWeComFollowsNoRedirect(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		http.Redirect(w, r, "/elsewhere?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	_, err := wecom.New(wecom.Config{BaseURL: srv.URL, Limiter: &limiter{room: 1}}).Send(t.Context(), message())
	if err == nil || notify.IsPermanent(err) {
		t.Errorf("Send: %v, want a transient error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"/cgi-bin/webhook/send"}, paths); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

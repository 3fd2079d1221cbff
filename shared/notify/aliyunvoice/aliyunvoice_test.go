package aliyunvoice_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/notify"
	"yinling/shared/notify/aliyunvoice"
)

const (
	keyID  = "LTAI5tTestKeyId"
	secret = "testSecret/with+chars="
)

var now = time.Date(2026, 11, 23, 0, 0, 5, 0, time.UTC)

// The examples on Aliyun's signature pages ("签名机制" / "Signature mechanism"): DescribeRegions
// with AccessKeyId testid and secret testsecret. The Chinese page spells the parameter
// TimeStamp and prints its StringToSign; the English page spells it Timestamp.
func TestSignMatchesAliyunsPublishedExamples(t *testing.T) {
	params := func(ts string) url.Values {
		return url.Values{
			ts: {"2016-02-23T12:46:24Z"}, "Format": {"XML"}, "AccessKeyId": {"testid"},
			"Action": {"DescribeRegions"}, "SignatureMethod": {"HMAC-SHA1"},
			"SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"}, "Version": {"2014-05-26"},
			"SignatureVersion": {"1.0"},
		}
	}
	tests := []struct {
		name, timestampParam, want string
	}{
		{"zh page", "TimeStamp", "CT9X0VtwR86fNWSnsc6v8YGOjuE="},
		{"en page", "Timestamp", "OLeaidS1JvxuMvnyHOwuJ+uX5qY="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := aliyunvoice.Sign("GET", "testsecret", params(tt.timestampParam)); got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
	const canonical = "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&TimeStamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
	// As printed on the zh page, whose rendering shows the %26 between parameters as &.
	const wantSTS = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if got := aliyunvoice.StringToSign("GET", canonical); got != wantSTS {
		t.Errorf("StringToSign =\n%s\nwant\n%s", got, wantSTS)
	}
}

// server is a stand-in for dyvmsapi.aliyuncs.com that checks each request as Aliyun documents
// it and recomputes the signature with its own implementation (the one Aliyun's Go SDK uses:
// url.Values encoding, then its three substitutions).
type server struct {
	t      *testing.T
	srv    *httptest.Server
	status int
	answer string
	mu     sync.Mutex
	forms  []url.Values
	nonces map[string]bool
}

func newServer(t *testing.T, status int, answer string) *server {
	s := &server{t: t, status: status, answer: answer, nonces: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	t := s.t
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		t.Errorf("request %s %s, want POST /", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	query := r.URL.Query()
	raw, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		t.Errorf("body is not a form: %v", err)
	}

	// Common parameters, in the query, with the documented values.
	nonce := query.Get("SignatureNonce")
	common := map[string]string{}
	for k := range query {
		if k != "Signature" && k != "SignatureNonce" {
			common[k] = query.Get(k)
		}
	}
	wantCommon := map[string]string{
		"AccessKeyId": keyID, "Action": "SingleCallByTts", "Format": "JSON", "RegionId": "cn-hangzhou",
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "Timestamp": "2026-11-23T00:00:05Z",
		"Version": "2017-05-25",
	}
	if diff := cmp.Diff(wantCommon, common); diff != "" {
		t.Errorf("common parameters (-want +got):\n%s", diff)
	}
	s.mu.Lock()
	if nonce == "" || s.nonces[nonce] {
		t.Errorf("SignatureNonce %q is empty or reused", nonce)
	}
	s.nonces[nonce] = true
	s.forms = append(s.forms, form)
	s.mu.Unlock()

	// The signature, over query and form together, minus Signature.
	all := url.Values{}
	for _, vs := range []url.Values{query, form} {
		for k, v := range vs {
			if k != "Signature" {
				all[k] = v
			}
		}
	}
	enc := all.Encode()
	enc = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(enc)
	sts := "POST&%2F&" + url.QueryEscape(enc)
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if got := query.Get("Signature"); !hmac.Equal([]byte(got), []byte(want)) {
		t.Errorf("Signature %q, recomputed %q", got, want)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"RequestId":"r-sig","HostId":"dyvmsapi.aliyuncs.com","Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation."}`)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(s.status)
	io.WriteString(w, s.answer)
}

func (s *server) requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.forms...)
}

func newSender(t *testing.T, s *server, cfg aliyunvoice.Config) *aliyunvoice.Sender {
	t.Helper()
	cfg.AccessKeyID, cfg.AccessKeySecret = keyID, secret
	if cfg.TtsCode == "" {
		cfg.TtsCode = "TTS_100001"
	}
	cfg.Endpoint = s.srv.URL + "/"
	cfg.Now = func() time.Time { return now }
	snd, err := aliyunvoice.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

func message() notify.Message {
	return notify.Message{
		ID: "rem-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#2026-11-23T08:00#0", StoreID: "s1", MemberID: "m1",
		Channel: notify.ChannelVoice, To: "+8613800138000",
		Text: "张阿姨，8:00 该吃降压药了。", SpeakText: `张阿姨，八点该吃"降压药"了 <a&b>。`,
		Kind: notify.KindReminder, Lang: "zh-CN",
	}
}

const okAnswer = `{"Code":"OK","Message":"OK","RequestId":"D9CB3933-9FE3-4870-BA8E-2BEE91B69D23","CallId":"116012354148^102813789****"}`

func TestSendRequestAndReceipt(t *testing.T) {
	tests := []struct {
		name string
		cfg  aliyunvoice.Config
		want url.Values
	}{
		{"public number pool", aliyunvoice.Config{}, url.Values{
			"CalledNumber": {"13800138000"},
			"TtsCode":      {"TTS_100001"},
			"TtsParam":     {`{"text":"张阿姨，八点该吃\"降压药\"了 <a&b>。"}`},
			"PlayTimes":    {"2"},
			"OutId":        {aliyunvoice.OutID("rem-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#2026-11-23T08:00#0")},
		}},
		{"dedicated number, own variable, slower", aliyunvoice.Config{TtsCode: "TTS_2", TextParam: "content", CalledShowNumber: "057156781234", Speed: -100}, url.Values{
			"CalledNumber":     {"13800138000"},
			"CalledShowNumber": {"057156781234"},
			"TtsCode":          {"TTS_2"},
			"TtsParam":         {`{"content":"张阿姨，八点该吃\"降压药\"了 <a&b>。"}`},
			"PlayTimes":        {"2"},
			"Speed":            {"-100"},
			"OutId":            {aliyunvoice.OutID("rem-01JDQ7Z6W3V8G0X5Y4K2M9N1PA#2026-11-23T08:00#0")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, 200, okAnswer)
			got, err := newSender(t, s, tt.cfg).Send(t.Context(), message())
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if diff := cmp.Diff(notify.Receipt{Provider: "aliyun-voice", ProviderID: "116012354148^102813789****", At: now}, got); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if diff := cmp.Diff(tt.want, reqs[0]); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
			var param map[string]string
			if err := json.Unmarshal([]byte(reqs[0].Get("TtsParam")), &param); err != nil {
				t.Errorf("TtsParam is not JSON: %v", err)
			}
		})
	}
}

// Errors as the API documents them: HTTP status and Code. Only what the same request would
// get again is permanent.
func TestSendErrors(t *testing.T) {
	errAnswer := func(code, msg string) string {
		return `{"RequestId":"8906582E-6722","Code":"` + code + `","Message":"` + msg + `"}`
	}
	tests := []struct {
		name      string
		status    int
		answer    string
		permanent bool
		reason    string
	}{
		{"bad number", 400, errAnswer("isv.MOBILE_NUMBER_ILLEGAL", "号码格式非法"), true, notify.ReasonInvalidRecipient},
		{"bad number in a 200", 200, errAnswer("isv.MOBILE_NUMBER_ILLEGAL", "号码格式非法"), true, notify.ReasonInvalidRecipient},
		{"template variable refused", 400, errAnswer("isv.TEMPLATE_PARAMS_ILLEGAL", "模板变量非法"), true, notify.ReasonRejected},
		{"blacklisted keyword", 400, errAnswer("isv.BLACK_KEY_CONTROL_LIMIT", "模板变量中存在黑名单关键字"), true, notify.ReasonRejected},
		{"flow control", 400, errAnswer("isv.BUSINESS_LIMIT_CONTROL", "触发流控"), false, ""},
		{"throttled", 400, errAnswer("Throttling.User", "Request was denied due to user flow control."), false, ""},
		{"system error", 500, errAnswer("isp.SYSTEM_ERROR", "系统错误"), false, ""},
		{"RAM permission", 400, errAnswer("isp.RAM_PERMISSION_DENY", "RAM权限DENY"), false, ""},
		{"out of balance", 400, errAnswer("isv.OUT_OF_SERVICE", "业务停机"), false, ""},
		{"gateway page", 502, `<html>Bad Gateway</html>`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.status, tt.answer)
			_, err := newSender(t, s, aliyunvoice.Config{}).Send(t.Context(), message())
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := notify.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			if got := notify.ReasonOf(err); got != tt.reason {
				t.Errorf("ReasonOf = %q, want %q", got, tt.reason)
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d requests, want exactly 1 (no retry inside Send)", n)
			}
		})
	}
}

func TestRefusedWithoutARequest(t *testing.T) {
	hk := message()
	hk.To = "+85291234567"
	landline := message()
	landline.To = "+86105551234"
	long := message()
	long.SpeakText = strings.Repeat("药", aliyunvoice.MaxParam+1)
	tests := []struct {
		name   string
		msg    notify.Message
		reason string
	}{
		{"hong kong number", hk, notify.ReasonNoRoute},
		{"not a mobile", landline, notify.ReasonNoRoute},
		{"too long for the template", long, notify.ReasonTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, 200, okAnswer)
			_, err := newSender(t, s, aliyunvoice.Config{}).Send(t.Context(), tt.msg)
			if got := notify.ReasonOf(err); got != tt.reason {
				t.Errorf("ReasonOf(%v) = %q, want %q", err, got, tt.reason)
			}
			if n := len(s.requests()); n != 0 {
				t.Errorf("%d requests, want none", n)
			}
		})
	}
}

func TestOutID(t *testing.T) {
	a, b := aliyunvoice.OutID("rem-1#0"), aliyunvoice.OutID("rem-1#1")
	if len(a) != 15 || a == b || a != aliyunvoice.OutID("rem-1#0") {
		t.Errorf("OutID: %q, %q: want 15 bytes, deterministic, distinct", a, b)
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	for _, cfg := range []aliyunvoice.Config{
		{AccessKeySecret: "s", TtsCode: "T"},
		{AccessKeyID: "k", TtsCode: "T"},
		{AccessKeyID: "k", AccessKeySecret: "s"},
		{AccessKeyID: "k", AccessKeySecret: "s", TtsCode: "T", Speed: 501},
	} {
		if _, err := aliyunvoice.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// Package smsvoicetest is a local stand-in for the AWS End User Messaging SMS and Voice v2
// endpoint, for the adapters' tests: an httptest server on 127.0.0.1 that checks each request
// as the AWS JSON 1.0 protocol documents it — POST /, Content-Type application/x-amz-json-1.0,
// X-Amz-Target PinpointSMSVoiceV2.<Operation>, and a SigV4 signature for service sms-voice that
// it recomputes itself — and answers what the test scripts.
package smsvoicetest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
)

// Credentials and region the test client signs with.
const (
	AccessKeyID = "AKIDEXAMPLE"
	SecretKey   = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	Region      = "ap-southeast-1"
)

// Reply is one scripted answer.
type Reply struct {
	Status int
	Body   string
}

// Request is a request the server accepted as well formed.
type Request struct {
	Target string         // the operation, from X-Amz-Target
	Body   map[string]any // the JSON body
}

// Server is the stand-in endpoint.
type Server struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	replies []Reply
	got     []Request
}

// New starts a server that answers with replies in order (the last one repeats).
func New(t testing.TB, replies ...Reply) *Server {
	t.Helper()
	s := &Server{t: t, replies: replies}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// Client is an SDK client pointed at the server.
func (s *Server) Client() *pinpointsmsvoicev2.Client {
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretKey, ""),
	}
	return pinpointsmsvoicev2.NewFromConfig(cfg, func(o *pinpointsmsvoicev2.Options) {
		o.BaseEndpoint = aws.String(s.srv.URL)
	})
}

// Requests returns the well-formed requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.got...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("read body: %v", err)
		return
	}
	if err := CheckRequest(r, body); err != nil {
		s.t.Errorf("malformed request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		s.t.Errorf("body is not JSON: %v", err)
		return
	}
	s.mu.Lock()
	s.got = append(s.got, Request{Target: r.Header.Get("X-Amz-Target"), Body: m})
	rep := Reply{Status: 500, Body: `{"__type":"InternalServerException","Message":"no reply scripted"}`}
	if n := len(s.got); n <= len(s.replies) {
		rep = s.replies[n-1]
	} else if len(s.replies) > 0 {
		rep = s.replies[len(s.replies)-1]
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", "6b1d2f0e-0000-4000-8000-000000000001")
	w.WriteHeader(rep.Status)
	io.WriteString(w, rep.Body)
}

// CheckRequest checks the protocol of one request: method, path, headers, and its SigV4
// signature for service sms-voice in Region, recomputed from the request as received.
func CheckRequest(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.URL.RawQuery != "" {
		return fmt.Errorf("want POST / without a query, got %s %s", r.Method, r.URL.RequestURI())
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	if tg := r.Header.Get("X-Amz-Target"); !strings.HasPrefix(tg, "PinpointSMSVoiceV2.") {
		return fmt.Errorf("X-Amz-Target %q", tg)
	}
	return checkSigV4(r, body)
}

// checkSigV4 verifies the Authorization header the way AWS does, written out from the SigV4
// specification rather than with the SDK's own signer.
func checkSigV4(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return fmt.Errorf("authorization header %q is not SigV4", auth)
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	date := r.Header.Get("X-Amz-Date")
	if len(date) != len("20060102T150405Z") {
		return fmt.Errorf("X-Amz-Date %q", date)
	}
	scope := date[:8] + "/" + Region + "/sms-voice/aws4_request"
	if want := AccessKeyID + "/" + scope; fields["Credential"] != want {
		return fmt.Errorf("credential %q, want %q (service sms-voice)", fields["Credential"], want)
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) {
		return fmt.Errorf("SignedHeaders %q not sorted", fields["SignedHeaders"])
	}
	for _, must := range []string{"host", "x-amz-date", "x-amz-target", "content-type"} {
		if !slices.Contains(signed, must) {
			return fmt.Errorf("SignedHeaders %q lacks %s", fields["SignedHeaders"], must)
		}
	}
	var canon strings.Builder
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			v = strings.Join(r.Header.Values(h), ",")
		}
		canon.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	payload := sha256.Sum256(body)
	creq := strings.Join([]string{"POST", "/", "", canon.String(), fields["SignedHeaders"], hex.EncodeToString(payload[:])}, "\n")
	creqHash := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex.EncodeToString(creqHash[:])
	key := []byte("AWS4" + SecretKey)
	for _, part := range []string{date[:8], Region, "sms-voice", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	if want := hex.EncodeToString(hmacSHA256(key, sts)); !hmac.Equal([]byte(fields["Signature"]), []byte(want)) {
		return fmt.Errorf("signature %s, recomputed %s", fields["Signature"], want)
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

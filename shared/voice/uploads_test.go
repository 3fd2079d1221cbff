package voice

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/bucket"
	"yinling/shared/fail"
	"yinling/shared/i18n"
	"yinling/shared/ids"
	"yinling/shared/testenv"
)

func TestClipType(t *testing.T) {
	tests := []struct {
		in, mediaType, ext string
		err                error
	}{
		{"audio/webm", "audio/webm", "webm", nil},
		{"audio/webm;codecs=opus", "audio/webm", "webm", nil},
		{"Audio/WebM; codecs=\"opus\"", "audio/webm", "webm", nil},
		{"audio/ogg;codecs=opus", "audio/ogg", "ogg", nil},
		{"audio/mp4", "audio/mp4", "m4a", nil},
		{"audio/mp4;codecs=mp4a.40.2", "audio/mp4", "m4a", nil},
		{"audio/x-m4a", "audio/x-m4a", "m4a", nil},
		{"audio/aac", "audio/aac", "m4a", nil},
		{"audio/mpeg", "audio/mpeg", "mp3", nil},
		{"audio/wav", "audio/wav", "wav", nil},
		{"audio/x-wav", "audio/x-wav", "wav", nil},
		{"video/webm", "", "", ErrClipType},
		{"text/html", "", "", ErrClipType},
		{"audio/", "", "", ErrClipType},
		{"", "", "", ErrClipType},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			mt, ext, err := clipType(tt.in)
			if mt != tt.mediaType || ext != tt.ext || err != tt.err {
				t.Errorf("clipType(%q) = %q, %q, %v; want %q, %q, %v", tt.in, mt, ext, err, tt.mediaType, tt.ext, tt.err)
			}
		})
	}
}

// testCreds sign every presigned URL in the tests that do not use the emulator.
var testCreds = aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}

// offlineBucket is the bucket "voice" for presigning only: it is never asked to send a request.
func offlineBucket(endpoint string) *bucket.Bucket {
	return bucket.New(aws.Config{
		Region:       "ap-east-1",
		Credentials:  credentials.StaticCredentialsProvider{Value: testCreds},
		BaseEndpoint: aws.String(endpoint),
	}, "voice")
}

// voiceBucket is the test's voice bucket in the emulator.
func voiceBucket(env *testenv.Env) *bucket.Bucket {
	return bucket.New(env.AWS, env.Ref("VoiceBucket"))
}

func TestPresignRefuses(t *testing.T) {
	u := NewUploads(offlineBucket("http://127.0.0.1:1"), nil)
	tests := []struct {
		name, store, contentType string
		size                     int64
		want                     error
	}{
		{"too large", "s1", "audio/webm", MaxClipBytes + 1, ErrClipTooLarge},
		{"empty", "s1", "audio/webm", 0, ErrClipEmpty},
		{"negative", "s1", "audio/webm", -1, ErrClipEmpty},
		{"video", "s1", "video/webm", 100, ErrClipType},
		{"type before size", "s1", "text/plain", MaxClipBytes + 1, ErrClipType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := u.Presign(t.Context(), tt.store, tt.contentType, tt.size)
			if !errors.Is(err, tt.want) {
				t.Errorf("Presign = %v, want %v", err, tt.want)
			}
		})
	}
	for _, store := range []string{"", "s1/x"} {
		_, err := u.Presign(t.Context(), store, "audio/webm", 100)
		if _, ok := fail.As(err); err == nil || ok {
			t.Errorf("Presign for store %q = %v, want an internal error", store, err)
		}
	}
	if _, err := u.Presign(t.Context(), "s1", "audio/webm", MaxClipBytes); err != nil {
		t.Errorf("Presign of exactly MaxClipBytes: %v", err)
	}
}

// sigV4Bucket stands in for S3 where the emulator cannot: fauxqs checks no signature. It
// verifies a presigned request as S3 does — the signature is recomputed over the headers the
// URL says were signed, with the values the request carries, and must match — and refuses it
// after X-Amz-Expires. Accepted PUTs are kept by key.
type sigV4Bucket struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (b *sigV4Bucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := q.Get("X-Amz-Signature")
	q.Del("X-Amz-Signature")
	date, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	secs, err2 := strconv.Atoi(q.Get("X-Amz-Expires"))
	scope := strings.Split(q.Get("X-Amz-Credential"), "/") // AKID/date/region/s3/aws4_request
	if err != nil || err2 != nil || len(scope) != 5 {
		http.Error(w, "AuthorizationQueryParametersError", http.StatusBadRequest)
		return
	}
	if time.Now().After(date.Add(time.Duration(secs) * time.Second)) {
		http.Error(w, "AccessDenied: Request has expired", http.StatusForbidden)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+r.Host+r.URL.EscapedPath()+"?"+q.Encode(), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, h := range strings.Split(q.Get("X-Amz-SignedHeaders"), ";") {
		switch h {
		case "host": // from the URL
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }) // as S3 signs
	signed, _, err := signer.PresignHTTP(r.Context(), testCreds, req, "UNSIGNED-PAYLOAD", "s3", scope[2], date)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	u, _ := url.Parse(signed)
	if got := u.Query().Get("X-Amz-Signature"); got != want {
		http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
		return
	}
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.objects[r.URL.Path] = body
	b.mu.Unlock()
}

func TestPresignBindsSizeAndType(t *testing.T) {
	bucket := &sigV4Bucket{objects: map[string][]byte{}}
	srv := httptest.NewServer(bucket)
	defer srv.Close()
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	u := NewUploads(offlineBucket(srv.URL), func() time.Time { return now })
	clip := bytes.Repeat([]byte("opus"), 1000)

	up, err := u.Presign(t.Context(), "s1", "audio/webm;codecs=opus", int64(len(clip)))
	if err != nil {
		t.Fatal(err)
	}
	if _, id, ext, ok := parseClipKey("s1", up.ClipKey); !ok || !ids.Valid(id) || ext != "webm" || !strings.HasPrefix(up.ClipKey, "uploads/") {
		t.Errorf("ClipKey = %q, want uploads/s1/<ULID>.webm", up.ClipKey)
	}
	got := Upload{Method: up.Method, Headers: up.Headers, ExpiresAt: up.ExpiresAt}
	want := Upload{Method: http.MethodPut, Headers: map[string]string{"Content-Type": "audio/webm"}, ExpiresAt: now.Add(10 * time.Minute)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Upload (-want +got):\n%s", diff)
	}
	q := mustQuery(t, up.URL)
	if q.Get("X-Amz-Expires") != "600" || q.Get("X-Amz-SignedHeaders") != "content-length;content-type;host" {
		t.Errorf("URL expires in %qs, signs %q; want 600s and content-length;content-type;host",
			q.Get("X-Amz-Expires"), q.Get("X-Amz-SignedHeaders"))
	}

	tests := []struct {
		name        string
		body        []byte
		contentType string
		want        int
	}{
		{"one byte more", append(clip[:len(clip):len(clip)], 'x'), "audio/webm", http.StatusForbidden},
		{"one byte less", clip[:len(clip)-1], "audio/webm", http.StatusForbidden},
		{"other type", clip, "audio/ogg", http.StatusForbidden},
		{"with the codec parameter", clip, "audio/webm;codecs=opus", http.StatusForbidden},
		{"as signed", clip, "audio/webm", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := put(t, up, tt.body, tt.contentType); got != tt.want {
				t.Errorf("PUT status %d, want %d", got, tt.want)
			}
		})
	}
	if got := bucket.objects["/voice/"+up.ClipKey]; !bytes.Equal(got, clip) {
		t.Errorf("stored %d bytes, want the %d-byte clip", len(got), len(clip))
	}
}

// put sends body to a presigned upload with its headers, Content-Type replaced by contentType
// unless that is "", and returns the status.
func put(t *testing.T, up Upload, body []byte, contentType string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), up.Method, up.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range up.Headers {
		req.Header.Set(k, v)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// get fetches a presigned URL and returns its body and content type.
func get(t *testing.T, u string) ([]byte, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", u, resp.StatusCode, body)
	}
	return body, resp.Header.Get("Content-Type")
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestUploadsAgainstEmulator(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	u := NewUploads(voiceBucket(env), nil)
	clip := bytes.Repeat([]byte("opus"), 5000)

	up, err := u.Presign(ctx, "s1", "audio/webm;codecs=opus", int64(len(clip)))
	if err != nil {
		t.Fatal(err)
	}
	if got := put(t, up, clip, ""); got != http.StatusOK {
		t.Fatalf("PUT to the presigned URL: status %d", got)
	}

	checks := []struct {
		name, store, key string
		want             error
	}{
		{"own upload", "s1", up.ClipKey, nil},
		{"another store's upload", "s2", up.ClipKey, ErrClipNotFound},
		{"never uploaded", "s1", uploadKey("s1", ids.New(), "webm"), ErrClipNotFound},
		{"not a clip key", "s1", "tts/abc.mp3", ErrClipNotFound},
	}
	for _, tt := range checks {
		t.Run("check "+tt.name, func(t *testing.T) {
			if err := u.Check(ctx, tt.store, tt.key); !errors.Is(err, tt.want) || (err != nil && tt.want == nil) {
				t.Errorf("Check = %v, want %v", err, tt.want)
			}
		})
	}

	claimed, err := u.Claim(ctx, "s1", up.ClipKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := "clips/" + strings.TrimPrefix(up.ClipKey, "uploads/"); claimed != want {
		t.Errorf("Claim = %q, want %q", claimed, want)
	}
	for _, key := range []string{up.ClipKey, claimed} {
		again, err := u.Claim(ctx, "s1", key)
		if err != nil || again != claimed {
			t.Errorf("Claim(%q) again = %q, %v; want %q", key, again, err, claimed)
		}
	}
	if _, err := u.Claim(ctx, "s2", up.ClipKey); !errors.Is(err, ErrClipNotFound) {
		t.Errorf("Claim of another store's upload = %v, want ErrClipNotFound", err)
	}

	for _, key := range []string{up.ClipKey, claimed} {
		link, err := u.URL(ctx, key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		body, ct := get(t, link)
		if !bytes.Equal(body, clip) || ct != "audio/webm" {
			t.Errorf("GET %s: %d bytes of %q, want the %d-byte clip of audio/webm", key, len(body), ct, len(clip))
		}
	}
	if _, err := u.URL(ctx, claimed, 0); err == nil {
		t.Error("URL with ttl 0: no error")
	}
}

// A browser could send what it did not announce. S3 refuses such a PUT (see
// TestPresignBindsSizeAndType); fauxqs does not check signatures and stores it. Either way,
// the clip must never be claimed.
func TestClaimRefusesWhatTheUploadDidNotAnnounce(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	u := NewUploads(voiceBucket(env), nil)
	tests := []struct {
		name        string
		body        []byte
		contentType string
		want        error
	}{
		{"over the limit", make([]byte, MaxClipBytes+1), "", ErrClipTooLarge},
		{"another audio type", []byte("ogg"), "audio/ogg", ErrClipType},
		{"not audio", []byte("<script>"), "text/html", ErrClipType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, err := u.Presign(ctx, "s1", "audio/webm", 3)
			if err != nil {
				t.Fatal(err)
			}
			status := put(t, up, tt.body, tt.contentType)
			t.Logf("the emulator answered the PUT with %d", status)
			want := tt.want
			if status != http.StatusOK {
				want = ErrClipNotFound // refused, as S3 would
			}
			if _, err := u.Claim(ctx, "s1", up.ClipKey); !errors.Is(err, want) {
				t.Errorf("Claim = %v, want %v", err, want)
			}
		})
	}
}

// Every error a caller can see has a message in every language (STYLE.md §6).
func TestErrorsHaveMessages(t *testing.T) {
	for _, e := range []*fail.Error{ErrClipTooLarge, ErrClipEmpty, ErrClipType, ErrClipNotFound, ErrTextRequired, ErrTextTooLong} {
		if !i18n.Has("error." + e.Code) {
			t.Errorf("error.%s has no message in every catalog", e.Code)
		}
	}
}

package bucket_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/awscalls"
	"yinling/shared/bucket"
	"yinling/shared/testenv"
)

// TestAgainstEmulator runs every operation against the local S3 emulator (fauxqs), reached as
// the functions reach it: through AWS_ENDPOINT_URL_S3, on an IP address, so path-style.
func TestAgainstEmulator(t *testing.T) {
	var calls awscalls.Counter
	env := testenv.New(t, testenv.WithAPIOptions(calls.Register))
	ctx := t.Context()
	b := bucket.New(env.AWS, env.Ref("VoiceBucket"))
	clip := bytes.Repeat([]byte("opus"), 5000)

	if _, err := b.Head(ctx, "uploads/s1/never.webm"); !bucket.NotFound(err) {
		t.Errorf("Head of a missing key = %v, want NotFound", err)
	}
	if err := b.Put(ctx, "tts/abc.mp3", "audio/mpeg", clip); err != nil {
		t.Fatal(err)
	}
	if err := b.Copy(ctx, "tts/abc.mp3", "clips/s1/abc.mp3"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"tts/abc.mp3", "clips/s1/abc.mp3"} {
		obj, err := b.Head(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if want := (bucket.Object{Size: int64(len(clip)), ContentType: "audio/mpeg"}); obj != want {
			t.Errorf("Head(%s) = %+v, want %+v", key, obj, want)
		}
	}
	if err := b.Copy(ctx, "tts/missing.mp3", "clips/s1/missing.mp3"); err == nil {
		t.Error("Copy of a missing key: no error")
	}
	want := map[string]int{"S3.HeadObject": 3, "S3.PutObject": 1, "S3.CopyObject": 2}
	if diff := cmp.Diff(want, calls.Snapshot().Count); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	// What a browser does: PUT to the presigned URL with the signed headers, GET to play it.
	up, err := b.PresignPut(ctx, "uploads/s1/01JDR00000000000000000000A.webm", "audio/webm", int64(len(clip)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, up.Method, up.URL, bytes.NewReader(clip))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", up.SignedHeader.Get("Content-Type"))
	if status, body := send(t, req); status != http.StatusOK {
		t.Fatalf("presigned PUT: %d %s", status, body)
	}
	link, err := b.PresignGet(ctx, "uploads/s1/01JDR00000000000000000000A.webm", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := send(t, req); status != http.StatusOK || !bytes.Equal(body, clip) {
		t.Errorf("presigned GET: %d, %d bytes; want 200 and the %d-byte clip", status, len(body), len(clip))
	}
	if n := calls.Snapshot().Total(); n != 6 {
		t.Errorf("%d calls counted, want 6: presigning makes none", n)
	}
}

func send(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

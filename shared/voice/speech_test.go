package voice

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/polly"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/testenv"
)

// Text is checked before any call: the speakers here have no clients at all.
func TestSpeakRefusesText(t *testing.T) {
	speakers := map[string]Speaker{"polly": &PollySpeaker{}, "espeak": &EspeakSpeaker{}}
	tests := []struct {
		name, text string
		want       error
	}{
		{"empty", "", ErrTextRequired},
		{"only space", " \t\n　", ErrTextRequired},
		{"501 runes", strings.Repeat("药", MaxSpeechRunes+1), ErrTextTooLong},
	}
	for name, s := range speakers {
		for _, tt := range tests {
			t.Run(name+" "+tt.name, func(t *testing.T) {
				if _, err := s.Speak(t.Context(), tt.text, "zh-CN"); !errors.Is(err, tt.want) {
					t.Errorf("Speak = %v, want %v", err, tt.want)
				}
			})
		}
	}
}

// fakePolly answers SynthesizeSpeech (POST /v1/speech) with made-up MP3 bytes and records
// each request's JSON.
type fakePolly struct {
	mu       sync.Mutex
	requests []map[string]any
}

func (f *fakePolly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if r.Method != http.MethodPost || r.URL.Path != "/v1/speech" || json.NewDecoder(r.Body).Decode(&in) != nil {
		http.Error(w, `{"message":"unexpected request"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, in)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "audio/mpeg")
	io.WriteString(w, "ID3 "+in["Text"].(string))
}

// take returns the requests recorded since the last take.
func (f *fakePolly) take() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

func TestPollySpeakerCaches(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	fake := &fakePolly{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	bucket := env.Ref("VoiceBucket")
	p := &PollySpeaker{
		Polly:  polly.NewFromConfig(env.AWS, func(o *polly.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		Bucket: voiceBucket(env),
	}
	long := strings.Repeat("药", MaxSpeechRunes)
	tests := []struct {
		name, text, lang string
		voice, code      string
		spoken           string // the text Polly is sent
	}{
		{"mandarin", " 该吃药了 ", "zh-CN", "Zhiyu", "cmn-CN", "该吃药了"},
		{"english", "Time for your pills", "en-US", "Joanna", "en-US", "Time for your pills"},
		{"no language is mandarin", "明天复查", "", "Zhiyu", "cmn-CN", "明天复查"},
		{"500 runes", long, "zh", "Zhiyu", "cmn-CN", long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := p.Speak(ctx, tt.text, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			want := Audio{Key: speechKey("polly:neural", tt.voice, tt.code, tt.spoken, "mp3"), ContentType: "audio/mpeg"}
			if diff := cmp.Diff(want, a); diff != "" {
				t.Errorf("Audio (-want +got):\n%s", diff)
			}
			wantReq := []map[string]any{{
				"Engine": "neural", "LanguageCode": tt.code, "OutputFormat": "mp3",
				"Text": tt.spoken, "TextType": "text", "VoiceId": tt.voice,
			}}
			if diff := cmp.Diff(wantReq, fake.take()); diff != "" {
				t.Errorf("Polly requests (-want +got):\n%s", diff)
			}
			out, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &a.Key})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(body) != "ID3 "+tt.spoken || aws.ToString(out.ContentType) != "audio/mpeg" {
				t.Errorf("stored %q of %q, want Polly's bytes of audio/mpeg", body, aws.ToString(out.ContentType))
			}

			// The same words again, in another spelling of the language: from the cache.
			again, err := p.Speak(ctx, tt.spoken+"\n", strings.ToLower(tt.lang))
			if err != nil || again != a {
				t.Errorf("second Speak = %+v, %v; want %+v", again, err, a)
			}
			if n := len(fake.take()); n != 0 {
				t.Errorf("second Speak made %d Polly calls, want 0", n)
			}
		})
	}
}

// requireEspeak returns espeak-ng's path, or skips the test without it — fails instead under
// YINLING_REQUIRE_EMULATORS=1, where make deps has installed it.
func requireEspeak(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv(testenv.RequireVar) == "1" {
			t.Fatalf("espeak-ng is not installed but %s=1: run make deps", testenv.RequireVar)
		}
		t.Skip("espeak-ng is not installed: run make deps")
	}
	return bin
}

func TestEspeakSpeaker(t *testing.T) {
	bin := requireEspeak(t)
	env := testenv.New(t)
	ctx := t.Context()
	bucket := env.Ref("VoiceBucket")
	tests := []struct {
		name, text, lang, voice, spoken string
	}{
		// "--" keeps a leading '-' from being read as an option (-v would pick a voice).
		{"mandarin", "-v 该吃药了", "zh-CN", "cmn", "zh"},
		{"english", "Time for your pills", "en", "en-us", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &EspeakSpeaker{Bin: bin, Bucket: voiceBucket(env)}
			a, err := e.Speak(ctx, tt.text, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			want := Audio{Key: speechKey("espeak-ng:s140", tt.voice, tt.spoken, tt.text, "wav"), ContentType: "audio/wav"}
			if diff := cmp.Diff(want, a); diff != "" {
				t.Errorf("Audio (-want +got):\n%s", diff)
			}
			out, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &a.Key})
			if err != nil {
				t.Fatal(err)
			}
			wav, _ := io.ReadAll(out.Body)
			out.Body.Close()
			// At least half a second of espeak-ng's 22,050 Hz 16-bit mono, with true sizes.
			if len(wav) < 44+22050 || string(wav[:4]) != "RIFF" || string(wav[8:12]) != "WAVE" ||
				binary.LittleEndian.Uint32(wav[4:8]) != uint32(len(wav)-8) ||
				binary.LittleEndian.Uint32(wav[40:44]) != uint32(len(wav)-44) {
				t.Errorf("stored %d bytes that are not a WAV with true sizes: % x", len(wav), wav[:min(len(wav), 44)])
			}
			if ct := aws.ToString(out.ContentType); ct != "audio/wav" {
				t.Errorf("stored as %q, want audio/wav", ct)
			}

			// A hit runs nothing: a speaker without a working espeak-ng still answers.
			broken := &EspeakSpeaker{Bin: "/nonexistent/espeak-ng", Bucket: voiceBucket(env)}
			if again, err := broken.Speak(ctx, tt.text, tt.lang); err != nil || again != a {
				t.Errorf("cached Speak = %+v, %v; want %+v", again, err, a)
			}
			if _, err := broken.Speak(ctx, tt.text+"!", tt.lang); err == nil {
				t.Error("uncached Speak with a missing espeak-ng: no error")
			}
		})
	}
}

func TestFixWAVSizes(t *testing.T) {
	header := func(riff, data uint32) []byte {
		h := make([]byte, 44)
		copy(h, "RIFF")
		binary.LittleEndian.PutUint32(h[4:], riff)
		copy(h[8:], "WAVEfmt ")
		copy(h[36:], "data")
		binary.LittleEndian.PutUint32(h[40:], data)
		return h
	}
	wav := append(header(0x7ffff024, 0x7ffff000), make([]byte, 1000)...)
	fixWAVSizes(wav)
	if diff := cmp.Diff(header(1036, 1000), wav[:44]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	other := []byte("ID3 not a wav, but long enough to have a header's worth of bytes")
	before := string(other)
	fixWAVSizes(other)
	if string(other) != before {
		t.Errorf("fixWAVSizes changed a non-WAV: %q", other)
	}
}

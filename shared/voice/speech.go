package voice

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/polly"
	ptypes "github.com/aws/aws-sdk-go-v2/service/polly/types"

	"yinling/shared/bucket"
	"yinling/shared/fail"
)

// MaxSpeechRunes bounds the text one Speak turns into audio (Polly takes up to 3,000
// characters; a reminder is far shorter).
const MaxSpeechRunes = 500

// Errors a caller can cause with text to speak. The codes are the ones every other text
// field uses, so the caller's page already has their messages.
var (
	ErrTextRequired = &fail.Error{Kind: fail.Invalid, Code: "required", Field: "text"}
	ErrTextTooLong  = &fail.Error{Kind: fail.Invalid, Code: "too_long", Field: "text"}
)

// Speaker turns text into audio stored in the bucket. lang is a BCP 47 tag; its primary
// subtag picks the voice (zh-CN → zh) and anything but English is spoken in Mandarin.
type Speaker interface {
	Speak(ctx context.Context, text, lang string) (Audio, error)
}

// Audio is spoken text in the bucket.
type Audio struct {
	Key         string // tts/<sha256>.<ext>; play it through Uploads.URL
	ContentType string
}

// speechText returns text trimmed of surrounding space, or why it cannot be spoken.
func speechText(text string) (string, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "", ErrTextRequired
	case utf8.RuneCountInString(text) > MaxSpeechRunes:
		return "", ErrTextTooLong
	}
	return text, nil
}

// primaryLang returns the lowercase primary subtag of a BCP 47 tag: zh-CN → zh, en_US → en.
func primaryLang(lang string) string {
	p, _, _ := strings.Cut(strings.ToLower(lang), "-")
	p, _, _ = strings.Cut(p, "_")
	return p
}

// PollySpeaker speaks with Amazon Polly and caches the MP3 in the bucket, so each distinct
// text is synthesized once: a reminder that rings every day costs one Polly call, not one a
// day. Its role needs polly:SynthesizeSpeech, s3:GetObject and s3:PutObject on tts/*.
type PollySpeaker struct {
	Polly  *polly.Client
	Bucket *bucket.Bucket
}

// pollyEngine is Polly's neural engine: both voices below have it, and a senior on the phone
// understands it better than the standard one. It costs four times as much per character,
// which the cache makes a few cents a month.
const pollyEngine = ptypes.EngineNeural

// pollyVoice returns the voice and language code for lang: Zhiyu (cmn-CN) unless it is English.
func pollyVoice(lang string) (ptypes.VoiceId, ptypes.LanguageCode) {
	if primaryLang(lang) == "en" {
		return ptypes.VoiceIdJoanna, ptypes.LanguageCodeEnUs
	}
	return ptypes.VoiceIdZhiyu, ptypes.LanguageCodeCmnCn
}

// Speak returns the cached MP3 of text, synthesizing and storing it on a miss. A hit costs one
// HeadObject; a miss adds one SynthesizeSpeech and one PutObject. Two Speaks of a new text at
// once both synthesize it and write the same bytes: harmless.
func (p *PollySpeaker) Speak(ctx context.Context, text, lang string) (Audio, error) {
	text, err := speechText(text)
	if err != nil {
		return Audio{}, err
	}
	voice, code := pollyVoice(lang)
	audio := Audio{
		Key:         speechKey("polly:"+string(pollyEngine), string(voice), string(code), text, "mp3"),
		ContentType: "audio/mpeg",
	}
	if hit, err := cached(ctx, p.Bucket, audio.Key); err != nil || hit {
		return audio, err
	}
	out, err := p.Polly.SynthesizeSpeech(ctx, &polly.SynthesizeSpeechInput{
		Engine:       pollyEngine,
		LanguageCode: code,
		OutputFormat: ptypes.OutputFormatMp3,
		Text:         &text,
		TextType:     ptypes.TextTypeText,
		VoiceId:      voice,
	})
	if err != nil {
		return Audio{}, fmt.Errorf("synthesize %s: %w", audio.Key, err)
	}
	defer out.AudioStream.Close()
	// Read it whole: Put signs the body's SHA-256 before sending it, and 500 runes of speech
	// are a few hundred KB.
	body, err := io.ReadAll(out.AudioStream)
	if err != nil {
		return Audio{}, fmt.Errorf("synthesize %s: read audio: %w", audio.Key, err)
	}
	return audio, store(ctx, p.Bucket, audio, body)
}

// EspeakSpeaker speaks with espeak-ng, for the local stack (Debian's espeak-ng package; make
// deps installs it), and caches the WAV in the bucket like PollySpeaker. It sounds robotic
// but needs no account; a page can also let the browser speak the text (speechSynthesis).
type EspeakSpeaker struct {
	Bin    string // the espeak-ng executable; "" finds espeak-ng on PATH
	Bucket *bucket.Bucket
}

// espeakRate is the speaking speed in words per minute: espeak-ng's default (175) is hurried
// for an older listener.
const espeakRate = "140"

// espeakVoice returns espeak-ng's voice for lang, and the language it speaks: Mandarin (cmn)
// unless lang is English.
func espeakVoice(lang string) (voice, spoken string) {
	if primaryLang(lang) == "en" {
		return "en-us", "en"
	}
	return "cmn", "zh"
}

// Speak returns the cached WAV of text, running espeak-ng and storing its output on a miss.
func (e *EspeakSpeaker) Speak(ctx context.Context, text, lang string) (Audio, error) {
	text, err := speechText(text)
	if err != nil {
		return Audio{}, err
	}
	voice, spoken := espeakVoice(lang)
	audio := Audio{
		Key:         speechKey("espeak-ng:s"+espeakRate, voice, spoken, text, "wav"),
		ContentType: "audio/wav",
	}
	if hit, err := cached(ctx, e.Bucket, audio.Key); err != nil || hit {
		return audio, err
	}
	bin := e.Bin
	if bin == "" {
		bin = "espeak-ng"
	}
	// No shell; "--" ends the options, so a text that starts with '-' is spoken, not parsed.
	cmd := exec.CommandContext(ctx, bin, "-v", voice, "-s", espeakRate, "--stdout", "--", text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	wav, err := cmd.Output()
	if err != nil {
		return Audio{}, fmt.Errorf("espeak-ng %s: %w: %s", audio.Key, err, bytes.TrimSpace(stderr.Bytes()))
	}
	fixWAVSizes(wav)
	return audio, store(ctx, e.Bucket, audio, wav)
}

// fixWAVSizes writes the real sizes into the canonical 44-byte header espeak-ng puts before its
// samples: writing to a pipe, it cannot seek back, so it leaves placeholders (0x7ffff000) that
// some players read as a 35-minute file.
func fixWAVSizes(wav []byte) {
	if len(wav) < 44 || string(wav[0:4]) != "RIFF" || string(wav[8:12]) != "WAVE" || string(wav[36:40]) != "data" {
		return
	}
	binary.LittleEndian.PutUint32(wav[4:8], uint32(len(wav)-8))
	binary.LittleEndian.PutUint32(wav[40:44], uint32(len(wav)-44))
}

// cached reports whether key is in the bucket.
func cached(ctx context.Context, objects *bucket.Bucket, key string) (bool, error) {
	_, err := objects.Head(ctx, key)
	switch {
	case bucket.NotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("speech cache %s: %w", key, err)
	}
	return true, nil
}

// store puts spoken audio in the bucket.
func store(ctx context.Context, objects *bucket.Bucket, a Audio, body []byte) error {
	if err := objects.Put(ctx, a.Key, a.ContentType, body); err != nil {
		return fmt.Errorf("store speech %s: %w", a.Key, err)
	}
	return nil
}

var (
	_ Speaker = (*PollySpeaker)(nil)
	_ Speaker = (*EspeakSpeaker)(nil)
)

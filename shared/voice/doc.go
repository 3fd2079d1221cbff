// Package voice owns the audio of reminders in the voice bucket (VoiceBucket in template.yaml):
// clips that family helpers and staff record, and text turned into speech.
//
// # Recorded clips
//
// A page records with the browser's MediaRecorder and asks for an upload; Uploads.Presign
// returns a presigned PUT, and the browser sends the bytes straight to S3 — they never pass
// through a function. The signature binds Content-Type and Content-Length, so S3 itself holds
// the limits: one of the accepted audio types (WebM, Ogg, MP4/M4A/AAC, MP3, WAV) and 1 byte to
// MaxClipBytes (1 MiB; a minute of Opus is about 250 KB). The URL works for UploadTTL
// (10 minutes).
//
// Before a reminder is saved with a clip, Uploads.Claim checks the object (it exists, belongs to
// the caller's store, has an accepted type and size: the local emulator checks no signature,
// and this check does not depend on one) and copies it to its permanent key. Uploads.URL
// presigns a GET for a page to play a clip or spoken text.
//
// # Spoken text
//
// A Speaker turns text (1 to MaxSpeechRunes runes) into audio in the bucket. PollySpeaker uses
// Amazon Polly in AWS: Zhiyu (Mandarin, cmn-CN) or Joanna (English), neural engine, MP3.
// EspeakSpeaker runs espeak-ng for the local stack, WAV; a page may instead let the browser
// speak with speechSynthesis. Both cache by content: the key is a hash of engine, voice,
// language and text, so the same words are synthesized once and then only looked up.
//
// # Keys and lifecycle
//
//	uploads/<storeID>/<ULID>.<ext>   a browser's upload; deleted 2 days after it was written
//	clips/<storeID>/<ULID>.<ext>     a claimed clip (same ULID); no lifecycle rule
//	tts/<sha256 hex>.mp3 | .wav      spoken text, sha256(engine|voice|lang|text); deleted after
//	                                 90 days, and made again on the next miss
//
// The lifecycle rules in template.yaml delete by prefix and age, not by use: a clip a reminder
// names must leave uploads/, which is why Claim copies it. fauxqs implements no lifecycle rule,
// so locally nothing expires.
//
// Functions hold no s3:ListBucket, so S3 answers HeadObject of a missing key with 403, not
// 404; both mean "not there" here (see missing).
package voice

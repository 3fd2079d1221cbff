package voice

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"yinling/shared/bucket"
	"yinling/shared/fail"
	"yinling/shared/ids"
)

// Limits of a recorded clip.
const (
	// MaxClipBytes bounds a clip: a 60-second Opus recording is about 250 KB.
	MaxClipBytes = 1 << 20
	// UploadTTL is how long a presigned upload URL works: time to finish one recording's PUT,
	// short enough that a leaked URL is soon useless.
	UploadTTL = 10 * time.Minute
	// MaxURLTTL is the longest a presigned URL can live (a SigV4 limit). In Lambda a URL also
	// stops working when the execution role's session ends, whichever comes first.
	MaxURLTTL = 7 * 24 * time.Hour
)

// Errors a caller can cause with a clip.
var (
	ErrClipTooLarge = &fail.Error{Kind: fail.TooLarge, Code: "clip_too_large", Field: "size"}
	ErrClipEmpty    = &fail.Error{Kind: fail.Invalid, Code: "clip_empty", Field: "size"}
	ErrClipType     = &fail.Error{Kind: fail.Unsupported, Code: "clip_type", Field: "contentType"}
	ErrClipNotFound = &fail.Error{Kind: fail.NotFound, Code: "clip_not_found"}
)

// clipTypes maps each content type a browser's MediaRecorder (or a phone's recorder) produces
// to the extension its key gets. Parameters (";codecs=opus") are ignored.
var clipTypes = map[string]string{
	"audio/webm":  "webm", // Chrome, Firefox, Edge
	"audio/ogg":   "ogg",  // Firefox
	"audio/mp4":   "m4a",  // Safari
	"audio/x-m4a": "m4a",
	"audio/aac":   "m4a",
	"audio/mpeg":  "mp3",
	"audio/wav":   "wav",
	"audio/x-wav": "wav",
}

// clipType returns the media type (lowercase, without parameters) and key extension of an
// accepted content type, or ErrClipType.
func clipType(contentType string) (mediaType, ext string, err error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", "", ErrClipType
	}
	ext, ok := clipTypes[mt]
	if !ok {
		return "", "", ErrClipType
	}
	return mt, ext, nil
}

func knownExt(ext string) bool {
	for _, e := range clipTypes {
		if e == ext {
			return true
		}
	}
	return false
}

// Upload is what a browser needs to upload one clip straight to S3.
type Upload struct {
	// URL is presigned for one PUT of exactly the announced size and content type.
	URL    string
	Method string // always PUT
	// Headers must be sent with the PUT as they are (today only Content-Type). The signature
	// also covers Content-Length, which a browser sets itself from the body and a script may
	// not set: the body must be exactly the announced size.
	Headers map[string]string
	// ClipKey names the upload; a reminder saved with it must go through Claim first.
	ClipKey string
	// ExpiresAt is when the URL stops working, at the latest.
	ExpiresAt time.Time
}

// Uploads hands out presigned URLs for recorded clips and checks what came back. It is safe
// for concurrent use.
type Uploads struct {
	objects *bucket.Bucket
	now     func() time.Time
}

// NewUploads returns Uploads for the clips in objects. now (time.Now if nil) dates ExpiresAt;
// the signature itself is dated by the bucket's clock, a moment later, so ExpiresAt never
// promises too much.
func NewUploads(objects *bucket.Bucket, now func() time.Time) *Uploads {
	if now == nil {
		now = time.Now
	}
	return &Uploads{objects: objects, now: now}
}

// Presign returns a presigned PUT for a clip of size bytes and contentType recorded for
// storeID, under a new key. It fails with ErrClipType, ErrClipEmpty or ErrClipTooLarge.
//
// The signature binds Content-Type and Content-Length, so S3 refuses a body of another size
// or type: the limits hold although the bytes never pass through our code. Presigning is a
// local computation; it makes no AWS call.
func (u *Uploads) Presign(ctx context.Context, storeID, contentType string, size int64) (Upload, error) {
	if storeID == "" || strings.Contains(storeID, "/") {
		return Upload{}, fmt.Errorf("presign clip: invalid store id %q", storeID)
	}
	mediaType, ext, err := clipType(contentType)
	if err != nil {
		return Upload{}, err
	}
	switch {
	case size < 1:
		return Upload{}, ErrClipEmpty
	case size > MaxClipBytes:
		return Upload{}, ErrClipTooLarge
	}
	key := uploadKey(storeID, ids.New(), ext)
	expires := u.now().Add(UploadTTL)
	req, err := u.objects.PresignPut(ctx, key, mediaType, size, UploadTTL)
	if err != nil {
		return Upload{}, fmt.Errorf("presign clip %s: %w", key, err)
	}
	headers := make(map[string]string, len(req.SignedHeader))
	for k, v := range req.SignedHeader {
		// Host comes from the URL; Content-Length from the body (see Upload.Headers).
		if k = http.CanonicalHeaderKey(k); k != "Host" && k != "Content-Length" {
			headers[k] = strings.Join(v, ",")
		}
	}
	return Upload{URL: req.URL, Method: req.Method, Headers: headers, ClipKey: key, ExpiresAt: expires}, nil
}

// Check reports whether key names a usable clip of storeID: an upload or a claimed clip of
// that store that exists, holds at most MaxClipBytes and has an accepted content type. It
// fails with ErrClipNotFound (also for another store's key), ErrClipEmpty, ErrClipTooLarge
// or ErrClipType. It costs one HeadObject.
func (u *Uploads) Check(ctx context.Context, storeID, key string) error {
	_, _, _, err := u.check(ctx, storeID, key)
	return err
}

// Claim checks an uploaded clip (see Check) and copies it out of uploads/, whose objects the
// bucket deletes two days after they were written, to a clips/ key that no lifecycle rule
// touches; a reminder stores the key Claim returns. Claiming is idempotent: a claimed key, or
// an upload claimed before, yields the same clips/ key. It costs one HeadObject, and one
// CopyObject for an upload.
func (u *Uploads) Claim(ctx context.Context, storeID, key string) (string, error) {
	prefix, id, ext, err := u.check(ctx, storeID, key)
	if err != nil {
		return "", err
	}
	if prefix == clipsPrefix {
		return key, nil
	}
	claimed := claimedKey(storeID, id, ext)
	if err := u.objects.Copy(ctx, key, claimed); err != nil {
		return "", fmt.Errorf("claim clip %s: %w", key, err)
	}
	return claimed, nil
}

// check is Check, also returning the parts of the key.
func (u *Uploads) check(ctx context.Context, storeID, key string) (prefix, id, ext string, err error) {
	prefix, id, ext, ok := parseClipKey(storeID, key)
	if !ok {
		return "", "", "", ErrClipNotFound
	}
	obj, err := u.objects.Head(ctx, key)
	if bucket.NotFound(err) {
		return "", "", "", ErrClipNotFound
	}
	if err != nil {
		return "", "", "", fmt.Errorf("check clip %s: %w", key, err)
	}
	switch size := obj.Size; {
	case size < 1:
		return "", "", "", ErrClipEmpty
	case size > MaxClipBytes:
		return "", "", "", ErrClipTooLarge
	}
	// The type was signed with the upload, so a mismatch means the object did not come
	// through Presign.
	if _, got, err := clipType(obj.ContentType); err != nil || got != ext {
		return "", "", "", ErrClipType
	}
	return prefix, id, ext, nil
}

// URL returns a presigned GET of key (a clip or spoken text) that works for ttl, for a page
// to play it. Keys come from our own records, never from a caller. Presigning makes no AWS
// call.
func (u *Uploads) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > MaxURLTTL {
		return "", fmt.Errorf("presign %s: ttl %v is outside (0, %v]", key, ttl, MaxURLTTL)
	}
	link, err := u.objects.PresignGet(ctx, key, ttl)
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return link, nil
}

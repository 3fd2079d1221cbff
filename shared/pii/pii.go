// Package pii owns how Yinling keeps small personal values — phone numbers — at rest: envelope
// encryption. A value is sealed with AES-256-GCM under a data key; the data key is stored with
// it, wrapped by a master key that never leaves its keeper (AWS KMS in AWS, a local key on the
// local stack and in tests). Lookups never need the plaintext: they use a keyed hash, which is
// the caller's (see member phone lookups).
//
// A sealed value is one string:
//
//	v1.<base64url wrapped data key>.<base64url nonce ‖ ciphertext ‖ tag>
//
// and is bound to its owner by additional authenticated data (store, member, field…), so a
// ciphertext copied onto another item, or another field, does not open.
//
// A Sealer asks its Wrapper for a data key on its first Seal — never at construction, so a
// function's init makes no network call — and keeps the unwrapped keys it meets, so a process
// unwraps each distinct wrapped key once. With a KeyStore, the processes of a deployment share
// one data key (rotated after MaxAge) instead of drawing one each: otherwise every cold start
// that writes a phone adds a data key that every reader must unwrap with its own KMS call.
package pii

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Version is the prefix of every value this package seals.
const Version = "v1"

const prefix = Version + "."

// Errors of Open. None of them carries the value.
var (
	// ErrMalformed: the value is not a sealed value of a known version.
	ErrMalformed = errors.New("pii: malformed sealed value")
	// ErrUnknownVersion: the value is sealed in a format this build does not read.
	ErrUnknownVersion = errors.New("pii: unknown sealed value version")
	// ErrNotAuthentic: the value was altered, belongs to another owner, or its data key was
	// wrapped by another master key.
	ErrNotAuthentic = errors.New("pii: sealed value does not authenticate")
)

// IsSealed reports whether v looks like a value this package sealed (of any version).
func IsSealed(v string) bool {
	ver, _, ok := strings.Cut(v, ".")
	return ok && len(ver) >= 2 && ver[0] == 'v' && strings.Trim(ver[1:], "0123456789") == ""
}

// A Wrapper makes data keys and unwraps them: the master key's keeper.
type Wrapper interface {
	// GenerateDataKey returns a fresh 32-byte data key and its wrapped form.
	GenerateDataKey(ctx context.Context) (plain, wrapped []byte, err error)
	// Decrypt unwraps a data key GenerateDataKey returned.
	Decrypt(ctx context.Context, wrapped []byte) ([]byte, error)
}

// A KeyStore holds the wrapped data key the writers of a deployment share.
type KeyStore interface {
	// CurrentDataKey returns the shared wrapped key and when it was made, or ErrNoDataKey.
	CurrentDataKey(ctx context.Context) (wrapped []byte, created time.Time, err error)
	// ReplaceDataKey makes wrapped the shared key on condition that prev (nil: none) still
	// is; ErrDataKeyChanged if another process replaced it first.
	ReplaceDataKey(ctx context.Context, prev, wrapped []byte, created time.Time) error
}

// Errors of a KeyStore.
var (
	ErrNoDataKey      = errors.New("pii: no shared data key yet")
	ErrDataKeyChanged = errors.New("pii: shared data key changed")
)

// MaxAge is how long a shared data key is used for new values before a writer draws the next.
// Old values keep their own wrapped key, so they stay readable; each rotation costs a reader
// one more unwrap per process at most.
const MaxAge = 90 * 24 * time.Hour

// Sealer seals and opens values. It is safe for concurrent use.
type Sealer struct {
	w   Wrapper
	ks  KeyStore
	now func() time.Time

	curMu sync.Mutex
	cur   *dataKey // the key new values are sealed with, once drawn

	keysMu sync.Mutex
	keys   map[string]*unwrap // by wrapped key
}

type dataKey struct {
	wrapped string // base64url, as it appears in sealed values
	aead    cipher.AEAD
}

// unwrap is one wrapped key's unwrapping: done is closed when aead or err is set, so callers
// meeting the same key at once wait for one Decrypt instead of making their own.
type unwrap struct {
	done chan struct{}
	aead cipher.AEAD
	err  error
}

// Option configures New.
type Option func(*Sealer)

// WithKeyStore shares the data key through ks (see the package doc).
func WithKeyStore(ks KeyStore) Option { return func(s *Sealer) { s.ks = ks } }

// WithClock sets the clock that dates and ages shared data keys (tests).
func WithClock(now func() time.Time) Option { return func(s *Sealer) { s.now = now } }

// New returns a Sealer whose data keys w wraps. It makes no call.
func New(w Wrapper, opts ...Option) *Sealer {
	s := &Sealer{w: w, now: time.Now, keys: map[string]*unwrap{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Seal encrypts plaintext for the owner that owner names (e.g. store, member, field); Open
// needs the same owner.
func (s *Sealer) Seal(ctx context.Context, plaintext string, owner ...string) (string, error) {
	k, err := s.current(ctx)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	box := k.aead.Seal(nonce, nonce, []byte(plaintext), aad(owner))
	return prefix + k.wrapped + "." + b64.EncodeToString(box), nil
}

// Open decrypts a value Seal returned for the same owner.
func (s *Sealer) Open(ctx context.Context, sealed string, owner ...string) (string, error) {
	if !strings.HasPrefix(sealed, prefix) {
		if IsSealed(sealed) {
			return "", ErrUnknownVersion
		}
		return "", ErrMalformed
	}
	wrapped, box, ok := strings.Cut(sealed[len(prefix):], ".")
	if !ok || wrapped == "" {
		return "", ErrMalformed
	}
	raw, err := b64.DecodeString(box)
	if err != nil {
		return "", ErrMalformed
	}
	aead, err := s.aead(ctx, wrapped)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", ErrMalformed
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad(owner))
	if err != nil {
		return "", ErrNotAuthentic
	}
	return string(plain), nil
}

var b64 = base64.RawURLEncoding

// aad binds a value to its owner; the parts are joined unambiguously (NUL never occurs in ids).
func aad(owner []string) []byte {
	return []byte("yinling pii " + Version + "\x00" + strings.Join(owner, "\x00"))
}

// current returns the key new values are sealed with, drawing it on first use.
func (s *Sealer) current(ctx context.Context) (*dataKey, error) {
	s.curMu.Lock()
	defer s.curMu.Unlock()
	if s.cur != nil {
		return s.cur, nil
	}
	if s.ks == nil {
		plain, wrapped, err := s.w.GenerateDataKey(ctx)
		if err != nil {
			return nil, fmt.Errorf("generate data key: %w", err)
		}
		k, err := s.install(wrapped, plain)
		if err != nil {
			return nil, err
		}
		s.cur = k
		return k, nil
	}
	// Shared: use the store's key while it is young; else draw one and offer it, and if
	// another process's offer won the race, use theirs.
	for attempt := 0; attempt < 3; attempt++ {
		prev, created, err := s.ks.CurrentDataKey(ctx)
		if err != nil && !errors.Is(err, ErrNoDataKey) {
			return nil, fmt.Errorf("read shared data key: %w", err)
		}
		if err == nil && s.now().Sub(created) < MaxAge {
			enc := b64.EncodeToString(prev)
			aead, err := s.aead(ctx, enc)
			if err != nil {
				return nil, err
			}
			s.cur = &dataKey{wrapped: enc, aead: aead}
			return s.cur, nil
		}
		plain, wrapped, err := s.w.GenerateDataKey(ctx)
		if err != nil {
			return nil, fmt.Errorf("generate data key: %w", err)
		}
		err = s.ks.ReplaceDataKey(ctx, prev, wrapped, s.now())
		if errors.Is(err, ErrDataKeyChanged) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("share data key: %w", err)
		}
		k, err := s.install(wrapped, plain)
		if err != nil {
			return nil, err
		}
		s.cur = k
		return k, nil
	}
	return nil, errors.New("shared data key keeps changing")
}

// install caches a data key this process drew, so values it seals open without a Decrypt.
func (s *Sealer) install(wrapped, plain []byte) (*dataKey, error) {
	aead, err := newAEAD(plain)
	if err != nil {
		return nil, err
	}
	enc := b64.EncodeToString(wrapped)
	done := make(chan struct{})
	close(done)
	s.keysMu.Lock()
	s.keys[enc] = &unwrap{done: done, aead: aead}
	s.keysMu.Unlock()
	return &dataKey{wrapped: enc, aead: aead}, nil
}

// aead returns the cipher of a wrapped key (base64url), unwrapping it once per process; a
// failed unwrap is forgotten, so the next caller tries again.
func (s *Sealer) aead(ctx context.Context, enc string) (cipher.AEAD, error) {
	s.keysMu.Lock()
	u, ok := s.keys[enc]
	if !ok {
		u = &unwrap{done: make(chan struct{})}
		s.keys[enc] = u
	}
	s.keysMu.Unlock()
	if ok {
		select {
		case <-u.done:
			return u.aead, u.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	u.aead, u.err = s.unwrapKey(ctx, enc)
	if u.err != nil {
		s.keysMu.Lock()
		delete(s.keys, enc)
		s.keysMu.Unlock()
	}
	close(u.done)
	return u.aead, u.err
}

func (s *Sealer) unwrapKey(ctx context.Context, enc string) (cipher.AEAD, error) {
	wrapped, err := b64.DecodeString(enc)
	if err != nil {
		return nil, ErrMalformed
	}
	plain, err := s.w.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key: %w", err)
	}
	return newAEAD(plain)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("pii: data key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

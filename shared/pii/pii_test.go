package pii

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/google/go-cmp/cmp"
)

// fakeKMS is KMS with one key: it wraps with a local wrapper, counts its calls, and refuses a
// request without our key id, key spec or encryption context, as a key policy would.
type fakeKMS struct {
	keyID              string
	w                  Wrapper
	generates, decrypt atomic.Int64
	fail               atomic.Bool
}

func newFakeKMS(t *testing.T) *fakeKMS {
	t.Helper()
	w, err := Local(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &fakeKMS{keyID: "arn:aws:kms:cn-north-1:111122223333:key/test", w: w}
}

var errRefused = errors.New("AccessDeniedException")

func (f *fakeKMS) check(keyID *string, ec map[string]string) error {
	if f.fail.Load() || aws.ToString(keyID) != f.keyID || !cmp.Equal(ec, EncryptionContext) {
		return errRefused
	}
	return nil
}

func (f *fakeKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	f.generates.Add(1)
	if err := f.check(in.KeyId, in.EncryptionContext); err != nil || in.KeySpec != types.DataKeySpecAes256 {
		return nil, errRefused
	}
	plain, wrapped, err := f.w.GenerateDataKey(ctx)
	return &kms.GenerateDataKeyOutput{Plaintext: plain, CiphertextBlob: wrapped, KeyId: in.KeyId}, err
}

func (f *fakeKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.decrypt.Add(1)
	if err := f.check(in.KeyId, in.EncryptionContext); err != nil {
		return nil, err
	}
	plain, err := f.w.Decrypt(ctx, in.CiphertextBlob)
	return &kms.DecryptOutput{Plaintext: plain, KeyId: in.KeyId}, err
}

func localSealer(t *testing.T, master byte) *Sealer {
	t.Helper()
	w, err := Local(bytes.Repeat([]byte{master}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return New(w)
}

const phone = "+8613800138000"

var owner = []string{"member", "S1", "M1", "Phone"}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := localSealer(t, 1)
	for _, v := range []string{phone, "", "张阿姨 +86 138"} {
		sealed, err := s.Seal(ctx, v, owner...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, "v1.") || (v != "" && strings.Contains(sealed, v)) || strings.Contains(sealed, "13800138000") {
			t.Errorf("sealed %q = %q: not a v1 value, or shows the plaintext", v, sealed)
		}
		if !IsSealed(sealed) {
			t.Errorf("IsSealed(%q) = false", sealed)
		}
		got, err := s.Open(ctx, sealed, owner...)
		if err != nil || got != v {
			t.Errorf("Open(Seal(%q)) = %q, %v", v, got, err)
		}
		// Another process with the same master key opens it too.
		if got, err := localSealer(t, 1).Open(ctx, sealed, owner...); err != nil || got != v {
			t.Errorf("another process: Open = %q, %v", got, err)
		}
	}
	a, _ := s.Seal(ctx, phone, owner...)
	b, _ := s.Seal(ctx, phone, owner...)
	if a == b {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	s := localSealer(t, 1)
	sealed, err := s.Seal(ctx, phone, owner...)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(sealed, ".")
	flip := func(part int) string {
		raw, err := b64.DecodeString(parts[part])
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)/2] ^= 1
		p := append([]string(nil), parts...)
		p[part] = b64.EncodeToString(raw)
		return strings.Join(p, ".")
	}
	tests := []struct {
		name   string
		s      *Sealer
		sealed string
		owner  []string
		want   error
	}{
		{"flipped ciphertext byte", s, flip(2), owner, ErrNotAuthentic},
		{"flipped wrapped key byte", s, flip(1), owner, ErrNotAuthentic},
		{"another member", s, sealed, []string{"member", "S1", "M2", "Phone"}, ErrNotAuthentic},
		{"another store", s, sealed, []string{"member", "S2", "M1", "Phone"}, ErrNotAuthentic},
		{"another field", s, sealed, []string{"member", "S1", "M1", "AlertPhone"}, ErrNotAuthentic},
		{"owner parts shifted", s, sealed, []string{"member", "S1M1", "", "Phone"}, ErrNotAuthentic},
		{"wrong master key", localSealer(t, 2), sealed, owner, ErrNotAuthentic},
		{"unknown version", s, "v2." + parts[1] + "." + parts[2], owner, ErrUnknownVersion},
		{"plaintext", s, phone, owner, ErrMalformed},
		{"missing part", s, parts[0] + "." + parts[1], owner, ErrMalformed},
		{"not base64", s, parts[0] + "." + parts[1] + ".%%%", owner, ErrMalformed},
		{"truncated", s, parts[0] + "." + parts[1] + "." + parts[2][:8], owner, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Open(ctx, tt.sealed, tt.owner...)
			if !errors.Is(err, tt.want) {
				t.Errorf("Open = %q, %v; want %v", got, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "13800138000") {
				t.Errorf("error %q shows the phone", err)
			}
		})
	}
}

// A process makes one GenerateDataKey however many values it seals, and one Decrypt per
// wrapped key it meets, however many values and goroutines use that key.
func TestKMSCallsPerProcess(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t)
	writer := New(KMS(f, f.keyID))
	if f.generates.Load() != 0 || f.decrypt.Load() != 0 {
		t.Fatal("New called KMS")
	}
	var sealed []string
	for range 20 {
		v, err := writer.Seal(ctx, phone, owner...)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, v)
	}
	if got, err := writer.Open(ctx, sealed[0], owner...); err != nil || got != phone {
		t.Fatalf("writer Open = %q, %v", got, err)
	}
	if g, d := f.generates.Load(), f.decrypt.Load(); g != 1 || d != 0 {
		t.Errorf("writer: %d GenerateDataKey, %d Decrypt; want 1, 0 (it knows its own key)", g, d)
	}

	// A second writer process has its own key: readers meet two wrapped keys.
	other, err := New(KMS(f, f.keyID)).Seal(ctx, phone, owner...)
	if err != nil {
		t.Fatal(err)
	}
	sealed = append(sealed, other)
	f.generates.Store(0)

	reader := New(KMS(f, f.keyID))
	var wg sync.WaitGroup
	errs := make(chan error, 10*len(sealed))
	for range 10 {
		for _, v := range sealed {
			wg.Go(func() {
				got, err := reader.Open(ctx, v, owner...)
				if err == nil && got != phone {
					err = errors.New("opened to " + got)
				}
				if err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if g, d := f.generates.Load(), f.decrypt.Load(); g != 0 || d != 2 {
		t.Errorf("reader: %d GenerateDataKey, %d Decrypt; want 0, 2 (one per wrapped key)", g, d)
	}
}

// A failed KMS call is not cached: the next request tries again.
func TestKMSFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t)
	sealed, err := New(KMS(f, f.keyID)).Seal(ctx, phone, owner...)
	if err != nil {
		t.Fatal(err)
	}
	s := New(KMS(f, f.keyID))
	f.fail.Store(true)
	if _, err := s.Seal(ctx, phone, owner...); !errors.Is(err, errRefused) {
		t.Errorf("Seal with KMS down: %v", err)
	}
	if _, err := s.Open(ctx, sealed, owner...); !errors.Is(err, errRefused) {
		t.Errorf("Open with KMS down: %v", err)
	}
	f.fail.Store(false)
	if _, err := s.Seal(ctx, phone, owner...); err != nil {
		t.Errorf("Seal after KMS came back: %v", err)
	}
	if got, err := s.Open(ctx, sealed, owner...); err != nil || got != phone {
		t.Errorf("Open after KMS came back: %q, %v", got, err)
	}
}

// A KMS key other than ours cannot unwrap our data keys.
func TestKMSWrongKey(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t)
	sealed, err := New(KMS(f, f.keyID)).Seal(ctx, phone, owner...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(KMS(f, "arn:aws:kms:cn-north-1:111122223333:key/other")).Open(ctx, sealed, owner...); err == nil {
		t.Error("opened with another KMS key")
	}
}

// memKeyStore is a KeyStore in memory, with a hook to lose a race.
type memKeyStore struct {
	mu       sync.Mutex
	wrapped  []byte
	created  time.Time
	replaced int
	race     func() // runs before a replace's condition is checked
}

func (m *memKeyStore) CurrentDataKey(context.Context) ([]byte, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.wrapped == nil {
		return nil, time.Time{}, ErrNoDataKey
	}
	return m.wrapped, m.created, nil
}

func (m *memKeyStore) ReplaceDataKey(_ context.Context, prev, wrapped []byte, created time.Time) error {
	if r := m.race; r != nil {
		m.race = nil
		r()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !bytes.Equal(prev, m.wrapped) {
		return ErrDataKeyChanged
	}
	m.wrapped, m.created = wrapped, created
	m.replaced++
	return nil
}

// With a key store, the writer processes of a deployment share one data key: one
// GenerateDataKey in all, one Decrypt for each later process; a reader meets one key.
func TestSharedDataKey(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t)
	ks := &memKeyStore{}
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var sealed []string
	for range 5 { // five cold starts
		v, err := New(KMS(f, f.keyID), WithKeyStore(ks), WithClock(clock)).Seal(ctx, phone, owner...)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, v)
	}
	if g, d := f.generates.Load(), f.decrypt.Load(); g != 1 || d != 4 {
		t.Errorf("5 writer processes: %d GenerateDataKey, %d Decrypt; want 1, 4", g, d)
	}
	f.decrypt.Store(0)
	reader := New(KMS(f, f.keyID))
	for _, v := range sealed {
		if got, err := reader.Open(ctx, v, owner...); err != nil || got != phone {
			t.Fatalf("Open = %q, %v", got, err)
		}
	}
	if d := f.decrypt.Load(); d != 1 {
		t.Errorf("reader: %d Decrypt, want 1", d)
	}

	// Past MaxAge a writer draws the next key; values sealed before stay readable.
	now = now.Add(MaxAge)
	f.generates.Store(0)
	next, err := New(KMS(f, f.keyID), WithKeyStore(ks), WithClock(clock)).Seal(ctx, phone, owner...)
	if err != nil {
		t.Fatal(err)
	}
	if g := f.generates.Load(); g != 1 || ks.replaced != 2 {
		t.Errorf("after MaxAge: %d GenerateDataKey, %d replacements; want 1, 2", g, ks.replaced)
	}
	if strings.Split(next, ".")[1] == strings.Split(sealed[0], ".")[1] {
		t.Error("the key was not rotated")
	}
	if got, err := reader.Open(ctx, sealed[0], owner...); err != nil || got != phone {
		t.Errorf("old value after rotation: %q, %v", got, err)
	}
}

// Two cold starts drawing a key at once: the loser uses the winner's key.
func TestSharedDataKeyRace(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t)
	ks := &memKeyStore{}
	var winner string
	ks.race = func() {
		v, err := New(KMS(f, f.keyID), WithKeyStore(ks)).Seal(ctx, phone, owner...)
		if err != nil {
			t.Error(err)
		}
		winner = v
	}
	loser, err := New(KMS(f, f.keyID), WithKeyStore(ks)).Seal(ctx, phone, owner...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Split(loser, ".")[1] != strings.Split(winner, ".")[1] {
		t.Error("the loser of the race seals with its own key")
	}
	if ks.replaced != 1 {
		t.Errorf("%d replacements, want 1", ks.replaced)
	}
}

func TestForKeyID(t *testing.T) {
	f := newFakeKMS(t)
	tests := []struct {
		keyID     string
		inLambda  bool
		wantLocal bool
		wantErr   bool
	}{
		{"", false, false, true},
		{"", true, false, true},
		{"local:PiiKey", false, true, false},
		{"local:PiiKey", true, false, true}, // never a public key in AWS
		{f.keyID, true, false, false},
		{f.keyID, false, false, false},
	}
	for _, tt := range tests {
		w, err := ForKeyID(tt.keyID, tt.inLambda, func() KMSAPI { return f })
		if (err != nil) != tt.wantErr {
			t.Errorf("ForKeyID(%q, lambda %v) error = %v, want error %v", tt.keyID, tt.inLambda, err, tt.wantErr)
			continue
		}
		if err == nil && IsLocal(w) != tt.wantLocal {
			t.Errorf("ForKeyID(%q, lambda %v): local = %v, want %v", tt.keyID, tt.inLambda, IsLocal(w), tt.wantLocal)
		}
	}
	// The local stack's key and the development key are one key: a test's store reads what
	// a function wired from the template wrote.
	ctx := context.Background()
	w, _ := ForKeyID("local:PiiKey", false, nil)
	sealed, err := New(w).Seal(ctx, phone, owner...)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Development().Open(ctx, sealed, owner...); err != nil || got != phone {
		t.Errorf("Development().Open = %q, %v", got, err)
	}
}

func TestDevelopmentRefusedInLambda(t *testing.T) {
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "yinling-signup")
	if _, err := Development().Seal(context.Background(), phone, owner...); !errors.Is(err, errDevInLambda) {
		t.Errorf("Seal in Lambda with the development key: %v", err)
	}
}

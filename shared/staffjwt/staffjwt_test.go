package staffjwt

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testIssuer   = "https://cognito-idp.local.amazonaws.com/local_pool"
	testAudience = "local-client"
	testKid      = "test-kid"
)

var (
	keysOnce sync.Once
	key1     *rsa.PrivateKey
	key2     *rsa.PrivateKey
)

// testKeys returns two 2048-bit keys, made once: generating them is the slow part of this file.
func testKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if key1, err = rsa.GenerateKey(rand.Reader, KeyBits); err != nil {
			panic(err)
		}
		if key2, err = rsa.GenerateKey(rand.Reader, KeyBits); err != nil {
			panic(err)
		}
	})
	return key1, key2
}

// signed builds a token from raw header and payload values, signed RS256 by key.
func signed(t *testing.T, key *rsa.PrivateKey, h, p any) string {
	t.Helper()
	tok, err := sign(key, h, p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// withSegment replaces segment i of tok with raw, base64url-encoded.
func withSegment(tok string, i int, raw string) string {
	parts := strings.Split(tok, ".")
	parts[i] = b64([]byte(raw))
	return strings.Join(parts, ".")
}

func TestVerify(t *testing.T) {
	key, otherKey := testKeys(t)
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	iat := now.Add(-time.Minute).Unix()
	staff := map[string]string{"sub": "u-1", "custom:store_id": "s-1", "custom:role": "manager", "name": "王芳"}
	iss := NewIssuer(key, testKid, testIssuer, testAudience)
	mint := func(t *testing.T, i *Issuer, at time.Time, ttl time.Duration) string {
		t.Helper()
		tok, err := i.MintAt(staff, at, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rsHeader := map[string]string{"alg": "RS256", "kid": testKid}
	base := func(extra map[string]any) map[string]any {
		p := map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "u-1", "iat": iat, "exp": iat + 3600}
		for k, v := range extra {
			if v == nil {
				delete(p, k)
				continue
			}
			p[k] = v
		}
		return p
	}
	hs256 := func(t *testing.T) string {
		t.Helper()
		// The classic confusion attack: HMAC keyed with the verifier's public key.
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		h, _ := json.Marshal(map[string]string{"alg": "HS256", "kid": testKid})
		p, _ := json.Marshal(base(nil))
		in := b64(h) + "." + b64(p)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(in))
		return in + "." + b64(mac.Sum(nil))
	}
	valid := mint(t, iss, now.Add(-time.Minute), time.Hour)

	tests := []struct {
		name    string
		token   string
		wantErr error
		want    map[string]string
	}{
		{
			name:  "valid",
			token: valid,
			want: map[string]string{
				"sub": "u-1", "custom:store_id": "s-1", "custom:role": "manager", "name": "王芳",
				"iss": testIssuer, "aud": testAudience, "token_use": "id",
				"iat": strconv.FormatInt(iat, 10), "auth_time": strconv.FormatInt(iat, 10),
				"nbf": strconv.FormatInt(iat, 10), "exp": strconv.FormatInt(iat+3600, 10),
			},
		},
		{name: "bearer prefix", token: "Bearer " + valid},
		{name: "lowercase bearer prefix", token: "bearer " + valid},
		{name: "tampered payload", token: withSegment(valid, 1, `{"iss":"`+testIssuer+`","aud":"`+testAudience+`","custom:store_id":"s-2","exp":9999999999}`), wantErr: ErrSignature},
		{name: "tampered signature", token: withSegment(valid, 2, "not the signature"), wantErr: ErrSignature},
		{name: "wrong key same kid", token: mint(t, NewIssuer(otherKey, testKid, testIssuer, testAudience), now, time.Hour), wantErr: ErrSignature},
		{name: "unknown kid", token: mint(t, NewIssuer(key, "other-kid", testIssuer, testAudience), now, time.Hour), wantErr: ErrUnknownKey},
		{name: "expired", token: mint(t, iss, now.Add(-2*time.Hour), time.Hour), wantErr: ErrExpired},
		{name: "expires this second", token: mint(t, iss, now.Add(-time.Hour), time.Hour), wantErr: ErrExpired},
		{name: "not yet valid", token: mint(t, iss, now.Add(time.Hour), time.Hour), wantErr: ErrNotYetValid},
		{name: "issued within leeway", token: mint(t, iss, now.Add(DefaultLeeway/2), time.Hour)},
		{name: "iat in the future", token: signed(t, key, rsHeader, base(map[string]any{"iat": now.Add(time.Hour).Unix()})), wantErr: ErrNotYetValid},
		{name: "wrong audience", token: mint(t, NewIssuer(key, testKid, testIssuer, "other-client"), now, time.Hour), wantErr: ErrAudience},
		{name: "audience array", token: signed(t, key, rsHeader, base(map[string]any{"aud": []string{"x", testAudience}}))},
		{name: "client_id without aud", token: signed(t, key, rsHeader, base(map[string]any{"aud": nil, "client_id": testAudience}))},
		{name: "client_id ignored when aud present", token: signed(t, key, rsHeader, base(map[string]any{"aud": "x", "client_id": testAudience})), wantErr: ErrAudience},
		{name: "no audience", token: signed(t, key, rsHeader, base(map[string]any{"aud": nil})), wantErr: ErrAudience},
		{name: "wrong issuer", token: mint(t, NewIssuer(key, testKid, "https://evil.example", testAudience), now, time.Hour), wantErr: ErrIssuer},
		{name: "no exp", token: signed(t, key, rsHeader, base(map[string]any{"exp": nil})), wantErr: ErrMalformed},
		{name: "exp not a number", token: signed(t, key, rsHeader, base(map[string]any{"exp": "tomorrow"})), wantErr: ErrMalformed},
		{name: "alg none", token: b64([]byte(`{"alg":"none","kid":"`+testKid+`"}`)) + "." + b64(mustJSON(t, base(nil))) + ".", wantErr: ErrAlgorithm},
		{name: "HS256 with public key as secret", token: hs256(t), wantErr: ErrAlgorithm},
		{name: "RS512", token: withSegment(valid, 0, `{"alg":"RS512","kid":"`+testKid+`"}`), wantErr: ErrAlgorithm},
		{name: "empty", token: "", wantErr: ErrMalformed},
		{name: "two segments", token: valid[:strings.LastIndex(valid, ".")], wantErr: ErrMalformed},
		{name: "four segments", token: valid + ".x", wantErr: ErrMalformed},
		{name: "header not base64url", token: "!!!" + valid[strings.Index(valid, "."):], wantErr: ErrMalformed},
		{name: "header not JSON", token: withSegment(valid, 0, "RS256"), wantErr: ErrMalformed},
		{name: "signature not base64url", token: valid[:strings.LastIndex(valid, ".")] + ".***", wantErr: ErrMalformed},
		{name: "payload not an object", token: signed(t, key, rsHeader, []string{"a"}), wantErr: ErrMalformed},
	}
	v := iss.Verifier()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(tt.token, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if got != nil {
					t.Errorf("Verify() claims = %v with error", got)
				}
				return
			}
			if tt.want == nil {
				return
			}
			// jti is random; its presence is all that matters.
			if got["jti"] == "" {
				t.Errorf("no jti in %v", got)
			}
			delete(got, "jti")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyClaimStrings(t *testing.T) {
	key, _ := testKeys(t)
	now := time.Unix(1_700_000_000, 0)
	payload := `{"iss":"` + testIssuer + `","aud":"` + testAudience + `","exp":1700003600,"iat":1699999999.5,` +
		`"cognito:groups":["staff","night shift"],"email_verified":true,"n":12345678901234,"obj":{"a":1},"nul":null}`
	tok := signed(t, key, json.RawMessage(`{"alg":"RS256","kid":"`+testKid+`"}`), json.RawMessage(payload))
	got, err := NewIssuer(key, testKid, testIssuer, testAudience).Verifier().Verify(tok, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"iss": testIssuer, "aud": testAudience, "exp": "1700003600", "iat": "1699999999.5",
		"cognito:groups": "[staff night shift]", "email_verified": "true", "n": "12345678901234",
		"obj": `{"a":1}`, "nul": "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
}

func TestMintReservedClaims(t *testing.T) {
	key, _ := testKeys(t)
	iss := NewIssuer(key, "", testIssuer, testAudience)
	for _, c := range []string{"iss", "aud", "exp", "iat", "nbf"} {
		t.Run(c, func(t *testing.T) {
			_, err := iss.Mint(map[string]string{c: "x"}, time.Hour)
			if !errors.Is(err, ErrReservedClaim) {
				t.Errorf("Mint(%s) error = %v, want ErrReservedClaim", c, err)
			}
		})
	}
	t.Run("token_use may be overridden", func(t *testing.T) {
		tok, err := iss.Mint(map[string]string{"token_use": "access"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		claims, err := iss.Verifier().Verify(tok, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if claims["token_use"] != "access" {
			t.Errorf("token_use = %q", claims["token_use"])
		}
	})
	t.Run("empty kid is the thumbprint", func(t *testing.T) {
		if iss.kid != KeyID(&key.PublicKey) || len(iss.kid) != 43 {
			t.Errorf("kid = %q", iss.kid)
		}
	})
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "staff.pem")

	created, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if created.N.BitLen() != KeyBits {
		t.Errorf("bits = %d", created.N.BitLen())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	loaded, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created.Equal(loaded) {
		t.Error("second call returned a different key")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("leftover files: %v", entries)
	}

	pkcs1 := filepath.Join(dir, "pkcs1.pem")
	key, _ := testKeys(t)
	writeFile(t, pkcs1, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	if got, err := LoadOrCreateKey(pkcs1); err != nil || !got.Equal(key) {
		t.Errorf("PKCS#1 file: key equal = %v, err = %v", err == nil && got.Equal(key), err)
	}

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"garbage.pem": []byte("not a key"),
		"small.pem":   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}),
		"cert.pem":    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
	}
	for name, content := range bad {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			writeFile(t, p, content)
			if _, err := LoadOrCreateKey(p); err == nil {
				t.Error("LoadOrCreateKey() accepted a bad file")
			}
		})
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "staff.pem")
	const n = 4
	keys := make([]*rsa.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateKey(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if !keys[i].Equal(keys[0]) {
			t.Errorf("call %d returned a different key", i)
		}
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

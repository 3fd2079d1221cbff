// Package staffjwt mints and verifies staff ID tokens for the local stack and for tests. In AWS,
// Cognito mints them and the HTTP API's JWT authorizer verifies them; Verifier applies the
// authorizer's rules (RS256 signature by a known kid, iss, aud or client_id, exp, nbf, iat) and
// returns the claims exactly as API Gateway hands them to a function, so code that reads
// requestContext.authorizer.jwt.claims behaves the same offline and in AWS.
package staffjwt

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Errors of Verify. Each is returned wrapped with detail; compare with errors.Is.
var (
	ErrMalformed   = errors.New("staffjwt: malformed token")
	ErrAlgorithm   = errors.New("staffjwt: unsupported algorithm")
	ErrUnknownKey  = errors.New("staffjwt: unknown signing key")
	ErrSignature   = errors.New("staffjwt: bad signature")
	ErrIssuer      = errors.New("staffjwt: wrong issuer")
	ErrAudience    = errors.New("staffjwt: wrong audience")
	ErrExpired     = errors.New("staffjwt: token expired")
	ErrNotYetValid = errors.New("staffjwt: token not yet valid")
)

// ErrReservedClaim is returned by Mint when the caller tries to set a claim that Mint owns.
var ErrReservedClaim = errors.New("staffjwt: reserved claim")

// KeyBits is the size of keys LoadOrCreateKey makes; Cognito signs with 2048-bit RSA keys too.
const KeyBits = 2048

// DefaultLeeway is how far in the future nbf and iat may be before a token is refused: enough
// for clocks a few seconds apart, too little to matter for a 60-minute token.
const DefaultLeeway = 30 * time.Second

// algRS256 is the only algorithm accepted. The JWT authorizer supports RSA signatures only, so a
// token signed with "none" or with HMAC (the classic public-key-as-secret attack) never passes.
const algRS256 = "RS256"

// reserved claims are set by Mint so that a caller cannot mint a token that lies about them.
var reserved = map[string]bool{"iss": true, "aud": true, "exp": true, "iat": true, "nbf": true, "auth_time": true, "jti": true}

// Issuer mints tokens shaped like Cognito ID tokens: string claims chosen by the caller plus iss,
// aud, exp, iat, nbf, auth_time, jti and token_use=id.
type Issuer struct {
	key      *rsa.PrivateKey
	kid      string
	issuer   string
	audience string
}

// NewIssuer returns an Issuer that signs with key under the key id kid, for the given issuer
// (the iss claim) and audience (the aud claim: the user pool client id in AWS). An empty kid
// becomes KeyID(&key.PublicKey).
func NewIssuer(key *rsa.PrivateKey, kid, issuer, audience string) *Issuer {
	if kid == "" {
		kid = KeyID(&key.PublicKey)
	}
	return &Issuer{key: key, kid: kid, issuer: issuer, audience: audience}
}

// Mint returns a signed token carrying claims, valid from now for ttl.
func (i *Issuer) Mint(claims map[string]string, ttl time.Duration) (string, error) {
	return i.MintAt(claims, time.Now(), ttl)
}

// MintAt is Mint with the issue time given, so tests can mint tokens that are already expired
// or not valid yet.
func (i *Issuer) MintAt(claims map[string]string, issuedAt time.Time, ttl time.Duration) (string, error) {
	payload := make(map[string]any, len(claims)+8)
	for k, v := range claims {
		if reserved[k] {
			return "", fmt.Errorf("%w: %s", ErrReservedClaim, k)
		}
		payload[k] = v
	}
	if _, ok := payload["token_use"]; !ok {
		payload["token_use"] = "id"
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("mint jti: %w", err)
	}
	iat := issuedAt.Unix()
	payload["iss"] = i.issuer
	payload["aud"] = i.audience
	payload["iat"] = iat
	payload["auth_time"] = iat
	payload["nbf"] = iat
	payload["exp"] = issuedAt.Add(ttl).Unix()
	payload["jti"] = hex.EncodeToString(jti)
	return sign(i.key, map[string]string{"alg": algRS256, "kid": i.kid}, payload)
}

// Verifier returns a Verifier that accepts exactly the tokens i mints.
func (i *Issuer) Verifier() *Verifier {
	return NewVerifier(i.issuer, []string{i.audience}, map[string]*rsa.PublicKey{i.kid: &i.key.PublicKey})
}

// sign encodes header and payload and appends their RS256 signature.
func sign(key *rsa.PrivateKey, header, payload any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("encode header: %w", err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("encode payload: %w", err)
	}
	signingInput := b64(h) + "." + b64(p)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return signingInput + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Verifier checks tokens as the HTTP API's JWT authorizer does. Its fields are read-only once
// Verify is in use.
type Verifier struct {
	// Issuer must equal the token's iss.
	Issuer string
	// Audiences: the token's aud (or, only when aud is absent, client_id) must contain one.
	Audiences []string
	// Keys are the public keys by kid, as a JWKS would publish them.
	Keys map[string]*rsa.PublicKey
	// Leeway is how far in the future nbf and iat may be.
	Leeway time.Duration
}

// NewVerifier returns a Verifier for the given issuer, audiences and keys with DefaultLeeway.
func NewVerifier(issuer string, audiences []string, keys map[string]*rsa.PublicKey) *Verifier {
	return &Verifier{Issuer: issuer, Audiences: audiences, Keys: keys, Leeway: DefaultLeeway}
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// Verify checks token at time now and returns its claims as API Gateway passes them to the
// function in requestContext.authorizer.jwt.claims: every value a string, numbers in decimal.
// The token may carry a "Bearer " prefix, as the authorizer allows.
func (v *Verifier) Verify(token string, now time.Time) (map[string]string, error) {
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: %d segments", ErrMalformed, len(parts))
	}
	var h header
	if err := decodeSegment(parts[0], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if h.Alg != algRS256 {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, h.Alg)
	}
	key, ok := v.Keys[h.Kid]
	if !ok || key == nil {
		return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, h.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return nil, ErrSignature
	}
	var payload map[string]any
	if err := decodeSegment(parts[1], &payload); err != nil || payload == nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if err := v.checkClaims(payload, now); err != nil {
		return nil, err
	}
	claims := make(map[string]string, len(payload))
	for k, val := range payload {
		claims[k] = claimString(val)
	}
	return claims, nil
}

func (v *Verifier) checkClaims(p map[string]any, now time.Time) error {
	if iss, _ := p["iss"].(string); iss != v.Issuer {
		return fmt.Errorf("%w: %q", ErrIssuer, iss)
	}
	// The authorizer reads client_id only when aud is absent (Cognito access tokens have no aud).
	aud, hasAud := p["aud"]
	if !hasAud {
		aud = p["client_id"]
	}
	if !v.audienceOK(aud) {
		return fmt.Errorf("%w: %v", ErrAudience, aud)
	}
	exp, ok, err := numericDate(p, "exp")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no exp", ErrMalformed)
	}
	if !now.Before(exp) {
		return fmt.Errorf("%w: at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	for _, name := range []string{"nbf", "iat"} {
		t, ok, err := numericDate(p, name)
		if err != nil {
			return err
		}
		if ok && t.After(now.Add(v.Leeway)) {
			return fmt.Errorf("%w: %s %s", ErrNotYetValid, name, t.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

func (v *Verifier) audienceOK(aud any) bool {
	var got []string
	switch a := aud.(type) {
	case string:
		got = []string{a}
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				got = append(got, s)
			}
		}
	}
	for _, g := range got {
		for _, want := range v.Audiences {
			if g == want {
				return true
			}
		}
	}
	return false
}

// numericDate reads an RFC 7519 NumericDate (seconds, possibly fractional).
func numericDate(p map[string]any, name string) (time.Time, bool, error) {
	raw, ok := p[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, false, fmt.Errorf("%w: %s is not a number", ErrMalformed, name)
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// claimString renders one claim value as API Gateway does in the claims map: strings as they
// are, numbers in their decimal form, booleans as true/false, arrays as "[a b]" (the way
// cognito:groups arrives in AWS) and objects as JSON.
func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// KeyID returns the RFC 7638 JWK thumbprint of pub, a stable kid for a key.
func KeyID(pub *rsa.PublicKey) string {
	e := big.NewInt(int64(pub.E)).Bytes()
	// Member order and spacing are fixed by RFC 7638.
	jwk := `{"e":"` + b64(e) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return b64(sum[:])
}

// LoadOrCreateKey reads the RSA private key in the PEM file at path, or, when there is none,
// makes a KeyBits key and writes it there with mode 0600 (and the directory with 0700). Two
// processes starting at once end up with the same key: the file appears atomically, once.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	key, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, err = rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".staffjwt-key-*")
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // CreateTemp made it 0600; after Link, path keeps the data
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	// Link, unlike Rename, fails when path exists: the first writer wins and the others read it.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadKey(path)
		}
		return nil, fmt.Errorf("install key file: %w", err)
	}
	return key, nil
}

func loadKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("read key %s: no PEM block", path)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		var k any
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		if err == nil {
			var ok bool
			if key, ok = k.(*rsa.PrivateKey); !ok {
				err = fmt.Errorf("not an RSA key: %T", k)
			}
		}
	default:
		err = fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	if key.N.BitLen() < KeyBits {
		return nil, fmt.Errorf("read key %s: %d-bit key, want at least %d", path, key.N.BitLen(), KeyBits)
	}
	return key, nil
}

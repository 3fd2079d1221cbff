package pii

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMSAPI is the part of the KMS client a KMS wrapper calls.
type KMSAPI interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// EncryptionContext is bound to every data key KMS makes for us; the functions' IAM policies
// allow GenerateDataKey and Decrypt only with it, so the key cannot be used for anything else.
var EncryptionContext = map[string]string{"purpose": "yinling-pii"}

// KMS wraps data keys with the KMS key keyID (an id, ARN or alias).
func KMS(c KMSAPI, keyID string) Wrapper { return kmsWrapper{c: c, keyID: keyID} }

type kmsWrapper struct {
	c     KMSAPI
	keyID string
}

func (w kmsWrapper) GenerateDataKey(ctx context.Context) ([]byte, []byte, error) {
	out, err := w.c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(w.keyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: EncryptionContext,
	})
	if err != nil {
		return nil, nil, err
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

func (w kmsWrapper) Decrypt(ctx context.Context, wrapped []byte) ([]byte, error) {
	// Naming the key makes KMS refuse a blob wrapped by any other key.
	out, err := w.c.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(w.keyID), CiphertextBlob: wrapped, EncryptionContext: EncryptionContext,
	})
	if err != nil {
		return nil, err
	}
	return out.Plaintext, nil
}

// Local wraps data keys with AES-256-GCM under a 32-byte master key held in the process: KMS's
// stand-in on the local stack and in tests.
func Local(master []byte) (Wrapper, error) {
	aead, err := newAEAD(master)
	if err != nil {
		return nil, fmt.Errorf("local master key: %w", err)
	}
	return localWrapper{aead: aead}, nil
}

type localWrapper struct{ aead cipher.AEAD }

var localWrapAAD = []byte("yinling pii local data key")

func (w localWrapper) GenerateDataKey(context.Context) ([]byte, []byte, error) {
	plain := make([]byte, 32)
	nonce := make([]byte, w.aead.NonceSize(), w.aead.NonceSize()+32+w.aead.Overhead())
	if _, err := rand.Read(plain); err != nil {
		return nil, nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return plain, w.aead.Seal(nonce, nonce, plain, localWrapAAD), nil
}

func (w localWrapper) Decrypt(_ context.Context, wrapped []byte) ([]byte, error) {
	n := w.aead.NonceSize()
	if len(wrapped) < n+w.aead.Overhead() {
		return nil, ErrMalformed
	}
	plain, err := w.aead.Open(nil, wrapped[:n], wrapped[n:], localWrapAAD)
	if err != nil {
		return nil, ErrNotAuthentic
	}
	return plain, nil
}

// LocalKeyPrefix starts the key id the local stack gives for a KMS key of the template
// ("local:PiiKey"): such an id selects the local wrapper.
const LocalKeyPrefix = "local:"

// localMasterKey is the local stack's master key: derived from a public string, stable across
// restarts (a developer's table stays readable) and obviously not a production secret — which
// is why ForKeyID refuses it inside Lambda.
func localMasterKey() []byte {
	sum := sha256.Sum256([]byte("yinling local PII master key, not for production"))
	return sum[:]
}

// ForKeyID returns the wrapper for a function's PII_KMS_KEY_ID: the KMS key it names, through
// the client newKMS builds; or, for a local key id, the local master key — which a function
// running in Lambda (inLambda) is refused, so a deployment never seals phones under a public key.
func ForKeyID(keyID string, inLambda bool, newKMS func() KMSAPI) (Wrapper, error) {
	switch {
	case keyID == "":
		return nil, errors.New("pii: no KMS key id (PII_KMS_KEY_ID)")
	case strings.HasPrefix(keyID, LocalKeyPrefix) && inLambda:
		return nil, fmt.Errorf("pii: %q is a local key, refused in Lambda: PII_KMS_KEY_ID must name the KMS key (!Ref PiiKey)", keyID)
	case strings.HasPrefix(keyID, LocalKeyPrefix):
		return Local(localMasterKey())
	}
	return KMS(newKMS(), keyID), nil
}

// MustWrapper is ForKeyID for a function's Wire, with a KMS client from cfg (built only for a
// KMS key; building it makes no call) and inLambda from the function name the Lambda runtime
// sets (AWS_LAMBDA_FUNCTION_NAME). It exits when the key is unusable: a function that cannot
// keep phones sealed must fail at init, loudly, not on the first signup.
func MustWrapper(cfg aws.Config, keyID, lambdaFunction string) Wrapper {
	w, err := ForKeyID(keyID, lambdaFunction != "", func() KMSAPI { return kms.NewFromConfig(cfg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(1)
	}
	return w
}

// IsLocal reports whether w is the local wrapper: a local stack's processes draw a data key
// each rather than share one, which costs nothing there.
func IsLocal(w Wrapper) bool {
	switch w.(type) {
	case localWrapper, devWrapper:
		return true
	}
	return false
}

// Development returns a Sealer under the local master key, for code that builds a store
// without choosing a key (tests, tools). Inside Lambda (AWS_LAMBDA_FUNCTION_NAME set) its every
// Seal and Open fails: a main that forgot its key must not seal phones under a public one.
func Development() *Sealer {
	w, _ := Local(localMasterKey()) // a 32-byte key: cannot fail
	return New(devWrapper{w: w, getenv: os.Getenv})
}

type devWrapper struct {
	w      Wrapper
	getenv func(string) string
}

var errDevInLambda = errors.New("pii: the development key is refused in Lambda: build the store with the function's PII key")

func (d devWrapper) GenerateDataKey(ctx context.Context) ([]byte, []byte, error) {
	if d.getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		return nil, nil, errDevInLambda
	}
	return d.w.GenerateDataKey(ctx)
}

func (d devWrapper) Decrypt(ctx context.Context, wrapped []byte) ([]byte, error) {
	if d.getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		return nil, errDevInLambda
	}
	return d.w.Decrypt(ctx, wrapped)
}

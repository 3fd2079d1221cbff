package localstack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
)

// typeSecret is a Secrets Manager secret. The emulators have none, so the local counterpart is
// a value derived from the logical id: stable across restarts (data keyed by it, like phone
// lookup hashes, stays readable) and obviously not a production secret.
const typeSecret = "AWS::SecretsManager::Secret"

// typeKMSKey is a KMS key; its local counterpart is a key id for pii's local wrapper (Ref).
const typeKMSKey = "AWS::KMS::Key"

func (r *Resources) secretARN(id string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s%s", r.region, Account, r.Prefix, id)
}

func localSecretValue(id string) string {
	sum := sha256.Sum256([]byte("yinling local secret, not for production: " + id))
	return "local-" + hex.EncodeToString(sum[:16])
}

// dynamicRef matches CloudFormation's {{resolve:secretsmanager:<id>:SecretString…}}.
var dynamicRef = regexp.MustCompile(`\{\{resolve:secretsmanager:(.+?):SecretString(?::[^}]*)?\}\}`)

// resolveDynamicRefs replaces secret dynamic references in a resolved value by the local
// secret's value, as CloudFormation does at deploy time with the real one.
func (r *Resources) resolveDynamicRefs(v string) (string, error) {
	var err error
	out := dynamicRef.ReplaceAllStringFunc(v, func(m string) string {
		id := dynamicRef.FindStringSubmatch(m)[1]
		for logical, res := range r.template.Resources {
			if res.Type == typeSecret && (id == r.secretARN(logical) || id == logical) {
				return localSecretValue(logical)
			}
		}
		err = fmt.Errorf("dynamic reference to unknown secret %q", id)
		return m
	})
	return out, err
}

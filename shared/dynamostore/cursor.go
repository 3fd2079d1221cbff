package dynamostore

import (
	"encoding/base64"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
)

// A cursor is the LastEvaluatedKey of a Query, made opaque. Only string key attributes are
// carried. On the way back in, the partition key must equal the one the caller is allowed to
// query: a cursor forged or copied from another store's listing cannot move a Query into
// another partition.

func encodeCursor(lek map[string]types.AttributeValue) string {
	if len(lek) == 0 {
		return ""
	}
	m := make(map[string]string, len(lek))
	for k, v := range lek {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[k] = s.Value
		}
	}
	b, _ := json.Marshal(m) // a map of strings always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor turns cursor back into an ExclusiveStartKey. partitionAttr/partition name the
// partition the Query is bound to; keyAttrs are every attribute the key must have.
func decodeCursor(cursor, partitionAttr, partition string, keyAttrs ...string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	if len(cursor) > 1024 {
		return nil, fail.ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, fail.ErrBadCursor
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || len(m) != len(keyAttrs) || m[partitionAttr] != partition {
		return nil, fail.ErrBadCursor
	}
	out := make(map[string]types.AttributeValue, len(m))
	for _, k := range keyAttrs {
		v, ok := m[k]
		if !ok || v == "" {
			return nil, fail.ErrBadCursor
		}
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}

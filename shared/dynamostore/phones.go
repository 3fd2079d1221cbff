package dynamostore

// Phone numbers at rest. Every phone the table holds — a member's (Phone), a family link's
// (AlertPhone), an outbox message's recipient (To) — is sealed by pii: envelope encryption,
// bound to its owner, so a stolen table, backup or export stream shows no number. Lookups use
// the keyed hash (PhoneHash, the phone lookup item's key), never the plaintext.
//
// Items written before sealing hold plain E.164; reads accept them (a sealed value never starts
// with "+"), so no migration is needed, and every new write seals.
//
//	read the shared data key         PK=PII, SK=DATAKEY                        table
//	share a new data key             Put PII/DATAKEY if still the one read      table

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
	"yinling/shared/member"
	"yinling/shared/pii"
)

const typePIIDataKey = "piidatakey"

// The owners a sealed phone is bound to: the item it belongs to and the field, not the item's
// key, so the two copies of a family link carry one ciphertext.
func memberPhoneOwner(store, memberID string) []string {
	return []string{"member", store, memberID, "Phone"}
}

func alertPhoneOwner(store, memberID, linkID string) []string {
	return []string{"familylink", store, memberID, linkID, "AlertPhone"}
}

func outboxToOwner(store, messageID string) []string {
	return []string{"outbox", store, messageID, "To"}
}

// sealPhone is what the table stores for p: "" for no number, else p sealed for owner.
func (s *Store) sealPhone(ctx context.Context, p member.Phone, owner []string) (string, error) {
	return s.sealText(ctx, p.E164(), owner)
}

func (s *Store) sealText(ctx context.Context, v string, owner []string) (string, error) {
	if v == "" {
		return "", nil
	}
	return s.sealer.Seal(ctx, v, owner...)
}

// openText reads a stored phone: opened if sealed, as it is if written before phones were
// sealed (E.164 starts with "+") or empty.
func (s *Store) openText(ctx context.Context, v string, owner []string) (string, error) {
	if v == "" || strings.HasPrefix(v, "+") {
		return v, nil
	}
	return s.sealer.Open(ctx, v, owner...)
}

// keyring is the pii.KeyStore of a deployment: the wrapped data key every function seals new
// phones with, in one item. Only the wrapped form is stored; unwrapping needs the KMS key.
type keyring struct{ s *Store }

type dataKeyItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	T         string    `dynamodbav:"T"`
	Wrapped   []byte    `dynamodbav:"Wrapped"`
	CreatedAt time.Time `dynamodbav:"CreatedAt"`
}

func (k keyring) CurrentDataKey(ctx context.Context) ([]byte, time.Time, error) {
	pk, sk := piiDataKeyKey()
	var it dataKeyItem
	err := k.s.getItemConsistent(ctx, pk, sk, &it)
	if errors.Is(err, fail.ErrNotFound) {
		return nil, time.Time{}, pii.ErrNoDataKey
	}
	if err != nil {
		return nil, time.Time{}, wrap("read shared data key", err)
	}
	return it.Wrapped, it.CreatedAt, nil
}

func (k keyring) ReplaceDataKey(ctx context.Context, prev, wrapped []byte, created time.Time) error {
	pk, sk := piiDataKeyKey()
	av, err := attributevalue.MarshalMap(dataKeyItem{PK: pk, SK: sk, T: typePIIDataKey, Wrapped: wrapped, CreatedAt: created.UTC()})
	if err != nil {
		return wrap("share data key", err)
	}
	in := &dynamodb.PutItemInput{TableName: &k.s.table, Item: av, ReturnConsumedCapacity: capacity,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}
	if prev != nil {
		in.ConditionExpression = aws.String("Wrapped = :prev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberB{Value: prev}}
	}
	_, err = k.s.db.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return pii.ErrDataKeyChanged
	}
	if err != nil {
		return fmt.Errorf("share data key: %w", err)
	}
	return nil
}

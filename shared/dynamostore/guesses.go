package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/member"
)

// Guessing limits. A family token carries 256 random bits and a join code ~40, so guessing is
// hopeless either way; the limit keeps a scanner from costing us reads and from probing at all.
// It counts only failed lookups, so a senior or a relative who opens a valid link is never
// slowed, and it is read in the same BatchGetItem as the lookup itself: no extra call.
const (
	GuessWindow = 10 * time.Minute
	MaxGuesses  = 20 // failed lookups per client address per window
)

// ErrTooManyGuesses answers a client that failed too many lookups recently.
var ErrTooManyGuesses = &fail.Error{Kind: fail.RateLimited, Code: "rate_limited"}

// Guessing scopes.
const (
	GuessFamily = "family"
	GuessCode   = "code"
	GuessOffer  = "offer"
)

func guessWindowKey(scope, client string, now time.Time) (pk, sk string) {
	sum := sha256.Sum256([]byte("yinling client\x00" + client))
	return guessKey(scope, hex.EncodeToString(sum[:8]), now.UTC().Truncate(GuessWindow).Format("200601021504"))
}

// lookupGuarded reads the item at (pk, sk) and the client's failure count in one BatchGetItem.
// It refuses a client over the limit before answering, and counts a miss.
func (s *Store) lookupGuarded(ctx context.Context, pk, sk, scope, client string, now time.Time, out any) (bool, error) {
	gpk, gsk := guessWindowKey(scope, client, now)
	items, err := s.batchGet(ctx, [][2]string{{pk, sk}, {gpk, gsk}})
	if err != nil {
		return false, err
	}
	found := false
	for _, raw := range items {
		var k struct {
			PK    string
			Count int
		}
		if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
			return false, err
		}
		if k.PK == gpk {
			if k.Count >= MaxGuesses {
				return false, ErrTooManyGuesses
			}
			continue
		}
		if err := attributevalue.UnmarshalMap(raw, out); err != nil {
			return false, err
		}
		found = true
	}
	if !found {
		if err := s.countGuess(ctx, gpk, gsk, now); err != nil {
			return false, err
		}
	}
	return found, nil
}

func (s *Store) countGuess(ctx context.Context, pk, sk string, now time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("ADD #C :one SET ExpiresAt = :exp"),
		ExpressionAttributeNames: map[string]string{"#C": "Count"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":exp": &types.AttributeValueMemberN{Value: fmt.Sprint(ttl(now.Add(2 * GuessWindow)))},
		},
		ReturnConsumedCapacity: capacity,
	})
	return wrap("count failed lookup", err)
}

// FamilyLinkByTokenFrom returns the link whose token hashes to tokenHash, read with strong
// consistency so a revocation a moment ago is seen; member.ErrLinkNotFound otherwise. Failed
// lookups count against client (its address); over MaxGuesses it gets ErrTooManyGuesses.
func (s *Store) FamilyLinkByTokenFrom(ctx context.Context, tokenHash, client string, now time.Time) (member.FamilyLink, error) {
	pk, sk := familyTokenKey(tokenHash)
	var it familyLinkItem
	found, err := s.lookupGuarded(ctx, pk, sk, GuessFamily, client, now, &it)
	if err != nil {
		return member.FamilyLink{}, wrap("get family link", err)
	}
	if !found {
		return member.FamilyLink{}, member.ErrLinkNotFound
	}
	l, err := s.linkFrom(ctx, it)
	if err != nil {
		return member.FamilyLink{}, wrap("get family link", err)
	}
	return l, nil
}

// ResolveCodeFrom returns what a join, invite or referral code leads to, or
// group.ErrCodeNotFound, with the same guessing limit per client address.
func (s *Store) ResolveCodeFrom(ctx context.Context, code, client string, now time.Time) (group.Code, error) {
	pk, sk := codeKey(code)
	var it codeItem
	found, err := s.lookupGuarded(ctx, pk, sk, GuessCode, client, now, &it)
	if err != nil {
		return group.Code{}, wrap("resolve code", err)
	}
	if !found {
		return group.Code{}, group.ErrCodeNotFound
	}
	return toCode(it), nil
}

// CountFailedGuess counts a failed lookup that never reached the table (a token or code that
// cannot exist), so garbage counts against the limit too.
func (s *Store) CountFailedGuess(ctx context.Context, scope, client string, now time.Time) error {
	pk, sk := guessWindowKey(scope, client, now)
	return s.countGuess(ctx, pk, sk, now)
}

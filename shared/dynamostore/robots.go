package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// WeCom group robots accept 20 messages a minute each. Every function and campaign of a store
// that pushes to a robot shares one counter per robot and minute, so the limit holds across
// Lambda instances:
//
//	take a robot's slot this minute   UpdateItem ADD N if N < max on ROBOT#h/MINUTE#m  table
//
// The minute is fixed (UTC, on the clock's minute), as WeCom counts it; a counter outlives its
// minute by robotMinuteRetention and is then deleted by TTL.

// typeRobotMinute is the item type of a robot's per-minute counter.
const typeRobotMinute = "robot_minute"

// robotMinuteRetention keeps a counter a little past its minute, for a clock a little behind
// ours; nothing reads an old minute.
const robotMinuteRetention = 5 * time.Minute

// robotHash names a robot in keys without its webhook key, which is the robot's only
// credential: 128 bits of SHA-256, in hex.
func robotHash(robotKey string) string {
	sum := sha256.Sum256([]byte("yinling robot\x00" + robotKey))
	return hex.EncodeToString(sum[:])[:32]
}

// TakeRobotSlot counts one message through the WeCom robot robotKey of store in now's minute,
// if fewer than perMinute went before it in that minute, and reports whether it did. false
// means the minute is used up: send in a later minute. It is one conditional write, so
// concurrent senders never take more than perMinute slots between them.
func (s *Store) TakeRobotSlot(ctx context.Context, storeID, robotKey string, now time.Time, perMinute int) (bool, error) {
	if storeID == "" || robotKey == "" || perMinute < 1 {
		return false, fmt.Errorf("take robot slot: store %q, a robot key and a positive limit are required (got %d)", storeID, perMinute)
	}
	minute := now.UTC().Truncate(time.Minute)
	pk, sk := robotMinuteKey(storeID, robotHash(robotKey), minute.Format("200601021504"))
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("ADD #N :one SET #T = :t, ExpiresAt = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(#N) OR #N < :max"),
		ExpressionAttributeNames: map[string]string{"#N": "N", "#T": "T"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":max": &types.AttributeValueMemberN{Value: itoa(perMinute)},
			":t":   &types.AttributeValueMemberS{Value: typeRobotMinute},
			":exp": &types.AttributeValueMemberN{Value: fmt.Sprint(ttl(minute.Add(robotMinuteRetention)))},
		},
		ReturnConsumedCapacity: capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, wrap("take robot slot", err)
	}
	return true, nil
}

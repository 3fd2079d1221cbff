package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The local outbox: the development channel writes every message here, and a dev page lists
// them, so a newcomer sees what a senior would have received.
//
//	put outbox message (once per id)  Put MSGID#id and MSG#<time>#id in one transaction  table
//	list outbox, newest first         PK=STORE#s#OUTBOX, SK begins_with MSG#, descending table
//
// Two items per message because the key has two jobs. Idempotency needs a key derived from
// the message id alone (a redelivery has a later clock); newest-first listing without an index
// needs a key that sorts by time. The guard MSGID#<id> does the first, conditionally; the
// entry MSG#<time>#<id> the second. Both expire after OutboxRetention (TTL on ExpiresAt).
//
// OutboxEntry is defined here, not in notify, because notify's adapters import dynamostore and
// not the other way round; notify/outbox converts a notify.Message to it.

// OutboxRetention is how long an outbox message is kept.
const OutboxRetention = 7 * 24 * time.Hour

// Item types of the outbox.
const (
	typeOutbox   = "outbox"
	typeOutboxID = "outbox_id"
)

// outboxTime is the time part of an outbox key (see outboxTimeLayout).
func outboxTime(t time.Time) string { return t.UTC().Format(outboxTimeLayout) }

// OutboxEntry is one message as the outbox channel recorded it.
type OutboxEntry struct {
	StoreID   string
	MessageID string
	MemberID  string
	Channel   string // the channel it would have gone by: voice, sms, wecom
	// To is the full recipient. The outbox exists only in local development, where a developer
	// needs to see which seeded member got what; ToMasked is what a page shows by default. To
	// is sealed at rest like every phone (phones.go).
	To        string
	ToMasked  string
	Text      string
	SpeakText string
	Link      string
	Kind      string
	Lang      string
	At        time.Time
}

// outboxItem is an OutboxEntry as stored.
type outboxItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	T         string    `dynamodbav:"T"`
	StoreID   string    `dynamodbav:"StoreID"`
	MessageID string    `dynamodbav:"MessageID"`
	MemberID  string    `dynamodbav:"MemberID,omitempty"`
	Channel   string    `dynamodbav:"Channel"`
	To        string    `dynamodbav:"To"`
	ToMasked  string    `dynamodbav:"ToMasked"`
	Text      string    `dynamodbav:"Text,omitempty"`
	SpeakText string    `dynamodbav:"SpeakText,omitempty"`
	Link      string    `dynamodbav:"Link,omitempty"`
	Kind      string    `dynamodbav:"Kind"`
	Lang      string    `dynamodbav:"Lang,omitempty"`
	At        time.Time `dynamodbav:"At"`
	ExpiresAt int64     `dynamodbav:"ExpiresAt"`
}

// outboxIDItem guards a message id and remembers when its entry was stored.
type outboxIDItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	T         string    `dynamodbav:"T"`
	MessageID string    `dynamodbav:"MessageID"`
	EntrySK   string    `dynamodbav:"EntrySK"`
	At        time.Time `dynamodbav:"At"`
	ExpiresAt int64     `dynamodbav:"ExpiresAt"`
}

// toOutboxItem is e as stored, with to its sealed recipient.
func toOutboxItem(e OutboxEntry, to string) outboxItem {
	pk, sk := outboxKey(e.StoreID, outboxTime(e.At), e.MessageID)
	return outboxItem{
		PK: pk, SK: sk, T: typeOutbox,
		StoreID: e.StoreID, MessageID: e.MessageID, MemberID: e.MemberID, Channel: e.Channel,
		To: to, ToMasked: e.ToMasked, Text: e.Text, SpeakText: e.SpeakText, Link: e.Link,
		Kind: e.Kind, Lang: e.Lang, At: e.At, ExpiresAt: ttl(e.At.Add(OutboxRetention)),
	}
}

// entry is the stored message, with to its opened recipient.
func (it outboxItem) entry(to string) OutboxEntry {
	return OutboxEntry{
		StoreID: it.StoreID, MessageID: it.MessageID, MemberID: it.MemberID, Channel: it.Channel,
		To: to, ToMasked: it.ToMasked, Text: it.Text, SpeakText: it.SpeakText, Link: it.Link,
		Kind: it.Kind, Lang: it.Lang, At: it.At,
	}
}

// PutOutbox stores e unless its store's outbox already has e.MessageID, and returns when the
// message was first stored: e.At, or for a redelivered id the first time, so the caller hands
// out the same receipt twice. One transaction of two puts; a redelivery adds one read.
func (s *Store) PutOutbox(ctx context.Context, e OutboxEntry) (time.Time, error) {
	if e.StoreID == "" || e.MessageID == "" || e.At.IsZero() {
		return time.Time{}, errors.New("put outbox: store, message id and time are required")
	}
	to, err := s.sealText(ctx, e.To, outboxToOwner(e.StoreID, e.MessageID))
	if err != nil {
		return time.Time{}, wrap("put outbox", err)
	}
	it := toOutboxItem(e, to)
	entry, err := attributevalue.MarshalMap(it)
	if err != nil {
		return time.Time{}, wrap("put outbox", err)
	}
	gpk, gsk := outboxIDKey(e.StoreID, e.MessageID)
	guard, err := attributevalue.MarshalMap(outboxIDItem{
		PK: gpk, SK: gsk, T: typeOutboxID, MessageID: e.MessageID, EntrySK: it.SK, At: e.At,
		ExpiresAt: it.ExpiresAt,
	})
	if err != nil {
		return time.Time{}, wrap("put outbox", err)
	}
	notExists := aws.String("attribute_not_exists(PK)")
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &s.table, Item: guard, ConditionExpression: notExists}},
			{Put: &types.Put{TableName: &s.table, Item: entry, ConditionExpression: notExists}},
		},
		ReturnConsumedCapacity: capacity,
	})
	if reasons := cancelReasons(err); len(reasons) > 0 && reasons[0] == "ConditionalCheckFailed" {
		return s.outboxFirstStored(ctx, e.StoreID, e.MessageID)
	}
	if err != nil {
		return time.Time{}, wrap("put outbox "+e.MessageID, err)
	}
	return e.At, nil
}

func (s *Store) outboxFirstStored(ctx context.Context, store, msg string) (time.Time, error) {
	pk, sk := outboxIDKey(store, msg)
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              &s.table,
		Key:                    key(pk, sk),
		ConsistentRead:         aws.Bool(true), // the guard may have been written a moment ago
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return time.Time{}, wrap("put outbox "+msg, err)
	}
	if res.Item == nil { // expired between the failed put and this read: the caller retries
		return time.Time{}, fmt.Errorf("put outbox %s: guard vanished", msg)
	}
	var g outboxIDItem
	if err := attributevalue.UnmarshalMap(res.Item, &g); err != nil {
		return time.Time{}, wrap("put outbox "+msg, err)
	}
	return g.At, nil
}

// ListOutbox returns up to limit (1–100, default 50) messages of store's outbox, newest first,
// from cursor on.
func (s *Store) ListOutbox(ctx context.Context, store, cursor string, limit int) (Page[OutboxEntry], error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 100)
	pk := outboxPK(store)
	start, err := decodeCursor(cursor, attrPK, pk, attrPK, attrSK)
	if err != nil {
		return Page[OutboxEntry]{}, err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: skOutboxPfx},
		},
		ScanIndexForward:       aws.Bool(false),
		Limit:                  aws.Int32(int32(limit)),
		ExclusiveStartKey:      start,
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return Page[OutboxEntry]{}, wrap("list outbox", err)
	}
	var items []outboxItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return Page[OutboxEntry]{}, wrap("list outbox", err)
	}
	page := Page[OutboxEntry]{Items: make([]OutboxEntry, len(items)), Cursor: encodeCursor(res.LastEvaluatedKey)}
	for i, it := range items {
		to, err := s.openText(ctx, it.To, outboxToOwner(it.StoreID, it.MessageID))
		if err != nil {
			return Page[OutboxEntry]{}, wrap("list outbox", err)
		}
		page.Items[i] = it.entry(to)
	}
	return page, nil
}

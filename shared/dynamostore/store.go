// Package dynamostore is Yinling's one DynamoDB table: one method per access pattern, the key
// builders (keys.go), the storage structs and their converters to domain types. Every request
// path uses GetItem, Query, BatchGetItem or transactions — never Scan — and every Query is bounded
// by a limit and resumed with an opaque cursor.
//
// Access patterns (key condition → index):
//
//	get store profile              PK=STORE#s, SK=STORE                       table
//	get staff member               PK=STORE#s, SK=STAFF#u                     table
//	create group (+ its join code) Put GROUP#g and CODE#c in one transaction  table
//	get group                      PK=STORE#s, SK=GROUP#g                     table
//	list groups of a store         PK=STORE#s, SK begins_with GROUP#, newest  table
//	update group fields            UpdateItem GROUP#g if it exists            table
//	create invite into a group     ConditionCheck GROUP#g + Put CODE#c        table
//	list invites of a group        GSI1PK=STORE#s#GROUP#g#INVITES             GSI1
//	resolve a join/invite code     PK=CODE#c, SK=CODE                         table
//	get doctor                     PK=STORE#s, SK=DOCTOR#d                    table
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

	"yinling/shared/fail"
	"yinling/shared/pii"
)

// Store reads and writes the table.
type Store struct {
	db    *dynamodb.Client
	table string
	// sealer keeps phone numbers encrypted at rest (phones.go).
	sealer *pii.Sealer
}

// Option configures New.
type Option func(*Store)

// WithPII seals phone numbers with data keys w wraps. Outside the local stack the processes
// share one data key through the table (keyring.go), so a reader unwraps one key per rotation
// rather than one per writer's cold start.
func WithPII(w pii.Wrapper) Option {
	return func(s *Store) {
		if pii.IsLocal(w) {
			s.sealer = pii.New(w)
			return
		}
		s.sealer = pii.New(w, pii.WithKeyStore(keyring{s}))
	}
}

// WithSealer seals phone numbers with sealer.
func WithSealer(sealer *pii.Sealer) Option { return func(s *Store) { s.sealer = sealer } }

// New returns a Store on table. The client is created once per process by the caller. Without
// WithPII or WithSealer, phones are sealed under the local development key (pii.Development),
// which fails every phone read and write inside Lambda: the mains always choose their key.
func New(db *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{db: db, table: table}
	for _, o := range opts {
		o(s)
	}
	if s.sealer == nil {
		s.sealer = pii.Development()
	}
	return s
}

// ErrExists reports that a create found its item already there.
var ErrExists = errors.New("dynamostore: item exists")

// ErrCodeTaken reports that a freshly drawn code is already in use; draw another.
var ErrCodeTaken = errors.New("dynamostore: code taken")

// Page is one page of a listing; Cursor is empty on the last page.
type Page[T any] struct {
	Items  []T
	Cursor string
}

// listing names one partition to page through: of the table (PK), or of GSI1 (GSI1PK); all of
// it, or the sort keys that start with skPrefix, or those from skFrom on, or those before
// skBefore (at most one of the three).
type listing struct {
	pk          string
	gsi1        bool
	newestFirst bool
	skPrefix    string
	skFrom      string
	skBefore    string
}

// keyCondition is l's KeyConditionExpression, with the value it names :sk.
func (l listing) keyCondition() (string, string) {
	pk, sk := "PK", "SK"
	if l.gsi1 {
		pk, sk = "GSI1PK", "GSI1SK"
	}
	switch {
	case l.skPrefix != "":
		return pk + " = :pk AND begins_with(" + sk + ", :sk)", l.skPrefix
	case l.skFrom != "":
		return pk + " = :pk AND " + sk + " >= :sk", l.skFrom
	case l.skBefore != "":
		return pk + " = :pk AND " + sk + " < :sk", l.skBefore
	}
	return pk + " = :pk", ""
}

// partitionPage reads one page of a listing — limit items from the caller's cursor, which must
// belong to the same partition — and converts each stored item with conv.
func partitionPage[I, T any](ctx context.Context, s *Store, op string, l listing, cursor string, limit int, conv func(I) T) (Page[T], error) {
	cond, skValue := l.keyCondition()
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    &cond,
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: l.pk}},
		ScanIndexForward:          aws.Bool(!l.newestFirst),
		Limit:                     aws.Int32(int32(limit)),
		ReturnConsumedCapacity:    capacity,
	}
	if skValue != "" {
		in.ExpressionAttributeValues[":sk"] = &types.AttributeValueMemberS{Value: skValue}
	}
	var err error
	if l.gsi1 {
		in.IndexName = aws.String(indexGSI1)
		in.ExclusiveStartKey, err = decodeCursor(cursor, attrGSI1PK, l.pk, attrPK, attrSK, attrGSI1PK, attrGSI1SK)
	} else {
		in.ExclusiveStartKey, err = decodeCursor(cursor, attrPK, l.pk, attrPK, attrSK)
	}
	if err != nil {
		return Page[T]{}, err
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return Page[T]{}, wrap(op, err)
	}
	var items []I
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return Page[T]{}, wrap(op, err)
	}
	out := Page[T]{Items: make([]T, len(items)), Cursor: encodeCursor(res.LastEvaluatedKey)}
	for i, it := range items {
		out.Items[i] = conv(it)
	}
	return out, nil
}

// capacity asks DynamoDB to report consumed capacity on every call: it costs nothing and lets
// the call-counting middleware publish write and read units per operation.
const capacity = types.ReturnConsumedCapacityTotal

// Item types, stored in attribute T so an item read in isolation (an export, a debugging
// session, a stream) says what it is.
const (
	typeStore  = "store"
	typeStaff  = "staff"
	typeGroup  = "group"
	typeCode   = "code"
	typeDoctor = "doctor"
)

func (s *Store) getItem(ctx context.Context, pk, sk string, out any) error {
	return s.get(ctx, pk, sk, false, out)
}

// getItemConsistent reads with strong consistency: for what must reflect a write made a moment
// ago — a revoked token, a used code, a freshly created lookup.
func (s *Store) getItemConsistent(ctx context.Context, pk, sk string, out any) error {
	return s.get(ctx, pk, sk, true, out)
}

func (s *Store) get(ctx context.Context, pk, sk string, consistent bool, out any) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              &s.table,
		Key:                    key(pk, sk),
		ConsistentRead:         aws.Bool(consistent),
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return err
	}
	if res.Item == nil {
		return fail.ErrNotFound
	}
	return attributevalue.UnmarshalMap(res.Item, out)
}

// putNew writes item only if no item has its key.
func (s *Store) putNew(ctx context.Context, item any) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:              &s.table,
		Item:                   av,
		ConditionExpression:    aws.String("attribute_not_exists(PK)"),
		ReturnConsumedCapacity: capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrExists
	}
	return err
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// cancelReasons returns the cancellation reason codes of a cancelled transaction, one per item
// in order, or nil if err is not a cancellation.
func cancelReasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return codes
}

// ttl is the epoch-seconds form the table's TTL attribute needs.
func ttl(t time.Time) int64 { return t.Unix() }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := fail.As(err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

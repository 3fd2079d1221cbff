package dynamostore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
	"yinling/shared/group"
)

// groupItem is a group as stored.
type groupItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	T         string    `dynamodbav:"T"`
	ID        string    `dynamodbav:"ID"`
	StoreID   string    `dynamodbav:"StoreID"`
	Name      string    `dynamodbav:"Name"`
	Covenant  string    `dynamodbav:"Covenant"`
	EntryRule string    `dynamodbav:"EntryRule"`
	PushCap   int       `dynamodbav:"PushCap"`
	JoinCode  string    `dynamodbav:"JoinCode"`
	CreatedBy string    `dynamodbav:"CreatedBy"`
	RobotKey  string    `dynamodbav:"RobotKey,omitempty"`
	CreatedAt time.Time `dynamodbav:"CreatedAt"`
	UpdatedAt time.Time `dynamodbav:"UpdatedAt"`
}

func toGroupItem(g group.Group) groupItem {
	pk, sk := groupKey(g.StoreID, g.ID)
	return groupItem{
		PK: pk, SK: sk, T: typeGroup,
		ID: g.ID, StoreID: g.StoreID, Name: g.Name, Covenant: g.Covenant,
		EntryRule: string(g.EntryRule), PushCap: g.PushCap, JoinCode: g.JoinCode,
		CreatedBy: g.CreatedBy, RobotKey: g.RobotKey, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt,
	}
}

func (it groupItem) group() group.Group {
	return group.Group{
		ID: it.ID, StoreID: it.StoreID, Name: it.Name, Covenant: it.Covenant,
		EntryRule: group.EntryRule(it.EntryRule), PushCap: it.PushCap, JoinCode: it.JoinCode,
		CreatedBy: it.CreatedBy, RobotKey: it.RobotKey, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
	}
}

// codeItem is the global lookup of a code: which store and group it leads into, and on whose
// behalf (a staff invite records the staff member; a referral, the member).
type codeItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	T          string    `dynamodbav:"T"`
	Code       string    `dynamodbav:"Code"`
	Kind       string    `dynamodbav:"Kind"`
	StoreID    string    `dynamodbav:"StoreID"`
	GroupID    string    `dynamodbav:"GroupID"`
	CreatedBy  string    `dynamodbav:"CreatedBy,omitempty"`
	MaxUses    int       `dynamodbav:"MaxUses,omitempty"`
	Uses       int       `dynamodbav:"Uses"`
	CreatedAt  time.Time `dynamodbav:"CreatedAt"`
	ValidUntil time.Time `dynamodbav:"ValidUntil,omitempty"`
	ExpiresAt  int64     `dynamodbav:"ExpiresAt,omitempty"`
	GSI1PK     string    `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK     string    `dynamodbav:"GSI1SK,omitempty"`
}

// Code kinds.
const (
	codeKindGroup  = "group"
	codeKindInvite = "invite"
)

// inviteRetention keeps an expired invite's lookup a while so a late scan of the QR code gets
// "expired" rather than "unknown"; TTL removes it after that.
const inviteRetention = 30 * 24 * time.Hour

// idemItem remembers which record a create with an Idempotency-Key made.
type idemItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	T           string `dynamodbav:"T"`
	ResultID    string `dynamodbav:"ResultID"`
	RequestHash string `dynamodbav:"RequestHash"`
	ExpiresAt   int64  `dynamodbav:"ExpiresAt"`
}

// Idempotency identifies a retryable create: the client's key and a hash of its request. The
// zero value means the create is not idempotent.
type Idempotency struct {
	Key         string
	RequestHash string
}

// ErrIdempotencyKeyReused refuses a key that was used for a different request.
var ErrIdempotencyKeyReused = &fail.Error{Kind: fail.Conflict, Code: "idempotency_key_reused", Field: "Idempotency-Key"}

// idempotencyWindow is how long a retried create returns the first result (Stripe's choice too).
const idempotencyWindow = 24 * time.Hour

// CreateGroup stores g and its join code in one transaction and returns the group. With an
// idempotency key, a repeat of the same create within a day returns the group the first one
// made instead of making another; the same key with another body is ErrIdempotencyKeyReused.
// ErrCodeTaken means the join code collided: draw another.
func (s *Store) CreateGroup(ctx context.Context, g group.Group, idem Idempotency) (group.Group, error) {
	gi, err := attributevalue.MarshalMap(toGroupItem(g))
	if err != nil {
		return group.Group{}, wrap("create group", err)
	}
	pk, sk := codeKey(g.JoinCode)
	ci, err := attributevalue.MarshalMap(codeItem{
		PK: pk, SK: sk, T: typeCode, Code: g.JoinCode, Kind: codeKindGroup,
		StoreID: g.StoreID, GroupID: g.ID, CreatedBy: g.CreatedBy, CreatedAt: g.CreatedAt,
	})
	if err != nil {
		return group.Group{}, wrap("create group", err)
	}
	notExists := aws.String("attribute_not_exists(PK)")
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: gi, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: &s.table, Item: ci, ConditionExpression: notExists}},
	}
	if idem.Key != "" {
		ipk, isk := idempotencyKey(g.StoreID, typeGroup, idem.Key)
		ii, err := attributevalue.MarshalMap(idemItem{PK: ipk, SK: isk, T: "idempotency", ResultID: g.ID,
			RequestHash: idem.RequestHash, ExpiresAt: ttl(g.CreatedAt.Add(idempotencyWindow))})
		if err != nil {
			return group.Group{}, wrap("create group", err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: ii, ConditionExpression: notExists}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:          items,
		ReturnConsumedCapacity: capacity,
	})
	if reasons := cancelReasons(err); reasons != nil {
		switch {
		case len(reasons) > 2 && reasons[2] == "ConditionalCheckFailed":
			return s.replayGroup(ctx, g.StoreID, idem)
		case reasons[1] == "ConditionalCheckFailed":
			return group.Group{}, ErrCodeTaken
		case reasons[0] == "ConditionalCheckFailed":
			return group.Group{}, ErrExists
		}
	}
	if err != nil {
		return group.Group{}, wrap("create group "+g.ID, err)
	}
	return g, nil
}

func (s *Store) replayGroup(ctx context.Context, store string, idem Idempotency) (group.Group, error) {
	pk, sk := idempotencyKey(store, typeGroup, idem.Key)
	var it idemItem
	if err := s.getItem(ctx, pk, sk, &it); err != nil {
		return group.Group{}, wrap("replay create group", err)
	}
	if it.RequestHash != idem.RequestHash {
		return group.Group{}, ErrIdempotencyKeyReused
	}
	return s.GetGroup(ctx, store, it.ResultID)
}

// GetGroup returns one group of store, or group.ErrNotFound — also for another store's group.
func (s *Store) GetGroup(ctx context.Context, store, id string) (group.Group, error) {
	pk, sk := groupKey(store, id)
	var it groupItem
	if err := s.getItem(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return group.Group{}, group.ErrNotFound
		}
		return group.Group{}, wrap("get group "+id, err)
	}
	return it.group(), nil
}

// ListGroups returns up to limit groups of store, newest first, from cursor on. Newest first is
// what staff look for, and a group created while someone pages cannot turn up on a later page.
func (s *Store) ListGroups(ctx context.Context, store, cursor string, limit int) (Page[group.Group], error) {
	l := listing{pk: storePK(store), skPrefix: skGroupPrefix, newestFirst: true}
	return partitionPage(ctx, s, "list groups", l, cursor, limit, groupItem.group)
}

// UpdateGroup applies a validated patch to one group of store in a single conditional write and
// returns the group as it now is; group.ErrNotFound if store has no such group.
func (s *Store) UpdateGroup(ctx context.Context, store, id string, p group.Patch, now time.Time) (group.Group, error) {
	pk, sk := groupKey(store, id)
	set := "SET UpdatedAt = :now"
	vals := map[string]types.AttributeValue{
		":now": &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
		":t":   &types.AttributeValueMemberS{Value: typeGroup},
	}
	names := map[string]string{"#T": "T"}
	add := func(attr string, v types.AttributeValue) {
		set += ", #" + attr + " = :" + attr
		names["#"+attr] = attr
		vals[":"+attr] = v
	}
	if p.Name != nil {
		add("Name", &types.AttributeValueMemberS{Value: *p.Name})
	}
	if p.Covenant != nil {
		add("Covenant", &types.AttributeValueMemberS{Value: *p.Covenant})
	}
	if p.EntryRule != nil {
		add("EntryRule", &types.AttributeValueMemberS{Value: string(*p.EntryRule)})
	}
	if p.PushCap != nil {
		add("PushCap", &types.AttributeValueMemberN{Value: itoa(*p.PushCap)})
	}
	if p.RobotKey != nil {
		if *p.RobotKey == "" { // the robot is gone: no attribute rather than an empty key
			set += " REMOVE #RobotKey"
			names["#RobotKey"] = "RobotKey"
		} else {
			add("RobotKey", &types.AttributeValueMemberS{Value: *p.RobotKey})
		}
	}
	res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pk, sk),
		UpdateExpression:          &set,
		ConditionExpression:       aws.String("attribute_exists(PK) AND #T = :t"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
		ReturnConsumedCapacity:    capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return group.Group{}, group.ErrNotFound
	}
	if err != nil {
		return group.Group{}, wrap("update group "+id, err)
	}
	var it groupItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return group.Group{}, wrap("update group "+id, err)
	}
	return it.group(), nil
}

// CreateInvite stores inv under its code if its group exists in its store, in one transaction.
// group.ErrNotFound if it does not; ErrCodeTaken if the code collided.
func (s *Store) CreateInvite(ctx context.Context, inv group.Invite) error {
	pk, sk := codeKey(inv.Code)
	gpk, gsk := groupInvitesKey(inv.StoreID, inv.GroupID, inv.CreatedAt.UTC().Format(time.RFC3339), inv.Code)
	ci, err := attributevalue.MarshalMap(codeItem{
		PK: pk, SK: sk, T: typeCode, Code: inv.Code, Kind: codeKindInvite,
		StoreID: inv.StoreID, GroupID: inv.GroupID, CreatedBy: inv.CreatedBy, MaxUses: inv.MaxUses,
		CreatedAt: inv.CreatedAt, ValidUntil: inv.ExpiresAt, ExpiresAt: ttl(inv.ExpiresAt.Add(inviteRetention)),
		GSI1PK: gpk, GSI1SK: gsk,
	})
	if err != nil {
		return wrap("create invite", err)
	}
	grpPK, grpSK := groupKey(inv.StoreID, inv.GroupID)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{
				TableName:                 &s.table,
				Key:                       key(grpPK, grpSK),
				ConditionExpression:       aws.String("attribute_exists(PK) AND #T = :t"),
				ExpressionAttributeNames:  map[string]string{"#T": "T"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: typeGroup}},
			}},
			{Put: &types.Put{TableName: &s.table, Item: ci, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		},
		ReturnConsumedCapacity: capacity,
	})
	if reasons := cancelReasons(err); reasons != nil {
		switch {
		case reasons[0] == "ConditionalCheckFailed":
			return group.ErrNotFound
		case reasons[1] == "ConditionalCheckFailed":
			return ErrCodeTaken
		}
	}
	return wrap("create invite", err)
}

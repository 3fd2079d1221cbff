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
	"yinling/shared/member"
)

const typeFamilyLink = "familylink"

// MaxFamilyLinks bounds the links one senior has at a time: enough for every child and
// grandchild, few enough to review on one screen.
const MaxFamilyLinks = 10

// Family links.
//
//	create a link                Update member count + Put FAMILY#h + Put LINK#l            transaction
//	open a family page           PK=FAMILY#<sha256(token)>, SK=FAMILY                       table
//	revoke a link                Get LINK#l, then Delete FAMILY#h + LINK#l + member count   transaction
//	links that asked for alerts  PK=STORE#s#MEMBER#m, SK begins_with LINK#                  table

// familyLinkItem is stored twice: under the token's hash (what a family page reads) and in the
// senior's partition (what "my page" lists). Both are written and deleted in one transaction, so
// a revoked link stops working at once. AlertPhone is sealed (phones.go; plain E.164 in items
// written before sealing), present only on a link with alerts; both copies hold one ciphertext.
type familyLinkItem struct {
	PK           string     `dynamodbav:"PK"`
	SK           string     `dynamodbav:"SK"`
	T            string     `dynamodbav:"T"`
	ID           string     `dynamodbav:"ID"`
	StoreID      string     `dynamodbav:"StoreID"`
	MemberID     string     `dynamodbav:"MemberID"`
	Label        string     `dynamodbav:"Label"`
	Scope        string     `dynamodbav:"Scope"`
	Alerts       bool       `dynamodbav:"Alerts"`
	AlertPhone   string     `dynamodbav:"AlertPhone,omitempty"`
	AlertChannel string     `dynamodbav:"AlertChannel,omitempty"`
	TokenHash    string     `dynamodbav:"TokenHash"`
	CreatedBy    string     `dynamodbav:"CreatedBy"`
	Consent      string     `dynamodbav:"Consent,omitempty"`
	CreatedAt    time.Time  `dynamodbav:"CreatedAt"`
	ValidUntil   time.Time  `dynamodbav:"ValidUntil"`
	LastUsedAt   *time.Time `dynamodbav:"LastUsedAt,omitempty"`
	ExpiresAt    int64      `dynamodbav:"ExpiresAt"`
}

// toFamilyLinkItem is l as stored under pk, sk, with alertPhone its sealed AlertPhone.
func toFamilyLinkItem(l member.FamilyLink, pk, sk, alertPhone string) familyLinkItem {
	return familyLinkItem{PK: pk, SK: sk, T: typeFamilyLink, ID: l.ID, StoreID: l.StoreID, MemberID: l.MemberID,
		Label: l.Label, Scope: string(l.Scope), Alerts: l.Alerts, AlertPhone: alertPhone, AlertChannel: string(l.AlertChannel),
		TokenHash: l.TokenHash, CreatedBy: l.CreatedBy,
		Consent: string(l.Consent), CreatedAt: l.CreatedAt, ValidUntil: l.ExpiresAt, LastUsedAt: timePtr(l.LastUsedAt), ExpiresAt: ttl(l.ExpiresAt)}
}

// linkFrom converts a stored link, opening its alert phone.
func (s *Store) linkFrom(ctx context.Context, it familyLinkItem) (member.FamilyLink, error) {
	phone, err := s.openText(ctx, it.AlertPhone, alertPhoneOwner(it.StoreID, it.MemberID, it.ID))
	if err != nil {
		return member.FamilyLink{}, fmt.Errorf("open alert phone of link %s: %w", it.ID, err)
	}
	return it.link(phone), nil
}

// link converts a stored link whose alert phone is opened (E.164 or "").
func (it familyLinkItem) link(alertPhone string) member.FamilyLink {
	l := member.FamilyLink{ID: it.ID, StoreID: it.StoreID, MemberID: it.MemberID, Label: it.Label,
		Scope: member.Scope(it.Scope), Alerts: it.Alerts, AlertChannel: member.Channel(it.AlertChannel),
		TokenHash: it.TokenHash, CreatedBy: it.CreatedBy,
		Consent: member.LinkConsent(it.Consent), CreatedAt: it.CreatedAt, ExpiresAt: it.ValidUntil}
	if it.LastUsedAt != nil {
		l.LastUsedAt = *it.LastUsedAt
	}
	// Only the E.164 of a parsed Phone is ever sealed here. Were it garbled all the same, the
	// link is left without a number, which AlertLinks skips, rather than failing every read of
	// the link over one field. (A phone that does not open is an error: KMS may be down.)
	if alertPhone != "" {
		l.AlertPhone, _ = member.ParsePhone(alertPhone)
	}
	return l
}

// ErrTooManyLinks refuses an eleventh family link.
var ErrTooManyLinks = &fail.Error{Kind: fail.Conflict, Code: "too_many_family_links"}

// CreateFamilyLink stores a new link, counting it against the senior's MaxFamilyLinks.
func (s *Store) CreateFamilyLink(ctx context.Context, l member.FamilyLink) error {
	tpk, tsk := familyTokenKey(l.TokenHash)
	lpk, lsk := memberLinkKey(l.StoreID, l.MemberID, l.ID)
	alertPhone, err := s.sealPhone(ctx, l.AlertPhone, alertPhoneOwner(l.StoreID, l.MemberID, l.ID))
	if err != nil {
		return wrap("create family link", err)
	}
	byToken, err := attributevalue.MarshalMap(toFamilyLinkItem(l, tpk, tsk, alertPhone))
	if err != nil {
		return wrap("create family link", err)
	}
	listed, err := attributevalue.MarshalMap(toFamilyLinkItem(l, lpk, lsk, alertPhone))
	if err != nil {
		return wrap("create family link", err)
	}
	mpk, msk := memberKey(l.StoreID, l.MemberID)
	notExists := aws.String("attribute_not_exists(PK)")
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: &s.table, Key: key(mpk, msk),
				UpdateExpression:    aws.String("ADD FamilyLinks :one"),
				ConditionExpression: aws.String("attribute_exists(PK) AND (attribute_not_exists(FamilyLinks) OR FamilyLinks < :max)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":one": &types.AttributeValueMemberN{Value: "1"},
					":max": &types.AttributeValueMemberN{Value: itoa(MaxFamilyLinks)},
				},
			}},
			{Put: &types.Put{TableName: &s.table, Item: byToken, ConditionExpression: notExists}},
			{Put: &types.Put{TableName: &s.table, Item: listed, ConditionExpression: notExists}},
		},
		ReturnConsumedCapacity: capacity,
	})
	if reasons := cancelReasons(err); reasons != nil && reasons[0] == "ConditionalCheckFailed" {
		return ErrTooManyLinks
	}
	return wrap("create family link", err)
}

// RevokeFamilyLink deletes one of a senior's links — both of its items — at once;
// member.ErrLinkNotFound if the senior has no such link.
func (s *Store) RevokeFamilyLink(ctx context.Context, store, memberID, linkID string) error {
	lpk, lsk := memberLinkKey(store, memberID, linkID)
	var it familyLinkItem
	if err := s.getItemConsistent(ctx, lpk, lsk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return member.ErrLinkNotFound
		}
		return wrap("revoke family link", err)
	}
	tpk, tsk := familyTokenKey(it.TokenHash)
	mpk, msk := memberKey(store, memberID)
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Delete: &types.Delete{TableName: &s.table, Key: key(tpk, tsk)}},
			{Delete: &types.Delete{TableName: &s.table, Key: key(lpk, lsk), ConditionExpression: aws.String("attribute_exists(PK)")}},
			{Update: &types.Update{TableName: &s.table, Key: key(mpk, msk),
				UpdateExpression:          aws.String("ADD FamilyLinks :minus"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":minus": &types.AttributeValueMemberN{Value: "-1"}}}},
		},
		ReturnConsumedCapacity: capacity,
	})
	if reasons := cancelReasons(err); reasons != nil && reasons[1] == "ConditionalCheckFailed" {
		return member.ErrLinkNotFound // revoked by another request a moment ago
	}
	return wrap("revoke family link", err)
}

// TouchFamilyLink records that a link was used, at most once an hour, so the senior's page can
// say "last opened yesterday" without a write on every view. A lost race is no error.
func (s *Store) TouchFamilyLink(ctx context.Context, l member.FamilyLink, now time.Time) error {
	lpk, lsk := memberLinkKey(l.StoreID, l.MemberID, l.ID)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(lpk, lsk),
		UpdateExpression:    aws.String("SET LastUsedAt = :now"),
		ConditionExpression: aws.String("attribute_exists(PK) AND (attribute_not_exists(LastUsedAt) OR LastUsedAt < :hourAgo)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":     &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339)},
			":hourAgo": &types.AttributeValueMemberS{Value: now.UTC().Add(-time.Hour).Format(time.RFC3339)},
		},
		ReturnConsumedCapacity: capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	return wrap("touch family link", err)
}

// AlertLinks returns a senior's links that are to be told when a medication reminder goes
// unanswered: usable at now, with alerts on and a number to reach. One strongly consistent Query
// of the senior's partition, so a link revoked a moment ago is never called; none is no error.
func (s *Store) AlertLinks(ctx context.Context, store, memberID string, now time.Time) ([]member.FamilyLink, error) {
	// memberLinkKey with no link id is the prefix every link of the senior shares, so the prefix
	// cannot drift from the keys CreateFamilyLink writes.
	pk, prefix := memberLinkKey(store, memberID, "")
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		// The member's FamilyLinks counter keeps their links at MaxFamilyLinks or fewer.
		Limit:                  aws.Int32(MaxFamilyLinks),
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return nil, wrap("alert links", err)
	}
	var items []familyLinkItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, wrap("alert links", err)
	}
	var links []member.FamilyLink
	for _, it := range items {
		if !it.Alerts {
			continue // no phone to open
		}
		l, err := s.linkFrom(ctx, it)
		if err != nil {
			return nil, wrap("alert links", err)
		}
		if !l.AlertPhone.IsZero() && l.Usable(now) {
			links = append(links, l)
		}
	}
	return links, nil
}

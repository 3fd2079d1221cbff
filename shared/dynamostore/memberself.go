package dynamostore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/member"
	"yinling/shared/tenant"
)

// MemberWithStore reads a member's profile and their store's profile (its interests) in one
// BatchGetItem; member.ErrNotFound if the member is gone.
func (s *Store) MemberWithStore(ctx context.Context, storeID, memberID string) (member.Member, tenant.Store, error) {
	mpk, msk := memberKey(storeID, memberID)
	spk, ssk := storeKey(storeID)
	items, err := s.batchGet(ctx, [][2]string{{mpk, msk}, {spk, ssk}})
	if err != nil {
		return member.Member{}, tenant.Store{}, wrap("member with store", err)
	}
	var m member.Member
	var st tenant.Store
	found := false
	for _, raw := range items {
		var t struct{ T string }
		if err := attributevalue.UnmarshalMap(raw, &t); err != nil {
			return member.Member{}, tenant.Store{}, wrap("member with store", err)
		}
		switch t.T {
		case typeMember:
			var it memberItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return member.Member{}, tenant.Store{}, wrap("member with store", err)
			}
			if m, err = s.memberFrom(ctx, it); err != nil {
				return member.Member{}, tenant.Store{}, err
			}
			found = true
		case typeStore:
			var it storeItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return member.Member{}, tenant.Store{}, wrap("member with store", err)
			}
			st = it.store()
		}
	}
	if !found {
		return member.Member{}, tenant.Store{}, member.ErrNotFound
	}
	return m, st, nil
}

// UpdateProfile writes a member's changed profile and the consent decisions to add to their
// history, in one transaction. Only profile fields are set, so counters on the item (family
// links) are untouched; the write is conditional on the profile not having changed since it was
// read (UpdatedAt), so two edits cannot silently overwrite each other.
func (s *Store) UpdateProfile(ctx context.Context, m member.Member, prevUpdatedAt time.Time, consents []member.Consent) error {
	it := toMemberItem(m, "")
	vals, err := attributevalue.MarshalMap(map[string]any{
		":name": it.Name, ":by": it.BirthYear, ":gender": it.Gender, ":hood": it.Neighborhood,
		":interests": it.Interests, ":channel": it.Channel, ":qs": it.QuietStart, ":qe": it.QuietEnd,
		":tz": it.TimeZone, ":consents": it.Consents, ":now": it.UpdatedAt, ":prev": prevUpdatedAt,
	})
	if err != nil {
		return wrap("update profile", err)
	}
	pk, sk := memberKey(m.StoreID, m.ID)
	expr := "SET #N = :name, BirthYear = :by, Gender = :gender, Neighborhood = :hood, " +
		"Interests = :interests, Channel = :channel, QuietStart = :qs, QuietEnd = :qe, #TZ = :tz, " +
		"Consents = :consents, UpdatedAt = :now"
	if slices.ContainsFunc(consents, func(c member.Consent) bool { return c.Kind == member.ConsentMarketing && c.Granted }) {
		expr += " REMOVE OptedOutAt" // granting marketing consent again ends an unsubscription
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: &s.table, Key: key(pk, sk),
		// Name and TimeZone are reserved words in DynamoDB expressions.
		UpdateExpression:          &expr,
		ConditionExpression:       aws.String("attribute_exists(PK) AND UpdatedAt = :prev"),
		ExpressionAttributeNames:  map[string]string{"#N": "Name", "#TZ": "TimeZone"},
		ExpressionAttributeValues: vals,
	}}}
	for _, c := range consents {
		cpk, csk := consentKey(m.StoreID, m.ID, c.At.UTC().Format(time.RFC3339), string(c.Kind))
		av, err := attributevalue.MarshalMap(map[string]any{"PK": cpk, "SK": csk, "T": typeConsent, "Kind": string(c.Kind),
			"Granted": c.Granted, "Version": c.Version, "At": c.At.UTC().Format(time.RFC3339)})
		if err != nil {
			return wrap("update profile", err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
	if reasons := cancelReasons(err); reasons != nil && reasons[0] == "ConditionalCheckFailed" {
		return ErrProfileChanged
	}
	return wrap("update profile", err)
}

// ErrProfileChanged: the profile changed between read and write; read again and retry.
var ErrProfileChanged = errors.New("dynamostore: profile changed since it was read")

// maxConsentRecords bounds one history read: a senior changes their mind a few times a year.
const maxConsentRecords = 500

// ConsentHistory returns a member's consent decisions, oldest first.
func (s *Store) ConsentHistory(ctx context.Context, storeID, memberID string) ([]member.Consent, error) {
	pk, _ := consentKey(storeID, memberID, "", "")
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		Limit:                     aws.Int32(maxConsentRecords),
		ReturnConsumedCapacity:    capacity,
	})
	if err != nil {
		return nil, wrap("consent history", err)
	}
	var rows []struct {
		Kind    string
		Granted bool
		Version string
		At      time.Time
	}
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &rows); err != nil {
		return nil, wrap("consent history", err)
	}
	out := make([]member.Consent, len(rows))
	for i, r := range rows {
		out[i] = member.Consent{Kind: member.ConsentKind(r.Kind), Granted: r.Granted, Version: r.Version, At: r.At}
	}
	return out, nil
}

// Erase deletes everything personal about a member (PIPL): profile, phone lookup, memberships,
// family links, one-time code, consent history, the session in use, and their referral counts.
// What remains are anonymous counts: a group's totals lose the member, its daily join counts
// stay. Sessions on other devices die with the profile (every request reads it).
func (s *Store) Erase(ctx context.Context, page MemberPage, sessionHash string) error {
	m := page.Member
	del := func(pk, sk string) types.TransactWriteItem {
		return types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(pk, sk)}}
	}
	var items []types.TransactWriteItem
	items = append(items, del(memberKey(m.StoreID, m.ID)))
	phoneHash := page.PhoneHash
	if phoneHash != "" {
		items = append(items, del(phoneKey(m.StoreID, phoneHash)))
	}
	items = append(items, del(otpKey(m.ID)), del(sessionKey(sessionHash)))
	for _, ms := range page.Memberships {
		items = append(items, del(membershipKey(m.StoreID, m.ID, ms.GroupID)), del(groupReferrerKey(m.StoreID, ms.GroupID, m.ID)),
			del(groupActiveKey(m.StoreID, ms.GroupID, m.ID)))
		var counter string
		switch ms.Status {
		case member.StatusActive:
			counter = "Active"
		case member.StatusPendingApproval:
			counter = "PendingApproval"
		}
		if counter != "" {
			pk, sk := groupTotalsKey(m.StoreID, ms.GroupID)
			items = append(items, types.TransactWriteItem{Update: counterUpdate{pk: pk, sk: sk, add: map[string]int{counter: -1}}.update(s.table)})
		}
	}
	for _, l := range page.Links {
		items = append(items, del(memberLinkKey(m.StoreID, m.ID, l.ID)), del(familyTokenKey(l.TokenHash)))
	}
	// A transaction holds 100 items: a member in 30 groups with 10 links still fits.
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity}); err != nil {
		return wrap("erase member", err)
	}
	// The consent history goes last, in batches: if this fails, the member is already gone from
	// every path that reads them, and a retry of the erase finds the rest.
	history, err := s.ConsentHistory(ctx, m.StoreID, m.ID)
	if err != nil {
		return err
	}
	var reqs []types.WriteRequest
	for _, c := range history {
		pk, sk := consentKey(m.StoreID, m.ID, c.At.UTC().Format(time.RFC3339), string(c.Kind))
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(pk, sk)}})
	}
	return wrap("erase consent history", s.batchWrite(ctx, reqs))
}

// batchWrite sends write requests 25 at a time, retrying unprocessed ones.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(len(reqs), 25)
		batch := reqs[:n]
		reqs = reqs[n:]
		for attempt := 0; len(batch) > 0; attempt++ {
			if attempt > 5 {
				return errors.New("batch write: unprocessed items after retries")
			}
			if attempt > 0 {
				if err := sleep(ctx, time.Duration(attempt*attempt)*20*time.Millisecond); err != nil {
					return err
				}
			}
			res, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems:           map[string][]types.WriteRequest{s.table: batch},
				ReturnConsumedCapacity: capacity,
			})
			if err != nil {
				return err
			}
			batch = res.UnprocessedItems[s.table]
		}
	}
	return nil
}

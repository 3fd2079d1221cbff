package dynamostore

// Staff's view of a store's members (the admin function): a group's member list and its CSV
// export, one transaction for what staff change on a member (tier, tags, approval, verification
// in person), and a group's health read from its counters.
//
// Access patterns (key condition → index):
//
//	list a group's members          GSI1PK=STORE#s#GROUP#g#MEMBERS [begins_with GSI1SK <status>#],  GSI1
//	                                descending: by status, newest join first within a status
//	  … with their profiles         BatchGetItem PK=STORE#s#MEMBER#m, SK=PROFILE (≤ 100)             table
//	export a group's members        the same, in Query pages of 1000 and BatchGets of 100            GSI1
//	staff change a member           TransactWriteItems on PROFILE, GROUP#g, stats TOTAL              table
//	group health                    PK=STORE#s#GROUP#g#STATS, SK BETWEEN DAY#<29 days ago> AND TOTAL table
//	  … group and referrers' names  BatchGetItem GROUP#g and the top referrers' PROFILE (≤ 6)       table

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/member"
	"yinling/shared/tenant"
)

// Refusals of a staff change to a member. Each leaves the member as it was.
var (
	// ErrMembershipNotFound: the member does not belong to the group staff tried to approve
	// them into (also when the group is another store's).
	ErrMembershipNotFound = &fail.Error{Kind: fail.NotFound, Code: "membership_not_found", Field: "approve.group"}
	// ErrNotPendingApproval: the membership is active already (a second click, or another staff
	// member was quicker) or its phone is not verified yet.
	ErrNotPendingApproval = &fail.Error{Kind: fail.Conflict, Code: "not_pending_approval", Field: "approve.group"}
	// ErrAlreadyVerified: the member's phone was verified already, by a code or by staff.
	ErrAlreadyVerified = &fail.Error{Kind: fail.Conflict, Code: "already_verified", Field: "verifyInPerson"}
)

// GroupMember is one line of a group's member list: the membership and the member's profile.
type GroupMember struct {
	Member     member.Member
	Membership member.Membership
}

// MemberFilter narrows a group's member list. Status narrows the Query itself (its key starts
// with the status); Tier, Tag and Name are matched against the profiles of the page read, so a
// filtered page can come back short, even empty, while its cursor still leads on.
type MemberFilter struct {
	Status member.Status // "" for any
	Tier   member.Tier   // "" for any
	Tag    string        // one of the member's tags, exactly
	Name   string        // part of the name, ignoring case
}

func (f MemberFilter) match(m member.Member) bool {
	if f.Tier != "" && m.Tier != f.Tier {
		return false
	}
	if f.Tag != "" && !slices.Contains(m.Tags, f.Tag) {
		return false
	}
	return f.Name == "" || strings.Contains(strings.ToLower(m.Name), strings.ToLower(f.Name))
}

// ListGroupMembers returns one page of a group's members (limit ≤ 100 memberships read), with
// their profiles, in two calls: a Query of GSI1 and a BatchGetItem of the page's profiles. The
// order is GSI1's, descending: members waiting for their phone to be verified, then those
// waiting for approval, then active ones, newest join first within each — what needs staff
// comes first. group.ErrNotFound when the store has no such group: checked (one GetItem) only
// when a first page is empty, since a membership in the store's partition proves its group.
func (s *Store) ListGroupMembers(ctx context.Context, store, groupID string, f MemberFilter, cursor string, limit int) (Page[GroupMember], error) {
	pk, _ := groupMembersKey(store, groupID, "", "", "")
	start, err := decodeCursor(cursor, attrGSI1PK, pk, attrPK, attrSK, attrGSI1PK, attrGSI1SK)
	if err != nil {
		return Page[GroupMember]{}, err
	}
	ms, lek, err := s.queryGroupMembers(ctx, pk, f.Status, start, limit)
	if err != nil {
		return Page[GroupMember]{}, wrap("list group members", err)
	}
	if len(ms) == 0 && cursor == "" {
		if _, err := s.GetGroup(ctx, store, groupID); err != nil {
			return Page[GroupMember]{}, err
		}
	}
	profiles, err := s.profiles(ctx, store, ms)
	if err != nil {
		return Page[GroupMember]{}, wrap("list group members", err)
	}
	page := Page[GroupMember]{Items: []GroupMember{}, Cursor: encodeCursor(lek)}
	for _, m := range ms {
		p, ok := profiles[m.MemberID]
		if ok && f.match(p) { // no profile: erased a moment ago, its membership about to go
			page.Items = append(page.Items, GroupMember{Member: p, Membership: m})
		}
	}
	return page, nil
}

// MemberExport is a group's member list for a file, with what the file needs to say about it.
type MemberExport struct {
	Store     tenant.Store // its time zone dates the joins
	Group     group.Group
	Rows      []GroupMember
	Truncated bool // the group has more than the rows asked for
}

// exportQueryPage is how many memberships one Query of an export reads: about 400 KB of
// membership items, well under a Query's 1 MB page.
const exportQueryPage = 1000

// ExportGroupMembers returns up to max members of a group, in the list's order. Calls: one
// BatchGetItem of the store and the group (group.ErrNotFound when the store has no such group),
// then a Query per 1000 memberships (one more row than max is read, to know whether there are
// more) and a BatchGetItem per 100 profiles: 3 calls for a group of up to 100 members, 57 for
// 5000.
func (s *Store) ExportGroupMembers(ctx context.Context, store, groupID string, max int) (MemberExport, error) {
	spk, ssk := storeKey(store)
	gpk, gsk := groupKey(store, groupID)
	items, err := s.batchGet(ctx, [][2]string{{spk, ssk}, {gpk, gsk}})
	if err != nil {
		return MemberExport{}, wrap("export group members", err)
	}
	var out MemberExport
	for _, raw := range items {
		var k struct{ SK string }
		if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
			return MemberExport{}, wrap("export group members", err)
		}
		switch k.SK {
		case ssk:
			var it storeItem
			err = attributevalue.UnmarshalMap(raw, &it)
			out.Store = it.store()
		case gsk:
			var it groupItem
			err = attributevalue.UnmarshalMap(raw, &it)
			out.Group = it.group()
		}
		if err != nil {
			return MemberExport{}, wrap("export group members", err)
		}
	}
	if out.Group.ID == "" {
		return MemberExport{}, group.ErrNotFound
	}
	pk, _ := groupMembersKey(store, groupID, "", "", "")
	var ms []member.Membership
	var start map[string]types.AttributeValue
	for len(ms) <= max {
		page, lek, err := s.queryGroupMembers(ctx, pk, "", start, min(exportQueryPage, max+1-len(ms)))
		if err != nil {
			return MemberExport{}, wrap("export group members", err)
		}
		ms = append(ms, page...)
		if start = lek; start == nil {
			break
		}
	}
	if len(ms) > max { // one more than asked for was read to know
		ms, out.Truncated = ms[:max], true
	}
	for chunk := range slices.Chunk(ms, maxBatchGet) {
		profiles, err := s.profiles(ctx, store, chunk)
		if err != nil {
			return MemberExport{}, wrap("export group members", err)
		}
		for _, m := range chunk {
			if p, ok := profiles[m.MemberID]; ok {
				out.Rows = append(out.Rows, GroupMember{Member: p, Membership: m})
			}
		}
	}
	return out, nil
}

// maxBatchGet is BatchGetItem's limit of keys per call.
const maxBatchGet = 100

// queryGroupMembers reads up to limit memberships of the group whose GSI1 partition is pk,
// optionally of one status, from start on.
func (s *Store) queryGroupMembers(ctx context.Context, pk string, status member.Status, start map[string]types.AttributeValue, limit int) ([]member.Membership, map[string]types.AttributeValue, error) {
	cond := "GSI1PK = :pk"
	vals := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}
	if status != "" {
		cond += " AND begins_with(GSI1SK, :status)"
		vals[":status"] = &types.AttributeValueMemberS{Value: groupMembersStatusPrefix(status)}
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    &cond,
		ExpressionAttributeValues: vals,
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
		ExclusiveStartKey:         start,
		ReturnConsumedCapacity:    capacity,
	})
	if err != nil {
		return nil, nil, err
	}
	var items []membershipItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, nil, err
	}
	out := make([]member.Membership, len(items))
	for i, it := range items {
		out[i] = it.membership()
	}
	return out, res.LastEvaluatedKey, nil
}

// groupMembersStatusPrefix is what the GSI1 sort key of every membership in status starts with,
// taken from groupMembersKey so the key's layout stays defined in keys.go alone.
func groupMembersStatusPrefix(status member.Status) string {
	_, sk := groupMembersKey("", "", string(status), "", "")
	prefix, _, _ := strings.Cut(sk, "#")
	return prefix + "#"
}

// profiles reads the profiles of ms's members (≤ 100) in one BatchGetItem, by member id.
func (s *Store) profiles(ctx context.Context, store string, ms []member.Membership) (map[string]member.Member, error) {
	out := make(map[string]member.Member, len(ms))
	if len(ms) == 0 {
		return out, nil
	}
	keys := make([][2]string, len(ms))
	for i, m := range ms {
		pk, sk := memberKey(store, m.MemberID)
		keys[i] = [2]string{pk, sk}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, raw := range items {
		var it memberItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, err
		}
		m, err := s.memberFrom(ctx, it)
		if err != nil {
			return nil, err
		}
		out[m.ID] = m
	}
	return out, nil
}

// MemberChange is what staff change on one member, written in one transaction: all of it or,
// refused, nothing.
type MemberChange struct {
	Tier *member.Tier
	Tags *[]string // validated (member.ValidTags); empty removes every tag
	// VerifyInPerson marks the phone verified by By, on condition that it is not verified yet.
	VerifyInPerson bool
	// Approve is a pending_approval membership as read a moment ago: it becomes active, approved
	// by By, on condition that it is still pending_approval and keyed as read.
	Approve *member.Membership
	By      string // the staff member
	Now     time.Time
}

// ChangeMember writes c. With an approval, the membership moves from pending_approval to active
// (its GSI1 sort key re-keyed to the new status) and the group's totals move one member from
// PendingApproval to Active, in the same transaction: a second approval — a double click, two
// staff at once — finds the condition false and changes nothing (ErrNotPendingApproval). A
// verification finds ErrAlreadyVerified the same way; member.ErrNotFound if the member is gone.
func (s *Store) ChangeMember(ctx context.Context, store, memberID string, c MemberChange) error {
	now := c.Now.UTC().Truncate(time.Second)
	nowS := &types.AttributeValueMemberS{Value: now.Format(time.RFC3339)}
	by := &types.AttributeValueMemberS{Value: c.By}
	var items []types.TransactWriteItem
	var roles []string
	if c.Tier != nil || c.Tags != nil || c.VerifyInPerson {
		set := []string{"UpdatedAt = :now"}
		var remove []string
		vals := map[string]types.AttributeValue{":now": nowS}
		cond := "attribute_exists(PK)"
		if c.Tier != nil {
			set = append(set, "Tier = :tier")
			vals[":tier"] = &types.AttributeValueMemberS{Value: string(*c.Tier)}
		}
		if c.Tags != nil && len(*c.Tags) == 0 {
			remove = append(remove, "Tags") // stored as absent, as toMemberItem stores no tags
		} else if c.Tags != nil {
			tags, err := attributevalue.Marshal(*c.Tags)
			if err != nil {
				return wrap("change member", err)
			}
			set = append(set, "Tags = :tags")
			vals[":tags"] = tags
		}
		if c.VerifyInPerson {
			set = append(set, "VerifiedAt = :now", "VerifiedBy = :by")
			vals[":by"] = by
			cond += " AND attribute_not_exists(VerifiedAt)"
		}
		expr := "SET " + strings.Join(set, ", ")
		if len(remove) > 0 {
			expr += " REMOVE " + strings.Join(remove, ", ")
		}
		pk, sk := memberKey(store, memberID)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: key(pk, sk), UpdateExpression: &expr,
			ConditionExpression: &cond, ExpressionAttributeValues: vals,
		}})
		roles = append(roles, "member")
	}
	if ms := c.Approve; ms != nil {
		joinedAt := ms.JoinedAt.UTC().Format(time.RFC3339)
		_, was := groupMembersKey(store, ms.GroupID, string(member.StatusPendingApproval), joinedAt, memberID)
		_, gsk := groupMembersKey(store, ms.GroupID, string(member.StatusActive), joinedAt, memberID)
		pk, sk := membershipKey(store, memberID, ms.GroupID)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: key(pk, sk),
			UpdateExpression:         aws.String("SET #S = :active, GSI1SK = :gsk, ApprovedBy = :by, ApprovedAt = :now"),
			ConditionExpression:      aws.String("#S = :pending AND GSI1SK = :was"),
			ExpressionAttributeNames: map[string]string{"#S": "Status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":active":  &types.AttributeValueMemberS{Value: string(member.StatusActive)},
				":pending": &types.AttributeValueMemberS{Value: string(member.StatusPendingApproval)},
				":gsk":     &types.AttributeValueMemberS{Value: gsk},
				":was":     &types.AttributeValueMemberS{Value: was},
				":by":      by,
				":now":     nowS,
			},
		}})
		tpk, tsk := groupTotalsKey(store, ms.GroupID)
		items = append(items, types.TransactWriteItem{Update: counterUpdate{pk: tpk, sk: tsk,
			add: map[string]int{"PendingApproval": -1, "Active": 1}}.update(s.table)})
		roles = append(roles, "membership", "stats")
	}
	if len(items) == 0 {
		return nil
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
	if reasons := cancelReasons(err); reasons != nil {
		for i, r := range reasons {
			if r != "ConditionalCheckFailed" {
				continue
			}
			switch {
			case roles[i] == "membership":
				return ErrNotPendingApproval
			case roles[i] == "member" && c.VerifyInPerson:
				return ErrAlreadyVerified // or erased since read; either way nothing to verify
			case roles[i] == "member":
				return member.ErrNotFound
			}
		}
	}
	return wrap("change member "+memberID, err)
}

// Applied returns m and its memberships as ChangeMember leaves them once c is written, so the
// caller can answer with the result without reading it back.
func (c MemberChange) Applied(m member.Member, ms []member.Membership) (member.Member, []member.Membership) {
	now := c.Now.UTC().Truncate(time.Second)
	if c.Tier != nil || c.Tags != nil || c.VerifyInPerson {
		m.UpdatedAt = now
	}
	if c.Tier != nil {
		m.Tier = *c.Tier
	}
	if c.Tags != nil {
		m.Tags = slices.Clone(*c.Tags)
	}
	if c.VerifyInPerson {
		m.VerifiedAt, m.VerifiedBy = now, c.By
	}
	ms = slices.Clone(ms)
	for i := range ms {
		if c.Approve != nil && ms[i].GroupID == c.Approve.GroupID {
			ms[i].Status, ms[i].ApprovedBy, ms[i].ApprovedAt = member.StatusActive, c.By, now
		}
	}
	return m, ms
}

// GroupHealth is what a group's counters say.
type GroupHealth struct {
	Group           group.Group
	Active          int
	PendingApproval int
	// ActiveLast30Days counts members who completed a join or signed in within 30 days.
	ActiveLast30Days int
	// Joined counts the joins completed in the last 30 UTC days, today included, by path.
	Joined       map[member.JoinPath]int
	TopReferrers []Referrer // most referrals first, at most maxTopReferrers
	// Bookings counts the seats members hold or held at the Q&A sessions for this group
	// (cancellations taken off); Attended and NoShow what staff recorded once they took place.
	Bookings, Attended, NoShow int
	// PushOpens counts the members of the group who opened a campaign's offer page (each once
	// per campaign); PushOptOuts those who unsubscribed from one.
	PushOpens, PushOptOuts int
	// Partial: the group has more referrers than one read of its counters covers (about 1000),
	// so the ranking, and the joins of the oldest days, may be incomplete.
	Partial bool
}

// Referrer is a member who brought others into a group.
type Referrer struct {
	MemberID  string
	Name      string // "" if the member has been erased since
	Referrals int
}

// Bounds of a group-health read.
const (
	joinedWindowDays = 30
	maxTopReferrers  = 5
	// statsReadLimit bounds the one Query: the totals, up to 30 days and ~970 referrers.
	statsReadLimit = 1000
)

// GroupHealth reads a group's counters in one Query of its stats partition — SK from the day
// 29 days before now's UTC day to TOTAL takes in the days of the window, every referrer and the
// totals, read in descending order so the totals come first — then the group and the top
// referrers' profiles in one BatchGetItem, then the members active in 30 days (a COUNT Query):
// three calls. group.ErrNotFound when the store has no such group.
func (s *Store) GroupHealth(ctx context.Context, store, groupID string, now time.Time) (GroupHealth, error) {
	pk, totalSK := groupTotalsKey(store, groupID)
	_, fromSK := groupDayKey(store, groupID, now.UTC().AddDate(0, 0, 1-joinedWindowDays).Format("2006-01-02"))
	_, dayPfx := groupDayKey(store, groupID, "")
	_, refPfx := groupReferrerKey(store, groupID, "")
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: pk},
			":from": &types.AttributeValueMemberS{Value: fromSK},
			":to":   &types.AttributeValueMemberS{Value: totalSK},
		},
		ScanIndexForward:       aws.Bool(false),
		Limit:                  aws.Int32(statsReadLimit),
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return GroupHealth{}, wrap("group health", err)
	}
	h := GroupHealth{Joined: map[member.JoinPath]int{}, Partial: len(res.LastEvaluatedKey) > 0}
	var referrers []Referrer
	for _, raw := range res.Items {
		var it struct {
			SK                                     string
			Active, PendingApproval, Referrals     int
			JoinedQR, JoinedInvite, JoinedReferral int
			Bookings, Attended, NoShow             int
			PushOpens, PushOptOuts                 int
		}
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return GroupHealth{}, wrap("group health", err)
		}
		switch {
		case it.SK == totalSK:
			h.Active, h.PendingApproval = it.Active, it.PendingApproval
			h.Bookings, h.Attended, h.NoShow = it.Bookings, it.Attended, it.NoShow
			h.PushOpens, h.PushOptOuts = it.PushOpens, it.PushOptOuts
		case strings.HasPrefix(it.SK, dayPfx):
			h.Joined[member.PathQR] += it.JoinedQR
			h.Joined[member.PathInvite] += it.JoinedInvite
			h.Joined[member.PathReferral] += it.JoinedReferral
		case strings.HasPrefix(it.SK, refPfx) && it.Referrals > 0:
			referrers = append(referrers, Referrer{MemberID: strings.TrimPrefix(it.SK, refPfx), Referrals: it.Referrals})
		}
	}
	slices.SortFunc(referrers, func(a, b Referrer) int {
		if a.Referrals != b.Referrals {
			return b.Referrals - a.Referrals
		}
		return strings.Compare(a.MemberID, b.MemberID)
	})
	h.TopReferrers = referrers[:min(len(referrers), maxTopReferrers)]

	gpk, gsk := groupKey(store, groupID)
	keys := [][2]string{{gpk, gsk}}
	for _, r := range h.TopReferrers {
		mpk, msk := memberKey(store, r.MemberID)
		keys = append(keys, [2]string{mpk, msk})
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return GroupHealth{}, wrap("group health", err)
	}
	names := map[string]string{}
	for _, raw := range items {
		var k struct{ T string }
		if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
			return GroupHealth{}, wrap("group health", err)
		}
		switch k.T {
		case typeGroup:
			var it groupItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return GroupHealth{}, wrap("group health", err)
			}
			h.Group = it.group()
		case typeMember:
			var it struct{ ID, Name string }
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return GroupHealth{}, wrap("group health", err)
			}
			names[it.ID] = it.Name
		}
	}
	if h.Group.ID == "" {
		return GroupHealth{}, group.ErrNotFound
	}
	if h.ActiveLast30Days, err = s.countActive(ctx, store, groupID, now); err != nil {
		return GroupHealth{}, err
	}
	for i := range h.TopReferrers {
		h.TopReferrers[i].Name = names[h.TopReferrers[i].MemberID]
	}
	return h, nil
}

package dynamostore

// Reminders: what members, family helpers and staff read and write. (What the dispatcher, the
// sender and the escalator use is in delivery.go.)
//
//	create reminder                 Put REMINDER (+ Due attrs, GSI1) + Put RLINK#h + member count  transaction
//	get reminder                    PK=STORE#s#REMINDER#r, SK=REMINDER                             table
//	list a member's reminders       GSI1PK=STORE#s#MEMBER#m#REMINDERS                               GSI1
//	update / pause / cancel         Put REMINDER if UpdatedAt unchanged (+ member count on cancel)  table
//	open the reminder page          PK=RLINK#<sha256(token)>, then reminder+member+store, ack       table
//	acknowledge an occurrence       Put OCC#<occ> if absent                                         table
//	delivery status of a reminder   PK=STORE#s#REMINDER#r, SK begins_with OCC#, newest first       table
//	broadcast status                GSI1PK=STORE#s#BROADCAST#b                                      GSI1

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
	"yinling/shared/member"
	"yinling/shared/reminder"
	"yinling/shared/tenant"
)

// ReminderLink is where a reminder page token leads.
type ReminderLink struct {
	StoreID    string
	MemberID   string
	ReminderID string
}

// Ack is the acknowledgement of one occurrence.
type Ack struct {
	Occurrence string // reminder.OccurrenceID
	By         string // member id, family link id or staff id
	Via        reminder.Via
	At         time.Time
}

// Delivery states.
const (
	DeliveryClaimed    = "claimed"    // a sender is calling the provider
	DeliverySent       = "sent"       // the provider accepted it
	DeliveryFailed     = "failed"     // refused for good; Reason says why
	DeliverySuppressed = "suppressed" // not sent on purpose: no consent, unverified, channel none
	DeliveryDeferred   = "deferred"   // held back by quiet hours until DueAt
	DeliveryExpired    = "expired"    // dispatched too late after an outage (reminder.MaxLateness)
	DeliverySkipped    = "skipped"    // not (re)sent: acknowledged, paused or cancelled meanwhile
)

// Delivery is one delivery of one occurrence, as its status page shows it.
type Delivery struct {
	StoreID    string
	ReminderID string
	MemberID   string
	Occurrence string
	Attempt    string // "A0", "A1"…, "F<link>", "S"
	State      string
	Channel    string
	Provider   string
	ProviderID string
	Reason     string
	At         time.Time // of the latest state
	DueAt      time.Time // DeliveryDeferred: when it goes
}

// ReminderStatus is a reminder's delivery history: occurrences newest first, each with its
// acknowledgement (if any) and its deliveries.
type ReminderStatus struct {
	Occurrences []OccurrenceStatus
	Cursor      string
}

// OccurrenceStatus is one occurrence of a reminder and what happened to it.
type OccurrenceStatus struct {
	Occurrence string
	Ack        *Ack
	Deliveries []Delivery
}

// StaffAlert tells a store's staff that nobody acknowledged an occurrence, even after the family
// was alerted.
type StaffAlert struct {
	StoreID    string
	ReminderID string
	MemberID   string
	MemberName string
	Kind       reminder.Kind
	Text       string
	Occurrence string
	At         time.Time
}

// ErrReminderChanged refuses an update made on a stale copy: someone else changed the reminder
// since it was read. Read it again and retry.
var ErrReminderChanged = &fail.Error{Kind: fail.Conflict, Code: "reminder_changed"}

// GuessReminder is the guessing scope of reminder page tokens.
const GuessReminder = "reminder"

// Item types of reminders.
const (
	typeReminder     = "reminder"
	typeReminderLink = "rlink"
	typeAck          = "ack"
	typeDelivery     = "delivery"
	typeStaffAlert   = "staff_alert"
)

// DeliveryRetention is how long delivery records and acknowledgements are kept (TTL).
const DeliveryRetention = 90 * 24 * time.Hour

// reminderItem is a reminder as stored. It carries DuePK/DueSK — and so appears in the sparse
// Due index — only while it is active with a next occurrence.
type reminderItem struct {
	PK          string     `dynamodbav:"PK"`
	SK          string     `dynamodbav:"SK"`
	T           string     `dynamodbav:"T"`
	GSI1PK      string     `dynamodbav:"GSI1PK"`
	GSI1SK      string     `dynamodbav:"GSI1SK"`
	DuePK       string     `dynamodbav:"DuePK,omitempty"`
	DueSK       string     `dynamodbav:"DueSK,omitempty"`
	ID          string     `dynamodbav:"ID"`
	StoreID     string     `dynamodbav:"StoreID"`
	MemberID    string     `dynamodbav:"MemberID"`
	Kind        string     `dynamodbav:"Kind"`
	Text        string     `dynamodbav:"Text"`
	ClipKey     string     `dynamodbav:"ClipKey,omitempty"`
	Freq        string     `dynamodbav:"Freq"`
	Start       string     `dynamodbav:"Start"`
	At          string     `dynamodbav:"At"`
	Weekdays    []int      `dynamodbav:"Weekdays,omitempty"`
	Interval    int        `dynamodbav:"Interval,omitempty"`
	Until       string     `dynamodbav:"Until,omitempty"`
	TimeZone    string     `dynamodbav:"TimeZone"`
	Status      string     `dynamodbav:"Status"`
	NextAt      *time.Time `dynamodbav:"NextAt,omitempty"`
	LastAt      *time.Time `dynamodbav:"LastAt,omitempty"`
	GroupID     string     `dynamodbav:"GroupID,omitempty"`
	BroadcastID string     `dynamodbav:"BroadcastID,omitempty"`
	SessionID   string     `dynamodbav:"SessionID,omitempty"`
	CreatedBy   string     `dynamodbav:"CreatedBy"`
	CreatedVia  string     `dynamodbav:"CreatedVia"`
	UpdatedBy   string     `dynamodbav:"UpdatedBy,omitempty"`
	UpdatedVia  string     `dynamodbav:"UpdatedVia,omitempty"`
	CreatedAt   time.Time  `dynamodbav:"CreatedAt"`
	UpdatedAt   time.Time  `dynamodbav:"UpdatedAt"`
}

// dueAttrs returns the Due index keys of a reminder whose next occurrence is at next.
func dueAttrs(store, reminderID string, next time.Time) (pk, sk string) {
	return duePK(next.UTC().Format(dueMinuteLayout), dueShard(reminderID)), store + "#" + reminderID
}

func toReminderItem(r reminder.Reminder) reminderItem {
	pk, sk := reminderKey(r.StoreID, r.ID)
	gpk, gsk := memberRemindersKey(r.StoreID, r.MemberID, r.CreatedAt.UTC().Format(time.RFC3339), r.ID)
	it := reminderItem{PK: pk, SK: sk, T: typeReminder, GSI1PK: gpk, GSI1SK: gsk,
		ID: r.ID, StoreID: r.StoreID, MemberID: r.MemberID, Kind: string(r.Kind), Text: r.Text, ClipKey: r.ClipKey,
		Freq: string(r.Rule.Freq), Start: r.Rule.Start, At: r.Rule.At, Interval: r.Rule.Interval, Until: r.Rule.Until,
		TimeZone: r.Rule.TimeZone, Status: string(r.Status), NextAt: utcPtr(r.NextAt), LastAt: utcPtr(r.LastAt),
		GroupID: r.GroupID, BroadcastID: r.BroadcastID, SessionID: r.SessionID, CreatedBy: r.CreatedBy, CreatedVia: string(r.CreatedVia),
		UpdatedBy: r.UpdatedBy, UpdatedVia: string(r.UpdatedVia), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	for _, d := range r.Rule.Weekdays {
		it.Weekdays = append(it.Weekdays, int(d))
	}
	if r.Status == reminder.StatusActive && !r.NextAt.IsZero() {
		it.DuePK, it.DueSK = dueAttrs(r.StoreID, r.ID, r.NextAt)
	}
	return it
}

func (it reminderItem) reminder() reminder.Reminder {
	r := reminder.Reminder{ID: it.ID, StoreID: it.StoreID, MemberID: it.MemberID, Kind: reminder.Kind(it.Kind),
		Text: it.Text, ClipKey: it.ClipKey, Status: reminder.Status(it.Status),
		Rule: reminder.Rule{Freq: reminder.Freq(it.Freq), Start: it.Start, At: it.At, Interval: it.Interval,
			Until: it.Until, TimeZone: it.TimeZone},
		GroupID: it.GroupID, BroadcastID: it.BroadcastID, SessionID: it.SessionID, CreatedBy: it.CreatedBy, CreatedVia: reminder.Via(it.CreatedVia),
		UpdatedBy: it.UpdatedBy, UpdatedVia: reminder.Via(it.UpdatedVia), CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
	for _, d := range it.Weekdays {
		r.Rule.Weekdays = append(r.Rule.Weekdays, time.Weekday(d))
	}
	if it.NextAt != nil {
		r.NextAt = *it.NextAt
	}
	if it.LastAt != nil {
		r.LastAt = *it.LastAt
	}
	return r
}

func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// reminderLinkItem is where a reminder page token leads.
type reminderLinkItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	T          string `dynamodbav:"T"`
	StoreID    string `dynamodbav:"StoreID"`
	MemberID   string `dynamodbav:"MemberID"`
	ReminderID string `dynamodbav:"ReminderID"`
}

func (s *Store) put(item any, cond string) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	p := &types.Put{TableName: &s.table, Item: av}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
	}
	return types.TransactWriteItem{Put: p}, nil
}

func reminderLinkFor(r reminder.Reminder, linkHash string) reminderLinkItem {
	pk, sk := reminderLinkKey(linkHash)
	return reminderLinkItem{PK: pk, SK: sk, T: typeReminderLink, StoreID: r.StoreID, MemberID: r.MemberID, ReminderID: r.ID}
}

// CreateReminder stores a new reminder with its page link (the hash of reminder.LinkToken),
// refusing a member that does not exist (member.ErrNotFound) or who has reminder.MaxPerMember
// live reminders already (reminder.ErrTooMany). The count is read before the write, so two
// creates racing at the limit may both pass: the limit is a guard against runaway scripts, not
// an invariant.
func (s *Store) CreateReminder(ctx context.Context, r reminder.Reminder, linkHash string) error {
	live, err := s.countLiveReminders(ctx, r.StoreID, r.MemberID)
	if err != nil {
		return err
	}
	if live >= reminder.MaxPerMember {
		return reminder.ErrTooMany
	}
	rem, err := s.put(toReminderItem(r), "attribute_not_exists(PK)")
	if err != nil {
		return err
	}
	link, err := s.put(reminderLinkFor(r, linkHash), "")
	if err != nil {
		return err
	}
	mpk, msk := memberKey(r.StoreID, r.MemberID)
	check := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(mpk, msk),
		ConditionExpression: aws.String("attribute_exists(PK)")}}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{rem, link, check}, ReturnConsumedCapacity: capacity})
	if reasons := cancelReasons(err); len(reasons) == 3 {
		switch {
		case reasons[2] == "ConditionalCheckFailed":
			return member.ErrNotFound
		case reasons[0] == "ConditionalCheckFailed":
			return ErrExists
		}
	}
	return wrap("create reminder", err)
}

// countLiveReminders counts a member's active and paused reminders. The filter runs after the
// read, so the Query reads the member's whole list, cancelled and done ones too (ten pages of
// 100 at most).
func (s *Store) countLiveReminders(ctx context.Context, store, memberID string) (int, error) {
	gpk, _ := memberRemindersKey(store, memberID, "", "")
	var live int
	var start map[string]types.AttributeValue
	for page := 0; page < 10; page++ {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(indexGSI1),
			KeyConditionExpression:    aws.String("GSI1PK = :pk"),
			FilterExpression:          aws.String("#S IN (:a, :p)"),
			ProjectionExpression:      aws.String("#S"),
			ExpressionAttributeNames:  map[string]string{"#S": "Status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: gpk}, ":a": &types.AttributeValueMemberS{Value: string(reminder.StatusActive)}, ":p": &types.AttributeValueMemberS{Value: string(reminder.StatusPaused)}},
			Select:                    types.SelectSpecificAttributes,
			Limit:                     aws.Int32(100),
			ExclusiveStartKey:         start,
			ReturnConsumedCapacity:    capacity,
		})
		if err != nil {
			return 0, wrap("count reminders", err)
		}
		live += int(res.Count)
		if start = res.LastEvaluatedKey; start == nil {
			break
		}
	}
	return live, nil
}

// GetReminder returns a reminder of a store, or reminder.ErrNotFound.
func (s *Store) GetReminder(ctx context.Context, store, id string) (reminder.Reminder, error) {
	pk, sk := reminderKey(store, id)
	var it reminderItem
	if err := s.getItemConsistent(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return reminder.Reminder{}, reminder.ErrNotFound
		}
		return reminder.Reminder{}, wrap("get reminder", err)
	}
	return it.reminder(), nil
}

// ListMemberReminders lists a member's reminders (every status), oldest first.
func (s *Store) ListMemberReminders(ctx context.Context, store, memberID, cursor string, limit int) (Page[reminder.Reminder], error) {
	gpk, _ := memberRemindersKey(store, memberID, "", "")
	return partitionPage(ctx, s, "list reminders", listing{pk: gpk, gsi1: true}, cursor, limit, reminderItem.reminder)
}

// UpdateReminder replaces a reminder read at prevUpdatedAt (ErrReminderChanged if it changed
// since — the dispatcher's advance counts as a change, so a page that was open across an
// occurrence never puts back a NextAt already sent): the Due index follows its status and
// NextAt.
func (s *Store) UpdateReminder(ctx context.Context, r reminder.Reminder, prevUpdatedAt time.Time) error {
	av, err := attributevalue.MarshalMap(toReminderItem(r))
	if err != nil {
		return err
	}
	prev, err := attributevalue.Marshal(prevUpdatedAt.UTC())
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      av,
		ConditionExpression:       aws.String("attribute_exists(PK) AND UpdatedAt = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": prev},
		ReturnConsumedCapacity:    capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrReminderChanged
	}
	return wrap("update reminder", err)
}

// ReminderLinkFrom finds where a reminder page token leads, counting a miss against the
// client's address like a family token (reminder.ErrNotFound; ErrTooManyGuesses after too many).
func (s *Store) ReminderLinkFrom(ctx context.Context, tokenHash, client string, now time.Time) (ReminderLink, error) {
	pk, sk := reminderLinkKey(tokenHash)
	var it reminderLinkItem
	found, err := s.lookupGuarded(ctx, pk, sk, GuessReminder, client, now, &it)
	if err != nil {
		return ReminderLink{}, wrap("get reminder link", err)
	}
	if !found {
		return ReminderLink{}, reminder.ErrNotFound
	}
	return ReminderLink{StoreID: it.StoreID, MemberID: it.MemberID, ReminderID: it.ReminderID}, nil
}

// ReminderPage is what a reminder page link leads to: the reminder, its member (zero for a
// group's reminder, which has none) and their store.
type ReminderPage struct {
	Reminder reminder.Reminder
	Member   member.Member
	Store    tenant.Store
}

// ReminderPageOf reads the reminder a page link leads to with its member and store in one
// BatchGetItem: the link names all three, so the page needs no read of the reminder first.
// reminder.ErrNotFound if the reminder is gone, is not the link's member's, or the member erased
// their data.
func (s *Store) ReminderPageOf(ctx context.Context, l ReminderLink) (ReminderPage, error) {
	rpk, rsk := reminderKey(l.StoreID, l.ReminderID)
	spk, ssk := storeKey(l.StoreID)
	keys := [][2]string{{rpk, rsk}, {spk, ssk}}
	if l.MemberID != "" {
		mpk, msk := memberKey(l.StoreID, l.MemberID)
		keys = append(keys, [2]string{mpk, msk})
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return ReminderPage{}, wrap("reminder page", err)
	}
	var p ReminderPage
	var foundRem, foundMember bool
	for _, raw := range items {
		var t struct{ T string }
		if err := attributevalue.UnmarshalMap(raw, &t); err != nil {
			return ReminderPage{}, wrap("reminder page", err)
		}
		switch t.T {
		case typeReminder:
			var it reminderItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return ReminderPage{}, wrap("reminder page", err)
			}
			p.Reminder, foundRem = it.reminder(), true
		case typeMember:
			var it memberItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return ReminderPage{}, wrap("reminder page", err)
			}
			if p.Member, err = s.memberFrom(ctx, it); err != nil {
				return ReminderPage{}, err
			}
			foundMember = true
		case typeStore:
			var it storeItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return ReminderPage{}, wrap("reminder page", err)
			}
			p.Store = it.store()
		}
	}
	if !foundRem || p.Reminder.MemberID != l.MemberID || (l.MemberID != "" && !foundMember) {
		return ReminderPage{}, reminder.ErrNotFound
	}
	return p, nil
}

// ackItem is the acknowledgement of one occurrence.
type ackItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	T          string    `dynamodbav:"T"`
	Occurrence string    `dynamodbav:"Occurrence"`
	By         string    `dynamodbav:"By"`
	Via        string    `dynamodbav:"Via"`
	At         time.Time `dynamodbav:"At"`
	ExpiresAt  int64     `dynamodbav:"ExpiresAt"`
}

func (it ackItem) ack() Ack {
	return Ack{Occurrence: it.Occurrence, By: it.By, Via: reminder.Via(it.Via), At: it.At}
}

// Acknowledge records a's acknowledgement of an occurrence unless one exists, and returns the
// one that counts (the first).
func (s *Store) Acknowledge(ctx context.Context, store, reminderID string, a Ack) (Ack, error) {
	pk, sk := ackKey(store, reminderID, a.Occurrence)
	it := ackItem{PK: pk, SK: sk, T: typeAck, Occurrence: a.Occurrence, By: a.By, Via: string(a.Via),
		At: a.At.UTC(), ExpiresAt: ttl(a.At.Add(DeliveryRetention))}
	switch err := s.putNew(ctx, it); {
	case err == nil:
		return a, nil
	case errors.Is(err, ErrExists):
		first, err := s.GetAck(ctx, store, reminderID, a.Occurrence)
		if err != nil || first == nil {
			return Ack{}, wrap("acknowledge", cmp.Or(err, errors.New("acknowledgement vanished")))
		}
		return *first, nil
	default:
		return Ack{}, wrap("acknowledge", err)
	}
}

// GetAck returns the acknowledgement of an occurrence, or nil.
func (s *Store) GetAck(ctx context.Context, store, reminderID, occ string) (*Ack, error) {
	pk, sk := ackKey(store, reminderID, occ)
	var it ackItem
	switch err := s.getItemConsistent(ctx, pk, sk, &it); {
	case errors.Is(err, fail.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, wrap("get acknowledgement", err)
	}
	a := it.ack()
	return &a, nil
}

// ReminderStatus returns a reminder's occurrences, newest first, with acknowledgements and
// deliveries; limit bounds the items read (an occurrence has one item per delivery and one for
// its acknowledgement), so the last occurrence of a page may continue on the next.
func (s *Store) ReminderStatus(ctx context.Context, store, reminderID, cursor string, limit int) (ReminderStatus, error) {
	pk := reminderPK(store, reminderID)
	start, err := decodeCursor(cursor, attrPK, pk, attrPK, attrSK)
	if err != nil {
		return ReminderStatus{}, err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :occ)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk},
			":occ": &types.AttributeValueMemberS{Value: skOccPfx}},
		ScanIndexForward:       aws.Bool(false),
		Limit:                  aws.Int32(int32(limit)),
		ExclusiveStartKey:      start,
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return ReminderStatus{}, wrap("reminder status", err)
	}
	out := ReminderStatus{Occurrences: []OccurrenceStatus{}, Cursor: encodeCursor(res.LastEvaluatedKey)}
	at := map[string]int{}
	occ := func(id string) *OccurrenceStatus {
		i, ok := at[id]
		if !ok {
			i = len(out.Occurrences)
			at[id] = i
			out.Occurrences = append(out.Occurrences, OccurrenceStatus{Occurrence: id, Deliveries: []Delivery{}})
		}
		return &out.Occurrences[i]
	}
	for _, raw := range res.Items {
		var t struct{ T string }
		if err := attributevalue.UnmarshalMap(raw, &t); err != nil {
			return ReminderStatus{}, wrap("reminder status", err)
		}
		switch t.T {
		case typeAck:
			var it ackItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return ReminderStatus{}, wrap("reminder status", err)
			}
			a := it.ack()
			occ(it.Occurrence).Ack = &a
		case typeDelivery:
			var it deliveryItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return ReminderStatus{}, wrap("reminder status", err)
			}
			o := occ(it.Occurrence)
			o.Deliveries = append(o.Deliveries, it.delivery())
		}
	}
	// Newest first reads A1 before A0: show each occurrence's deliveries in the order they were made.
	for i := range out.Occurrences {
		slices.Reverse(out.Occurrences[i].Deliveries)
	}
	return out, nil
}

// CreateBroadcast stores the reminders of one staff broadcast to a group (each with its
// BroadcastID and page-link hash, linkHashes[i] for rs[i]) in batches of 25 writes. They do not
// count against the members' MaxPerMember: staff decide. A retry writes the same items again.
func (s *Store) CreateBroadcast(ctx context.Context, rs []reminder.Reminder, linkHashes []string) error {
	if len(rs) != len(linkHashes) {
		return fmt.Errorf("create broadcast: %d reminders, %d link hashes", len(rs), len(linkHashes))
	}
	reqs := make([]types.WriteRequest, 0, 1+2*len(rs))
	if len(rs) > 0 {
		pk, sk := broadcastKey(rs[0].StoreID, rs[0].BroadcastID)
		av, err := attributevalue.MarshalMap(broadcastItem{PK: pk, SK: sk, T: typeBroadcast, GroupID: rs[0].GroupID,
			Reminders: len(rs), CreatedAt: rs[0].CreatedAt})
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	for i, r := range rs {
		for _, item := range []any{toReminderItem(r), reminderLinkFor(r, linkHashes[i])} {
			av, err := attributevalue.MarshalMap(item)
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
	}
	return wrap("create broadcast", s.batchWrite(ctx, reqs))
}

// broadcastItem is a broadcast's record, written first by CreateBroadcast.
type broadcastItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	T         string    `dynamodbav:"T"`
	GroupID   string    `dynamodbav:"GroupID"`
	Reminders int       `dynamodbav:"Reminders"`
	CreatedAt time.Time `dynamodbav:"CreatedAt"`
}

const typeBroadcast = "broadcast"

// BroadcastExists reports whether the store made a broadcast with this id: a broadcast whose
// first occurrence has not come has no deliveries yet, and another store's id must answer not
// found rather than an empty list.
func (s *Store) BroadcastExists(ctx context.Context, store, broadcast string) (bool, error) {
	pk, sk := broadcastKey(store, broadcast)
	var it broadcastItem
	switch err := s.getItem(ctx, pk, sk, &it); {
	case errors.Is(err, fail.ErrNotFound):
		return false, nil
	case err != nil:
		return false, wrap("read broadcast", err)
	}
	return true, nil
}

// BroadcastDeliveries lists the deliveries of one broadcast, by state then member.
func (s *Store) BroadcastDeliveries(ctx context.Context, store, broadcast, cursor string, limit int) (Page[Delivery], error) {
	gpk, _ := broadcastDeliveriesKey(store, broadcast, "", "")
	return partitionPage(ctx, s, "broadcast deliveries", listing{pk: gpk, gsi1: true}, cursor, limit, deliveryItem.delivery)
}

// ListStaffAlerts lists a store's staff alerts, newest first.
func (s *Store) ListStaffAlerts(ctx context.Context, store, cursor string, limit int) (Page[StaffAlert], error) {
	pk, _ := staffAlertKey(store, "", "", "")
	return partitionPage(ctx, s, "list staff alerts", listing{pk: pk, newestFirst: true}, cursor, limit, staffAlertItem.alert)
}

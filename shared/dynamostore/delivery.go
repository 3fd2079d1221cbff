package dynamostore

// Delivery of reminders: what the dispatcher, the sender and the escalator read and write.
//
//	due in one minute's shard       DuePK=DUE#<minute>#<shard>                                  Due
//	advance dispatched reminders    Update REMINDER if NextAt = occ, ≤ 100 per call             transaction
//	dispatcher watermark            PK=DISPATCHER, SK=WATERMARK                                 table
//	delivery context of a batch     reminders, profiles, acks of ≤ 10 messages in one call      BatchGetItem
//	claim deliveries                Put OCC#<occ>#<attempt> if absent or claim expired, batched transaction
//	record outcomes                 Update OCC#<occ>#<attempt> if still our claim, batched      transaction
//	defer (quiet hours)             Put OCC#<occ>#<attempt> with Due attrs at the end            table
//	release deferred after enqueue  Update OCC#… REMOVE DuePK, DueSK, batched                   transaction
//	staff alert                     Put STORE#s#ALERTS / <at>#<reminder>#<occ>                   table
//
// Exactly once: a delivery item is claimed with a conditional write before the provider is
// called and its outcome recorded only while the claim is still ours. A sender that crashes
// after the provider call and before recording leaves a claim that expires (ClaimTTL) and is
// claimed again on redelivery: that window — and only it — can call a senior twice.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"yinling/shared/promo"
	"yinling/shared/reminder"
)

// ClaimTTL is how long a claim holds before another sender may take it over: longer than a
// provider call with its timeout, shorter than the queue's visibility timeout (180 s), so a
// redelivered message finds the crashed claim expired.
const ClaimTTL = 90 * time.Second

// maxTransactItems is DynamoDB's limit of items per transaction.
const maxTransactItems = 100

// deliveryItem is one delivery of one occurrence: the claim, then the outcome.
type deliveryItem struct {
	PK         string     `dynamodbav:"PK"`
	SK         string     `dynamodbav:"SK"`
	T          string     `dynamodbav:"T"`
	GSI1PK     string     `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK     string     `dynamodbav:"GSI1SK,omitempty"`
	DuePK      string     `dynamodbav:"DuePK,omitempty"`
	DueSK      string     `dynamodbav:"DueSK,omitempty"`
	StoreID    string     `dynamodbav:"StoreID"`
	ReminderID string     `dynamodbav:"ReminderID"`
	MemberID   string     `dynamodbav:"MemberID"`
	Broadcast  string     `dynamodbav:"Broadcast,omitempty"`
	Occurrence string     `dynamodbav:"Occurrence"`
	Attempt    string     `dynamodbav:"Attempt"`
	State      string     `dynamodbav:"State"`
	Token      string     `dynamodbav:"Token,omitempty"`
	ClaimUntil int64      `dynamodbav:"ClaimUntil,omitempty"`
	Claims     int        `dynamodbav:"Claims,omitempty"`
	Channel    string     `dynamodbav:"Channel,omitempty"`
	Provider   string     `dynamodbav:"Provider,omitempty"`
	ProviderID string     `dynamodbav:"ProviderID,omitempty"`
	Reason     string     `dynamodbav:"Reason,omitempty"`
	At         time.Time  `dynamodbav:"At"`
	DueAt      *time.Time `dynamodbav:"DueAt,omitempty"`
	ExpiresAt  int64      `dynamodbav:"ExpiresAt"`
}

func (it deliveryItem) delivery() Delivery {
	d := Delivery{StoreID: it.StoreID, ReminderID: it.ReminderID, MemberID: it.MemberID, Occurrence: it.Occurrence,
		Attempt: it.Attempt, State: it.State, Channel: it.Channel, Provider: it.Provider, ProviderID: it.ProviderID,
		Reason: it.Reason, At: it.At}
	if it.DueAt != nil {
		d.DueAt = *it.DueAt
	}
	return d
}

// DeliveryRef names one delivery: (reminder, occurrence, attempt) of a store.
type DeliveryRef struct {
	StoreID    string
	ReminderID string
	MemberID   string
	Occurrence string // reminder.OccurrenceID
	Attempt    string // "A0", "A1"…, "F<link>", "S"
	Broadcast  string // the reminder's BroadcastID, so a broadcast's status is one Query
}

// String is the delivery's idempotency key, e.g. for notify.Message.ID.
func (r DeliveryRef) String() string {
	return r.StoreID + ":" + r.ReminderID + ":" + r.Occurrence + ":" + r.Attempt
}

func (r DeliveryRef) key() (pk, sk string) {
	return deliveryKey(r.StoreID, r.ReminderID, r.Occurrence, r.Attempt)
}

// Due is one thing the dispatcher found due: a reminder's next occurrence, or a delivery that
// quiet hours held back (Deferred set).
type Due struct {
	Reminder reminder.Reminder // set for a reminder's occurrence
	Deferred *DeliveryRef      // set for a held-back delivery
	Campaign *promo.Campaign   // set for a campaign run whose time has come
	Chunk    *OfferChunk       // set for a campaign chunk that quiet hours held back
}

// DuePage is one page of one shard of one minute.
type DuePage struct {
	Items []Due
	Next  map[string]types.AttributeValue // nil on the last page
}

// DueIn reads one page of what is due in one shard of the minute that starts at minute.
func (s *Store) DueIn(ctx context.Context, minute time.Time, shard int, start map[string]types.AttributeValue, limit int) (DuePage, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(indexDue),
		KeyConditionExpression:    aws.String("DuePK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: duePK(minute.UTC().Format(dueMinuteLayout), shard)}},
		Limit:                     aws.Int32(int32(limit)),
		ExclusiveStartKey:         start,
		ReturnConsumedCapacity:    capacity,
	})
	if err != nil {
		return DuePage{}, wrap("read due", err)
	}
	page := DuePage{Next: res.LastEvaluatedKey}
	for _, raw := range res.Items {
		var t struct{ T string }
		if err := attributevalue.UnmarshalMap(raw, &t); err != nil {
			return DuePage{}, wrap("read due", err)
		}
		switch t.T {
		case typeReminder:
			var it reminderItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return DuePage{}, wrap("read due", err)
			}
			page.Items = append(page.Items, Due{Reminder: it.reminder()})
		case typeDelivery:
			var it deliveryItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return DuePage{}, wrap("read due", err)
			}
			page.Items = append(page.Items, Due{Deferred: &DeliveryRef{StoreID: it.StoreID, ReminderID: it.ReminderID,
				MemberID: it.MemberID, Occurrence: it.Occurrence, Attempt: it.Attempt, Broadcast: it.Broadcast}})
		case typeCampaign:
			var it campaignItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return DuePage{}, wrap("read due", err)
			}
			c := it.campaign()
			page.Items = append(page.Items, Due{Campaign: &c})
		case typeOfferChunk:
			var it chunkItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return DuePage{}, wrap("read due", err)
			}
			c := it.chunk()
			page.Items = append(page.Items, Due{Chunk: &c})
		}
	}
	return page, nil
}

// Advance is a reminder after one of its occurrences was dispatched (reminder.Advance).
type Advance struct {
	Reminder reminder.Reminder // advanced: NextAt and LastAt moved, Status maybe done
	Was      time.Time         // the NextAt that was dispatched: the condition of the write
}

// AdvanceReminders writes advanced reminders, ≤ 100 per transaction, each only if its NextAt is
// still the occurrence dispatched — a reminder edited or advanced meanwhile is left alone. It
// returns how many were written. The advance bumps UpdatedAt, so a page that read the reminder
// before cannot write back a NextAt already sent (UpdateReminder's condition).
func (s *Store) AdvanceReminders(ctx context.Context, as []Advance, now time.Time) (int, error) {
	written := 0
	for len(as) > 0 {
		n := min(len(as), maxTransactItems)
		chunk := as[:n]
		as = as[n:]
		items := make([]types.TransactWriteItem, 0, n)
		for _, a := range chunk {
			u, err := s.advanceUpdate(a, now)
			if err != nil {
				return written, err
			}
			items = append(items, types.TransactWriteItem{Update: u})
		}
		w, err := s.transactSkippingFailed(ctx, items)
		written += w
		if err != nil {
			return written, wrap("advance reminders", err)
		}
	}
	return written, nil
}

func (s *Store) advanceUpdate(a Advance, now time.Time) (*types.Update, error) {
	r := a.Reminder
	pk, sk := reminderKey(r.StoreID, r.ID)
	was, err := attributevalue.Marshal(a.Was.UTC())
	if err != nil {
		return nil, err
	}
	last, err := attributevalue.Marshal(r.LastAt.UTC())
	if err != nil {
		return nil, err
	}
	upd, err := attributevalue.Marshal(now.UTC())
	if err != nil {
		return nil, err
	}
	vals := map[string]types.AttributeValue{":was": was, ":last": last, ":u": upd,
		":st": &types.AttributeValueMemberS{Value: string(r.Status)}, ":active": &types.AttributeValueMemberS{Value: string(reminder.StatusActive)}}
	expr := "SET LastAt = :last, UpdatedAt = :u, #S = :st"
	if r.Status == reminder.StatusActive && !r.NextAt.IsZero() {
		next, err := attributevalue.Marshal(r.NextAt.UTC())
		if err != nil {
			return nil, err
		}
		dpk, dsk := dueAttrs(r.StoreID, r.ID, r.NextAt)
		vals[":next"], vals[":dpk"], vals[":dsk"] = next, &types.AttributeValueMemberS{Value: dpk}, &types.AttributeValueMemberS{Value: dsk}
		expr += ", NextAt = :next, DuePK = :dpk, DueSK = :dsk"
	} else {
		expr += " REMOVE NextAt, DuePK, DueSK"
	}
	return &types.Update{TableName: &s.table, Key: key(pk, sk), UpdateExpression: aws.String(expr),
		ConditionExpression:       aws.String("NextAt = :was AND #S = :active"),
		ExpressionAttributeNames:  map[string]string{"#S": "Status"},
		ExpressionAttributeValues: vals}, nil
}

// transactSkippingFailed writes items in one transaction; when conditions fail, it writes the
// others again without them (at most six rounds), and returns how many were written. A
// transaction that conflicts with another is retried as a whole.
func (s *Store) transactSkippingFailed(ctx context.Context, items []types.TransactWriteItem) (int, error) {
	for round := 0; len(items) > 0; round++ {
		if round > 0 {
			if err := sleep(ctx, time.Duration(round*round)*25*time.Millisecond); err != nil {
				return 0, err
			}
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
		if err == nil {
			return len(items), nil
		}
		reasons := cancelReasons(err)
		if reasons == nil || round >= 5 {
			return 0, err
		}
		keep := items[:0:0]
		for i, r := range reasons {
			if r != "ConditionalCheckFailed" && i < len(items) {
				keep = append(keep, items[i])
			}
		}
		items = keep
	}
	return 0, nil
}

// Watermark returns the last minute the dispatcher finished, or zero before its first tick.
func (s *Store) Watermark(ctx context.Context) (time.Time, error) {
	pk, sk := dispatchWatermarkKey()
	var it struct{ Minute time.Time }
	switch err := s.getItemConsistent(ctx, pk, sk, &it); {
	case errors.Is(err, fail.ErrNotFound):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, wrap("read watermark", err)
	}
	return it.Minute, nil
}

// SetWatermark records that every minute up to and including minute is dispatched. It never
// moves back: a late, slow tick cannot undo a newer one.
func (s *Store) SetWatermark(ctx context.Context, minute time.Time) error {
	pk, sk := dispatchWatermarkKey()
	m, err := attributevalue.Marshal(minute.UTC())
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("SET #M = :m, T = :t"),
		ConditionExpression:       aws.String("attribute_not_exists(#M) OR #M < :m"),
		ExpressionAttributeNames:  map[string]string{"#M": "Minute"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":m": m, ":t": &types.AttributeValueMemberS{Value: "watermark"}},
		ReturnConsumedCapacity:    capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	return wrap("set watermark", err)
}

// ReleaseDeferred takes delivered-to-the-queue deferred deliveries out of the Due index.
func (s *Store) ReleaseDeferred(ctx context.Context, refs []DeliveryRef) error {
	for len(refs) > 0 {
		n := min(len(refs), maxTransactItems)
		items := make([]types.TransactWriteItem, 0, n)
		for _, r := range refs[:n] {
			pk, sk := r.key()
			items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
				UpdateExpression:    aws.String("REMOVE DuePK, DueSK"),
				ConditionExpression: aws.String("attribute_exists(PK)")}})
		}
		refs = refs[n:]
		if _, err := s.transactSkippingFailed(ctx, items); err != nil {
			return wrap("release deferred", err)
		}
	}
	return nil
}

// DeliveryContext is what the sender needs to deliver a batch: the reminders, the members'
// profiles and which occurrences are acknowledged already.
type DeliveryContext struct {
	Reminders map[string]reminder.Reminder // by reminder id
	Members   map[string]member.Member     // by member id
	acked     map[string]bool              // by reminder id + "/" + occurrence
}

// Acked reports whether an occurrence of a reminder was acknowledged when the context was read.
func (dc DeliveryContext) Acked(reminderID, occ string) bool { return dc.acked[reminderID+"/"+occ] }

// LoadDeliveryContext reads the reminders, profiles and acknowledgements of refs in one
// BatchGetItem per 100 keys (a batch of ten messages: one call).
func (s *Store) LoadDeliveryContext(ctx context.Context, refs []DeliveryRef) (DeliveryContext, error) {
	out := DeliveryContext{Reminders: map[string]reminder.Reminder{}, Members: map[string]member.Member{}, acked: map[string]bool{}}
	seen := map[[2]string]bool{}
	var keys [][2]string
	add := func(pk, sk string) {
		k := [2]string{pk, sk}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, r := range refs {
		add(reminderKey(r.StoreID, r.ReminderID))
		add(memberKey(r.StoreID, r.MemberID))
		add(ackKey(r.StoreID, r.ReminderID, r.Occurrence))
	}
	for len(keys) > 0 {
		n := min(len(keys), 100)
		items, err := s.batchGet(ctx, keys[:n])
		if err != nil {
			return DeliveryContext{}, wrap("load delivery context", err)
		}
		keys = keys[n:]
		for _, raw := range items {
			var t struct{ T string }
			if err := attributevalue.UnmarshalMap(raw, &t); err != nil {
				return DeliveryContext{}, err
			}
			switch t.T {
			case typeReminder:
				var it reminderItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return DeliveryContext{}, err
				}
				out.Reminders[it.ID] = it.reminder()
			case typeMember:
				var it memberItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return DeliveryContext{}, err
				}
				m, err := s.memberFrom(ctx, it)
				if err != nil {
					return DeliveryContext{}, err
				}
				out.Members[m.ID] = m
			case typeAck:
				var it ackItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return DeliveryContext{}, err
				}
				// The reminder id is the middle of the partition key.
				out.acked[reminderOfPK(it.PK)+"/"+it.Occurrence] = true
			}
		}
	}
	return out, nil
}

// reminderOfPK returns the reminder id of a reminder partition key.
func reminderOfPK(pk string) string {
	_, id, _ := strings.Cut(pk, "#REMINDER#")
	return id
}

// Claim is a claim on one delivery, held until recorded or expired.
type Claim struct {
	Ref   DeliveryRef
	Token string
}

// ClaimResult says what became of one claim attempt.
type ClaimResult int

// Claim results.
const (
	Claimed ClaimResult = iota + 1
	// AlreadyDone: someone recorded the outcome; this message is a duplicate.
	AlreadyDone
	// Busy: another sender holds a live claim; retry later (it may crash).
	Busy
)

// ClaimDeliveries claims refs (≤ 100, distinct) in one transaction, retrying without the ones
// another sender holds or finished. Each ref's result is at the same index.
func (s *Store) ClaimDeliveries(ctx context.Context, refs []DeliveryRef, now time.Time) ([]Claim, []ClaimResult, error) {
	if len(refs) > maxTransactItems {
		return nil, nil, fmt.Errorf("claim deliveries: %d refs, at most %d", len(refs), maxTransactItems)
	}
	claims := make([]Claim, len(refs))
	results := make([]ClaimResult, len(refs))
	pending := make([]int, 0, len(refs))
	for i, r := range refs {
		claims[i] = Claim{Ref: r, Token: newClaimToken()}
		pending = append(pending, i)
	}
	for round := 0; len(pending) > 0; round++ {
		if round > 4 {
			return nil, nil, errors.New("claim deliveries: transaction kept conflicting")
		}
		items := make([]types.TransactWriteItem, 0, len(pending))
		for _, i := range pending {
			put, err := s.claimPut(claims[i], now)
			if err != nil {
				return nil, nil, err
			}
			items = append(items, types.TransactWriteItem{Put: put})
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
		if err == nil {
			for _, i := range pending {
				results[i] = Claimed
			}
			return claims, results, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return nil, nil, wrap("claim deliveries", err)
		}
		next := pending[:0:0]
		for j, reason := range tce.CancellationReasons {
			if j >= len(pending) {
				break
			}
			i := pending[j]
			if aws.ToString(reason.Code) != "ConditionalCheckFailed" {
				next = append(next, i)
				continue
			}
			var old deliveryItem
			if err := attributevalue.UnmarshalMap(reason.Item, &old); err == nil && old.State == DeliveryClaimed {
				results[i] = Busy
			} else {
				results[i] = AlreadyDone
			}
		}
		if pending = next; len(pending) > 0 { // a conflict with another transaction: wait, then again
			if err := sleep(ctx, time.Duration(round+1)*30*time.Millisecond); err != nil {
				return nil, nil, err
			}
		}
	}
	return claims, results, nil
}

func (s *Store) claimPut(c Claim, now time.Time) (*types.Put, error) {
	pk, sk := c.Ref.key()
	it := deliveryItem{PK: pk, SK: sk, T: typeDelivery, StoreID: c.Ref.StoreID, ReminderID: c.Ref.ReminderID,
		MemberID: c.Ref.MemberID, Broadcast: c.Ref.Broadcast, Occurrence: c.Ref.Occurrence, Attempt: c.Ref.Attempt,
		State: DeliveryClaimed, Token: c.Token, ClaimUntil: now.Add(ClaimTTL).UnixMilli(), Claims: 1,
		At: now.UTC(), ExpiresAt: ttl(now.Add(DeliveryRetention))}
	if c.Ref.Broadcast != "" {
		it.GSI1PK, it.GSI1SK = broadcastDeliveriesKey(c.Ref.StoreID, c.Ref.Broadcast, DeliveryClaimed, c.Ref.MemberID)
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, err
	}
	// A deferred delivery (quiet hours) is claimable too: it was released to the queue.
	return &types.Put{TableName: &s.table, Item: av,
		ConditionExpression:                 aws.String("attribute_not_exists(PK) OR #S = :deferred OR (#S = :claimed AND ClaimUntil < :now)"),
		ExpressionAttributeNames:            map[string]string{"#S": "State"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":deferred": &types.AttributeValueMemberS{Value: DeliveryDeferred}, ":claimed": &types.AttributeValueMemberS{Value: DeliveryClaimed}, ":now": &types.AttributeValueMemberN{Value: fmt.Sprint(now.UnixMilli())}},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}, nil
}

func newClaimToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails on Linux
	return hex.EncodeToString(b)
}

// Outcome is what became of a claimed delivery.
type Outcome struct {
	Claim      Claim
	State      string // DeliverySent, DeliveryFailed, DeliverySuppressed, DeliveryExpired, or "" to release the claim for a retry
	Channel    string
	Provider   string
	ProviderID string
	Reason     string
	At         time.Time
}

// RecordOutcomes records outcomes (≤ 100) in one transaction, each only while its claim is
// still ours; it returns how many were recorded. An outcome with an empty State releases the
// claim (a transient failure: the message is retried and claims again at once).
func (s *Store) RecordOutcomes(ctx context.Context, outs []Outcome) (int, error) {
	if len(outs) > maxTransactItems {
		return 0, fmt.Errorf("record outcomes: %d, at most %d", len(outs), maxTransactItems)
	}
	items := make([]types.TransactWriteItem, 0, len(outs))
	for _, o := range outs {
		pk, sk := o.Claim.Ref.key()
		at, err := attributevalue.Marshal(o.At.UTC())
		if err != nil {
			return 0, err
		}
		vals := map[string]types.AttributeValue{":tok": &types.AttributeValueMemberS{Value: o.Claim.Token}, ":at": at}
		names := map[string]string{"#A": "At", "#Tok": "Token"}
		expr := "SET ClaimUntil = :zero, #A = :at"
		vals[":zero"] = &types.AttributeValueMemberN{Value: "0"}
		if o.State != "" {
			delete(vals, ":zero")
			names["#S"] = "State"
			expr = "SET #S = :st, #A = :at, Channel = :ch, Provider = :pr, ProviderID = :pid, Reason = :re"
			vals[":st"] = &types.AttributeValueMemberS{Value: o.State}
			vals[":ch"] = &types.AttributeValueMemberS{Value: o.Channel}
			vals[":pr"] = &types.AttributeValueMemberS{Value: o.Provider}
			vals[":pid"] = &types.AttributeValueMemberS{Value: o.ProviderID}
			vals[":re"] = &types.AttributeValueMemberS{Value: o.Reason}
			if o.Claim.Ref.Broadcast != "" {
				gpk, gsk := broadcastDeliveriesKey(o.Claim.Ref.StoreID, o.Claim.Ref.Broadcast, o.State, o.Claim.Ref.MemberID)
				expr += ", GSI1PK = :gpk, GSI1SK = :gsk"
				vals[":gpk"], vals[":gsk"] = &types.AttributeValueMemberS{Value: gpk}, &types.AttributeValueMemberS{Value: gsk}
			}
			expr += " REMOVE #Tok, ClaimUntil"
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
			UpdateExpression: aws.String(expr), ConditionExpression: aws.String("#Tok = :tok"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals}})
	}
	n, err := s.transactSkippingFailed(ctx, items)
	return n, wrap("record outcomes", err)
}

// Defer holds a claimed delivery back until at (quiet hours): the item joins the Due index at
// that minute and the dispatcher sends it to the queue again then. Only while the claim is ours.
func (s *Store) Defer(ctx context.Context, c Claim, at, now time.Time) error {
	pk, sk := c.Ref.key()
	minute := at.UTC().Truncate(time.Minute)
	if minute.Before(at) {
		minute = minute.Add(time.Minute)
	}
	dpk := duePK(minute.Format(dueMinuteLayout), dueShard(c.Ref.ReminderID))
	due, err := attributevalue.Marshal(minute)
	if err != nil {
		return err
	}
	nowAV, err := attributevalue.Marshal(now.UTC())
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("SET #S = :st, DuePK = :dpk, DueSK = :dsk, DueAt = :due, #A = :now REMOVE #Tok, ClaimUntil"),
		ConditionExpression:      aws.String("#Tok = :tok"),
		ExpressionAttributeNames: map[string]string{"#S": "State", "#A": "At", "#Tok": "Token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": &types.AttributeValueMemberS{Value: DeliveryDeferred}, ":dpk": &types.AttributeValueMemberS{Value: dpk},
			":dsk": &types.AttributeValueMemberS{Value: c.Ref.StoreID + "#" + c.Ref.ReminderID + "#" + c.Ref.Occurrence + "#" + c.Ref.Attempt},
			":due": due, ":now": nowAV, ":tok": &types.AttributeValueMemberS{Value: c.Token}},
		ReturnConsumedCapacity: capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // the claim expired and another sender has it
	}
	return wrap("defer delivery", err)
}

// AddStaffAlert records an alert to the store's staff, once per (reminder, occurrence).
func (s *Store) AddStaffAlert(ctx context.Context, a StaffAlert) error {
	pk, sk := staffAlertKey(a.StoreID, a.Occurrence, a.ReminderID, a.Occurrence) // once per occurrence
	it := staffAlertItem{PK: pk, SK: sk, T: typeStaffAlert, StoreID: a.StoreID, ReminderID: a.ReminderID, MemberID: a.MemberID,
		MemberName: a.MemberName, Kind: string(a.Kind), Text: a.Text, Occurrence: a.Occurrence, At: a.At.UTC(),
		ExpiresAt: ttl(a.At.Add(DeliveryRetention))}
	if err := s.putNew(ctx, it); err != nil && !errors.Is(err, ErrExists) {
		return wrap("add staff alert", err)
	}
	return nil
}

type staffAlertItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	T          string    `dynamodbav:"T"`
	StoreID    string    `dynamodbav:"StoreID"`
	ReminderID string    `dynamodbav:"ReminderID"`
	MemberID   string    `dynamodbav:"MemberID"`
	MemberName string    `dynamodbav:"MemberName"`
	Kind       string    `dynamodbav:"Kind"`
	Text       string    `dynamodbav:"Text"`
	Occurrence string    `dynamodbav:"Occurrence"`
	At         time.Time `dynamodbav:"At"`
	ExpiresAt  int64     `dynamodbav:"ExpiresAt"`
}

func (it staffAlertItem) alert() StaffAlert {
	return StaffAlert{StoreID: it.StoreID, ReminderID: it.ReminderID, MemberID: it.MemberID, MemberName: it.MemberName,
		Kind: reminder.Kind(it.Kind), Text: it.Text, Occurrence: it.Occurrence, At: it.At}
}

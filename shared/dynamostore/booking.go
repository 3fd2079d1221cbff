package dynamostore

// Booking a seat, cancelling one, and handing freed seats to the waitlist (see qa.go for how
// seats and tickets are counted).

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
)

// BookRequest is one member's request for a seat.
type BookRequest struct {
	StoreID   string
	SessionID string
	MemberID  string
	Question  qa.Question
	Via       reminder.Via
	By        string
	// LinkHash is the hash of the booking's page token (qa.BookingToken).
	LinkHash string
	Notices  NoticeFunc
	Now      time.Time
}

// BookResult is the booking as it stands after a request: new, or — for a member who had a
// live booking already (a double tap, a retry) — the one they had, with Replayed set.
type BookResult struct {
	Booking  qa.Booking
	Session  qa.Session
	Replayed bool
}

// Book gives the member a seat, or a place on the waitlist when the session is full. A member
// with a live booking of the session gets it back unchanged. Refusals change nothing:
// qa.ErrSessionNotFound, the session's own (qa.Session.Open), qa.ErrNotInTargetGroups,
// qa.ErrUnverified, member.ErrNotFound, qa.ErrTooManyUpcoming, and qa.ErrBusy when every
// attempt lost a race.
//
// Typically three calls in all with the caller's credential check: one UpdateItem that reads
// the session (and, if it is full, takes a waitlist ticket), then one transaction.
func (s *Store) Book(ctx context.Context, r BookRequest) (BookResult, error) {
	now := r.Now.UTC().Truncate(time.Second)
	var (
		sess             qa.Session
		ticket, position int
	)
	for attempt := 0; attempt < bookAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				if ticket > 0 {
					s.dropTicket(context.WithoutCancel(ctx), r.StoreID, r.SessionID)
				}
				return BookResult{}, err
			}
		}
		if ticket == 0 {
			var err error
			if sess, ticket, position, err = s.ticketOrRead(ctx, r.StoreID, r.SessionID, now); err != nil {
				return BookResult{}, err
			}
		}
		res, next, err := s.book(ctx, r, sess, ticket, position, now)
		if err == nil && next == retrySame {
			continue // another transaction held an item: the same ticket is still good
		}
		if ticket > 0 && (err != nil || next == reread || res.Replayed) {
			// The ticket went unused: count it out, so the positions told to later people
			// stay right. (A crash here leaves them one too high until they next look.)
			s.dropTicket(ctx, r.StoreID, r.SessionID)
			ticket = 0
		}
		if err != nil || next == done {
			return res, err
		}
	}
	if ticket > 0 {
		s.dropTicket(ctx, r.StoreID, r.SessionID)
	}
	return BookResult{}, qa.ErrBusy
}

// attemptOutcome says what a booking attempt leaves to do.
type attemptOutcome int

const (
	done      attemptOutcome = iota
	retrySame                // a transaction conflict: try the same plan again
	reread                   // the seat count moved or the session closed: read it again
)

// backoff is the wait before retry attempt n: growing to 10–20 ms × 2^4, each wait drawn at
// random so that the losers of one race do not meet again at the next. Loops that count from 0
// call it with 0 after their first try, which waits as long as 1.
func backoff(attempt int) time.Duration {
	base := (10 * time.Millisecond) << min(max(attempt-1, 0), 4)
	return base + rand.N(base)
}

// Notices is the NoticeFunc every caller uses: qa.Session.Reminders, each reminder with a new
// id, who made it, and the hash of its page token (reminder.LinkToken under key). Who made it
// is whoever acted — but a promotion's reminders are the promoted member's own: their seat came
// from someone else's cancellation (or erasure), which must leave no trace of that someone.
func Notices(key []byte, by string, via reminder.Via, now time.Time) NoticeFunc {
	return func(s qa.Session, b qa.Booking, n qa.Notice) ([]LinkedReminder, error) {
		rs, err := s.Reminders(b, n, now)
		if err != nil {
			return nil, err
		}
		by, via := by, via // this call's, not the closure's: the func serves many calls
		if n == qa.NoticePromoted {
			by, via = b.MemberID, reminder.ViaMember
		}
		out := make([]LinkedReminder, len(rs))
		for i, r := range rs {
			r.ID = ids.New()
			r.CreatedBy, r.CreatedVia, r.UpdatedBy, r.UpdatedVia = by, via, by, via
			out[i] = LinkedReminder{Reminder: r, LinkHash: member.HashToken(reminder.LinkToken(key, r.StoreID, r.ID))}
		}
		return out, nil
	}
}

// ticketOrRead reads the session and, if it is open and full, takes the next waitlist ticket in
// the same call; position is where that ticket stands on the waitlist now. A session that
// refuses bookings answers its reason.
func (s *Store) ticketOrRead(ctx context.Context, store, id string, now time.Time) (qa.Session, int, int, error) {
	pk, sk := qaSessionKey(store, id)
	nowAV, err := attributevalue.Marshal(now)
	if err != nil {
		return qa.Session{}, 0, 0, err
	}
	res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              key(pk, sk),
		UpdateExpression: aws.String("ADD Tickets :one"),
		ConditionExpression: aws.String("#Status = :scheduled AND Confirmed >= #Cap AND OpensAt <= :now AND " +
			"ClosesAt > :now"),
		ExpressionAttributeNames: map[string]string{"#Status": "Status", "#Cap": "Capacity"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"},
			":scheduled": &types.AttributeValueMemberS{Value: string(qa.SessionScheduled)}, ":now": nowAV},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if len(ccf.Item) == 0 {
			return qa.Session{}, 0, 0, qa.ErrSessionNotFound
		}
		var it qaSessionItem
		if err := attributevalue.UnmarshalMap(ccf.Item, &it); err != nil {
			return qa.Session{}, 0, 0, wrap("book", err)
		}
		sess := it.session()
		if err := sess.Open(now); err != nil {
			return qa.Session{}, 0, 0, err
		}
		return sess, 0, 0, nil // seats left
	case err != nil:
		return qa.Session{}, 0, 0, wrap("book", err)
	}
	var it qaSessionItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return qa.Session{}, 0, 0, wrap("book", err)
	}
	return it.session(), it.Tickets, it.Tickets - it.WaitRemoved, nil
}

// dropTicket counts an unused ticket out. Best effort: it only keeps later positions exact.
func (s *Store) dropTicket(ctx context.Context, store, id string) {
	pk, sk := qaSessionKey(store, id)
	_, _ = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("ADD WaitRemoved :one"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		ReturnConsumedCapacity:    capacity,
	})
}

// book makes one attempt: a seat when ticket is 0, else a place on the waitlist with ticket.
func (s *Store) book(ctx context.Context, r BookRequest, sess qa.Session, ticket, position int, now time.Time) (BookResult, attemptOutcome, error) {
	if sess.MaxUpcoming > 0 {
		n, err := s.countUpcoming(ctx, r.StoreID, r.MemberID, now)
		if err != nil {
			return BookResult{}, done, err
		}
		if n >= sess.MaxUpcoming {
			// A live booking of this very session is counted too: let the transaction
			// replay it rather than refuse it.
			if cur, err := s.liveBooking(ctx, r.StoreID, r.SessionID, r.MemberID); err != nil || cur != nil {
				if cur != nil {
					return BookResult{Booking: *cur, Session: sess, Replayed: true}, done, nil
				}
				return BookResult{}, done, err
			}
			return BookResult{}, done, qa.ErrTooManyUpcoming
		}
	}
	group, err := s.targetGroup(ctx, sess, r.MemberID)
	if err != nil {
		return BookResult{}, done, err
	}
	b := qa.Booking{StoreID: r.StoreID, SessionID: sess.ID, MemberID: r.MemberID, Status: qa.BookingConfirmed,
		Question: r.Question, Via: r.Via, By: r.By, CreatedAt: now, UpdatedAt: now}
	var items []types.TransactWriteItem
	var reminders []LinkedReminder
	if ticket == 0 {
		if reminders, err = r.Notices(sess, b, qa.NoticeConfirmed); err != nil {
			return BookResult{}, done, err
		}
		for _, lr := range reminders {
			b.ReminderIDs = append(b.ReminderIDs, lr.Reminder.ID)
		}
		items = append(items, s.seatUpdate(sess, now))
		items = append(items, s.groupCounters(sess, map[string]int{"Bookings": 1})...)
	} else {
		b.Status, b.Ticket, b.Position = qa.BookingWaitlisted, ticket, position
		items = append(items, s.waitlistJoin(sess, now))
		wpk, wsk := waitKey(r.StoreID, sess.ID, ticket)
		wait, err := s.put(waitItem{PK: wpk, SK: wsk, T: typeWait, MemberID: r.MemberID, Ticket: ticket, ExpiresAt: ttl(sess.EndAt.Add(BookingRetention))}, "attribute_not_exists(PK)")
		if err != nil {
			return BookResult{}, done, err
		}
		items = append(items, wait)
	}
	bookingPut, err := s.put(toBookingItem(sess, b), "attribute_not_exists(PK) OR #Status = :cancelled")
	if err != nil {
		return BookResult{}, done, err
	}
	bookingPut.Put.ExpressionAttributeNames = map[string]string{"#Status": "Status"}
	bookingPut.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":cancelled": &types.AttributeValueMemberS{Value: string(qa.BookingCancelled)}}
	bookingPut.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	bookingAt := len(items)
	items = append(items, bookingPut)
	mirror, err := s.put(toMemberBookingItem(sess, b), "")
	if err != nil {
		return BookResult{}, done, err
	}
	lpk, lsk := bookingLinkKey(r.LinkHash)
	link, err := s.put(bookingLinkItem{PK: lpk, SK: lsk, T: typeBookingLink, StoreID: r.StoreID, SessionID: sess.ID, MemberID: r.MemberID,
		ExpiresAt: ttl(sess.EndAt.Add(BookingRetention))}, "")
	if err != nil {
		return BookResult{}, done, err
	}
	items = append(items, mirror, link)
	profileAt := len(items)
	mpk, msk := memberKey(r.StoreID, r.MemberID)
	items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(mpk, msk),
		ConditionExpression:                 aws.String("attribute_exists(VerifiedAt)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}})
	groupAt := -1
	if group != "" {
		groupAt = len(items)
		gpk, gsk := membershipKey(r.StoreID, r.MemberID, group)
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(gpk, gsk),
			ConditionExpression:       aws.String("#Status = :active"),
			ExpressionAttributeNames:  map[string]string{"#Status": "Status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":active": &types.AttributeValueMemberS{Value: string(member.StatusActive)}}}})
	}
	for _, lr := range reminders {
		more, err := s.reminderPuts(lr)
		if err != nil {
			return BookResult{}, done, err
		}
		items = append(items, more...)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
	if err == nil {
		return BookResult{Booking: b, Session: sess}, done, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return BookResult{}, done, wrap("book", err)
	}
	reasons := tce.CancellationReasons
	code := func(i int) string {
		if i < 0 || i >= len(reasons) {
			return ""
		}
		return aws.ToString(reasons[i].Code)
	}
	switch {
	case code(bookingAt) == "ConditionalCheckFailed":
		var cur bookingItem
		if err := attributevalue.UnmarshalMap(reasons[bookingAt].Item, &cur); err != nil {
			return BookResult{}, done, wrap("book", err)
		}
		got := cur.booking()
		if got.Status == qa.BookingWaitlisted {
			if got.Position, err = s.waitPosition(ctx, r.StoreID, sess.ID, got.Ticket); err != nil {
				return BookResult{}, done, err
			}
		}
		return BookResult{Booking: got, Session: sess, Replayed: true}, done, nil
	case code(profileAt) == "ConditionalCheckFailed":
		if len(reasons[profileAt].Item) == 0 {
			return BookResult{}, done, member.ErrNotFound
		}
		return BookResult{}, done, qa.ErrUnverified
	case code(groupAt) == "ConditionalCheckFailed":
		return BookResult{}, done, qa.ErrNotInTargetGroups
	case code(0) == "ConditionalCheckFailed":
		// The seat count moved (a seat went, or one came free) or the session closed
		// meanwhile: read it again.
		return BookResult{}, reread, nil
	case lostRace(err):
		return BookResult{}, retrySame, nil
	}
	return BookResult{}, done, wrap("book", err)
}

// seatUpdate takes a seat, on the condition that the session still takes bookings and has one
// free.
func (s *Store) seatUpdate(sess qa.Session, now time.Time) types.TransactWriteItem {
	pk, sk := qaSessionKey(sess.StoreID, sess.ID)
	nowAV, _ := attributevalue.Marshal(now)
	return types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
		UpdateExpression: aws.String("ADD Confirmed :one"),
		ConditionExpression: aws.String("#Status = :scheduled AND Confirmed < #Cap AND OpensAt <= :now AND " +
			"ClosesAt > :now"),
		ExpressionAttributeNames: map[string]string{"#Status": "Status", "#Cap": "Capacity"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"},
			":scheduled": &types.AttributeValueMemberS{Value: string(qa.SessionScheduled)}, ":now": nowAV}}}
}

// waitlistJoin counts one more on the waitlist, on the condition that the session still takes
// bookings and is still full.
func (s *Store) waitlistJoin(sess qa.Session, now time.Time) types.TransactWriteItem {
	pk, sk := qaSessionKey(sess.StoreID, sess.ID)
	nowAV, _ := attributevalue.Marshal(now)
	return types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
		UpdateExpression: aws.String("ADD Waiting :one"),
		ConditionExpression: aws.String("#Status = :scheduled AND Confirmed >= #Cap AND OpensAt <= :now AND " +
			"ClosesAt > :now"),
		ExpressionAttributeNames: map[string]string{"#Status": "Status", "#Cap": "Capacity"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"},
			":scheduled": &types.AttributeValueMemberS{Value: string(qa.SessionScheduled)}, ":now": nowAV}}}
}

// reminderPuts are the writes that create one reminder with its page link.
func (s *Store) reminderPuts(lr LinkedReminder) ([]types.TransactWriteItem, error) {
	rem, err := s.put(toReminderItem(lr.Reminder), "attribute_not_exists(PK)")
	if err != nil {
		return nil, err
	}
	link, err := s.put(reminderLinkFor(lr.Reminder, lr.LinkHash), "")
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{rem, link}, nil
}

// reminderCancels are the writes that cancel a booking's reminders: each stops ringing (out of
// the Due index). One that was sent already reads "cancelled" too, as the booking does.
func (s *Store) reminderCancels(store string, ids []string, by string, via reminder.Via, now time.Time) []types.TransactWriteItem {
	out := make([]types.TransactWriteItem, 0, len(ids))
	nowAV, _ := attributevalue.Marshal(now.UTC())
	for _, id := range ids {
		pk, sk := reminderKey(store, id)
		out = append(out, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
			UpdateExpression:         aws.String("SET #Status = :cancelled, UpdatedAt = :now, UpdatedBy = :by, UpdatedVia = :via REMOVE DuePK, DueSK, NextAt"),
			ConditionExpression:      aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames: map[string]string{"#Status": "Status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":cancelled": &types.AttributeValueMemberS{Value: string(reminder.StatusCancelled)}, ":now": nowAV,
				":by": &types.AttributeValueMemberS{Value: by}, ":via": &types.AttributeValueMemberS{Value: string(via)}}}})
	}
	return out
}

// targetGroup is the group whose membership entitles the member to book sess: "" when the
// session is for everyone. With one target group the transaction checks it without a read;
// with several, the member's memberships of them are read once to find one that is active.
func (s *Store) targetGroup(ctx context.Context, sess qa.Session, memberID string) (string, error) {
	switch len(sess.TargetGroups) {
	case 0:
		return "", nil
	case 1:
		return sess.TargetGroups[0], nil
	}
	keys := make([][2]string, len(sess.TargetGroups))
	for i, g := range sess.TargetGroups {
		pk, sk := membershipKey(sess.StoreID, memberID, g)
		keys[i] = [2]string{pk, sk}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return "", wrap("book", err)
	}
	for _, raw := range items {
		var it membershipItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return "", wrap("book", err)
		}
		if it.Status == string(member.StatusActive) {
			return it.GroupID, nil
		}
	}
	return "", qa.ErrNotInTargetGroups
}

// countUpcoming counts a member's live bookings of sessions that have not started.
func (s *Store) countUpcoming(ctx context.Context, store, memberID string, now time.Time) (int, error) {
	pk, from := memberBookingKey(store, memberID, now.UTC().Format(sessionTimeLayout), "")
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                &s.table,
		KeyConditionExpression:   aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		FilterExpression:         aws.String("#Status IN (:c, :w)"),
		ExpressionAttributeNames: map[string]string{"#Status": "Status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk},
			":from": &types.AttributeValueMemberS{Value: from}, ":to": &types.AttributeValueMemberS{Value: skMemberSessionPfx + "~"},
			":c": &types.AttributeValueMemberS{Value: string(qa.BookingConfirmed)},
			":w": &types.AttributeValueMemberS{Value: string(qa.BookingWaitlisted)}},
		Select:                 types.SelectCount,
		Limit:                  aws.Int32(200),
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return 0, wrap("count bookings", err)
	}
	return int(res.Count), nil
}

// liveBooking returns the member's booking of a session if it holds a seat or a place.
func (s *Store) liveBooking(ctx context.Context, store, session, memberID string) (*qa.Booking, error) {
	b, err := s.GetBooking(ctx, store, session, memberID)
	switch {
	case errors.Is(err, qa.ErrBookingNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case !b.Status.Live():
		return nil, nil
	}
	return &b, nil
}

// GetBooking returns one member's booking of a session (with its waitlist position), or
// qa.ErrBookingNotFound.
func (s *Store) GetBooking(ctx context.Context, store, session, memberID string) (qa.Booking, error) {
	b, err := s.getBooking(ctx, store, session, memberID)
	if err == nil && b.Status == qa.BookingWaitlisted {
		b.Position, err = s.waitPosition(ctx, store, session, b.Ticket)
	}
	return b, err
}

// getBooking reads a booking without its waitlist position.
func (s *Store) getBooking(ctx context.Context, store, session, memberID string) (qa.Booking, error) {
	pk, sk := bookingKey(store, session, memberID)
	var it bookingItem
	if err := s.getItemConsistent(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return qa.Booking{}, qa.ErrBookingNotFound
		}
		return qa.Booking{}, wrap("get booking", err)
	}
	return it.booking(), nil
}

// waitPosition is the place of ticket on a session's waitlist: how many wait with a ticket no
// later than it. (A count of small items: a waitlist of 500 reads about 25 KB.)
func (s *Store) waitPosition(ctx context.Context, store, session string, ticket int) (int, error) {
	pk, first := waitKey(store, session, 0)
	_, last := waitKey(store, session, ticket)
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :first AND :last"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk},
			":first": &types.AttributeValueMemberS{Value: first}, ":last": &types.AttributeValueMemberS{Value: last}},
		Select:                 types.SelectCount,
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return 0, wrap("waitlist position", err)
	}
	return int(res.Count), nil
}

// ---- Cancelling and promoting ----

// CancelRequest is a member's (or their family helper's, or staff's) cancellation of their
// booking.
type CancelRequest struct {
	StoreID   string
	SessionID string
	MemberID  string
	By        string
	Via       reminder.Via
	Notices   NoticeFunc
	Now       time.Time
}

// CancelResult is the cancelled booking and, if its seat went to the first on the waitlist,
// that member's booking as the promotion wrote it: member, status, ticket, reminders — not its
// question or who made it, which the promotion leaves as they were without reading them.
type CancelResult struct {
	Booking  qa.Booking
	Session  qa.Session
	Promoted *qa.Booking
}

// CancelBooking cancels a member's live booking, with its reminders. A seat goes, in the same
// transaction, to the first on the waitlist, who gets the reminders a seat brings and a
// notice; with nobody waiting it is free again. A place on the waitlist is given up. An
// already cancelled booking answers as it is; a session that has started refuses
// (qa.ErrSessionPast).
func (s *Store) CancelBooking(ctx context.Context, r CancelRequest) (CancelResult, error) {
	now := r.Now.UTC().Truncate(time.Second)
	var b qa.Booking
	next := reread
	for attempt := 0; attempt < cancelAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return CancelResult{}, err
			}
		}
		sess, head, err := s.sessionWithHead(ctx, r.StoreID, r.SessionID)
		if err != nil {
			return CancelResult{}, err
		}
		if next == reread {
			// Losing the race for the head of the waitlist leaves this booking as it was:
			// only the session and its head are read again.
			if b, err = s.getBooking(ctx, r.StoreID, r.SessionID, r.MemberID); err != nil {
				return CancelResult{}, err
			}
		}
		if b.Status == qa.BookingCancelled {
			return CancelResult{Booking: b, Session: sess}, nil
		}
		if head != nil && head.MemberID == b.MemberID && b.Status == qa.BookingConfirmed {
			// Promoted between the two reads: the head read is already gone. Read again.
			next = reread
			continue
		}
		if sess.Past(now) {
			return CancelResult{}, qa.ErrSessionPast
		}
		var res CancelResult
		if res, next, err = s.cancel(ctx, r, sess, b, head, now); err != nil || next == done {
			return res, err
		}
	}
	return CancelResult{}, qa.ErrBusy
}

// cancelAttempts bounds a cancellation's rounds. More than a booking's: cancellations that
// each hand their seat on race for the same head of the waitlist, and every round only one wins.
const cancelAttempts = 3 * bookAttempts

// sessionWithHead reads a session and the first place on its waitlist (nil when nobody
// waits) in one Query.
func (s *Store) sessionWithHead(ctx context.Context, store, id string) (qa.Session, *waitItem, error) {
	pk, sk := qaSessionKey(store, id)
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK >= :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk},
			":s": &types.AttributeValueMemberS{Value: sk}},
		Limit:                  aws.Int32(2),
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return qa.Session{}, nil, wrap("get session", err)
	}
	var sess *qa.Session
	var head *waitItem
	for _, raw := range res.Items {
		var t struct{ T string }
		if err := attributevalue.UnmarshalMap(raw, &t); err != nil {
			return qa.Session{}, nil, wrap("get session", err)
		}
		switch t.T {
		case typeQASession:
			var it qaSessionItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return qa.Session{}, nil, wrap("get session", err)
			}
			v := it.session()
			sess = &v
		case typeWait:
			var it waitItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return qa.Session{}, nil, wrap("get session", err)
			}
			head = &it
		}
	}
	if sess == nil {
		return qa.Session{}, nil, qa.ErrSessionNotFound
	}
	return *sess, head, nil
}

// cancel makes one attempt at cancelling b: done, or a race lost — for the session's counts or
// the head of its waitlist (retrySame: b itself is as it was), or for b (reread).
func (s *Store) cancel(ctx context.Context, r CancelRequest, sess qa.Session, b qa.Booking, head *waitItem, now time.Time) (CancelResult, attemptOutcome, error) {
	prevStatus := b.Status
	b.Status, b.CancelledAt, b.CancelledBy, b.CancelledVia, b.UpdatedAt = qa.BookingCancelled, now, r.By, r.Via, now
	b.Position = 0
	items, err := s.bookingStatusWrites(sess, b, prevStatus, now)
	if err != nil {
		return CancelResult{}, done, err
	}
	items = append(items, s.reminderCancels(r.StoreID, b.ReminderIDs, r.By, r.Via, now)...)
	pk, sk := qaSessionKey(sess.StoreID, sess.ID)
	var promoted *qa.Booking
	switch {
	case prevStatus == qa.BookingWaitlisted:
		wpk, wsk := waitKey(sess.StoreID, sess.ID, b.Ticket)
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(wpk, wsk)}},
			counterChange(s.table, pk, sk, map[string]int{"Waiting": -1, "WaitRemoved": 1}, ""))
	case head == nil:
		// Nobody waits: the seat is free again — on the condition that still nobody waits.
		items = append(items, counterChange(s.table, pk, sk, map[string]int{"Confirmed": -1}, "Waiting = :zero"))
		items = append(items, s.groupCounters(sess, map[string]int{"Bookings": -1})...)
	default:
		p, more, err := s.promotion(sess, *head, r.Notices, now)
		if err != nil {
			return CancelResult{}, done, err
		}
		promoted = &p
		items = append(items, more...)
		items = append(items, counterChange(s.table, pk, sk, map[string]int{"Waiting": -1, "WaitRemoved": 1}, "Waiting > :zero"))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
	switch {
	case err == nil:
		return CancelResult{Booking: b, Session: sess, Promoted: promoted}, done, nil
	case !lostRace(err):
		return CancelResult{}, done, wrap("cancel booking", err)
	}
	if reasons := cancelReasons(err); len(reasons) > 0 && reasons[0] == "ConditionalCheckFailed" {
		return CancelResult{}, reread, nil // the booking itself changed (promoted, or cancelled)
	}
	return CancelResult{}, retrySame, nil
}

// lostRace reports a transaction cancelled because what it read changed (a condition) or
// another transaction held an item: reading again and retrying is the answer.
func lostRace(err error) bool {
	var conflict *types.TransactionConflictException
	var inProgress *types.TransactionInProgressException
	if errors.As(err, &conflict) || errors.As(err, &inProgress) {
		return true
	}
	for _, c := range cancelReasons(err) {
		switch c {
		case "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			return true
		}
	}
	return false
}

// bookingStatusWrites move a booking, and the member's copy of it, to b's status, on the
// condition that it is still in prev.
func (s *Store) bookingStatusWrites(sess qa.Session, b qa.Booking, prev qa.BookingStatus, now time.Time) ([]types.TransactWriteItem, error) {
	put, err := s.put(toBookingItem(sess, b), "#Status = :prev")
	if err != nil {
		return nil, err
	}
	put.Put.ExpressionAttributeNames = map[string]string{"#Status": "Status"}
	put.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberS{Value: string(prev)}}
	mirror, err := s.put(toMemberBookingItem(sess, b), "")
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{put, mirror}, nil
}

// promotion is the writes that give head's member a seat: their place leaves the waitlist,
// their booking (and their copy of it) is confirmed, and the reminders a seat brings are
// created. Updates, not puts, so the booking's question and history need no read. The caller
// adds the session's counts.
func (s *Store) promotion(sess qa.Session, head waitItem, notices NoticeFunc, now time.Time) (qa.Booking, []types.TransactWriteItem, error) {
	b := qa.Booking{StoreID: sess.StoreID, SessionID: sess.ID, MemberID: head.MemberID, Status: qa.BookingConfirmed,
		Ticket: head.Ticket, PromotedAt: now, UpdatedAt: now}
	reminders, err := notices(sess, b, qa.NoticePromoted)
	if err != nil {
		return qa.Booking{}, nil, err
	}
	ids := []string{}
	for _, lr := range reminders {
		ids = append(ids, lr.Reminder.ID)
	}
	b.ReminderIDs = ids
	vals, err := attributevalue.MarshalMap(map[string]any{":confirmed": string(qa.BookingConfirmed),
		":waitlisted": string(qa.BookingWaitlisted), ":now": now, ":ids": ids, ":m": head.MemberID})
	if err != nil {
		return qa.Booking{}, nil, err
	}
	names := map[string]string{"#Status": "Status"}
	wpk, wsk := waitKey(sess.StoreID, sess.ID, head.Ticket)
	bpk, bsk := bookingKey(sess.StoreID, sess.ID, head.MemberID)
	mpk, msk := memberBookingKey(sess.StoreID, head.MemberID, sess.StartAt.UTC().Format(sessionTimeLayout), sess.ID)
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: key(wpk, wsk), ConditionExpression: aws.String("MemberID = :m"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":m": vals[":m"]}}},
		{Update: &types.Update{TableName: &s.table, Key: key(bpk, bsk),
			UpdateExpression:         aws.String("SET #Status = :confirmed, PromotedAt = :now, UpdatedAt = :now, ReminderIDs = :ids"),
			ConditionExpression:      aws.String("#Status = :waitlisted"),
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: map[string]types.AttributeValue{":confirmed": vals[":confirmed"],
				":waitlisted": vals[":waitlisted"], ":now": vals[":now"], ":ids": vals[":ids"]}}},
		{Update: &types.Update{TableName: &s.table, Key: key(mpk, msk),
			UpdateExpression:          aws.String("SET #Status = :confirmed"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: map[string]types.AttributeValue{":confirmed": vals[":confirmed"]}}},
	}
	for _, lr := range reminders {
		more, err := s.reminderPuts(lr)
		if err != nil {
			return qa.Booking{}, nil, err
		}
		items = append(items, more...)
	}
	return b, items, nil
}

// FillSeats gives free seats of a session to the first on its waitlist, one promotion (one
// transaction) at a time, until the seats or the waitlist run out: after staff raise its
// capacity. It returns the members promoted.
func (s *Store) FillSeats(ctx context.Context, store, id string, notices NoticeFunc, now time.Time) ([]qa.Booking, error) {
	now = now.UTC().Truncate(time.Second)
	var out []qa.Booking
	for lost := 0; lost < bookAttempts; {
		sess, head, err := s.sessionWithHead(ctx, store, id)
		if err != nil {
			return out, err
		}
		if head == nil || sess.Confirmed >= sess.Capacity || sess.Status != qa.SessionScheduled || sess.Past(now) {
			return out, nil
		}
		p, items, err := s.promotion(sess, *head, notices, now)
		if err != nil {
			return out, err
		}
		pk, sk := qaSessionKey(store, id)
		items = append(items, counterChange(s.table, pk, sk, map[string]int{"Confirmed": 1, "Waiting": -1, "WaitRemoved": 1},
			"Confirmed < #Cap AND Waiting > :zero"))
		items = append(items, s.groupCounters(sess, map[string]int{"Bookings": 1})...)
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
		switch {
		case err == nil:
			out = append(out, p)
		case lostRace(err):
			lost++
			if err := sleep(ctx, backoff(lost)); err != nil {
				return out, err
			}
		default:
			return out, wrap("fill seats", err)
		}
	}
	return out, qa.ErrBusy
}

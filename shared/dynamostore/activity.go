package dynamostore

// What a member left outside their own partition — their Q&A bookings and their reminders, in
// the partitions of sessions and of reminders — as export shows it and erasure removes it (the
// member's partition is MemberPage and Erase).
//
//	a member's booking copies     PK=STORE#s#MEMBER#m, SK begins_with SESSION#   table
//	a member's reminders          GSI1PK=STORE#s#MEMBER#m#REMINDERS              GSI1

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
)

// EraseActivity removes what a member left in other partitions, before Erase removes the member:
// each live booking is cancelled first — its seat goes to the first on the waitlist, as any
// cancellation's does — then every booking (with its question), the member's copies and the
// booking page links are deleted, and every reminder with its page link. key derives the page
// tokens whose hashes key those links. Deliveries and acknowledgements hold no personal data
// but the member's id and expire with DeliveryRetention; campaign chunks name their recipients by
// id alone and expire with CampaignRetention (the weekly ledger of what was sent is on the
// profile, which Erase deletes). Run again after a failure, it deletes what is left.
func (s *Store) EraseActivity(ctx context.Context, store, memberID string, key []byte, now time.Time) error {
	if err := s.eraseBookings(ctx, store, memberID, key, now); err != nil {
		return err
	}
	return s.eraseReminders(ctx, store, memberID, key)
}

// Activity is what a member left outside their own partition, for their export.
type Activity struct {
	Reminders []reminder.Reminder
	Bookings  []ActivityBooking
}

// ActivityBooking is one of the member's bookings: the session as their copy holds it, and the
// booking with the question they asked (Booking is zero if it expired before the copy).
type ActivityBooking struct {
	MemberBooking
	Booking qa.Booking
}

// MemberActivity reads a member's reminders and bookings, every one of them.
func (s *Store) MemberActivity(ctx context.Context, store, memberID string) (Activity, error) {
	out := Activity{Reminders: []reminder.Reminder{}, Bookings: []ActivityBooking{}}
	gpk, _ := memberRemindersKey(store, memberID, "", "")
	for cursor := ""; ; {
		page, err := partitionPage(ctx, s, "export reminders", listing{pk: gpk, gsi1: true}, cursor, 100, reminderItem.reminder)
		if err != nil {
			return Activity{}, err
		}
		out.Reminders = append(out.Reminders, page.Items...)
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	err := s.bookingCopies(ctx, store, memberID, func(copies []memberBookingItem) error {
		ids := make([]string, len(copies))
		for i, c := range copies {
			ids[i] = c.SessionID
		}
		bookings, err := s.MemberBookingsOf(ctx, store, memberID, ids)
		if err != nil {
			return err
		}
		for _, c := range copies {
			out.Bookings = append(out.Bookings, ActivityBooking{MemberBooking: c.booking(), Booking: bookings[c.SessionID]})
		}
		return nil
	})
	return out, err
}

// bookingCopies calls page with each page of the member's booking copies, oldest session first.
func (s *Store) bookingCopies(ctx context.Context, store, memberID string, page func([]memberBookingItem) error) error {
	pk := memberPK(store, memberID)
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :b)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk},
				":b": &types.AttributeValueMemberS{Value: skMemberSessionPfx}},
			Limit:                  aws.Int32(100),
			ConsistentRead:         aws.Bool(true),
			ExclusiveStartKey:      start,
			ReturnConsumedCapacity: capacity,
		})
		if err != nil {
			return wrap("booking copies", err)
		}
		var copies []memberBookingItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &copies); err != nil {
			return wrap("booking copies", err)
		}
		if err := page(copies); err != nil {
			return err
		}
		if start = res.LastEvaluatedKey; start == nil {
			return nil
		}
	}
}

func (s *Store) eraseBookings(ctx context.Context, store, memberID string, key []byte, now time.Time) error {
	return s.bookingCopies(ctx, store, memberID, func(copies []memberBookingItem) error {
		var dels []types.WriteRequest
		for _, c := range copies {
			if qa.BookingStatus(c.Status).Live() && c.StartAt.After(now) {
				_, err := s.CancelBooking(ctx, CancelRequest{StoreID: store, SessionID: c.SessionID, MemberID: memberID,
					By: memberID, Via: reminder.ViaMember, Notices: Notices(key, memberID, reminder.ViaMember, now), Now: now})
				if err != nil && !isNotFound(err) {
					return err
				}
			}
			bpk, bsk := bookingKey(store, c.SessionID, memberID)
			lpk, lsk := bookingLinkKey(member.HashToken(qa.BookingToken(key, store, c.SessionID, memberID)))
			dels = append(dels, deleteRequest(bpk, bsk), deleteRequest(c.PK, c.SK), deleteRequest(lpk, lsk))
		}
		return wrap("erase bookings", s.batchWrite(ctx, dels))
	})
}

func (s *Store) eraseReminders(ctx context.Context, store, memberID string, key []byte) error {
	gpk, _ := memberRemindersKey(store, memberID, "", "")
	cursor := ""
	for {
		page, err := partitionPage(ctx, s, "erase reminders", listing{pk: gpk, gsi1: true}, cursor, 100, reminderItem.reminder)
		if err != nil {
			return err
		}
		var dels []types.WriteRequest
		for _, r := range page.Items {
			rpk, rsk := reminderKey(store, r.ID)
			lpk, lsk := reminderLinkKey(member.HashToken(reminder.LinkToken(key, store, r.ID)))
			dels = append(dels, deleteRequest(rpk, rsk), deleteRequest(lpk, lsk))
		}
		if err := s.batchWrite(ctx, dels); err != nil {
			return wrap("erase reminders", err)
		}
		// A cursor is a position, not an item: it holds after its item is deleted.
		if cursor = page.Cursor; cursor == "" {
			return nil
		}
	}
}

func deleteRequest(pk, sk string) types.WriteRequest {
	return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(pk, sk)}}
}

// isNotFound reports a booking or session already gone: nothing left to cancel.
func isNotFound(err error) bool {
	return errors.Is(err, qa.ErrBookingNotFound) || errors.Is(err, qa.ErrSessionNotFound)
}

package dynamostore

// Reads the Q&A pages need besides those of qa.go, each one BatchGetItem per 100 keys rather
// than one read per row:
//
//	a member's bookings of listed sessions   PK=STORE#s#SESSION#x, SK=BOOKING#m      table
//	names of a session's members             PK=STORE#s#MEMBER#m, SK=PROFILE          table
//	a session, a booking and the member's name  the three keys above, one BatchGetItem

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/qa"
)

// batchGetMax is the most keys one BatchGetItem may ask for.
const batchGetMax = 100

// MemberBookingsOf returns a member's bookings of the given sessions, by session id: a session
// the member never booked is absent. A waitlisted booking carries its position.
func (s *Store) MemberBookingsOf(ctx context.Context, store, memberID string, sessionIDs []string) (map[string]qa.Booking, error) {
	keys := make([][2]string, len(sessionIDs))
	for i, id := range sessionIDs {
		pk, sk := bookingKey(store, id, memberID)
		keys[i] = [2]string{pk, sk}
	}
	items, err := s.batchGetChunked(ctx, keys)
	if err != nil {
		return nil, wrap("member bookings of sessions", err)
	}
	out := make(map[string]qa.Booking, len(items))
	for _, raw := range items {
		var it bookingItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, wrap("member bookings of sessions", err)
		}
		b := it.booking()
		if b.Status == qa.BookingWaitlisted {
			if b.Position, err = s.waitPosition(ctx, store, b.SessionID, b.Ticket); err != nil {
				return nil, err
			}
		}
		out[b.SessionID] = b
	}
	return out, nil
}

// MemberNames returns the names of members of a store, by id; a member who erased their data is
// absent.
func (s *Store) MemberNames(ctx context.Context, store string, memberIDs []string) (map[string]string, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(memberIDs)))
	keys := make([][2]string, len(ids))
	for i, id := range ids {
		pk, sk := memberKey(store, id)
		keys[i] = [2]string{pk, sk}
	}
	items, err := s.batchGetChunked(ctx, keys)
	if err != nil {
		return nil, wrap("member names", err)
	}
	out := make(map[string]string, len(items))
	for _, raw := range items {
		var it memberItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, wrap("member names", err)
		}
		out[it.ID] = it.Name // the phone stays sealed: a name is all this needs
	}
	return out, nil
}

// batchGetChunked is batchGet for any number of keys, batchGetMax at a time.
func (s *Store) batchGetChunked(ctx context.Context, keys [][2]string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for chunk := range slices.Chunk(keys, batchGetMax) {
		items, err := s.batchGet(ctx, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// BookingPage is what a booking's page (/b/{token}) shows.
type BookingPage struct {
	Session    qa.Session
	Booking    qa.Booking
	MemberName string
}

// BookingPage reads the session, the member's booking of it and the member's name in one
// BatchGetItem (and counts the waitlist ahead of a waitlisted booking): qa.ErrBookingNotFound if
// any of them is gone, as when the senior erased their data.
func (s *Store) BookingPage(ctx context.Context, store, session, memberID string) (BookingPage, error) {
	r, err := s.readBooking(ctx, store, session, memberID)
	if err != nil {
		return BookingPage{}, wrap("booking page", err)
	}
	if !r.hasSession || !r.hasBooking || !r.hasMember {
		return BookingPage{}, qa.ErrBookingNotFound
	}
	b := r.booking
	if b.Status == qa.BookingWaitlisted {
		if b.Position, err = s.waitPosition(ctx, store, session, b.Ticket); err != nil {
			return BookingPage{}, err
		}
	}
	return BookingPage{Session: r.session, Booking: b, MemberName: r.name}, nil
}

// bookingRead is a session, a member's booking of it (without its waitlist position) and the
// member's name; what is absent is the zero value, its has… false.
type bookingRead struct {
	session                           qa.Session
	booking                           qa.Booking
	name                              string
	hasSession, hasBooking, hasMember bool
}

// readBooking reads a session, a member's booking of it and the member's profile in one
// BatchGetItem, strongly consistent like GetQASession and getBooking: the keys are known up
// front, so nothing waits on another read.
func (s *Store) readBooking(ctx context.Context, store, session, memberID string) (bookingRead, error) {
	spk, ssk := qaSessionKey(store, session)
	bpk, bsk := bookingKey(store, session, memberID)
	mpk, msk := memberKey(store, memberID)
	items, err := s.batchGet(ctx, [][2]string{{spk, ssk}, {bpk, bsk}, {mpk, msk}})
	if err != nil {
		return bookingRead{}, err
	}
	var r bookingRead
	for _, raw := range items {
		var k struct{ PK, SK string }
		if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
			return bookingRead{}, err
		}
		switch {
		case k.PK == spk && k.SK == ssk:
			var it qaSessionItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return bookingRead{}, err
			}
			r.session, r.hasSession = it.session(), true
		case k.PK == bpk && k.SK == bsk:
			var it bookingItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return bookingRead{}, err
			}
			r.booking, r.hasBooking = it.booking(), true
		case k.PK == mpk && k.SK == msk:
			var it memberItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return bookingRead{}, err
			}
			r.name, r.hasMember = it.Name, true // the phone stays sealed: a name is all this needs
		}
	}
	return r, nil
}

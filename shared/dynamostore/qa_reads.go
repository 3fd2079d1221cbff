package dynamostore

// Reads the Q&A pages need besides those of qa.go, each one BatchGetItem per 100 keys rather
// than one read per row:
//
//	a member's bookings of listed sessions   PK=STORE#s#SESSION#x, SK=BOOKING#m      table
//	names of a session's members             PK=STORE#s#MEMBER#m, SK=PROFILE          table

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

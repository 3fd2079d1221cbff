package dynamostore

// Doctor Q&A: doctors, sessions, seats, the waitlist, bookings.
//
//	list doctors                     PK=STORE#s, SK begins_with DOCTOR#                  table
//	create session                   Put SESSION if absent                               table
//	get session                      PK=STORE#s#SESSION#x, SK=SESSION                    table
//	list sessions by start           GSI1PK=STORE#s#SESSIONS, GSI1SK ≥ <start>           GSI1
//	book                             Update SESSION (ticket, or read) + one transaction  table
//	session + head of its waitlist   PK=STORE#s#SESSION#x, SK ≥ SESSION, Limit 2         table
//	bookings of a session            PK=STORE#s#SESSION#x, SK begins_with BOOKING#       table
//	a member's bookings              PK=STORE#s#MEMBER#m, SK begins_with SESSION#        table
//	open a booking page              PK=BLINK#<sha256(token)>                            table
//
// Seats are counted on the session item (Confirmed ≤ Capacity) and taken in the same
// transaction as the booking, so no number of concurrent requests can overbook. A full session
// hands out waitlist tickets from an atomic counter (Tickets), so places on the waitlist are
// unique and in the order people asked; a freed seat goes to the lowest ticket in the same
// transaction that frees it. A seat is never left free while someone waits: freeing one
// without a promotion requires Waiting = 0, and joining the waitlist requires a full session.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
	"yinling/shared/qa"
	"yinling/shared/reminder"
)

// Item types of Q&A.
const (
	typeQASession     = "session"
	typeBooking       = "booking"
	typeMemberBooking = "member_booking"
	typeWait          = "wait"
	typeBookingLink   = "blink"
)

// Retention after a session ends (TTL): a booking — with its question, which may speak of the
// member's health — its waitlist place, its page link and the member's copy are kept 90 days,
// for staff to look back. The copy lives exactly as long as the booking: erasure finds a
// member's bookings through their copies. The counts stay on the session and the group.
const (
	BookingRetention       = 90 * 24 * time.Hour
	MemberBookingRetention = BookingRetention
)

// bookAttempts bounds the rounds a booking or a cancellation makes when it loses a race: the
// seat count moved under it, or another transaction held the session item.
const bookAttempts = 12

// ErrSessionChanged refuses an edit made on a stale copy of a session.
var ErrSessionChanged = &fail.Error{Kind: fail.Conflict, Code: "session_changed"}

// LinkedReminder is a reminder to create with the hash of its page token.
type LinkedReminder struct {
	Reminder reminder.Reminder
	LinkHash string
}

// NoticeFunc makes the reminders that tell b's member about notice n of session s (qa.Session.
// Reminders, with ids and page links). The store calls it once it knows who gets a seat.
type NoticeFunc func(s qa.Session, b qa.Booking, n qa.Notice) ([]LinkedReminder, error)

type qaSessionItem struct {
	PK               string     `dynamodbav:"PK"`
	SK               string     `dynamodbav:"SK"`
	T                string     `dynamodbav:"T"`
	GSI1PK           string     `dynamodbav:"GSI1PK"`
	GSI1SK           string     `dynamodbav:"GSI1SK"`
	ID               string     `dynamodbav:"ID"`
	StoreID          string     `dynamodbav:"StoreID"`
	DoctorID         string     `dynamodbav:"DoctorID"`
	DoctorName       string     `dynamodbav:"DoctorName"`
	DoctorTitle      string     `dynamodbav:"DoctorTitle,omitempty"`
	DoctorSpeciality string     `dynamodbav:"DoctorSpeciality,omitempty"`
	DoctorPhotoURL   string     `dynamodbav:"DoctorPhotoURL,omitempty"`
	Title            string     `dynamodbav:"Title"`
	StartAt          time.Time  `dynamodbav:"StartAt"`
	EndAt            time.Time  `dynamodbav:"EndAt"`
	TimeZone         string     `dynamodbav:"TimeZone"`
	PlaceKind        string     `dynamodbav:"PlaceKind"`
	PlaceAddress     string     `dynamodbav:"PlaceAddress,omitempty"`
	PlaceURL         string     `dynamodbav:"PlaceURL,omitempty"`
	Capacity         int        `dynamodbav:"Capacity"`
	OpensAt          time.Time  `dynamodbav:"OpensAt"`
	ClosesAt         time.Time  `dynamodbav:"ClosesAt"`
	TargetGroups     []string   `dynamodbav:"TargetGroups,omitempty"`
	Notes            string     `dynamodbav:"Notes,omitempty"`
	RemindBefore     []int      `dynamodbav:"RemindBefore"` // minutes
	MaxUpcoming      int        `dynamodbav:"MaxUpcoming,omitempty"`
	Status           string     `dynamodbav:"Status"`
	Confirmed        int        `dynamodbav:"Confirmed"`
	Waiting          int        `dynamodbav:"Waiting"`
	Tickets          int        `dynamodbav:"Tickets"`     // waitlist tickets handed out
	WaitRemoved      int        `dynamodbav:"WaitRemoved"` // tickets no longer waiting: promoted, cancelled, unused
	Attended         int        `dynamodbav:"Attended"`
	NoShow           int        `dynamodbav:"NoShow"`
	CreatedBy        string     `dynamodbav:"CreatedBy"`
	CreatedAt        time.Time  `dynamodbav:"CreatedAt"`
	UpdatedAt        time.Time  `dynamodbav:"UpdatedAt"`
	CancelledAt      *time.Time `dynamodbav:"CancelledAt,omitempty"`
}

func toSessionItem(s qa.Session) qaSessionItem {
	pk, sk := qaSessionKey(s.StoreID, s.ID)
	gpk, gsk := storeSessionsKey(s.StoreID, s.StartAt.UTC().Format(sessionTimeLayout), s.ID)
	it := qaSessionItem{PK: pk, SK: sk, T: typeQASession, GSI1PK: gpk, GSI1SK: gsk, ID: s.ID, StoreID: s.StoreID,
		DoctorID: s.DoctorID, DoctorName: s.Doctor.Name, DoctorTitle: s.Doctor.Title, DoctorSpeciality: s.Doctor.Speciality,
		DoctorPhotoURL: s.Doctor.PhotoURL, Title: s.Title, StartAt: s.StartAt.UTC(), EndAt: s.EndAt.UTC(), TimeZone: s.TimeZone,
		PlaceKind: string(s.Place.Kind), PlaceAddress: s.Place.Address, PlaceURL: s.Place.URL, Capacity: s.Capacity,
		OpensAt: s.OpensAt.UTC(), ClosesAt: s.ClosesAt.UTC(), TargetGroups: s.TargetGroups, Notes: s.Notes,
		RemindBefore: []int{}, MaxUpcoming: s.MaxUpcoming, Status: string(s.Status), Confirmed: s.Confirmed,
		Waiting: s.Waiting, Attended: s.Attended, NoShow: s.NoShow, CreatedBy: s.CreatedBy,
		CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(), CancelledAt: utcPtr(s.CancelledAt)}
	for _, d := range s.RemindBefore {
		it.RemindBefore = append(it.RemindBefore, int(d/time.Minute))
	}
	return it
}

func (it qaSessionItem) session() qa.Session {
	s := qa.Session{ID: it.ID, StoreID: it.StoreID, DoctorID: it.DoctorID,
		Doctor: qa.Doctor{ID: it.DoctorID, StoreID: it.StoreID, Name: it.DoctorName, Title: it.DoctorTitle,
			Speciality: it.DoctorSpeciality, PhotoURL: it.DoctorPhotoURL},
		Title: it.Title, StartAt: it.StartAt, EndAt: it.EndAt, TimeZone: it.TimeZone,
		Place:    qa.Place{Kind: qa.PlaceKind(it.PlaceKind), Address: it.PlaceAddress, URL: it.PlaceURL},
		Capacity: it.Capacity, OpensAt: it.OpensAt, ClosesAt: it.ClosesAt, TargetGroups: it.TargetGroups, Notes: it.Notes,
		MaxUpcoming: it.MaxUpcoming, Status: qa.SessionStatus(it.Status), Confirmed: it.Confirmed, Waiting: it.Waiting,
		Attended: it.Attended, NoShow: it.NoShow, CreatedBy: it.CreatedBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
	for _, m := range it.RemindBefore {
		s.RemindBefore = append(s.RemindBefore, time.Duration(m)*time.Minute)
	}
	if it.CancelledAt != nil {
		s.CancelledAt = *it.CancelledAt
	}
	return s
}

type bookingItem struct {
	PK           string     `dynamodbav:"PK"`
	SK           string     `dynamodbav:"SK"`
	T            string     `dynamodbav:"T"`
	StoreID      string     `dynamodbav:"StoreID"`
	SessionID    string     `dynamodbav:"SessionID"`
	MemberID     string     `dynamodbav:"MemberID"`
	Status       string     `dynamodbav:"Status"`
	Ticket       int        `dynamodbav:"Ticket,omitempty"`
	Question     string     `dynamodbav:"Question,omitempty"`
	QuestionClip string     `dynamodbav:"QuestionClip,omitempty"`
	Rank         int        `dynamodbav:"Rank,omitempty"`
	DuplicateOf  string     `dynamodbav:"DuplicateOf,omitempty"`
	Via          string     `dynamodbav:"Via"`
	By           string     `dynamodbav:"By"`
	ReminderIDs  []string   `dynamodbav:"ReminderIDs,omitempty"`
	Attendance   string     `dynamodbav:"Attendance,omitempty"`
	CreatedAt    time.Time  `dynamodbav:"CreatedAt"`
	UpdatedAt    time.Time  `dynamodbav:"UpdatedAt"`
	PromotedAt   *time.Time `dynamodbav:"PromotedAt,omitempty"`
	CancelledAt  *time.Time `dynamodbav:"CancelledAt,omitempty"`
	CancelledBy  string     `dynamodbav:"CancelledBy,omitempty"`
	CancelledVia string     `dynamodbav:"CancelledVia,omitempty"`
	ExpiresAt    int64      `dynamodbav:"ExpiresAt"`
}

func toBookingItem(sess qa.Session, b qa.Booking) bookingItem {
	pk, sk := bookingKey(b.StoreID, b.SessionID, b.MemberID)
	return bookingItem{PK: pk, SK: sk, T: typeBooking, ExpiresAt: ttl(sess.EndAt.Add(BookingRetention)), StoreID: b.StoreID, SessionID: b.SessionID, MemberID: b.MemberID,
		Status: string(b.Status), Ticket: b.Ticket, Question: b.Question.Text, QuestionClip: b.Question.ClipKey,
		Rank: b.Question.Rank, DuplicateOf: b.Question.DuplicateOf, Via: string(b.Via), By: b.By, ReminderIDs: b.ReminderIDs,
		Attendance: string(b.Attendance), CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(),
		PromotedAt: utcPtr(b.PromotedAt), CancelledAt: utcPtr(b.CancelledAt), CancelledBy: b.CancelledBy,
		CancelledVia: string(b.CancelledVia)}
}

func (it bookingItem) booking() qa.Booking {
	b := qa.Booking{StoreID: it.StoreID, SessionID: it.SessionID, MemberID: it.MemberID, Status: qa.BookingStatus(it.Status),
		Ticket: it.Ticket, Question: qa.Question{Text: it.Question, ClipKey: it.QuestionClip, Rank: it.Rank, DuplicateOf: it.DuplicateOf},
		Via: reminder.Via(it.Via), By: it.By, ReminderIDs: it.ReminderIDs, Attendance: qa.Attendance(it.Attendance),
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, CancelledBy: it.CancelledBy, CancelledVia: reminder.Via(it.CancelledVia)}
	if it.PromotedAt != nil {
		b.PromotedAt = *it.PromotedAt
	}
	if it.CancelledAt != nil {
		b.CancelledAt = *it.CancelledAt
	}
	return b
}

// memberBookingItem is a member's copy of a booking in their own partition, with what their
// pages show of the session. It expires a month after the session.
type memberBookingItem struct {
	PK           string    `dynamodbav:"PK"`
	SK           string    `dynamodbav:"SK"`
	T            string    `dynamodbav:"T"`
	StoreID      string    `dynamodbav:"StoreID"`
	SessionID    string    `dynamodbav:"SessionID"`
	MemberID     string    `dynamodbav:"MemberID"`
	Status       string    `dynamodbav:"Status"`
	Ticket       int       `dynamodbav:"Ticket,omitempty"`
	Title        string    `dynamodbav:"Title"`
	DoctorName   string    `dynamodbav:"DoctorName"`
	StartAt      time.Time `dynamodbav:"StartAt"`
	EndAt        time.Time `dynamodbav:"EndAt"`
	TimeZone     string    `dynamodbav:"TimeZone"`
	PlaceKind    string    `dynamodbav:"PlaceKind"`
	PlaceAddress string    `dynamodbav:"PlaceAddress,omitempty"`
	ExpiresAt    int64     `dynamodbav:"ExpiresAt"`
}

// MemberBooking is a member's booking as their own pages list it.
type MemberBooking struct {
	SessionID string
	Status    qa.BookingStatus
	Ticket    int
	Title     string
	Doctor    string
	StartAt   time.Time
	EndAt     time.Time
	TimeZone  string
	Place     qa.Place
}

func toMemberBookingItem(s qa.Session, b qa.Booking) memberBookingItem {
	pk, sk := memberBookingKey(s.StoreID, b.MemberID, s.StartAt.UTC().Format(sessionTimeLayout), s.ID)
	return memberBookingItem{PK: pk, SK: sk, T: typeMemberBooking, StoreID: s.StoreID, SessionID: s.ID, MemberID: b.MemberID,
		Status: string(b.Status), Ticket: b.Ticket, Title: s.Title, DoctorName: s.Doctor.Name, StartAt: s.StartAt.UTC(),
		EndAt: s.EndAt.UTC(), TimeZone: s.TimeZone, PlaceKind: string(s.Place.Kind), PlaceAddress: s.Place.Address,
		ExpiresAt: ttl(s.EndAt.Add(MemberBookingRetention))}
}

func (it memberBookingItem) booking() MemberBooking {
	return MemberBooking{SessionID: it.SessionID, Status: qa.BookingStatus(it.Status), Ticket: it.Ticket, Title: it.Title,
		Doctor: it.DoctorName, StartAt: it.StartAt, EndAt: it.EndAt, TimeZone: it.TimeZone,
		Place: qa.Place{Kind: qa.PlaceKind(it.PlaceKind), Address: it.PlaceAddress}}
}

type waitItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	T         string `dynamodbav:"T"`
	MemberID  string `dynamodbav:"MemberID"`
	Ticket    int    `dynamodbav:"Ticket"`
	ExpiresAt int64  `dynamodbav:"ExpiresAt"`
}

type bookingLinkItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	T         string `dynamodbav:"T"`
	StoreID   string `dynamodbav:"StoreID"`
	SessionID string `dynamodbav:"SessionID"`
	MemberID  string `dynamodbav:"MemberID"`
	ExpiresAt int64  `dynamodbav:"ExpiresAt"`
}

// BookingLink is where a booking page token leads.
type BookingLink struct {
	StoreID   string
	SessionID string
	MemberID  string
}

// GuessBooking is the guessing scope of booking page tokens.
const GuessBooking = "booking"

// ---- Doctors ----

// ListDoctors lists a store's doctors, oldest first.
func (s *Store) ListDoctors(ctx context.Context, store, cursor string, limit int) (Page[qa.Doctor], error) {
	l := listing{pk: storePK(store), skPrefix: skDoctorPfx}
	return partitionPage(ctx, s, "list doctors", l, cursor, limit, doctorItem.doctor)
}

// ---- Sessions ----

// CreateQASession stores a new session (ErrExists if its id is taken).
func (s *Store) CreateQASession(ctx context.Context, sess qa.Session) error {
	return wrap("create session", s.putNew(ctx, toSessionItem(sess)))
}

// GetQASession returns a session of a store, read strongly (seat counts are live), or
// qa.ErrSessionNotFound.
func (s *Store) GetQASession(ctx context.Context, store, id string) (qa.Session, error) {
	pk, sk := qaSessionKey(store, id)
	var it qaSessionItem
	if err := s.getItemConsistent(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return qa.Session{}, qa.ErrSessionNotFound
		}
		return qa.Session{}, wrap("get session", err)
	}
	return it.session(), nil
}

// ListQASessions lists a store's sessions that start at or after from, soonest first (or, with
// newestFirst, those that started before from, latest first).
func (s *Store) ListQASessions(ctx context.Context, store string, from time.Time, newestFirst bool, cursor string, limit int) (Page[qa.Session], error) {
	gpk, _ := storeSessionsKey(store, "", "")
	l := listing{pk: gpk, gsi1: true, newestFirst: newestFirst}
	if at := from.UTC().Format(sessionTimeLayout); newestFirst {
		l.skBefore = at
	} else {
		l.skFrom = at
	}
	return partitionPage(ctx, s, "list sessions", l, cursor, limit, qaSessionItem.session)
}

// UpdateQASession writes what staff changed of a session read at prevUpdatedAt: its details,
// never its counts. It refuses a stale copy (ErrSessionChanged), a cancelled session, and a
// capacity below the seats taken at the moment of writing (qa.ErrCapacityBelowBookings).
func (s *Store) UpdateQASession(ctx context.Context, sess qa.Session, prevUpdatedAt time.Time) error {
	it := toSessionItem(sess)
	set := map[string]any{"Title": it.Title, "StartAt": it.StartAt, "EndAt": it.EndAt, "GSI1SK": it.GSI1SK,
		"PlaceKind": it.PlaceKind, "PlaceAddress": it.PlaceAddress, "PlaceURL": it.PlaceURL, "Capacity": it.Capacity,
		"OpensAt": it.OpensAt, "ClosesAt": it.ClosesAt, "TargetGroups": it.TargetGroups, "Notes": it.Notes,
		"RemindBefore": it.RemindBefore, "MaxUpcoming": it.MaxUpcoming, "UpdatedAt": it.UpdatedAt}
	expr, names, vals, err := setExpression(set)
	if err != nil {
		return err
	}
	prev, err := attributevalue.Marshal(prevUpdatedAt.UTC())
	if err != nil {
		return err
	}
	vals[":prev"], vals[":scheduled"] = prev, &types.AttributeValueMemberS{Value: string(qa.SessionScheduled)}
	pk, sk := qaSessionKey(sess.StoreID, sess.ID)
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 key(pk, sk),
		UpdateExpression:                    &expr,
		ConditionExpression:                 aws.String("UpdatedAt = :prev AND #Status = :scheduled AND Confirmed <= :v_Capacity"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return wrap("update session", err)
	}
	var cur qaSessionItem
	if err := attributevalue.UnmarshalMap(ccf.Item, &cur); err != nil || cur.ID == "" {
		return qa.ErrSessionNotFound
	}
	switch {
	case cur.Status != string(qa.SessionScheduled):
		return qa.ErrSessionCancelled
	case cur.Confirmed > sess.Capacity:
		return qa.ErrCapacityBelowBookings
	}
	return ErrSessionChanged
}

// setExpression writes "SET #Name = :v_Name, …" for the given attributes (nil or empty values
// are removed instead, so an optional field cleared is gone from the item).
func setExpression(set map[string]any) (string, map[string]string, map[string]types.AttributeValue, error) {
	names := map[string]string{"#Status": "Status"}
	vals := map[string]types.AttributeValue{}
	var sets, removes []string
	attrs := make([]string, 0, len(set))
	for a := range set {
		attrs = append(attrs, a)
	}
	slices.Sort(attrs)
	for _, a := range attrs {
		names["#"+a] = a
		v, err := attributevalue.Marshal(set[a])
		if err != nil {
			return "", nil, nil, err
		}
		if empty(v) {
			removes = append(removes, "#"+a)
			continue
		}
		vals[":v_"+a] = v
		sets = append(sets, "#"+a+" = :v_"+a)
	}
	expr := "SET " + join(sets)
	if len(removes) > 0 {
		expr += " REMOVE " + join(removes)
	}
	return expr, names, vals, nil
}

func empty(v types.AttributeValue) bool {
	switch v := v.(type) {
	case *types.AttributeValueMemberNULL:
		return true
	case *types.AttributeValueMemberS:
		return v.Value == ""
	case *types.AttributeValueMemberL:
		return len(v.Value) == 0
	}
	return false
}

func join(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

// groupCounters add to the health counters of each group a session is for (its totals item:
// Bookings, Attended, NoShow), in the transaction that changes a seat or an attendance. A
// session for the whole store is counted on itself only.
func (s *Store) groupCounters(sess qa.Session, add map[string]int) []types.TransactWriteItem {
	out := make([]types.TransactWriteItem, 0, len(sess.TargetGroups))
	for _, g := range sess.TargetGroups {
		pk, sk := groupTotalsKey(sess.StoreID, g)
		out = append(out, types.TransactWriteItem{Update: counterUpdate{pk: pk, sk: sk, add: add}.update(s.table)})
	}
	return out
}

// counterChange adds to counters of one item, with an optional extra condition (":zero" is 0).
func counterChange(table, pk, sk string, add map[string]int, cond string) types.TransactWriteItem {
	u := counterUpdate{pk: pk, sk: sk, add: add}.update(table)
	c := "attribute_exists(PK)"
	if cond != "" {
		c += " AND " + cond
		u.ExpressionAttributeValues[":zero"] = &types.AttributeValueMemberN{Value: "0"}
		if strings.Contains(cond, "#Cap") {
			u.ExpressionAttributeNames["#Cap"] = "Capacity" // a reserved word
		}
	}
	u.ConditionExpression = &c
	return types.TransactWriteItem{Update: u}
}

// CancelQASession cancels a session for everyone: the session first (so nobody books it
// meanwhile), then each live booking with its reminders, ten at a time, each member told
// (qa.NoticeCancelled). It returns the members told. Calling it again for a cancelled session
// finishes a sweep a failure interrupted and tells nobody twice.
func (s *Store) CancelQASession(ctx context.Context, store, id, by string, notices NoticeFunc, now time.Time) (qa.Session, int, error) {
	now = now.UTC().Truncate(time.Second)
	pk, sk := qaSessionKey(store, id)
	nowAV, err := attributevalue.Marshal(now)
	if err != nil {
		return qa.Session{}, 0, err
	}
	res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("SET #Status = :cancelled, CancelledAt = if_not_exists(CancelledAt, :now), UpdatedAt = :now"),
		ConditionExpression:      aws.String("attribute_exists(PK) AND StartAt > :now"),
		ExpressionAttributeNames: map[string]string{"#Status": "Status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":cancelled": &types.AttributeValueMemberS{Value: string(qa.SessionCancelled)}, ":now": nowAV},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return qa.Session{}, 0, qa.ErrSessionNotFound
		}
		return qa.Session{}, 0, qa.ErrSessionPast
	}
	if err != nil {
		return qa.Session{}, 0, wrap("cancel session", err)
	}
	var it qaSessionItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return qa.Session{}, 0, wrap("cancel session", err)
	}
	sess := it.session()
	told := 0
	for attempt := 0; attempt < bookAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return sess, told, err
			}
		}
		n, err := s.cancelBookings(ctx, sess, by, notices, now)
		told += n
		if !lostRace(err) {
			return sess, told, err
		}
		// A member cancelled, or a booking landed, while the sweep ran: read the bookings
		// again; the ones already cancelled are no longer live and are not told twice.
	}
	return sess, told, qa.ErrBusy
}

// cancelBookings cancels a cancelled session's live bookings, ten to a transaction.
func (s *Store) cancelBookings(ctx context.Context, sess qa.Session, by string, notices NoticeFunc, now time.Time) (int, error) {
	bookings, err := s.SessionBookings(ctx, sess.StoreID, sess.ID)
	if err != nil {
		return 0, err
	}
	told := 0
	for chunk := range slices.Chunk(live(bookings), 10) {
		var items []types.TransactWriteItem
		for _, b := range chunk {
			prev := b.Status
			b.Status, b.CancelledAt, b.CancelledBy, b.CancelledVia, b.UpdatedAt, b.Position = qa.BookingCancelled, now, by, reminder.ViaStaff, now, 0
			writes, err := s.bookingStatusWrites(sess, b, prev, now)
			if err != nil {
				return told, err
			}
			items = append(items, writes...)
			items = append(items, s.reminderCancels(sess.StoreID, b.ReminderIDs, by, reminder.ViaStaff, now)...)
			if prev == qa.BookingWaitlisted {
				wpk, wsk := waitKey(sess.StoreID, sess.ID, b.Ticket)
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(wpk, wsk)}})
			}
			reminders, err := notices(sess, b, qa.NoticeCancelled)
			if err != nil {
				return told, err
			}
			for _, lr := range reminders {
				more, err := s.reminderPuts(lr)
				if err != nil {
					return told, err
				}
				items = append(items, more...)
			}
		}
		if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity}); err != nil {
			if lostRace(err) {
				return told, err
			}
			return told, wrap("cancel session bookings", err)
		}
		told += len(chunk)
	}
	return told, nil
}

func live(bs []qa.Booking) []qa.Booking {
	var out []qa.Booking
	for _, b := range bs {
		if b.Status.Live() {
			out = append(out, b)
		}
	}
	return out
}

// maxSessionBookings bounds the bookings one read of a session returns. A member has one
// booking item per session, reused when they book again, so the items are at most the members
// who ever booked it: seats and waitlist (which nothing caps but the store's members) and those
// who cancelled. Past this many, the rest are left out rather than read without end.
const maxSessionBookings = 4000

// SessionBookings returns every booking of a session (cancelled ones too), confirmed first, then
// the waitlist in order with positions, then cancelled ones, each group by booking time.
func (s *Store) SessionBookings(ctx context.Context, store, id string) ([]qa.Booking, error) {
	pk := sessionPK(store, id)
	var out []qa.Booking
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :b)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk},
				":b": &types.AttributeValueMemberS{Value: skBookingPfx}},
			ConsistentRead:         aws.Bool(true),
			ExclusiveStartKey:      start,
			ReturnConsumedCapacity: capacity,
		})
		if err != nil {
			return nil, wrap("session bookings", err)
		}
		var items []bookingItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
			return nil, wrap("session bookings", err)
		}
		for _, it := range items {
			out = append(out, it.booking())
		}
		if start = res.LastEvaluatedKey; start == nil || len(out) >= maxSessionBookings {
			break
		}
	}
	rank := map[qa.BookingStatus]int{qa.BookingConfirmed: 0, qa.BookingWaitlisted: 1, qa.BookingCancelled: 2}
	slices.SortStableFunc(out, func(a, b qa.Booking) int {
		if c := rank[a.Status] - rank[b.Status]; c != 0 {
			return c
		}
		if a.Status == qa.BookingWaitlisted {
			return a.Ticket - b.Ticket
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
	pos := 0
	for i := range out {
		if out[i].Status == qa.BookingWaitlisted {
			pos++
			out[i].Position = pos
		}
	}
	return out, nil
}

// BookingChange is what staff change of a booking; nil fields stay.
type BookingChange struct {
	Attendance  *qa.Attendance
	Rank        *int
	DuplicateOf *string
}

// ChangeBooking records attendance, or orders or folds a question, of one booking, keeping the
// session's attendance counts in step in the same transaction, and returns it with the member's
// name ("" if they erased their data). Attendance is for confirmed bookings (qa.ErrNotConfirmed).
// The session, the booking and the name are read in one BatchGetItem; a lost race reads the
// booking again.
func (s *Store) ChangeBooking(ctx context.Context, store, session, memberID string, c BookingChange, now time.Time) (qa.Booking, string, error) {
	r, err := s.readBooking(ctx, store, session, memberID)
	if err != nil {
		return qa.Booking{}, "", wrap("change booking", err)
	}
	if !r.hasSession {
		return qa.Booking{}, "", qa.ErrSessionNotFound
	}
	sess := r.session
	if c.Attendance != nil && !sess.Past(now) {
		return qa.Booking{}, "", qa.ErrAttendanceEarly
	}
	for attempt := 0; attempt < bookAttempts; attempt++ {
		b := r.booking
		switch {
		case attempt > 0:
			if b, err = s.getBooking(ctx, store, session, memberID); err != nil {
				return qa.Booking{}, "", err
			}
		case !r.hasBooking:
			return qa.Booking{}, "", qa.ErrBookingNotFound
		}
		prevAttendance, prevUpdated := b.Attendance, b.UpdatedAt
		if c.Attendance != nil {
			if b.Status != qa.BookingConfirmed {
				return qa.Booking{}, "", qa.ErrNotConfirmed
			}
			b.Attendance = *c.Attendance
		}
		if c.Rank != nil {
			b.Question.Rank = *c.Rank
		}
		if c.DuplicateOf != nil {
			b.Question.DuplicateOf = *c.DuplicateOf
		}
		b.UpdatedAt = now.UTC().Truncate(time.Second)
		put, err := s.put(toBookingItem(sess, b), "UpdatedAt = :prev AND #Status = :status")
		if err != nil {
			return qa.Booking{}, "", err
		}
		prevAV, _ := attributevalue.Marshal(prevUpdated.UTC())
		put.Put.ExpressionAttributeNames = map[string]string{"#Status": "Status"}
		put.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": prevAV,
			":status": &types.AttributeValueMemberS{Value: string(b.Status)}}
		items := []types.TransactWriteItem{put}
		add := map[string]int{}
		for a, attr := range map[qa.Attendance]string{qa.Attended: "Attended", qa.NoShow: "NoShow"} {
			if prevAttendance == a {
				add[attr]--
			}
			if b.Attendance == a {
				add[attr]++
			}
		}
		for attr, n := range add {
			if n == 0 {
				delete(add, attr)
			}
		}
		if len(add) > 0 {
			pk, sk := qaSessionKey(store, session)
			items = append(items, counterChange(s.table, pk, sk, add, ""))
			items = append(items, s.groupCounters(sess, add)...)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
		switch {
		case err == nil:
			if b.Status == qa.BookingWaitlisted {
				b.Position, err = s.waitPosition(ctx, store, session, b.Ticket)
			}
			return b, r.name, err
		case !lostRace(err):
			return qa.Booking{}, "", wrap("change booking", err)
		}
	}
	return qa.Booking{}, "", qa.ErrBusy
}

// BookingLinkFrom finds where a booking page token leads, counting a miss against the client's
// address like a family token (qa.ErrBookingNotFound; ErrTooManyGuesses after too many).
func (s *Store) BookingLinkFrom(ctx context.Context, tokenHash, client string, now time.Time) (BookingLink, error) {
	pk, sk := bookingLinkKey(tokenHash)
	var it bookingLinkItem
	found, err := s.lookupGuarded(ctx, pk, sk, GuessBooking, client, now, &it)
	if err != nil {
		return BookingLink{}, wrap("get booking link", err)
	}
	if !found {
		return BookingLink{}, qa.ErrBookingNotFound
	}
	return BookingLink{StoreID: it.StoreID, SessionID: it.SessionID, MemberID: it.MemberID}, nil
}

// MemberBookings lists a member's bookings of sessions ending at or after from, soonest first
// (cancelled ones too: a page says so rather than drop them silently), at most limit.
func (s *Store) MemberBookings(ctx context.Context, store, memberID string, from time.Time, limit int) ([]MemberBooking, error) {
	// The key holds the start; a session lasts at most qa.MaxDuration, so one that started that
	// long before from may still be on.
	pk, first := memberBookingKey(store, memberID, from.Add(-qa.MaxDuration).UTC().Format(sessionTimeLayout), "")
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :first AND :last"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk},
			":first": &types.AttributeValueMemberS{Value: first}, ":last": &types.AttributeValueMemberS{Value: skMemberSessionPfx + "~"}},
		Limit:                  aws.Int32(int32(limit)),
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return nil, wrap("member bookings", err)
	}
	var items []memberBookingItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, wrap("member bookings", err)
	}
	out := []MemberBooking{}
	for _, it := range items {
		if !it.EndAt.Before(from) {
			out = append(out, it.booking())
		}
	}
	return out, nil
}

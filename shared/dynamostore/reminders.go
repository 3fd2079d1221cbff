package dynamostore

// Reminders: what members, family helpers and staff read and write. (What the dispatcher, the
// sender and the escalator use is in delivery.go.)
//
//	create reminder                 Put REMINDER (+ Due attrs, GSI1) + Put RLINK#h + member count  transaction
//	get reminder                    PK=STORE#s#REMINDER#r, SK=REMINDER                             table
//	list a member's reminders       GSI1PK=STORE#s#MEMBER#m#REMINDERS                               GSI1
//	update / pause / cancel         Put REMINDER if UpdatedAt unchanged (+ member count on cancel)  table
//	open the reminder page          PK=RLINK#<sha256(token)>, then get reminder                     table
//	acknowledge an occurrence       Put OCC#<occ> if absent                                         table
//	delivery status of a reminder   PK=STORE#s#REMINDER#r, SK begins_with OCC#, newest first       table
//	broadcast status                GSI1PK=STORE#s#BROADCAST#b                                      GSI1

import (
	"context"
	"errors"
	"time"

	"yinling/shared/fail"
	"yinling/shared/reminder"
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

// CreateReminder stores a new reminder with its page link (the hash of reminder.LinkToken),
// counting it against the member's reminder.MaxPerMember (reminder.ErrTooMany) and refusing a
// member that does not exist (member.ErrNotFound) — in one transaction.
func (s *Store) CreateReminder(ctx context.Context, r reminder.Reminder, linkHash string) error {
	return errUnimplemented
}

// GetReminder returns a reminder of a store, or reminder.ErrNotFound.
func (s *Store) GetReminder(ctx context.Context, store, id string) (reminder.Reminder, error) {
	return reminder.Reminder{}, errUnimplemented
}

// ListMemberReminders lists a member's reminders (every status), oldest first.
func (s *Store) ListMemberReminders(ctx context.Context, store, memberID, cursor string, limit int) (Page[reminder.Reminder], error) {
	return Page[reminder.Reminder]{}, errUnimplemented
}

// UpdateReminder replaces a reminder read at prevUpdatedAt (ErrReminderChanged if it changed
// since): the Due index follows its status and NextAt; cancelling frees its place in the
// member's count.
func (s *Store) UpdateReminder(ctx context.Context, r reminder.Reminder, prevUpdatedAt time.Time) error {
	return errUnimplemented
}

// ReminderLinkFrom finds where a reminder page token leads, counting a miss against the
// client's address like a family token (reminder.ErrNotFound; fail.RateLimited after too many).
func (s *Store) ReminderLinkFrom(ctx context.Context, tokenHash, client string, now time.Time) (ReminderLink, error) {
	return ReminderLink{}, errUnimplemented
}

// Acknowledge records a's acknowledgement of an occurrence unless one exists, and returns the
// one that counts (the first).
func (s *Store) Acknowledge(ctx context.Context, store, reminderID string, a Ack) (Ack, error) {
	return Ack{}, errUnimplemented
}

// GetAck returns the acknowledgement of an occurrence, or nil.
func (s *Store) GetAck(ctx context.Context, store, reminderID, occ string) (*Ack, error) {
	return nil, errUnimplemented
}

// ReminderStatus returns a reminder's occurrences, newest first, with acknowledgements and
// deliveries; limit bounds the items read.
func (s *Store) ReminderStatus(ctx context.Context, store, reminderID, cursor string, limit int) (ReminderStatus, error) {
	return ReminderStatus{}, errUnimplemented
}

// CreateBroadcast stores the reminders of one staff broadcast to a group (each with its
// BroadcastID and page-link hash, linkHashes[i] for rs[i]) in batches. They do not count
// against the members' MaxPerMember: staff decide.
func (s *Store) CreateBroadcast(ctx context.Context, rs []reminder.Reminder, linkHashes []string) error {
	return errUnimplemented
}

// BroadcastDeliveries lists the deliveries of one broadcast, by state then member.
func (s *Store) BroadcastDeliveries(ctx context.Context, store, broadcast, cursor string, limit int) (Page[Delivery], error) {
	return Page[Delivery]{}, errUnimplemented
}

// ListStaffAlerts lists a store's staff alerts, newest first.
func (s *Store) ListStaffAlerts(ctx context.Context, store, cursor string, limit int) (Page[StaffAlert], error) {
	return Page[StaffAlert]{}, errUnimplemented
}

var errUnimplemented = errors.New("dynamostore: not implemented yet")

// Package outbox is the local development channel: instead of calling or texting anyone, every
// message is written to the table, where a dev page (and GET /api/admin/outbox in local mode)
// shows it, so a newcomer sees what a senior would have received. A store configured with the
// outbox channel sends everything here, whatever the message's own channel.
//
// Entries keep the full recipient as well as the masked one: the outbox exists only on a
// developer's machine, with seeded members, and a test or a developer needs to find "the
// message to that member". It is never configured in AWS. Entries expire after seven days.
//
// A redelivered message id lands once and gets the same receipt as the first time, as the
// exactly-once sender expects from a real provider.
package outbox

import (
	"context"
	"time"

	"yinling/shared/dynamostore"
	"yinling/shared/notify"
)

// Provider names this channel in receipts.
const Provider = "outbox"

// Store is where the outbox lives; *dynamostore.Store implements it.
type Store interface {
	// PutOutbox stores an entry once per message id and returns when it was first stored.
	PutOutbox(ctx context.Context, e dynamostore.OutboxEntry) (time.Time, error)
	// ListOutbox lists a store's outbox newest first.
	ListOutbox(ctx context.Context, store, cursor string, limit int) (dynamostore.Page[dynamostore.OutboxEntry], error)
}

// Outbox is the development channel. It is safe for concurrent use.
type Outbox struct {
	store Store
	now   func() time.Time
}

// New returns an Outbox on store; now stamps entries (nil means time.Now).
func New(store Store, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{store: store, now: now}
}

// Send records m. A message no provider would accept (notify.Message.Check) is refused here
// too, so such a bug shows up locally.
func (o *Outbox) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := m.Check(); err != nil {
		return notify.Receipt{}, err
	}
	at, err := o.store.PutOutbox(ctx, Entry(m, o.now()))
	if err != nil {
		return notify.Receipt{}, err
	}
	return notify.Receipt{Provider: Provider, ProviderID: m.ID, At: at}, nil
}

// List returns up to limit entries of store's outbox, newest first, from cursor on.
func (o *Outbox) List(ctx context.Context, store, cursor string, limit int) (dynamostore.Page[dynamostore.OutboxEntry], error) {
	return o.store.ListOutbox(ctx, store, cursor, limit)
}

// Entry is m as the outbox records it at time at.
func Entry(m notify.Message, at time.Time) dynamostore.OutboxEntry {
	return dynamostore.OutboxEntry{
		StoreID: m.StoreID, MessageID: m.ID, MemberID: m.MemberID, Channel: string(m.Channel),
		To: m.To, ToMasked: notify.Mask(m.To),
		Text: m.Text, SpeakText: m.SpeakText, Link: m.Link, Kind: m.Kind, Lang: m.Lang,
		At: at.UTC(),
	}
}

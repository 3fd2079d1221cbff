package dynamostore

import (
	"context"
	"testing"
	"time"

	"yinling/shared/reminder"
	"yinling/shared/testenv"
)

// The claim is what makes a delivery happen once: a second claim of a live claim is Busy, of a
// recorded one AlreadyDone, of an expired one Claimed again; only the holder records.
func TestClaimRecord(t *testing.T) {
	env := testenv.New(t)
	s := New(env.DynamoDB, env.TableName())
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	a := DeliveryRef{StoreID: "s1", ReminderID: "r1", MemberID: "m1", Occurrence: "20261123T0000Z", Attempt: "A0"}
	b := a
	b.ReminderID = "r2"

	claims, res, err := s.ClaimDeliveries(ctx, []DeliveryRef{a, b}, now)
	if err != nil || res[0] != Claimed || res[1] != Claimed {
		t.Fatalf("first claims = %v, %v", res, err)
	}
	_, res2, err := s.ClaimDeliveries(ctx, []DeliveryRef{a, b}, now.Add(time.Second))
	if err != nil || res2[0] != Busy || res2[1] != Busy {
		t.Fatalf("claims of live claims = %v, %v; want Busy, Busy", res2, err)
	}
	n, err := s.RecordOutcomes(ctx, []Outcome{{Claim: claims[0], State: DeliverySent, Provider: "outbox", ProviderID: "p1", At: now}})
	if err != nil || n != 1 {
		t.Fatalf("record = %d, %v", n, err)
	}
	// b's claim expires: another sender takes it over, and the first holder can no longer record.
	late := now.Add(ClaimTTL + time.Second)
	claims3, res3, err := s.ClaimDeliveries(ctx, []DeliveryRef{a, b}, late)
	if err != nil || res3[0] != AlreadyDone || res3[1] != Claimed {
		t.Fatalf("claims after record/expiry = %v, %v; want AlreadyDone, Claimed", res3, err)
	}
	if n, err := s.RecordOutcomes(ctx, []Outcome{{Claim: claims[1], State: DeliverySent, At: late}}); err != nil || n != 0 {
		t.Fatalf("stale holder recorded %d, %v; want 0", n, err)
	}
	if n, err := s.RecordOutcomes(ctx, []Outcome{{Claim: claims3[1], State: DeliveryFailed, Reason: "invalid_recipient", At: late}}); err != nil || n != 1 {
		t.Fatalf("new holder recorded %d, %v; want 1", n, err)
	}
	st, err := s.ReminderStatus(ctx, "s1", "r2", "", 10)
	if err != nil || len(st.Occurrences) != 1 || st.Occurrences[0].Deliveries[0].State != DeliveryFailed {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

// The dispatcher finds a reminder in its minute's shard, and advancing it twice for the same
// occurrence writes once.
func TestDueAndAdvance(t *testing.T) {
	env := testenv.New(t)
	s := New(env.DynamoDB, env.TableName())
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	at := now.Add(time.Minute)
	r := reminder.Reminder{ID: "r1", StoreID: "s1", MemberID: "m1", Kind: reminder.KindMedication, Text: "吃药",
		Rule:   reminder.Rule{Freq: reminder.FreqDaily, Start: "2026-11-23", At: "08:01", TimeZone: "Asia/Shanghai"},
		Status: reminder.StatusActive, NextAt: at, CreatedBy: "m1", CreatedVia: reminder.ViaMember, CreatedAt: now, UpdatedAt: now}
	putMember(t, s, "s1", "m1")
	if err := s.CreateReminder(ctx, r, "hash1"); err != nil {
		t.Fatal(err)
	}
	page, err := s.DueIn(ctx, at, dueShard("r1"), nil, 100)
	if err != nil || len(page.Items) != 1 || page.Items[0].Reminder.ID != "r1" {
		t.Fatalf("due = %+v, %v", page, err)
	}
	adv := r
	adv.LastAt, adv.NextAt = at, at.Add(24*time.Hour)
	for i, want := range []int{1, 0} {
		n, err := s.AdvanceReminders(ctx, []Advance{{Reminder: adv, Was: at}}, at.Add(time.Second))
		if err != nil || n != want {
			t.Fatalf("advance #%d = %d, %v; want %d", i, n, err, want)
		}
	}
	if page, _ := s.DueIn(ctx, at, dueShard("r1"), nil, 100); len(page.Items) != 0 {
		t.Errorf("still due after advance: %+v", page.Items)
	}
	got, err := s.GetReminder(ctx, "s1", "r1")
	if err != nil || !got.NextAt.Equal(adv.NextAt) || !got.LastAt.Equal(at) {
		t.Fatalf("after advance = %+v, %v", got, err)
	}
	// A page that read the reminder before the advance cannot put back the old NextAt.
	if err := s.UpdateReminder(ctx, r, r.UpdatedAt); err != ErrReminderChanged {
		t.Errorf("stale update = %v, want ErrReminderChanged", err)
	}
	if err := s.SetWatermark(ctx, at); err != nil {
		t.Fatal(err)
	}
	if err := s.SetWatermark(ctx, now); err != nil { // never moves back
		t.Fatal(err)
	}
	if w, err := s.Watermark(ctx); err != nil || !w.Equal(at) {
		t.Errorf("watermark = %v, %v; want %v", w, err, at)
	}
}

// putMember stores a bare member profile.
func putMember(t *testing.T, s *Store, store, id string) {
	t.Helper()
	pk, sk := memberKey(store, id)
	if err := s.putNew(context.Background(), memberItem{PK: pk, SK: sk, T: typeMember, ID: id, StoreID: store, Name: "张阿姨"}); err != nil {
		t.Fatal(err)
	}
}

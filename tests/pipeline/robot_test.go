package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/notify"
	"yinling/shared/reminder"
)

// TestGroupReminderGoesToTheRobot: a group's reminder (no member) is posted once to the group's
// WeCom robot — not to anyone's phone, and without an acknowledgement ladder; a group without a
// robot records it suppressed.
func TestGroupReminderGoesToTheRobot(t *testing.T) {
	start := time.Date(2026, 11, 23, 2, 0, 30, 0, time.UTC)
	due := start.Truncate(time.Minute).Add(time.Minute)
	h, _, p := newCountedHarness(t, start)
	ctx := context.Background()
	for _, g := range []group.Group{
		{ID: "g-robot", StoreID: store, Name: "健康群", EntryRule: group.RuleOpen, JoinCode: "ROBO2345", RobotKey: "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", CreatedAt: start, UpdatedAt: start},
		{ID: "g-plain", StoreID: store, Name: "书法群", EntryRule: group.RuleOpen, JoinCode: "PLAN2345", CreatedAt: start, UpdatedAt: start},
	} {
		if _, err := h.st.CreateGroup(ctx, g, dynamostore.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	var rs []reminder.Reminder
	for _, g := range []string{"g-robot", "g-plain"} {
		r, err := reminder.New(reminder.Draft{Kind: reminder.KindEvent, Text: "明天上午九点名医答疑",
			Rule: reminder.Rule{Freq: reminder.FreqOnce, Start: due.In(shanghai).Format("2006-01-02"), At: due.In(shanghai).Format("15:04")}}, start)
		must(t, err)
		r.ID, r.StoreID, r.GroupID, r.CreatedBy, r.CreatedVia = "r-"+g, store, g, "staff-1", reminder.ViaStaff
		rs = append(rs, r)
	}
	must(t, h.st.CreateBroadcast(ctx, rs, []string{"h1", "h2"}))
	must(t, h.st.SetWatermark(ctx, start.Truncate(time.Minute)))
	h.clock.Add(time.Minute)
	if _, err := h.disp.Handle(ctx, events.EventBridgeEvent{}); err != nil {
		t.Fatal(err)
	}
	for h.pumpOnce(h.deliveries, h.send.Handle) > 0 {
	}
	if len(p.sent) != 1 {
		t.Fatalf("provider got %d messages, want 1: %+v", len(p.sent), p.sent)
	}
	if m := p.sent[0]; m.Channel != notify.ChannelWeCom || m.To != "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa" || m.MemberID != "" {
		t.Errorf("group post = %+v, want one WeCom message to the robot", m)
	}
	for r, want := range map[string]string{"r-g-robot": dynamostore.DeliverySent, "r-g-plain": dynamostore.DeliverySuppressed} {
		st, err := h.st.ReminderStatus(ctx, store, r, "", 10)
		must(t, err)
		if got := st.Occurrences[0].Deliveries[0]; got.State != want || got.Attempt != "W" {
			t.Errorf("%s: %s %s, want W %s", r, got.Attempt, got.State, want)
		}
	}
	if n := h.depth(h.checks); n != 0 {
		t.Errorf("%d acknowledgement checks for group posts, want none", n)
	}
}

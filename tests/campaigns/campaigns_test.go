// Package campaigns tests the campaign pipeline — fanout queue, fanout, deliveries queue, sender,
// and the dispatcher for scheduled runs and quiet hours — against the emulators: the weekly
// budget across campaigns, consent and opt-out, quiet hours, cancelling mid-send, redelivered
// and duplicated messages, a crash between writing chunks and enqueueing them, provider
// failures, and the store's daily paid quota. No member is contacted twice, none is lost.
package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"yinling/functions/dispatcher"
	"yinling/functions/fanout"
	"yinling/functions/sender"
	"yinling/shared/awscalls"
	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/member"
	"yinling/shared/notify"
	"yinling/shared/promo"
	"yinling/shared/queues"
	"yinling/shared/sqsmsg"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
)

const store = "s-camp"

// provider records every message it accepts, and fails those fail picks (transiently).
type provider struct {
	mu    sync.Mutex
	calls map[string]int // message id → accepted how often
	to    map[string]int // member → messages accepted
	msgs  []notify.Message
	fail  func(m notify.Message) error
}

func (p *provider) Send(_ context.Context, m notify.Message) (notify.Receipt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		if err := p.fail(m); err != nil {
			return notify.Receipt{}, err
		}
	}
	p.calls[m.ID]++
	p.to[m.MemberID]++
	p.msgs = append(p.msgs, m)
	return notify.Receipt{Provider: "test", ProviderID: m.ID}, nil
}

func (p *provider) sentTo(memberID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.to[memberID]
}

func (p *provider) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type harness struct {
	t          testing.TB
	env        *testenv.Env
	st         *dynamostore.Store
	clock      *clock
	p          *provider
	fan        *fanout.Handler
	send       *sender.Handler
	disp       *dispatcher.Handler
	fanoutURL  string
	deliveries string
	crash      func(step string) error
	fanQ       *sqsmsg.Queue      // the fanout queue as the functions (and the API) reach it
	seedStore  *dynamostore.Store // uncounted
	polls      int                // Lambda's poller's SQS requests: receives and batch deletes
}

func newHarness(t testing.TB, now time.Time, pageSize int) *harness {
	return newCountedHarness(t, now, pageSize, nil)
}

// newCountedHarness is newHarness with the functions' AWS calls counted by counter (nil: not
// counted); the harness's own calls — seeding, and Lambda's part of polling — are not.
func newCountedHarness(t testing.TB, now time.Time, pageSize int, counter *awscalls.Counter) *harness {
	env := testenv.New(t)
	cfg := env.AWS.Copy()
	if counter != nil {
		cfg.APIOptions = append(cfg.APIOptions, counter.Register)
	}
	db, queue := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	st := dynamostore.New(db, env.TableName())
	h := &harness{t: t, env: env, st: st, clock: &clock{t: now}, fanoutURL: env.Ref("FanoutQueue"), deliveries: env.Ref("DeliveriesQueue"),
		p: &provider{calls: map[string]int{}, to: map[string]int{}}}
	log := slog.New(slog.DiscardHandler)
	key := []byte("k")
	h.fanQ = sqsmsg.NewQueue(queue, h.fanoutURL)
	h.fan = fanout.New(fanout.Deps{Store: st, Deliveries: sqsmsg.NewQueue(queue, h.deliveries), Fanout: h.fanQ,
		Key: key, Log: log, Now: h.clock.Now, PageSize: pageSize, Crash: func(step string) error {
			if h.crash != nil {
				return h.crash(step)
			}
			return nil
		}})
	h.send = sender.New(sender.Deps{Store: st, Channels: map[notify.Channel]notify.Sender{notify.ChannelVoice: h.p, notify.ChannelSMS: h.p, notify.ChannelWeCom: h.p},
		Key: key, BaseURL: "https://yl.example", Log: log, Now: h.clock.Now})
	h.disp = dispatcher.New(dispatcher.Deps{Store: st, Deliveries: sqsmsg.NewQueue(queue, h.deliveries), Fanout: sqsmsg.NewQueue(queue, h.fanoutURL),
		Log: log, Now: h.clock.Now})
	ctx := context.Background()
	h.seedStore = dynamostore.New(env.DynamoDB, env.TableName())
	must(t, h.seedStore.CreateStore(ctx, tenant.Store{ID: store, Name: "银龄便利店", TimeZone: tenant.DefaultTimeZone, PushCap: 2, CreatedAt: now}))
	return h
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) group(id string, pushCap int) {
	_, err := h.seedStore.CreateGroup(context.Background(), group.Group{ID: id, StoreID: store, Name: "太极队 " + id, EntryRule: group.RuleOpen,
		PushCap: pushCap, JoinCode: "J" + id, CreatedAt: h.clock.Now(), UpdatedAt: h.clock.Now()}, dynamostore.Idempotency{})
	must(h.t, err)
}

// members imports n active members of a group, verified and consenting to marketing unless
// change says otherwise, with ids prefix-000…
func (h *harness) members(groupID, prefix string, n int, change func(i int, m *member.Member)) []string {
	now := h.clock.Now().Add(-time.Hour)
	var ms []member.Member
	var mss []member.Membership
	var ids []string
	for i := range n {
		phone, err := member.ParsePhone(fmt.Sprintf("+86137%08d", len(prefix)*100000+i))
		must(h.t, err)
		m := member.Member{ID: fmt.Sprintf("%s-%03d", prefix, i), StoreID: store, Name: "王阿姨", Phone: phone, VerifiedAt: now,
			VerifiedBy: "staff", BirthYear: 1950, Channel: member.ChannelSMS, QuietHours: member.DefaultQuietHours,
			TimeZone: member.DefaultTimeZone, Tier: member.TierMember, CreatedAt: now, UpdatedAt: now,
			Consents: member.Consents(nil).Apply(member.Changes(nil, map[member.ConsentKind]bool{member.ConsentService: true, member.ConsentMarketing: true}, now))}
		if change != nil {
			change(i, &m)
		}
		ms = append(ms, m)
		mss = append(mss, member.Membership{StoreID: store, GroupID: groupID, MemberID: m.ID, Status: member.StatusActive, Path: member.PathQR, JoinedAt: now.Add(time.Duration(i) * time.Second)})
		ids = append(ids, m.ID)
	}
	must(h.t, h.seedStore.ImportMembers(context.Background(), ms, mss))
	return ids
}

// campaign creates a campaign sent now (or at sendAt) and enqueues its start, as the API does.
func (h *harness) campaign(id string, kind promo.Kind, channel promo.Channel, groups []string, sendAt time.Time) promo.Campaign {
	now := h.clock.Now()
	d := promo.Draft{Kind: kind, Title: "鸡蛋特价", Body: "本周鸡蛋会员价，到店领取", Channel: channel,
		Audience: promo.Audience{Groups: groups}, SendAt: sendAt}
	if kind == promo.KindPromotion {
		d.Offer = &promo.Offer{Prices: map[member.Tier]int{member.TierMember: 1590, member.TierLeader: 1290, member.TierPartner: 990},
			PickupPlace: "幸福路店", PickupFrom: now, PickupUntil: now.Add(7 * 24 * time.Hour)}
	}
	c, err := promo.New(d, now)
	must(h.t, err)
	c.ID, c.StoreID, c.CreatedBy = id, store, "staff-1"
	must(h.t, h.st.CreateCampaign(context.Background(), c))
	if sendAt.IsZero() {
		must(h.t, h.fanQ.Send(context.Background(),
			[]sqsmsg.Outgoing{queues.StartMessage(store, c.ID, 0, c.Audience.Groups[0])}))
	}
	return c
}

// pump receives up to ten messages and hands them to handle copies times (a redelivery each
// time after the first), as Lambda would; it deletes what the last invocation did not fail.
func (h *harness) pump(url string, handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), copies int) int {
	ctx := context.Background()
	out, err := h.env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 30,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	must(h.t, err)
	if len(out.Messages) == 0 {
		return 0
	}
	failed := map[string]bool{}
	for copy := range copies {
		ev := events.SQSEvent{}
		for _, m := range out.Messages {
			count := m.Attributes["ApproximateReceiveCount"]
			if copy > 0 {
				count = "2"
			}
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, Body: *m.Body,
				Attributes: map[string]string{"ApproximateReceiveCount": count}})
		}
		resp, err := handle(ctx, ev)
		clear(failed)
		if err != nil {
			for _, r := range ev.Records {
				failed[r.MessageId] = true
			}
		}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	var done []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if failed[*m.MessageId] {
			_, err := h.env.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
			must(h.t, err)
			continue
		}
		done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
	}
	h.polls++
	if len(done) > 0 { // as Lambda's poller does: one batch delete
		h.polls++
		_, err := h.env.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: done})
		must(h.t, err)
	}
	return len(out.Messages)
}

// drain runs fanout and sender until both queues are empty, each message handled copies times.
func (h *harness) drain(copies int) {
	for round, idle := 0, 0; round < 200 && idle < 2; round++ {
		n := h.pump(h.fanoutURL, h.fan.Handle, copies) + h.pump(h.deliveries, h.send.Handle, copies)
		if n == 0 {
			idle++
			continue
		}
		idle = 0
	}
}

func (h *harness) stats(id string) (promo.Campaign, promo.Stats) {
	c, st, err := h.st.Campaign(context.Background(), store, id)
	must(h.t, err)
	return c, st
}

// noon is a time outside everyone's quiet hours.
var noon = time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC) // 12:00 in Shanghai

// TestCampaignReachesEachMemberOnce: a campaign to two overlapping groups, read in pages of 7,
// every message handled twice (a redelivery each): each member of the audience gets exactly one
// SMS with their own offer link; members without consent, opted out, unverified or who chose no
// channel get nothing and are counted by reason; the stats add up.
func TestCampaignReachesEachMemberOnce(t *testing.T) {
	h := newHarness(t, noon, 7)
	h.group("g1", 0)
	h.group("g2", 0)
	ok := h.members("g1", "a", 20, nil)
	both := h.members("g2", "a", 5, nil) // a-000…a-004 are in both groups
	off := h.members("g2", "b", 4, func(i int, m *member.Member) {
		switch i {
		case 0:
			m.Consents = member.Consents(nil).Apply(member.Changes(nil, map[member.ConsentKind]bool{member.ConsentService: true}, m.CreatedAt))
		case 1:
			m.VerifiedAt = time.Time{}
		case 2:
			m.Channel = member.ChannelNone
		}
	})
	ctx := context.Background()
	// b-003 unsubscribes from an earlier push's link.
	r, err := h.st.Recipients(ctx, store, off[3:])
	must(t, err)
	withdrawal := member.Changes(r[off[3]].Consents, map[member.ConsentKind]bool{member.ConsentMarketing: false}, noon)
	if _, err := h.st.Unsubscribe(ctx, r[off[3]].Member, withdrawal[0], nil, noon); err != nil {
		t.Fatal(err)
	}

	h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1", "g2"}, time.Time{})
	h.drain(2)

	for _, id := range append(ok, both...) {
		if got := h.p.sentTo(id); got != 1 {
			t.Errorf("member %s got %d messages, want 1", id, got)
		}
	}
	for _, id := range off {
		if got := h.p.sentTo(id); got != 0 {
			t.Errorf("member %s (no consent, unverified, no channel or opted out) got %d messages, want 0", id, got)
		}
	}
	for _, m := range h.p.msgs {
		tok := strings.TrimPrefix(m.Link, "https://yl.example/o/")
		if !promo.ValidOfferToken([]byte("k"), tok, m.MemberID) || m.Text != "本周鸡蛋会员价，到店领取" || !strings.Contains(m.SpeakText, "15.90") {
			t.Errorf("message %+v: want the body, the member's own offer link and their price", m)
		}
	}
	// One member opens the offer twice and unsubscribes from it: counted once each, in the
	// campaign and in the group's health.
	m := h.p.msgs[0]
	code, pos, _ := promo.ParseOfferToken(strings.TrimPrefix(m.Link, "https://yl.example/o/"))
	ch, err := h.st.OfferChunk(ctx, code)
	must(t, err)
	for range 2 {
		_, err := h.st.OpenOffer(ctx, ch, ch.Members[pos])
		must(t, err)
		ch, err = h.st.OfferChunk(ctx, code)
		must(t, err)
	}
	rs, err := h.st.Recipients(ctx, store, []string{ch.Members[pos]})
	must(t, err)
	out := member.Changes(rs[ch.Members[pos]].Consents, map[member.ConsentKind]bool{member.ConsentMarketing: false}, noon)
	if first, err := h.st.Unsubscribe(ctx, rs[ch.Members[pos]].Member, out[0], &ch, noon); err != nil || !first {
		t.Fatalf("Unsubscribe = %v, %v; want the first", first, err)
	}
	health, err := h.st.GroupHealth(ctx, store, ch.GroupID, noon)
	must(t, err)
	if health.PushOpens != 1 || health.PushOptOuts != 1 {
		t.Errorf("group health pushes = %d opens, %d opt-outs; want 1 and 1", health.PushOpens, health.PushOptOuts)
	}

	c, st := h.stats("C1")
	want := promo.Stats{Audience: 24, Queued: 20, Sent: 20, Opened: 1, Unsubscribed: 1, Suppressed: map[promo.Reason]int{
		promo.ReasonNoConsent: 1, promo.ReasonUnverified: 1, promo.ReasonChannel: 1, promo.ReasonOptedOut: 1}}
	if c.Status != promo.StatusSent || fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("campaign %s, stats %+v; want sent, %+v", c.Status, st, want)
	}
}

// TestBudgetAcrossCampaigns: with a group cap of 1 a week, the second promotion of the week is
// suppressed for budget — but a content push (its own budget) still goes; a week later the cap
// allows one again.
func TestBudgetAcrossCampaigns(t *testing.T) {
	h := newHarness(t, noon, 50)
	h.group("g1", 1)
	ids := h.members("g1", "m", 6, nil)
	h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	h.drain(1)
	h.clock.Add(2 * 24 * time.Hour)
	h.campaign("C2", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	h.campaign("T1", promo.KindContent, promo.ChannelSMS, []string{"g1"}, time.Time{})
	h.drain(1)
	if _, st := h.stats("C2"); st.Sent != 0 || st.Suppressed[promo.ReasonBudget] != 6 {
		t.Errorf("second promotion in the week: %+v, want all 6 suppressed for budget", st)
	}
	if _, st := h.stats("T1"); st.Sent != 6 {
		t.Errorf("content push: %+v, want 6 sent (its own budget)", st)
	}
	h.clock.Add(6 * 24 * time.Hour) // eight days after C1
	h.campaign("C3", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	h.drain(1)
	if _, st := h.stats("C3"); st.Sent != 6 {
		t.Errorf("a week later: %+v, want 6 sent", st)
	}
	for _, id := range ids {
		if got := h.p.sentTo(id); got != 3 {
			t.Errorf("member %s got %d messages, want 3 (C1, T1, C3)", id, got)
		}
	}
}

// TestQuietHoursDelay: a campaign at 22:00 in Shanghai reaches nobody at once; its chunk waits in
// the Due index and goes at 08:00, once, however often the dispatcher reads the minute.
func TestQuietHoursDelay(t *testing.T) {
	late := time.Date(2026, 11, 23, 14, 0, 30, 0, time.UTC) // 22:00:30 in Shanghai
	h := newHarness(t, late, 50)
	h.group("g1", 0)
	h.members("g1", "m", 3, nil)
	h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	h.drain(1)
	if n := h.p.total(); n != 0 {
		t.Fatalf("at 22:00 the provider got %d messages, want 0", n)
	}
	if _, st := h.stats("C1"); st.Deferred != 3 || st.Queued != 3 {
		t.Fatalf("stats at 22:00 = %+v, want 3 queued for the morning", st)
	}
	eight := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	must(t, h.st.SetWatermark(ctx, eight.Add(-time.Minute)))
	h.clock.Set(eight.Add(10 * time.Second))
	for range 2 {
		must(t, h.st.SetWatermark(ctx, eight.Add(-time.Minute)))
		if _, err := h.disp.Handle(ctx, events.EventBridgeEvent{}); err != nil {
			t.Fatal(err)
		}
		h.drain(1)
	}
	if _, st := h.stats("C1"); h.p.total() != 3 || st.Sent != 3 {
		t.Errorf("after 08:00: %d messages, stats %+v; want 3 sent", h.p.total(), st)
	}
}

// TestCancelWhileHeldForQuietHours: a campaign whose fan-out ended at 22:00 is "sent" with its
// messages held for the morning; staff can still cancel it, and at 08:00 nobody is contacted.
// Once everything went, cancelling is refused.
func TestCancelWhileHeldForQuietHours(t *testing.T) {
	late := time.Date(2026, 11, 23, 14, 0, 30, 0, time.UTC) // 22:00:30 in Shanghai
	h := newHarness(t, late, 50)
	h.group("g1", 0)
	h.members("g1", "m", 3, nil)
	h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	h.drain(1)
	cur, sofar := h.stats("C1")
	if cur.Status != promo.StatusSent || sofar.Pending() != 3 {
		t.Fatalf("at 22:00: status %s, %d pending; want sent with 3 held for the morning", cur.Status, sofar.Pending())
	}
	cancelled, err := cur.Cancel("staff-1", sofar, h.clock.Now())
	must(t, err)
	ctx := context.Background()
	must(t, h.st.SaveCampaignStatus(ctx, cancelled, cur.UpdatedAt))

	eight := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	must(t, h.st.SetWatermark(ctx, eight.Add(-time.Minute)))
	h.clock.Set(eight.Add(10 * time.Second))
	if _, err := h.disp.Handle(ctx, events.EventBridgeEvent{}); err != nil {
		t.Fatal(err)
	}
	h.drain(1)
	after, st := h.stats("C1")
	if h.p.total() != 0 || st.Skipped != 3 || st.Pending() != 0 {
		t.Errorf("after 08:00: %d messages, stats %+v; want none sent, 3 skipped", h.p.total(), st)
	}
	if _, err := after.Cancel("staff-1", st, h.clock.Now()); err != nil {
		t.Errorf("cancelling the cancelled campaign again = %v, want it answered as it is", err)
	}
	after.Status = promo.StatusSent
	if _, err := after.Cancel("staff-1", st, h.clock.Now()); !errors.Is(err, promo.ErrAlreadySent) {
		t.Errorf("cancelling a campaign with nothing left to send = %v, want ErrAlreadySent", err)
	}
}

// TestCancelMidSend: a campaign cancelled after its first page is written stops: the next page
// writes nothing, and the queued chunk's recipients are skipped, not sent.
func TestCancelMidSend(t *testing.T) {
	h := newHarness(t, noon, 5)
	h.group("g1", 0)
	h.members("g1", "m", 12, nil)
	c := h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	if n := h.pump(h.fanoutURL, h.fan.Handle, 1); n != 1 {
		t.Fatalf("pumped %d fan-out messages, want the first page", n)
	}
	cur, sofar := h.stats(c.ID)
	cancelled, err := cur.Cancel("staff-1", sofar, h.clock.Now())
	must(t, err)
	must(t, h.st.SaveCampaignStatus(context.Background(), cancelled, cur.UpdatedAt))
	h.drain(1)
	_, st := h.stats(c.ID)
	if h.p.total() != 0 || st.Queued != 5 || st.Skipped != 5 || st.Sent != 0 {
		t.Errorf("after cancelling: %d messages, stats %+v; want 5 queued, 5 skipped, none sent", h.p.total(), st)
	}
}

// TestCrashBetweenChunkWriteAndEnqueue: the fan-out dies after writing a page's chunks and before
// enqueueing them; the redelivered message finds them and enqueues them: every member gets one
// message, none two.
func TestCrashBetweenChunkWriteAndEnqueue(t *testing.T) {
	h := newHarness(t, noon, 200)
	h.group("g1", 0)
	ids := h.members("g1", "m", 150, nil) // two chunks of 97 and 53
	crashed := 0
	h.crash = func(step string) error {
		if step == fanout.StepChunksWritten && crashed == 0 {
			crashed++
			return errors.New("injected crash")
		}
		return nil
	}
	h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	h.drain(1)
	if crashed != 1 {
		t.Fatalf("crashed %d times, want 1", crashed)
	}
	for _, id := range ids {
		if got := h.p.sentTo(id); got != 1 {
			t.Fatalf("member %s got %d messages, want 1", id, got)
		}
	}
	if _, st := h.stats("C1"); st.Sent != 150 || st.Queued != 150 || st.Audience != 150 {
		t.Errorf("stats %+v, want 150 in the audience, queued and sent", st)
	}
}

// TestCopyOfACrashedPage: a page's message crashes between writing its chunks and enqueuing
// them; a duplicate of it, a first delivery, finds every member counted already and — being the
// last page — finishes the campaign before the crashed copy comes back. The duplicate must
// enqueue the chunks it found, or nobody sends them: the long soak (seed 7) lost a page of 375
// members this way.
func TestCopyOfACrashedPage(t *testing.T) {
	h := newHarness(t, noon, 100)
	h.group("g1", 0)
	ids := h.members("g1", "m", 150, nil) // page 0: 100 members, page 1: 50
	c := h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	if n := h.pump(h.fanoutURL, h.fan.Handle, 1); n != 1 {
		t.Fatalf("page 0: %d messages, want 1", n)
	}
	ctx := context.Background()
	out, err := h.env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &h.fanoutURL, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
	must(t, err)
	if len(out.Messages) != 1 {
		t.Fatalf("page 1: %d messages, want 1", len(out.Messages))
	}
	page1 := func(id, count string) events.SQSEvent {
		return events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: *out.Messages[0].Body,
			Attributes: map[string]string{"ApproximateReceiveCount": count}}}}
	}
	h.crash = func(step string) error {
		if step == fanout.StepChunksWritten {
			return errors.New("injected crash")
		}
		return nil
	}
	if resp, _ := h.fan.Handle(ctx, page1("first", "1")); len(resp.BatchItemFailures) != 1 {
		t.Fatalf("the crashed copy: %+v, want its message failed", resp)
	}
	h.crash = nil
	if resp, err := h.fan.Handle(ctx, page1("duplicate", "1")); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the duplicate: %+v, %v; want it handled", resp, err)
	}
	if got, _ := h.stats(c.ID); got.Status != promo.StatusSent {
		t.Fatalf("campaign %s after the last page, want sent", got.Status)
	}
	if resp, err := h.fan.Handle(ctx, page1("first", "2")); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the crashed copy's redelivery: %+v, %v; want it handled", resp, err)
	}
	_, err = h.env.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &h.fanoutURL, ReceiptHandle: out.Messages[0].ReceiptHandle})
	must(t, err)
	h.drain(1)
	for _, id := range ids {
		if got := h.p.sentTo(id); got != 1 {
			t.Fatalf("member %s got %d messages, want 1", id, got)
		}
	}
	if _, st := h.stats(c.ID); st.Sent != 150 || st.Queued != 150 || st.Pending() != 0 {
		t.Errorf("stats %+v, want 150 queued and sent", st)
	}
}

// TestProviderFailures: the provider fails a third of the calls once; the chunk is retried for
// those recipients alone, and everyone ends with one message.
func TestProviderFailures(t *testing.T) {
	h := newHarness(t, noon, 100)
	h.group("g1", 0)
	ids := h.members("g1", "m", 30, nil)
	failedOnce := map[string]bool{}
	h.p.fail = func(m notify.Message) error {
		if n := m.MemberID[len(m.MemberID)-1]; (n-'0')%3 == 0 && !failedOnce[m.MemberID] {
			failedOnce[m.MemberID] = true
			return errors.New("injected provider outage")
		}
		return nil
	}
	h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	h.drain(1)
	for _, id := range ids {
		if got := h.p.sentTo(id); got != 1 {
			t.Errorf("member %s got %d messages, want 1", id, got)
		}
	}
	if len(failedOnce) == 0 {
		t.Fatal("no provider failure was injected")
	}
	if _, st := h.stats("C1"); st.Sent != 30 || st.Failed != 0 {
		t.Errorf("stats %+v, want 30 sent", st)
	}
}

// TestDuplicateStarts: the campaign's first page arrives three times at once as a first delivery
// (the API's message, the dispatcher's, and a duplicate); one run is made.
func TestDuplicateStarts(t *testing.T) {
	h := newHarness(t, noon, 10)
	h.group("g1", 0)
	ids := h.members("g1", "m", 25, nil)
	c := h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, time.Time{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			_ = h.fan.Page(ctx, queues.Fanout{Store: store, Campaign: c.ID, GroupID: "g1"}, false)
		})
	}
	wg.Wait()
	h.drain(1)
	for _, id := range ids {
		if got := h.p.sentTo(id); got != 1 {
			t.Errorf("member %s got %d messages, want 1", id, got)
		}
	}
	if _, st := h.stats(c.ID); st.Sent != 25 || st.Audience != 25 {
		t.Errorf("stats %+v, want 25 in the audience and sent", st)
	}
}

// TestScheduledAndPaidQuota: a campaign scheduled for 14:00 starts when the dispatcher reads that
// minute; the store's paid quota of 10 a day lets 10 through and suppresses the rest.
func TestScheduledAndPaidQuota(t *testing.T) {
	h := newHarness(t, noon, 5) // chunks of 5: the quota is counted a chunk at a time
	ctx := context.Background()
	h.group("g1", 0)
	h.members("g1", "m", 15, nil)
	two := noon.Add(2 * time.Hour)
	h.campaign("C1", promo.KindPromotion, promo.ChannelSMS, []string{"g1"}, two)
	// the quota is the store's: lower it for this test
	_, err := h.env.DynamoDB.UpdateItem(ctx, updateQuota(h.env.TableName(), store, 10))
	must(t, err)
	h.drain(1)
	if h.p.total() != 0 {
		t.Fatal("a scheduled campaign was sent before its time")
	}
	h.clock.Set(two.Add(5 * time.Second))
	must(t, h.st.SetWatermark(ctx, two.Add(-time.Minute)))
	if _, err := h.disp.Handle(ctx, events.EventBridgeEvent{}); err != nil {
		t.Fatal(err)
	}
	h.drain(1)
	c, st := h.stats("C1")
	if c.Status != promo.StatusSent || h.p.total() != 10 || st.Sent != 10 || st.Suppressed[promo.ReasonQuota] != 5 {
		t.Errorf("at 14:00: %s, %d messages, stats %+v; want sent, 10 sent and 5 suppressed by the quota", c.Status, h.p.total(), st)
	}
}

// updateQuota sets a store's daily paid quota, as an operator would in the table.
func updateQuota(table, storeID string, n int) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{TableName: &table,
		Key: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "STORE#" + storeID},
			"SK": &ddbtypes.AttributeValueMemberS{Value: "STORE"}},
		UpdateExpression:          aws.String("SET PaidQuota = :n"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":n": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(n)}}}
}

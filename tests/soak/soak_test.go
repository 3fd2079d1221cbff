// Package soak drives reminders, bookings and two concurrent campaigns through the real
// handlers, the emulators' table and queues at once, with faults injected (shared/faults) into
// about one DynamoDB and SQS call in ten, into the providers, and into the consumers between
// their steps, and with queue messages delivered twice; then it checks the product's promises:
// every reminder occurrence sent exactly once (or in the DLQ), no session overbooked and its
// counts matching its bookings, no member contacted twice by a campaign, the weekly budget kept.
//
// `go test ./...` runs a short soak; `make soak` (YINLING_SOAK=1, or -soak.full) the long one.
package soak

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"yinling/functions/dispatcher"
	"yinling/functions/escalator"
	"yinling/functions/fanout"
	qahttp "yinling/functions/qa"
	"yinling/functions/sender"
	"yinling/shared/awscalls"
	"yinling/shared/bucket"
	"yinling/shared/dynamostore"
	"yinling/shared/faults"
	"yinling/shared/group"
	"yinling/shared/member"
	"yinling/shared/notify"
	"yinling/shared/promo"
	"yinling/shared/qa"
	"yinling/shared/queues"
	"yinling/shared/reminder"
	"yinling/shared/sqsmsg"
	"yinling/shared/tenant"
	"yinling/shared/testenv"
	"yinling/shared/voice"
)

var (
	fullFlag = flag.Bool("soak.full", os.Getenv("YINLING_SOAK") == "1", "run the long soak (make soak sets YINLING_SOAK=1)")
	seedFlag = flag.Uint64("soak.seed", envUint("YINLING_SOAK_SEED", 1), "seed of every injected fault and duplicate")
	// Sizes; 0 takes the mode's default.
	campaignFlag = flag.Int("soak.campaign", envInt("YINLING_SOAK_CAMPAIGN", 0), "members in the campaigns' audience")
	remindFlag   = flag.Int("soak.reminders", envInt("YINLING_SOAK_REMINDERS", 0), "members with a medication reminder due")
	bookersFlag  = flag.Int("soak.bookers", envInt("YINLING_SOAK_BOOKERS", 0), "members booking sessions")
	// traceFlag names a file for the functions' logs and every message's handling, to find out
	// why a run failed.
	traceFlag = flag.String("soak.trace", os.Getenv("YINLING_SOAK_TRACE"), "file to write the functions' logs and the messages' handling to")
)

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return def
}

func envUint(k string, def uint64) uint64 {
	if v, err := strconv.ParseUint(os.Getenv(k), 10, 64); err == nil {
		return v
	}
	return def
}

// size is how much the soak does.
type size struct {
	campaign, reminders, bookers, sessions, seats, bookingOps int
	deadline                                                  time.Duration
}

func sizes() size {
	s := size{campaign: 250, reminders: 24, bookers: 12, sessions: 2, seats: 3, bookingOps: 48, deadline: 2 * time.Minute}
	if *fullFlag {
		s = size{campaign: 3000, reminders: 300, bookers: 60, sessions: 6, seats: 4, bookingOps: 400, deadline: 5 * time.Minute}
	}
	for _, o := range []struct {
		flag int
		into *int
	}{{*campaignFlag, &s.campaign}, {*remindFlag, &s.reminders}, {*bookersFlag, &s.bookers}} {
		if o.flag > 0 {
			*o.into = o.flag
		}
	}
	return s
}

const store = "s-soak"

// The groups: the campaigns' audience, the reminders' seniors, the bookers.
const (
	groupC = "01JDQ7Z6W3V8G0X5Y4K2M9N1SC"
	groupR = "01JDQ7Z6W3V8G0X5Y4K2M9N1SR"
	groupB = "01JDQ7Z6W3V8G0X5Y4K2M9N1SB"
)

var (
	key      = []byte("soak-key")
	shanghai = func() *time.Location {
		l, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			panic(err)
		}
		return l
	}()
	// start is 12:00:30 in Shanghai: nobody is in quiet hours; the reminders are due at 12:01.
	start = time.Date(2026, 11, 23, 4, 0, 30, 0, time.UTC)
)

// clock is the functions' time. It runs with real time from start, and jumps a claim's TTL
// after a crash, so that a crashed claim has expired when its message comes back — as the
// queue's visibility timeout (longer than the TTL) would ensure in production.
//
// A jump waits until no invocation is running, and holds new ones back until it is done: in
// production no invocation outlives a claim (a function's timeout is shorter than every claim's
// TTL), so a jump must never expire the claims of a copy still at work. (Jumping under running
// invocations let a redelivered campaign chunk take over members its first copy was still
// sending to: the long soak's seed 1 counted 6 members contacted twice.)
type clock struct {
	mu      sync.Mutex
	base    time.Time
	real    time.Time
	running sync.RWMutex // read-held by every running invocation; a jump write-holds it
}

// invoke runs one invocation f; a jump waits for it. f must not call invoke.
func (c *clock) invoke(f func()) {
	c.running.RLock()
	defer c.running.RUnlock()
	f()
}

// jump moves the clock d ahead once no invocation is running.
func (c *clock) jump(d time.Duration) {
	c.running.Lock()
	defer c.running.Unlock()
	c.Add(d)
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.real))
}

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.base = c.base.Add(d); c.mu.Unlock() }

// accept is the provider behind the fault wrappers: it accepts everything (the wrappers count
// what it accepted).
var accept = notify.SenderFunc(func(_ context.Context, m notify.Message) (notify.Receipt, error) {
	return notify.Receipt{Provider: "soak", ProviderID: m.ID, At: time.Now()}, nil
})

// refusals records the messages a provider refused for good.
type refusals struct {
	next notify.Sender
	mu   sync.Mutex
	ids  map[string]bool
}

func (r *refusals) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	rec, err := r.next.Send(ctx, m)
	if notify.IsPermanent(err) {
		r.mu.Lock()
		r.ids[m.ID] = true
		r.mu.Unlock()
	}
	return rec, err
}

func (r *refusals) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

type soak struct {
	t     *testing.T
	size  size
	seed  uint64
	env   *testenv.Env
	clean *dynamostore.Store // without faults: seeding and checking
	st    *dynamostore.Store // the functions' store, with faults
	inj   *faults.Injector
	calls awscalls.Counter
	clock *clock
	// voice carries the reminders, sms the campaigns; refused records sms's permanent refusals.
	voice, sms *faults.Provider
	refused    *refusals
	crasher    *faults.Crasher
	trace      *slog.Logger // the functions' logs and each message's handling (-soak.trace)

	disp *dispatcher.Handler
	send *sender.Handler
	esc  *escalator.Handler
	fan  *fanout.Handler
	qa   lambda.Handler

	deliveries, checks, fanoutURL string
	dead                          map[string][]string // DLQ → bodies, once read

	rngMu sync.Mutex
	rng   *rand.Rand

	invocations, messages, duplicates, crashes, redelivered atomic.Int64
	sessionErrors                                           atomic.Int64 // 5xx answers the bookers retried
}

func (s *soak) float() float64 { s.rngMu.Lock(); defer s.rngMu.Unlock(); return s.rng.Float64() }

func newSoak(t *testing.T) *soak {
	s := &soak{t: t, size: sizes(), seed: *seedFlag, clock: &clock{base: start, real: time.Now()}, dead: map[string][]string{}}
	s.rng = rand.New(rand.NewPCG(s.seed, 0x50a6))
	s.env = testenv.New(t)
	all := []string{"DynamoDB", "SQS"}
	s.inj = faults.New(s.seed,
		// Inside the retry loop: what AWS does to a busy table and queue; the SDK retries.
		faults.Rule{Services: all, Rate: 0.07, Kinds: []faults.Kind{faults.Throttle, faults.ServerError, faults.Timeout}, Delay: 5 * time.Millisecond},
		// A write applied whose answer is lost, inside the retry loop: the SDK's retry meets
		// the write it made.
		faults.Rule{Services: all, Operations: writes(), Rate: 0.01, Kinds: []faults.Kind{faults.LostResponse}},
		// Outside the retry loop: errors our code gets after the SDK gave up, lost answers
		// included.
		faults.Rule{Services: all, Rate: 0.02, Kinds: []faults.Kind{faults.Throttle, faults.ServerError, faults.LostResponse}, Placement: faults.PerCall},
	)
	s.inj.Pause()
	cfg := s.env.AWS.Copy()
	// The SDK's retryer as in production but for its backoff, capped at 50 ms instead of 20 s:
	// the soak compresses time, as its clock does.
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = retry.NewExponentialJitterBackoff(50 * time.Millisecond) })
	}
	cfg.APIOptions = append(cfg.APIOptions, s.inj.Register, s.calls.Register)
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	voiceBucket := bucket.New(cfg, s.env.Ref("VoiceBucket"), func(o *bucket.Options) { o.UsePathStyle = true })
	s.st = dynamostore.New(db, s.env.TableName())
	s.clean = dynamostore.New(s.env.DynamoDB, s.env.TableName())
	s.deliveries, s.checks, s.fanoutURL = s.env.Ref("DeliveriesQueue"), s.env.Ref("AckChecksQueue"), s.env.Ref("FanoutQueue")

	s.voice = &faults.Provider{Sender: accept, Seed: s.seed, Transient: 0.1, Slow: 0.05, Crash: 0.01, Delay: 20 * time.Millisecond}
	s.sms = &faults.Provider{Sender: accept, Seed: s.seed + 1, Transient: 0.08, Permanent: 0.02, Slow: 0.02, Crash: 0.002, Delay: 20 * time.Millisecond}
	s.refused = &refusals{next: s.sms, ids: map[string]bool{}}
	s.crasher = &faults.Crasher{Seed: s.seed, Rate: 0.1, Steps: []string{fanout.StepChunksWritten, fanout.StepEnqueued}}

	s.trace = slog.New(slog.DiscardHandler)
	if *traceFlag != "" {
		f, err := os.Create(*traceFlag)
		must(t, err)
		t.Cleanup(func() { f.Close() })
		s.trace = slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	log := s.trace
	deliveries, checks, fanQ := sqsmsg.NewQueue(q, s.deliveries), sqsmsg.NewQueue(q, s.checks), sqsmsg.NewQueue(q, s.fanoutURL)
	ladders := reminder.DefaultLadders(1, time.Second)
	s.disp = dispatcher.New(dispatcher.Deps{Store: s.st, Deliveries: deliveries, Fanout: fanQ, Log: log, Now: s.clock.Now, PageSize: 50})
	s.send = sender.New(sender.Deps{Store: s.st, Channels: map[notify.Channel]notify.Sender{notify.ChannelVoice: s.voice,
		notify.ChannelSMS: s.refused, notify.ChannelWeCom: s.refused}, AckChecks: checks, Ladders: ladders, Key: key,
		BaseURL: "https://yl.example", Log: log, Now: s.clock.Now})
	s.esc = escalator.New(escalator.Deps{Store: s.st, Deliveries: deliveries, AckChecks: checks, Ladders: ladders, Log: log, Now: s.clock.Now})
	s.fan = fanout.New(fanout.Deps{Store: s.st, Deliveries: deliveries, Fanout: fanQ, Key: key, Log: log, Now: s.clock.Now,
		PageSize: s.pageSize(), Crash: s.crasher.Hook})
	s.qa = lambda.NewHandler(qahttp.New(qahttp.Deps{Store: s.st, Clips: voice.NewUploads(voiceBucket, s.clock.Now),
		Key: key, Log: log, Now: s.clock.Now}).Handle)
	return s
}

// pageSize is the fan-out's page: eight pages of the campaign's audience, at least 100 members.
func (s *soak) pageSize() int { return max(100, s.size.campaign/8) }

func writes() []string {
	var ops []string
	for _, w := range faults.Writes {
		ops = append(ops, w...)
	}
	return ops
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ------------------------------------------------------------------------------ seeding

type seeded struct {
	reminders []reminder.Reminder
	campaign  []string // member ids
	bookers   []string
	tokens    map[string]string // booker → session token
	sessions  []string
	campaigns []string
}

func (s *soak) populate() seeded {
	t, ctx := s.t, context.Background()
	now := s.clock.Now()
	must(t, s.clean.CreateStore(ctx, tenant.Store{ID: store, Name: "银龄便利店", TimeZone: tenant.DefaultTimeZone, PushCap: 2, CreatedAt: now}))
	// The campaigns' group allows one promotion a week: two promotions at once must share it.
	for _, g := range []struct {
		id   string
		cap  int
		code string
	}{{groupC, 1, "SOAKC234"}, {groupR, 0, "SOAKR234"}, {groupB, 0, "SOAKB234"}} {
		_, err := s.clean.CreateGroup(ctx, group.Group{ID: g.id, StoreID: store, Name: "群 " + g.id, EntryRule: group.RuleOpen,
			PushCap: g.cap, JoinCode: g.code, CreatedAt: now, UpdatedAt: now}, dynamostore.Idempotency{})
		must(t, err)
	}
	var out seeded
	out.campaign = s.importMembers(groupC, "c", s.size.campaign, member.ChannelSMS, member.ConsentMarketing)
	for i, id := range s.importMembers(groupR, "r", s.size.reminders, member.ChannelVoice, member.ConsentHealth) {
		r, err := reminder.New(reminder.Draft{Kind: reminder.KindMedication, Text: "该吃降压药了",
			Rule: reminder.Rule{Freq: reminder.FreqDaily, Start: start.In(shanghai).Format(time.DateOnly), At: "12:01"}}, now.Add(-time.Hour))
		must(t, err)
		r.ID, r.StoreID, r.MemberID, r.CreatedBy, r.CreatedVia = fmt.Sprintf("rem%04d", i), store, id, id, reminder.ViaMember
		must(t, s.clean.CreateReminder(ctx, r, "link-"+r.ID))
		out.reminders = append(out.reminders, r)
	}
	out.tokens = map[string]string{}
	for i := range s.size.bookers {
		id := fmt.Sprintf("b%04d", i)
		out.tokens[id] = s.signup(id, i)
		out.bookers = append(out.bookers, id)
	}
	must(t, s.clean.CreateDoctor(ctx, qa.Doctor{ID: "01JDD0000000000000000000D1", StoreID: store, Name: "张医生", Title: "主任医师",
		Speciality: "心内科", Bio: "擅长高血压的长期管理。", CreatedAt: now}))
	for range s.size.sessions {
		out.sessions = append(out.sessions, s.createSession())
	}
	for _, id := range []string{"C1", "C2"} {
		d := promo.Draft{Kind: promo.KindPromotion, Title: "鸡蛋特价", Body: "本周鸡蛋会员价，到店领取", Channel: promo.ChannelSMS,
			Audience: promo.Audience{Groups: []string{groupC}},
			Offer: &promo.Offer{Prices: map[member.Tier]int{member.TierMember: 1590, member.TierLeader: 1290, member.TierPartner: 990},
				PickupPlace: "幸福路店", PickupFrom: now, PickupUntil: now.Add(7 * 24 * time.Hour)}}
		c, err := promo.New(d, now)
		must(t, err)
		c.ID, c.StoreID, c.CreatedBy = id, store, "staff-1"
		must(t, s.clean.CreateCampaign(ctx, c))
		out.campaigns = append(out.campaigns, id)
	}
	// The reminders were due from 12:01; the dispatcher has read up to 12:00.
	must(t, s.clean.SetWatermark(ctx, start.Truncate(time.Minute)))
	return out
}

// importMembers imports n verified members of a group with the service consent and another.
func (s *soak) importMembers(groupID, prefix string, n int, channel member.Channel, consent member.ConsentKind) []string {
	now := s.clock.Now().Add(-24 * time.Hour)
	var ms []member.Member
	var mss []member.Membership
	var ids []string
	for i := range n {
		phone, err := member.ParsePhone(fmt.Sprintf("+86137%08d", int(prefix[0])*100000+i))
		must(s.t, err)
		m := member.Member{ID: fmt.Sprintf("%s%05d", prefix, i), StoreID: store, Name: "王阿姨", Phone: phone, VerifiedAt: now,
			VerifiedBy: "staff", BirthYear: 1950, Channel: channel, QuietHours: member.DefaultQuietHours,
			TimeZone: member.DefaultTimeZone, Tier: member.TierMember, CreatedAt: now, UpdatedAt: now,
			Consents: member.Consents(nil).Apply(member.Changes(nil, map[member.ConsentKind]bool{member.ConsentService: true, consent: true}, now))}
		ms = append(ms, m)
		mss = append(mss, member.Membership{StoreID: store, GroupID: groupID, MemberID: m.ID, Status: member.StatusActive, Path: member.PathQR,
			JoinedAt: now.Add(time.Duration(i) * time.Millisecond)})
		ids = append(ids, m.ID)
	}
	for i := 0; i < len(ms); i += 500 {
		j := min(i+500, len(ms))
		must(s.t, s.clean.ImportMembers(context.Background(), ms[i:j], mss[i:j]))
	}
	return ids
}

// signup signs a booker up to group groupB and verifies them; it returns their session token.
func (s *soak) signup(id string, i int) string {
	ctx := context.Background()
	at := s.clock.Now().Add(-24 * time.Hour)
	m, consents, err := member.NewSignup(member.SignupDraft{Name: "李建国", Phone: fmt.Sprintf("139%08d", i), BirthYear: 1950,
		Consents: map[member.ConsentKind]bool{member.ConsentService: true}, AcceptCovenant: true}, nil, at)
	must(s.t, err)
	m.ID, m.StoreID = id, store
	must(s.t, s.clean.Signup(ctx, dynamostore.SignupWrite{Member: m, NewMember: true, PhoneHash: "phone-" + id, Consents: consents,
		Membership: member.Membership{StoreID: store, GroupID: groupB, MemberID: id, Status: member.StatusPendingVerification,
			Path: member.PathQR, Code: "SOAKB234", JoinedAt: at},
		OTP: member.NewOTPState(member.NewOTP(), id, key, at), Rule: group.RuleOpen, Now: at}))
	rec, err := s.clean.GetOTP(ctx, id)
	must(s.t, err)
	token := member.NewToken()
	must(s.t, s.clean.CompleteVerification(ctx, dynamostore.Verification{Record: rec, Status: member.StatusActive,
		SessionHash: member.HashToken(token), SessionExpires: at.AddDate(0, 0, 90), Now: at.Add(time.Minute)}))
	return token
}

// createSession creates a session for group groupB through the staff API (faults paused).
func (s *soak) createSession() string {
	startAt := start.Add(48 * time.Hour)
	body, _ := json.Marshal(map[string]any{"doctorId": "01JDD0000000000000000000D1", "title": "高血压健康讲座",
		"startAt": startAt.Format(time.RFC3339), "endAt": startAt.Add(90 * time.Minute).Format(time.RFC3339),
		"place": map[string]any{"kind": "store", "address": "二楼活动室"}, "capacity": s.size.seats, "targetGroups": []string{groupB}})
	req := testenv.WithBody(testenv.Event(s.t, "qa", "staff-create-session"), string(body))
	req.RequestContext.Authorizer.JWT.Claims["custom:store_id"] = store
	status, out := s.call(req)
	if status != http.StatusCreated {
		s.t.Fatalf("create session: %d %v", status, out)
	}
	return out["id"].(string)
}

// call sends an API request through the production JSON path.
func (s *soak) call(req events.APIGatewayV2HTTPRequest) (int, map[string]any) {
	payload, _ := json.Marshal(req)
	raw, err := s.qa.Invoke(context.Background(), payload)
	if err != nil {
		s.t.Fatalf("invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	must(s.t, json.Unmarshal(raw, &resp))
	var body map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &body)
	return resp.StatusCode, body
}

// ------------------------------------------------------------------------------ the queues

// claimExpiry is how far the clock jumps after a crash: past the longest claim a sender takes
// (dynamostore.ClaimTTL for a reminder, two minutes for a campaign chunk), as the queue's
// visibility timeout (three minutes) does in production.
const claimExpiry = max(dynamostore.ClaimTTL, 2*time.Minute) + time.Second

type handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// poll is Lambda's poller for one queue: receive up to ten messages, hand them to the handler
// — one time in five twice, as a standard queue may, the copies either one after the other
// (the second a redelivery) or at once (two first deliveries) — and delete those no copy
// failed; the failed ones become visible again a second later (the visibility timeout, three
// minutes in production, compressed like the clock: long enough for a copy holding a claim
// to finish, so that its twin does not spend its receives on "busy"). Each invocation carries a faults.Life:
// a crashed one (killed, or returning an error) fails its whole batch. It reports how many
// messages it received.
func (s *soak) poll(ctx context.Context, url string, h handle) int {
	out, err := s.env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 60,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil {
		if ctx.Err() == nil {
			s.t.Errorf("receive: %v", err)
		}
		return 0
	}
	if len(out.Messages) == 0 {
		return 0
	}
	queue := url[strings.LastIndex(url, "/")+1:]
	s.trace.Info("soak received", "queue", queue, "ids", messageIDs(out.Messages))
	s.messages.Add(int64(len(out.Messages)))
	event := func(redelivery bool) events.SQSEvent {
		var ev events.SQSEvent
		for _, m := range out.Messages {
			count := m.Attributes["ApproximateReceiveCount"]
			if count != "1" {
				s.redelivered.Add(1)
			}
			if redelivery {
				count = strconv.Itoa(max(2, atoiOr(count, 1)+1))
			}
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, Body: *m.Body, ReceiptHandle: *m.ReceiptHandle,
				Attributes: map[string]string{"ApproximateReceiveCount": count}})
		}
		return ev
	}
	var mu sync.Mutex
	failed := map[string]bool{}
	run := func(ev events.SQSEvent) {
		s.invocations.Add(1)
		ictx, life := faults.Invocation(ctx)
		var resp events.SQSEventResponse
		var err error
		s.clock.invoke(func() { resp, err = h(ictx, ev) })
		for _, r := range ev.Records {
			s.trace.Info("soak handled", "queue", queue, "id", r.MessageId, "count", r.Attributes["ApproximateReceiveCount"],
				"body", r.Body, "dead", life.Dead(), "err", err, "failures", resp.BatchItemFailures)
		}
		if life.Dead() {
			s.clock.jump(claimExpiry) // the crashed claims expire before the retry
		}
		mu.Lock()
		defer mu.Unlock()
		if life.Dead() || err != nil {
			if life.Dead() {
				s.crashes.Add(1)
			}
			for _, r := range ev.Records {
				failed[r.MessageId] = true
			}
			return
		}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	switch x := s.float(); {
	case x < 0.1: // a redelivery after the first copy was handled
		s.duplicates.Add(int64(len(out.Messages)))
		run(event(false))
		run(event(true))
	case x < 0.2: // two copies at once
		s.duplicates.Add(int64(len(out.Messages)))
		var wg sync.WaitGroup
		wg.Go(func() { run(event(false)) })
		wg.Go(func() { run(event(false)) })
		wg.Wait()
	default:
		run(event(false))
	}
	var done []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if failed[*m.MessageId] {
			_, err := s.env.SQS.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: &url,
				ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 1})
			if err != nil {
				s.t.Errorf("change visibility: %v", err)
			}
			continue
		}
		done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(done) > 0 {
		res, err := s.env.SQS.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: done})
		switch {
		case err != nil:
			s.t.Errorf("delete: %v", err)
		case len(res.Failed) > 0:
			s.t.Errorf("delete: %d of %d failed: %s", len(res.Failed), len(done), aws.ToString(res.Failed[0].Message))
		}
	}
	s.trace.Info("soak settled", "queue", queue, "deleted", len(done), "retried", len(out.Messages)-len(done))
	return len(out.Messages)
}

func messageIDs(ms []sqstypes.Message) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = aws.ToString(m.MessageId)
	}
	return ids
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// depth is a queue's messages: visible, in flight and delayed.
func (s *soak) depth(url string) int {
	out, err := s.env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	must(s.t, err)
	n := 0
	for _, v := range out.Attributes {
		n += atoiOr(v, 0)
	}
	return n
}

// dlq returns the bodies of the messages in a dead-letter queue; it reads each queue once (what
// it reads stays invisible afterwards).
func (s *soak) dlq(logicalID string) []string {
	if b, ok := s.dead[logicalID]; ok {
		return b
	}
	defer func() { s.t.Logf("%s holds %d messages", logicalID, len(s.dead[logicalID])) }()
	url := s.env.Ref(logicalID)
	var bodies []string
	seen := map[string]bool{}
	for range 50 {
		out, err := s.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 300})
		must(s.t, err)
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			if !seen[*m.MessageId] {
				seen[*m.MessageId] = true
				bodies = append(bodies, *m.Body)
			}
		}
	}
	s.dead[logicalID] = bodies
	return bodies
}

// ------------------------------------------------------------------------------ the workload

// bookingOp is one member's request about one session.
type bookingOp struct {
	member, session string
	book            bool
}

// bookings runs the booking requests, each member's in order on one of eight workers, members
// in parallel; a 5xx is tried again (as the page does), up to eight times. It returns what each
// member should hold: "live", "none", or "unknown" where every try failed.
func (s *soak) bookings(sd seeded) (map[[2]string]string, int) {
	rng := rand.New(rand.NewPCG(s.seed, 0xb00c))
	perMember := map[string][]bookingOp{}
	for range s.size.bookingOps {
		m := sd.bookers[rng.IntN(len(sd.bookers))]
		perMember[m] = append(perMember[m], bookingOp{member: m, session: sd.sessions[rng.IntN(len(sd.sessions))], book: rng.Float64() < 0.7})
	}
	want := map[[2]string]string{}
	var mu sync.Mutex
	var ops atomic.Int64
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for m := range work {
				for _, op := range perMember[m] {
					ops.Add(1)
					state := s.bookingRequest(op, sd.tokens[m])
					k := [2]string{op.member, op.session}
					mu.Lock()
					if state != "" {
						want[k] = state
					} else if _, ok := want[k]; !ok && !op.book {
						want[k] = "none"
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, m := range slices.Sorted(maps.Keys(perMember)) {
		work <- m
	}
	close(work)
	wg.Wait()
	return want, int(ops.Load())
}

// bookingRequest books or cancels, trying a 5xx again; it returns the state the member should
// be in after it ("" when a refusal changed nothing).
func (s *soak) bookingRequest(op bookingOp, token string) string {
	name := "cancel"
	if op.book {
		name = "book"
	}
	req := testenv.WithSession(testenv.WithParam(testenv.Event(s.t, "qa", name), "id", op.session), token)
	for try := 0; try < 8; try++ {
		status, body := s.call(req)
		switch {
		case status >= 500 || status == http.StatusTooManyRequests:
			s.sessionErrors.Add(1)
			time.Sleep(time.Duration(10*(try+1)) * time.Millisecond)
			continue
		case status < 300 && op.book:
			if st, _ := body["status"].(string); st != string(qa.BookingConfirmed) && st != string(qa.BookingWaitlisted) {
				s.t.Errorf("book %v: status %q", op, st)
			}
			return "live"
		case status < 300 || !op.book:
			return "none" // cancelled, or nothing to cancel
		default:
			s.t.Errorf("book %v: %d %v", op, status, body)
			return ""
		}
	}
	return "unknown"
}

// acknowledge answers, as the even-numbered seniors do, every first call as soon as it is made
// (a throttled tap is tapped again), until stop is closed.
func (s *soak) acknowledge(rs []reminder.Reminder, stop <-chan struct{}) int {
	acked := map[string]bool{}
	for {
		accepted, _ := s.voice.Accepted()
		for i, r := range rs {
			occ := reminder.OccurrenceID(r.NextAt)
			if i%2 == 1 || acked[r.ID] || accepted[store+":"+r.ID+":"+occ+":A0"] == 0 {
				continue
			}
			for try := 0; try < 10; try++ {
				_, err := s.st.Acknowledge(context.Background(), store, r.ID, dynamostore.Ack{Occurrence: occ, By: r.MemberID,
					Via: reminder.ViaMember, At: s.clock.Now()})
				if err == nil {
					acked[r.ID] = true
					break
				}
				if !faults.Injected(err) {
					s.t.Errorf("acknowledge %s: %v", r.ID, err)
					break
				}
			}
		}
		select {
		case <-stop:
			return len(acked)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ------------------------------------------------------------------------------ the test

// TestSoak is the fault-injection soak of issue #9; see the package doc. Its figures are logged
// and summed up in one line: SOAK ops=… faults=… duplicates=… violations=0 wall=….
func TestSoak(t *testing.T) {
	began := time.Now()
	s := newSoak(t)
	sd := s.populate()
	t.Logf("seeded in %v: %d campaign members, %d reminders, %d bookers on %d sessions of %d seats (seed %d, full %v)",
		time.Since(began).Round(time.Millisecond), len(sd.campaign), len(sd.reminders), len(sd.bookers), len(sd.sessions), s.size.seats, s.seed, *fullFlag)
	s.calls.Reset()
	s.inj.Resume()
	run := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.size.deadline)
	defer cancel()

	// The campaigns start as the API starts them, each twice (the API's message and the
	// dispatcher's).
	fanQ := sqsmsg.NewQueue(s.env.SQS, s.fanoutURL)
	for _, c := range sd.campaigns {
		for range 2 {
			must(t, fanQ.Send(context.Background(), []sqsmsg.Outgoing{queues.StartMessage(store, c, 0, groupC)}))
		}
	}

	// Lambda's pollers: two for the deliveries, one each for the others.
	var busy atomic.Int64
	var pollers sync.WaitGroup
	for _, p := range []struct {
		url string
		h   handle
	}{{s.deliveries, s.send.Handle}, {s.deliveries, s.send.Handle}, {s.checks, s.esc.Handle}, {s.fanoutURL, s.fan.Handle}} {
		pollers.Go(func() {
			for ctx.Err() == nil {
				if n := s.poll(ctx, p.url, p.h); n > 0 {
					busy.Store(time.Now().UnixNano())
					continue
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	// The scheduler: a tick every half second (a failed tick is retried by the next).
	var ticks, tickErrors, enqueued atomic.Int64
	stopTicks := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		for {
			var tick dispatcher.Tick
			var err error
			s.clock.invoke(func() { tick, err = s.disp.Handle(ctx, events.EventBridgeEvent{Time: s.clock.Now()}) })
			ticks.Add(1)
			enqueued.Add(int64(tick.Enqueued))
			if err != nil {
				tickErrors.Add(1)
			}
			select {
			case <-stopTicks:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	stopAcks := make(chan struct{})
	var acks int
	var acker sync.WaitGroup
	acker.Go(func() { acks = s.acknowledge(sd.reminders, stopAcks) })

	want, bookingOps := s.bookings(sd)

	// Drained: every queue empty on four looks in a row, two seconds apart (ack checks wait a
	// second), once the dispatcher has read the reminders' minute.
	due := start.Truncate(time.Minute).Add(time.Minute)
	for look, idle := 0, 0; idle < 4 && ctx.Err() == nil; look++ {
		time.Sleep(2 * time.Second)
		wm, err := s.clean.Watermark(context.Background())
		must(t, err)
		depths := []int{s.depth(s.deliveries), s.depth(s.checks), s.depth(s.fanoutURL)}
		if look > 0 && look%15 == 0 { // every 30 s, what it waits for
			t.Logf("draining for %v: dispatcher at %v, messages (visible, in flight or delayed) in deliveries %d, ack checks %d, fan-out %d",
				time.Since(run).Round(time.Second), wm, depths[0], depths[1], depths[2])
		}
		if wm.Before(due) || depths[0]+depths[1]+depths[2] > 0 {
			idle = 0
			continue
		}
		idle++
	}
	drained := ctx.Err() == nil
	close(stopTicks)
	ticker.Wait()
	close(stopAcks)
	acker.Wait()
	cancel()
	pollers.Wait()
	s.inj.Pause()
	wall := time.Since(run)
	if !drained {
		t.Errorf("the queues did not drain within %v", s.size.deadline)
	}

	v := &violations{t: t}
	s.checkReminders(sd, v)
	s.checkBookings(sd, want, v)
	s.checkCampaigns(sd, v)

	fc := s.inj.Counts()
	voiceF, smsF := s.voice.Counts(), s.sms.Counts()
	t.Logf("AWS requests on the wire: %d; %s", s.calls.Total(), fc)
	t.Logf("providers: voice %v, sms %v; consumer crashes between steps %v", voiceF, smsF, s.crasher.Crashes())
	t.Logf("queues: %d invocations, %d messages received (%d redelivered), %d duplicated, %d crashed invocations; dispatcher %d ticks (%d failed), %d enqueued",
		s.invocations.Load(), s.messages.Load(), s.redelivered.Load(), s.duplicates.Load(), s.crashes.Load(), ticks.Load(), tickErrors.Load(), enqueued.Load())
	t.Logf("bookings: %d requests, %d 5xx answers retried; acknowledgements %d", bookingOps, s.sessionErrors.Load(), acks)
	providerFaults := 0
	for _, m := range []map[faults.Kind]int{voiceF, smsF} {
		for _, n := range m {
			providerFaults += n
		}
	}
	byKind := fc.ByKind()
	for k, n := range voiceF {
		byKind[k] += n
	}
	for k, n := range smsF {
		byKind[k] += n
	}
	for step, n := range s.crasher.Crashes() {
		byKind[faults.Kind("crash-"+step)] += n
	}
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, byKind[k]))
	}
	crashes := 0
	for _, n := range s.crasher.Crashes() {
		crashes += n
	}
	dlq := len(s.dlq("DeliveriesDLQ")) + len(s.dlq("AckChecksDLQ")) + len(s.dlq("FanoutDLQ"))
	t.Logf("SOAK ops=%d aws_calls=%d faults=%d (%s) duplicates=%d dlq=%d violations=%d wall=%v",
		s.invocations.Load()+int64(bookingOps)+ticks.Load(), s.calls.Total(), fc.Total()+providerFaults+crashes,
		strings.Join(kinds, " "), s.duplicates.Load(), dlq, v.n, wall.Round(time.Millisecond))
	if fc.Total() == 0 || providerFaults == 0 {
		t.Error("no fault was injected: the soak proved nothing")
	}
}

type violations struct {
	t *testing.T
	n int
}

func (v *violations) add(format string, args ...any) {
	v.t.Helper()
	v.n++
	if v.n <= 40 {
		v.t.Errorf(format, args...)
	}
}

// checkReminders: each occurrence's first call is recorded SENT once — or its message is in
// the DLQ; a message the provider accepted more than once is one whose sender crashed between
// the call and its record (the documented window); every SENT record has a call behind it; at
// most one staff alert per occurrence.
func (s *soak) checkReminders(sd seeded, v *violations) {
	ctx := context.Background()
	dead := strings.Join(s.dlq("DeliveriesDLQ"), "\n") + strings.Join(s.dlq("AckChecksDLQ"), "\n")
	accepted, crashed := s.voice.Accepted()
	var sent, inDLQ int
	for _, r := range sd.reminders {
		st, err := s.clean.ReminderStatus(ctx, store, r.ID, "", 50)
		must(s.t, err)
		if len(st.Occurrences) != 1 {
			v.add("%s: %d occurrences, want 1", r.ID, len(st.Occurrences))
			continue
		}
		o := st.Occurrences[0]
		states := map[string]string{}
		for _, d := range o.Deliveries {
			states[d.Attempt] = d.State
			id := store + ":" + r.ID + ":" + o.Occurrence + ":" + d.Attempt
			if d.State == dynamostore.DeliverySent {
				sent++
				if accepted[id] == 0 {
					v.add("%s: recorded sent, but the provider never accepted it", id)
				}
			}
		}
		a0 := store + ":" + r.ID + ":" + o.Occurrence + ":A0"
		switch first := states["A0"]; {
		case first == dynamostore.DeliverySent:
		case first == dynamostore.DeliverySkipped && crashed[a0] > 0 && o.Ack != nil:
			// sent, the sender died before recording it, the senior answered before the retry
		case strings.Contains(dead, r.ID):
			inDLQ++
		default:
			v.add("%s: first call %q (provider accepted it %d times, %d crashes), want sent or in the DLQ", r.ID, first, accepted[a0], crashed[a0])
		}
	}
	for id, n := range accepted {
		if n > 1+crashed[id] {
			v.add("reminder delivery %s: the provider accepted it %d times with %d crashes", id, n, crashed[id])
		}
	}
	alerts, err := s.clean.ListStaffAlerts(ctx, store, "", 1000)
	must(s.t, err)
	per := map[string]int{}
	for _, a := range alerts.Items {
		per[a.ReminderID+"/"+a.Occurrence]++
	}
	for k, n := range per {
		if n > 1 {
			v.add("occurrence %s: %d staff alerts, want at most 1", k, n)
		}
	}
	s.t.Logf("reminders %d: %d deliveries recorded sent, provider calls %d, first calls in the DLQ %d, staff alerts %d",
		len(sd.reminders), sent, sum(accepted), inDLQ, len(alerts.Items))
}

// checkBookings: no session holds more confirmed bookings than seats; its counters match its
// bookings; nobody waits while a seat is free; each member holds what their last answered
// request says.
func (s *soak) checkBookings(sd seeded, want map[[2]string]string, v *violations) {
	ctx := context.Background()
	var confirmed, waiting int
	for _, id := range sd.sessions {
		sess, err := s.clean.GetQASession(ctx, store, id)
		must(s.t, err)
		bs, err := s.clean.SessionBookings(ctx, store, id)
		must(s.t, err)
		held := map[string]qa.BookingStatus{}
		var c, w int
		for _, b := range bs {
			held[b.MemberID] = b.Status
			switch b.Status {
			case qa.BookingConfirmed:
				c++
			case qa.BookingWaitlisted:
				w++
			}
		}
		confirmed, waiting = confirmed+c, waiting+w
		if c > sess.Capacity {
			v.add("session %s overbooked: %d confirmed for %d seats", id, c, sess.Capacity)
		}
		if sess.Confirmed != c || sess.Waiting != w {
			v.add("session %s counts confirmed %d, waiting %d; its bookings %d and %d", id, sess.Confirmed, sess.Waiting, c, w)
		}
		if w > 0 && c < sess.Capacity {
			v.add("session %s: %d waiting while %d of %d seats are free", id, w, sess.Capacity-c, sess.Capacity)
		}
		for k, state := range want {
			if k[1] != id {
				continue
			}
			st := held[k[0]]
			live := st == qa.BookingConfirmed || st == qa.BookingWaitlisted
			if (state == "live" && !live) || (state == "none" && live) {
				v.add("member %s, session %s: holds %q, want %s", k[0], id, st, state)
			}
		}
	}
	s.t.Logf("bookings: %d sessions, %d confirmed, %d waiting at the end", len(sd.sessions), confirmed, waiting)
}

// checkCampaigns: nobody is contacted twice by a campaign (but after a crash between the
// provider call and its record), nobody gets more promotions in the week than the group's
// budget of one, each campaign's stats match what the provider saw, and every member is
// accounted for: contacted once, refused by the provider for good, or waiting in a chunk whose
// message is in the DLQ (a page in the fan-out's DLQ excuses its whole campaign).
func (s *soak) checkCampaigns(sd seeded, v *violations) {
	ctx := context.Background()
	accepted, crashed := s.sms.Accepted()
	promotions := map[string]int{} // member → campaigns that reached them
	reached := map[string]int{}    // campaign → members reached
	unsure := map[string]int{}     // campaign → members reached by a send its sender may not have recorded
	for id, n := range accepted {
		parts := strings.Split(id, ":") // campaign:run:member
		if len(parts) != 3 {
			continue
		}
		if n > 1+crashed[id] {
			v.add("campaign %s reached member %s %d times (%d crashes)", parts[0], parts[2], n, crashed[id])
		}
		promotions[parts[2]]++
		reached[parts[0]]++
		if crashed[id] > 0 {
			unsure[parts[0]]++
		}
	}
	for m, n := range promotions {
		if n > 1 {
			v.add("member %s got %d promotions in a week with a budget of 1", m, n)
		}
	}
	waiting, deadPages := s.deadCampaignWork()
	for _, c := range sd.campaigns {
		camp, st, err := s.clean.Campaign(ctx, store, c)
		must(s.t, err)
		s.t.Logf("campaign %s: %s, stats %+v, provider reached %d (%d by crashed invocations); waiting in chunks in the DLQ: %d members; pages in the DLQ: %d",
			c, camp.Status, st, reached[c], unsure[c], len(waiting[c]), deadPages[c])
		if st.Audience != len(sd.campaign) && deadPages[c] == 0 {
			v.add("campaign %s: audience %d, want %d", c, st.Audience, len(sd.campaign))
		}
		suppressed := 0
		for _, n := range st.Suppressed {
			suppressed += n
		}
		if st.Queued+suppressed != st.Audience {
			v.add("campaign %s: queued %d + suppressed %d ≠ audience %d", c, st.Queued, suppressed, st.Audience)
		}
		// A send made by an invocation that crashed before recording it may end recorded as
		// failed (the retry's send was refused): only those may be missing from Sent.
		if st.Sent > reached[c] || st.Sent < reached[c]-unsure[c] {
			v.add("campaign %s: stats say %d sent, the provider accepted %d members (%d by crashed invocations)", c, st.Sent, reached[c], unsure[c])
		}
		if deadPages[c] == 0 && st.Pending() != len(waiting[c]) {
			v.add("campaign %s: %d messages pending, %d of them in chunks whose message is in the DLQ", c, st.Pending(), len(waiting[c]))
			s.logUnsent(camp)
		}
	}
	var lost []string
	for _, m := range sd.campaign {
		if promotions[m] > 0 {
			continue
		}
		excused := false
		for _, c := range sd.campaigns {
			excused = excused || s.refused.has(c+":0:"+m) || waiting[c][m] || deadPages[c] > 0
		}
		if !excused {
			lost = append(lost, m)
		}
	}
	if len(lost) > 0 {
		v.add("%d campaign members never reached, refused or in the DLQ, e.g. %v", len(lost), lost[:min(5, len(lost))])
	}
}

// deadCampaignWork reads the campaign messages in the DLQs: per campaign, the members without
// an outcome in chunks whose message is in the deliveries' DLQ, and the pages in the fan-out's.
func (s *soak) deadCampaignWork() (waiting map[string]map[string]bool, pages map[string]int) {
	waiting, pages = map[string]map[string]bool{}, map[string]int{}
	var codes []string
	for _, body := range s.dlq("DeliveriesDLQ") {
		env, err := sqsmsg.Decode(body)
		var p queues.Push
		if err != nil || env.Type != queues.TypePush || env.Unmarshal(&p) != nil {
			continue
		}
		codes = append(codes, p.Chunk)
	}
	chunks, err := s.clean.Chunks(context.Background(), codes)
	must(s.t, err)
	for _, ch := range chunks {
		for _, m := range ch.Members {
			if _, ok := ch.Outcomes[m]; !ok {
				if waiting[ch.CampaignID] == nil {
					waiting[ch.CampaignID] = map[string]bool{}
				}
				waiting[ch.CampaignID][m] = true
			}
		}
	}
	for _, body := range s.dlq("FanoutDLQ") {
		env, err := sqsmsg.Decode(body)
		var f queues.Fanout
		if err == nil && env.Type == queues.TypeFanout && env.Unmarshal(&f) == nil {
			pages[f.Campaign]++
		}
	}
	return waiting, pages
}

// logUnsent logs each of a campaign's chunks that is not done, to explain a pending count.
func (s *soak) logUnsent(c promo.Campaign) {
	pages := s.size.campaign/s.pageSize() + 1 // and one more, empty when the size divides
	for page := range pages {
		var codes []string
		for n := range fanout.MaxChunksPerPage {
			codes = append(codes, promo.ChunkCode(key, store, c.ID, c.Run, page, n))
		}
		chunks, err := s.clean.Chunks(context.Background(), codes)
		must(s.t, err)
		for _, ch := range chunks {
			if !ch.Done {
				s.t.Logf("campaign %s page %d: chunk %s (n %d) not done: %d members (%s…), %d outcomes, not before %v",
					c.ID, page, ch.Code, ch.N, len(ch.Members), strings.Join(ch.Members[:min(2, len(ch.Members))], ","), len(ch.Outcomes), ch.NotBefore)
			}
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

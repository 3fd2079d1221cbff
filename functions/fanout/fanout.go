// Package fanout expands a campaign run's audience into delivery chunks, one page of it per
// message: it reads a page of one audience group's active members and their profiles, decides for
// each who is in the audience and whether they may be contacted (verification, opt-out, consent,
// channel, the weekly budget, quiet hours, the store's daily paid quota), writes the chunks —
// each with its recipients' ledgers in one transaction, which is what makes a member reached at
// most once per run — enqueues them for the sender, and enqueues the next page.
//
// A page of 1,000 members costs one Query, ten BatchGetItems, one transaction per chunk of 97,
// one SendMessageBatch per ten chunks and one SendMessage for the next page (plus one
// BatchGetItem of the campaign, store and group): about 25 calls.
//
// Every step is safe to repeat. A redelivered page reads the chunks it wrote before (their codes
// are derived from the page) and enqueues them again (the sender delivers a chunk once); members
// already counted for the run are skipped; a chunk written by a concurrent copy of the message is
// noticed by its write's condition, and the page starts over from what is written. A copy that
// finds members counted in chunks it has not read (another copy wrote them, and may have crashed
// before enqueuing them) starts over too: the page is done only by a copy that enqueued all of it.
package fanout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"yinling/shared/consumer"
	"yinling/shared/dynamostore"
	"yinling/shared/member"
	"yinling/shared/pii"
	"yinling/shared/promo"
	"yinling/shared/queues"
	"yinling/shared/sqsmsg"
	"yinling/shared/tenant"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table         string `env:"TABLE_NAME"`
	LogLevel      string `env:"LOG_LEVEL,optional"`
	DeliveriesURL string `env:"DELIVERIES_QUEUE_URL"`
	FanoutURL     string `env:"FANOUT_QUEUE_URL"`
	PIIKey        string `env:"PII_HASH_KEY"`
	// PIIKMSKey names the KMS key that wraps the data keys phones are sealed with at rest
	// ("local:…" on the local stack: see pii.ForKeyID).
	PIIKMSKey string `env:"PII_KMS_KEY_ID"`
	// FunctionName is set by the Lambda runtime: in Lambda a local PII key is refused.
	FunctionName string `env:"AWS_LAMBDA_FUNCTION_NAME,optional"`
}

// Deps are what the handler needs; tests build them as Wire does.
type Deps struct {
	Store      *dynamostore.Store
	Deliveries *sqsmsg.Queue // chunks, for the sender
	Fanout     *sqsmsg.Queue // the next page
	Key        []byte        // derives chunk codes (promo.ChunkCode)
	Log        *slog.Logger
	Now        func() time.Time
	// PageSize is how many memberships one message reads (DefaultPageSize when 0).
	PageSize int
	// Crash, when set, is called between steps with the step's name; an error it returns ends
	// the handling there, as a crash would. Fault tests use it.
	Crash func(step string) error
}

// DefaultPageSize keeps a page's memberships (about 400 bytes each) well inside a Query's 1 MB
// and its work inside a few seconds.
const DefaultPageSize = 1000

// Steps Deps.Crash is called at.
const (
	StepChunksWritten = "chunks-written" // the page's chunks are written, not yet enqueued
	StepEnqueued      = "enqueued"       // the chunks are enqueued, the next page not yet
)

// Handler consumes the fanout queue.
type Handler struct {
	*consumer.Router
	d Deps
}

// New returns the handler.
func New(d Deps) *Handler {
	if d.PageSize == 0 {
		d.PageSize = DefaultPageSize
	}
	h := &Handler{Router: consumer.New(d.Log), d: d}
	h.On(queues.TypeFanout, h.handle)
	return h
}

// Wire builds the handler from its configuration.
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	client := sqs.NewFromConfig(cfg)
	return New(Deps{
		Store: dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table,
			dynamostore.WithPII(pii.MustWrapper(cfg, env.PIIKMSKey, env.FunctionName))),
		Deliveries: sqsmsg.NewQueue(client, env.DeliveriesURL),
		Fanout:     sqsmsg.NewQueue(client, env.FanoutURL),
		Key:        []byte(env.PIIKey), Log: log, Now: time.Now,
	})
}

func (h *Handler) handle(ctx context.Context, env sqsmsg.Envelope, raw events.SQSMessage) error {
	var msg queues.Fanout
	if err := env.Unmarshal(&msg); err != nil {
		return err
	}
	if msg.Store == "" || msg.Campaign == "" || msg.GroupID == "" || msg.Page < 0 || msg.Group < 0 {
		return fmt.Errorf("fanout: incomplete message %+v", msg)
	}
	// A message received for the first time cannot have written anything before; any other
	// (or one whose count is unknown) first reads what its page already wrote.
	redelivered := raw.Attributes["ApproximateReceiveCount"] != "1"
	return h.Page(ctx, msg, redelivered)
}

// pageAttempts bounds how often a page starts over after finding that another copy of its
// message wrote some of it meanwhile.
const pageAttempts = 4

// errStartOver: the page met writes it did not expect; read what is written and go again.
var errStartOver = errors.New("fanout: page written concurrently")

// Page handles one page of a campaign run's audience; redelivered says whether the page may
// have been handled (in part) before.
func (h *Handler) Page(ctx context.Context, msg queues.Fanout, redelivered bool) error {
	now := h.d.Now().UTC()
	fc, err := h.d.Store.LoadFanout(ctx, msg.Store, msg.Campaign, msg.GroupID)
	if errors.Is(err, promo.ErrNotFound) {
		h.d.Log.WarnContext(ctx, "fan-out of a campaign that is gone", "campaign", msg.Campaign)
		return nil
	}
	if err != nil {
		return err
	}
	c := fc.Campaign
	switch {
	case c.Status == promo.StatusCancelled || c.Status == promo.StatusSent || c.Run != msg.Run:
		return nil // cancelled, finished, or a message of an earlier run: nothing more to send
	case c.Status == promo.StatusScheduled:
		if msg.Page != 0 || now.Before(c.RunAt(c.Run).Add(-time.Minute)) {
			return nil // early: the dispatcher starts the run at its minute
		}
		started := c
		started.Status, started.UpdatedAt = promo.StatusSending, now
		if err := h.d.Store.SaveCampaignStatus(ctx, started, c.UpdatedAt); err != nil {
			return err // changed meanwhile (cancelled, or started by a copy): read it again
		}
		c = started
	case msg.Page == 0 && !redelivered:
		return nil // a second start of a run under way (the API's message and the dispatcher's)
	}
	cursor := "" // a group deleted since: on to the next
	if fc.GroupFound {
		for attempt := 0; ; attempt++ {
			cursor, err = h.fill(ctx, msg, fc, c, redelivered, now)
			if !errors.Is(err, errStartOver) || attempt == pageAttempts-1 {
				break
			}
			redelivered = true
		}
		if err != nil {
			return err
		}
		if err := h.crash(StepEnqueued); err != nil {
			return err
		}
	}
	return h.next(ctx, msg, c, cursor, now)
}

func (h *Handler) crash(step string) error {
	if h.d.Crash == nil {
		return nil
	}
	return h.d.Crash(step)
}

// fill writes and enqueues the chunks of one page, and returns the cursor of the group's next
// page ("" after its last).
func (h *Handler) fill(ctx context.Context, msg queues.Fanout, fc dynamostore.FanoutContext, c promo.Campaign, redelivered bool, now time.Time) (string, error) {
	if c.Channel == promo.ChannelWeCom {
		// One post to the group's robot: the group is the recipient, members are not read.
		return "", h.robot(ctx, msg, c, now)
	}
	ids, cursor, err := h.d.Store.AudiencePage(ctx, msg.Store, msg.GroupID, msg.Cursor, h.d.PageSize)
	if err != nil {
		return "", err
	}
	written := map[string]dynamostore.OfferChunk{}
	if redelivered {
		if written, err = h.written(ctx, msg, c); err != nil {
			return "", err
		}
	}
	taken := map[string]bool{}
	var resend []dynamostore.OfferChunk
	for _, ch := range written {
		for _, m := range ch.Members {
			taken[m] = true
		}
		for m := range ch.Suppressed {
			taken[m] = true
		}
		if !ch.Done && !ch.NotBefore.After(now) {
			resend = append(resend, ch)
		}
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return taken[id] })
	p, err := h.plan(ctx, msg, fc, c, ids, now)
	if err != nil {
		return "", err
	}
	if p.reached > 0 {
		// Members the run counted already, in no chunk read above: reached through another of
		// the audience's groups, or in chunks of this page that a copy of this message wrote
		// (and may have crashed before enqueuing). A chunk and its ledgers are written at once,
		// so this second look finds every such chunk; finding one, start over as a redelivery,
		// which enqueues it.
		again, err := h.written(ctx, msg, c)
		if err != nil {
			return "", err
		}
		for code := range again {
			if _, ok := written[code]; !ok {
				return "", errStartOver
			}
		}
	}
	chunks := p.chunks(h.d.Key, msg, c, written, now)
	var queued []dynamostore.OfferChunk
	quotaReached := false
	for _, w := range chunks {
		if c.Channel.Paid() && !quotaReached {
			w.QuotaDay = storeDay(now, fc.StoreZone)
			w.QuotaMax = cmp.Or(fc.PaidQuota, tenant.DefaultPaidQuota)
		}
		if quotaReached {
			w = w.withoutMembers(promo.ReasonQuota)
		}
		err := h.d.Store.WriteChunk(ctx, w.ChunkWrite)
		if errors.Is(err, dynamostore.ErrQuotaReached) {
			h.d.Log.WarnContext(ctx, "store's daily paid quota reached", "store", msg.Store, "campaign", c.ID)
			quotaReached = true
			w = w.withoutMembers(promo.ReasonQuota)
			err = h.d.Store.WriteChunk(ctx, w.ChunkWrite)
		}
		var changed *dynamostore.LedgerChanged
		if errors.Is(err, dynamostore.ErrChunkExists) || errors.As(err, &changed) {
			return "", errStartOver
		}
		if err != nil {
			return "", err
		}
		if w.Chunk.NotBefore.IsZero() && len(w.Chunk.Members) > 0 {
			queued = append(queued, w.Chunk)
		}
	}
	if err := h.crash(StepChunksWritten); err != nil {
		return "", err
	}
	return cursor, h.enqueue(ctx, append(resend, queued...))
}

// robot writes (once) and enqueues the chunk of one group's robot post.
func (h *Handler) robot(ctx context.Context, msg queues.Fanout, c promo.Campaign, now time.Time) error {
	ch := dynamostore.OfferChunk{Code: promo.ChunkCode(h.d.Key, msg.Store, c.ID, c.Run, msg.Page, 0), StoreID: msg.Store,
		CampaignID: c.ID, Run: c.Run, Page: msg.Page, GroupID: msg.GroupID, Robot: true, ExpiresAt: expiry(c, now)}
	err := h.d.Store.WriteChunk(ctx, dynamostore.ChunkWrite{Chunk: ch, Kind: c.Kind, At: now,
		Stats: promo.Stats{Audience: 1, Queued: 1}})
	if err != nil && !errors.Is(err, dynamostore.ErrChunkExists) {
		return err
	}
	if err := h.crash(StepChunksWritten); err != nil {
		return err
	}
	return h.enqueue(ctx, []dynamostore.OfferChunk{ch})
}

// MaxChunksPerPage bounds the chunk codes a redelivered page looks for (promo.ChunkCode's n, from
// 0): a page of 1,000 makes 11 chunks to send now, a few held back by quiet hours, and at most
// one of suppressions only.
const MaxChunksPerPage = 40

// written reads the chunks a page wrote before.
func (h *Handler) written(ctx context.Context, msg queues.Fanout, c promo.Campaign) (map[string]dynamostore.OfferChunk, error) {
	codes := make([]string, MaxChunksPerPage)
	for n := range codes {
		codes[n] = promo.ChunkCode(h.d.Key, msg.Store, c.ID, c.Run, msg.Page, n)
	}
	return h.d.Store.Chunks(ctx, codes)
}

// plan is what a page decided: who is sent now, who at the end of their quiet hours, who not.
type plan struct {
	now        []dynamostore.Recipient
	later      map[time.Time][]dynamostore.Recipient
	suppressed map[string]promo.Reason
	reached    int // members the run has counted already
}

// plan reads the profiles of ids, a hundred at a time, and decides for each.
func (h *Handler) plan(ctx context.Context, msg queues.Fanout, fc dynamostore.FanoutContext, c promo.Campaign, ids []string, now time.Time) (plan, error) {
	p := plan{later: map[time.Time][]dynamostore.Recipient{}, suppressed: map[string]promo.Reason{}}
	limit := c.Cap(cmp.Or(fc.StoreCap, tenant.DefaultPushCap), fc.GroupCap)
	for part := range slices.Chunk(ids, 100) {
		rs, err := h.d.Store.Recipients(ctx, msg.Store, part)
		if err != nil {
			return plan{}, err
		}
		for _, id := range part {
			r, ok := rs[id]
			switch {
			case !ok: // erased a moment ago
				continue
			case !c.Audience.Includes(r.Member, []string{msg.GroupID}, now):
				continue
			case r.Reached(c.ID, c.Run): // through another of the audience's groups, or a copy of this page
				p.reached++
				continue
			}
			d := promo.Decide(r.Member, r.OptedOut, r.Ledger(c.Kind), limit, now)
			switch {
			case d.Send:
				p.now = append(p.now, r)
			case d.Reason == promo.ReasonQuietHours:
				at := d.At.UTC().Truncate(time.Minute)
				p.later[at] = append(p.later[at], r)
			default:
				p.suppressed[r.ID] = d.Reason
			}
		}
	}
	return p, nil
}

// chunks cuts a plan into chunk writes numbered after the page's written chunks: those to send
// now, then those held back, each at most dynamostore.MaxChunk; the suppressed members are
// recorded with the first (or alone).
func (p plan) chunks(key []byte, msg queues.Fanout, c promo.Campaign, written map[string]dynamostore.OfferChunk, now time.Time) []chunkWrite {
	n := 0
	nextCode := func() string {
		for {
			code := promo.ChunkCode(key, msg.Store, c.ID, c.Run, msg.Page, n)
			n++
			if _, ok := written[code]; !ok {
				return code
			}
		}
	}
	var out []chunkWrite
	add := func(rs []dynamostore.Recipient, notBefore time.Time) {
		for part := range slices.Chunk(rs, dynamostore.MaxChunk) {
			out = append(out, newChunk(nextCode(), msg, c, part, notBefore, now))
		}
	}
	add(p.now, time.Time{})
	ats := make([]time.Time, 0, len(p.later))
	for at := range p.later {
		ats = append(ats, at)
	}
	slices.SortFunc(ats, time.Time.Compare)
	for _, at := range ats {
		add(p.later[at], at)
	}
	if len(p.suppressed) > 0 {
		if len(out) == 0 {
			out = append(out, newChunk(nextCode(), msg, c, nil, time.Time{}, now))
		}
		out[0].Chunk.Suppressed = p.suppressed
		out[0].Stats.Audience += len(p.suppressed)
		out[0].Stats.Suppressed = map[promo.Reason]int{}
		for _, r := range p.suppressed {
			out[0].Stats.Suppressed[r]++
		}
	}
	return out
}

// chunkWrite is a chunk on its way to the table.
type chunkWrite struct{ dynamostore.ChunkWrite }

func newChunk(code string, msg queues.Fanout, c promo.Campaign, rs []dynamostore.Recipient, notBefore, now time.Time) chunkWrite {
	ch := dynamostore.OfferChunk{Code: code, StoreID: msg.Store, CampaignID: c.ID, Run: c.Run, Page: msg.Page,
		GroupID: msg.GroupID, NotBefore: notBefore, ExpiresAt: expiry(c, now)}
	for _, r := range rs {
		ch.Members = append(ch.Members, r.ID)
	}
	st := promo.Stats{Audience: len(rs), Queued: len(rs)}
	if !notBefore.IsZero() {
		st.Deferred = len(rs)
	}
	return chunkWrite{dynamostore.ChunkWrite{Chunk: ch, Recipients: rs, Kind: c.Kind, At: now, Stats: st}}
}

// withoutMembers returns w with its members suppressed for reason instead of contacted.
func (w chunkWrite) withoutMembers(reason promo.Reason) chunkWrite {
	out := w
	out.Chunk.Suppressed = map[string]promo.Reason{}
	for m, r := range w.Chunk.Suppressed {
		out.Chunk.Suppressed[m] = r
	}
	out.Stats.Suppressed = map[promo.Reason]int{}
	for r, n := range w.Stats.Suppressed {
		out.Stats.Suppressed[r] = n
	}
	for _, m := range w.Chunk.Members {
		out.Chunk.Suppressed[m] = reason
		out.Stats.Suppressed[reason]++
	}
	out.Chunk.Members, out.Recipients, out.Chunk.NotBefore = nil, nil, time.Time{}
	out.Stats.Queued, out.Stats.Deferred = 0, 0
	out.QuotaDay = ""
	return out
}

// expiry is when a campaign's chunks may go: the retention after the later of now and the end
// of the offer's pickup.
func expiry(c promo.Campaign, now time.Time) time.Time {
	end := now
	if c.Offer != nil && c.Offer.PickupUntil.After(end) {
		end = c.Offer.PickupUntil
	}
	return end.Add(dynamostore.CampaignRetention)
}

// enqueue sends chunks to the sender, ten to a SendMessageBatch.
func (h *Handler) enqueue(ctx context.Context, chunks []dynamostore.OfferChunk) error {
	if len(chunks) == 0 {
		return nil
	}
	msgs := make([]sqsmsg.Outgoing, len(chunks))
	for i, ch := range chunks {
		msgs[i] = queues.PushMessage(ch.StoreID, ch.CampaignID, ch.Code)
	}
	return h.d.Deliveries.Send(ctx, msgs)
}

// next enqueues the next page of the run — the rest of this group, or the next group — or, after
// the last, finishes the run: the campaign is sent, or its next day is scheduled.
func (h *Handler) next(ctx context.Context, msg queues.Fanout, c promo.Campaign, cursor string, now time.Time) error {
	nxt := msg
	nxt.Page, nxt.Cursor = msg.Page+1, cursor
	if cursor == "" {
		nxt.Group++
		if nxt.Group >= len(c.Audience.Groups) {
			return h.finish(ctx, c, now)
		}
		nxt.GroupID = c.Audience.Groups[nxt.Group]
	}
	return h.d.Fanout.Send(ctx, []sqsmsg.Outgoing{{ID: "p" + strconv.Itoa(nxt.Page), Type: queues.TypeFanout, Body: nxt}})
}

// finish ends a run: the campaign is sent, or its next day's run is scheduled.
func (h *Handler) finish(ctx context.Context, c promo.Campaign, now time.Time) error {
	done := c
	done.UpdatedAt = now
	if c.Run+1 < c.Days {
		done.Run, done.Status = c.Run+1, promo.StatusScheduled
	} else {
		done.Status = promo.StatusSent
	}
	err := h.d.Store.SaveCampaignStatus(ctx, done, c.UpdatedAt)
	if errors.Is(err, dynamostore.ErrCampaignChanged) {
		// Cancelled meanwhile (then nothing is left to do), or finished by a copy of this message.
		latest, _, gerr := h.d.Store.Campaign(ctx, c.StoreID, c.ID)
		if gerr == nil && (latest.Status == promo.StatusCancelled || latest.Run != c.Run || latest.Status == promo.StatusSent) {
			return nil
		}
		return err
	}
	return err
}

// storeDay is the date at now in the store's zone, the day its paid quota counts: a quota per
// UTC day would start at 08:00 in Shanghai, in the middle of the store's morning.
func storeDay(now time.Time, zone string) string {
	loc, err := member.ParseTimeZone(zone)
	if err != nil { // the store's zone was checked when it was saved; "" is the default zone
		loc, _ = member.ParseTimeZone("")
	}
	return now.In(loc).Format(time.DateOnly)
}

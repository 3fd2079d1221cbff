package sender

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"yinling/shared/dynamostore"
	"yinling/shared/i18n"
	"yinling/shared/ids"
	"yinling/shared/notify"
	"yinling/shared/promo"
	"yinling/shared/queues"
	"yinling/shared/sqsmsg"
)

// Campaign chunks (queues.TypePush). A chunk costs three table calls whatever its size: one
// UpdateItem that claims the chunk and reads it, one BatchGetItem of the campaign and the
// recipients still waiting, one transaction recording every outcome with the stats. Each
// recipient is sent to only while the chunk has no outcome for them, so a redelivered message
// sends nothing twice; a recipient whose provider call failed transiently has no outcome, and the
// message is retried for them alone.

// pushClaim is how long a sender holds a chunk: its provider calls, a few at a time, take
// seconds; a claim left by a crash expires and the chunk is retried.
const pushClaim = 2 * time.Minute

// isPush reports whether an SQS record carries a campaign chunk.
func isPush(body string) bool {
	env, err := sqsmsg.Decode(body)
	return err == nil && env.Type == queues.TypePush
}

// pushes delivers the campaign chunks of a batch, one after another.
func (h *Handler) pushes(ctx context.Context, recs []events.SQSMessage, now time.Time, fail func(string, error)) {
	for _, rec := range recs {
		if err := h.push(ctx, rec.Body, now); err != nil {
			fail(rec.MessageId, err)
		}
	}
}

func (h *Handler) push(ctx context.Context, body string, now time.Time) error {
	env, err := sqsmsg.Decode(body)
	if err != nil {
		return err
	}
	var p queues.Push
	if err := env.Unmarshal(&p); err != nil {
		return err
	}
	if !promo.ValidChunkCode(p.Chunk) || p.Store == "" {
		return fmt.Errorf("sender: bad chunk message %+v", p)
	}
	cl, err := h.d.Store.ClaimChunk(ctx, p.Chunk, ids.New(), now, now.Add(pushClaim))
	switch {
	case errors.Is(err, dynamostore.ErrChunkDone), errors.Is(err, dynamostore.ErrNoChunk):
		return nil // delivered already (a duplicate message), or expired
	case err != nil:
		return err // busy: another sender holds it; SQS retries after the visibility timeout
	}
	ch := cl.Chunk
	var pending []string
	if ch.Robot {
		if _, ok := ch.Outcomes[ch.GroupID]; !ok {
			pending = []string{ch.GroupID}
		}
	} else {
		for _, m := range ch.Members {
			if _, ok := ch.Outcomes[m]; !ok {
				pending = append(pending, m)
			}
		}
	}
	var members []string
	if !ch.Robot {
		members = pending
	}
	pc, err := h.d.Store.LoadPush(ctx, ch, members)
	if errors.Is(err, promo.ErrNotFound) {
		pc.Campaign.Status = promo.StatusCancelled // the campaign is gone: nothing is sent
	} else if err != nil {
		return errors.Join(err, h.d.Store.RecordChunk(ctx, cl, nil, promo.Stats{}))
	}
	jobs := make([]*pushJob, 0, len(pending))
	for _, id := range pending {
		j := &pushJob{id: id}
		h.decidePush(j, ch, pc)
		jobs = append(jobs, j)
	}
	h.sendPushes(ctx, jobs)
	outcomes := map[string]string{}
	var st promo.Stats
	var retry error
	for _, j := range jobs {
		switch {
		case j.err != nil:
			retry = j.err
			continue
		case j.outcome == dynamostore.PushSent:
			st.Sent++
		case strings.HasPrefix(j.outcome, dynamostore.PushFailed):
			st.Failed++
		default:
			st.Skipped++
		}
		outcomes[j.id] = j.outcome
	}
	if err := h.d.Store.RecordChunk(ctx, cl, outcomes, st); err != nil {
		// Those sent are sent; their outcomes are lost only if the claim expired meanwhile.
		return fmt.Errorf("record chunk %s: %w", ch.Code, err)
	}
	if retry != nil {
		return fmt.Errorf("chunk %s: some recipients will be tried again: %w", ch.Code, retry)
	}
	return nil
}

// pushJob is one recipient (or one robot) of a chunk.
type pushJob struct {
	id      string
	msg     notify.Message
	outcome string // "" while it is to be sent
	err     error  // transient: tried again
}

// Reasons a chunk's recipient is skipped at the last moment.
const (
	skipCancelled = "skipped:cancelled"
	skipErased    = "skipped:erased"
	skipNoRobot   = "skipped:no_robot"
)

// decidePush settles, from the campaign and the profile as they are now, whether j is still to
// be sent — a campaign cancelled, or a member who withdrew consent, opted out or was erased since
// the fan-out, is skipped — and builds its message.
func (h *Handler) decidePush(j *pushJob, ch dynamostore.OfferChunk, pc dynamostore.PushContext) {
	c := pc.Campaign
	if c.Status == promo.StatusCancelled {
		j.outcome = skipCancelled
		return
	}
	lang := i18n.ZhCN
	if ch.Robot {
		if pc.Group == nil || pc.Group.RobotKey == "" {
			j.outcome = skipNoRobot
			return
		}
		j.msg = notify.Message{ID: c.ID + ":" + ch.Code, StoreID: ch.StoreID, Channel: notify.ChannelWeCom, To: pc.Group.RobotKey,
			Text: i18n.Fill(i18n.T(lang, "notify.offer.group"), "title", c.Title, "body", c.Body), Kind: notify.KindPromotion,
			Lang: string(lang)}
		return
	}
	r, ok := pc.Recipients[j.id]
	if !ok {
		j.outcome = skipErased
		return
	}
	// What may have changed since the fan-out decided; the budget was counted then.
	if reason := promo.Unreachable(r.Member, r.OptedOut); reason != "" {
		j.outcome = dynamostore.PushSkipped + ":" + string(reason)
		return
	}
	pos := indexOf(ch.Members, j.id)
	link := strings.TrimSuffix(h.d.BaseURL, "/") + "/o/" + promo.OfferToken(h.d.Key, ch.Code, pos, j.id)
	speak := i18n.Fill(i18n.T(lang, "notify.offer.speak"), "name", r.Name, "title", c.Title, "body", c.Body)
	if c.Offer != nil {
		speak += i18n.Fill(i18n.T(lang, "notify.offer.price"), "price", promo.Yuan(c.Offer.Price(r.Tier)))
	}
	channel := notify.ChannelSMS
	if c.Channel == promo.ChannelVoice {
		channel = notify.ChannelVoice
	}
	j.msg = notify.Message{ID: c.ID + ":" + fmt.Sprint(c.Run) + ":" + j.id, StoreID: ch.StoreID, MemberID: j.id, Channel: channel,
		To: r.Phone.E164(), Text: c.Body, SpeakText: speak, Link: link, Kind: notify.KindPromotion, Lang: string(lang)}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// sendPushes calls the providers for the jobs to send, a few at a time.
func (h *Handler) sendPushes(ctx context.Context, jobs []*pushJob) {
	sem := make(chan struct{}, maxParallelSends)
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.outcome != "" {
			continue
		}
		ch, ok := h.d.Channels[j.msg.Channel]
		if !ok {
			j.outcome = dynamostore.PushFailed + ":" + notify.ReasonNoRoute
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := ch.Send(ctx, j.msg)
			switch {
			case err == nil:
				j.outcome = dynamostore.PushSent
			case notify.IsPermanent(err):
				j.outcome = dynamostore.PushFailed + ":" + notify.ReasonOf(err)
				h.d.Log.WarnContext(ctx, "push refused", "chunk", j.msg.ID, "to", notify.Mask(j.msg.To), "err", err)
			default:
				j.err = err
			}
		})
	}
	wg.Wait()
}

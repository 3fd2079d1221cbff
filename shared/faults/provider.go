package faults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"yinling/shared/notify"
)

// Kinds of provider fault.
const (
	// ProviderTransient: the provider refuses the message unsent (an outage); the caller
	// retries it.
	ProviderTransient Kind = "provider-transient"
	// ProviderPermanent: the provider refuses the message for good (notify.ReasonRejected).
	ProviderPermanent Kind = "provider-permanent"
	// ProviderSlow: the provider answers after Delay (or when the context ends, if sooner).
	ProviderSlow Kind = "provider-slow"
	// ProviderCrash: the provider accepts the message and the caller's invocation dies right
	// after (see Kill) — before it can record the send. A dead invocation's later sends fail
	// with ErrCrashed, unsent.
	ProviderCrash Kind = "provider-crash"
)

// Provider wraps a notify.Sender with faults. Decisions are drawn from the seed, the message
// id and how often that id was sent before: they do not depend on the order of concurrent
// sends, so a run is reproducible message by message. It is safe for concurrent use.
type Provider struct {
	Sender notify.Sender
	Seed   uint64
	// Rates of each fault, each drawn independently, in this order: Transient, Permanent
	// (both refuse unsent), Slow (then sends), Crash (sends, then kills the invocation).
	Transient, Permanent, Slow, Crash float64
	// Delay is how long a slow send waits.
	Delay time.Duration

	mu     sync.Mutex
	seen   map[string]uint64
	counts map[Kind]int
	sends  []send // every send the inner sender accepted
}

// send is one accepted send, and the invocation that made it (nil if none).
type send struct {
	id   string
	life *Life
}

// Send implements notify.Sender.
func (p *Provider) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if Dead(ctx) {
		// A dead process calls nobody: the rest of its batch is never sent.
		return notify.Receipt{}, fmt.Errorf("provider send of %s: %w", m.ID, ErrCrashed)
	}
	p.mu.Lock()
	if p.seen == nil {
		p.seen, p.counts = map[string]uint64{}, map[Kind]int{}
	}
	seq := p.seen[m.ID]
	p.seen[m.ID]++
	p.mu.Unlock()
	roll := func(k Kind, rate float64) bool {
		if rate <= 0 || draw(p.Seed, string(k)+"/"+m.ID, seq) >= rate {
			return false
		}
		p.mu.Lock()
		p.counts[k]++
		p.mu.Unlock()
		return true
	}
	if roll(ProviderTransient, p.Transient) {
		return notify.Receipt{}, fmt.Errorf("injected by faults: provider outage for %s", m.ID)
	}
	if roll(ProviderPermanent, p.Permanent) {
		return notify.Receipt{}, notify.Permanent(notify.ReasonRejected, errors.New("injected by faults: provider rejected "+m.ID))
	}
	if roll(ProviderSlow, p.Slow) && p.Delay > 0 {
		t := time.NewTimer(p.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return notify.Receipt{}, fmt.Errorf("injected by faults: slow provider for %s: %w", m.ID, ctx.Err())
		}
	}
	rec, err := p.Sender.Send(ctx, m)
	if err != nil {
		return rec, err
	}
	life, _ := ctx.Value(lifeKey{}).(*Life)
	p.mu.Lock()
	p.sends = append(p.sends, send{id: m.ID, life: life})
	p.mu.Unlock()
	if roll(ProviderCrash, p.Crash) {
		Kill(ctx, "provider-accepted")
	}
	return rec, nil
}

// Counts returns the faults injected so far, by kind.
func (p *Provider) Counts() map[Kind]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// Accepted returns how often the inner sender accepted each message id, and how many of those
// sends were made by an invocation that crashed afterwards (however it crashed): such a send
// may never have been recorded, so the caller may make it again — the one window in which a
// message goes twice. A message accepted n times with c such sends went twice by the caller's
// fault only if n > 1+c.
func (p *Provider) Accepted() (accepted, crashed map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	accepted, crashed = map[string]int{}, map[string]int{}
	for _, s := range p.sends {
		accepted[s.id]++
		if s.life != nil && s.life.Dead() {
			crashed[s.id]++
		}
	}
	return accepted, crashed
}

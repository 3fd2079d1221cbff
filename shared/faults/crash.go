package faults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// ErrCrashed is what a crashed invocation's calls, and a crash hook, return: the test's harness
// treats the invocation as dead (for a queue consumer, SQS redelivers its whole batch).
var ErrCrashed = errors.New("faults: injected crash")

// Life is one invocation of a function, as a test's harness runs it: once killed, every SDK
// call made with its context fails (an Injector must be registered on the clients), as if the
// process had died at that point — nothing after reaches AWS.
type Life struct {
	dead atomic.Bool
	mu   sync.Mutex
	step string
}

type lifeKey struct{}

// Invocation returns ctx carrying a new Life; the harness passes it to the handler and reads
// the Life when the handler returns.
func Invocation(ctx context.Context) (context.Context, *Life) {
	l := &Life{}
	return context.WithValue(ctx, lifeKey{}, l), l
}

// Kill marks ctx's invocation dead at step; it reports false when ctx carries no Life.
func Kill(ctx context.Context, step string) bool {
	l, ok := ctx.Value(lifeKey{}).(*Life)
	if !ok {
		return false
	}
	l.mu.Lock()
	if !l.dead.Load() {
		l.step = step
	}
	l.mu.Unlock()
	l.dead.Store(true)
	return true
}

// Dead reports whether ctx's invocation was killed.
func Dead(ctx context.Context) bool {
	l, ok := ctx.Value(lifeKey{}).(*Life)
	return ok && l.dead.Load()
}

// Dead reports whether the invocation was killed.
func (l *Life) Dead() bool { return l.dead.Load() }

// Step is where the invocation was killed, "" if it was not.
func (l *Life) Step() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.step
}

// Crasher decides crashes between a consumer's steps. Its Hook has the signature of
// fanout.Deps.Crash; At serves code that takes a context instead (a provider wrapper, a test's
// own step). It is safe for concurrent use; decisions are drawn like an Injector's.
type Crasher struct {
	// Seed and Rate: the share of passes through a step that crash.
	Seed uint64
	Rate float64
	// Steps limits crashes to these steps; empty means any.
	Steps []string
	// Max bounds the crashes in all; 0 means no bound.
	Max int

	mu      sync.Mutex
	seen    map[string]uint64
	crashes map[string]int
}

// Hook returns ErrCrashed (wrapped with the step) when the step crashes, else nil.
func (c *Crasher) Hook(step string) error {
	if !c.decide(step) {
		return nil
	}
	return fmt.Errorf("%w at %s", ErrCrashed, step)
}

// At kills ctx's invocation (see Kill) when the step crashes, and reports whether it did. The
// caller carries on: its later SDK calls fail, which is all a dead process would show.
func (c *Crasher) At(ctx context.Context, step string) bool {
	if !c.decide(step) {
		return false
	}
	Kill(ctx, step)
	return true
}

func (c *Crasher) decide(step string) bool {
	if len(c.Steps) > 0 && !slices.Contains(c.Steps, step) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen, c.crashes = map[string]uint64{}, map[string]int{}
	}
	seq := c.seen[step]
	c.seen[step]++
	if c.Max > 0 && c.total() >= c.Max {
		return false
	}
	if draw(c.Seed, "crash/"+step, seq) >= c.Rate {
		return false
	}
	c.crashes[step]++
	return true
}

func (c *Crasher) total() int {
	n := 0
	for _, v := range c.crashes {
		n += v
	}
	return n
}

// Crashes returns the crashes so far, by step.
func (c *Crasher) Crashes() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.crashes)
}

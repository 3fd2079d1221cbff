package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ScheduleConfig configures a Scheduler; the fields mirror a Schedule event of template.yaml.
type ScheduleConfig struct {
	// Every is the schedule's rate: rate(1 minute) is time.Minute. A local run may pass less.
	Every time.Duration
	// RuleName names the EventBridge rule in the event's resources; empty means the function's
	// name.
	RuleName string
	// Region and AccountID fill the event and ARNs; empty ones get local defaults.
	Region    string
	AccountID string
	// Function is the scheduled function.
	Function LambdaFunction
	// Log receives function errors and skipped ticks; nil means slog.Default().
	Log *slog.Logger
}

// Scheduler fires a function on a rate schedule with EventBridge's "Scheduled Event" payload.
// An invocation never overlaps the previous one: a tick that comes while one runs is skipped,
// which is what ReservedConcurrentExecutions: 1 gives the dispatcher in AWS (there the throttled
// event is retried later; the next tick does the same work here).
type Scheduler struct {
	cfg     ScheduleConfig
	region  string
	account string
	ruleARN string
	fnARN   string
	log     *slog.Logger
	// ticks replaces the ticker in tests.
	ticks <-chan time.Time
	// fired and skipped count ticks, for tests and for the log.
	fired, skipped atomic.Int64
}

// NewScheduler checks cfg and returns a Scheduler for it.
func NewScheduler(cfg ScheduleConfig) (*Scheduler, error) {
	if cfg.Every <= 0 {
		return nil, fmt.Errorf("scheduler %s: rate %s is not positive", cfg.Function.Name, cfg.Every)
	}
	if cfg.Function.Handler == nil {
		return nil, fmt.Errorf("scheduler: function %q has no handler", cfg.Function.Name)
	}
	s := &Scheduler{
		cfg:     cfg,
		region:  orDefault(cfg.Region, defaultRegion),
		account: orDefault(cfg.AccountID, defaultAccountID),
		log:     cfg.Log,
	}
	s.ruleARN = "arn:aws:events:" + s.region + ":" + s.account + ":rule/" + orDefault(cfg.RuleName, cfg.Function.Name)
	s.fnARN = functionARN(s.region, s.account, cfg.Function.Name)
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("function", cfg.Function.Name, "every", cfg.Every)
	return s, nil
}

// Run fires the function every cfg.Every, the first time one period after Run starts, as a
// new rate rule does. When ctx is cancelled it stops ticking, waits for an invocation in flight
// to finish and returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	ticks := s.ticks
	if ticks == nil {
		t := time.NewTicker(s.cfg.Every)
		defer t.Stop()
		ticks = t.C
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	busy := make(chan struct{}, 1) // holds a token while an invocation runs
	for {
		select {
		case <-ctx.Done():
			return nil
		case t := <-ticks:
			select {
			case busy <- struct{}{}:
				wg.Go(func() {
					defer func() { <-busy }()
					s.fire(ctx, t)
				})
			default:
				s.skipped.Add(1)
				s.log.Warn("tick skipped: the previous invocation is still running", "tick", t)
			}
		}
	}
}

func (s *Scheduler) fire(ctx context.Context, t time.Time) {
	defer s.fired.Add(1)
	payload, err := json.Marshal(scheduledEvent(t, s.region, s.account, s.ruleARN))
	if err != nil {
		s.log.Error("encode scheduled event", "err", err)
		return
	}
	// Lambda would retry a failed asynchronous invocation twice over the next minutes; the
	// next tick does the same work here, so a failure is only logged.
	if _, err := invoke(ctx, s.cfg.Function, s.fnARN, payload); err != nil {
		s.log.Error("scheduled invocation failed", "err", err)
	}
}

// scheduledEvent is the event EventBridge sends for a schedule rule firing at t; its time is the
// scheduled minute, in UTC, as EventBridge reports it.
func scheduledEvent(t time.Time, region, account, ruleARN string) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version:    "0",
		ID:         newUUID(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  account,
		Time:       t.UTC().Truncate(time.Minute),
		Region:     region,
		Resources:  []string{ruleARN},
		Detail:     json.RawMessage(`{}`),
	}
}

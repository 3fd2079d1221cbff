package main

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
)

func TestScheduledEvent(t *testing.T) {
	ruleARN := "arn:aws:events:cn-north-1:123456789012:rule/DispatcherFunction"
	tests := []struct {
		name     string
		at       time.Time
		wantTime string
	}{
		{"seconds dropped", time.Date(2025, 3, 1, 10, 4, 59, 999, time.UTC), "2025-03-01T10:04:00Z"},
		{"on the minute", time.Date(2025, 3, 1, 10, 4, 0, 0, time.UTC), "2025-03-01T10:04:00Z"},
		{"local time in UTC", time.Date(2025, 3, 1, 18, 4, 30, 0, time.FixedZone("CST", 8*3600)), "2025-03-01T10:04:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := scheduledEvent(tt.at, "cn-north-1", "123456789012", ruleARN)
			if len(ev.ID) != 36 {
				t.Errorf("id = %q, want a UUID", ev.ID)
			}
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			delete(got, "id")
			want := map[string]any{
				"version":     "0",
				"detail-type": "Scheduled Event",
				"source":      "aws.events",
				"account":     "123456789012",
				"time":        tt.wantTime,
				"region":      "cn-north-1",
				"resources":   []any{ruleARN},
				"detail":      map[string]any{},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("event JSON (-want +got):\n%s", diff)
			}
		})
	}
}

// blockingFunction counts invocations, signals each start on entered and returns when told to
// on release.
type blockingFunction struct {
	mu      sync.Mutex
	events  []events.EventBridgeEvent
	ctxErrs []error
	entered chan struct{}
	release chan struct{}
}

func newBlockingFunction() *blockingFunction {
	return &blockingFunction{entered: make(chan struct{}, 10), release: make(chan struct{}, 10)}
}

func (f *blockingFunction) handle(ctx context.Context, ev events.EventBridgeEvent) error {
	f.entered <- struct{}{}
	<-f.release
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
	f.ctxErrs = append(f.ctxErrs, ctx.Err())
	return nil
}

func newTestScheduler(t *testing.T, cfg ScheduleConfig) (*Scheduler, chan time.Time) {
	t.Helper()
	cfg.Log = quietLog()
	s, err := NewScheduler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ticks := make(chan time.Time)
	s.ticks = ticks
	return s, ticks
}

func TestSchedulerSkipsOverlappingTicks(t *testing.T) {
	fn := newBlockingFunction()
	s, ticks := newTestScheduler(t, ScheduleConfig{Every: time.Minute, Function: LambdaFunction{Name: "DispatcherFunction", Handler: lambda.NewHandler(fn.handle)}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	ticks <- t0
	<-fn.entered
	ticks <- t0.Add(time.Minute) // both arrive while the first invocation runs
	ticks <- t0.Add(2 * time.Minute)
	waitFor(t, func() bool { return s.skipped.Load() == 2 })
	fn.release <- struct{}{}
	waitFor(t, func() bool { return s.fired.Load() == 1 })
	ticks <- t0.Add(3 * time.Minute) // free again: fires
	<-fn.entered
	fn.release <- struct{}{}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}

	var times []string
	for _, ev := range fn.events {
		times = append(times, ev.Time.Format(time.RFC3339))
	}
	if diff := cmp.Diff([]string{"2025-03-01T10:00:00Z", "2025-03-01T10:03:00Z"}, times); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	if got := s.skipped.Load(); got != 2 {
		t.Errorf("skipped = %d, want 2", got)
	}
}

func TestSchedulerStopWaitsForInFlight(t *testing.T) {
	fn := newBlockingFunction()
	s, ticks := newTestScheduler(t, ScheduleConfig{Every: time.Minute, Function: LambdaFunction{Name: "Fn", Handler: lambda.NewHandler(fn.handle)}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	ticks <- time.Now()
	<-fn.entered
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while an invocation was running")
	case <-time.After(50 * time.Millisecond):
	}
	fn.release <- struct{}{}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the invocation finished")
	}
	if len(fn.ctxErrs) != 1 || fn.ctxErrs[0] != nil {
		t.Errorf("function context errors = %v, want one nil: shutdown must not cancel the invocation", fn.ctxErrs)
	}
}

func TestSchedulerTicker(t *testing.T) {
	var mu sync.Mutex
	var got []events.EventBridgeEvent
	handler := func(ev events.EventBridgeEvent) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		if len(got) == 1 {
			return errors.New("first tick fails; later ticks still fire")
		}
		return nil
	}
	s, err := NewScheduler(ScheduleConfig{
		Every:     5 * time.Millisecond,
		RuleName:  "yl-DispatcherFunctionTick-ABC",
		Region:    "cn-north-1",
		AccountID: "123456789012",
		Function:  LambdaFunction{Name: "DispatcherFunction", Handler: lambda.NewHandler(handler)},
		Log:       quietLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, func() bool { return s.fired.Load() >= 3 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	ids := map[string]bool{}
	for _, ev := range got {
		if ev.Resources[0] != "arn:aws:events:cn-north-1:123456789012:rule/yl-DispatcherFunctionTick-ABC" || ev.AccountID != "123456789012" || ev.Region != "cn-north-1" {
			t.Errorf("event = %+v", ev)
		}
		if ids[ev.ID] {
			t.Errorf("event id %s repeated", ev.ID)
		}
		ids[ev.ID] = true
	}
}

func TestNewSchedulerErrors(t *testing.T) {
	fn := LambdaFunction{Name: "Fn", Handler: rawHandler("null")}
	tests := []struct {
		name string
		cfg  ScheduleConfig
	}{
		{"no rate", ScheduleConfig{Function: fn}},
		{"negative rate", ScheduleConfig{Every: -time.Second, Function: fn}},
		{"no handler", ScheduleConfig{Every: time.Minute, Function: LambdaFunction{Name: "Fn"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewScheduler(tt.cfg); err == nil {
				t.Error("NewScheduler() accepted a bad configuration")
			}
		})
	}
}

// Package dispatcher runs every minute: it moves due reminder occurrences from the sparse Due
// index to the deliveries queue and catches up on minutes missed during an outage. The due-time
// reading lands with the reminders issue; until then a tick only records that it ran.
package dispatcher

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table         string `env:"TABLE_NAME"`
	DeliveriesURL string `env:"DELIVERIES_QUEUE_URL"`
	LogLevel      string `env:"LOG_LEVEL,optional"`
}

// Handler handles the scheduled tick.
type Handler struct {
	log *slog.Logger
}

// Wire builds the handler from its configuration.
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	return &Handler{log: log}
}

// Tick reports what one run did.
type Tick struct {
	ScheduledFor time.Time `json:"scheduledFor"`
	Enqueued     int       `json:"enqueued"`
}

// Handle runs one tick of the schedule.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (Tick, error) {
	h.log.InfoContext(ctx, "dispatcher tick", "scheduled_for", ev.Time)
	return Tick{ScheduledFor: ev.Time}, nil
}

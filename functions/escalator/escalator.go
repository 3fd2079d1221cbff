// Package escalator acts on ack-checks: an unacknowledged reminder is retried, then sent to family links with alerts, then to staff. Its message type lands with the reminders issue.
package escalator

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"yinling/shared/consumer"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table    string `env:"TABLE_NAME"`
	LogLevel string `env:"LOG_LEVEL,optional"`
}

// Handler consumes the function's queue.
type Handler struct {
	*consumer.Router
}

// Wire builds the handler from its configuration.
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	return &Handler{Router: consumer.New(log)}
}

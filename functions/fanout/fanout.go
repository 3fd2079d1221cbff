// Package fanout expands one page of a campaign's audience into delivery chunks and enqueues the next page. Its message type lands with the promotions issue.
package fanout

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

// Package reminders serves reminders of a member — create, list, cancel, acknowledge — and voice-clip uploads. Its routes land with the reminders issue.
package reminders

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"yinling/shared/apigw"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table    string `env:"TABLE_NAME"`
	LogLevel string `env:"LOG_LEVEL,optional"`
}

// Handler serves the function's routes; until they land, every request answers 404.
type Handler struct {
	*apigw.Mux
}

// Wire builds the handler from its configuration.
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	return &Handler{Mux: apigw.NewMux(log)}
}

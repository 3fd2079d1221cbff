// Package promotions serves the HTTP API of campaigns (issue #6, promotion pushes): what staff
// do (/api/admin/campaigns/…: create an offer or a run of health content for an audience,
// list, read with its figures, cancel), the offer page behind the link in every push
// (/api/o/{token}: the offer at the member's own tier price, and a one-tap unsubscribe that
// works without signing in), and a senior's own unsubscribe (/api/unsubscribe).
//
// The rules are the domain's (shared/promo) and the storage the table's (shared/dynamostore);
// sending is the fan-out's and the sender's. This function only starts a campaign that is due
// at once: every other run is started by the dispatcher from the Due index.
package promotions

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/pii"
	"yinling/shared/sqsmsg"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table    string `env:"TABLE_NAME"`
	LogLevel string `env:"LOG_LEVEL,optional"`
	// FanoutURL is the queue that starts a campaign due at once.
	FanoutURL string `env:"FANOUT_QUEUE_URL"`
	// PIIKey checks the offer page tokens (promo.OfferToken), which the fan-out derives with the
	// same key and never stores.
	PIIKey string `env:"PII_HASH_KEY"`
	// PIIKMSKey names the KMS key that wraps the data keys phones are sealed with at rest
	// ("local:…" on the local stack: see pii.ForKeyID).
	PIIKMSKey string `env:"PII_KMS_KEY_ID"`
	// FunctionName is set by the Lambda runtime: in Lambda a local PII key is refused.
	FunctionName string `env:"AWS_LAMBDA_FUNCTION_NAME,optional"`
}

// Sender enqueues messages (*sqsmsg.Queue).
type Sender interface {
	Send(ctx context.Context, msgs []sqsmsg.Outgoing) error
}

// Deps are what the handler needs; tests and the local stack build them as main does.
type Deps struct {
	Store *dynamostore.Store
	// Fanout starts a campaign that is due at once (queues.TypeFanout).
	Fanout Sender
	// Key checks offer page tokens (promo.ValidOfferToken).
	Key []byte
	Log *slog.Logger
	Now func() time.Time
}

// Handler serves the campaign routes.
type Handler struct {
	*apigw.Mux
	d Deps
}

// New returns the handler with its routes registered.
func New(d Deps) *Handler {
	h := &Handler{Mux: apigw.NewMux(d.Log), d: d}

	h.Route("GET /api/admin/campaigns", h.campaigns)
	h.Route("POST /api/admin/campaigns", h.createCampaign)
	h.Route("GET /api/admin/campaigns/{id}", h.campaign)
	h.Route("POST /api/admin/campaigns/{id}/cancel", h.cancelCampaign)

	h.Route("GET /api/o/{token}", h.offerPage)
	h.Route("POST /api/o/{token}/unsubscribe", h.offerUnsubscribe)
	h.Route("POST /api/unsubscribe", h.unsubscribeMe)
	return h
}

// Wire builds the handler from its configuration and the process's AWS config: the one place
// that knows which clients this function uses (main and the local stack both call it).
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	return New(Deps{
		Store: dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table,
			dynamostore.WithPII(pii.MustWrapper(cfg, env.PIIKMSKey, env.FunctionName))),
		Fanout: sqsmsg.NewQueue(sqs.NewFromConfig(cfg), env.FanoutURL),
		Key:    []byte(env.PIIKey),
		Log:    log,
		Now:    time.Now,
	})
}

// Handle serves one request. Every answer under an offer link, refusals included, carries
// headers that keep the token out of Referer headers and search indexes: the link is the
// member's credential for the page and its unsubscribe button.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	resp, err := h.Mux.Handle(ctx, req)
	_, path, _ := strings.Cut(req.RouteKey, " ")
	if strings.HasPrefix(path, "/api/o/") {
		resp = apigw.CapabilityHeaders(resp)
	}
	return resp, err
}

// now is the request's time, to the second, as every stored time is.
func (h *Handler) now() time.Time { return h.d.Now().UTC().Truncate(time.Second) }

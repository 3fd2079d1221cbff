// Package admin is the staff endpoint (/api/admin/…): a store's groups and invites, its members
// (list, detail, tier and tags, approval, verification in person, CSV export) and each group's
// health. Every query is scoped by the store in
// the caller's verified token; another store's id answers 404, exactly like a missing one.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/ids"
	"yinling/shared/pii"
	"yinling/shared/tenant"
)

// Env is the function's configuration, declared in template.yaml.
type Env struct {
	Table      string `env:"TABLE_NAME"`
	BaseURL    string `env:"PUBLIC_BASE_URL,optional"`
	LogLevel   string `env:"LOG_LEVEL,optional"`
	NotifyMode string `env:"NOTIFY_MODE,optional"`
	// PIIKMSKey names the KMS key that wraps the data keys phones are sealed with at rest
	// ("local:…" on the local stack: see pii.ForKeyID).
	PIIKMSKey string `env:"PII_KMS_KEY_ID"`
	// FunctionName is set by the Lambda runtime: in Lambda a local PII key is refused.
	FunctionName string `env:"AWS_LAMBDA_FUNCTION_NAME,optional"`
}

// Deps are what the handler needs; tests and the local stack build them as main does.
type Deps struct {
	Store   *dynamostore.Store
	Log     *slog.Logger
	Now     func() time.Time
	BaseURL string // origin of join links; "" uses the request's host
	// Outbox serves GET /api/admin/outbox: only where messages go to the outbox (local
	// development, a staging stack), never where they reach real phones.
	Outbox bool
	// ExportMax bounds the rows of a member export; 0 is DefaultExportMax.
	ExportMax int
}

// Handler serves the admin routes.
type Handler struct {
	*apigw.Mux
	d Deps
}

// New returns the handler with every admin route registered.
func New(d Deps) *Handler {
	h := &Handler{Mux: apigw.NewMux(d.Log), d: d}
	h.Route("GET /api/admin/groups", h.listGroups)
	h.Route("POST /api/admin/groups", h.createGroup)
	h.Route("GET /api/admin/groups/{id}", h.getGroup)
	h.Route("PATCH /api/admin/groups/{id}", h.updateGroup)
	h.Route("POST /api/admin/groups/{id}/invites", h.createInvite)
	h.Route("GET /api/admin/outbox", h.listOutbox)
	h.Route("GET /api/admin/members", h.listMembers)
	h.Route("GET /api/admin/members/export", h.exportMembers)
	h.Route("GET /api/admin/members/{id}", h.getMember)
	h.Route("PATCH /api/admin/members/{id}", h.updateMember)
	h.Route("POST /api/admin/members/{id}/family-links", h.createFamilyLink)
	h.Route("GET /api/admin/metrics", h.groupHealth)
	return h
}

// Wire builds the handler from its configuration and the process's AWS config: the one place
// that knows which clients this function uses (main and the local stack both call it).
func Wire(env Env, cfg aws.Config, log *slog.Logger) *Handler {
	return New(Deps{
		Store: dynamostore.New(dynamodb.NewFromConfig(cfg), env.Table,
			dynamostore.WithPII(pii.MustWrapper(cfg, env.PIIKMSKey, env.FunctionName))),
		Log:     log,
		Now:     time.Now,
		BaseURL: env.BaseURL,
		Outbox:  env.NotifyMode == "outbox",
	})
}

// Paging of lists.
const (
	defaultLimit = 50
	maxLimit     = 100
)

// codeAttempts bounds redraws of a colliding code; with 31^8 codes a second draw is already
// astronomically rare.
const codeAttempts = 3

func (h *Handler) listGroups(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.ListGroups(ctx, staff.StoreID, r.QueryStringParameters["cursor"], limit)
	if err != nil {
		return apigw.Response{}, err
	}
	out := groupList{Items: make([]groupJSON, len(page.Items)), Cursor: page.Cursor}
	base := apigw.BaseURL(h.d.BaseURL, r)
	for i, g := range page.Items {
		out.Items[i] = toGroupJSON(g, base)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func (h *Handler) createGroup(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in createGroupJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	idemKey, idemHash, err := apigw.IdempotencyKey(r)
	if err != nil {
		return apigw.Response{}, err
	}
	store, err := h.d.Store.GetStore(ctx, staff.StoreID)
	if errors.Is(err, fail.ErrNotFound) {
		// A valid token for a store that does not exist is an operator's mistake, not a 500.
		return apigw.Response{}, &fail.Error{Kind: fail.Forbidden, Code: "store_not_found"}
	}
	if err != nil {
		return apigw.Response{}, err
	}
	g, err := group.New(in.draft(), store.PushCap)
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.d.Now().UTC().Truncate(time.Second)
	g.StoreID, g.CreatedBy, g.CreatedAt, g.UpdatedAt = staff.StoreID, staff.ID, now, now
	g.ID = ids.New()
	for attempt := 0; ; attempt++ {
		g.JoinCode = ids.NewCode()
		created, err := h.d.Store.CreateGroup(ctx, g, dynamostore.Idempotency{Key: idemKey, RequestHash: idemHash})
		if errors.Is(err, dynamostore.ErrCodeTaken) && attempt < codeAttempts {
			continue
		}
		if err != nil {
			return apigw.Response{}, fmt.Errorf("create group: %w", err)
		}
		return apigw.JSON(http.StatusCreated, toGroupJSON(created, apigw.BaseURL(h.d.BaseURL, r))), nil
	}
}

func (h *Handler) getGroup(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	g, err := h.d.Store.GetGroup(ctx, staff.StoreID, id)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toGroupJSON(g, apigw.BaseURL(h.d.BaseURL, r))), nil
}

func (h *Handler) updateGroup(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in updateGroupJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	p, err := in.patch().Validate()
	if err != nil {
		return apigw.Response{}, err
	}
	g, err := h.d.Store.UpdateGroup(ctx, staff.StoreID, id, p, h.d.Now().UTC().Truncate(time.Second))
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toGroupJSON(g, apigw.BaseURL(h.d.BaseURL, r))), nil
}

func (h *Handler) createInvite(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in createInviteJSON
	if r.Body != "" { // no body: an invite with the defaults
		if err := apigw.Decode(r, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	inv, err := group.NewInvite(group.Group{ID: id, StoreID: staff.StoreID}, staff.ID,
		group.InviteDraft{TTLDays: in.TTLDays, MaxUses: in.MaxUses}, h.d.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	for attempt := 0; ; attempt++ {
		inv.Code = ids.NewCode()
		err := h.d.Store.CreateInvite(ctx, inv)
		if errors.Is(err, dynamostore.ErrCodeTaken) && attempt < codeAttempts {
			continue
		}
		if err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusCreated, toInviteJSON(inv, apigw.BaseURL(h.d.BaseURL, r))), nil
	}
}

// listOutbox shows what every channel would have sent, newest first: in local development the
// one-time codes, reminders and promotions that would have reached a phone.
func (h *Handler) listOutbox(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if !h.d.Outbox {
		return apigw.Response{}, &fail.Error{Kind: fail.NotFound, Code: "route_not_found"}
	}
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.ListOutbox(ctx, staff.StoreID, r.QueryStringParameters["cursor"], limit)
	if err != nil {
		return apigw.Response{}, err
	}
	out := outboxList{Items: make([]outboxJSON, len(page.Items)), Cursor: page.Cursor}
	for i, e := range page.Items {
		out.Items[i] = outboxJSON{MessageID: e.MessageID, MemberID: e.MemberID, Channel: e.Channel, To: e.To,
			ToMasked: e.ToMasked, Text: e.Text, Link: e.Link, Kind: e.Kind, At: e.At.UTC()}
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// staffAndID returns the caller and the {id} path parameter. An id that cannot be one of ours
// answers 404, the same as another store's id.
func staffAndID(r *apigw.Request) (tenant.Staff, string, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return tenant.Staff{}, "", err
	}
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return tenant.Staff{}, "", group.ErrNotFound
	}
	return staff, id, nil
}

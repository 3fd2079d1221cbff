package promotions

import (
	"context"
	"errors"
	"net/http"
	"time"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/ids"
	"yinling/shared/promo"
	"yinling/shared/queues"
	"yinling/shared/sqsmsg"
	"yinling/shared/tenant"
)

// Staff routes (/api/admin/campaigns/…). Every read and write is scoped by the store in the
// caller's verified token; another store's campaign or group answers exactly like a missing one.

// Errors of the staff routes.
var (
	// errUnknownGroup refuses an audience group the store does not have.
	errUnknownGroup = &fail.Error{Kind: fail.Invalid, Code: "unknown_group", Field: "audience.groups"}
	// errBusy answers a cancel that kept losing the race with the fan-out: try again.
	errBusy = &fail.Error{Kind: fail.Unavailable, Code: "campaign_busy"}
)

// Paging of lists.
const (
	defaultLimit = 50
	maxLimit     = 100
)

// cancelAttempts bounds re-reads when the fan-out changed a campaign under a cancel (it moves
// the status and the run as it goes): the cancel applies to the fresh copy as well.
const cancelAttempts = 3

// startWithin is how near its time a new campaign is started by this request rather than left
// to the dispatcher alone: the fan-out takes a start up to a minute early, and the dispatcher
// may already have read the minute a campaign due now is placed in.
const startWithin = time.Minute

// campaigns lists the store's campaigns, newest first.
func (h *Handler) campaigns(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.ListCampaigns(ctx, staff.StoreID, r.QueryStringParameters["cursor"], limit)
	if err != nil {
		return apigw.Response{}, err
	}
	out := campaignList{Campaigns: make([]campaignJSON, len(page.Items)), Cursor: page.Cursor}
	for i, c := range page.Items {
		out.Campaigns[i] = toCampaignJSON(c)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// createCampaign validates a draft in full before anything is read, then checks its groups
// (one BatchGetItem) and stores it (one conditional put), which places it in the Due index at
// its time. A campaign due now is also started at once. With an Idempotency-Key, the id is
// derived from the store, the key and the body, so a retry answers the campaign its first
// attempt made.
func (h *Handler) createCampaign(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in campaignDraftJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	idemKey, idemHash, err := apigw.IdempotencyKey(r)
	if err != nil {
		return apigw.Response{}, err
	}
	d, err := in.draft()
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.now()
	c, err := promo.New(d, now)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.groupsExist(ctx, staff.StoreID, c.Audience.Groups); err != nil {
		return apigw.Response{}, err
	}
	c.ID, c.StoreID, c.CreatedBy = ids.New(), staff.StoreID, staff.ID
	if idemKey != "" {
		c.ID = ids.Derived(staff.StoreID, "campaign", idemKey, idemHash)
	}
	err = h.d.Store.CreateCampaign(ctx, c)
	if errors.Is(err, dynamostore.ErrExists) && idemKey != "" {
		// A retry: its first attempt may have stored the campaign and failed to start it.
		c, _, err = h.d.Store.Campaign(ctx, staff.StoreID, c.ID)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	h.startIfDue(ctx, c, now)
	h.d.Log.InfoContext(ctx, "campaign created", "store", c.StoreID, "campaign", c.ID, "kind", c.Kind,
		"channel", c.Channel, "send_at", c.SendAt)
	return apigw.JSON(http.StatusCreated, toCampaignJSON(c)), nil
}

// groupsExist refuses an audience group the store does not have (one BatchGetItem); an id that
// cannot be one is refused without a read.
func (h *Handler) groupsExist(ctx context.Context, store string, groups []string) error {
	for _, g := range groups {
		if !ids.Valid(g) {
			return errUnknownGroup
		}
	}
	found, err := h.d.Store.GetGroups(ctx, store, groups)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if _, ok := found[g]; !ok {
			return errUnknownGroup
		}
	}
	return nil
}

// startIfDue sends the first fan-out message of a scheduled campaign whose time is within a
// minute, delayed to its time. The campaign is stored by then, so a failure is logged, not
// answered: the dispatcher starts it from the Due index if it has not read its minute yet, and a
// retry with the same Idempotency-Key sends the message again. A second start (this message and
// the dispatcher's) is harmless: the fan-out starts a run once.
func (h *Handler) startIfDue(ctx context.Context, c promo.Campaign, now time.Time) {
	at := c.RunAt(c.Run)
	if c.Status != promo.StatusScheduled || at.After(now.Add(startWithin)) {
		return
	}
	msg := queues.StartMessage(c.StoreID, c.ID, c.Run, c.Audience.Groups[0])
	msg.Delay = max(at.Sub(now), 0)
	if err := h.d.Fanout.Send(ctx, []sqsmsg.Outgoing{msg}); err != nil {
		h.d.Log.ErrorContext(ctx, "start campaign", "store", c.StoreID, "campaign", c.ID, "err", err)
	}
}

// campaign is one campaign with its figures.
func (h *Handler) campaign(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	c, st, err := h.d.Store.Campaign(ctx, staff.StoreID, id)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toCampaignStatsJSON(c, st)), nil
}

// cancelCampaign stops a campaign: no further message goes (the fan-out and the sender read the
// status before each page and each chunk), and a scheduled one leaves the Due index. Cancelling
// again answers the campaign as it is; a campaign with nothing left to send is refused, one whose
// fan-out ended but whose messages wait for quiet hours to end is not.
func (h *Handler) cancelCampaign(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.now()
	for attempt := 1; ; attempt++ {
		cur, st, err := h.d.Store.Campaign(ctx, staff.StoreID, id)
		if err != nil {
			return apigw.Response{}, err
		}
		next, err := cur.Cancel(staff.ID, st, now)
		if err != nil {
			return apigw.Response{}, err
		}
		if cur.Status == promo.StatusCancelled {
			return apigw.JSON(http.StatusOK, toCampaignStatsJSON(cur, st)), nil
		}
		err = h.d.Store.SaveCampaignStatus(ctx, next, cur.UpdatedAt)
		if errors.Is(err, dynamostore.ErrCampaignChanged) {
			if attempt < cancelAttempts {
				continue
			}
			return apigw.Response{}, errBusy
		}
		if err != nil {
			return apigw.Response{}, err
		}
		h.d.Log.InfoContext(ctx, "campaign cancelled", "store", staff.StoreID, "campaign", id, "was", cur.Status)
		return apigw.JSON(http.StatusOK, toCampaignStatsJSON(next, st)), nil
	}
}

// staffAndID returns the caller and the campaign {id}; an id that cannot be one of ours answers
// not found, the same as another store's.
func staffAndID(r *apigw.Request) (tenant.Staff, string, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return tenant.Staff{}, "", err
	}
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return tenant.Staff{}, "", promo.ErrNotFound
	}
	return staff, id, nil
}

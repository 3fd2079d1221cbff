package reminders

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/reminder"
	"yinling/shared/tenant"
)

// Staff routes (/api/admin/…): reminders for one member or a whole group, and what happened to
// them. Every read and write is scoped by the store in the caller's verified token; another
// store's member, group or reminder answers 404 exactly like a missing one.

// Broadcast limits.
const (
	// MaxBroadcast bounds the members one broadcast reaches. A WeChat group holds 500; a store's
	// group four times that is a mistake to refuse, not a reason to write thousands of reminders
	// in one request.
	MaxBroadcast = 2000
	// broadcastPage is the members read per call while a broadcast finds its recipients.
	broadcastPage = 100
)

// Refusals of a broadcast; nothing is written.
var (
	// errGroupTooLarge refuses a broadcast to more than MaxBroadcast members.
	errGroupTooLarge = &fail.Error{Kind: fail.Conflict, Code: "group_too_large"}
	// errNoRobot refuses a post to the group's WeCom robot when the group has none.
	errNoRobot = &fail.Error{Kind: fail.Conflict, Code: "no_wecom_robot", Field: "wecom"}
)

func (h *Handler) staffReminders(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := staffMember(r)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.list(ctx, r, a)
	if err != nil {
		return apigw.Response{}, err
	}
	if len(page.Items) == 0 && r.QueryStringParameters["cursor"] == "" {
		// An empty first page: tell "no reminders yet" from "no such member in this store".
		if _, _, err := h.d.Store.MemberWithStore(ctx, a.storeID, a.memberID); err != nil {
			return apigw.Response{}, err
		}
	}
	return apigw.JSON(http.StatusOK, h.listJSON(r, page)), nil
}

func (h *Handler) staffCreate(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := staffMember(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in draftJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	rem, err := h.create(ctx, a, in)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, toReminderJSON(rem, h.link(r, rem))), nil
}

func (h *Handler) staffUpdate(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := staffMember(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in patchJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	rem, err := h.update(ctx, a, r.PathParameters["rid"], in)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toReminderJSON(rem, h.link(r, rem))), nil
}

func (h *Handler) staffCancel(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	a, err := staffMember(r)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.cancel(ctx, a, r.PathParameters["rid"]); err != nil {
		return apigw.Response{}, err
	}
	return apigw.NoContent(), nil
}

// staffMember is the member {id} of the caller's store, with the caller as the one who acts.
func staffMember(r *apigw.Request) (actor, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return actor{}, err
	}
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return actor{}, member.ErrNotFound
	}
	return actor{storeID: staff.StoreID, memberID: id, via: reminder.ViaStaff, by: staff.ID,
		missing: member.ErrNotFound}, nil
}

// broadcast gives every active, verified member of a group the same reminder — tomorrow's
// doctor Q&A, a free blood-pressure check — each their own, with its own page link and ladder.
// Members without the health consent get no medication or check-up reminder (counted as
// skipped). With wecom, one more reminder, of the group rather than of a member, is posted to the
// group's WeCom robot at the same times (the dispatcher and the sender know it by its empty
// member). The draft is checked before anything is read; the members are read a page at a time
// (at most MaxBroadcast of them), and the reminders written in batches.
//
// With an Idempotency-Key, the broadcast's id and each reminder's id are derived from the
// store, the key and the body, so a retry writes the same items rather than new ones, and a
// retry after a complete first attempt writes nothing. A key reused with another body is a new
// broadcast.
func (h *Handler) broadcast(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, groupID, err := staffAndID(r, group.ErrNotFound)
	if err != nil {
		return apigw.Response{}, err
	}
	var in broadcastJSON
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
	if _, err := reminder.New(d, now); err != nil {
		return apigw.Response{}, err
	}
	if in.WeCom {
		g, err := h.d.Store.GetGroup(ctx, staff.StoreID, groupID)
		if err != nil {
			return apigw.Response{}, err
		}
		if g.RobotKey == "" {
			return apigw.Response{}, errNoRobot
		}
	}

	var recipients []member.Member
	skipped := 0
	cursor := ""
	for {
		page, err := h.d.Store.ListGroupMembers(ctx, staff.StoreID, groupID,
			dynamostore.MemberFilter{Status: member.StatusActive}, cursor, broadcastPage)
		if err != nil {
			return apigw.Response{}, err
		}
		for _, gm := range page.Items {
			switch m := gm.Member; {
			case !m.Verified(), d.Kind.NeedsHealthConsent() && !m.Consents.Granted(member.ConsentHealth):
				skipped++
			default:
				recipients = append(recipients, m)
			}
		}
		if len(recipients)+skipped > MaxBroadcast {
			return apigw.Response{}, errGroupTooLarge
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}

	if d.Rule.TimeZone == "" {
		// A group event happens at the store, at the store's time.
		store, err := h.d.Store.GetStore(ctx, staff.StoreID)
		if err != nil {
			return apigw.Response{}, err
		}
		d.Rule.TimeZone = firstNonEmpty(store.TimeZone, tenant.DefaultTimeZone)
	}
	broadcastID := ids.New()
	if idemKey != "" {
		broadcastID = ids.Derived(staff.StoreID, "broadcast", idemKey, idemHash)
	}
	result := broadcastResult{BroadcastID: broadcastID, Reminders: len(recipients), Skipped: skipped, WeCom: in.WeCom}
	tmpl, err := reminder.New(d, now)
	if err != nil {
		return apigw.Response{}, err
	}
	tmpl.StoreID, tmpl.GroupID, tmpl.BroadcastID = staff.StoreID, groupID, broadcastID
	tmpl.CreatedBy, tmpl.CreatedVia, tmpl.UpdatedBy, tmpl.UpdatedVia = staff.ID, reminder.ViaStaff, staff.ID, reminder.ViaStaff
	var rs []reminder.Reminder
	add := func(memberID string) {
		rem := tmpl
		rem.MemberID, rem.ID = memberID, ids.New()
		if idemKey != "" {
			rem.ID = ids.Derived(broadcastID, "reminder", memberID)
		}
		rs = append(rs, rem)
	}
	if in.WeCom {
		add("") // the group's own: its robot posts it
	}
	for _, m := range recipients {
		add(m.ID)
	}
	if len(rs) == 0 {
		return apigw.JSON(http.StatusAccepted, result), nil
	}
	if idemKey != "" {
		// CreateBroadcast writes in order, so if the last reminder is there the first attempt
		// finished (but, should it have failed between that reminder and its page link, for
		// that link).
		if _, err := h.d.Store.GetReminder(ctx, staff.StoreID, rs[len(rs)-1].ID); err == nil {
			return apigw.JSON(http.StatusAccepted, result), nil
		} else if !errors.Is(err, reminder.ErrNotFound) {
			return apigw.Response{}, err
		}
	}
	// The clip is claimed once: every reminder of the broadcast plays the same recording.
	clip, err := h.claim(ctx, actor{storeID: staff.StoreID}, d.ClipKey, "")
	if err != nil {
		return apigw.Response{}, err
	}
	hashes := make([]string, len(rs))
	for i := range rs {
		rs[i].ClipKey, hashes[i] = clip, h.linkHash(rs[i])
	}
	if err := h.d.Store.CreateBroadcast(ctx, rs, hashes); err != nil {
		return apigw.Response{}, err
	}
	h.d.Log.InfoContext(ctx, "broadcast", "store", staff.StoreID, "group", groupID, "broadcast", broadcastID,
		"reminders", len(rs), "skipped", skipped, "wecom", in.WeCom)
	return apigw.JSON(http.StatusAccepted, result), nil
}

// broadcastDeliveries is one page of a broadcast's deliveries, by state then member. A broadcast
// of another store, like one that sent nothing yet, has none.
func (h *Handler) broadcastDeliveries(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r, errBroadcastNotFound)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	cursor := r.QueryStringParameters["cursor"]
	page, err := h.d.Store.BroadcastDeliveries(ctx, staff.StoreID, id, cursor, limit)
	if err != nil {
		return apigw.Response{}, err
	}
	if cursor == "" && len(page.Items) == 0 {
		// No deliveries yet, or not a broadcast of this store: only the record tells.
		switch ok, err := h.d.Store.BroadcastExists(ctx, staff.StoreID, id); {
		case err != nil:
			return apigw.Response{}, err
		case !ok:
			return apigw.Response{}, errBroadcastNotFound
		}
	}
	out := deliveryList{Deliveries: make([]deliveryJSON, len(page.Items)), Cursor: page.Cursor}
	for i, d := range page.Items {
		out.Deliveries[i] = toDeliveryJSON(d)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// errBroadcastNotFound answers a broadcast id that cannot be one.
var errBroadcastNotFound = &fail.Error{Kind: fail.NotFound, Code: "broadcast_not_found"}

// reminderDeliveries is a reminder's history: occurrences newest first, each with its
// acknowledgement and deliveries (calls, retries, family and staff alerts).
func (h *Handler) reminderDeliveries(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r, reminder.ErrNotFound)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	cursor := r.QueryStringParameters["cursor"]
	st, err := h.d.Store.ReminderStatus(ctx, staff.StoreID, id, cursor, limit)
	if err != nil {
		return apigw.Response{}, err
	}
	if len(st.Occurrences) == 0 && cursor == "" {
		// An empty first page: tell "nothing sent yet" from "no such reminder in this store".
		if _, err := h.d.Store.GetReminder(ctx, staff.StoreID, id); err != nil {
			return apigw.Response{}, err
		}
	}
	return apigw.JSON(http.StatusOK, toStatusJSON(st)), nil
}

// alerts are the store's staff alerts, newest first: occurrences nobody acknowledged, even after
// the family was told. Staff call the senior, or go round.
func (h *Handler) alerts(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.ListStaffAlerts(ctx, staff.StoreID, r.QueryStringParameters["cursor"], limit)
	if err != nil {
		return apigw.Response{}, err
	}
	out := alertList{Alerts: make([]alertJSON, len(page.Items)), Cursor: page.Cursor}
	for i, a := range page.Items {
		out.Alerts[i] = alertJSON{ReminderID: a.ReminderID, MemberID: a.MemberID, MemberName: a.MemberName,
			Kind: string(a.Kind), Text: a.Text, Occurrence: a.Occurrence, At: a.At.UTC()}
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// queueAttrs are the depths GET /api/admin/queues reports.
var queueAttrs = []types.QueueAttributeName{
	types.QueueAttributeNameApproximateNumberOfMessages,
	types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
}

// queues reports each work queue's depth and its dead-letter queue's: messages there failed five
// receives and wait for an operator. The queues are shared by every store, so this shows counts
// only, never a message. The six reads run at once.
func (h *Handler) queues(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if _, err := apigw.Staff(r); err != nil {
		return apigw.Response{}, err
	}
	out := queueList{Queues: make([]queueJSON, len(h.d.QueueURLs))}
	errs := make([]error, 2*len(h.d.QueueURLs))
	var wg sync.WaitGroup
	for i, q := range h.d.QueueURLs {
		out.Queues[i].Name = q.Name
		wg.Go(func() {
			var a map[string]string
			if a, errs[2*i] = h.queueAttributes(ctx, q.URL); errs[2*i] == nil {
				out.Queues[i].Visible = count(a, types.QueueAttributeNameApproximateNumberOfMessages)
				out.Queues[i].InFlight = count(a, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
				out.Queues[i].Delayed = count(a, types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
			}
		})
		wg.Go(func() {
			var a map[string]string
			if a, errs[2*i+1] = h.queueAttributes(ctx, q.DLQURL); errs[2*i+1] == nil {
				out.Queues[i].DLQ.Visible = count(a, types.QueueAttributeNameApproximateNumberOfMessages)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func (h *Handler) queueAttributes(ctx context.Context, url string) (map[string]string, error) {
	res, err := h.d.Queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: queueAttrs})
	if err != nil {
		return nil, err
	}
	return res.Attributes, nil
}

// count reads a numeric queue attribute; absent is 0.
func count(attrs map[string]string, name types.QueueAttributeName) int {
	n, _ := strconv.Atoi(attrs[string(name)])
	return n
}

func (h *Handler) staffUpload(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in uploadJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	return h.presign(ctx, staff.StoreID, in)
}

// staffAndID returns the caller and the {id} path parameter; an id that cannot be one of ours
// answers notFound, the same as another store's id.
func staffAndID(r *apigw.Request, notFound error) (tenant.Staff, string, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return tenant.Staff{}, "", err
	}
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return tenant.Staff{}, "", notFound
	}
	return staff, id, nil
}

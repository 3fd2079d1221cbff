package qa

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/ids"
	"yinling/shared/qa"
	"yinling/shared/reminder"
	"yinling/shared/tenant"
)

// Staff routes (/api/admin/doctors, /api/admin/sessions/…): doctors, sessions, capacity, the
// waitlist, questions and attendance. Every read and write is scoped by the store in the
// caller's verified token; another store's doctor, group or session answers exactly like a
// missing one.

// errUnknownGroup refuses a session for a group the store does not have.
var errUnknownGroup = &fail.Error{Kind: fail.Invalid, Code: "group_not_found", Field: "targetGroups"}

func (h *Handler) doctors(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	page, err := h.d.Store.ListDoctors(ctx, staff.StoreID, r.QueryStringParameters["cursor"], limit)
	if err != nil {
		return apigw.Response{}, err
	}
	out := doctorList{Doctors: make([]doctorJSON, len(page.Items)), Cursor: page.Cursor}
	for i, d := range page.Items {
		out.Doctors[i] = toDoctorJSON(d)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// createDoctor adds a doctor. With an Idempotency-Key, the doctor's id is derived from the
// store, the key and the body, so a retry finds the doctor its first attempt made.
func (h *Handler) createDoctor(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in doctorDraftJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	idemKey, idemHash, err := apigw.IdempotencyKey(r)
	if err != nil {
		return apigw.Response{}, err
	}
	doc, err := qa.NewDoctor(in.draft(), h.now())
	if err != nil {
		return apigw.Response{}, err
	}
	doc.ID, doc.StoreID = ids.New(), staff.StoreID
	if idemKey != "" {
		doc.ID = ids.Derived(staff.StoreID, "doctor", idemKey, idemHash)
	}
	err = h.d.Store.CreateDoctor(ctx, doc)
	if errors.Is(err, dynamostore.ErrExists) && idemKey != "" {
		doc, err = h.d.Store.GetDoctor(ctx, staff.StoreID, doc.ID)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, toDoctorJSON(doc)), nil
}

// staffSessions lists the store's sessions that have not started, soonest first; with past=1,
// those that have, latest first.
func (h *Handler) staffSessions(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	limit, err := apigw.Limit(r, defaultLimit, maxLimit)
	if err != nil {
		return apigw.Response{}, err
	}
	var past bool
	switch r.QueryStringParameters["past"] {
	case "", "0", "false":
	case "1", "true":
		past = true
	default:
		return apigw.Response{}, apigw.ErrInvalidType.OnField("past")
	}
	now, lang := h.now(), apigw.Lang(r)
	page, err := h.d.Store.ListQASessions(ctx, staff.StoreID, now, past, r.QueryStringParameters["cursor"], limit)
	if err != nil {
		return apigw.Response{}, err
	}
	out := sessionList{Sessions: make([]sessionJSON, len(page.Items)), Cursor: page.Cursor}
	for i, s := range page.Items {
		out.Sessions[i] = toStaffSessionJSON(s, lang, now)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// createSession schedules a session. The draft is checked in full before anything is read; then
// the doctor, the target groups and the store's time zone, and one conditional put. With an
// Idempotency-Key the session's id is derived from the store, the key and the body, so a retry
// answers the session its first attempt made.
func (h *Handler) createSession(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in sessionDraftJSON
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
	// The doctor and the zone change nothing that is checked.
	if _, err := qa.NewSession(d, qa.Doctor{}, tenant.DefaultTimeZone, now); err != nil {
		return apigw.Response{}, err
	}
	if !ids.Valid(d.DoctorID) {
		return apigw.Response{}, qa.ErrDoctorRequired
	}
	if err := validGroupIDs(d.TargetGroups); err != nil {
		return apigw.Response{}, err
	}

	var (
		wg               sync.WaitGroup
		doc              qa.Doctor
		store            tenant.Store
		dErr, gErr, sErr error
	)
	wg.Go(func() { doc, dErr = h.d.Store.GetDoctor(ctx, staff.StoreID, d.DoctorID) })
	wg.Go(func() { gErr = h.groupsExist(ctx, staff.StoreID, d.TargetGroups) })
	wg.Go(func() { store, sErr = h.d.Store.GetStore(ctx, staff.StoreID) })
	wg.Wait()
	if errors.Is(dErr, qa.ErrDoctorNotFound) {
		return apigw.Response{}, qa.ErrDoctorRequired
	}
	if errors.Is(sErr, fail.ErrNotFound) {
		sErr = nil // a store without a profile yet: its sessions are at our stores' time
	}
	if err := errors.Join(dErr, gErr, sErr); err != nil {
		return apigw.Response{}, err
	}
	tz := store.TimeZone
	if tz == "" {
		tz = tenant.DefaultTimeZone
	}
	sess, err := qa.NewSession(d, doc, tz, now)
	if err != nil {
		return apigw.Response{}, err
	}
	sess.ID, sess.StoreID, sess.CreatedBy = ids.New(), staff.StoreID, staff.ID
	if idemKey != "" {
		sess.ID = ids.Derived(staff.StoreID, "session", idemKey, idemHash)
	}
	err = h.d.Store.CreateQASession(ctx, sess)
	if errors.Is(err, dynamostore.ErrExists) && idemKey != "" {
		sess, err = h.d.Store.GetQASession(ctx, staff.StoreID, sess.ID)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusCreated, toStaffSessionJSON(sess, apigw.Lang(r), now)), nil
}

// validGroupIDs refuses a target group that cannot be an id, without a read.
func validGroupIDs(groups []string) error {
	for _, g := range groups {
		if !ids.Valid(g) {
			return errUnknownGroup
		}
	}
	return nil
}

// groupsExist refuses a target group the store does not have (one BatchGetItem).
func (h *Handler) groupsExist(ctx context.Context, store string, groups []string) error {
	if len(groups) == 0 {
		return nil
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

// staffSession is one session with every booking: members' names, questions (a recorded one
// with a URL that plays it), attendance.
func (h *Handler) staffSession(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var (
		wg         sync.WaitGroup
		sess       qa.Session
		bookings   []qa.Booking
		sErr, bErr error
	)
	wg.Go(func() { sess, sErr = h.d.Store.GetQASession(ctx, staff.StoreID, id) })
	wg.Go(func() { bookings, bErr = h.d.Store.SessionBookings(ctx, staff.StoreID, id) })
	wg.Wait()
	if err := errors.Join(sErr, bErr); err != nil {
		return apigw.Response{}, err
	}
	memberIDs := make([]string, len(bookings))
	for i, b := range bookings {
		memberIDs[i] = b.MemberID
	}
	names, err := h.d.Store.MemberNames(ctx, staff.StoreID, memberIDs)
	if err != nil {
		return apigw.Response{}, err
	}
	out := staffSessionResult{Session: toStaffSessionJSON(sess, apigw.Lang(r), h.now()),
		Bookings: make([]bookingJSON, len(bookings))}
	for i, b := range bookings {
		out.Bookings[i] = toStaffBookingJSON(b, names[b.MemberID], h.audio(ctx, b))
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// audio is a presigned GET of b's recorded question, or "". Signing is computed here, no call to
// S3; a failure leaves the question's words to read.
func (h *Handler) audio(ctx context.Context, b qa.Booking) string {
	if b.Question.ClipKey == "" {
		return ""
	}
	url, err := h.d.Clips.URL(ctx, b.Question.ClipKey, audioTTL)
	if err != nil {
		h.d.Log.WarnContext(ctx, "presign question clip", "session", b.SessionID, "err", err)
		return ""
	}
	return url
}

// updateSession changes a session. What can be checked without it is checked first; a session
// changed meanwhile is read again and the patch applied to the fresh copy. A patch that names
// the capacity then gives free seats to the waitlist (FillSeats): after a raise, the first
// waiting are promoted and told; and a retry of the same patch finishes a promotion that
// failed half-way.
func (h *Handler) updateSession(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in sessionPatchJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	p, err := in.patch()
	if err != nil {
		return apigw.Response{}, err
	}
	if p.TargetGroups != nil {
		if err := validGroupIDs(*p.TargetGroups); err != nil {
			return apigw.Response{}, err
		}
	}
	now := h.now()
	var next qa.Session
	checkedGroups := false
	for attempt := 1; ; attempt++ {
		cur, err := h.d.Store.GetQASession(ctx, staff.StoreID, id)
		if err != nil {
			return apigw.Response{}, err
		}
		if next, err = cur.Apply(p, now); err != nil {
			return apigw.Response{}, err
		}
		if p.TargetGroups != nil && !checkedGroups {
			if err := h.groupsExist(ctx, staff.StoreID, next.TargetGroups); err != nil {
				return apigw.Response{}, err
			}
			checkedGroups = true
		}
		err = h.d.Store.UpdateQASession(ctx, next, cur.UpdatedAt)
		if errors.Is(err, dynamostore.ErrSessionChanged) && attempt < updateAttempts {
			continue
		}
		if err != nil {
			return apigw.Response{}, err
		}
		break
	}
	if p.Capacity != nil {
		promoted, err := h.d.Store.FillSeats(ctx, staff.StoreID, id, h.notices(staff.ID, reminder.ViaStaff, now), now)
		if err != nil {
			return apigw.Response{}, err
		}
		next.Confirmed += len(promoted)
		next.Waiting -= len(promoted)
		if len(promoted) > 0 {
			h.d.Log.InfoContext(ctx, "waitlist promoted", "store", staff.StoreID, "session", id, "promoted", len(promoted))
		}
	}
	return apigw.JSON(http.StatusOK, toStaffSessionJSON(next, apigw.Lang(r), now)), nil
}

// cancelSession cancels a session for everyone: each live booking is cancelled with its
// reminders, and each member told. Cancelling again finishes a sweep that failed half-way and
// tells nobody twice.
func (h *Handler) cancelSession(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.now()
	sess, told, err := h.d.Store.CancelQASession(ctx, staff.StoreID, id, staff.ID,
		h.notices(staff.ID, reminder.ViaStaff, now), now)
	if err != nil {
		return apigw.Response{}, err
	}
	h.d.Log.InfoContext(ctx, "session cancelled", "store", staff.StoreID, "session", id, "notified", told)
	return apigw.JSON(http.StatusOK, cancelSessionResult{Session: toStaffSessionJSON(sess, apigw.Lang(r), now),
		Notified: told}), nil
}

// changeBooking records attendance (once the session has started), or ranks a question or folds
// it into another member's, for the digest.
func (h *Handler) changeBooking(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, id, err := staffAndID(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var in bookingChangeJSON
	if err := apigw.Decode(r, &in); err != nil {
		return apigw.Response{}, err
	}
	c, err := in.change()
	if err != nil {
		return apigw.Response{}, err
	}
	memberID := r.PathParameters["memberId"]
	if !ids.Valid(memberID) {
		return apigw.Response{}, qa.ErrBookingNotFound
	}
	dup := ""
	if c.DuplicateOf != nil {
		dup = *c.DuplicateOf
	}
	if dup != "" && (!ids.Valid(dup) || dup == memberID) {
		return apigw.Response{}, qa.ErrInvalidDuplicate
	}
	if dup != "" {
		// The question folded into must be another booking's of the same session.
		if _, err := h.d.Store.GetBooking(ctx, staff.StoreID, id, dup); errors.Is(err, qa.ErrBookingNotFound) {
			return apigw.Response{}, qa.ErrInvalidDuplicate
		} else if err != nil {
			return apigw.Response{}, err
		}
	}
	// The table refuses attendance before the session starts (qa.ErrAttendanceEarly).
	b, name, err := h.d.Store.ChangeBooking(ctx, staff.StoreID, id, memberID, c, h.now())
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, toStaffBookingJSON(b, name, h.audio(ctx, b))), nil
}

// staffAndID returns the caller and the session {id}; an id that cannot be one of ours answers
// not found, the same as another store's.
func staffAndID(r *apigw.Request) (tenant.Staff, string, error) {
	staff, err := apigw.Staff(r)
	if err != nil {
		return tenant.Staff{}, "", err
	}
	id := r.PathParameters["id"]
	if !ids.Valid(id) {
		return tenant.Staff{}, "", qa.ErrSessionNotFound
	}
	return staff, id, nil
}

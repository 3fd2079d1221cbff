package reminders

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/member"
	"yinling/shared/qa"
	"yinling/shared/reminder"
)

// The reminder page (/r/{token}): the link in every SMS of a reminder. No login — a senior
// taps the link and hears the reminder — so the token is the credential: 132 bits derived from
// the reminder, looked up by its hash, with failed lookups limited per address like family
// tokens. It plays the voice, shows the text in large type, and "收到 / Done" acknowledges the
// latest occurrence sent.

// audioTTL is how long the page's audio URL plays: a senior may leave the page open a while
// before tapping play.
const audioTTL = time.Hour

func (h *Handler) page(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	link, err := h.pageLink(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	// The link names the reminder, its member and store: one read of all three, not the reminder
	// first.
	p, err := h.d.Store.ReminderPageOf(ctx, link)
	if err != nil {
		return apigw.Response{}, err
	}
	rem := p.Reminder
	out := pageJSON{ID: rem.ID, Kind: string(rem.Kind), Text: rem.Text, Status: string(rem.Status),
		SpeakText: rem.Text, TimeZone: rem.Location().String(), NextAt: optTime(rem.NextAt), At: optTime(rem.NextAt),
		MemberName: p.Member.Name, StoreName: p.Store.Name} // a group's reminder has nobody's name
	if !rem.LastAt.IsZero() {
		out.Occurrence, out.At = reminder.OccurrenceID(rem.LastAt), optTime(rem.LastAt)
	}
	if rem.SessionID != "" && rem.MemberID != "" {
		// A booking's reminder links to the booking's page, which shows and cancels it.
		out.BookingURL = apigw.BaseURL(h.d.BaseURL, r) + "/b/" + qa.BookingToken(h.d.Key, rem.StoreID, rem.SessionID, rem.MemberID)
	}

	// The acknowledgement (its key is the occurrence, known once the reminder is read) and the
	// audio are independent: fetched together, the page opens in the time of the slower, on a
	// phone that may be on a weak signal.
	var (
		wg     sync.WaitGroup
		ack    *dynamostore.Ack
		ackErr error
	)
	if out.Occurrence != "" {
		wg.Go(func() { ack, ackErr = h.d.Store.GetAck(ctx, rem.StoreID, rem.ID, out.Occurrence) })
	}
	wg.Go(func() { out.AudioURL = h.audio(ctx, r, rem) })
	wg.Wait()
	if ackErr != nil {
		return apigw.Response{}, ackErr
	}
	out.Acked = ack != nil
	return apigw.JSON(http.StatusOK, out), nil
}

// audio is a presigned URL of what the page plays: the recorded clip, or the text spoken. ""
// when there is nothing to play, or the speech engine failed: the page then speaks the text with
// the browser's own speech synthesis, which is worse but never silent.
func (h *Handler) audio(ctx context.Context, r *apigw.Request, rem reminder.Reminder) string {
	key := rem.ClipKey
	if key == "" {
		if h.d.Speaker == nil || rem.Text == "" {
			return ""
		}
		a, err := h.d.Speaker.Speak(ctx, rem.Text, speechLang(rem.Text, r))
		if err != nil {
			h.d.Log.WarnContext(ctx, "speak reminder text", "reminder", rem.ID, "err", err)
			return ""
		}
		key = a.Key
	}
	url, err := h.d.Clips.URL(ctx, key, audioTTL)
	if err != nil {
		h.d.Log.WarnContext(ctx, "presign reminder audio", "reminder", rem.ID, "err", err)
		return ""
	}
	return url
}

// speechLang is the language to speak text in: Mandarin for any text with Chinese characters in
// it (nearly all), else the reader's language.
func speechLang(text string, r *apigw.Request) string {
	if strings.ContainsFunc(text, func(c rune) bool { return unicode.Is(unicode.Han, c) }) {
		return "zh-CN"
	}
	return string(apigw.Lang(r))
}

// ack is "收到 / Done": it acknowledges the occurrence named, or else the latest one sent, and
// stops its escalation. Acknowledging again answers with the first acknowledgement. An
// occurrence not sent yet cannot be acknowledged: a tap on yesterday's SMS must not silence
// tomorrow's medication.
func (h *Handler) ack(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var in ackJSON
	if strings.TrimSpace(r.Body) != "" { // the page's button sends nothing
		if err := apigw.Decode(r, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	rem, err := h.pageReminder(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	occ, err := ackable(rem, in.Occurrence)
	if err != nil {
		return apigw.Response{}, err
	}
	a, err := h.d.Store.Acknowledge(ctx, rem.StoreID, rem.ID, dynamostore.Ack{
		Occurrence: occ, By: rem.MemberID, Via: reminder.ViaMember, At: h.now(),
	})
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, ackResult{Acked: true, Occurrence: a.Occurrence, At: a.At.UTC()}), nil
}

// errNothingToAck names the field when the client named an occurrence.
var errNothingToAck = reminder.ErrNothingToAck.OnField("occurrence")

// ackable returns the occurrence an acknowledgement of rem applies to: named (one that was sent:
// from the reminder's creation to its latest occurrence sent), or else the latest sent.
func ackable(rem reminder.Reminder, named string) (string, error) {
	if rem.LastAt.IsZero() || rem.MemberID == "" {
		// Nothing sent yet; or a group's reminder, posted to the group chat, which nobody in
		// particular confirms and nothing chases.
		return "", reminder.ErrNothingToAck
	}
	if named == "" {
		return reminder.OccurrenceID(rem.LastAt), nil
	}
	t, err := reminder.ParseOccurrenceID(named)
	if err != nil || t.After(rem.LastAt) || t.Before(rem.CreatedAt.Truncate(time.Minute)) {
		return "", errNothingToAck
	}
	return reminder.OccurrenceID(t), nil
}

// pageLink is where a page token leads. A token that cannot be one counts against the caller's
// address without a read, like a miss.
func (h *Handler) pageLink(ctx context.Context, r *apigw.Request) (dynamostore.ReminderLink, error) {
	token := r.PathParameters["token"]
	now := h.d.Now().UTC()
	client := r.RequestContext.HTTP.SourceIP
	if !reminder.ValidLinkToken(token) {
		if err := h.d.Store.CountFailedGuess(ctx, dynamostore.GuessReminder, client, now); err != nil {
			return dynamostore.ReminderLink{}, err
		}
		return dynamostore.ReminderLink{}, reminder.ErrNotFound
	}
	return h.d.Store.ReminderLinkFrom(ctx, member.HashToken(token), client, now)
}

// pageReminder is the reminder a page token leads to.
func (h *Handler) pageReminder(ctx context.Context, r *apigw.Request) (reminder.Reminder, error) {
	link, err := h.pageLink(ctx, r)
	if err != nil {
		return reminder.Reminder{}, err
	}
	rem, err := h.d.Store.GetReminder(ctx, link.StoreID, link.ReminderID)
	if err != nil {
		return reminder.Reminder{}, err
	}
	if rem.MemberID != link.MemberID {
		return reminder.Reminder{}, reminder.ErrNotFound
	}
	return rem, nil
}

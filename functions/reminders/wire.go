package reminders

import (
	"time"

	"yinling/shared/dynamostore"
	"yinling/shared/reminder"
	"yinling/shared/voice"
)

// Wire (JSON) forms of the reminders API (shared/apispec/openapi.yaml). The domain types carry
// no json tags: what a client sees can change without touching what is stored, and back.

// ruleJSON is a recurrence rule as clients send and see it. Weekdays are ISO numbers, 1 Monday
// to 7 Sunday, as people count them (Go's time.Weekday starts the week on Sunday, 0).
type ruleJSON struct {
	Freq     string `json:"freq"`
	Start    string `json:"start"`
	At       string `json:"at"`
	Weekdays []int  `json:"weekdays,omitempty"`
	Interval int    `json:"interval,omitempty"`
	Until    string `json:"until,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
}

func (in ruleJSON) rule() (reminder.Rule, error) {
	r := reminder.Rule{Freq: reminder.Freq(in.Freq), Start: in.Start, At: in.At, Interval: in.Interval,
		Until: in.Until, TimeZone: in.TimeZone}
	for _, d := range in.Weekdays {
		if d < 1 || d > 7 {
			return reminder.Rule{}, reminder.ErrInvalidWeekdays
		}
		r.Weekdays = append(r.Weekdays, time.Weekday(d%7))
	}
	return r, nil
}

func toRuleJSON(r reminder.Rule, zone string) ruleJSON {
	out := ruleJSON{Freq: string(r.Freq), Start: r.Start, At: r.At, Interval: r.Interval, Until: r.Until, TimeZone: zone}
	for _, d := range r.Weekdays {
		iso := int(d)
		if d == time.Sunday {
			iso = 7
		}
		out.Weekdays = append(out.Weekdays, iso)
	}
	return out
}

// draftJSON is a new reminder.
type draftJSON struct {
	Kind    string   `json:"kind"`
	Text    string   `json:"text"`
	ClipKey string   `json:"clipKey"`
	Rule    ruleJSON `json:"rule"`
}

func (in draftJSON) draft() (reminder.Draft, error) {
	k, err := reminder.ParseKind(in.Kind)
	if err != nil {
		return reminder.Draft{}, err
	}
	rule, err := in.Rule.rule()
	if err != nil {
		return reminder.Draft{}, err
	}
	return reminder.Draft{Kind: k, Text: in.Text, ClipKey: in.ClipKey, Rule: rule}, nil
}

// patchJSON changes a reminder; absent fields stay as they are. A rule is replaced whole.
type patchJSON struct {
	Kind    *string   `json:"kind"`
	Text    *string   `json:"text"`
	ClipKey *string   `json:"clipKey"`
	Rule    *ruleJSON `json:"rule"`
	Status  *string   `json:"status"`
}

func (in patchJSON) patch() (reminder.Patch, error) {
	p := reminder.Patch{Text: in.Text, ClipKey: in.ClipKey}
	if in.Kind == nil && in.Text == nil && in.ClipKey == nil && in.Rule == nil && in.Status == nil {
		return p, errEmptyPatch
	}
	if in.Kind != nil {
		k, err := reminder.ParseKind(*in.Kind)
		if err != nil {
			return p, err
		}
		p.Kind = &k
	}
	if in.Rule != nil {
		rule, err := in.Rule.rule()
		if err != nil {
			return p, err
		}
		p.Rule = &rule
	}
	if in.Status != nil {
		s := reminder.Status(*in.Status)
		if s != reminder.StatusActive && s != reminder.StatusPaused {
			return p, reminder.ErrInvalidStatus
		}
		p.Status = &s
	}
	return p, nil
}

// reminderJSON is a reminder as its senior, a family helper and staff see it. Link, the page
// behind every SMS of the reminder, is left out of family answers: whoever opens it may answer
// "收到" for the senior, which would stop the very alert a relative is there to receive. So family
// answers carry AudioURL instead, a presigned GET of the recorded clip, for the page to play it.
type reminderJSON struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Text        string     `json:"text"`
	HasClip     bool       `json:"hasClip"`
	Rule        ruleJSON   `json:"rule"`
	Status      string     `json:"status"`
	NextAt      *time.Time `json:"nextAt,omitempty"`
	LastAt      *time.Time `json:"lastAt,omitempty"`
	Link        string     `json:"link,omitempty"`
	AudioURL    string     `json:"audioUrl,omitempty"`
	CreatedVia  string     `json:"createdVia"`
	UpdatedVia  string     `json:"updatedVia,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	GroupID     string     `json:"groupId,omitempty"`
	BroadcastID string     `json:"broadcastId,omitempty"`
}

// toReminderJSON renders r; link is "" where the page link must not be shown.
func toReminderJSON(r reminder.Reminder, link string) reminderJSON {
	return reminderJSON{
		ID: r.ID, Kind: string(r.Kind), Text: r.Text, HasClip: r.ClipKey != "",
		Rule: toRuleJSON(r.Rule, r.Location().String()), Status: string(r.Status),
		NextAt: optTime(r.NextAt), LastAt: optTime(r.LastAt), Link: link,
		CreatedVia: string(r.CreatedVia), UpdatedVia: string(r.UpdatedVia),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		GroupID: r.GroupID, BroadcastID: r.BroadcastID,
	}
}

// reminderList is one page of a member's reminders, oldest first.
type reminderList struct {
	Reminders []reminderJSON `json:"reminders"`
	Cursor    string         `json:"cursor,omitempty"`
}

// pageJSON is what the reminder page (/r/{token}) shows and plays: the occurrence "收到 / Done"
// answers is the latest one sent, or none yet.
type pageJSON struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Text       string     `json:"text"`
	Status     string     `json:"status"`
	MemberName string     `json:"memberName,omitempty"`
	StoreName  string     `json:"storeName,omitempty"`
	Occurrence string     `json:"occurrence"`
	At         *time.Time `json:"at,omitempty"`
	Acked      bool       `json:"acked"`
	AudioURL   string     `json:"audioUrl,omitempty"`
	SpeakText  string     `json:"speakText"`
	TimeZone   string     `json:"timeZone"`
	NextAt     *time.Time `json:"nextAt,omitempty"`
	// BookingURL is, for a reminder a Q&A booking made, the booking's page (/b/{token}).
	BookingURL string `json:"bookingUrl,omitempty"`
}

type ackJSON struct {
	Occurrence string `json:"occurrence"`
}

type ackResult struct {
	Acked      bool      `json:"acked"`
	Occurrence string    `json:"occurrence"`
	At         time.Time `json:"at"`
}

type uploadJSON struct {
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// uploadResult tells the browser how to PUT the recorded clip straight to S3: to URL, with
// Method and exactly these Headers, before ExpiresAt; then it sends ClipKey with the reminder.
type uploadResult struct {
	UploadURL string            `json:"uploadUrl"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ClipKey   string            `json:"clipKey"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

func toUploadResult(u voice.Upload) uploadResult {
	h := u.Headers
	if h == nil {
		h = map[string]string{}
	}
	return uploadResult{UploadURL: u.URL, Method: u.Method, Headers: h, ClipKey: u.ClipKey, ExpiresAt: u.ExpiresAt.UTC()}
}

// broadcastJSON is one reminder for every active member of a group; WeCom has the group's WeCom
// robot post it to the group chat too.
type broadcastJSON struct {
	Kind    string   `json:"kind"`
	Text    string   `json:"text"`
	ClipKey string   `json:"clipKey"`
	Rule    ruleJSON `json:"rule"`
	WeCom   bool     `json:"wecom"`
}

func (in broadcastJSON) draft() (reminder.Draft, error) {
	return draftJSON{Kind: in.Kind, Text: in.Text, ClipKey: in.ClipKey, Rule: in.Rule}.draft()
}

// broadcastResult counts the members' reminders; WeCom says a post to the group's robot was
// scheduled too.
type broadcastResult struct {
	BroadcastID string `json:"broadcastId"`
	Reminders   int    `json:"reminders"`
	Skipped     int    `json:"skipped"`
	WeCom       bool   `json:"wecom"`
}

type deliveryJSON struct {
	ReminderID string     `json:"reminderId"`
	MemberID   string     `json:"memberId,omitempty"` // none for a post to the group's robot
	Occurrence string     `json:"occurrence"`
	Attempt    string     `json:"attempt"`
	State      string     `json:"state"`
	Channel    string     `json:"channel,omitempty"`
	Provider   string     `json:"provider,omitempty"`
	ProviderID string     `json:"providerId,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	At         time.Time  `json:"at"`
	DueAt      *time.Time `json:"dueAt,omitempty"`
}

func toDeliveryJSON(d dynamostore.Delivery) deliveryJSON {
	return deliveryJSON{ReminderID: d.ReminderID, MemberID: d.MemberID, Occurrence: d.Occurrence, Attempt: d.Attempt,
		State: d.State, Channel: d.Channel, Provider: d.Provider, ProviderID: d.ProviderID, Reason: d.Reason,
		At: d.At.UTC(), DueAt: optTime(d.DueAt)}
}

type deliveryList struct {
	Deliveries []deliveryJSON `json:"deliveries"`
	Cursor     string         `json:"cursor,omitempty"`
}

type ackInfoJSON struct {
	By  string    `json:"by"`
	Via string    `json:"via"`
	At  time.Time `json:"at"`
}

type occurrenceJSON struct {
	Occurrence string         `json:"occurrence"`
	Ack        *ackInfoJSON   `json:"ack,omitempty"`
	Deliveries []deliveryJSON `json:"deliveries"`
}

type statusJSON struct {
	Occurrences []occurrenceJSON `json:"occurrences"`
	Cursor      string           `json:"cursor,omitempty"`
}

func toStatusJSON(s dynamostore.ReminderStatus) statusJSON {
	out := statusJSON{Occurrences: make([]occurrenceJSON, len(s.Occurrences)), Cursor: s.Cursor}
	for i, o := range s.Occurrences {
		oj := occurrenceJSON{Occurrence: o.Occurrence, Deliveries: make([]deliveryJSON, len(o.Deliveries))}
		if o.Ack != nil {
			oj.Ack = &ackInfoJSON{By: o.Ack.By, Via: string(o.Ack.Via), At: o.Ack.At.UTC()}
		}
		for j, d := range o.Deliveries {
			oj.Deliveries[j] = toDeliveryJSON(d)
		}
		out.Occurrences[i] = oj
	}
	return out
}

type alertJSON struct {
	ReminderID string    `json:"reminderId"`
	MemberID   string    `json:"memberId"`
	MemberName string    `json:"memberName"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	Occurrence string    `json:"occurrence"`
	At         time.Time `json:"at"`
}

type alertList struct {
	Alerts []alertJSON `json:"alerts"`
	Cursor string      `json:"cursor,omitempty"`
}

type queueJSON struct {
	Name     string  `json:"name"`
	Visible  int     `json:"visible"`
	InFlight int     `json:"inFlight"`
	Delayed  int     `json:"delayed"`
	DLQ      dlqJSON `json:"dlq"`
}

type dlqJSON struct {
	Visible int `json:"visible"`
}

type queueList struct {
	Queues []queueJSON `json:"queues"`
}

// optTime is t in UTC, or nil for the zero time (an absent field).
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

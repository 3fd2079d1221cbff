// Package queues names the messages of Yinling's queues and their bodies: what the dispatcher,
// the sender and the escalator say to each other about reminder occurrences. The bodies travel
// in sqsmsg envelopes; their JSON names are a persistent contract (messages outlive deploys on a
// queue and in its DLQ), so fields are only ever added.
//
// No body carries a phone number, a name or a reminder's text: a message names the delivery,
// and its consumer reads the rest from the table when it runs, so a senior who withdrew a
// consent or was erased a moment ago is never called.
package queues

import (
	"strconv"

	"yinling/shared/sqsmsg"
)

// Message types.
const (
	// TypeDeliver asks the sender to deliver one attempt of one occurrence (deliveries queue).
	TypeDeliver = "reminder.deliver"
	// TypeCheck asks the escalator whether an occurrence was acknowledged (ack-checks queue,
	// delayed by the ladder's spacing).
	TypeCheck = "reminder.check"
)

// Deliver is one delivery of one occurrence: Attempt "A0" is the first call to the senior,
// "A1"… the retries, "F<link>" the alert to one family link, "S" the alert to staff, "W" the
// post of a group reminder to the group's WeCom robot (Member is then empty).
type Deliver struct {
	Store      string `json:"store"`
	Reminder   string `json:"reminder"`
	Member     string `json:"member"`
	Occurrence string `json:"occ"`
	Attempt    string `json:"attempt"`
	Broadcast  string `json:"broadcast,omitempty"`
	// Late is set by a dispatcher catching up after an outage on a minute more than
	// reminder.MaxLateness ago: the sender records the delivery as expired instead of calling.
	Late bool `json:"late,omitempty"`
}

// Check asks, after a delivery, whether the occurrence was acknowledged; Stage and Attempt say
// where on the ladder the occurrence is (reminder.Ladder.After).
type Check struct {
	Store      string `json:"store"`
	Reminder   string `json:"reminder"`
	Member     string `json:"member"`
	Occurrence string `json:"occ"`
	Stage      string `json:"stage"`
	Attempt    int    `json:"attempt"`
	Broadcast  string `json:"broadcast,omitempty"`
}

// Attempt names the n-th call to the senior (0 is the first).
func Attempt(n int) string { return "A" + strconv.Itoa(n) }

// FamilyAttempt names the alert to one family link.
func FamilyAttempt(link string) string { return "F" + link }

// StaffAttempt names the alert to staff.
const StaffAttempt = "S"

// RobotAttempt names the post of a group reminder (one without a member) to its group's WeCom
// robot.
const RobotAttempt = "W"

// AttemptNumber returns n of an "A<n>" attempt, and false for any other attempt.
func AttemptNumber(a string) (int, bool) {
	if len(a) < 2 || len(a) > 3 || a[0] != 'A' || a[1] < '0' || a[1] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(a[1:])
	return n, err == nil
}

// Campaign messages (shared/promo): the fan-out of a campaign's audience and the delivery of its
// chunks. Like the reminders' messages they carry ids, never a phone number or a text.
const (
	// TypeFanout asks the fanout function to handle one page of a campaign run's audience
	// (fanout queue).
	TypeFanout = "campaign.fanout"
	// TypePush asks the sender to deliver one chunk of a campaign (deliveries queue).
	TypePush = "campaign.push"
)

// Fanout is one page of one run of a campaign's audience: Group is the index of the audience
// group being read (groups are read one after another; GroupID its id), Cursor the position in
// its member list ("" for its first page), Page the number of the page in the run, which names
// its chunks.
type Fanout struct {
	Store    string `json:"store"`
	Campaign string `json:"campaign"`
	Run      int    `json:"run"`
	Page     int    `json:"page"`
	Group    int    `json:"group"`
	GroupID  string `json:"groupId"`
	Cursor   string `json:"cursor,omitempty"`
}

// Push is one chunk of a campaign to deliver, by its code (promo.ChunkCode); the chunk's item
// lists its recipients.
type Push struct {
	Store    string `json:"store"`
	Campaign string `json:"campaign"`
	Chunk    string `json:"chunk"`
}

// StartMessage starts run run of a campaign: the first page of its first audience group.
func StartMessage(store, campaign string, run int, firstGroup string) sqsmsg.Outgoing {
	return sqsmsg.Outgoing{ID: campaign, Type: TypeFanout,
		Body: Fanout{Store: store, Campaign: campaign, Run: run, GroupID: firstGroup}}
}

// PushMessage asks the sender to deliver one chunk of a campaign.
func PushMessage(store, campaign, chunk string) sqsmsg.Outgoing {
	return sqsmsg.Outgoing{ID: chunk, Type: TypePush, Body: Push{Store: store, Campaign: campaign, Chunk: chunk}}
}

// Package group owns a store's community groups (社群) and the staff invites that let people
// into them: the rules a group must keep, with no knowledge of where groups are stored.
package group

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"yinling/shared/fail"
)

// EntryRule says who may join a group.
type EntryRule string

// Entry rules (设置门槛).
const (
	RuleOpen     EntryRule = "open"     // anyone with the group's code joins after verifying
	RuleInvite   EntryRule = "invite"   // a staff invite or a member's referral is required
	RuleApproval EntryRule = "approval" // staff approve each member
)

// Valid reports whether r is a known rule.
func (r EntryRule) Valid() bool { return r == RuleOpen || r == RuleInvite || r == RuleApproval }

// Group is a community group of one store.
type Group struct {
	ID        string
	StoreID   string
	Name      string
	Covenant  string // 社群公约, accepted by every member on joining
	EntryRule EntryRule
	PushCap   int    // promotional messages per member per rolling 7 days
	JoinCode  string // printed as the group's QR code
	CreatedBy string // staff id
	// RobotKey is the key of the group's WeCom robot (企业微信群机器人) that group reminders are
	// posted to; "" when the group has none. It is a secret: anyone holding it can post into
	// the group, so it is never shown whole.
	RobotKey  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits of a group's fields.
const (
	MaxNameLen     = 40
	MaxCovenantLen = 2000
	MaxPushCap     = 21
)

// Errors a caller can cause.
var (
	ErrNotFound         = &fail.Error{Kind: fail.NotFound, Code: "group_not_found"}
	ErrNameRequired     = &fail.Error{Kind: fail.Invalid, Code: "required", Field: "name"}
	ErrNameTooLong      = &fail.Error{Kind: fail.Invalid, Code: "too_long", Field: "name"}
	ErrCovenantTooLong  = &fail.Error{Kind: fail.Invalid, Code: "too_long", Field: "covenant"}
	ErrInvalidEntryRule = &fail.Error{Kind: fail.Invalid, Code: "invalid_entry_rule", Field: "entryRule"}
	ErrInvalidPushCap   = &fail.Error{Kind: fail.Invalid, Code: "invalid_push_cap", Field: "pushCap"}
	ErrEmptyUpdate      = &fail.Error{Kind: fail.Invalid, Code: "empty_update"}
	ErrInvalidText      = &fail.Error{Kind: fail.Invalid, Code: "invalid_text"}
	ErrInvalidRobotKey  = &fail.Error{Kind: fail.Invalid, Code: "invalid_robot_key", Field: "robotKey"}
)

// Draft is what staff submit to create a group.
type Draft struct {
	Name      string
	Covenant  string
	EntryRule EntryRule // default RuleOpen
	PushCap   *int      // default: the store's
	RobotKey  string    // a robot key or webhook URL (ParseRobotKey); "" for none
}

// Patch changes some fields of a group; nil fields stay as they are.
type Patch struct {
	Name      *string
	Covenant  *string
	EntryRule *EntryRule
	PushCap   *int
	RobotKey  *string // a robot key or webhook URL (ParseRobotKey); "" removes the robot
}

// New validates d and returns the group it describes, without an id or join code.
func New(d Draft, storePushCap int) (Group, error) {
	g := Group{EntryRule: RuleOpen, PushCap: storePushCap}
	if d.EntryRule != "" {
		g.EntryRule = d.EntryRule
	}
	if d.PushCap != nil {
		g.PushCap = *d.PushCap
	}
	var err error
	if g.Name, err = validName(d.Name); err != nil {
		return Group{}, err
	}
	if g.Covenant, err = validCovenant(d.Covenant); err != nil {
		return Group{}, err
	}
	if err := validRule(g.EntryRule); err != nil {
		return Group{}, err
	}
	if err := validPushCap(g.PushCap); err != nil {
		return Group{}, err
	}
	if d.RobotKey != "" {
		if g.RobotKey, err = ParseRobotKey(d.RobotKey); err != nil {
			return Group{}, err
		}
	}
	return g, nil
}

// Validate checks the fields p sets and returns p with surrounding space trimmed. Fields are
// independent, so a patch can be applied without reading the group first.
func (p Patch) Validate() (Patch, error) {
	if p == (Patch{}) {
		return p, ErrEmptyUpdate
	}
	if p.Name != nil {
		n, err := validName(*p.Name)
		if err != nil {
			return p, err
		}
		p.Name = &n
	}
	if p.Covenant != nil {
		c, err := validCovenant(*p.Covenant)
		if err != nil {
			return p, err
		}
		p.Covenant = &c
	}
	if p.EntryRule != nil {
		if err := validRule(*p.EntryRule); err != nil {
			return p, err
		}
	}
	if p.PushCap != nil {
		if err := validPushCap(*p.PushCap); err != nil {
			return p, err
		}
	}
	if p.RobotKey != nil && *p.RobotKey != "" {
		k, err := ParseRobotKey(*p.RobotKey)
		if err != nil {
			return p, err
		}
		p.RobotKey = &k
	}
	return p, nil
}

// The WeCom robot webhook (企业微信群机器人): staff copy its address from the robot's settings,
// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<KEY>.
const (
	robotHost = "qyapi.weixin.qq.com"
	robotPath = "/cgi-bin/webhook/send"
)

// Length of a robot key; WeCom's are UUIDs (36 characters).
const (
	minRobotKeyLen = 8
	maxRobotKeyLen = 64
)

// ParseRobotKey returns the robot key in s, which is either the key itself or the robot's whole
// webhook URL; anything else is ErrInvalidRobotKey. Only WeCom's own https address is taken, so
// a mistyped or look-alike address cannot send group reminders elsewhere.
func ParseRobotKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	if validRobotKey(s) {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.User != nil || !strings.EqualFold(u.Host, robotHost) ||
		u.Path != robotPath || u.Fragment != "" {
		return "", ErrInvalidRobotKey
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || len(q["key"]) != 1 || !validRobotKey(q["key"][0]) {
		return "", ErrInvalidRobotKey
	}
	return q["key"][0], nil
}

// validRobotKey reports whether k has the form of a robot key: letters, digits and hyphens.
func validRobotKey(k string) bool {
	if len(k) < minRobotKeyLen || len(k) > maxRobotKeyLen {
		return false
	}
	for _, r := range k {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func validName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", ErrNameRequired
	case utf8.RuneCountInString(s) > MaxNameLen:
		return "", ErrNameTooLong
	case !CleanText(s, false):
		return "", ErrInvalidText.OnField("name")
	}
	return s, nil
}

func validCovenant(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case utf8.RuneCountInString(s) > MaxCovenantLen:
		return "", ErrCovenantTooLong
	case !CleanText(s, true):
		return "", ErrInvalidText.OnField("covenant")
	}
	return s, nil
}

func validRule(r EntryRule) error {
	if !r.Valid() {
		return ErrInvalidEntryRule
	}
	return nil
}

func validPushCap(n int) error {
	if n < 0 || n > MaxPushCap {
		return ErrInvalidPushCap
	}
	return nil
}

// CleanText reports whether s is valid UTF-8 without control characters (newlines allowed when
// multiline): such characters break pages, CSV exports and SMS templates.
func CleanText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

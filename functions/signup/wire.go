package signup

import (
	"slices"
	"time"

	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/member"
)

// Wire (JSON) forms of the signup API (shared/apispec/openapi.yaml).

type signupJSON struct {
	Code         string   `json:"code"`
	Name         string   `json:"name"`
	Phone        string   `json:"phone"`
	BirthYear    int      `json:"birthYear"`
	Gender       string   `json:"gender"`
	Neighborhood string   `json:"neighborhood"`
	Interests    []string `json:"interests"`
	Consents     struct {
		Service   bool `json:"service"`
		Health    bool `json:"health"`
		Marketing bool `json:"marketing"`
	} `json:"consents"`
	AcceptCovenant bool `json:"acceptCovenant"`
}

func (in signupJSON) draft() member.SignupDraft {
	return member.SignupDraft{
		Name: in.Name, Phone: in.Phone, BirthYear: in.BirthYear, Gender: member.Gender(in.Gender),
		Neighborhood: in.Neighborhood, Interests: in.Interests, AcceptCovenant: in.AcceptCovenant,
		Consents: map[member.ConsentKind]bool{
			member.ConsentService:   in.Consents.Service,
			member.ConsentHealth:    in.Consents.Health,
			member.ConsentMarketing: in.Consents.Marketing,
		},
	}
}

type signupResult struct {
	MemberID string `json:"memberId"`
	Status   string `json:"status"`
	Phone    string `json:"phone,omitempty"` // masked: where the code went
}

type verifyJSON struct {
	MemberID string `json:"memberId"`
	OTP      string `json:"otp"`
}

type verifyResult struct {
	Token     string    `json:"token"`
	MemberID  string    `json:"memberId"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expiresAt"`
}

type meJSON struct {
	Member      profileJSON            `json:"member"`
	Groups      []myGroupJSON          `json:"groups"`
	Consents    map[string]consentJSON `json:"consents"`
	FamilyLinks []linkJSON             `json:"familyLinks"`
}

type familyLinkJSON struct {
	Label        string `json:"label"`
	Scope        string `json:"scope"`
	Alerts       bool   `json:"alerts"`
	AlertPhone   string `json:"alertPhone"`
	AlertChannel string `json:"alertChannel"`
	TTLDays      *int   `json:"ttlDays"`
}

// linkJSON is a family link as its senior sees it; URL is there only in the answer to the
// create (the token is never stored, so it cannot be shown again). AlertPhone is masked, like
// every number we send back, but in the export.
type linkJSON struct {
	ID           string     `json:"id"`
	URL          string     `json:"url,omitempty"`
	Label        string     `json:"label"`
	Scope        string     `json:"scope"`
	Alerts       bool       `json:"alerts"`
	AlertPhone   string     `json:"alertPhone,omitempty"`
	AlertChannel string     `json:"alertChannel,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    time.Time  `json:"expiresAt"`
	LastUsedAt   *time.Time `json:"lastUsedAt,omitempty"`
}

func toLinkJSON(l member.FamilyLink) linkJSON {
	out := linkJSON{ID: l.ID, Label: l.Label, Scope: string(l.Scope), Alerts: l.Alerts,
		AlertPhone: l.AlertPhone.Masked(), AlertChannel: string(l.AlertChannel),
		CreatedAt: l.CreatedAt.UTC(), ExpiresAt: l.ExpiresAt.UTC()}
	if !l.LastUsedAt.IsZero() {
		t := l.LastUsedAt.UTC()
		out.LastUsedAt = &t
	}
	return out
}

// familyViewJSON is what a family link shows (scope view): whose page it is. Reminders and
// bookings join it as those capabilities land.
type familyViewJSON struct {
	Name      string    `json:"name"`
	Label     string    `json:"label"`
	Scope     string    `json:"scope"`
	ExpiresAt time.Time `json:"expiresAt"`
}

type profileJSON struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Phone        string         `json:"phone"` // masked: the full number is never sent back
	Verified     bool           `json:"verified"`
	BirthYear    int            `json:"birthYear"`
	AgeBand      string         `json:"ageBand"`
	Gender       string         `json:"gender"`
	Neighborhood string         `json:"neighborhood"`
	Interests    []string       `json:"interests"`
	Channel      string         `json:"channel"`
	QuietHours   quietHoursJSON `json:"quietHours"`
	TimeZone     string         `json:"timeZone"`
	Tier         string         `json:"tier"`
}

type quietHoursJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type myGroupJSON struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Covenant string    `json:"covenant"`
	Status   string    `json:"status"`
	JoinedAt time.Time `json:"joinedAt"`
}

type consentJSON struct {
	Granted bool      `json:"granted"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`
}

func toMeJSON(page dynamostore.MemberPage, groups map[string]group.Group, now time.Time) meJSON {
	m, memberships := page.Member, page.Memberships
	out := meJSON{
		Member:      toProfileJSON(m, now),
		Groups:      []myGroupJSON{},
		Consents:    map[string]consentJSON{},
		FamilyLinks: []linkJSON{},
	}
	for _, l := range page.Links {
		if l.Usable(now) {
			out.FamilyLinks = append(out.FamilyLinks, toLinkJSON(l))
		}
	}
	for _, ms := range memberships {
		g, ok := groups[ms.GroupID]
		if !ok {
			continue // the group was removed since
		}
		out.Groups = append(out.Groups, myGroupJSON{ID: g.ID, Name: g.Name, Covenant: g.Covenant,
			Status: string(ms.Status), JoinedAt: ms.JoinedAt.UTC()})
	}
	slices.SortFunc(out.Groups, func(a, b myGroupJSON) int { return a.JoinedAt.Compare(b.JoinedAt) })
	for k, c := range m.Consents {
		out.Consents[string(k)] = consentJSON{Granted: c.Granted, Version: c.Version, At: c.At.UTC()}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type joinInfoJSON struct {
	Code      string        `json:"code"`
	Kind      string        `json:"kind"`
	StoreName string        `json:"storeName"`
	Group     joinGroupJSON `json:"group"`
	Interests []string      `json:"interests"`
}

type joinGroupJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Covenant  string `json:"covenant"`
	EntryRule string `json:"entryRule"`
}

func toJoinInfoJSON(c group.Code, jc dynamostore.JoinContext) joinInfoJSON {
	return joinInfoJSON{
		Code: c.Code, Kind: string(c.Kind), StoreName: jc.Store.Name,
		Group:     joinGroupJSON{ID: jc.Group.ID, Name: jc.Group.Name, Covenant: jc.Group.Covenant, EntryRule: string(jc.Group.EntryRule)},
		Interests: nonNil(jc.Store.Interests),
	}
}

func toProfileJSON(m member.Member, now time.Time) profileJSON {
	return profileJSON{
		ID: m.ID, Name: m.Name, Phone: m.Phone.Masked(), Verified: m.Verified(), BirthYear: m.BirthYear,
		AgeBand: string(m.AgeBand(now)), Gender: string(m.Gender), Neighborhood: m.Neighborhood,
		Interests: nonNil(m.Interests), Channel: string(m.Channel),
		QuietHours: quietHoursJSON{Start: m.QuietHours.Start, End: m.QuietHours.End},
		TimeZone:   m.TimeZone, Tier: string(m.Tier),
	}
}

type patchMeJSON struct {
	Name         *string         `json:"name"`
	BirthYear    *int            `json:"birthYear"`
	Gender       *string         `json:"gender"`
	Neighborhood *string         `json:"neighborhood"`
	Interests    *[]string       `json:"interests"`
	Channel      *string         `json:"channel"`
	QuietHours   *quietHoursJSON `json:"quietHours"`
	TimeZone     *string         `json:"timeZone"`
	Consents     *struct {
		Service   *bool `json:"service"`
		Health    *bool `json:"health"`
		Marketing *bool `json:"marketing"`
	} `json:"consents"`
}

func (in patchMeJSON) patch() member.ProfilePatch {
	p := member.ProfilePatch{Name: in.Name, BirthYear: in.BirthYear, Neighborhood: in.Neighborhood,
		Interests: in.Interests, TimeZone: in.TimeZone}
	if in.Gender != nil {
		g := member.Gender(*in.Gender)
		p.Gender = &g
	}
	if in.Channel != nil {
		c := member.Channel(*in.Channel)
		p.Channel = &c
	}
	if in.QuietHours != nil {
		p.QuietHours = &member.QuietHours{Start: in.QuietHours.Start, End: in.QuietHours.End}
	}
	if c := in.Consents; c != nil {
		p.Consents = map[member.ConsentKind]bool{}
		for k, v := range map[member.ConsentKind]*bool{member.ConsentService: c.Service, member.ConsentHealth: c.Health, member.ConsentMarketing: c.Marketing} {
			if v != nil {
				p.Consents[k] = *v
			}
		}
	}
	return p
}

// exportJSON is everything Yinling holds about a member, for them to take away (PIPL): the full
// phone numbers included — theirs, and those they gave for their links' alerts.
type exportJSON struct {
	ExportedAt     time.Time     `json:"exportedAt"`
	Member         profileJSON   `json:"member"`
	Phone          string        `json:"phone"`
	Memberships    []exportGroup `json:"memberships"`
	FamilyLinks    []linkJSON    `json:"familyLinks"`
	ConsentHistory []consentRow  `json:"consentHistory"`
	// Reminders and Bookings are what the senior keeps in the reminders and Q&A functions:
	// their words (a reminder's text, a question to a doctor) belong in their export too.
	Reminders []exportReminder `json:"reminders"`
	Bookings  []exportBooking  `json:"bookings"`
	// Pushes are the campaign messages the weekly budget's ledger holds: those sent within
	// seven days of the latest one, which is all the store keeps of them by member.
	Pushes []exportPush `json:"pushes"`
}

type exportPush struct {
	Campaign string    `json:"campaignId"`
	Kind     string    `json:"kind"`
	Day      int       `json:"day"` // of a daily campaign, from 0
	At       time.Time `json:"at"`
}

type exportReminder struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Text       string     `json:"text"`
	HasClip    bool       `json:"hasClip"`
	Status     string     `json:"status"`
	Freq       string     `json:"freq"`
	Start      string     `json:"start"`
	At         string     `json:"at"`
	TimeZone   string     `json:"timeZone"`
	NextAt     *time.Time `json:"nextAt,omitempty"`
	CreatedVia string     `json:"createdVia"`
	CreatedAt  time.Time  `json:"createdAt"`
}

type exportBooking struct {
	SessionID string     `json:"sessionId"`
	Title     string     `json:"title"`
	Doctor    string     `json:"doctor"`
	StartAt   time.Time  `json:"startAt"`
	Status    string     `json:"status"`
	Question  string     `json:"question,omitempty"`
	Via       string     `json:"via,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
}

type exportGroup struct {
	GroupID  string    `json:"groupId"`
	Status   string    `json:"status"`
	Path     string    `json:"path"`
	JoinedAt time.Time `json:"joinedAt"`
}

type consentRow struct {
	Kind    string    `json:"kind"`
	Granted bool      `json:"granted"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`
}

func toExportJSON(page dynamostore.MemberPage, history []member.Consent, act dynamostore.Activity, now time.Time) exportJSON {
	out := exportJSON{ExportedAt: now.UTC().Truncate(time.Second), Member: toProfileJSON(page.Member, now),
		Phone: page.Member.Phone.E164(), Memberships: []exportGroup{}, FamilyLinks: []linkJSON{}, ConsentHistory: []consentRow{},
		Reminders: []exportReminder{}, Bookings: []exportBooking{}, Pushes: []exportPush{}}
	for _, p := range page.Pushes {
		out.Pushes = append(out.Pushes, exportPush{Campaign: p.Campaign, Kind: string(p.Kind), Day: p.Run, At: p.At})
	}
	for _, r := range act.Reminders {
		er := exportReminder{ID: r.ID, Kind: string(r.Kind), Text: r.Text, HasClip: r.ClipKey != "", Status: string(r.Status),
			Freq: string(r.Rule.Freq), Start: r.Rule.Start, At: r.Rule.At, TimeZone: r.Location().String(),
			CreatedVia: string(r.CreatedVia), CreatedAt: r.CreatedAt.UTC()}
		if !r.NextAt.IsZero() {
			next := r.NextAt.UTC()
			er.NextAt = &next
		}
		out.Reminders = append(out.Reminders, er)
	}
	for _, b := range act.Bookings {
		eb := exportBooking{SessionID: b.SessionID, Title: b.Title, Doctor: b.Doctor, StartAt: b.StartAt.UTC(),
			Status: string(b.Status), Question: b.Booking.Question.Text, Via: string(b.Booking.Via)}
		if !b.Booking.CreatedAt.IsZero() {
			at := b.Booking.CreatedAt.UTC()
			eb.CreatedAt = &at
		}
		out.Bookings = append(out.Bookings, eb)
	}
	for _, ms := range page.Memberships {
		out.Memberships = append(out.Memberships, exportGroup{GroupID: ms.GroupID, Status: string(ms.Status),
			Path: string(ms.Path), JoinedAt: ms.JoinedAt.UTC()})
	}
	for _, l := range page.Links {
		link := toLinkJSON(l)
		link.AlertPhone = l.AlertPhone.E164()
		out.FamilyLinks = append(out.FamilyLinks, link)
	}
	for _, c := range history {
		out.ConsentHistory = append(out.ConsentHistory, consentRow{Kind: string(c.Kind), Granted: c.Granted, Version: c.Version, At: c.At.UTC()})
	}
	return out
}

type referralJSON struct {
	GroupID string `json:"groupId"`
}

type referralResult struct {
	Code    string `json:"code"`
	URL     string `json:"url"`
	GroupID string `json:"groupId"`
}

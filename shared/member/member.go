// Package member owns a store's members: who they are (name, verified phone, profile and
// portrait), how they joined a group (path, referrer, status), what they agreed to (versioned
// PIPL consents, the covenant) and the secrets that let them and their families back in
// (one-time codes, session tokens, family links) — the rules only, with no knowledge of where
// members are stored.
package member

import (
	"time"

	"yinling/shared/fail"
)

// Member is one person known to one store. A phone number that is not verified is never called
// or texted, except to send the one-time code that verifies it.
type Member struct {
	ID           string
	StoreID      string
	Name         string
	Phone        Phone
	VerifiedAt   time.Time // zero until verified by a one-time code or by staff in person
	VerifiedBy   string    // "otp", or the id of the staff member who verified in person
	BirthYear    int
	Gender       Gender
	Neighborhood string
	Interests    []string
	Channel      Channel
	QuietHours   QuietHours
	TimeZone     string // IANA name, see ParseTimeZone
	Tier         Tier
	Tags         []string
	Consents     Consents
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Verified reports whether m's phone may be called or texted.
func (m Member) Verified() bool { return !m.VerifiedAt.IsZero() }

// AgeBand is m's age band in the year of now.
func (m Member) AgeBand(now time.Time) AgeBand { return AgeBandOf(m.BirthYear, now) }

// Errors of members as a whole.
var (
	ErrNotFound        = &fail.Error{Kind: fail.NotFound, Code: "member_not_found"}
	ErrConsentRequired = &fail.Error{Kind: fail.Invalid, Code: "consent_required", Field: "consents.service"}
	// The covenant (社群公约) of the group is shown on the join page and must be accepted.
	ErrCovenantRequired = &fail.Error{Kind: fail.Invalid, Code: "covenant_required", Field: "acceptCovenant"}
)

// SignupDraft is what a senior submits on the join page (the group's code is resolved by the
// caller, which passes the group's entry rule to JoinStatus). Zero optional fields take defaults.
type SignupDraft struct {
	Name           string
	Phone          string
	BirthYear      int
	Gender         Gender
	Neighborhood   string
	Interests      []string
	Consents       map[ConsentKind]bool
	AcceptCovenant bool
}

// NewSignup validates d against the interests the store offers and returns the member it
// describes (without ids, not yet verified) and the consent records to store with it. Fields are
// checked in the order the join page shows them, so the first error names the first field to fix.
func NewSignup(d SignupDraft, offered []string, now time.Time) (Member, []Consent, error) {
	now = now.UTC().Truncate(time.Second)
	var (
		m   Member
		err error
	)
	if m.Name, err = ValidName(d.Name); err != nil {
		return Member{}, nil, err
	}
	if m.Phone, err = ParsePhone(d.Phone); err != nil {
		return Member{}, nil, err
	}
	if err := ValidBirthYear(d.BirthYear, now); err != nil {
		return Member{}, nil, err
	}
	m.BirthYear = d.BirthYear
	if m.Gender, err = ParseGender(string(d.Gender)); err != nil {
		return Member{}, nil, err
	}
	if m.Neighborhood, err = ValidNeighborhood(d.Neighborhood); err != nil {
		return Member{}, nil, err
	}
	if m.Interests, err = ValidInterests(d.Interests, offered); err != nil {
		return Member{}, nil, err
	}
	if !d.Consents[ConsentService] {
		return Member{}, nil, ErrConsentRequired
	}
	if !d.AcceptCovenant {
		return Member{}, nil, ErrCovenantRequired
	}
	// Every kind is recorded at signup, refusals included: the history then shows what the
	// member was asked and what they chose.
	choices := map[ConsentKind]bool{}
	for _, k := range ConsentKinds {
		choices[k] = d.Consents[k]
	}
	changes := Changes(nil, choices, now)
	m.Consents = Consents(nil).Apply(changes)
	m.Channel = DefaultChannel
	m.QuietHours = DefaultQuietHours
	m.TimeZone = DefaultTimeZone
	m.Tier = TierMember
	m.CreatedAt, m.UpdatedAt = now, now
	return m, changes, nil
}

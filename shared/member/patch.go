package member

import (
	"time"

	"yinling/shared/fail"
)

// ProfilePatch is what a senior (or a helper on their behalf, later) changes on their page; nil
// fields stay as they are. The phone is not here: a new number needs a new verification.
type ProfilePatch struct {
	Name         *string
	BirthYear    *int
	Gender       *Gender
	Neighborhood *string
	Interests    *[]string
	Channel      *Channel
	QuietHours   *QuietHours
	TimeZone     *string
	Consents     map[ConsentKind]bool
}

// ErrEmptyPatch refuses a change that changes nothing.
var ErrEmptyPatch = &fail.Error{Kind: fail.Invalid, Code: "empty_update"}

// Apply returns m with p applied and validated, and the consent records to add to the history
// (one per kind whose choice changed). Withdrawing the service consent is refused: it is what
// membership rests on, and leaving is DELETE /api/me.
func (m Member) Apply(p ProfilePatch, offered []string, now time.Time) (Member, []Consent, error) {
	now = now.UTC().Truncate(time.Second)
	if p.Name == nil && p.BirthYear == nil && p.Gender == nil && p.Neighborhood == nil && p.Interests == nil &&
		p.Channel == nil && p.QuietHours == nil && p.TimeZone == nil && len(p.Consents) == 0 {
		return m, nil, ErrEmptyPatch
	}
	var err error
	if p.Name != nil {
		if m.Name, err = ValidName(*p.Name); err != nil {
			return Member{}, nil, err
		}
	}
	if p.BirthYear != nil {
		if err := ValidBirthYear(*p.BirthYear, now); err != nil {
			return Member{}, nil, err
		}
		m.BirthYear = *p.BirthYear
	}
	if p.Gender != nil {
		if m.Gender, err = ParseGender(string(*p.Gender)); err != nil {
			return Member{}, nil, err
		}
	}
	if p.Neighborhood != nil {
		if m.Neighborhood, err = ValidNeighborhood(*p.Neighborhood); err != nil {
			return Member{}, nil, err
		}
	}
	if p.Interests != nil {
		if m.Interests, err = ValidInterests(*p.Interests, offered); err != nil {
			return Member{}, nil, err
		}
	}
	if p.Channel != nil {
		if m.Channel, err = ParseChannel(string(*p.Channel)); err != nil {
			return Member{}, nil, err
		}
	}
	if p.QuietHours != nil {
		if m.QuietHours, err = ParseQuietHours(p.QuietHours.Start, p.QuietHours.End); err != nil {
			return Member{}, nil, err
		}
	}
	if p.TimeZone != nil {
		loc, err := ParseTimeZone(*p.TimeZone)
		if err != nil {
			return Member{}, nil, err
		}
		m.TimeZone = loc.String()
	}
	var changes []Consent
	if len(p.Consents) > 0 {
		next := map[ConsentKind]bool{}
		for _, k := range ConsentKinds {
			next[k] = m.Consents.Granted(k)
		}
		for k, v := range p.Consents {
			next[k] = v
		}
		if !next[ConsentService] {
			return Member{}, nil, ErrConsentRequired
		}
		changes = Changes(m.Consents, next, now)
		m.Consents = m.Consents.Apply(changes)
	}
	m.UpdatedAt = now
	return m, changes, nil
}

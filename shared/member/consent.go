package member

import "time"

// ConsentKind is one purpose a member agrees to separately, as PIPL asks: health information is
// sensitive personal information, and marketing must never ride on a service consent.
type ConsentKind string

// Consent kinds.
const (
	// ConsentService covers what membership needs: the one-time code, the member's own reminders,
	// booking confirmations. Signup requires it.
	ConsentService ConsentKind = "service"
	// ConsentHealth gates medication and check-up reminders (and the missed-reminder alerts
	// family links can carry): they reveal health information.
	ConsentHealth ConsentKind = "health"
	// ConsentMarketing gates promotions; every promotion also carries an opt-out.
	ConsentMarketing ConsentKind = "marketing"
)

// ConsentKinds lists every kind, in the order records are written.
var ConsentKinds = []ConsentKind{ConsentService, ConsentHealth, ConsentMarketing}

// ConsentVersion names the consent text members accept now. Change it when the text changes:
// a grant under an older version is still a grant, but granting again records the new version.
const ConsentVersion = "2026-11-01"

// Consent is one record of a member's choice: the history of these is what we keep as proof.
type Consent struct {
	Kind    ConsentKind
	Granted bool
	Version string // ConsentVersion when the choice was made
	At      time.Time
}

// Consents holds a member's latest record per kind; a kind without one is not granted.
type Consents map[ConsentKind]Consent

// Granted reports whether the member agreed to k.
func (c Consents) Granted(k ConsentKind) bool { return c[k].Granted }

// Apply returns a copy of c with changes recorded on it.
func (c Consents) Apply(changes []Consent) Consents {
	out := make(Consents, len(c)+len(changes))
	for k, v := range c {
		out[k] = v
	}
	for _, ch := range changes {
		out[ch.Kind] = ch
	}
	return out
}

// Changes returns the records to append to the history when a member whose consents are prev
// makes the choices in next at now: one per kind, in ConsentKinds order, that has no record yet,
// whose choice differs, or that is granted again under a newer ConsentVersion. Kinds missing
// from next, and kinds we do not know, stay as they are.
func Changes(prev Consents, next map[ConsentKind]bool, now time.Time) []Consent {
	now = now.UTC().Truncate(time.Second)
	var out []Consent
	for _, k := range ConsentKinds {
		granted, chosen := next[k]
		if !chosen {
			continue
		}
		p, recorded := prev[k]
		if recorded && p.Granted == granted && (!granted || p.Version == ConsentVersion) {
			continue
		}
		out = append(out, Consent{Kind: k, Granted: granted, Version: ConsentVersion, At: now})
	}
	return out
}

package reminder

import "time"

// occurrenceLayout names an occurrence by its minute in UTC: "20261123T0000Z". It appears in
// table keys and message bodies, so it is a persistent contract.
const occurrenceLayout = "20060102T1504Z"

// OccurrenceID names the occurrence at t.
func OccurrenceID(t time.Time) string { return t.UTC().Format(occurrenceLayout) }

// ParseOccurrenceID reads an OccurrenceID back.
func ParseOccurrenceID(s string) (time.Time, error) {
	t, err := time.Parse(occurrenceLayout, s)
	if err != nil {
		return time.Time{}, ErrNothingToAck
	}
	return t, nil
}

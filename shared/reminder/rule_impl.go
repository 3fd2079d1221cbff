package reminder

import "time"

// Placeholder bodies, replaced by the real recurrence (see rule.go).
func (r Rule) validate() error                    { return nil }
func (r Rule) next(t time.Time) (time.Time, bool) { return time.Time{}, false }

package promo

import (
	"slices"
	"strings"
	"time"

	"yinling/shared/fail"
	"yinling/shared/member"
)

// Audience is who a campaign is for: active members of any of Groups (the fan-out reads the
// groups' member lists, so every campaign names at least one), narrowed by the portrait —
// Tags, Tiers, AgeBands, each matched when the member has any of its values. Match says how the
// portrait criteria given combine: MatchAll, every one of them (the default: "leaders in their
// 70s"); MatchAny, at least one ("leaders, or anyone tagged 太极"). No criterion: the whole groups.
type Audience struct {
	Groups   []string
	Tags     []string
	Tiers    []member.Tier
	AgeBands []member.AgeBand
	Match    Match
}

// Match combines an audience's portrait criteria.
type Match string

// Matches.
const (
	MatchAll Match = "all"
	MatchAny Match = "any"
)

// Limits of an audience.
const (
	MaxGroups = 20
	MaxValues = 20 // tags, tiers or age bands
)

// Errors of audiences.
var (
	ErrNoGroups      = &fail.Error{Kind: fail.Invalid, Code: "audience_empty", Field: "audience.groups"}
	ErrTooManyGroups = &fail.Error{Kind: fail.Invalid, Code: "too_many_groups", Field: "audience.groups"}
	ErrInvalidMatch  = &fail.Error{Kind: fail.Invalid, Code: "invalid_match", Field: "audience.match"}
	ErrInvalidTier   = &fail.Error{Kind: fail.Invalid, Code: "invalid_tier", Field: "audience.tiers"}
	ErrInvalidAge    = &fail.Error{Kind: fail.Invalid, Code: "invalid_age_band", Field: "audience.ageBands"}
	ErrInvalidTag    = &fail.Error{Kind: fail.Invalid, Code: "invalid_tag", Field: "audience.tags"}
)

var ageBands = []member.AgeBand{member.AgeUnder60, member.Age60s, member.Age70s, member.Age80s, member.Age90Plus}

// Parse returns a validated in its stored form: values sorted and each once, Match MatchAll
// when not given.
func (a Audience) Parse() (Audience, error) {
	out := Audience{Groups: sortedSet(a.Groups), Tags: sortedSet(a.Tags), Tiers: sortedSet(a.Tiers),
		AgeBands: sortedSet(a.AgeBands), Match: a.Match}
	switch {
	case len(out.Groups) == 0:
		return Audience{}, ErrNoGroups
	case len(out.Groups) > MaxGroups:
		return Audience{}, ErrTooManyGroups
	case len(out.Tags) > MaxValues || len(out.Tiers) > MaxValues || len(out.AgeBands) > MaxValues:
		return Audience{}, fail.InvalidField("too_many_values", "audience")
	}
	for _, g := range out.Groups {
		if g == "" || strings.Contains(g, "#") {
			return Audience{}, ErrNoGroups.OnField("audience.groups")
		}
	}
	for _, t := range out.Tags {
		if strings.TrimSpace(t) != t || t == "" || strings.Contains(t, "#") {
			return Audience{}, ErrInvalidTag
		}
	}
	for _, t := range out.Tiers {
		if !slices.Contains(Tiers, t) {
			return Audience{}, ErrInvalidTier
		}
	}
	for _, b := range out.AgeBands {
		if !slices.Contains(ageBands, b) {
			return Audience{}, ErrInvalidAge
		}
	}
	switch out.Match {
	case "":
		out.Match = MatchAll
	case MatchAll, MatchAny:
	default:
		return Audience{}, ErrInvalidMatch
	}
	return out, nil
}

// Includes reports whether m, active in the given groups, is in a at now (age bands are counted
// in now's year).
func (a Audience) Includes(m member.Member, activeIn []string, now time.Time) bool {
	if !slices.ContainsFunc(activeIn, func(g string) bool { return slices.Contains(a.Groups, g) }) {
		return false
	}
	var criteria []bool
	if len(a.Tags) > 0 {
		criteria = append(criteria, slices.ContainsFunc(m.Tags, func(t string) bool { return slices.Contains(a.Tags, t) }))
	}
	if len(a.Tiers) > 0 {
		tier := m.Tier
		if tier == "" {
			tier = member.TierMember
		}
		criteria = append(criteria, slices.Contains(a.Tiers, tier))
	}
	if len(a.AgeBands) > 0 {
		criteria = append(criteria, slices.Contains(a.AgeBands, m.AgeBand(now)))
	}
	if len(criteria) == 0 {
		return true
	}
	if a.Match == MatchAny {
		return slices.Contains(criteria, true)
	}
	return !slices.Contains(criteria, false)
}

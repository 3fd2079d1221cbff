package member

import (
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image has no zoneinfo; members' zones must load anywhere
	"unicode/utf8"

	"yinling/shared/fail"
	"yinling/shared/group"
)

// Limits of the profile and portrait (用户画像).
const (
	MinBirthYear       = 1900
	MinAgeYears        = 40 // the youngest family member or senior we expect; younger is a typo
	MaxNeighborhoodLen = 40
	MaxInterests       = 10
	MaxTags            = 20
	MaxTagLen          = 20
)

// Errors of the profile.
var (
	ErrInvalidBirthYear    = &fail.Error{Kind: fail.Invalid, Code: "invalid_birth_year", Field: "birthYear"}
	ErrInvalidGender       = &fail.Error{Kind: fail.Invalid, Code: "invalid_gender", Field: "gender"}
	ErrNeighborhoodTooLong = &fail.Error{Kind: fail.Invalid, Code: "too_long", Field: "neighborhood"}
	ErrInvalidNeighborhood = &fail.Error{Kind: fail.Invalid, Code: "invalid_text", Field: "neighborhood"}
	ErrInvalidInterest     = &fail.Error{Kind: fail.Invalid, Code: "invalid_interest", Field: "interests"}
	ErrInvalidChannel      = &fail.Error{Kind: fail.Invalid, Code: "invalid_channel", Field: "channel"}
	ErrInvalidTimeZone     = &fail.Error{Kind: fail.Invalid, Code: "invalid_time_zone", Field: "timeZone"}
	ErrInvalidTier         = &fail.Error{Kind: fail.Invalid, Code: "invalid_tier", Field: "tier"}
	ErrInvalidTag          = &fail.Error{Kind: fail.Invalid, Code: "invalid_tag", Field: "tags"}
)

// ValidBirthYear checks that year is from MinBirthYear to MinAgeYears before the year of now.
func ValidBirthYear(year int, now time.Time) error {
	if year < MinBirthYear || year > now.Year()-MinAgeYears {
		return ErrInvalidBirthYear
	}
	return nil
}

// AgeBand is the portrait's age group, a tag staff can target.
type AgeBand string

// Age bands. AgeUnknown is the band of a member without a birth year.
const (
	AgeUnknown AgeBand = ""
	AgeUnder60 AgeBand = "under60"
	Age60s     AgeBand = "60-69"
	Age70s     AgeBand = "70-79"
	Age80s     AgeBand = "80-89"
	Age90Plus  AgeBand = "90+"
)

// AgeBandOf returns the band of someone born in birthYear, by the age they reach in the year of
// now: we ask for the year only, which is all a portrait needs and less personal data to hold.
func AgeBandOf(birthYear int, now time.Time) AgeBand {
	if birthYear <= 0 {
		return AgeUnknown
	}
	switch age := now.Year() - birthYear; {
	case age < 60:
		return AgeUnder60
	case age < 70:
		return Age60s
	case age < 80:
		return Age70s
	case age < 90:
		return Age80s
	default:
		return Age90Plus
	}
}

// Gender is what a member chose to tell us; nobody has to.
type Gender string

// Genders.
const (
	GenderFemale      Gender = "female"
	GenderMale        Gender = "male"
	GenderUnspecified Gender = "unspecified"
)

// ParseGender returns s as a Gender; empty is GenderUnspecified.
func ParseGender(s string) (Gender, error) {
	switch g := Gender(s); g {
	case "":
		return GenderUnspecified, nil
	case GenderFemale, GenderMale, GenderUnspecified:
		return g, nil
	}
	return "", ErrInvalidGender
}

// ValidNeighborhood returns s trimmed: optional, at most MaxNeighborhoodLen runes of one line.
func ValidNeighborhood(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case !group.CleanText(s, false):
		return "", ErrInvalidNeighborhood
	case utf8.RuneCountInString(s) > MaxNeighborhoodLen:
		return "", ErrNeighborhoodTooLong
	}
	return s, nil
}

// ValidInterests returns chosen, trimmed, if every entry is one of offered (the store's list),
// there are at most MaxInterests and none twice. A duplicate is refused rather than dropped:
// our own page cannot send one, so it is a client's mistake to report, not to hide.
func ValidInterests(chosen, offered []string) ([]string, error) {
	if len(chosen) > MaxInterests {
		return nil, ErrInvalidInterest
	}
	var out []string
	for _, c := range chosen {
		c = strings.TrimSpace(c)
		if c == "" || !slices.Contains(offered, c) || slices.Contains(out, c) {
			return nil, ErrInvalidInterest
		}
		out = append(out, c)
	}
	return out, nil
}

// Channel is how a member prefers to get reminders.
type Channel string

// Channels. ChannelNone still lets a member see reminders on their page; nothing is sent.
const (
	ChannelVoice Channel = "voice"
	ChannelSMS   Channel = "sms"
	ChannelNone  Channel = "none"
)

// DefaultChannel is voice: most older users listen rather than read (see PRODUCT.md), and
// nothing is sent before the phone is verified anyway.
const DefaultChannel = ChannelVoice

// ParseChannel returns s as a Channel; empty is DefaultChannel.
func ParseChannel(s string) (Channel, error) {
	switch c := Channel(s); c {
	case "":
		return DefaultChannel, nil
	case ChannelVoice, ChannelSMS, ChannelNone:
		return c, nil
	}
	return "", ErrInvalidChannel
}

// DefaultTimeZone is where our stores are.
const DefaultTimeZone = "Asia/Shanghai"

// maxTimeZoneLen is longer than any IANA name (the longest is 32 bytes).
const maxTimeZoneLen = 64

// ParseTimeZone loads the IANA time zone name (surrounding space ignored; empty is
// DefaultTimeZone); its String() is the name to store. "Local" is refused: it would mean
// whatever zone the server happens to run in. A zone is loaded once per process: the fan-out
// asks for every member's, a thousand times a page.
func ParseTimeZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = DefaultTimeZone
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if len(name) > maxTimeZoneLen || name == "Local" || !zoneName(name) {
		return nil, ErrInvalidTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, ErrInvalidTimeZone
	}
	zones.Store(name, loc) // only names that load: at most the few hundred IANA zones
	return loc, nil
}

// zones holds the locations ParseTimeZone loaded, by name (a *time.Location is immutable).
var zones sync.Map

// zoneName reports whether s has only the characters of IANA names, so nothing that looks like
// a path reaches the loader.
func zoneName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '/' || c == '_' || c == '-' || c == '+') {
			return false
		}
	}
	return s[0] != '/' && !strings.Contains(s, "..")
}

// shanghai is the zone used when a caller has none to give.
var shanghai = mustZone(DefaultTimeZone)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("member: " + err.Error()) // cannot happen: time/tzdata is linked in
	}
	return loc
}

// Tier is a member's standing in the store's groups (分类分级); offers can carry a price per tier.
type Tier string

// Tiers.
const (
	TierMember  Tier = "member"  // ordinary member
	TierLeader  Tier = "leader"  // group leader / opinion leader (意见领袖)
	TierPartner Tier = "partner" // core partner
)

// ParseTier returns s as a Tier; empty is TierMember.
func ParseTier(s string) (Tier, error) {
	switch t := Tier(s); t {
	case "":
		return TierMember, nil
	case TierMember, TierLeader, TierPartner:
		return t, nil
	}
	return "", ErrInvalidTier
}

// ValidTags returns staff's tags for a member trimmed and deduplicated, first occurrence first:
// at most MaxTags, each 1–MaxTagLen runes of one line. Tags are compared exactly, as staff filter
// the member list by them.
func ValidTags(tags []string) ([]string, error) {
	var out []string
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || !group.CleanText(t, false) || utf8.RuneCountInString(t) > MaxTagLen {
			return nil, ErrInvalidTag
		}
		if slices.Contains(out, t) {
			continue
		}
		if len(out) == MaxTags {
			return nil, ErrInvalidTag
		}
		out = append(out, t)
	}
	return out, nil
}

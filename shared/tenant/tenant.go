// Package tenant owns the store — the tenant every piece of member data belongs to — and the
// staff identity that the HTTP API's JWT authorizer vouches for.
package tenant

import (
	"regexp"
	"time"
)

// Claims carried by a staff JWT. In AWS they are Cognito user-pool custom attributes, which the
// app client may read but not write (template.yaml), so a staff member cannot move stores.
const (
	ClaimSubject = "sub"
	ClaimStoreID = "custom:store_id"
	ClaimRole    = "custom:role"
	ClaimName    = "name"
)

// Role is what a staff member may do in their store.
type Role string

// Roles. A manager may do everything staff may, plus store-wide settings.
const (
	RoleStaff   Role = "staff"
	RoleManager Role = "manager"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleStaff || r == RoleManager }

// Staff is an authenticated member of a store's staff.
type Staff struct {
	ID      string
	StoreID string
	Role    Role
	Name    string
}

// Store is one community store; a chain has several.
type Store struct {
	ID       string
	ChainID  string
	Name     string
	TimeZone string
	// PushCap is the store-wide default of promotional messages per member per rolling 7 days.
	PushCap int
	// PaidQuota is how many paid messages (SMS, voice calls) the store's campaigns may queue in a
	// day, so that a mistake or a stolen staff account cannot run up a bill.
	PaidQuota int
	// Interests are the interests members may choose from (用户画像 tags staff can target).
	Interests []string
	CreatedAt time.Time
}

// DefaultTimeZone is where our stores are.
const DefaultTimeZone = "Asia/Shanghai"

// DefaultPushCap is the promotional budget per member per week when a store sets none: the seed
// articles warn that more drives members away.
const DefaultPushCap = 2

// DefaultPaidQuota is the daily quota of paid campaign messages when a store sets none: a
// campaign to every member of a large store, with room to spare.
const DefaultPaidQuota = 20_000

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidID reports whether s can be a store or staff id: ids end up inside table keys, so they
// must never contain the key separator '#'.
func ValidID(s string) bool { return idPattern.MatchString(s) }

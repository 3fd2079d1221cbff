package dynamostore

import "fmt"

// Every key string of the table is built in this file. Keys are a persistent data contract:
// changing one orphans every item written with the old form, so keys_test.go pins them.
//
// Tenant-owned items all live under keys that start with STORE#<store>. The only exceptions are
// global lookups that a caller reaches before it knows the store — a join/invite code — and those
// items carry the store id inside them.

// Attribute names of the keys and indexes, as declared in template.yaml.
const (
	attrPK     = "PK"
	attrSK     = "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"
	attrTTL    = "ExpiresAt"
	indexGSI1  = "GSI1"
)

// Sort-key prefixes of the items that share a store's partition.
const (
	skStore       = "STORE"
	skStaffPrefix = "STAFF#"
	skGroupPrefix = "GROUP#"
	skDoctorPfx   = "DOCTOR#"
	skCode        = "CODE"
	gsiInvitePfx  = "INVITE#"
)

func storePK(store string) string { return "STORE#" + store }

// storeKey is the store's own profile item.
func storeKey(store string) (pk, sk string) { return storePK(store), skStore }

// staffKey is one staff member of a store.
func staffKey(store, staff string) (pk, sk string) { return storePK(store), skStaffPrefix + staff }

// groupKey is one community group; groups of a store are listed with begins_with(SK, "GROUP#"),
// ordered by creation because group ids are ULIDs.
func groupKey(store, group string) (pk, sk string) { return storePK(store), skGroupPrefix + group }

// doctorKey is one doctor a store invites for Q&A sessions.
func doctorKey(store, doctor string) (pk, sk string) { return storePK(store), skDoctorPfx + doctor }

// idempotencyKey records the result of a create made with an Idempotency-Key header, per store
// and per kind of create, so a retried request returns the first result.
func idempotencyKey(store, scope, key string) (pk, sk string) {
	return storePK(store), "IDEM#" + scope + "#" + key
}

// codeKey is the global lookup of a join, invite or referral code.
func codeKey(code string) (pk, sk string) { return "CODE#" + code, skCode }

// groupInvitesKey lists a group's staff invites, newest last, in GSI1.
func groupInvitesKey(store, group, createdAt, code string) (pk, sk string) {
	return storePK(store) + "#GROUP#" + group + "#INVITES", gsiInvitePfx + createdAt + "#" + code
}

// skOutboxPfx starts the SK of every outbox entry (and not of the id guards, MSGID#).
const skOutboxPfx = "MSG#"

// outboxTimeLayout is the time in an outbox key: RFC 3339 in UTC with all nine fractional
// digits, fixed width so that it sorts as text. time.RFC3339Nano drops trailing zeros, and
// "08:00:00Z" would sort after "08:00:00.1Z".
const outboxTimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// outboxPK is a store's local outbox (the development channel): every message it "sent".
func outboxPK(store string) string { return storePK(store) + "#OUTBOX" }

// outboxKey is one message in the outbox. at is outboxTime(t) — fixed-width RFC 3339 in UTC,
// which sorts as text in time order — so a Query with ScanIndexForward=false lists the outbox
// newest first without an index.
func outboxKey(store, at, msg string) (pk, sk string) {
	return outboxPK(store), skOutboxPfx + at + "#" + msg
}

// outboxIDKey guards one message id in the outbox: written with the message in one
// transaction, only if absent, so a redelivered message lands once. Its prefix is not MSG#,
// so listings never see it.
func outboxIDKey(store, msg string) (pk, sk string) { return outboxPK(store), "MSGID#" + msg }

// Members. A member's own items share one partition, so "my page" is one Query: the profile
// (SK PROFILE) and one item per group they belong to (SK GROUP#g). Their consent history is a
// partition of its own, so that Query never reads it.
const (
	skProfile          = "PROFILE"
	skMembershipPrefix = "GROUP#"
)

func memberPK(store, member string) string { return storePK(store) + "#MEMBER#" + member }

// memberKey is a member's profile.
func memberKey(store, member string) (pk, sk string) { return memberPK(store, member), skProfile }

// membershipKey is a member's place in one group.
func membershipKey(store, member, group string) (pk, sk string) {
	return memberPK(store, member), skMembershipPrefix + group
}

// groupMembersKey lists a group's members by status, then join time, in GSI1 — the admin
// member list and the approval queue.
func groupMembersKey(store, group, status, joinedAt, member string) (pk, sk string) {
	return storePK(store) + "#GROUP#" + group + "#MEMBERS", status + "#" + joinedAt + "#" + member
}

// consentKey is one recorded consent decision (PIPL): kept apart from the member's partition.
func consentKey(store, member, at, kind string) (pk, sk string) {
	return memberPK(store, member) + "#CONSENTS", at + "#" + kind
}

// phoneKey finds a store's member by phone. The phone appears only as a keyed hash (HMAC): the
// key holds no number anyone could read back.
func phoneKey(store, phoneHash string) (pk, sk string) {
	return storePK(store) + "#PHONE#" + phoneHash, "MEMBER"
}

// otpRateKey counts the one-time codes sent to a phone in one hour ("2026112308", UTC).
func otpRateKey(store, phoneHash, hour string) (pk, sk string) {
	return storePK(store) + "#PHONE#" + phoneHash, "OTPRATE#" + hour
}

// otpClientRateKey counts the one-time codes sent on behalf of one client address in one hour
// ("2026112308", UTC). Global, as an address is not a store's; it appears only as a keyed hash.
func otpClientRateKey(clientHash, hour string) (pk, sk string) {
	return "CLIENT#" + clientHash, "OTPRATE#" + hour
}

// otpKey is a member's current one-time code. Global: the verify request carries only the
// member id; the item carries the store.
func otpKey(member string) (pk, sk string) { return "OTP#" + member, "OTP" }

// sessionKey is a member session, by the SHA-256 of its token. Global: a request presents only
// the token; the item carries the store and member.
func sessionKey(tokenHash string) (pk, sk string) { return "SESSION#" + tokenHash, "SESSION" }

// Group health (影响力、连接度、参与度、输出量) is kept as counters updated with each event,
// never computed by scanning. A group's counters share one partition, so the metrics page is
// one Query: the running totals (SK TOTAL), one item per day of joins by path (SK DAY#<date>),
// and one per referrer (SK REFERRER#<member>).
func groupStatsPK(store, group string) string { return storePK(store) + "#GROUP#" + group + "#STATS" }

// groupTotalsKey holds Members, Verified, PendingApproval, Active.
func groupTotalsKey(store, group string) (pk, sk string) { return groupStatsPK(store, group), "TOTAL" }

// groupDayKey holds JoinedQR, JoinedInvite, JoinedReferral for one day (UTC date "2006-01-02").
func groupDayKey(store, group, day string) (pk, sk string) {
	return groupStatsPK(store, group), "DAY#" + day
}

// groupReferrerKey holds Referrals: how many members one member brought into the group.
func groupReferrerKey(store, group, referrer string) (pk, sk string) {
	return groupStatsPK(store, group), "REFERRER#" + referrer
}

// familyTokenKey finds a family link by the SHA-256 of its token. Global: the family's page
// presents only the token; the item carries the store and member.
func familyTokenKey(tokenHash string) (pk, sk string) { return "FAMILY#" + tokenHash, "FAMILY" }

// memberLinkKey is a family link as listed on the senior's page (one Query with the profile).
func memberLinkKey(store, member, link string) (pk, sk string) {
	return memberPK(store, member), "LINK#" + link
}

// guessKey counts failed lookups of guessable things (family tokens, join codes) from one
// client address in one 10-minute window. Global by nature; the address appears only hashed.
func guessKey(scope, clientHash, window string) (pk, sk string) {
	return "GUESS#" + scope + "#" + clientHash, window
}

// groupActiveKey marks a member active in a group; the item expires 30 days after their last
// activity, so the live ones are "active in the last 30 days". Its prefix sorts before DAY#, out
// of the range the health Query reads, and is counted by a Query of its own.
func groupActiveKey(store, group, member string) (pk, sk string) {
	return groupStatsPK(store, group), "ACTIVE#" + member
}

// Reminders. A reminder's own items share one partition: the reminder (SK REMINDER), the
// acknowledgement of each occurrence (SK OCC#<occ>), and each delivery attempt of it (SK
// OCC#<occ>#A<n> for the calls to the senior, OCC#<occ>#F<link> for family alerts, OCC#<occ>#S
// for the staff alert) — so a reminder's delivery status is one Query, newest first. The
// occurrence id is reminder.OccurrenceID: fixed width, so it sorts as text in time order.
const (
	attrDuePK  = "DuePK"
	attrDueSK  = "DueSK"
	indexDue   = "Due"
	skReminder = "REMINDER"
	skOccPfx   = "OCC#"
)

// DueShards is how many shards each minute of the Due index has.
const DueShards = 10

func reminderPK(store, reminder string) string { return storePK(store) + "#REMINDER#" + reminder }

// reminderKey is one reminder.
func reminderKey(store, reminder string) (pk, sk string) {
	return reminderPK(store, reminder), skReminder
}

// ackKey records that an occurrence was acknowledged ("收到"): written once, by whoever is first.
func ackKey(store, reminder, occ string) (pk, sk string) {
	return reminderPK(store, reminder), skOccPfx + occ
}

// deliveryKey is one delivery of an occurrence: attempt is "A0", "A1"… for calls to the senior,
// "F<link>" for an alert to a family link, "S" for the alert to staff. The item is the claim
// (written only if absent or its claim expired) and then the outcome.
func deliveryKey(store, reminder, occ, attempt string) (pk, sk string) {
	return reminderPK(store, reminder), skOccPfx + occ + "#" + attempt
}

// memberRemindersKey lists a member's reminders, oldest first, in GSI1.
func memberRemindersKey(store, member, createdAt, reminder string) (pk, sk string) {
	return memberPK(store, member) + "#REMINDERS", createdAt + "#" + reminder
}

// broadcastDeliveriesKey lists the deliveries of one staff broadcast to a group, in GSI1, so
// its status page is one Query: by state, then member.
// broadcastKey is a broadcast's own small record: which group, when, how many reminders. It is
// what tells a broadcast without deliveries yet from an id that is not the store's.
func broadcastKey(store, broadcast string) (pk, sk string) {
	return storePK(store) + "#BROADCAST#" + broadcast, "BROADCAST"
}

func broadcastDeliveriesKey(store, broadcast, state, member string) (pk, sk string) {
	return storePK(store) + "#BROADCAST#" + broadcast, state + "#" + member
}

// The Due index places something due at minute m (UTC, dueMinuteLayout) in one of DueShards
// shards chosen by its reminder's id, so that no minute's bucket is a hot partition when 10,000
// reminders ring at 08:00. Its sort key (DueSK) names the item: "<store>#<reminder>" for a
// reminder's next occurrence, "<store>#<reminder>#<occ>#<attempt>" for a delivery held back by
// quiet hours.
// duePK is one shard of one minute's bucket.
func duePK(minute string, shard int) string { return "DUE#" + minute + "#" + string(rune('0'+shard)) }

// dueMinuteLayout is the minute of a Due bucket, in UTC.
const dueMinuteLayout = "2006-01-02T15:04"

// dueShard spreads ids over the shards (FNV-1a).
func dueShard(id string) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % DueShards)
}

// dispatchWatermarkKey is the last minute the dispatcher finished: global, like the schedule.
func dispatchWatermarkKey() (pk, sk string) { return "DISPATCHER", "WATERMARK" }

// piiDataKeyKey is the wrapped data key the functions share to seal phone numbers (keyring.go).
// Global: it belongs to the deployment, not to a store, and holds no personal data.
func piiDataKeyKey() (pk, sk string) { return "PII", "DATAKEY" }

// reminderLinkKey finds a reminder by the SHA-256 of its page token (/r/{token}, the link in
// the SMS). Global: the page presents only the token; the item carries the store.
func reminderLinkKey(tokenHash string) (pk, sk string) { return "RLINK#" + tokenHash, "RLINK" }

// staffAlertKey is one alert to a store's staff (an occurrence nobody acknowledged, even after
// the family was told), newest last.
func staffAlertKey(store, at, reminder, occ string) (pk, sk string) {
	return storePK(store) + "#ALERTS", at + "#" + reminder + "#" + occ
}

// robotMinuteKey counts the messages sent through one WeCom group robot in one minute
// ("200601021504", UTC), across every function and campaign of the store: the robot allows 20.
// The robot appears only as a hash of its webhook key.
func robotMinuteKey(store, robotHash, minute string) (pk, sk string) {
	return storePK(store) + "#ROBOT#" + robotHash, "MINUTE#" + minute
}

// Doctor Q&A sessions. A session's own items share one partition: its bookings (SK
// BOOKING#<member>), the session itself (SK SESSION) and its waitlist (SK WAIT#<ticket>, the
// ticket zero-padded so the partition lists it in order). The prefixes sort in that order on
// purpose: "SESSION" < "WAIT#", so one Query from SK "SESSION" reads the session and the head
// of its waitlist.
const (
	skSession    = "SESSION"
	skBookingPfx = "BOOKING#"
	skWaitPfx    = "WAIT#"
	// skMemberSessionPfx starts a member's copy of their bookings in their own partition; it
	// sorts after PROFILE, so the member-page Query meets groups and links first.
	skMemberSessionPfx = "SESSION#"
)

func sessionPK(store, session string) string { return storePK(store) + "#SESSION#" + session }

// qaSessionKey is one Q&A session.
func qaSessionKey(store, session string) (pk, sk string) { return sessionPK(store, session), skSession }

// storeSessionsKey lists a store's sessions by start time in GSI1, so "upcoming" is one Query
// from now.
func storeSessionsKey(store, startAt, session string) (pk, sk string) {
	return storePK(store) + "#SESSIONS", startAt + "#" + session
}

// bookingKey is one member's booking of one session.
func bookingKey(store, session, member string) (pk, sk string) {
	return sessionPK(store, session), skBookingPfx + member
}

// waitKey is one place on a session's waitlist: ticket n, as WAIT#0000000042.
func waitKey(store, session string, ticket int) (pk, sk string) {
	return sessionPK(store, session), fmt.Sprintf("%s%010d", skWaitPfx, ticket)
}

// memberBookingKey is a member's copy of one booking, in their own partition, by the session's
// start: "my page" and the session list read a senior's bookings with their profile.
func memberBookingKey(store, member, startAt, session string) (pk, sk string) {
	return memberPK(store, member), skMemberSessionPfx + startAt + "#" + session
}

// bookingLinkKey finds a booking by the SHA-256 of its page token (/b/{token}, the link in the
// booking's messages). Global: the page presents only the token; the item carries the store.
func bookingLinkKey(tokenHash string) (pk, sk string) { return "BLINK#" + tokenHash, "BLINK" }

// sessionTimeLayout is a session's start in its keys: RFC 3339 in UTC, fixed width.
const sessionTimeLayout = "2006-01-02T15:04Z"

// Campaigns (shared/promo). A campaign's partition holds the campaign (SK CAMPAIGN) and its
// stats, sharded so that concurrent chunks seldom write the same item (SK CAMPAIGN#STATS#<n>):
// one Query with begins_with(SK, "CAMPAIGN") reads both. The store's campaigns are listed,
// newest first, in GSI1.
const (
	skCampaign      = "CAMPAIGN"
	skCampaignStats = "CAMPAIGN#STATS#"
)

func campaignPK(store, campaign string) string { return storePK(store) + "#CAMPAIGN#" + campaign }

// campaignKey is one campaign.
func campaignKey(store, campaign string) (pk, sk string) {
	return campaignPK(store, campaign), skCampaign
}

// campaignStatsKey is one shard of a campaign's stats.
func campaignStatsKey(store, campaign string, shard int) (pk, sk string) {
	return campaignPK(store, campaign), fmt.Sprintf("%s%d", skCampaignStats, shard)
}

// storeCampaignsKey lists a store's campaigns by creation, in GSI1.
func storeCampaignsKey(store, createdAt, campaign string) (pk, sk string) {
	return storePK(store) + "#CAMPAIGNS", createdAt + "#" + campaign
}

// offerChunkKey is one delivery chunk of a campaign: its recipients, what became of each, and
// who opened the offer. Global: the offer page presents only a token that starts with the
// chunk's code (promo.OfferToken); the item carries the store.
func offerChunkKey(code string) (pk, sk string) { return "OFFER#" + code, "OFFER" }

// paidQuotaKey counts a store's paid messages (SMS, voice calls) queued on one day (UTC date).
func paidQuotaKey(store, day string) (pk, sk string) { return storePK(store) + "#QUOTA", "DAY#" + day }

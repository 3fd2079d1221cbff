package dynamostore

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These strings are stored in production tables: a change here is a data migration, not a
// refactor. Update the expectations only together with a migration.
func TestKeys(t *testing.T) {
	type kv struct{ PK, SK string }
	k := func(pk, sk string) kv { return kv{pk, sk} }
	tests := []struct {
		name string
		got  kv
		want kv
	}{
		{"store", k(storeKey("s1")), kv{"STORE#s1", "STORE"}},
		{"campaign", k(campaignKey("s1", "C1")), kv{"STORE#s1#CAMPAIGN#C1", "CAMPAIGN"}},
		{"campaign stats", k(campaignStatsKey("s1", "C1", 3)), kv{"STORE#s1#CAMPAIGN#C1", "CAMPAIGN#STATS#3"}},
		{"store campaigns", k(storeCampaignsKey("s1", "2026-11-23T08:00:00Z", "C1")), kv{"STORE#s1#CAMPAIGNS", "2026-11-23T08:00:00Z#C1"}},
		{"offer chunk", k(offerChunkKey("abcdefghij")), kv{"OFFER#abcdefghij", "OFFER"}},
		{"paid quota", k(paidQuotaKey("s1", "2026-11-23")), kv{"STORE#s1#QUOTA", "DAY#2026-11-23"}},
		{"staff", k(staffKey("s1", "u1")), kv{"STORE#s1", "STAFF#u1"}},
		{"group", k(groupKey("s1", "01JDQ7Z6W3V8G0X5Y4K2M9N1PA")), kv{"STORE#s1", "GROUP#01JDQ7Z6W3V8G0X5Y4K2M9N1PA"}},
		{"doctor", k(doctorKey("s1", "D1")), kv{"STORE#s1", "DOCTOR#D1"}},
		{"idempotency", k(idempotencyKey("s1", "group", "k-1")), kv{"STORE#s1", "IDEM#group#k-1"}},
		{"member", k(memberKey("s1", "M1")), kv{"STORE#s1#MEMBER#M1", "PROFILE"}},
		{"membership", k(membershipKey("s1", "M1", "G1")), kv{"STORE#s1#MEMBER#M1", "GROUP#G1"}},
		{"group members", k(groupMembersKey("s1", "G1", "active", "2026-11-23T08:00:00Z", "M1")),
			kv{"STORE#s1#GROUP#G1#MEMBERS", "active#2026-11-23T08:00:00Z#M1"}},
		{"consent", k(consentKey("s1", "M1", "2026-11-23T08:00:00Z", "health")), kv{"STORE#s1#MEMBER#M1#CONSENTS", "2026-11-23T08:00:00Z#health"}},
		{"phone", k(phoneKey("s1", "ab12")), kv{"STORE#s1#PHONE#ab12", "MEMBER"}},
		{"otp rate", k(otpRateKey("s1", "ab12", "2026112308")), kv{"STORE#s1#PHONE#ab12", "OTPRATE#2026112308"}},
		{"otp client rate", k(otpClientRateKey("cd34", "2026112308")), kv{"CLIENT#cd34", "OTPRATE#2026112308"}},
		{"otp", k(otpKey("M1")), kv{"OTP#M1", "OTP"}},
		{"session", k(sessionKey("ff00")), kv{"SESSION#ff00", "SESSION"}},
		{"group totals", k(groupTotalsKey("s1", "G1")), kv{"STORE#s1#GROUP#G1#STATS", "TOTAL"}},
		{"group day", k(groupDayKey("s1", "G1", "2026-11-23")), kv{"STORE#s1#GROUP#G1#STATS", "DAY#2026-11-23"}},
		{"group referrer", k(groupReferrerKey("s1", "G1", "M1")), kv{"STORE#s1#GROUP#G1#STATS", "REFERRER#M1"}},
		{"family token", k(familyTokenKey("ab")), kv{"FAMILY#ab", "FAMILY"}},
		{"reminder", k(reminderKey("s1", "R1")), kv{"STORE#s1#REMINDER#R1", "REMINDER"}},
		{"ack", k(ackKey("s1", "R1", "20261123T0000Z")), kv{"STORE#s1#REMINDER#R1", "OCC#20261123T0000Z"}},
		{"delivery", k(deliveryKey("s1", "R1", "20261123T0000Z", "A0")), kv{"STORE#s1#REMINDER#R1", "OCC#20261123T0000Z#A0"}},
		{"member reminders", k(memberRemindersKey("s1", "M1", "2026-11-23T08:00:00Z", "R1")), kv{"STORE#s1#MEMBER#M1#REMINDERS", "2026-11-23T08:00:00Z#R1"}},
		{"broadcast", k(broadcastKey("s1", "B1")), kv{"STORE#s1#BROADCAST#B1", "BROADCAST"}},
		{"broadcast deliveries", k(broadcastDeliveriesKey("s1", "B1", "sent", "M1")), kv{"STORE#s1#BROADCAST#B1", "sent#M1"}},
		{"due", kv{duePK("2026-11-23T00:00", 7), ""}, kv{"DUE#2026-11-23T00:00#7", ""}},
		{"dispatch watermark", k(dispatchWatermarkKey()), kv{"DISPATCHER", "WATERMARK"}},
		{"shared PII data key", k(piiDataKeyKey()), kv{"PII", "DATAKEY"}},
		{"reminder link", k(reminderLinkKey("ab")), kv{"RLINK#ab", "RLINK"}},
		{"staff alert", k(staffAlertKey("s1", "20261123T0000Z", "R1", "20261123T0000Z")), kv{"STORE#s1#ALERTS", "20261123T0000Z#R1#20261123T0000Z"}},
		{"robot minute", k(robotMinuteKey("s1", "ab", "202611230800")), kv{"STORE#s1#ROBOT#ab", "MINUTE#202611230800"}},
		{"member link", k(memberLinkKey("s1", "M1", "L1")), kv{"STORE#s1#MEMBER#M1", "LINK#L1"}},
		{"guesses", k(guessKey("family", "ab12", "202611230800")), kv{"GUESS#family#ab12", "202611230800"}},
		{"group active", k(groupActiveKey("s1", "G1", "M1")), kv{"STORE#s1#GROUP#G1#STATS", "ACTIVE#M1"}},
		{"code", k(codeKey("ABCD2345")), kv{"CODE#ABCD2345", "CODE"}},
		{"group invites", k(groupInvitesKey("s1", "G1", "2026-11-23T08:00:00Z", "ABCD2345")),
			kv{"STORE#s1#GROUP#G1#INVITES", "INVITE#2026-11-23T08:00:00Z#ABCD2345"}},
		{"outbox message", k(outboxKey("s1", "2026-11-23T08:00:00.120000000Z", "rem-R1#2026-11-23T08:00#0")),
			kv{"STORE#s1#OUTBOX", "MSG#2026-11-23T08:00:00.120000000Z#rem-R1#2026-11-23T08:00#0"}},
		{"outbox message id", k(outboxIDKey("s1", "rem-R1#2026-11-23T08:00#0")),
			kv{"STORE#s1#OUTBOX", "MSGID#rem-R1#2026-11-23T08:00#0"}},
		{"qa session", k(qaSessionKey("s1", "X1")), kv{"STORE#s1#SESSION#X1", "SESSION"}},
		{"store sessions", k(storeSessionsKey("s1", "2026-11-25T01:30Z", "X1")), kv{"STORE#s1#SESSIONS", "2026-11-25T01:30Z#X1"}},
		{"booking", k(bookingKey("s1", "X1", "M1")), kv{"STORE#s1#SESSION#X1", "BOOKING#M1"}},
		{"waitlist place", k(waitKey("s1", "X1", 42)), kv{"STORE#s1#SESSION#X1", "WAIT#0000000042"}},
		{"member booking", k(memberBookingKey("s1", "M1", "2026-11-25T01:30Z", "X1")), kv{"STORE#s1#MEMBER#M1", "SESSION#2026-11-25T01:30Z#X1"}},
		{"booking link", k(bookingLinkKey("ab")), kv{"BLINK#ab", "BLINK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTenantKeysStartWithStore(t *testing.T) {
	pks := []string{}
	for _, f := range []func() (string, string){
		func() (string, string) { return storeKey("s") },
		func() (string, string) { return staffKey("s", "x") },
		func() (string, string) { return groupKey("s", "x") },
		func() (string, string) { return doctorKey("s", "x") },
		func() (string, string) { return idempotencyKey("s", "x", "k") },
		func() (string, string) { return memberKey("s", "m") },
		func() (string, string) { return membershipKey("s", "m", "g") },
		func() (string, string) { return groupMembersKey("s", "g", "active", "t", "m") },
		func() (string, string) { return consentKey("s", "m", "t", "k") },
		func() (string, string) { return phoneKey("s", "h") },
		func() (string, string) { return otpRateKey("s", "h", "2026112308") },
		func() (string, string) { return groupInvitesKey("s", "g", "t", "c") },
		func() (string, string) { return outboxKey("s", "t", "m") },
		func() (string, string) { return outboxIDKey("s", "m") },
		func() (string, string) { return qaSessionKey("s", "x") },
		func() (string, string) { return storeSessionsKey("s", "t", "x") },
		func() (string, string) { return bookingKey("s", "x", "m") },
		func() (string, string) { return waitKey("s", "x", 1) },
		func() (string, string) { return memberBookingKey("s", "m", "t", "x") },
	} {
		pk, _ := f()
		pks = append(pks, pk)
	}
	for _, pk := range pks {
		if pk != "STORE#s" && !strings.HasPrefix(pk, "STORE#s#") {
			t.Errorf("tenant key %q does not start with STORE#<store>", pk)
		}
	}
}

// One Query from SK "SESSION" must read the session and then the head of its waitlist, and a
// member's booking copies must sort after their profile, so the member-page Query meets groups
// and links first: both rest on how these prefixes sort.
func TestQAKeyOrder(t *testing.T) {
	_, booking := bookingKey("s", "x", "zzzz")
	_, session := qaSessionKey("s", "x")
	_, wait := waitKey("s", "x", 0)
	if !(booking < session && session < wait) {
		t.Errorf("session partition order: %q < %q < %q does not hold", booking, session, wait)
	}
	_, mine := memberBookingKey("s", "m", "2000-01-01T00:00Z", "x")
	for _, f := range []func() (string, string){
		func() (string, string) { return memberKey("s", "m") },
		func() (string, string) { return membershipKey("s", "m", "zzzz") },
		func() (string, string) { return memberLinkKey("s", "m", "zzzz") },
	} {
		if _, sk := f(); sk >= mine {
			t.Errorf("member partition: %q sorts after the booking copy %q", sk, mine)
		}
	}
}

// The shard of an id is part of the persistent contract: a changed hash would strand every
// reminder waiting in the Due index.
func TestDueShard(t *testing.T) {
	for id, want := range map[string]int{"rm001": 1, "": 1, "01JDQ7Z6W3V8G0X5Y4K2M9N1PA": 2} {
		if got := dueShard(id); got != want {
			t.Errorf("dueShard(%q) = %d, want %d", id, got, want)
		}
	}
}

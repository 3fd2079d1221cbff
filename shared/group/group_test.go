package group

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		draft   Draft
		want    Group
		wantErr error
	}{
		{"defaults", Draft{Name: " 邻里健康群 "}, Group{Name: "邻里健康群", EntryRule: RuleOpen, PushCap: 2}, nil},
		{"all fields", Draft{Name: "太极拳", Covenant: "互相尊重\n不发广告", EntryRule: RuleApproval, PushCap: ptr(0)},
			Group{Name: "太极拳", Covenant: "互相尊重\n不发广告", EntryRule: RuleApproval, PushCap: 0}, nil},
		{"40 runes is fine", Draft{Name: strings.Repeat("群", 40)}, Group{Name: strings.Repeat("群", 40), EntryRule: RuleOpen, PushCap: 2}, nil},
		{"emoji is fine", Draft{Name: "晨练🌞"}, Group{Name: "晨练🌞", EntryRule: RuleOpen, PushCap: 2}, nil},
		{"blank name", Draft{Name: "   "}, Group{}, ErrNameRequired},
		{"41 runes", Draft{Name: strings.Repeat("群", 41)}, Group{}, ErrNameTooLong},
		{"control char", Draft{Name: "a\x00b"}, Group{}, ErrInvalidText},
		{"newline in name", Draft{Name: "a\nb"}, Group{}, ErrInvalidText},
		{"bad utf8", Draft{Name: "a\xffb"}, Group{}, ErrInvalidText},
		{"long covenant", Draft{Name: "x", Covenant: strings.Repeat("约", 2001)}, Group{}, ErrCovenantTooLong},
		{"bad rule", Draft{Name: "x", EntryRule: "secret"}, Group{}, ErrInvalidEntryRule},
		{"negative cap", Draft{Name: "x", PushCap: ptr(-1)}, Group{}, ErrInvalidPushCap},
		{"cap too high", Draft{Name: "x", PushCap: ptr(22)}, Group{}, ErrInvalidPushCap},
		{"robot webhook", Draft{Name: "x", RobotKey: " " + webhook + robotKey + " "},
			Group{Name: "x", EntryRule: RuleOpen, PushCap: 2, RobotKey: robotKey}, nil},
		{"bad robot", Draft{Name: "x", RobotKey: "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey}, Group{}, ErrInvalidRobotKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.draft, 2)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("New() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPatchValidate(t *testing.T) {
	tests := []struct {
		name    string
		patch   Patch
		want    Patch
		wantErr error
	}{
		{"empty", Patch{}, Patch{}, ErrEmptyUpdate},
		{"trims name", Patch{Name: ptr(" 新名字 ")}, Patch{Name: ptr("新名字")}, nil},
		{"blank name", Patch{Name: ptr("")}, Patch{Name: ptr("")}, ErrNameRequired},
		{"clear covenant", Patch{Covenant: ptr("")}, Patch{Covenant: ptr("")}, nil},
		{"rule", Patch{EntryRule: ptr(RuleInvite)}, Patch{EntryRule: ptr(RuleInvite)}, nil},
		{"bad rule", Patch{EntryRule: ptr(EntryRule("x"))}, Patch{EntryRule: ptr(EntryRule("x"))}, ErrInvalidEntryRule},
		{"cap", Patch{PushCap: ptr(21)}, Patch{PushCap: ptr(21)}, nil},
		{"bad cap", Patch{PushCap: ptr(100)}, Patch{PushCap: ptr(100)}, ErrInvalidPushCap},
		{"robot webhook", Patch{RobotKey: ptr(webhook + robotKey)}, Patch{RobotKey: ptr(robotKey)}, nil},
		{"remove robot", Patch{RobotKey: ptr("")}, Patch{RobotKey: ptr("")}, nil},
		{"bad robot", Patch{RobotKey: ptr("  ")}, Patch{RobotKey: ptr("  ")}, ErrInvalidRobotKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.patch.Validate()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}

const (
	robotKey = "693a91f6-7xxx-4c7b-a1c3-2b1fe4c2cafe"
	webhook  = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
)

func TestParseRobotKey(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" for ErrInvalidRobotKey
	}{
		{"bare key", robotKey, robotKey},
		{"bare key with spaces around", "\t" + robotKey + " \n", robotKey},
		{"shortest key", "abcd1234", "abcd1234"},
		{"longest key", strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{"webhook URL", webhook + robotKey, robotKey},
		{"webhook URL with spaces around", "  " + webhook + robotKey + "\n", robotKey},
		{"webhook URL with another parameter", webhook + robotKey + "&debug=1", robotKey},
		{"key parameter second", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?debug=1&key=" + robotKey, robotKey},
		{"host in capitals", "https://QYAPI.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey, robotKey},

		{"empty", "", ""},
		{"blank", "   ", ""},
		{"key too short", "abcd123", ""},
		{"key too long", strings.Repeat("a", 65), ""},
		{"key with a space", "693a91f6 7xxx-4c7b-a1c3-2b1fe4c2cafe", ""},
		{"key with an underscore", "693a91f6_7xxx", ""},
		{"key with Chinese", "机器人机器人机器人", ""},
		{"http", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey, ""},
		{"other host", "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=" + robotKey, ""},
		{"look-alike host", "https://qyapi.weixin.qq.co/cgi-bin/webhook/send?key=" + robotKey, ""},
		{"port", "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=" + robotKey, ""},
		{"user info", "https://me@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey, ""},
		{"other path", "https://qyapi.weixin.qq.com/cgi-bin/message/send?key=" + robotKey, ""},
		{"trailing slash", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send/?key=" + robotKey, ""},
		{"no key", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", ""},
		{"empty key", webhook, ""},
		{"two keys", webhook + robotKey + "&key=abcd1234", ""},
		{"key with an encoded space", webhook + "693a91f6%207xxx-4c7b", ""},
		{"key with a space in the URL", webhook + "693a91f6 7xxx-4c7b", ""},
		{"fragment", webhook + robotKey + "#top", ""},
		{"no scheme", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey, ""},
		{"text around", "机器人地址：" + webhook + robotKey, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRobotKey(tt.in)
			var wantErr error
			if tt.want == "" {
				wantErr = ErrInvalidRobotKey
			}
			if !errors.Is(err, wantErr) {
				t.Fatalf("ParseRobotKey(%q) error = %v, want %v", tt.in, err, wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseRobotKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewInvite(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 123, time.UTC)
	g := Group{ID: "G1", StoreID: "S1"}
	tests := []struct {
		name    string
		draft   InviteDraft
		want    Invite
		wantErr error
	}{
		{"defaults", InviteDraft{}, Invite{StoreID: "S1", GroupID: "G1", CreatedBy: "staff1", MaxUses: 1,
			CreatedAt: now.Truncate(time.Second), ExpiresAt: now.Truncate(time.Second).AddDate(0, 0, 14)}, nil},
		{"chosen", InviteDraft{TTLDays: ptr(90), MaxUses: ptr(1000)}, Invite{StoreID: "S1", GroupID: "G1", CreatedBy: "staff1", MaxUses: 1000,
			CreatedAt: now.Truncate(time.Second), ExpiresAt: now.Truncate(time.Second).AddDate(0, 0, 90)}, nil},
		{"ttl 0", InviteDraft{TTLDays: ptr(0)}, Invite{}, ErrInvalidInviteTTL},
		{"ttl 91", InviteDraft{TTLDays: ptr(91)}, Invite{}, ErrInvalidInviteTTL},
		{"uses 0", InviteDraft{MaxUses: ptr(0)}, Invite{}, ErrInvalidInviteUses},
		{"uses 1001", InviteDraft{MaxUses: ptr(1001)}, Invite{}, ErrInvalidInviteUses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewInvite(g, "staff1", tt.draft, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewInvite() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NewInvite() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCodeUsable(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		code Code
		want error
	}{
		{"group code", Code{Kind: CodeGroup}, nil},
		{"invite in time", Code{Kind: CodeInvite, MaxUses: 2, Uses: 1, ValidUntil: now.Add(time.Second)}, nil},
		{"invite at its end", Code{Kind: CodeInvite, MaxUses: 2, ValidUntil: now}, ErrCodeExpired},
		{"invite used up", Code{Kind: CodeInvite, MaxUses: 2, Uses: 2, ValidUntil: now.Add(time.Hour)}, ErrCodeUsedUp},
	}
	for _, tt := range tests {
		if got := tt.code.Usable(now); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("%s: Usable() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type member struct {
	ID      string   `json:"id"`
	Phone   string   `json:"phone"`
	Name    string   `json:"name"`
	Notes   []string `json:"notes"`
	Balance int64    `json:"balance"`
}

// senior logs itself as a group, as a domain type might.
type senior struct{ id, phone string }

func (s senior) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", s.id), slog.String("phone", s.phone))
}

// phoneDigits catches any phone used in the tests, whatever its grouping,
// unless it is part of a longer number.
var phoneDigits = regexp.MustCompile(`(?:^|\D)(?:138\D?0013\D?8000|139\D?0013\D?9000|415\D?555\D?2671|7946\D?0958|6552\D?9988|8888\D?8888)(?:\D|$)`)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want map[string]any // the line without "time"
	}{
		{
			name: "message",
			log:  func(l *slog.Logger) { l.Info("sms to 138 0013 8000 failed at 2026-11-23T08:00:00Z") },
			want: map[string]any{"level": "INFO", "msg": "sms to [phone] failed at 2026-11-23T08:00:00Z"},
		},
		{
			name: "sensitive keys",
			log: func(l *slog.Logger) {
				l.Warn("signup",
					"phone", "13800138000", "Mobile", "+8613900139000", "otp", "123456", "Code", 123456,
					"access_token", "abc", "refreshToken", "def", "memberPhone", 13800138000,
					"Authorization", "Bearer xyz", "cookie", "sid=1", "password", "p", "client_secret", "s",
					"x-api-key", "k", "status_code", 200, "code_sent", true, "store", "S1")
			},
			want: map[string]any{
				"level": "WARN", "msg": "signup",
				"phone": Redacted, "Mobile": Redacted, "otp": Redacted, "Code": Redacted,
				"access_token": Redacted, "refreshToken": Redacted, "memberPhone": Redacted,
				"Authorization": Redacted, "cookie": Redacted, "password": Redacted, "client_secret": Redacted,
				"x-api-key": Redacted, "status_code": 200.0, "code_sent": true, "store": "S1",
			},
		},
		{
			name: "phones in ordinary values",
			log: func(l *slog.Logger) {
				l.Info("deliver",
					"to", "+86 138-0013-8000", "note", "家属电话13900139000，请回电",
					"intl", "+1 415 555 2671", "uk", "+44 20 7946 0958", "landline", "010-6552 9988",
					"as_int", int64(13800138000), "as_uint", uint64(13900139000))
			},
			want: map[string]any{
				"level": "INFO", "msg": "deliver",
				"to": "[phone]", "note": "家属电话[phone]，请回电", "intl": "[phone]", "uk": "[phone]",
				"landline": "[phone]", "as_int": "[phone]", "as_uint": "[phone]",
			},
		},
		{
			name: "ordinary values kept",
			log: func(l *slog.Logger) {
				l.Info("tick",
					"at", "2026-11-23T08:00:00+08:00", "bucket", "DUE#2026-11-23T08:00#7",
					"member", "01JDQ4K8Z5M0N3P2R6S7T9V1W2", "reminder", "01ARZ38001380004RRFFQ69G5F",
					"ms", int64(1763884800000), "took", 1500*time.Millisecond, "count", 12,
					"order", "138001380001", "pin", "123456", "ip", "10.0.138.1",
					"uuid", "123e4567-e89b-12d3-a456-426614174000", "version", "v1.55.1", "ratio", 0.5)
			},
			want: map[string]any{
				"level": "INFO", "msg": "tick",
				"at": "2026-11-23T08:00:00+08:00", "bucket": "DUE#2026-11-23T08:00#7",
				"member": "01JDQ4K8Z5M0N3P2R6S7T9V1W2", "reminder": "01ARZ38001380004RRFFQ69G5F",
				"ms": 1763884800000.0, "took": 1.5e9, "count": 12.0,
				"order": "138001380001", "pin": "123456", "ip": "10.0.138.1",
				"uuid": "123e4567-e89b-12d3-a456-426614174000", "version": "v1.55.1", "ratio": 0.5,
			},
		},
		{
			name: "errors",
			log: func(l *slog.Logger) {
				err := fmt.Errorf("call 0086 138 0013 8000: %w", errors.New("busy"))
				l.Error("voice call failed", "error", err, "session_token", err)
			},
			want: map[string]any{"level": "ERROR", "msg": "voice call failed", "error": "call [phone]: busy", "session_token": Redacted},
		},
		{
			name: "groups",
			log: func(l *slog.Logger) {
				l.Info("joined", slog.Group("member",
					slog.String("id", "M1"), slog.String("phone", "13800138000"),
					slog.Group("family", slog.String("note", "call 139 0013 9000"), slog.Int("links", 2))),
					slog.Group("otp", slog.String("value", "123456"), slog.Int("ttl", 300)))
			},
			want: map[string]any{
				"level": "INFO", "msg": "joined",
				"member": map[string]any{"id": "M1", "phone": Redacted,
					"family": map[string]any{"note": "call [phone]", "links": 2.0}},
				"otp": map[string]any{"value": Redacted, "ttl": Redacted},
			},
		},
		{
			name: "With and WithGroup",
			log: func(l *slog.Logger) {
				l.With("token", "abc", "from", "+8613800138000").
					WithGroup("req").With("path", "/f/xyz", "caller", "13900139000").
					Info("hit", "mobile", "13800138000", "status", 200)
			},
			want: map[string]any{
				"level": "INFO", "msg": "hit", "token": Redacted, "from": "[phone]",
				"req": map[string]any{"path": "/f/xyz", "caller": "[phone]", "mobile": Redacted, "status": 200.0},
			},
		},
		{
			name: "sensitive WithGroup",
			log:  func(l *slog.Logger) { l.WithGroup("cookie").Info("set", "sid", "abc") },
			want: map[string]any{"level": "INFO", "msg": "set", "cookie": map[string]any{"sid": Redacted}},
		},
		{
			name: "LogValuer",
			log:  func(l *slog.Logger) { l.Info("created", "senior", senior{"S1", "13800138000"}) },
			want: map[string]any{"level": "INFO", "msg": "created", "senior": map[string]any{"id": "S1", "phone": Redacted}},
		},
		{
			name: "structs, maps and slices",
			log: func(l *slog.Logger) {
				l.Info("payload",
					"member", member{ID: "M1", Phone: "13800138000", Name: "王", Notes: []string{"alt 139-0013-9000"}, Balance: 9007199254740993},
					"headers", map[string][]string{"Authorization": {"Bearer x"}, "X-Trace": {"t1"}},
					"results", map[string]string{"13800138000": "ok"},
					"recipients", []string{"+14155552671", "S1"})
			},
			want: map[string]any{
				"level": "INFO", "msg": "payload",
				"member":     map[string]any{"id": "M1", "phone": Redacted, "name": "王", "notes": []any{"alt [phone]"}, "balance": json.Number("9007199254740993")},
				"headers":    map[string]any{"Authorization": Redacted, "X-Trace": []any{"t1"}},
				"results":    map[string]any{"[phone]": "ok"},
				"recipients": []any{"[phone]", "S1"},
			},
		},
		{
			name: "below level",
			log:  func(l *slog.Logger) { l.Debug("hidden 13800138000") },
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(New(&buf, slog.LevelInfo))
			out := buf.String()
			if m := phoneDigits.FindString(out); m != "" {
				t.Errorf("output leaks phone %q:\n%s", m, out)
			}
			var got map[string]any
			if out != "" {
				if strings.Count(out, "\n") != 1 {
					t.Fatalf("want one line, got:\n%s", out)
				}
				d := json.NewDecoder(strings.NewReader(out))
				if tt.name == "structs, maps and slices" {
					d.UseNumber() // the balance is beyond float64 precision
				}
				if err := d.Decode(&got); err != nil {
					t.Fatalf("output is not JSON: %v\n%s", err, out)
				}
				if _, ok := got["time"]; !ok {
					t.Errorf("no time in %s", out)
				}
				delete(got, "time")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("line mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaskPhones(t *testing.T) {
	tests := []struct{ in, want string }{
		// Mainland mobiles in every common form.
		{"13800138000", "[phone]"},
		{"138 0013 8000", "[phone]"},
		{"138-0013-8000", "[phone]"},
		{"+86 13800138000", "[phone]"},
		{"+8613800138000", "[phone]"},
		{"+86-138-0013-8000", "[phone]"},
		{"0086 13800138000", "[phone]"},
		{"008613800138000", "[phone]"},
		{"8613800138000", "[phone]"},
		{"(+86) 138 0013 8000", "(+86) [phone]"},
		{"tel:13800138000;", "tel:[phone];"},
		{"a 19912345678, b 13900139000.", "a [phone], b [phone]."},
		{"电话13800138000", "电话[phone]"},
		// Landlines and international numbers.
		{"0571-88888888", "[phone]"},
		{"(010) 6552 9988", "[phone]"},
		{"(0571)88888888", "[phone]"},
		{"010 6552 9988", "[phone]"},
		{"+14155552671", "[phone]"},
		{"+1 415 555 2671", "[phone]"},
		{"+44 20 7946 0958", "[phone]"},
		{"+852 9123 4567", "[phone]"},
		// Not phones.
		{"", ""},
		{"2026-11-23T08:00:00Z", "2026-11-23T08:00:00Z"},
		{"2026-11-23T08:00:00.123456789+08:00", "2026-11-23T08:00:00.123456789+08:00"},
		{"1763884800000", "1763884800000"},
		{"1763884800", "1763884800"},
		{"01JDQ4K8Z5M0N3P2R6S7T9V1W2", "01JDQ4K8Z5M0N3P2R6S7T9V1W2"},
		{"A13800138000B", "A13800138000B"},
		{"138001380001", "138001380001"},
		{"1380013800", "1380013800"},
		{"+1234567", "+1234567"},
		{"+1234567890123456", "+1234567890123456"},
		{"12,345,678", "12,345,678"},
		{"took 1.2345678s", "took 1.2345678s"},
		{"123456", "123456"},
		{"10.138.0.1", "10.138.0.1"},
		{"123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"},
	}
	for _, tt := range tests {
		if got := maskPhones(tt.in); got != tt.want {
			t.Errorf("maskPhones(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSensitiveKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"phone", true}, {"PHONE", true}, {"Mobile", true}, {"otp", true}, {"code", true},
		{"token", true}, {"Password", true}, {"secret", true}, {"authorization", true}, {"Cookie", true},
		{"access_token", true}, {"idToken", true}, {"memberPhone", true}, {"family_phone", true},
		{"phone_number", true}, {"phoneNumber", true}, {"sms_code", true}, {"otp_code", true},
		{"set-cookie", true}, {"x-api-key", true}, {"db.password", true},
		{"status_code", false}, {"error_code", false}, {"codes", false}, {"store", false},
		{"token_count", false}, {"phones_sent", false}, {"msg", false}, {"id", false}, {"", false},
	}
	for _, tt := range tests {
		if got := sensitiveKey(tt.key); got != tt.want {
			t.Errorf("sensitiveKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
	}{
		{"debug", slog.LevelDebug}, {"DEBUG", slog.LevelDebug}, {" info ", slog.LevelInfo},
		{"warn", slog.LevelWarn}, {"Warning", slog.LevelWarn}, {"error", slog.LevelError},
		{"", slog.LevelInfo}, {"verbose", slog.LevelInfo},
	}
	for _, tt := range tests {
		if got := Level(tt.in); got != tt.want {
			t.Errorf("Level(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

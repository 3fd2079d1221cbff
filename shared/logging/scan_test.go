package logging

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestScanLine(t *testing.T) {
	tests := []struct {
		name, line string
		want       []string // kinds
	}{
		{"mobile", `{"msg":"sms to 13800138000 failed"}`, []string{"phone"}},
		{"mobile grouped", `{"to":"+86 138-0013-8000"}`, []string{"phone"}},
		{"e164 abroad", `{"to":"+447700900123"}`, []string{"phone"}},
		{"otp key", `{"msg":"sent","otp":"042917"}`, []string{"otp"}},
		{"otp in text", `{"text":"【银龄·幸福里】您的验证码是 042917，10 分钟内有效。"}`, []string{"otp"}},
		{"otp in english text", `{"text":"Your code is 042917."}`, []string{"otp"}},
		{"family path", `{"path":"/f/fuX76CwjEpESeLV-mLFaEcAkZGK1c7HcmaE0qbetuH0"}`, []string{"token"}},
		{"reminder path", `{"url":"http://127.0.0.1:3000/r/hA0NBYa148GyNxAH6gVr33"}`, []string{"token"}},
		{"api family path", `{"route":"/api/family/hA0NBYa148GyNxAH6gVr33x/reminders"}`, []string{"token"}},
		{"bearer", `{"msg":"Authorization: Bearer abcdefghijklmnop1234"}`, []string{"token"}},
		{"cookie", `{"msg":"cookie yl_session=TTKXT3KRgeQ44WTxZMnEt6fo"}`, []string{"token"}},
		{"bare token", `{"msg":"link TTKXT3KRgeQ-44W_TxZMnEt6fowHrqFhrO4w48BTUSM made"}`, []string{"token"}},
		{"jwt", `{"msg":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdGFmZiJ9.c2lnbmF0dXJlc2lnbmF0dXJl"}`, []string{"token"}},

		{"masked", `{"msg":"sms to [phone] failed","phone":"[redacted]","otp":"[redacted]","token":"[redacted]"}`, nil},
		{"sha256 hex", `{"hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}`, nil},
		{"ulids and times", `{"member":"01M846CXXJJPJD193T6SCJ36GV","ms":1795437315372,"at":"2026-11-23T12:34:22Z","bucket":"DUE#2026-11-23T08:00#7"}`, nil},
		{"masked phone", `{"phone":"+86 138****8000"}`, nil},
		{"status code", `{"status_code":200,"code":"not_found","count":123456}`, nil},
		{"long word", `{"msg":"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"}`, nil},
		{"join code path", `{"path":"/join/HEVCSCMA"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range ScanLine(tt.line) {
				got = append(got, f.Kind)
				if strings.Contains(tt.line, f.Match) && len(f.Match) > 4 {
					t.Errorf("finding prints the secret: %q", f.Match)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ScanLine(%s) = %v, want %v", tt.line, got, tt.want)
			}
		})
	}
}

// What the logger itself prints of secrets is clean to the scanner, and what it cannot know is a
// secret (a code in free text) is caught.
func TestScanSeesThroughTheLogger(t *testing.T) {
	captureTo(t, "") // the leaking line below must not reach the suite's capture
	var buf bytes.Buffer
	l := New(&buf, slog.LevelInfo)
	l.Info("signup", "phone", "13800138000", "otp", "042917", "token", "TTKXT3KRgeQ-44W_TxZMnEt6fowHrqFhrO4w48BTUSM", "to", "+86 139 0013 9000")
	clean, n, err := Scan(bytes.NewReader(buf.Bytes()))
	if err != nil || n != 1 || len(clean) != 0 {
		t.Fatalf("Scan of a redacted line: %v, %d lines, %v\n%s", clean, n, err, buf.Bytes())
	}
	buf.Reset()
	l.Info("sms text 您的验证码是 042917", "path", "/f/TTKXT3KRgeQ-44W_TxZMnEt6fowHrqFhrO4w48BTUSM")
	found, _, _ := Scan(bytes.NewReader(buf.Bytes()))
	if len(found) < 2 {
		t.Errorf("Scan of a leaking line found %v\n%s", found, buf.Bytes())
	}
}

func TestCapture(t *testing.T) {
	dir := t.TempDir()
	captureTo(t, dir)
	var own bytes.Buffer
	New(&own, slog.LevelInfo).Info("one", "n", 1)
	New(&own, slog.LevelInfo).Info("two", "phone", "13800138000")
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(files) != 1 {
		t.Fatalf("capture files %v, %v; want one for this process", files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != own.String() || strings.Count(string(b), "\n") != 2 {
		t.Errorf("captured:\n%s\nwant what the logger wrote:\n%s", b, own.String())
	}
}

// captureTo points this process's capture at dir ("" for none) until the test ends, then puts
// back the capture the suite may have set up (make test runs this package with CaptureVar set).
func captureTo(t *testing.T, dir string) {
	t.Helper()
	saved := capture
	t.Cleanup(func() { capture = saved })
	t.Setenv(CaptureVar, dir)
	capture.once, capture.w = new(sync.Once), nil
}

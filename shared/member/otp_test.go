package member

import (
	"errors"
	"strings"
	"testing"
	"time"

	"yinling/shared/fail"
)

var otpKey = []byte("test key, never used outside tests")

func TestNewOTP(t *testing.T) {
	const n = 20000
	var firstDigit [10]int
	seen := map[string]bool{}
	for range n {
		c := NewOTP()
		if _, ok := NormalizeOTP(c); !ok || len(c) != OTPLen {
			t.Fatalf("NewOTP() = %q", c)
		}
		firstDigit[c[0]-'0']++
		seen[c] = true
	}
	// Each leading digit, zero included, should come up about n/10 times.
	for d, k := range firstDigit {
		if k < n/10*7/10 || k > n/10*13/10 {
			t.Errorf("leading digit %d came %d times in %d codes", d, k, n)
		}
	}
	if len(seen) < n*98/100 {
		t.Errorf("only %d distinct codes in %d", len(seen), n)
	}
}

func TestHashOTP(t *testing.T) {
	h := HashOTP("012345", "M1", otpKey)
	if len(h) != 64 || strings.Contains(h, "012345") {
		t.Errorf("HashOTP() = %q", h)
	}
	for _, other := range []string{HashOTP("012346", "M1", otpKey), HashOTP("012345", "M2", otpKey), HashOTP("012345", "M1", []byte("other"))} {
		if other == h {
			t.Errorf("HashOTP does not depend on code, member and key")
		}
	}
	if HashOTP("012345", "M1", otpKey) != h {
		t.Errorf("HashOTP is not deterministic")
	}
}

func TestCheckOTP(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	fresh := NewOTPState("012345", "M1", otpKey, now)
	if !fresh.ExpiresAt.Equal(now.Add(10*time.Minute)) || fresh.MemberID != "M1" || fresh.Attempts != 0 || fresh.Used {
		t.Fatalf("NewOTPState() = %+v", fresh)
	}
	with := func(f func(*OTPState)) OTPState { s := fresh; f(&s); return s }
	tests := []struct {
		name    string
		state   OTPState
		code    string
		at      time.Time
		wantErr error
	}{
		{"right", fresh, "012345", now, nil},
		{"right, spaced and padded", fresh, " 012 345 ", now, nil},
		{"right, full-width", fresh, "０１２３４５", now, nil},
		{"right, last moment", fresh, "012345", now.Add(10*time.Minute - time.Nanosecond), nil},
		{"right after four wrong", with(func(s *OTPState) { s.Attempts = 4 }), "012345", now, nil},
		{"wrong", fresh, "012346", now, ErrOTPWrong},
		{"leading zero dropped", fresh, "12345", now, ErrInvalidOTP},
		{"seven digits", fresh, "0123456", now, ErrInvalidOTP},
		{"letters", fresh, "01234a", now, ErrInvalidOTP},
		{"empty", fresh, "", now, ErrInvalidOTP},
		{"arabic-indic digits", fresh, "٠١٢٣٤٥", now, ErrInvalidOTP},
		{"expired", fresh, "012345", now.Add(10 * time.Minute), ErrOTPExpired},
		{"no code sent", OTPState{}, "012345", now, ErrOTPExpired},
		{"used", with(func(s *OTPState) { s.Used = true }), "012345", now, ErrOTPUsed},
		{"five wrong already", with(func(s *OTPState) { s.Attempts = 5 }), "012345", now, ErrOTPTooManyAttempts},
		{"another member's code", with(func(s *OTPState) { s.MemberID = "M2" }), "012345", now, ErrOTPWrong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckOTP(tt.state, tt.code, tt.at, otpKey); !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckOTP() = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if err := CheckOTP(fresh, "012345", now, []byte("wrong key")); !errors.Is(err, ErrOTPWrong) {
		t.Errorf("CheckOTP with another key = %v, want ErrOTPWrong", err)
	}
	if e, _ := fail.As(ErrOTPTooManyAttempts); e.Kind != fail.RateLimited {
		t.Errorf("ErrOTPTooManyAttempts is not RateLimited")
	}
	if e, _ := fail.As(ErrOTPWrong); e.Kind != fail.Invalid {
		t.Errorf("ErrOTPWrong is not Invalid")
	}
}

func TestOTPSendAllowed(t *testing.T) {
	for sent, want := range []error{nil, nil, nil, ErrOTPSendLimit, ErrOTPSendLimit} {
		if err := OTPSendAllowed(sent); !errors.Is(err, want) {
			t.Errorf("OTPSendAllowed(%d) = %v, want %v", sent, err, want)
		}
	}
}

func FuzzCheckOTP(f *testing.F) {
	for _, s := range []string{"012345", " 012 345 ", "０１２３４５", "12345", "0123456", "", "\xff", "١٢٣٤٥٦", "01234\u3000５"} {
		f.Add(s, 0, false)
	}
	f.Add("012345", 5, false)
	f.Add("012345", 0, true)
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	state := NewOTPState("012345", "M1", otpKey, now)
	f.Fuzz(func(t *testing.T, code string, attempts int, used bool) {
		s := state
		s.Attempts, s.Used = attempts, used
		err := CheckOTP(s, code, now, otpKey)
		norm, ok := NormalizeOTP(code)
		switch {
		case !ok:
			if !errors.Is(err, ErrInvalidOTP) {
				t.Fatalf("CheckOTP(%q) = %v for a malformed code", code, err)
			}
		case err == nil:
			if norm != "012345" || used || attempts >= OTPMaxAttempts {
				t.Fatalf("CheckOTP(%q) accepted with attempts=%d used=%v", code, attempts, used)
			}
		default:
			if _, isFail := fail.As(err); !isFail {
				t.Fatalf("CheckOTP(%q) = %v, not a caller error", code, err)
			}
		}
		if ok && (len(norm) != OTPLen || strings.Trim(norm, "0123456789") != "") {
			t.Fatalf("NormalizeOTP(%q) = %q", code, norm)
		}
	})
}

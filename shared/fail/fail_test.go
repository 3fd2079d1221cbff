package fail

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsMatchesKindAndCode(t *testing.T) {
	sentinel := &Error{Kind: Conflict, Code: "group_exists"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"same", sentinel, true},
		{"wrapped", fmt.Errorf("create group: %w", sentinel), true},
		{"with field", sentinel.OnField("name"), true},
		{"other code", &Error{Kind: Conflict, Code: "other"}, false},
		{"other kind", &Error{Kind: Invalid, Code: "group_exists"}, false},
		{"plain", errors.New("group_exists"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, sentinel); got != tt.want {
				t.Errorf("errors.Is = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOnFieldDoesNotChangeSentinel(t *testing.T) {
	sentinel := &Error{Kind: Invalid, Code: "too_long"}
	_ = sentinel.OnField("name")
	if sentinel.Field != "" {
		t.Fatalf("sentinel field changed to %q", sentinel.Field)
	}
}

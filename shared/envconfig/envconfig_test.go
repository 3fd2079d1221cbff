package envconfig

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type config struct {
	Table   string        `env:"TABLE_NAME"`
	BaseURL string        `env:"PUBLIC_BASE_URL,optional"`
	Retries int           `env:"MAX_RETRIES,optional"`
	Delay   time.Duration `env:"ACK_CHECK_DELAY_SECONDS,optional"`
	Tick    time.Duration `env:"TICK,optional"`
	Debug   bool          `env:"DEBUG,optional"`
	Ignored string
}

func lookup(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr string
	}{
		{"required only", map[string]string{"TABLE_NAME": "t"}, config{Table: "t"}, ""},
		{"all", map[string]string{"TABLE_NAME": "t", "PUBLIC_BASE_URL": "https://x", "MAX_RETRIES": "2",
			"ACK_CHECK_DELAY_SECONDS": "600", "TICK": "1m30s", "DEBUG": "true"},
			config{Table: "t", BaseURL: "https://x", Retries: 2, Delay: 10 * time.Minute, Tick: 90 * time.Second, Debug: true}, ""},
		{"missing", map[string]string{}, config{}, "TABLE_NAME is not set"},
		{"empty counts as missing", map[string]string{"TABLE_NAME": ""}, config{}, "TABLE_NAME is not set"},
		{"bad int", map[string]string{"TABLE_NAME": "t", "MAX_RETRIES": "two"}, config{Table: "t"}, `MAX_RETRIES: "two" is not a whole number`},
		{"bad seconds", map[string]string{"TABLE_NAME": "t", "ACK_CHECK_DELAY_SECONDS": "10m"}, config{Table: "t"}, `ACK_CHECK_DELAY_SECONDS: "10m" is not a whole number of seconds`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got config
			err := Load(lookup(tt.env), &got)
			if gotErr := errString(err); gotErr != tt.wantErr {
				t.Fatalf("Load() error = %q, want %q", gotErr, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNames(t *testing.T) {
	want := []string{"TABLE_NAME", "PUBLIC_BASE_URL", "MAX_RETRIES", "ACK_CHECK_DELAY_SECONDS", "TICK", "DEBUG"}
	if diff := cmp.Diff(want, Names(&config{})); diff != "" {
		t.Errorf("Names() (-want +got):\n%s", diff)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

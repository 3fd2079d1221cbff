package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/metrics"
)

var at = time.Date(2026, 11, 23, 8, 0, 0, 123e6, time.FixedZone("CST", 8*3600))

// aws returns the expected "_aws" member for one Count metric.
func aws(name string, dims ...string) map[string]any {
	d := []any{}
	for _, x := range dims {
		d = append(d, x)
	}
	return map[string]any{
		"Timestamp": float64(at.UnixMilli()),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  "Yinling",
			"Dimensions": []any{d},
			"Metrics":    []any{map[string]any{"Name": name, "Unit": "Count"}},
		}},
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		name     string
		function string
		metric   string
		n        float64
		props    []slog.Attr
		want     map[string]any
	}{
		{
			name: "signup", function: "yinling-signup", metric: metrics.Signups, n: 1,
			props: []slog.Attr{slog.String("store", "S1")},
			want:  map[string]any{"_aws": aws("Signups", "Function"), "Function": "yinling-signup", "Signups": 1.0, "store": "S1"},
		},
		{
			name: "deliveries with typed properties", function: "yinling-sender", metric: metrics.Deliveries, n: 100,
			props: []slog.Attr{
				slog.String("store", "S1"), slog.String("channel", "voice"), slog.Int("attempt", 2),
				slog.Bool("escalated", false), slog.Duration("latency", 1500*time.Millisecond),
				slog.Time("due", at), slog.Group("campaign", slog.String("id", "C1"), slog.Int("page", 3)),
				slog.Any("error", errors.New("provider busy")),
			},
			want: map[string]any{
				"_aws": aws("Deliveries", "Function"), "Function": "yinling-sender", "Deliveries": 100.0,
				"store": "S1", "channel": "voice", "attempt": 2.0, "escalated": false, "latency": "1.5s",
				"due": "2026-11-23T00:00:00.123Z", "campaign": map[string]any{"id": "C1", "page": 3.0},
				"error": "provider busy",
			},
		},
		{
			name: "fractional count, no properties", function: "yinling-qa", metric: metrics.Bookings, n: 0.5,
			want: map[string]any{"_aws": aws("Bookings", "Function"), "Function": "yinling-qa", "Bookings": 0.5},
		},
		{
			name: "no function: no dimensions", metric: metrics.PromotionSends, n: 250,
			want: map[string]any{"_aws": aws("PromotionSends"), "PromotionSends": 250.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := metrics.New(&buf, "Yinling", tt.function, func() time.Time { return at })
			if err := e.Count(context.Background(), tt.metric, tt.n, tt.props...); err != nil {
				t.Fatalf("Count: %v", err)
			}
			line := buf.String()
			if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
				t.Fatalf("want exactly one line, got %q", line)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, line)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("EMF line mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCountExactLine(t *testing.T) {
	var buf bytes.Buffer
	e := metrics.New(&buf, "Yinling", "yinling-signup", func() time.Time { return at })
	if err := e.Count(context.Background(), metrics.Signups, 1, slog.String("store", "S1")); err != nil {
		t.Fatal(err)
	}
	want := `{"_aws":{"Timestamp":1795392000123,"CloudWatchMetrics":[{"Namespace":"Yinling","Dimensions":[["Function"]],"Metrics":[{"Name":"Signups","Unit":"Count"}]}]},"Function":"yinling-signup","Signups":1,"store":"S1"}` + "\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("line mismatch (-want +got):\n%s", diff)
	}
}

func TestCountErrors(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		metric    string
		n         float64
		props     []slog.Attr
	}{
		{"empty name", "Yinling", "", 1, nil},
		{"name is the dimension", "Yinling", "Function", 1, nil},
		{"NaN", "Yinling", metrics.Signups, math.NaN(), nil},
		{"Inf", "Yinling", metrics.Signups, math.Inf(1), nil},
		{"property shadows the metric", "Yinling", metrics.Signups, 1, []slog.Attr{slog.Int("Signups", 3)}},
		{"property shadows the dimension", "Yinling", metrics.Signups, 1, []slog.Attr{slog.String("Function", "x")}},
		{"property shadows metadata", "Yinling", metrics.Signups, 1, []slog.Attr{slog.String("_aws", "x")}},
		{"repeated property", "Yinling", metrics.Signups, 1, []slog.Attr{slog.String("store", "S1"), slog.String("store", "S2")}},
		{"unmarshalable property", "Yinling", metrics.Signups, 1, []slog.Attr{slog.Any("f", func() {})}},
		{"empty namespace", "", metrics.Signups, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := metrics.New(&buf, tt.namespace, "fn", time.Now)
			if err := e.Count(context.Background(), tt.metric, tt.n, tt.props...); err == nil {
				t.Error("Count: want error")
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q on error", buf.String())
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestCountWriteError(t *testing.T) {
	e := metrics.New(failingWriter{}, "Yinling", "fn", time.Now)
	if err := e.Count(context.Background(), metrics.Signups, 1); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Count error = %v, want the write error", err)
	}
}

// lineWriter fails the test if a Write is not exactly one whole line.
type lineWriter struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Count(string(p), "\n") != 1 || p[len(p)-1] != '\n' {
		w.t.Errorf("write is not one line: %q", p)
	}
	w.lines = append(w.lines, string(p))
	return len(p), nil
}

func TestCountConcurrent(t *testing.T) {
	w := &lineWriter{t: t}
	e := metrics.New(w, "Yinling", "fn", time.Now)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := e.Count(context.Background(), metrics.Deliveries, 1, slog.Int("i", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(w.lines) != 50 {
		t.Fatalf("%d lines, want 50", len(w.lines))
	}
	for _, l := range w.lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("invalid JSON line %q", l)
		}
	}
}

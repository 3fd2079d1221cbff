// Package metrics owns Yinling's business metrics: counts such as signups and
// deliveries, written as CloudWatch Embedded Metric Format (EMF) log lines.
// CloudWatch Logs extracts the metrics from the function's log stream, so
// emitting one costs no API call and no latency.
//
// Dimensions: only Function, whose values are the handful of Lambda
// functions. Every distinct combination of dimension values is a separately
// billed custom metric, so per-store or per-member values go in as plain
// properties: they stay in the log line, searchable with Logs Insights, and
// create no metric.
//
// Properties are stored in the log group as they are given: they must never
// carry phone numbers, OTPs or tokens. Pass ids, not contact details.
package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Namespace is where Yinling's metrics live in CloudWatch.
const Namespace = "Yinling"

// Metric names. They are part of dashboards and alarms: do not rename.
const (
	Signups        = "Signups"
	Deliveries     = "Deliveries"
	Bookings       = "Bookings"
	PromotionSends = "PromotionSends"
)

// functionKey is the one dimension.
const functionKey = "Function"

// Emitter writes EMF lines. It is safe for concurrent use: each line is one
// Write call, made under a lock, so lines never interleave.
type Emitter struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	function  string
	now       func() time.Time
}

// New returns an Emitter writing to w (os.Stdout in Lambda) under namespace,
// for the function named function: the caller passes
// os.Getenv("AWS_LAMBDA_FUNCTION_NAME") once, in main. An empty function
// emits metrics without dimensions. now is time.Now outside tests.
func New(w io.Writer, namespace, function string, now func() time.Time) *Emitter {
	return &Emitter{w: w, namespace: namespace, function: function, now: now}
}

// Count records n occurrences of the metric name, with props added to the
// line as properties (not dimensions), in order. Property keys must be
// distinct and not "_aws", "Function" or name. ctx is unused for now; it keeps call sites unchanged
// if request ids are ever added to the line.
func (e *Emitter) Count(ctx context.Context, name string, n float64, props ...slog.Attr) error {
	if name == "" || name == "_aws" || name == functionKey {
		return fmt.Errorf("emit metric %q: invalid name", name)
	}
	if e.namespace == "" {
		return fmt.Errorf("emit metric %s: empty namespace", name)
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return fmt.Errorf("emit metric %s: invalid value %v", name, n)
	}
	dims := []string{}
	if e.function != "" {
		dims = append(dims, functionKey)
	}
	meta := metadata{
		Timestamp: e.now().UnixMilli(),
		CloudWatchMetrics: []directive{{
			Namespace:  e.namespace,
			Dimensions: [][]string{dims},
			Metrics:    []metric{{Name: name, Unit: "Count"}},
		}},
	}
	// Written member by member, so the line reads in a fixed order: metadata,
	// dimension, metric, then properties as given.
	var l line
	l.raw(`{"_aws":`)
	l.value(meta)
	if e.function != "" {
		l.member(functionKey, e.function)
	}
	l.member(name, n)
	seen := map[string]bool{}
	for _, p := range props {
		if p.Key == "" || p.Key == "_aws" || p.Key == functionKey || p.Key == name || seen[p.Key] {
			return fmt.Errorf("emit metric %s: reserved or repeated property key %q", name, p.Key)
		}
		seen[p.Key] = true
		l.member(p.Key, value(p.Value))
	}
	l.raw("}\n")
	if l.err != nil {
		return fmt.Errorf("emit metric %s: %w", name, l.err)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.w.Write(l.b.Bytes()); err != nil {
		return fmt.Errorf("emit metric %s: %w", name, err)
	}
	return nil
}

// line builds one JSON object; err keeps the first marshalling error.
type line struct {
	b   bytes.Buffer
	err error
}

func (l *line) raw(s string) { l.b.WriteString(s) }

func (l *line) value(v any) {
	if l.err != nil {
		return
	}
	j, err := json.Marshal(v)
	if err != nil {
		l.err = err
		return
	}
	l.b.Write(j)
}

func (l *line) member(k string, v any) {
	l.raw(",")
	l.value(k)
	l.raw(":")
	l.value(v)
}

// value converts an attribute value to what json.Marshal writes as the
// property: groups become objects, times RFC 3339 strings, durations their
// String form; the rest as slog would.
func value(v slog.Value) any {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		m := map[string]any{}
		for _, a := range v.Group() {
			m[a.Key] = value(a.Value)
		}
		return m
	case slog.KindTime:
		return v.Time().UTC().Format(time.RFC3339Nano)
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	}
	return v.Any()
}

// The EMF metadata: see CloudWatch_Embedded_Metric_Format_Specification.
type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []metric   `json:"Metrics"`
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

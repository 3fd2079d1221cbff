package emulator

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

const tailLines = 30

// lineWriter receives a child's stdout and stderr, writes each line to log prefixed with the
// child's name, keeps the last lines for error messages, and delivers the first
// "listening on" line to ready.
type lineWriter struct {
	name  string
	log   io.Writer
	ready chan string // buffered; receives one line

	mu      sync.Mutex
	partial []byte
	last    []string
	sent    bool
}

func newLineWriter(name string, log io.Writer) *lineWriter {
	return &lineWriter{name: name, log: log, ready: make(chan string, 1)}
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.partial[:i]), "\r")
		w.partial = w.partial[i+1:]
		fmt.Fprintf(w.log, "[%s] %s\n", w.name, line)
		if w.last = append(w.last, line); len(w.last) > tailLines {
			w.last = w.last[1:]
		}
		if !w.sent && listening.MatchString(line) {
			w.sent = true
			w.ready <- line
		}
	}
	return len(b), nil
}

// tail returns the last lines the child wrote.
func (w *lineWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := slices.Concat(w.last, []string{string(w.partial)})
	return "  " + strings.Join(lines, "\n  ")
}

// syncWriter serializes writes from the emulators' output goroutines to one log.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

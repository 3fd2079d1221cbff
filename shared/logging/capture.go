package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// CaptureVar names a directory. When it is set, every logger New makes also appends its lines
// to one file per process there (<dir>/<pid>.log), so that the lines of a whole test suite,
// emitted by many test binaries at once, can be scanned afterwards for phone numbers, codes and
// tokens (see Scan; `make test` sets it and runs `local logscan`). Lines are appended whole, one
// write each, so concurrent processes and goroutines never interleave within a line.
const CaptureVar = "YINLING_LOG_CAPTURE"

var capture = struct {
	once *sync.Once // a pointer so that a test can start over
	w    io.Writer  // nil: no capture
}{once: new(sync.Once)}

// captureWriter returns this process's capture file, opening it on first use; nil when
// CaptureVar is unset or the file cannot be opened (logging must never stop a function).
func captureWriter() io.Writer {
	capture.once.Do(func() {
		dir := os.Getenv(CaptureVar)
		if dir == "" {
			return
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			fmt.Fprintf(os.Stderr, "logging: capture: %v\n", err)
			return
		}
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%d.log", os.Getpid())), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			fmt.Fprintf(os.Stderr, "logging: capture: %v\n", err)
			return
		}
		capture.w = &lockedWriter{w: f}
	})
	return capture.w
}

// lockedWriter serialises the writes of all the process's loggers to the capture file.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// teeWriter writes to the logger's own writer and, ignoring its errors, to the capture.
type teeWriter struct {
	w, capture io.Writer
}

func (t teeWriter) Write(p []byte) (int, error) {
	_, _ = t.capture.Write(p)
	return t.w.Write(p)
}

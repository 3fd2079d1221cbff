package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"yinling/shared/logging"
)

// logscanCmd scans the log lines captured under dir (logging.CaptureVar; make test sets it for
// the whole suite) for phone numbers, one-time codes and tokens. It fails on any finding, and
// when it read no line at all: a capture that saw nothing proves nothing.
func logscanCmd(args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: local logscan DIR")
	}
	files, err := filepath.Glob(filepath.Join(args[0], "*.log"))
	if err != nil {
		return err
	}
	lines, bad := 0, 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		found, n, err := logging.Scan(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("logscan %s: %w", name, err)
		}
		lines += n
		for _, x := range found {
			fmt.Fprintf(out, "logscan: %s %v\n", filepath.Base(name), x)
			bad++
		}
	}
	fmt.Fprintf(out, "logscan: %d log lines from %d processes scanned, %d with a phone number, code or token\n", lines, len(files), bad)
	switch {
	case bad > 0:
		return fmt.Errorf("logscan: %d findings in %s", bad, args[0])
	case lines == 0:
		return fmt.Errorf("logscan: no log line captured in %s (is %s set for the tests?)", args[0], logging.CaptureVar)
	}
	return nil
}

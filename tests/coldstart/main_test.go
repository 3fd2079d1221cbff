package coldstart

import (
	"os"
	"testing"
)

// TestMain removes the binaries the tests and benchmarks built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"yinling/shared/logging"
	"yinling/shared/sam"
	"yinling/shared/testenv"
)

// The browser the e2e scripts drive: Debian's chromium (make deps installs it), since
// playwright's own browser downloads are not reachable from every machine that runs make test.
const e2eChromium = "/usr/bin/chromium"

// e2eTimeout bounds one browser script, chromium's start included.
const e2eTimeout = 90 * time.Second

// TestAdminPageInBrowser runs web/e2e/admin.mjs — a real chromium, sized and labelled like a
// phone in WeChat — against the whole stack as `make dev` assembles it: the template's
// resources in the emulators, the demo store seeded, every function behind the local gateway
// and its JWT authorizer. Screenshots of each step land in artifacts/e2e-admin.
func TestAdminPageInBrowser(t *testing.T) {
	e := startE2E(t)
	e.run(t, "admin.mjs", "e2e-admin", "--token", e.token, "--join-code", e.joinCode)
}

// TestJoinFlowInBrowser runs web/e2e/join.mjs against the same stack: a senior opens the seeded
// group's join link, fills in the form, reads the code from the local SMS outbox, types it and
// lands on "my page"; a wrong code, an unknown join code and a phone without a session are
// explained in their language. It prints the taps the senior needs after the form is filled.
// Screenshots of each step land in artifacts/e2e-join.
func TestJoinFlowInBrowser(t *testing.T) {
	e := startE2E(t)
	e.run(t, "join.mjs", "e2e-join", "--token", e.token, "--join-code", e.joinCode)
}

// TestFamilyLinkInBrowser runs web/e2e/family.mjs against the same stack: a senior joins and
// verifies, makes a family link on my page and copies its URL; a relative on another phone opens
// it and sees whose page it is; the senior revokes it and the relative's reload explains that the
// link no longer works. Screenshots of each step land in artifacts/e2e-family.
func TestFamilyLinkInBrowser(t *testing.T) {
	e := startE2E(t)
	e.run(t, "family.mjs", "e2e-family", "--token", e.token, "--join-code", e.joinCode)
}

// TestRemindersInBrowser runs web/e2e/reminders.mjs against the same stack, its dispatcher
// ticking every few seconds rather than every minute: a senior adds reminders on my page and
// pauses, resumes and cancels them; a reminder's page opened before anything was sent says there
// is nothing to confirm; a helper family link records a voice clip with chromium's fake
// microphone and saves a reminder with it; a one-off due in a minute or two reaches the outbox,
// and its page takes one tap to acknowledge; staff see the queues, the outbox and the one-off's
// delivery status on /admin/reminders. Screenshots land in artifacts/e2e-reminders.
func TestRemindersInBrowser(t *testing.T) {
	e := startE2EWith(t, e2eOptions{tick: 5 * time.Second, timeout: 4 * time.Minute})
	e.run(t, "reminders.mjs", "e2e-reminders", "--token", e.token, "--join-code", e.joinCode)
}

// e2eOptions change the stack of one browser test: how often scheduled functions fire (0: the
// template's rate) and how long the script may take (0: e2eTimeout).
type e2eOptions struct {
	tick, timeout time.Duration
}

// e2eEnv is one whole local stack on a loopback port, for one browser script.
type e2eEnv struct {
	root     string
	baseURL  string
	token    string // a manager's staff token for the demo store
	joinCode string // the seeded demo group's join code
	ctx      context.Context
	stackLog *syncBuffer
	timeout  time.Duration // for the script
}

// startE2E builds the stack (or skips or fails the test by e2eRequire's rules) and removes it
// when the test ends.
func startE2E(t *testing.T) *e2eEnv {
	t.Helper()
	return startE2EWith(t, e2eOptions{})
}

func startE2EWith(t *testing.T, o e2eOptions) *e2eEnv {
	t.Helper()
	if o.timeout == 0 {
		o.timeout = e2eTimeout
	}
	root := e2eRoot(t)
	e2eRequire(t, root)

	ctx, cancel := context.WithTimeout(context.Background(), 2*o.timeout)
	t.Cleanup(cancel)

	// The stack's own log is kept and shown only when the browser saw something wrong: a
	// handler may still log after the test has ended, which t.Log would not allow.
	stackLog := &syncBuffer{}
	log := logging.New(stackLog, logging.Level("info"))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := newLocalIssuer(key)

	// The server's address is needed before the stack is built (PUBLIC_BASE_URL in the join
	// links); httptest listens on 127.0.0.1 only.
	srv := httptest.NewUnstartedServer(nil)
	baseURL := "http://" + srv.Listener.Addr().String()
	st, err := buildStack(ctx, root, e2ePrefix(), baseURL, iss, o.tick, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := st.res.Delete(ctx); err != nil {
			t.Errorf("delete resources: %v", err)
		}
	})
	srv.Config.Handler = st.gateway
	srv.Start()
	t.Cleanup(srv.Close)
	// The queue pollers and schedules run too, as under make dev; they stop before the
	// resources are deleted (cleanups run last first).
	t.Cleanup(st.start(log))

	token, err := mintStaffToken(iss, demoStoreID, "manager", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return &e2eEnv{root: root, baseURL: baseURL, token: token, joinCode: st.demo.joinCode, ctx: ctx, stackLog: stackLog, timeout: o.timeout}
}

// run runs node web/e2e/<script> --base … --out artifacts/<out> --chromium … args…, failing the
// test with the script's output and the stack's log unless the script exits 0.
func (e *e2eEnv) run(t *testing.T, script, out string, args ...string) {
	t.Helper()
	dir, output, took, err := e.node(t, script, out, args...)
	if err != nil {
		t.Fatalf("node web/e2e/%s: %v after %v\n%s\nstack log:\n%s", script, err, took, output, e.stackLog.Bytes())
	}
	t.Logf("browser run took %v; screenshots in %s\n%s", took, dir, output)
}

// node runs node web/e2e/<script> --base … --out artifacts/<out> --chromium … args… in a fresh
// artifacts/<out> and returns that directory, what the script printed, how long it took and why
// it did not exit 0, if it did not.
func (e *e2eEnv) node(t *testing.T, script, out string, args ...string) (dir string, output []byte, took time.Duration, err error) {
	t.Helper()
	dir = filepath.Join(e.root, "artifacts", out)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	runCtx, cancelRun := context.WithTimeout(e.ctx, e.timeout)
	defer cancelRun()
	argv := append([]string{filepath.Join(e.root, "web", "e2e", script),
		"--base", e.baseURL, "--out", dir, "--chromium", e2eChromium}, args...)
	cmd := exec.CommandContext(runCtx, "node", argv...)
	cmd.Dir = e.root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	// On timeout node gets SIGTERM, on which playwright closes chromium; a node that is still
	// there 10 s later is killed. Node must not outlive the test binary either.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	begin := time.Now()
	err = cmd.Run()
	took = time.Since(begin).Round(time.Millisecond)
	if runCtx.Err() != nil {
		err = errors.Join(err, runCtx.Err())
	}
	return dir, buf.Bytes(), took, err
}

// e2eRoot is the repository root (where template.yaml is).
func e2eRoot(t *testing.T) string {
	t.Helper()
	path, err := sam.Find()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(path)
}

// e2eRequire skips the test when the emulators, node, chromium or the e2e npm packages are
// missing — or, under make test (YINLING_REQUIRE_EMULATORS=1), fails it, so that CI never passes
// without having run the browser.
func e2eRequire(t *testing.T, root string) {
	t.Helper()
	require := os.Getenv(testenv.RequireVar) == "1"
	missing := func(what string) {
		t.Helper()
		if require {
			t.Fatalf("%s, but %s=1: run make deps (or make test, which runs it)", what, testenv.RequireVar)
		}
		t.Skip(what + ": run make deps, then make test")
	}
	for _, v := range testenv.EndpointVars {
		if os.Getenv(v) == "" {
			if require {
				t.Fatalf("%s is unset but %s=1: start the emulators (make test)", v, testenv.RequireVar)
			}
			t.Skip("emulators not running: use make test")
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(e2eChromium); err != nil {
		missing(e2eChromium + " is missing")
	}
	if _, err := os.Stat(filepath.Join(root, "web", "e2e", "node_modules", "playwright-core", "package.json")); err != nil {
		missing("web/e2e/node_modules has no playwright-core")
	}
}

// e2ePrefix names this run's tables, queues and bucket apart from every other test's.
func e2ePrefix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "e2e" + hex.EncodeToString(b) + "-"
}

// syncBuffer is a bytes.Buffer that the stack's goroutines may write to at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

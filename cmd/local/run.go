package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"yinling/cmd/local/emulator"
)

// childGrace is how long a command may take to exit after we pass it SIGINT or SIGTERM.
const childGrace = 15 * time.Second

// runWithEmulators installs what the emulators need, starts them in memory on free loopback
// ports, runs args (e.g. go test -race ./...) with the emulators' environment and
// YINLING_REQUIRE_EMULATORS=1 added, streams its output, stops the emulators, and returns the
// command's exit code (128+signal if a signal ended it, 1 if the emulators did not start).
//
// SIGINT and SIGTERM are passed on to the command; the emulators are stopped once it exits.
// Their own output goes to a log file, kept only when something failed.
func runWithEmulators(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "emulators: no command to run")
		return 2
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	// Until the command runs, a signal cancels Install or Start.
	startCtx, cancelStart := context.WithCancel(ctx)
	defer cancelStart()
	var early os.Signal
	stopWatch, watchDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watchDone)
		select {
		case early = <-sigs:
			cancelStart()
		case <-stopWatch:
		case <-startCtx.Done():
		}
	}()
	startupSignal := func() (os.Signal, bool) {
		close(stopWatch)
		<-watchDone
		return early, early != nil
	}

	logFile, err := os.CreateTemp("", "yinling-emulators-*.log")
	if err != nil {
		fmt.Fprintf(os.Stderr, "emulators: %v\n", err)
		return 1
	}
	keepLog := true
	defer func() {
		logFile.Close()
		if !keepLog {
			os.Remove(logFile.Name())
		}
	}()

	dir, err := emulator.Dir()
	if err == nil {
		err = emulator.Install(startCtx, dir, os.Stderr)
	}
	var emu *emulator.Emulators
	begin := time.Now()
	if err == nil {
		emu, err = emulator.Start(startCtx, emulator.Options{Dir: dir, Log: logFile})
	}
	if sig, ok := startupSignal(); ok {
		if emu != nil {
			emu.Stop()
		}
		return 128 + int(sig.(syscall.Signal))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "emulators: %v\n(log: %s)\n", err, logFile.Name())
		return 1
	}
	defer emu.Stop()
	fmt.Fprintf(os.Stderr, "emulators ready in %v: DynamoDB %s, SQS and S3 %s\n",
		time.Since(begin).Round(time.Millisecond), emu.DynamoURL, emu.SQSURL)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), emu.Env()...)
	cmd.Env = append(cmd.Env, "YINLING_REQUIRE_EMULATORS=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Like the emulators, the command must not outlive us; it stays in our process group so
	// that a terminal's Ctrl-C reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "run %s: %v\n", args[0], err)
		return 127
	}
	// From here on a signal is passed to the command. A terminal's Ctrl-C reaches it directly
	// too (same process group); the second SIGINT does it no harm.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case sig := <-sigs:
		waitErr = stopCommand(cmd, sig, done)
	case <-ctx.Done():
		waitErr = stopCommand(cmd, syscall.SIGTERM, done)
	}
	code := exitCode(waitErr)
	emu.Stop()
	keepLog = code != 0
	if keepLog {
		fmt.Fprintf(os.Stderr, "emulator log: %s\n", logFile.Name())
	}
	return code
}

// stopCommand passes sig to the command and waits for it, killing it after childGrace.
func stopCommand(cmd *exec.Cmd, sig os.Signal, done <-chan error) error {
	_ = cmd.Process.Signal(sig)
	select {
	case err := <-done:
		return err
	case <-time.After(childGrace):
		_ = cmd.Process.Kill()
		return <-done
	}
}

// exitCode maps a command's Wait error to a shell-style exit code.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

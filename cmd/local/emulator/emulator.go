// Package emulator installs and runs the local AWS emulators as child processes: DynamoDB
// Local (Java, from the npm package amplify-dynamodb-simulator) and fauxqs (Node.js; SQS and
// S3 on one port). Both listen on 127.0.0.1 only.
//
// The npm side lives in cmd/local/emulators: package.json pins both packages exactly,
// fauxqs.mjs starts fauxqs, and DynamoDBLocalLoopback.java starts DynamoDB Local, whose own
// main has no bind-address option.
//
// Code reaches the emulators only through the SDK's AWS_ENDPOINT_URL_* variables, which
// (*Emulators).Env returns; nothing here is needed at run time by the functions.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Region is the region the emulators and their clients use.
const Region = "us-east-1"

// Dummy credentials: the emulators check that requests are signed, not by whom.
const (
	accessKeyID     = "local"
	secretAccessKey = "local"
)

// defaultTimeout bounds the wait for both emulators to answer; DynamoDB Local takes a few
// seconds to start on a small machine.
const defaultTimeout = 60 * time.Second

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// Options configure Start.
type Options struct {
	// Dir is the emulators directory, cmd/local/emulators, after Install.
	Dir string
	// DataDir keeps DynamoDB Local's data across restarts; "" keeps it in memory. fauxqs is
	// always in memory.
	DataDir string
	// DynamoPort and SQSPort are the loopback ports; 0 picks a free one. fauxqs serves S3 on
	// SQSPort too.
	DynamoPort, SQSPort int
	// Log receives the emulators' output, one prefixed line at a time; nil discards it.
	Log io.Writer
	// Timeout bounds the wait for both emulators to answer; 0 means 60 s.
	Timeout time.Duration
}

// Emulators are running emulators. Stop them when done.
type Emulators struct {
	// DynamoURL, SQSURL and S3URL are endpoint URLs, e.g. http://127.0.0.1:8000. S3URL equals
	// SQSURL: fauxqs serves both; S3 requests to it are path-style (bucket in the path), which
	// the SDK uses by itself when the endpoint host is an IP address.
	DynamoURL, SQSURL, S3URL string

	procs    []*process
	stopOnce sync.Once
	log      io.Writer
}

// Dir returns the emulators directory of the module the working directory is in: the nearest
// directory holding go.mod, plus cmd/local/emulators.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "cmd", "local", "emulators"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("emulator: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start starts DynamoDB Local and fauxqs and returns once each has answered a real API call
// (ListTables, ListQueues). ctx bounds the startup only: the processes run until Stop.
//
// Each child runs in its own process group (Stop signals the group) with Pdeathsig SIGKILL,
// so the kernel kills it if this process dies without calling Stop.
func Start(ctx context.Context, opts Options) (*Emulators, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	opts.Log = &syncWriter{w: opts.Log}
	if opts.Timeout == 0 {
		opts.Timeout = defaultTimeout
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start emulators: %w", err)
	}
	for _, f := range []string{dynamoJar, filepath.Join(launcherDir, launcherMain+".class"), fauxqsScript, "node_modules/fauxqs"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("start emulators: %w (run emulator.Install first)", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	e := &Emulators{log: opts.Log}
	ok := false
	defer func() {
		if !ok {
			e.Stop()
		}
	}()

	dynamoPort := opts.DynamoPort
	if dynamoPort == 0 {
		// DynamoDB Local rejects -port 0, so pick one; fauxqs takes 0 and reports its port.
		if dynamoPort, err = freePort(); err != nil {
			return nil, fmt.Errorf("start emulators: %w", err)
		}
	}
	storage := []string{"-inMemory"}
	if opts.DataDir != "" {
		// Absolute: DynamoDB Local does not run in our working directory.
		data, err := filepath.Abs(opts.DataDir)
		if err == nil {
			err = os.MkdirAll(data, 0o755)
		}
		if err != nil {
			return nil, fmt.Errorf("start emulators: %w", err)
		}
		// -sharedDb: one database file for every access key and region, so any client
		// configuration sees the same data.
		storage = []string{"-dbPath", data, "-sharedDb"}
	}
	javaArgs := []string{
		// A small heap, serial GC and C1 only: DynamoDB Local starts faster and fits beside
		// `go test -race` on a two-core machine.
		"-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.library.path=" + filepath.Join(dir, dynamoLib),
		"-cp", filepath.Join(dir, dynamoJar) + string(os.PathListSeparator) + filepath.Join(dir, launcherDir),
		launcherMain,
		"-port", strconv.Itoa(dynamoPort), "-disableTelemetry",
	}
	// DynamoDB Local writes dynamodb-local-metadata.json into its working directory, even with
	// telemetry off: keep it inside node_modules, out of the source tree.
	dynamo, err := startProcess("dynamodb", opts.Log, filepath.Join(dir, launcherDir), "java", append(javaArgs, storage...)...)
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	e.procs = append(e.procs, dynamo)

	fauxqs, err := startProcess("fauxqs", opts.Log, dir, "node", filepath.Join(dir, fauxqsScript), strconv.Itoa(opts.SQSPort))
	if err != nil {
		return nil, fmt.Errorf("start fauxqs: %w", err)
	}
	e.procs = append(e.procs, fauxqs)

	e.DynamoURL = fmt.Sprintf("http://127.0.0.1:%d", dynamoPort)
	var wg sync.WaitGroup
	var dynErr, sqsErr error
	wg.Go(func() {
		dynErr = dynamo.waitReady(ctx, func(ctx context.Context) error { return pingDynamo(ctx, e.DynamoURL) })
	})
	wg.Go(func() {
		port, err := fauxqs.waitPort(ctx)
		if err != nil {
			sqsErr = err
			return
		}
		e.SQSURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		e.S3URL = e.SQSURL
		sqsErr = fauxqs.waitReady(ctx, func(ctx context.Context) error { return pingSQS(ctx, e.SQSURL) })
	})
	wg.Wait()
	if err := errors.Join(dynErr, sqsErr); err != nil {
		return nil, fmt.Errorf("start emulators: %w", err)
	}
	ok = true
	return e, nil
}

// Env returns the environment that points the AWS SDK at the emulators, as KEY=value pairs
// to append to os.Environ().
func (e *Emulators) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + e.DynamoURL,
		"AWS_ENDPOINT_URL_SQS=" + e.SQSURL,
		"AWS_ENDPOINT_URL_S3=" + e.S3URL,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + accessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + secretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Stop sends SIGTERM to each emulator's process group, waits up to 5 s, then sends SIGKILL.
// It returns once every process has exited; calling it again does nothing.
func (e *Emulators) Stop() {
	e.stopOnce.Do(func() {
		var wg sync.WaitGroup
		for _, p := range e.procs {
			wg.Go(func() {
				if p.stop(stopGrace) {
					fmt.Fprintf(e.log, "emulator: %s ignored SIGTERM for %v; killed\n", p.name, stopGrace)
				}
			})
		}
		wg.Wait()
	})
}

// process is one running emulator.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *lineWriter
	done chan struct{} // closed once the process has exited
	err  error         // Wait's result, set before done is closed
}

func startProcess(name string, log io.Writer, dir, bin string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// Pdeathsig fires when the thread that started the child exits; Go threads outlive
		// the process's goroutines unless locked, so in practice it fires when we die.
		Pdeathsig: syscall.SIGKILL,
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	p.out = newLineWriter(name, log)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitReady calls ping until it succeeds, the process exits, or ctx ends.
func (p *process) waitReady(ctx context.Context, ping func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ping(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return p.exitError()
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer: %w (last error: %v)\n%s", p.name, ctx.Err(), last, p.out.tail())
		case <-tick.C:
		}
	}
}

var listening = regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+)`)

// waitPort returns the port from the process's "listening on 127.0.0.1:PORT" line.
func (p *process) waitPort(ctx context.Context) (int, error) {
	select {
	case line := <-p.out.ready:
		m := listening.FindStringSubmatch(line)
		return strconv.Atoi(m[1])
	case <-p.done:
		return 0, p.exitError()
	case <-ctx.Done():
		return 0, fmt.Errorf("%s did not report its port: %w\n%s", p.name, ctx.Err(), p.out.tail())
	}
}

func (p *process) exitError() error {
	return fmt.Errorf("%s exited during startup (%v):\n%s", p.name, p.err, p.out.tail())
}

// stop terminates the process group and reports whether SIGKILL was needed.
func (p *process) stop(grace time.Duration) (killed bool) {
	pgid := p.cmd.Process.Pid // Setpgid: the group id is the leader's pid
	select {
	case <-p.done:
		return false
	default:
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return false
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	return true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var creds = credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, "")

func pingDynamo(ctx context.Context, url string) error {
	c := dynamodb.New(dynamodb.Options{
		Region: Region, BaseEndpoint: aws.String(url), Credentials: creds, Retryer: aws.NopRetryer{},
	})
	_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	return err
}

func pingSQS(ctx context.Context, url string) error {
	c := sqs.New(sqs.Options{
		Region: Region, BaseEndpoint: aws.String(url), Credentials: creds, Retryer: aws.NopRetryer{},
	})
	_, err := c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1)})
	return err
}

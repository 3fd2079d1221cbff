package coldstart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The harness starts a function the way Lambda does: a fresh process whose only way to get work
// is the Runtime API at AWS_LAMBDA_RUNTIME_API. The server here answers the first
// GET /2018-06-01/runtime/invocation/next with one event and keeps the second waiting, as Lambda
// does until the next event (the process is killed then); it records when each step happened.

const invocationID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"

// start is what one cold start measured.
type start struct {
	// Init is exec → the first `next` request: the process start, the runtime, the Go init and
	// the function's main up to lambda.Start.
	Init time.Duration
	// Invoke is the first event handed over → its response posted, the first connection to the
	// (emulated) AWS services included.
	Invoke time.Duration
	// Response is what the function posted; Failed is set when it posted to …/error instead.
	Response []byte
	Failed   bool
	// NetDuringInit counts the connections the process opened to any AWS endpoint, or through a
	// proxy, before its first `next` request.
	NetDuringInit int64
	// Output is the process's stdout and stderr, for a failure's message.
	Output string
}

// runtimeAPI is a one-event Lambda Runtime API.
type runtimeAPI struct {
	ln     net.Listener
	srv    *http.Server
	event  []byte
	onNext func() // called once, when the first `next` arrives

	mu     sync.Mutex
	nexts  int
	nextAt time.Time
	result chan outcome
}

type outcome struct {
	at     time.Time
	body   []byte
	failed bool
	init   bool // posted to /runtime/init/error
}

func newRuntimeAPI(event []byte, onNext func()) (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &runtimeAPI{ln: ln, event: event, onNext: onNext, result: make(chan outcome, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", r.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", r.post(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", r.post(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.finish(outcome{at: time.Now(), body: b, failed: true, init: true})
		w.WriteHeader(http.StatusAccepted)
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *runtimeAPI) addr() string { return r.ln.Addr().String() }

func (r *runtimeAPI) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	_ = r.srv.Close()
}

// next hands over the event the first time; later calls wait for the process to go away.
func (r *runtimeAPI) next(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	r.mu.Lock()
	r.nexts++
	first := r.nexts == 1
	if first {
		r.nextAt = now
	}
	r.mu.Unlock()
	if !first {
		<-req.Context().Done()
		return
	}
	r.onNext()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", invocationID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:coldstart")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(r.event)
}

func (r *runtimeAPI) post(failed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		at := time.Now()
		b, _ := io.ReadAll(req.Body)
		if req.PathValue("id") != invocationID {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		r.finish(outcome{at: at, body: b, failed: failed})
		w.WriteHeader(http.StatusAccepted)
	}
}

func (r *runtimeAPI) finish(o outcome) {
	select {
	case r.result <- o:
	default:
	}
}

// counter is a TCP proxy that counts the connections made through it: each AWS endpoint the
// functions use points at one, in front of the emulator that serves it.
type counter struct {
	ln    net.Listener
	conns atomic.Int64
}

// newCounter forwards every connection to target ("" refuses them, after counting: for
// addresses nothing should reach, such as an HTTPS proxy).
func newCounter(target string) (*counter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &counter{ln: ln}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			if target == "" {
				in.Close()
				continue
			}
			go forward(in, target)
		}
	}()
	return c, nil
}

func forward(in net.Conn, target string) {
	defer in.Close()
	out, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return
	}
	defer out.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
	go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
	<-done
}

func (c *counter) url() string  { return "http://" + c.ln.Addr().String() }
func (c *counter) close()       { c.ln.Close() }
func (c *counter) count() int64 { return c.conns.Load() }

// network is every counting proxy of a harness.
type network struct{ counters []*counter }

// total is the connections made through any of them so far.
func (n *network) total() int64 {
	var sum int64
	for _, c := range n.counters {
		sum += c.count()
	}
	return sum
}

func (n *network) close() {
	for _, c := range n.counters {
		c.close()
	}
}

// proxy returns a counting proxy in front of the endpoint URL u (an emulator), and u rewritten
// to go through it.
func (n *network) proxy(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "", fmt.Errorf("endpoint %q: not a URL", u)
	}
	c, err := newCounter(p.Host)
	if err != nil {
		return "", err
	}
	n.counters = append(n.counters, c)
	return c.url() + strings.TrimSuffix(p.Path, "/"), nil
}

// sink returns a counting address that forwards nothing.
func (n *network) sink() (string, error) {
	c, err := newCounter("")
	if err != nil {
		return "", err
	}
	n.counters = append(n.counters, c)
	return c.url(), nil
}

// coldStart runs bin once as a fresh Lambda execution environment with env, hands it event,
// and returns what happened. The process is killed once it has answered (or after timeout).
func coldStart(bin string, env []string, event []byte, net *network, timeout time.Duration) (start, error) {
	var atNext atomic.Int64
	rt, err := newRuntimeAPI(event, func() { atNext.Store(net.total()) })
	if err != nil {
		return start{}, err
	}
	defer rt.close()

	var out bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+rt.addr())
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	before := net.total()
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return start{}, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	var (
		o      outcome
		runErr error
	)
	select {
	case o = <-rt.result:
	case <-exited:
		runErr = errors.New("the process exited before answering")
	case <-time.After(timeout):
		runErr = errors.New("no answer within " + timeout.String())
	}
	// Lambda would freeze the environment here; the harness ends it, and only then reads its
	// output (the copy into out runs until the process is gone).
	_ = cmd.Process.Kill()
	<-exited
	s := start{Response: o.body, Failed: o.failed, Output: out.String()}
	if runErr != nil {
		return s, runErr
	}
	rt.mu.Lock()
	nextAt := rt.nextAt
	rt.mu.Unlock()
	if o.init || nextAt.IsZero() {
		return s, fmt.Errorf("init failed: %s", o.body)
	}
	s.Init = nextAt.Sub(begin)
	s.Invoke = o.at.Sub(nextAt)
	s.NetDuringInit = atNext.Load() - before
	return s, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"yinling/cmd/local/emulator"
	"yinling/shared/dynamostore"
	"yinling/shared/lambdamain"
	"yinling/shared/localstack"
	"yinling/shared/logging"
	"yinling/shared/sam"
	"yinling/shared/staffjwt"
)

type serveConfig struct {
	root  string
	port  int
	fresh bool
	tick  time.Duration
}

// The local stand-in for the template's Cognito user pool and app client.
const (
	localIssuerURL = "https://cognito-idp.local/yinling-local"
	localAudience  = "yinling-local-client"
	authorizerName = "StaffJwt"
)

// serve runs the whole stack until ctx is done, then stops everything it started.
func serve(ctx context.Context, cfg serveConfig) error {
	local := filepath.Join(cfg.root, ".local")
	dataDir := filepath.Join(local, "data")
	if cfg.fresh {
		if err := os.RemoveAll(dataDir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	// Claim the port first: a second `make dev` should fail before it starts emulators.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.port))
	if err != nil {
		return fmt.Errorf("port %d: %w (is another make dev running?)", cfg.port, err)
	}
	defer ln.Close()

	emuLog, err := os.Create(filepath.Join(local, "emulators.log"))
	if err != nil {
		return err
	}
	defer emuLog.Close()
	fmt.Fprintln(os.Stderr, "starting DynamoDB Local and fauxqs (log: .local/emulators.log) …")
	emu, err := emulator.Start(ctx, emulator.Options{
		Dir: filepath.Join(cfg.root, "cmd", "local", "emulators"), DataDir: dataDir, Log: emuLog,
	})
	if err != nil {
		return err
	}
	defer emu.Stop()
	for _, kv := range emu.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	log := logging.New(os.Stderr, logging.Level(os.Getenv("LOG_LEVEL")))
	iss, err := localIssuer(cfg.root)
	if err != nil {
		return err
	}
	baseURL := fmt.Sprintf("http://127.0.0.1:%d", cfg.port)
	st, err := buildStack(ctx, cfg.root, "", baseURL, iss, cfg.tick, log)
	if err != nil {
		return err
	}
	stopRunners := st.start(log)
	defer stopRunners()
	srv := &http.Server{Handler: st.gateway, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	token, err := mintStaffToken(iss, demoStoreID, "manager", 12*time.Hour)
	if err != nil {
		return err
	}
	printBanner(baseURL, st.demo, token, st.summary)

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	fmt.Fprintln(os.Stderr, "\nstopping …")
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	_ = srv.Shutdown(shutdownCtx)
	stopRunners()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// localStack is the whole stack on its resources: the gateway to serve and the queue pollers and
// schedules to run. serve and the browser test both build it with buildStack.
type localStack struct {
	res     *localstack.Resources
	gateway *Gateway
	runners []func(context.Context) error
	summary []string
	demo    demoStore
}

// buildStack creates template.yaml's resources in the emulators the process environment points
// at (names prefixed with prefix), seeds the demo store, and assembles every function behind a
// gateway whose authorizer trusts iss. Each of cfgOpts edits the AWS configuration every client
// of the stack is built with (a test adds its call-counting middleware).
func buildStack(ctx context.Context, root, prefix, baseURL string, iss *staffjwt.Issuer, tick time.Duration, log *slog.Logger, cfgOpts ...func(*aws.Config)) (*localStack, error) {
	awsCfg := lambdamain.AWSConfig(os.Getenv, log)
	for _, o := range cfgOpts {
		o(&awsCfg)
	}
	clients := localstack.Clients{
		DynamoDB: dynamodb.NewFromConfig(awsCfg),
		SQS:      sqs.NewFromConfig(awsCfg),
		S3:       s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true }),
	}
	tmpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	res, err := localstack.Create(ctx, tmpl, clients, prefix)
	if err != nil {
		return nil, fmt.Errorf("create resources from template.yaml: %w", err)
	}
	tableName, err := res.Ref("Table")
	if err != nil {
		return nil, err
	}
	demo, err := seedDemo(ctx, dynamostore.New(clients.DynamoDB, tableName), time.Now())
	if err != nil {
		return nil, fmt.Errorf("seed demo store: %w", err)
	}
	st, err := assemble(tmpl, res, clients.SQS, awsCfg, log, baseURL, tick)
	if err != nil {
		return nil, err
	}
	gw, err := NewGateway(GatewayConfig{
		Routes:      st.routes,
		Authorizers: map[string]TokenVerifier{authorizerName: iss.Verifier()},
		AccountID:   localstack.Account,
		Log:         log,
	})
	if err != nil {
		return nil, err
	}
	return &localStack{res: res, gateway: gw, runners: st.runners, summary: st.summary, demo: demo}, nil
}

// start runs the pollers and schedules; the returned stop cancels them and waits for the
// invocations in flight. Calling stop twice is harmless.
func (s *localStack) start(log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range s.runners {
		wg.Go(func() {
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("runner stopped", "err", err)
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

// localValues are the local stack's own choices where the template's default would reach out of
// the machine: messages go to the outbox (the dev page), never to a real phone.
var localValues = map[string]string{
	"NOTIFY_MODE": "outbox",
	// The acknowledgement ladder's spacing, ten minutes in AWS, is ten seconds here, so a
	// developer sees a reminder retried and escalated to the family within a minute.
	"ACK_CHECK_DELAY_SECONDS": "10",
	"RETRY_DELAY_SECONDS":     "10",
}

// stack is every function of the template, mounted the way AWS would trigger it.
type stack struct {
	routes  []Route
	runners []func(context.Context) error
	summary []string
}

// assemble builds each function of tmpl through its own Wire, with the environment the template
// declares for it (YINLING_<NAME> overrides a variable; PUBLIC_BASE_URL defaults to the local
// origin), and mounts its routes, queue pollers and schedules.
func assemble(tmpl *sam.Template, res *localstack.Resources, sqsClient *sqs.Client, awsCfg aws.Config, log *slog.Logger, baseURL string, tick time.Duration) (stack, error) {
	var st stack
	override := func(name string) (string, bool) {
		if v, ok := os.LookupEnv("YINLING_" + name); ok {
			return v, true
		}
		if name == "PUBLIC_BASE_URL" {
			return baseURL, true
		}
		v, ok := localValues[name]
		return v, ok
	}
	for _, f := range tmpl.Functions {
		reg, ok := functions[f.Name]
		if !ok {
			return stack{}, fmt.Errorf("template function %s (%s) has no entry in cmd/local/functions.go", f.LogicalID, f.Name)
		}
		env, err := res.Env(f, override)
		if err != nil {
			return stack{}, fmt.Errorf("%s: %w", f.LogicalID, err)
		}
		h, _, err := reg.build(func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			awsCfg, log.With("function", f.Name))
		if err != nil {
			return stack{}, fmt.Errorf("%s: %w", f.LogicalID, err)
		}
		lf := LambdaFunction{Name: f.LogicalID, Handler: h, Timeout: f.Timeout}
		for _, r := range f.Routes {
			st.routes = append(st.routes, Route{Method: r.Method, Path: r.Path, Authorizer: r.Authorizer, Function: lf})
		}
		for _, q := range f.Queues {
			queue, ok := res.Queues[q.QueueLogicalID]
			if !ok {
				return stack{}, fmt.Errorf("%s: queue %s was not created", f.LogicalID, q.QueueLogicalID)
			}
			p, err := NewPoller(sqsClient, PollerConfig{
				QueueURL: queue.URL, QueueARN: queue.Arn, AccountID: localstack.Account,
				BatchSize: q.BatchSize, MaxBatchingWindow: q.MaxBatchingWindow,
				ReportBatchItemFailures: q.ReportBatchItemFailures, Function: lf, Log: log,
			})
			if err != nil {
				return stack{}, fmt.Errorf("%s: %w", f.LogicalID, err)
			}
			st.runners = append(st.runners, p.Run)
			st.summary = append(st.summary, fmt.Sprintf("%s ← SQS %s (batch %d)", f.Name, q.QueueLogicalID, q.BatchSize))
		}
		for _, s := range f.Schedules {
			every := s.Every
			if tick > 0 {
				every = tick
			}
			if every <= 0 {
				log.Warn("schedule not run locally", "function", f.Name, "expression", s.Expression)
				continue
			}
			sch, err := NewScheduler(ScheduleConfig{Every: every, AccountID: localstack.Account, Function: lf, Log: log})
			if err != nil {
				return stack{}, fmt.Errorf("%s: %w", f.LogicalID, err)
			}
			st.runners = append(st.runners, sch.Run)
			st.summary = append(st.summary, fmt.Sprintf("%s ← every %s (%s)", f.Name, every, s.Expression))
		}
	}
	return st, nil
}

func printBanner(baseURL string, demo demoStore, token string, summary []string) {
	fmt.Printf(`
Yinling is running on %[1]s

  senior: join the demo group  %[1]s/join/%[2]s
          then "my page"       %[1]s/me
          and doctor talks     %[1]s/sessions
  staff admin page             %[1]s/admin     (paste the staff token below)
  staff doctor talks           %[1]s/admin/sessions
  staff campaigns (offers)     %[1]s/admin/campaigns
  messages "sent" (outbox)     %[1]s/api/admin/outbox   (the one-time code to verify a signup
                               is there: nothing leaves this machine)

  queues and schedules:
`, baseURL, demo.joinCode)
	for _, s := range summary {
		fmt.Printf("    %s\n", s)
	}
	fmt.Printf(`
  staff token (store %q, 12 h; make token prints a new one):

%s

  try:  curl -H "Authorization: Bearer $(make -s token)" %s/api/admin/groups

Ctrl-C stops everything.
`, demoStoreID, token, baseURL)
}

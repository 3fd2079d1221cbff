package emulator

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

// requireTools skips the test when java or node is missing, unless the Makefile asked for the
// emulators (YINLING_REQUIRE_EMULATORS=1), in which case a missing tool fails it.
func requireTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the emulators; skipped with -short")
	}
	for _, bin := range []string{"java", "javac", "node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("YINLING_REQUIRE_EMULATORS") == "1" {
				t.Fatalf("%s not found: %v", bin, err)
			}
			t.Skipf("%s not found", bin)
		}
	}
}

func TestStartAnswersAndStopLeavesNothing(t *testing.T) {
	requireTools(t)
	ctx := t.Context()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := Install(ctx, dir, &syncWriter{w: &log}); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	e, err := Start(ctx, Options{Dir: dir, Log: &syncWriter{w: &log}})
	if err != nil {
		t.Fatalf("Start: %v\nlog:\n%s", err, log.String())
	}
	t.Logf("emulators answered after %v", time.Since(begin).Round(time.Millisecond))
	defer e.Stop()

	for _, u := range []string{e.DynamoURL, e.SQSURL, e.S3URL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("endpoint %q is not on loopback", u)
		}
	}
	if e.S3URL != e.SQSURL {
		t.Errorf("S3URL %q != SQSURL %q; fauxqs serves both on one port", e.S3URL, e.SQSURL)
	}
	wantEnv := []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + e.DynamoURL,
		"AWS_ENDPOINT_URL_SQS=" + e.SQSURL,
		"AWS_ENDPOINT_URL_S3=" + e.S3URL,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if diff := cmp.Diff(wantEnv, e.Env()); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if ip := nonLoopbackIP(); ip != "" {
		for _, u := range []string{e.DynamoURL, e.SQSURL} {
			port := u[strings.LastIndex(u, ":")+1:]
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), time.Second); err == nil {
				c.Close()
				t.Errorf("%s answers on %s: the emulators must bind 127.0.0.1 only", u, ip)
			}
		}
	}

	var pids []int
	for _, p := range e.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	e.Stop()
	e.Stop() // idempotent
	for _, pid := range pids {
		// Setpgid: each child leads its own group; no member of it may survive.
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after Stop (kill 0: %v)", pid, err)
		}
	}
	if strings.Contains(log.String(), "killed") {
		t.Errorf("an emulator needed SIGKILL:\n%s", log.String())
	}
}

// TestDataDirSurvivesRestart: with DataDir, a table written before Stop is there after the
// next Start, whatever credentials the client uses (-sharedDb). (DynamoDB Local 1.25 accepts
// only letters and digits in an access key id: "someone-else" is refused.)
func TestDataDirSurvivesRestart(t *testing.T) {
	requireTools(t)
	ctx := t.Context()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if err := Install(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	client := func(e *Emulators, key string) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{
			Region: Region, BaseEndpoint: aws.String(e.DynamoURL),
			Credentials: credentials.NewStaticCredentialsProvider(key, key, ""),
		})
	}
	tests := []struct {
		name  string
		key   string
		write bool
	}{
		{"first run creates", "local", true},
		{"restart with other credentials finds it", "other", false},
	}
	for _, tt := range tests {
		e, err := Start(ctx, Options{Dir: dir, DataDir: data})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		db := client(e, tt.key)
		if tt.write {
			_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String("Kept"),
				BillingMode:          types.BillingModePayPerRequest,
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
			})
		} else {
			_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Kept")})
		}
		e.Stop()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
}

func TestStartFailsFastWithoutInstall(t *testing.T) {
	_, err := Start(context.Background(), Options{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "run emulator.Install first") {
		t.Fatalf("Start in an empty dir: %v", err)
	}
}

func nonLoopbackIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

func TestLineWriter(t *testing.T) {
	tests := []struct {
		name      string
		writes    []string
		wantLog   string
		wantReady string
		wantTail  string
	}{
		{
			name:      "split writes",
			writes:    []string{"booting\nfauxqs listen", "ing on 127.0.0.1:4242\r\n", "more"},
			wantLog:   "[x] booting\n[x] fauxqs listening on 127.0.0.1:4242\n",
			wantReady: "fauxqs listening on 127.0.0.1:4242",
			wantTail:  "  booting\n  fauxqs listening on 127.0.0.1:4242\n  more",
		},
		{
			name:     "no ready line",
			writes:   []string{"Exception in thread main\n"},
			wantLog:  "[x] Exception in thread main\n",
			wantTail: "  Exception in thread main\n  ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			w := newLineWriter("x", &log)
			for _, s := range tt.writes {
				w.Write([]byte(s))
			}
			var ready string
			select {
			case ready = <-w.ready:
			default:
			}
			got := []string{log.String(), ready, w.tail()}
			if diff := cmp.Diff([]string{tt.wantLog, tt.wantReady, tt.wantTail}, got); diff != "" {
				t.Errorf("log, ready, tail (-want +got):\n%s", diff)
			}
		})
	}
}

// Command local is Yinling's offline stack: every function of template.yaml in one process, on
// real emulators, with the routes, queues, schedules and authorizer the template declares.
//
//	local install               install the emulators (npm packages; checks Java and Node)
//	local serve [-port 3000]    start the emulators and the whole stack (make dev)
//	local test -- CMD…          run CMD with fresh in-memory emulators (make test)
//	local token                 print a staff JWT for the demo store (make token)
//	local logscan DIR           scan captured log lines for phones, codes, tokens (make test)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"yinling/cmd/local/emulator"
	"yinling/shared/sam"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := repoRoot()
	if err != nil {
		fail(err)
	}
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "install":
		err = emulator.Install(ctx, filepath.Join(root, "cmd", "local", "emulators"), os.Stderr)
	case "serve":
		err = serveCmd(ctx, root, args)
	case "test":
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
		if len(args) == 0 {
			usage()
		}
		os.Exit(runWithEmulators(ctx, args))
	case "token":
		err = tokenCmd(root, args)
	case "logscan":
		err = logscanCmd(args, os.Stdout)
	default:
		usage()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fail(err)
	}
}

func serveCmd(ctx context.Context, root string, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	cfg := serveConfig{root: root}
	fs.IntVar(&cfg.port, "port", 3000, "HTTP port on 127.0.0.1")
	fs.BoolVar(&cfg.fresh, "fresh", false, "start from an empty table")
	fs.DurationVar(&cfg.tick, "tick", 0, "fire scheduled functions this often (default: the template's rate)")
	_ = fs.Parse(args)
	return serve(ctx, cfg)
}

func tokenCmd(root string, args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	store := fs.String("store", demoStoreID, "store id claim")
	role := fs.String("role", "manager", "role claim: staff or manager")
	_ = fs.Parse(args)
	iss, err := localIssuer(root)
	if err != nil {
		return err
	}
	tok, err := mintStaffToken(iss, *store, *role, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// repoRoot is the directory holding go.mod and template.yaml.
func repoRoot() (string, error) {
	path, err := sam.Find()
	if err != nil {
		return "", err
	}
	return filepath.Dir(path), nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: local install | serve [-port N] [-fresh] [-tick D] | test -- CMD… | token [-store ID] [-role R]")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "local:", err)
	os.Exit(1)
}

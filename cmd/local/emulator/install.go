package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// Paths inside the emulators directory (cmd/local/emulators).
const (
	lockFile     = "package-lock.json"
	npmMarker    = "node_modules/.package-lock.json" // written by npm at the end of every install
	dynamoDir    = "node_modules/amplify-dynamodb-simulator/emulator"
	dynamoJar    = dynamoDir + "/DynamoDBLocal.jar"
	dynamoLib    = dynamoDir + "/DynamoDBLocal_lib"
	launcherSrc  = "DynamoDBLocalLoopback.java"
	launcherDir  = "node_modules/.yinling" // compiled launcher; npm ci wipes it with node_modules
	launcherMain = "DynamoDBLocalLoopback"
	fauxqsScript = "fauxqs.mjs"
)

// minNode is the oldest Node.js fauxqs 1.9.2 supports.
const minNode = 20

// Install makes dir (cmd/local/emulators) ready for Start on a fresh machine: it checks that
// java, javac, node and npm are there, runs `npm ci` when node_modules is missing or older
// than package-lock.json, and compiles the DynamoDB Local loopback launcher when its class is
// missing or stale. Progress goes to log.
func Install(ctx context.Context, dir string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	if err := checkTools(ctx); err != nil {
		return err
	}
	if stale, err := olderThan(filepath.Join(dir, npmMarker), filepath.Join(dir, lockFile)); err != nil {
		return fmt.Errorf("install emulators: %w", err)
	} else if stale {
		fmt.Fprintf(log, "emulator: npm ci in %s\n", dir)
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("install emulators: npm ci in %s: %w (is the npm registry reachable?)", dir, err)
		}
	}
	class := filepath.Join(dir, launcherDir, launcherMain+".class")
	if stale, err := olderThan(class, filepath.Join(dir, launcherSrc)); err != nil {
		return fmt.Errorf("install emulators: %w", err)
	} else if stale {
		fmt.Fprintf(log, "emulator: compiling %s\n", launcherSrc)
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, "javac", "-nowarn", "-d", filepath.Join(dir, launcherDir),
			"-cp", filepath.Join(dir, dynamoJar), filepath.Join(dir, launcherSrc))
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("install emulators: javac %s: %w\n%s", launcherSrc, err, out.Bytes())
		}
	}
	return nil
}

// olderThan reports whether target is missing or older than source.
func olderThan(target, source string) (bool, error) {
	src, err := os.Stat(source)
	if err != nil {
		return false, err
	}
	dst, err := os.Stat(target)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return dst.ModTime().Before(src.ModTime()), nil
}

const jdkHint = "install a JDK 17: `sudo apt-get install -y openjdk-17-jdk-headless` (macOS: `brew install openjdk@17`)"

const nodeHint = "install Node.js 20 or newer: `curl -fsSL https://deb.nodesource.com/setup_20.x | sudo bash - && sudo apt-get install -y nodejs` (macOS: `brew install node@20`)"

var nodeVersion = regexp.MustCompile(`^v(\d+)\.`)

// checkTools fails with an actionable message when a tool the emulators need is missing.
func checkTools(ctx context.Context) error {
	if out, err := exec.CommandContext(ctx, "java", "-version").CombinedOutput(); err != nil {
		return fmt.Errorf("DynamoDB Local needs Java (java -version: %v %s): %s", err, bytes.TrimSpace(out), jdkHint)
	}
	// javac compiles the loopback launcher once; a JRE alone lacks it.
	if out, err := exec.CommandContext(ctx, "javac", "-version").CombinedOutput(); err != nil {
		return fmt.Errorf("the DynamoDB Local launcher needs javac, which a JRE lacks (javac -version: %v %s): %s", err, bytes.TrimSpace(out), jdkHint)
	}
	out, err := exec.CommandContext(ctx, "node", "--version").Output()
	if err != nil {
		return fmt.Errorf("fauxqs (SQS and S3) needs Node.js (node --version: %v): %s", err, nodeHint)
	}
	major := 0
	if m := nodeVersion.FindSubmatch(bytes.TrimSpace(out)); m != nil {
		major, _ = strconv.Atoi(string(m[1]))
	}
	if major < minNode {
		return fmt.Errorf("fauxqs needs Node.js %d+, found %s: %s", minNode, bytes.TrimSpace(out), nodeHint)
	}
	if _, err := exec.CommandContext(ctx, "npm", "--version").Output(); err != nil {
		return fmt.Errorf("npm installs the emulators (npm --version: %v): %s", err, nodeHint)
	}
	return nil
}

package coldstart

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"yinling/shared/sam"
)

// lambdaFlags are the Makefile's LAMBDA_GOFLAGS: how every function is built for Lambda.
var lambdaFlags = []string{"-tags=lambda.norpc", "-trimpath", "-ldflags=-s"}

// helloPkg is the hello-world Lambda, the floor of the cold-start figures.
const helloPkg = "./tests/coldstart/testdata/hello"

// target is one function to build: its short name and package path from the module root.
type target struct{ name, pkg string }

// targets are the template's functions (their CodeUri) and, if hello, the hello-world Lambda.
func targets(t testing.TB, tmpl *sam.Template, hello bool) []target {
	t.Helper()
	var out []target
	if hello {
		out = append(out, target{"hello", helloPkg})
	}
	for _, f := range tmpl.Functions {
		out = append(out, target{f.Name, "./" + f.CodeUri})
	}
	if len(out) < 2 {
		t.Fatal("the template has no functions")
	}
	return out
}

// moduleRoot is the directory of go.mod, where the packages above are relative to.
func moduleRoot(t testing.TB) string {
	t.Helper()
	p, err := sam.Find()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(p)
}

func loadTemplate(t testing.TB) *sam.Template {
	t.Helper()
	p, err := sam.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := sam.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// builds caches binaries per GOOS/GOARCH for the whole test binary: the test and the
// benchmarks of a run share them.
var builds struct {
	sync.Mutex
	dir  string
	done map[string]string // goos/goarch/name → path
}

// build compiles each target for goos/goarch with the Lambda flags into a temporary directory
// and returns their paths by name. The first build compiles the shared dependencies; the rest
// run two at a time, mostly linking.
func build(t testing.TB, goos, goarch string, ts []target) map[string]string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "yinling-coldstart-")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.done = dir, map[string]string{}
	}
	root := moduleRoot(t)
	out := map[string]string{}
	var todo []target
	for _, tg := range ts {
		if p, ok := builds.done[goos+"/"+goarch+"/"+tg.name]; ok {
			out[tg.name] = p
		} else {
			todo = append(todo, tg)
		}
	}
	one := func(tg target) error {
		bin := filepath.Join(builds.dir, goos+"_"+goarch, tg.name, "bootstrap")
		args := append([]string{"build", "-o", bin}, lambdaFlags...)
		cmd := exec.Command("go", append(args, tg.pkg)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s for %s/%s: %v\n%s", tg.pkg, goos, goarch, err, b)
		}
		return nil
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 2)
	)
	done := func(tg target, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		bin := filepath.Join(builds.dir, goos+"_"+goarch, tg.name, "bootstrap")
		builds.done[goos+"/"+goarch+"/"+tg.name] = bin
		out[tg.name] = bin
	}
	for i, tg := range todo {
		if i == 0 { // compiles what every function shares, once
			done(tg, one(tg))
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			done(tg, one(tg))
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	return out
}

// hostBuild builds ts for the machine the tests run on.
func hostBuild(t testing.TB, ts []target) map[string]string {
	return build(t, runtime.GOOS, runtime.GOARCH, ts)
}

// zipSize is the size of a Lambda zip holding bin as "bootstrap", deflated at the best level
// (as `zip -9` in the Makefile).
func zipSize(bin string) (int64, error) {
	f, err := os.Open(bin)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(w, f); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
}

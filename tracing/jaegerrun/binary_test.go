package jaegerrun_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/tracing/jaegerrun"
)

// checkout makes a fake contrail checkout: root/tools/{go.mod,go.sum} (the
// go.mod requiring Jaeger) and a nested working directory. It returns the
// tools dir and the nested dir.
func checkout(t *testing.T) (tools, nested string) {
	t.Helper()
	root := t.TempDir()
	tools = filepath.Join(root, "tools")
	nested = filepath.Join(root, "services", "platform", "deep")
	for _, d := range []string{tools, nested} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(tools, "go.mod"), "module tools\n\nrequire github.com/jaegertracing/jaeger v1.76.0\n")
	write(t, filepath.Join(tools, "go.sum"), "")
	return tools, nested
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// age sets path's modification time to now minus d.
func age(t *testing.T, path string, d time.Duration) {
	t.Helper()
	tm := time.Now().Add(-d)
	if err := os.Chtimes(path, tm, tm); err != nil {
		t.Fatal(err)
	}
}

func TestFindTools(t *testing.T) {
	tools, nested := checkout(t)
	// A tools/ without Jaeger in between must be skipped.
	write(t, filepath.Join(filepath.Dir(nested), "tools", "go.mod"), "module other\n")
	tests := []struct {
		name, dir, want string
	}{
		{name: "from a nested directory", dir: nested, want: tools},
		{name: "from the checkout root", dir: filepath.Dir(tools), want: tools},
		{name: "from tools itself", dir: tools, want: tools},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jaegerrun.FindTools(tt.dir)
			if err != nil || got != tt.want {
				t.Fatalf("FindTools(%s) = %q, %v; want %q", tt.dir, got, err, tt.want)
			}
		})
	}
	t.Run("from the working directory", func(t *testing.T) {
		t.Chdir(nested)
		if got, err := jaegerrun.FindTools(""); err != nil || got != tools {
			t.Fatalf("FindTools(\"\") = %q, %v; want %q", got, err, tools)
		}
	})
}

func TestFindToolsOutsideACheckout(t *testing.T) {
	dir := t.TempDir()
	if _, err := jaegerrun.FindTools("/"); err == nil {
		t.Skip("this machine has a /tools/go.mod requiring Jaeger")
	}
	_, err := jaegerrun.FindTools(dir)
	if !errors.Is(err, jaegerrun.ErrNoTools) {
		t.Fatalf("err = %v, want ErrNoTools", err)
	}
	for _, advice := range []string{"inside a contrail checkout", jaegerrun.EnvBin, dir} {
		if !strings.Contains(err.Error(), advice) {
			t.Errorf("error %q does not mention %q", err, advice)
		}
	}
	// Binary reports the same, not a build failure.
	t.Setenv(jaegerrun.EnvBin, "")
	if _, err := jaegerrun.Binary(context.Background(), jaegerrun.WithDir(dir)); !errors.Is(err, jaegerrun.ErrNoTools) {
		t.Errorf("Binary outside a checkout: %v, want ErrNoTools", err)
	}
}

func TestStale(t *testing.T) {
	tools, _ := checkout(t)
	bin := jaegerrun.ToolsBinary(tools)
	if !jaegerrun.Stale(tools) {
		t.Fatal("a missing binary must be stale")
	}
	write(t, bin, "binary")
	age(t, filepath.Join(tools, "go.mod"), time.Hour)
	age(t, filepath.Join(tools, "go.sum"), time.Hour)
	age(t, bin, time.Minute)
	if jaegerrun.Stale(tools) {
		t.Fatal("a binary newer than go.mod and go.sum must be up to date")
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		t.Run("touched "+f, func(t *testing.T) {
			p := filepath.Join(tools, f)
			age(t, p, 0)
			if !jaegerrun.Stale(tools) {
				t.Errorf("%s newer than the binary: want a rebuild", f)
			}
			age(t, p, time.Hour)
			if jaegerrun.Stale(tools) {
				t.Errorf("%s aged again: want no rebuild", f)
			}
		})
	}
}

// fakeGo puts a `go` first on PATH that logs each call and writes the -o
// file, or fails when fail is true. It returns the call log's path.
func fakeGo(t *testing.T, fail bool) string {
	return fakeGoSleep(t, fail, "0")
}

// fakeGoSleep is fakeGo whose build takes secs seconds.
func fakeGoSleep(t *testing.T, fail bool, secs string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("fake go is a shell script")
	}
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	script := fmt.Sprintf(`#!/bin/sh
echo "$*" >> %q
while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then shift; out=$1; fi
  shift
done
if [ %q = true ]; then echo "boom: cannot build" >&2; exit 1; fi
sleep %s
printf 'fake jaeger' > "$out"
`, calls, fmt.Sprint(fail), secs)
	write(t, filepath.Join(dir, "go"), script)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(jaegerrun.EnvBin, "")
	return calls
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestBinaryBuildsOnlyWhenStale(t *testing.T) {
	calls := fakeGo(t, false)
	tools, nested := checkout(t)
	var said []string
	say := func(f string, args ...any) { said = append(said, fmt.Sprintf(f, args...)) }

	bin, err := jaegerrun.Binary(context.Background(), jaegerrun.WithDir(nested), jaegerrun.WithProgress(say))
	if err != nil {
		t.Fatal(err)
	}
	if bin != jaegerrun.ToolsBinary(tools) {
		t.Errorf("Binary = %s, want %s", bin, jaegerrun.ToolsBinary(tools))
	}
	got := lines(t, calls)
	if len(got) != 1 || !strings.HasPrefix(got[0], "-C "+tools+" build -o ") || !strings.HasSuffix(got[0], " "+jaegerrun.Package) {
		t.Fatalf("go calls %q: want one `go -C tools build -o <tmp> %s`", got, jaegerrun.Package)
	}
	if b, _ := os.ReadFile(bin); string(b) != "fake jaeger" {
		t.Errorf("installed binary holds %q", b)
	}
	if len(said) != 1 || !strings.Contains(said[0], "few minutes") {
		t.Errorf("progress %q: want one message warning the build takes minutes", said)
	}
	if left, _ := filepath.Glob(bin + ".tmp*"); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Up to date: no build, no message.
	said = nil
	if _, err := jaegerrun.Binary(context.Background(), jaegerrun.WithDir(nested), jaegerrun.WithProgress(say)); err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, calls)); n != 1 || len(said) != 0 {
		t.Errorf("fresh binary: %d go calls, progress %q; want no rebuild", n, said)
	}

	// go.mod changed: rebuild.
	age(t, bin, time.Minute)
	age(t, filepath.Join(tools, "go.mod"), 0)
	if _, err := jaegerrun.Binary(context.Background(), jaegerrun.WithDir(nested)); err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, calls)); n != 2 {
		t.Errorf("after touching go.mod: %d go calls, want 2", n)
	}
}

func TestConcurrentBinaryCallsBuildOnce(t *testing.T) {
	calls := fakeGoSleep(t, false, "0.3")
	tools, nested := checkout(t)
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			bin, err := jaegerrun.Binary(context.Background(), jaegerrun.WithDir(nested))
			if err == nil && bin != jaegerrun.ToolsBinary(tools) {
				err = fmt.Errorf("Binary = %s", bin)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := lines(t, calls); len(got) != 1 {
		t.Errorf("%d concurrent callers ran %d builds, want 1: %q", n, len(got), got)
	}
}

func TestBinaryBuildFailure(t *testing.T) {
	fakeGo(t, true)
	tools, nested := checkout(t)
	_, err := jaegerrun.Binary(context.Background(), jaegerrun.WithDir(nested))
	var be *jaegerrun.BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want *BuildError", err)
	}
	if be.Tools != tools || !strings.Contains(err.Error(), "boom: cannot build") || !strings.Contains(err.Error(), jaegerrun.EnvBin) {
		t.Errorf("error %q: want the tools dir, go's output and the %s advice", err, jaegerrun.EnvBin)
	}
	if _, err := os.Stat(jaegerrun.ToolsBinary(tools)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build installed a binary (stat: %v)", err)
	}
	if left, _ := filepath.Glob(jaegerrun.ToolsBinary(tools) + ".tmp*"); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBinaryExplicitPath(t *testing.T) {
	calls := fakeGo(t, false)
	prebuilt := filepath.Join(t.TempDir(), "jaeger")
	write(t, prebuilt, "prebuilt")
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name, env, path, want, wantErr string
	}{
		{name: "WithPath", path: prebuilt, want: prebuilt},
		{name: "environment", env: prebuilt, want: prebuilt},
		{name: "WithPath wins over the environment", env: missing, path: prebuilt, want: prebuilt},
		{name: "missing WithPath", path: missing, wantErr: missing},
		{name: "missing environment", env: missing, wantErr: jaegerrun.EnvBin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(jaegerrun.EnvBin, tt.env)
			got, err := jaegerrun.Binary(context.Background(), jaegerrun.WithPath(tt.path), jaegerrun.WithDir(t.TempDir()))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("err = %v, want ErrNotExist naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Binary = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if n := len(lines(t, calls)); n != 0 {
		t.Errorf("an explicit binary must never build (%d go calls)", n)
	}
}

func TestBinaryCancelledBuild(t *testing.T) {
	fakeGo(t, false)
	_, nested := checkout(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := jaegerrun.Binary(ctx, jaegerrun.WithDir(nested)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

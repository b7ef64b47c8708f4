// Package jaegerrun runs Jaeger v2 from the repository's tools/ module, for
// `contrail up` (package platform) and the end-to-end trace tests
// (tracing/tracingtest): FindTools locates tools/ above a directory, Binary
// returns a Jaeger binary (building tools/bin/jaeger when it is missing or
// stale), and Config renders the all-in-one configuration with memory
// storage. Starting and stopping the process stays with the caller, which
// owns its logs and lifetime.
package jaegerrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// EnvBin names a prebuilt Jaeger v2 binary that Binary uses instead of
// building one from tools/.
const EnvBin = "CONTRAIL_JAEGER_BIN"

// Package is the Go package tools/ builds Jaeger from.
const Package = "github.com/jaegertracing/jaeger/cmd/jaeger"

// Env is what a Jaeger process's environment must add (after the
// parent's, so it wins) to keep Jaeger from tracing itself towards
// whatever OTEL_* collector the parent is configured with; Config.YAML
// turns its self-tracing off as well.
var Env = []string{"OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true"}

// ErrNoTools means no tools/go.mod requiring Jaeger was found above the
// directory searched. Errors returned by FindTools and Binary wrap it.
var ErrNoTools = errors.New("jaegerrun: no tools/ module requiring Jaeger found: run inside a contrail checkout (its tools/ builds Jaeger) or set " + EnvBin + " to a Jaeger v2 binary")

// BuildError is returned by Binary when `go -C <Tools> build` fails. Output
// is what the go command printed; Err is its exit error (or ctx's).
type BuildError struct {
	Tools  string
	Output []byte
	Err    error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("jaegerrun: build Jaeger (go -C %s build %s): %v\n%s\nset %s to a prebuilt Jaeger v2 binary to skip the build", e.Tools, Package, e.Err, bytes.TrimSpace(e.Output), EnvBin)
}

func (e *BuildError) Unwrap() error { return e.Err }

// FindTools returns the tools/ directory of the checkout containing dir (or
// the working directory when dir is ""): the first tools/go.mod requiring
// Jaeger found walking up from dir. The error wraps ErrNoTools when there
// is none.
func FindTools(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("jaegerrun: %w", err)
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("jaegerrun: %w", err)
	}
	start := dir
	for {
		b, err := os.ReadFile(filepath.Join(dir, "tools", "go.mod"))
		if err == nil && bytes.Contains(b, []byte("jaegertracing/jaeger")) {
			return filepath.Join(dir, "tools"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w (searched %s and its parents)", ErrNoTools, start)
		}
		dir = parent
	}
}

// Opt configures Binary.
type Opt interface{ apply(*binOpts) }

type binOpts struct {
	path string
	dir  string
	say  func(format string, args ...any)
}

type optFunc func(*binOpts)

func (f optFunc) apply(o *binOpts) { f(o) }

// WithPath makes Binary return path (which must exist) instead of building.
// Default: $CONTRAIL_JAEGER_BIN, then tools/bin/jaeger. An empty path keeps
// the default.
func WithPath(path string) Opt {
	return optFunc(func(o *binOpts) {
		if path != "" {
			o.path = path
		}
	})
}

// WithDir sets where the search for tools/ starts. Default: the working
// directory.
func WithDir(dir string) Opt { return optFunc(func(o *binOpts) { o.dir = dir }) }

// WithProgress sets a printf-style callback told, before it happens, that
// Binary is building Jaeger (the first build takes minutes) or waiting for
// another process's build. Default: silent. nil keeps the default.
func WithProgress(say func(format string, args ...any)) Opt {
	return optFunc(func(o *binOpts) {
		if say != nil {
			o.say = say
		}
	})
}

func defaults() binOpts {
	return binOpts{path: os.Getenv(EnvBin), say: func(string, ...any) {}}
}

// Binary returns the path of a Jaeger v2 binary: the WithPath one or
// $CONTRAIL_JAEGER_BIN if set (an error if it does not exist), else
// tools/bin/jaeger of the checkout found by FindTools, built with
// `go -C tools build` when it is missing or older than tools/go.mod or
// tools/go.sum. The build writes a temporary file and renames it into
// place, and is serialized across processes by a lock file, so concurrent
// callers never see a half-written binary and build at most once.
// Cancelling ctx stops a build or a wait for another process's build. Safe
// for concurrent use.
func Binary(ctx context.Context, opts ...Opt) (string, error) {
	o := defaults()
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.path != "" {
		if _, err := os.Stat(o.path); err != nil {
			return "", fmt.Errorf("jaegerrun: Jaeger binary given (explicit path or $%s): %w; point it at a Jaeger v2 binary, or unset it to build one from tools/", EnvBin, err)
		}
		return o.path, nil
	}
	tools, err := FindTools(o.dir)
	if err != nil {
		return "", err
	}
	bin := ToolsBinary(tools)
	if !Stale(tools) {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("jaegerrun: %w", err)
	}
	unlock, err := lockFile(ctx, bin+".lock", func() {
		o.say("jaeger     waiting for another process building %s...", bin)
	})
	if err != nil {
		return "", err
	}
	defer unlock()
	if !Stale(tools) { // another process built it while we waited
		return bin, nil
	}
	o.say("jaeger     building from %s (the first build downloads and compiles Jaeger: expect a few minutes)...", tools)
	f, err := os.CreateTemp(filepath.Dir(bin), filepath.Base(bin)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("jaegerrun: %w", err)
	}
	tmp := f.Name()
	f.Close()
	cmd := exec.CommandContext(ctx, "go", "-C", tools, "build", "-o", tmp, Package)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", &BuildError{Tools: tools, Output: out, Err: err}
	}
	if err := os.Rename(tmp, bin); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("jaegerrun: install Jaeger binary: %w", err)
	}
	return bin, nil
}

// ToolsBinary returns where tools/ keeps its Jaeger build: tools/bin/jaeger
// (what `make jaeger` writes).
func ToolsBinary(tools string) string { return filepath.Join(tools, "bin", "jaeger") }

// Stale reports whether ToolsBinary(tools) needs a build: it is missing, not
// a regular file, or older than tools/go.mod or tools/go.sum, the only inputs
// that change which Jaeger gets built. A missing go.mod or go.sum counts as
// stale too, so the build reports the problem.
func Stale(tools string) bool {
	fi, err := os.Stat(ToolsBinary(tools))
	if err != nil || !fi.Mode().IsRegular() {
		return true
	}
	return olderThanInputs(tools, fi.ModTime())
}

func olderThanInputs(tools string, built time.Time) bool {
	for _, f := range []string{"go.mod", "go.sum"} {
		fi, err := os.Stat(filepath.Join(tools, f))
		if err != nil || fi.ModTime().After(built) {
			return true
		}
	}
	return false
}

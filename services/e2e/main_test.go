// Package e2e_test holds the end-to-end tests of the reference order flow
// as a user meets it: `contrail up`'s platform (embedded broker, registry,
// the four services as `contrail service <name>` subprocesses) exporting to
// a real Jaeger, driven over HTTP and read back through Jaeger's API and
// `contrail trace`.
package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// contrailBin is the contrail binary, built once per test run: the platform
// runs each service as `contrail service <name>` and the test runs
// `contrail trace`, exactly as a user would.
var contrailBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "contrail-e2e-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	contrailBin = filepath.Join(dir, "contrail")
	out, err := exec.Command("go", "build", "-o", contrailBin, "github.com/contrail-events/contrail/cmd/contrail").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build the contrail binary: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

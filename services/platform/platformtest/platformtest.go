// Package platformtest runs the platform in tests: it builds the contrail
// binary the platform runs its services with, once per test binary, and
// gives a Config with every part on a free loopback port.
package platformtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/services/platform"
)

// Package is the contrail command Main builds.
const Package = "github.com/contrail-events/contrail/cmd/contrail"

// Main builds the contrail binary into a temporary directory, sets *bin to
// its path, runs m, removes the directory and exits with m's code. Call it
// from TestMain. A failed build prints go build's output and exits 1 before
// any test runs.
func Main(m *testing.M, bin *string) {
	dir, err := os.MkdirTemp("", "contrail-platformtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, "platformtest:", err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, "contrail")
	out, err := exec.Command("go", "build", "-o", *bin, Package).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "platformtest: build the contrail binary: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Config returns a platform configuration for a test: state in dataDir,
// services run from bin (see Main), the broker, registry and every service
// on a free loopback port, no Jaeger, and env as the services' extra
// environment.
func Config(bin, dataDir string, env ...string) platform.Config {
	addrs := map[string]string{}
	for _, s := range platform.Services {
		addrs[s] = "127.0.0.1:0"
	}
	return platform.Config{
		DataDir: dataDir, NoJaeger: true, Executable: bin,
		BrokerAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0",
		ServiceAddrs: addrs, Env: env,
	}
}

// Package e2e_test holds the end-to-end tests of the reference order flow
// as a user meets it: `contrail up`'s platform (embedded broker, registry,
// the four services as `contrail service <name>` subprocesses) exporting to
// a real Jaeger, driven over HTTP and read back through Jaeger's API and
// `contrail trace`.
package e2e_test

import (
	"flag"
	"os"
	"testing"

	"github.com/contrail-events/contrail/platform/platformtest"
)

// contrailBin is the contrail binary, built once per test run: the platform
// runs each service as `contrail service <name>` and the test runs
// `contrail trace`, exactly as a user would. In -short mode it is not
// built: every test here skips.
var contrailBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	platformtest.Main(m, &contrailBin)
}

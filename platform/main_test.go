package platform_test

import (
	"flag"
	"os"
	"testing"

	"github.com/contrail-events/contrail/platform/platformtest"
)

// contrailBin is the contrail binary the platform runs its services with,
// built once for the package's tests. In -short mode it is not built: the
// tests that run the platform skip.
var contrailBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	platformtest.Main(m, &contrailBin)
}

package platform_test

import (
	"testing"

	"github.com/contrail-events/contrail/platform/platformtest"
)

// contrailBin is the contrail binary the platform runs its services with,
// built once for the package's tests.
var contrailBin string

func TestMain(m *testing.M) { platformtest.Main(m, &contrailBin) }

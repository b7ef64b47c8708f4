package platform_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// contrailBin is the contrail binary the platform runs its services with,
// built once for the package's tests.
var contrailBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "contrail-platform-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	contrailBin = filepath.Join(dir, "contrail")
	out, err := exec.Command("go", "build", "-o", contrailBin, "github.com/contrail-events/contrail/cmd/contrail").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build contrail: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

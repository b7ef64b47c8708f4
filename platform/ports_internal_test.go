package platform

import (
	"net"
	"testing"
)

// TestPortPickerNeverHandsOutAPortTwice: the kernel may return a port it
// returned before while that port's process has not bound it yet; the
// picker asks again instead of giving two subprocesses one port.
func TestPortPickerNeverHandsOutAPortTwice(t *testing.T) {
	script := []string{"5000", "5000", "5001", "5000", "5001", "8080", "5002"}
	pp := portPicker{used: map[string]bool{}, pick: func(string) (string, error) {
		p := script[0]
		script = script[1:]
		return p, nil
	}}
	var got []string
	for _, addr := range []string{"127.0.0.1:0", "127.0.0.1:8080", "127.0.0.1:0", "127.0.0.1:0"} {
		a, err := pp.resolve(addr)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	want := []string{"127.0.0.1:5000", "127.0.0.1:8080", "127.0.0.1:5001", "127.0.0.1:5002"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("handed out %v, want %v", got, want)
		}
	}
	// With the real kernel: many picks, all distinct and free.
	real := portPicker{used: map[string]bool{}}
	for range 200 {
		a, err := real.resolve("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("picked %s, which is not free: %v", a, err)
		}
		ln.Close()
	}
	if len(real.used) != 200 {
		t.Fatalf("%d distinct addresses in 200 picks", len(real.used))
	}
}

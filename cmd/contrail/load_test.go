package main

import (
	"net"
	"strings"
	"testing"
)

func TestLoadRejectsBadInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "bad format", args: []string{"--format", "xml"}, want: "--format"},
		{name: "no orders", args: []string{"--orders", "0", "--inventory-url", dead}, want: "--orders"},
		{name: "bad mix", args: []string{"--out-of-stock", "0.7", "--declined", "0.6", "--inventory-url", dead}, want: "fractions"},
		{name: "platform down", args: []string{"--orders", "1", "--inventory-url", dead, "--order-url", dead}, want: "contrail up"},
		{name: "bench without pairs", args: []string{"--bench", "--pairs", "0", "--inventory-url", dead}, want: "--pairs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, append([]string{"load"}, tt.args...)...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Fatalf("code %d, stderr %q; want exit %d mentioning %q", code, errOut, exitError, tt.want)
			}
		})
	}
}

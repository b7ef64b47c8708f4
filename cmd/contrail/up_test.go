package main

import (
	"net"
	"strings"
	"testing"
)

func TestUpRejectsBadAddresses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "not host:port", args: []string{"--broker-addr", "nonsense"}, want: "--broker-addr"},
		{name: "bad service addr", args: []string{"--order-addr", "8080"}, want: "--order-addr"},
		{name: "broker port taken", args: []string{"--broker-addr", busy.Addr().String()}, want: "--broker-addr"},
		{name: "replicas without postgres", args: []string{"--replicas", "2"}, want: "--postgres"},
		{name: "negative replicas", args: []string{"--replicas", "-1"}, want: "--replicas"},
		{name: "postgres not a URL", args: []string{"--postgres", "mysql://u:secret@db/x"}, want: "--postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"up", "--no-jaeger", "--data-dir", t.TempDir(), "--registry-addr", "127.0.0.1:0"}, tt.args...)
			code, _, errOut := runCLI(t, args...)
			if code != exitError || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "secret") {
				t.Fatalf("code %d, stderr %q; want exit %d naming %s", code, errOut, exitError, tt.want)
			}
		})
	}
}

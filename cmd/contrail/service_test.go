package main

import (
	"strings"
	"testing"
)

func TestServiceRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "unknown service", args: []string{"service", "billing"}, want: "unknown service"},
		{name: "bad broker list", args: []string{"service", "shipping"}, env: map[string]string{"KAFKA_BROKERS": "no-port"}, want: "KAFKA_BROKERS"},
		{name: "bad sasl", args: []string{"service", "payment"}, env: map[string]string{"KAFKA_SASL_MECHANISM": "GSSAPI"}, want: "KAFKA_SASL_MECHANISM"},
		{name: "bad sqlite sync", args: []string{"service", "inventory"}, env: map[string]string{"CONTRAIL_SQLITE_SYNC": "fsync"}, want: `CONTRAIL_SQLITE_SYNC="fsync": use normal`},
		{name: "bad registry url", args: []string{"service", "order"}, env: map[string]string{"SCHEMA_REGISTRY_URL": "redpanda:8081"}, want: "SCHEMA_REGISTRY_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CONTRAIL_DATA_DIR", t.TempDir())
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, errOut := runCLI(t, tt.args...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Fatalf("code %d, stderr %q; want exit %d mentioning %q", code, errOut, exitError, tt.want)
			}
		})
	}
}

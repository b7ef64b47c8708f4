package jaegerrun_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/contrail-events/contrail/tracing/jaegerrun"
)

// at walks a parsed YAML document along keys.
func at(t *testing.T, doc map[string]any, path string) any {
	t.Helper()
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %q is not a mapping (%T)", path, k, cur)
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("%s: no key %q", path, k)
		}
	}
	return cur
}

func TestYAMLParsesAndCarriesTheConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  jaegerrun.Config
		want map[string]any
	}{
		{
			name: "defaults with health and query gRPC given",
			cfg:  jaegerrun.Config{HealthAddr: "127.0.0.1:13133", QueryGRPCAddr: "127.0.0.1:16685"},
			want: map[string]any{
				"receivers.otlp.protocols.grpc.endpoint":                   "127.0.0.1:4317",
				"receivers.otlp.protocols.http.endpoint":                   "127.0.0.1:4318",
				"extensions.jaeger_query.http.endpoint":                    "127.0.0.1:16686",
				"extensions.jaeger_query.grpc.endpoint":                    "127.0.0.1:16685",
				"extensions.healthcheckv2.http.endpoint":                   "127.0.0.1:13133",
				"processors.batch.timeout":                                 "100ms",
				"extensions.jaeger_storage.backends.mem.memory.max_traces": 100000,
				"service.telemetry.logs.level":                             "warn",
			},
		},
		{
			name: "every field given",
			cfg: jaegerrun.Config{
				OTLPGRPCAddr: "127.0.0.1:24317", OTLPHTTPAddr: "[::1]:24318", QueryHTTPAddr: "localhost:26686",
				QueryGRPCAddr: "127.0.0.1:26685", HealthAddr: ":23133", BatchTimeout: 50 * time.Millisecond,
				MaxTraces: 7, LogLevel: "debug",
			},
			want: map[string]any{
				"receivers.otlp.protocols.grpc.endpoint":                   "127.0.0.1:24317",
				"receivers.otlp.protocols.http.endpoint":                   "[::1]:24318",
				"extensions.jaeger_query.http.endpoint":                    "localhost:26686",
				"extensions.jaeger_query.grpc.endpoint":                    "127.0.0.1:26685",
				"extensions.healthcheckv2.http.endpoint":                   ":23133",
				"processors.batch.timeout":                                 "50ms",
				"extensions.jaeger_storage.backends.mem.memory.max_traces": 7,
				"service.telemetry.logs.level":                             "debug",
			},
		},
	}
	// What every config must carry: memory storage wired end to end, a
	// health check, and no self-tracing (either switch alone lets Jaeger
	// export its own spans to 127.0.0.1:4317).
	always := map[string]any{
		"service.telemetry.traces.level":                  "none",
		"service.telemetry.metrics.level":                 "none",
		"extensions.jaeger_query.enable_tracing":          false,
		"extensions.jaeger_query.storage.traces":          "mem",
		"extensions.healthcheckv2.use_v2":                 true,
		"exporters.jaeger_storage_exporter.trace_storage": "mem",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := tt.cfg.YAML()
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := yaml.Unmarshal(text, &doc); err != nil {
				t.Fatalf("YAML does not parse: %v\n%s", err, text)
			}
			for path, want := range tt.want {
				if got := at(t, doc, path); got != want {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
			for path, want := range always {
				if got := at(t, doc, path); got != want {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
			pipe := at(t, doc, "service.pipelines.traces").(map[string]any)
			for k, want := range map[string]string{"receivers": "otlp", "processors": "batch", "exporters": "jaeger_storage_exporter"} {
				if l, _ := pipe[k].([]any); len(l) != 1 || l[0] != want {
					t.Errorf("traces pipeline %s = %v, want [%s]", k, pipe[k], want)
				}
			}
			exts, _ := at(t, doc, "service.extensions").([]any)
			for _, want := range []string{"jaeger_storage", "jaeger_query", "healthcheckv2"} {
				found := false
				for _, e := range exts {
					found = found || e == want
				}
				if !found {
					t.Errorf("service.extensions %v lacks %s", exts, want)
				}
			}
		})
	}
}

func TestResolvePicksDistinctFreePorts(t *testing.T) {
	c, err := jaegerrun.Config{
		OTLPGRPCAddr: "127.0.0.1:0", OTLPHTTPAddr: "127.0.0.1:0", QueryHTTPAddr: "127.0.0.1:0",
		QueryGRPCAddr: "127.0.0.1:0", HealthAddr: "127.0.0.1:0",
	}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range []string{c.OTLPGRPCAddr, c.OTLPHTTPAddr, c.QueryHTTPAddr, c.QueryGRPCAddr, c.HealthAddr} {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host != "127.0.0.1" || port == "0" || seen[port] {
			t.Errorf("resolved address %q: want 127.0.0.1 with a distinct non-zero port (err %v)", a, err)
		}
		seen[port] = true
	}
	if c.HealthURL() != "http://"+c.HealthAddr+"/status" {
		t.Errorf("HealthURL %q", c.HealthURL())
	}
	if _, err := c.YAML(); err != nil {
		t.Errorf("resolved config does not render: %v", err)
	}
	// Explicit ports stay; the defaults 0 ports get resolved.
	d, err := jaegerrun.Config{QueryHTTPAddr: "127.0.0.1:26686"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if d.QueryHTTPAddr != "127.0.0.1:26686" || d.OTLPGRPCAddr != "127.0.0.1:4317" || strings.HasSuffix(d.HealthAddr, ":0") || strings.HasSuffix(d.QueryGRPCAddr, ":0") {
		t.Errorf("Resolve of defaults = %+v", d)
	}
}

func TestInvalidConfigSaysWhatToFix(t *testing.T) {
	tests := []struct {
		name string
		cfg  jaegerrun.Config
		want string
	}{
		{name: "no port", cfg: jaegerrun.Config{OTLPHTTPAddr: "127.0.0.1"}, want: "OTLPHTTPAddr"},
		{name: "port out of range", cfg: jaegerrun.Config{QueryHTTPAddr: "127.0.0.1:70000"}, want: "0-65535"},
		{name: "yaml-special host", cfg: jaegerrun.Config{QueryHTTPAddr: `a"b:1`}, want: "host has character"},
		{name: "shared address", cfg: jaegerrun.Config{OTLPGRPCAddr: "127.0.0.1:4318"}, want: "give each its own port"},
		{name: "negative batch timeout", cfg: jaegerrun.Config{BatchTimeout: -time.Second}, want: "BatchTimeout"},
		{name: "negative max traces", cfg: jaegerrun.Config{MaxTraces: -1}, want: "MaxTraces"},
		{name: "unknown log level", cfg: jaegerrun.Config{LogLevel: "loud"}, want: "want debug, info, warn or error"},
		{name: "unresolved port", cfg: jaegerrun.Config{}, want: "call Config.Resolve first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.YAML()
			if !errors.Is(err, jaegerrun.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("YAML error = %v, want ErrConfig mentioning %q", err, tt.want)
			}
			if tt.name == "unresolved port" {
				return
			}
			if _, err := tt.cfg.Resolve(); !errors.Is(err, jaegerrun.ErrConfig) {
				t.Errorf("Resolve error = %v, want ErrConfig", err)
			}
		})
	}
}

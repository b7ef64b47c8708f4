package platform_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"go.yaml.in/yaml/v3"
)

// knownEnv is every variable the services read (host.FromEnv, the
// tracing setup, host.NewHost): compose must not rely on anything else.
var knownEnv = map[string]bool{
	"KAFKA_BROKERS": true, "CONTRAIL_BROKERS": true, "SCHEMA_REGISTRY_URL": true, "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": true,
	"CONTRAIL_DATA_DIR": true, "CONTRAIL_HTTP_ADDR": true, "CONTRAIL_GROUP": true, "CONTRAIL_INSTANCE_ID": true,
	"CONTRAIL_REGISTER_SCHEMAS": true, "CONTRAIL_AUTO_REGISTER": true, "CONTRAIL_SQLITE_SYNC": true,
	"KAFKA_TLS": true, "KAFKA_TLS_CA_FILE": true, "KAFKA_TLS_CERT_FILE": true, "KAFKA_TLS_KEY_FILE": true, "KAFKA_TLS_SERVER_NAME": true,
	"KAFKA_SASL_MECHANISM": true, "KAFKA_SASL_USERNAME": true, "KAFKA_SASL_PASSWORD": true,
	"OTEL_SERVICE_NAME": true, "OTEL_EXPORTER_OTLP_ENDPOINT": true, "OTEL_EXPORTER_OTLP_PROTOCOL": true,
	"OTEL_TRACES_SAMPLER": true, "OTEL_TRACES_SAMPLER_ARG": true, "OTEL_SDK_DISABLED": true,
}

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Build       *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		DependsOn map[string]any `yaml:"depends_on"`
	} `yaml:"services"`
}

// TestComposeFile checks deploy/compose.yaml: it parses (with `docker
// compose config` when that plugin is installed, else as YAML with its
// anchors resolved), runs Redpanda, Redpanda Console, Jaeger and the four
// services, and each service is the contrail image switched to Redpanda by
// environment variables alone, which eventing/host accepts as a valid config.
func TestComposeFile(t *testing.T) {
	path := filepath.Join("..", "deploy", "compose.yaml")
	if out, err := exec.Command("docker", "compose", "-f", path, "config", "--quiet").CombinedOutput(); err == nil {
		t.Logf("docker compose config: ok")
	} else {
		t.Logf("docker compose plugin unavailable (%v: %s); checked by YAML parsing only", err, firstLine(string(out)))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatalf("compose.yaml does not parse: %v", err)
	}
	for _, want := range []string{"redpanda", "console", "jaeger", "topics", "order", "inventory", "payment", "shipping"} {
		if _, ok := cf.Services[want]; !ok {
			t.Errorf("compose.yaml has no service %q", want)
		}
	}
	if img := cf.Services["jaeger"].Image; !strings.HasPrefix(img, "jaegertracing/jaeger:") {
		t.Errorf("jaeger image %q", img)
	}
	if img := cf.Services["console"].Image; !strings.Contains(img, "redpandadata/console") {
		t.Errorf("console image %q", img)
	}
	if _, err := os.Stat(filepath.Join("..", "deploy", "Dockerfile")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"order", "inventory", "payment", "shipping"} {
		t.Run(name, func(t *testing.T) {
			s := cf.Services[name]
			if len(s.Command) != 2 || s.Command[0] != "service" || s.Command[1] != name {
				t.Errorf("command %v, want [service %s]", s.Command, name)
			}
			if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" {
				t.Errorf("build %+v, want deploy/Dockerfile", s.Build)
			}
			if _, ok := s.DependsOn["redpanda"]; !ok {
				t.Errorf("does not wait for redpanda")
			}
			for k := range s.Environment {
				if !knownEnv[k] {
					t.Errorf("environment %s is not read by the services", k)
				}
			}
			cfg := host.FromEnv(name, func(k string) string { return s.Environment[k] })
			if err := cfg.Validate(); err != nil {
				t.Fatalf("env gives an invalid config: %v", err)
			}
			if cfg.Durability != statedb.DurabilityFull {
				t.Errorf("durability %v, want full: production loses no committed state change on power loss", cfg.Durability)
			}
			if len(cfg.Brokers) != 1 || !strings.HasPrefix(cfg.Brokers[0], "redpanda:") {
				t.Errorf("brokers %v, want redpanda", cfg.Brokers)
			}
			if !strings.HasPrefix(cfg.RegistryURL, "http://redpanda:") {
				t.Errorf("registry %s, want Redpanda's", cfg.RegistryURL)
			}
			if s.Environment["OTEL_SERVICE_NAME"] != name || !strings.Contains(s.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"], "jaeger") {
				t.Errorf("tracing env %v", s.Environment)
			}
		})
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

package platform_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/eventing/host"
	"go.yaml.in/yaml/v3"
)

// knownEnv is every variable the services read (host.FromEnv, the
// tracing setup, host.NewHost): compose must not rely on anything else.
var knownEnv = map[string]bool{
	"KAFKA_BROKERS": true, "CONTRAIL_BROKERS": true, "SCHEMA_REGISTRY_URL": true, "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": true,
	"CONTRAIL_DATA_DIR": true, "CONTRAIL_HTTP_ADDR": true, "CONTRAIL_GROUP": true, "CONTRAIL_INSTANCE_ID": true,
	"CONTRAIL_REGISTER_SCHEMAS": true, "CONTRAIL_AUTO_REGISTER": true, "CONTRAIL_SQLITE_SYNC": true,
	"CONTRAIL_DATABASE_URL": true, "CONTRAIL_DATABASE_SCHEMA": true,
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
		Ports     []string       `yaml:"ports"`
		Deploy    struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
	} `yaml:"services"`
}

// TestComposeFile checks deploy/compose.yaml: it parses (with `docker
// compose config` when that plugin is installed, else as YAML with its
// anchors resolved), runs Redpanda, Redpanda Console, Jaeger, PostgreSQL
// and two replicas of each of the four services, and each service is the
// contrail image switched to Redpanda and PostgreSQL by environment
// variables alone, which eventing/host accepts as a valid config. Each
// replica gets a host port of its own (a range as wide as the replicas),
// and no two services' ranges overlap.
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
	for _, want := range []string{"redpanda", "console", "jaeger", "topics", "postgres", "order", "inventory", "payment", "shipping"} {
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
	if img := cf.Services["postgres"].Image; !strings.HasPrefix(img, "postgres:") {
		t.Errorf("postgres image %q", img)
	}
	if _, err := os.Stat(filepath.Join("..", "deploy", "Dockerfile")); err != nil {
		t.Fatal(err)
	}
	hostPorts := map[int]string{}
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
			if s.Deploy.Replicas != 2 {
				t.Errorf("deploy.replicas %d, want 2", s.Deploy.Replicas)
			}
			if _, ok := s.DependsOn["postgres"]; !ok {
				t.Errorf("does not wait for postgres")
			}
			if !strings.HasPrefix(cfg.DatabaseURL, "postgres://") || !strings.Contains(cfg.DatabaseURL, "@postgres:5432/") {
				t.Errorf("CONTRAIL_DATABASE_URL %q, want the postgres service: replicas share their state there", cfg.DatabaseURL)
			}
			if strings.Contains(cfg.DatabaseURL, "synchronous_commit") {
				t.Errorf("CONTRAIL_DATABASE_URL %q changes synchronous_commit: production keeps it on", cfg.DatabaseURL)
			}
			if len(s.Ports) != 1 {
				t.Fatalf("ports %v, want one range", s.Ports)
			}
			hostRange, container, _ := strings.Cut(s.Ports[0], ":")
			from, to, _ := strings.Cut(hostRange, "-")
			lo, err1 := strconv.Atoi(from)
			hi, err2 := strconv.Atoi(to)
			if err1 != nil || err2 != nil || hi-lo+1 != s.Deploy.Replicas || container != "8080" {
				t.Fatalf("ports %q: want a host range with one port per replica onto 8080", s.Ports[0])
			}
			for p := lo; p <= hi; p++ {
				if other, ok := hostPorts[p]; ok {
					t.Errorf("host port %d used by %s and %s", p, other, name)
				}
				hostPorts[p] = name
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

// TestComposeRegistryReplicas checks the three Contrail registry replicas
// in deploy/compose.yaml: each runs `registry serve --store kafka` on the
// contrail image against Redpanda, all on one state topic that is not
// Redpanda's own _schemas, each advertising its own URL on its own host port.
func TestComposeRegistryReplicas(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatal(err)
	}
	topics, urls, ports := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, name := range []string{"registry-1", "registry-2", "registry-3"} {
		svc, ok := cf.Services[name]
		if !ok {
			t.Fatalf("compose.yaml has no service %q", name)
		}
		cmd := strings.Join(svc.Command, " ")
		if svc.Image != "contrail:dev" || !strings.HasPrefix(cmd, "registry serve --store kafka") || svc.Environment["KAFKA_BROKERS"] != "redpanda:9092" {
			t.Errorf("%s: image %q, command %q, brokers %q", name, svc.Image, cmd, svc.Environment["KAFKA_BROKERS"])
		}
		arg := func(flag string) string {
			for i, a := range svc.Command {
				if a == flag && i+1 < len(svc.Command) {
					return svc.Command[i+1]
				}
			}
			return ""
		}
		topics[arg("--topic")] = true
		urls[arg("--advertised-url")] = true
		for _, p := range svc.Ports {
			ports[p] = true
		}
		if arg("--advertised-url") != "http://"+name+":8081" {
			t.Errorf("%s advertises %q", name, arg("--advertised-url"))
		}
	}
	if len(topics) != 1 || topics["_schemas"] || topics[""] {
		t.Errorf("the replicas' topics %v: want one shared topic other than Redpanda's _schemas", topics)
	}
	if len(urls) != 3 || len(ports) != 3 {
		t.Errorf("advertised URLs %v, host ports %v: want three of each", urls, ports)
	}
}

package host_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/eventing/host"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string // substring of the Validate error, "" for valid
		brokers string
	}{
		{name: "defaults", env: nil, brokers: "127.0.0.1:9092"},
		{name: "KAFKA_BROKERS wins", env: map[string]string{"KAFKA_BROKERS": "a:1, b:2", "CONTRAIL_BROKERS": "c:3"}, brokers: "a:1,b:2"},
		{name: "CONTRAIL_BROKERS", env: map[string]string{"CONTRAIL_BROKERS": "c:3"}, brokers: "c:3"},
		{name: "broker without port", env: map[string]string{"KAFKA_BROKERS": "redpanda"}, want: "KAFKA_BROKERS"},
		{name: "registry without scheme", env: map[string]string{"SCHEMA_REGISTRY_URL": "redpanda:8081"}, want: "SCHEMA_REGISTRY_URL"},
		{name: "scram", env: map[string]string{"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}, brokers: "127.0.0.1:9092"},
		{name: "sasl without user", env: map[string]string{"KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"}, want: "KAFKA_SASL_USERNAME"},
		{name: "unknown mechanism", env: map[string]string{"KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_SASL_USERNAME": "u"}, want: "KAFKA_SASL_MECHANISM"},
		{name: "cert without key", env: map[string]string{"KAFKA_TLS_CERT_FILE": "/c.pem"}, want: "KAFKA_TLS_KEY_FILE"},
		{name: "bad http addr", env: map[string]string{"CONTRAIL_HTTP_ADDR": "8080"}, want: "CONTRAIL_HTTP_ADDR"},
		{name: "admin token", env: map[string]string{"CONTRAIL_ADMIN_TOKEN": "0123456789abcdef"}, brokers: "127.0.0.1:9092"},
		{name: "short admin token", env: map[string]string{"CONTRAIL_ADMIN_TOKEN": "secret"}, want: "CONTRAIL_ADMIN_TOKEN"},
		{name: "http timeouts", env: map[string]string{"CONTRAIL_HTTP_READ_HEADER_TIMEOUT": "2s", "CONTRAIL_HTTP_IDLE_TIMEOUT": "1m"}, brokers: "127.0.0.1:9092"},
		{name: "timeout not a duration", env: map[string]string{"CONTRAIL_HTTP_READ_TIMEOUT": "soon"}, want: "CONTRAIL_HTTP_READ_TIMEOUT"},
		{name: "timeout zero", env: map[string]string{"CONTRAIL_HTTP_WRITE_TIMEOUT": "0"}, want: "CONTRAIL_HTTP_WRITE_TIMEOUT"},
		{name: "timeout negative", env: map[string]string{"CONTRAIL_HTTP_READ_HEADER_TIMEOUT": "-1s"}, want: "CONTRAIL_HTTP_READ_HEADER_TIMEOUT"},
		{name: "header bytes not a number", env: map[string]string{"CONTRAIL_HTTP_MAX_HEADER_BYTES": "32k"}, want: "CONTRAIL_HTTP_MAX_HEADER_BYTES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := host.FromEnv("payment", func(k string) string { return tt.env[k] })
			err := c.Validate()
			if tt.want != "" {
				if !errors.Is(err, host.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Validate = %v, want ErrConfig naming %s", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.Brokers, ","); got != tt.brokers {
				t.Errorf("brokers %s, want %s", got, tt.brokers)
			}
			if c.Group != "contrail-payment" || c.HTTPAddr != "127.0.0.1:8092" || !strings.HasSuffix(c.DBPath(), "payment.db") {
				t.Errorf("defaults: %+v", c)
			}
			if _, err := c.KafkaOpts(); err != nil {
				t.Errorf("KafkaOpts: %v", err)
			}
			if c.AdminToken != tt.env["CONTRAIL_ADMIN_TOKEN"] {
				t.Errorf("admin token %q", c.AdminToken)
			}
			want := host.HTTPLimits{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
				IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 32 << 10}
			if v := tt.env["CONTRAIL_HTTP_READ_HEADER_TIMEOUT"]; v != "" {
				want.ReadHeaderTimeout, _ = time.ParseDuration(v)
			}
			if v := tt.env["CONTRAIL_HTTP_IDLE_TIMEOUT"]; v != "" {
				want.IdleTimeout, _ = time.ParseDuration(v)
			}
			if c.HTTP != want {
				t.Errorf("HTTP limits %+v, want %+v", c.HTTP, want)
			}
		})
	}
}

func TestKafkaOptsReportsUnreadableCA(t *testing.T) {
	c := host.FromEnv("order", func(k string) string {
		return map[string]string{"KAFKA_TLS_CA_FILE": "/no/such/ca.pem"}[k]
	})
	if !c.TLS {
		t.Fatal("a CA file implies TLS")
	}
	if _, err := c.KafkaOpts(); err == nil || !strings.Contains(err.Error(), "KAFKA_TLS_CA_FILE") {
		t.Fatalf("KafkaOpts = %v", err)
	}
}

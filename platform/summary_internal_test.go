package platform

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPrintSummary(t *testing.T) {
	defaults := map[string]string{"order": "http://127.0.0.1:8080", "inventory": "http://127.0.0.1:8091", "payment": "http://127.0.0.1:8092"}
	moved := map[string]string{"order": "http://127.0.0.1:18080", "inventory": "http://127.0.0.1:18091", "payment": "http://127.0.0.1:8092"}
	tests := []struct {
		name        string
		exe         string
		urls        map[string]string
		jaeger      string
		placeholder bool
		replicas    map[string][]string // with PostgreSQL and 2 replicas
		want, not   []string
	}{
		{name: "go run on default ports", exe: "/tmp/go-build123/b001/exe/contrail", urls: defaults,
			want: []string{"go run ./cmd/contrail load --orders 1000\n", "Jaeger is off", "curl -sS -X POST http://127.0.0.1:8080/orders"},
			not:  []string{"--order-url", "trace <order_id>"}},
		{name: "installed binary on other ports", exe: "/usr/local/bin/contrail", urls: moved,
			want: []string{"  contrail load --orders 1000 --order-url http://127.0.0.1:18080 --inventory-url http://127.0.0.1:18091\n",
				"contrail load --bench --order-url http://127.0.0.1:18080 --inventory-url http://127.0.0.1:18091 --brokers 127.0.0.1:9092"},
			not: []string{"--payment-url", "go run"}},
		{name: "jaeger with placeholder UI on another port", exe: "/usr/local/bin/contrail", urls: defaults, jaeger: "http://127.0.0.1:26686", placeholder: true,
			want: []string{"contrail trace <order_id> --jaeger http://127.0.0.1:26686", "UI is a placeholder"}, not: []string{"or open"}},
		{name: "jaeger with its UI on the default port", exe: "/usr/local/bin/contrail", urls: defaults, jaeger: "http://127.0.0.1:16686",
			want: []string{"contrail trace <order_id>\n", "or open http://127.0.0.1:16686"}, not: []string{"placeholder", "--jaeger"}},
		{name: "postgres with two replicas", exe: "/usr/local/bin/contrail", urls: defaults,
			replicas: map[string][]string{"order": {"http://127.0.0.1:8080", "http://127.0.0.1:40001"},
				"inventory": {"http://127.0.0.1:8091", "http://127.0.0.1:40002"}, "payment": {"http://127.0.0.1:8092", "http://127.0.0.1:40003"}},
			want: []string{"State: PostgreSQL postgres://u:xxxxx@db:5432/contrail (a schema per service), 2 replica(s)",
				"order http://127.0.0.1:8080 http://127.0.0.1:40001",
				"contrail load --orders 1000 --order-url http://127.0.0.1:8080,http://127.0.0.1:40001 --inventory-url http://127.0.0.1:8091,http://127.0.0.1:40002 --payment-url http://127.0.0.1:8092,http://127.0.0.1:40003\n"},
			not: []string{"secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Platform{cfg: Config{Executable: tt.exe, DataDir: "/data"}, ServiceURLs: tt.urls, BrokerAddr: "127.0.0.1:9092",
				JaegerURL: tt.jaeger, jaegerPlaceholderUI: tt.placeholder}
			if tt.replicas != nil {
				p.cfg.PostgresURL, p.cfg.Replicas, p.ReplicaURLs = "postgres://u:secret@db:5432/contrail", 2, tt.replicas
			}
			var b bytes.Buffer
			p.PrintSummary(&b)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, b.String())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("summary has %q:\n%s", n, b.String())
				}
			}
		})
	}
}

func TestPlaceholderUI(t *testing.T) {
	tests := []struct {
		name string
		page string
		want bool
	}{
		{name: "placeholder", page: "<p>This is a placeholder for the Jaeger UI home page.</p>", want: true},
		{name: "real UI", page: `<html><title>Jaeger UI</title><div id="jaeger-ui-root"></div></html>`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(tt.page)) }))
			defer srv.Close()
			if got := placeholderUI(t.Context(), srv.URL); got != tt.want {
				t.Fatalf("placeholderUI = %v, want %v", got, tt.want)
			}
		})
	}
	if placeholderUI(t.Context(), "http://127.0.0.1:1") {
		t.Fatal("an unreachable Jaeger counts as placeholder")
	}
}

package platform

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
)

// SampleOrder is a valid POST /orders body: two units of a stocked SKU,
// paid by a card the fake provider accepts.
const SampleOrder = `{"customer_id":"cust-1","currency":"USD","items":[{"sku":"SKU-0001","quantity":2,"unit_price":"19.99"}],"shipping_address":{"name":"Ada Lovelace","line1":"1 Analytical Way","city":"London","postal_code":"N1 9GU","country":"GB"},"payment":{"card_token":"tok_visa","last4":"4242"},"channel":"WEB"}`

// CurlLine returns a complete curl command that places SampleOrder at the
// order API base URL.
func CurlLine(orderURL string) string {
	return fmt.Sprintf("curl -sS -X POST %s/orders -H 'Content-Type: application/json' -H 'Idempotency-Key: my-first-order' -d '%s'",
		strings.TrimRight(orderURL, "/"), SampleOrder)
}

// commandName is how the user can run the contrail binary exe again: `go
// run ./cmd/contrail` when exe is a `go run` build (in the go-build cache),
// else "contrail".
func commandName(exe string) string {
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/contrail"
	}
	return "contrail"
}

// loadFlags are the `contrail load` flags that point it at this platform:
// none when every part listens on its default address.
func (p *Platform) loadFlags() string {
	var b strings.Builder
	for _, s := range []string{"order", "inventory", "payment"} {
		u := p.ServiceURLs[s]
		if rs := p.ReplicaURLs[s]; len(rs) > 1 {
			u = strings.Join(rs, ",") // load spreads over them and fails over
		}
		if u != "http://"+host.DefaultHTTPAddr(s) {
			fmt.Fprintf(&b, " --%s-url %s", s, u)
		}
	}
	return b.String()
}

// PrintSummary writes what runs where and how to use it: the curl line, how
// to follow the order, and the load and trace commands with the flags this
// platform's addresses need.
func (p *Platform) PrintSummary(w io.Writer) {
	o := p.ServiceURLs["order"]
	cmd := commandName(p.cfg.Executable)
	fmt.Fprintf(w, "\nContrail is up. Data directory: %s\n\n", p.cfg.DataDir)
	if p.cfg.PostgresURL != "" {
		fmt.Fprintf(w, "State: PostgreSQL %s (a schema per service), %d replica(s) of each service.\n", eventing.RedactURL(p.cfg.PostgresURL), max(p.cfg.Replicas, 1))
		if rs := p.ReplicaURLs["order"]; len(rs) > 1 {
			fmt.Fprintf(w, "Every replica serves the same API on the same state: order %s\n", strings.Join(rs, " "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Place an order:\n  %s\n\n", CurlLine(o))
	fmt.Fprintf(w, "Follow it (use the order_id from the answer):\n  curl -sS %s/orders/<order_id>\n\n", o)
	if p.JaegerURL != "" {
		jflag := ""
		if p.JaegerURL != "http://127.0.0.1:16686" {
			jflag = " --jaeger " + p.JaegerURL
		}
		fmt.Fprintf(w, "See its trace:\n  %s trace <order_id>%s\n", cmd, jflag)
		if p.jaegerPlaceholderUI {
			fmt.Fprintf(w, "  (Jaeger's API is at %s; this Jaeger build has no UI assets, so its UI is a placeholder page:\n  see docs/tracing.md for the full UI)\n\n", p.JaegerURL)
		} else {
			fmt.Fprintf(w, "  or open %s\n\n", p.JaegerURL)
		}
	} else {
		fmt.Fprintf(w, "Jaeger is off (--no-jaeger): trace context still flows, spans are not exported.\n\n")
	}
	fmt.Fprintf(w, "Load test (in a second terminal, from this directory):\n  %s load --orders 1000%s\n", cmd, p.loadFlags())
	fmt.Fprintf(w, "Benchmark (saturation, latency, efficiency against raw franz-go; about a minute):\n  %s load --bench%s --brokers %s\n\n", cmd, p.loadFlags(), p.BrokerAddr)
	fmt.Fprintf(w, "Stock: %s/stock  payments (admin token): %s/payments\n", p.ServiceURLs["inventory"], p.ServiceURLs["payment"])
	fmt.Fprintf(w, "\nCtrl-C stops everything; state survives in %s.\n", p.cfg.DataDir)
}

// StopMessage is what `contrail up` prints when Ctrl-C starts the shutdown.
func (p *Platform) StopMessage() string {
	if p.jaeger != nil {
		return "stopping the services, then Jaeger, the registry and the broker..."
	}
	return "stopping the services, then the registry and the broker..."
}

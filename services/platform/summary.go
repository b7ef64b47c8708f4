package platform

import (
	"fmt"
	"io"
	"strings"
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

// PrintSummary writes what runs where and how to use it.
func (p *Platform) PrintSummary(w io.Writer) {
	o := p.ServiceURLs["order"]
	fmt.Fprintf(w, "\nContrail is up. Data directory: %s\n\n", p.cfg.DataDir)
	fmt.Fprintf(w, "Place an order:\n  %s\n\n", CurlLine(o))
	fmt.Fprintf(w, "Follow it (use the order_id from the answer):\n  curl -sS %s/orders/<order_id>\n\n", o)
	if p.JaegerURL != "" {
		fmt.Fprintf(w, "See its trace: %s (or: contrail trace <order_id>)\n", p.JaegerURL)
	} else {
		fmt.Fprintf(w, "Jaeger is off (--no-jaeger): spans are recorded but not exported.\n")
	}
	fmt.Fprintf(w, "Load test:     contrail load --orders 1000 --concurrency 32\n")
	fmt.Fprintf(w, "Stock, payments: %s/stock  %s/payments\n", p.ServiceURLs["inventory"], p.ServiceURLs["payment"])
	fmt.Fprintf(w, "\nCtrl-C stops everything; state survives in %s.\n", p.cfg.DataDir)
}

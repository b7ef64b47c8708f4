// Package brokertest starts Contrail's embedded broker for tests: a real
// Kafka-protocol listener on a loopback port, which clients reach over TCP
// the way a service would.
package brokertest

import (
	"testing"

	"github.com/contrail-events/contrail/broker"
)

// Start starts an embedded broker on 127.0.0.1:0 (a free port) with opts
// applied after that address, so broker.Addr in opts overrides it, and
// closes it when t ends. Read the address with Addr. It fails t when the
// options are invalid or the broker cannot start.
func Start(t testing.TB, opts ...broker.Opt) *broker.Broker {
	t.Helper()
	b, err := broker.New(append([]broker.Opt{broker.Addr("127.0.0.1:0")}, opts...)...)
	if err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

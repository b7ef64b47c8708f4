package eventing_test

import (
	"testing"

	"github.com/contrail-events/contrail/eventing/storetest"
)

// TestStoreConformance runs the store conformance suite against SQLite and
// PostgreSQL (which skips without a server, and fails under CI=true).
func TestStoreConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { storetest.Run(t, storetest.SQLite()) })
	t.Run("postgres", func(t *testing.T) { storetest.Run(t, storetest.Postgres()) })
}

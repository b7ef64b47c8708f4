package host_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/contrail-events/contrail/eventing/statedb"
)

// kvStore is the smallest service store a Service can run: one table, no
// handler methods (the statedb tests exercise those).
const kvDDL = statedb.InboxDDL + `CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;`

type kvStore struct{ *statedb.State[*kvTx] }

type kvTx struct{ tx statedb.Tx }

func newKV(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*kvStore, error) {
	st, err := statedb.NewState(ctx, db, emit, func(t statedb.Tx) *kvTx { return &kvTx{t} })
	if err != nil {
		return nil, err
	}
	return &kvStore{st}, nil
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

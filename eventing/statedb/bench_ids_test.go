package statedb_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/contrail-events/contrail/eventing/statedb"
)

// BenchmarkInsertByKeyKind inserts rows keyed by an event id into a table
// like the runtime's inbox, 30 rows a transaction, on a database OpenDB
// opens, with version-4 (random) and version-7 (time-ordered, NewID) ids:
// a random key lands on a random B-tree page, so each commit writes back
// about one page per row. ns/op is per row.
//
// Run: go test ./eventing/statedb -run '^$' -bench InsertByKeyKind -benchtime 60000x
func BenchmarkInsertByKeyKind(b *testing.B) {
	for _, c := range []struct {
		name string
		id   func() string
	}{{"uuid-v4", uuid.NewString}, {"uuid-v7", statedb.NewID}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := statedb.OpenDB(ctx, filepath.Join(b.TempDir(), "keys.db"), `CREATE TABLE inbox (consumer_group TEXT NOT NULL, event_id TEXT NOT NULL,
				topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, handled_at TEXT NOT NULL, PRIMARY KEY (consumer_group, event_id))`)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			st, err := statedb.Prepare(ctx, db, `INSERT INTO inbox VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += 30 {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				for j := range 30 {
					if _, err := st.Exec(ctx, tx, `INSERT INTO inbox VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
						"contrail-order", c.id(), "inventory", 1, strconv.Itoa(i+j), "2026-01-01T00:00:00.000Z"); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

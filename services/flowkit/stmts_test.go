package flowkit_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/services/flowkit"
)

func TestStatements(t *testing.T) {
	ctx := context.Background()
	db, err := flowkit.OpenDB(ctx, filepath.Join(t.TempDir(), "s.db"), `CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL);`)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const ins, get = `INSERT INTO kv(k, v) VALUES(?, ?)`, `SELECT v FROM kv WHERE k = ?`
	if _, err := flowkit.Prepare(ctx, db, `SELECT nope FROM nowhere`); err == nil {
		t.Fatal("Prepare accepted a query SQLite cannot prepare")
	}
	prepared, err := flowkit.Prepare(ctx, db, ins, get)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		st   *flowkit.Statements
	}{
		{name: "prepared", st: prepared},
		{name: "nil runs the plain way", st: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			err := flowkit.InTx(ctx, db, func(tx *sql.Tx) error {
				if _, err := tt.st.Exec(cctx, tx, ins, tt.name, 7); err != nil {
					return err
				}
				// An unprepared query still works.
				_, err := tt.st.Exec(cctx, tx, `UPDATE kv SET v = v + 1 WHERE k = ?`, tt.name)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var v int
			err = flowkit.InTx(ctx, db, func(tx *sql.Tx) error { return tt.st.QueryRow(ctx, tx, get, tt.name).Scan(&v) })
			if err != nil || v != 8 {
				t.Fatalf("v = %d, %v; want 8", v, err)
			}
		})
	}
}

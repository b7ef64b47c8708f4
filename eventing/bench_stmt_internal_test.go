package eventing

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkStoreStatement measures one inbox INSERT inside a transaction
// (committed every 256 inserts, as a batch would) the ways the runtime
// could run it: SQL text each time (parsed by SQLite per call), with and
// without a cancellable context (the SQLite driver starts a watcher
// goroutine per statement whose context can end), the prepared statement
// bound with tx.StmtContext per call, and bound once per transaction (what
// the batch path does).
//
// Run: go test ./eventing -run '^$' -bench StoreStatement
func BenchmarkStoreStatement(b *testing.B) {
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	plain := context.Background()
	cases := []struct {
		name string
		exec func(ctx context.Context, s *Store, tx *sql.Tx, bound **sql.Stmt, id string) error
		ctx  context.Context
	}{
		{"text/cancellable", func(ctx context.Context, s *Store, tx *sql.Tx, _ **sql.Stmt, id string) error {
			_, err := tx.ExecContext(ctx, insertInbox, "g", id, "t", 0, 0)
			return err
		}, cancellable},
		{"text/not-cancellable", func(ctx context.Context, s *Store, tx *sql.Tx, _ **sql.Stmt, id string) error {
			_, err := tx.ExecContext(ctx, insertInbox, "g", id, "t", 0, 0)
			return err
		}, plain},
		{"prepared-StmtContext-per-call/not-cancellable", func(ctx context.Context, s *Store, tx *sql.Tx, _ **sql.Stmt, id string) error {
			_, err := tx.StmtContext(ctx, s.stmts[stmtInbox]).ExecContext(ctx, "g", id, "t", 0, 0)
			return err
		}, plain},
		{"prepared-bound-once-per-tx/cancellable", func(ctx context.Context, s *Store, tx *sql.Tx, bound **sql.Stmt, id string) error {
			if *bound == nil {
				*bound = tx.StmtContext(ctx, s.stmts[stmtInbox])
			}
			_, err := (*bound).ExecContext(ctx, "g", id, "t", 0, 0)
			return err
		}, cancellable},
		{"prepared-bound-once-per-tx/not-cancellable", func(ctx context.Context, s *Store, tx *sql.Tx, bound **sql.Stmt, id string) error {
			if *bound == nil {
				*bound = tx.StmtContext(ctx, s.stmts[stmtInbox])
			}
			_, err := (*bound).ExecContext(ctx, "g", id, "t", 0, 0)
			return err
		}, plain},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s, err := OpenStore(context.Background(), filepath.Join(b.TempDir(), "s.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var (
				tx    *sql.Tx
				bound *sql.Stmt
			)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if tx == nil {
					if tx, err = s.db.BeginTx(plain, nil); err != nil {
						b.Fatal(err)
					}
					bound = nil
				}
				if err := c.exec(c.ctx, s, tx, &bound, strconv.Itoa(i)); err != nil {
					b.Fatal(err)
				}
				if i%256 == 255 {
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
					tx = nil
				}
			}
			if tx != nil {
				_ = tx.Commit()
			}
		})
	}
}

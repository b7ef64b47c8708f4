package statedb_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/eventing/statedb/statedbtest"
)

func TestStatements(t *testing.T) {
	ctx := context.Background()
	db, err := statedb.OpenDB(ctx, filepath.Join(t.TempDir(), "s.db"), `CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL);`)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const ins, get = `INSERT INTO kv(k, v) VALUES(?, ?)`, `SELECT v FROM kv WHERE k = ?`
	if _, err := statedb.Prepare(ctx, db, `SELECT nope FROM nowhere`); err == nil {
		t.Fatal("Prepare accepted a query SQLite cannot prepare")
	}
	prepared, err := statedb.Prepare(ctx, db, ins, get)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		st   *statedb.Statements
	}{
		{name: "prepared", st: prepared},
		{name: "nil runs the plain way", st: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			err := statedb.InTx(ctx, db, func(tx *sql.Tx) error {
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
			err = statedb.InTx(ctx, db, func(tx *sql.Tx) error { return tt.st.QueryRow(ctx, tx, get, tt.name).Scan(&v) })
			if err != nil || v != 8 {
				t.Fatalf("v = %d, %v; want 8", v, err)
			}
		})
	}
}

// pauseHook is what the SQL function statedb_test_pause(x) calls before it
// returns x. Only TestCancelledContextKeepsTransaction sets it (not in
// parallel).
var pauseHook atomic.Pointer[func()]

func init() {
	sqlite.MustRegisterScalarFunction("statedb_test_pause", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if f := pauseHook.Load(); f != nil {
			(*f)()
		}
		return args[0], nil
	})
}

// TestCancelledContextKeepsTransaction proves that a write run the
// services' way inside a transaction, whose context is cancelled while the
// write runs, does not undo the transaction's earlier writes: row "a" is
// written first, then a slow write that pauses inside SQLite (in
// statedb_test_pause, on its first row) until the test has cancelled its
// context, then goes on over thousands of rows, so an interrupt would be
// noticed; then the transaction commits. The control case runs the same
// write with the plain cancellable context and shows what is prevented:
// SQLite rolls back the whole transaction, row "a" included.
func TestCancelledContextKeepsTransaction(t *testing.T) {
	ctx := context.Background()
	const (
		n    = 20000
		rows = `(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT x FROM c)`
		insA = `INSERT INTO kv(k, v) VALUES('a', 1)`
		slow = `INSERT INTO kv(k, v) SELECT 'n' || x, statedb_test_pause(x) FROM ` + rows
	)
	// MarkSeen's INSERT is fixed; a trigger on the inbox makes it slow.
	schema := `CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL);` + statedb.InboxDDL + `
CREATE TRIGGER IF NOT EXISTS inbox_slow AFTER INSERT ON inbox BEGIN
	INSERT INTO kv(k, v) SELECT 'i' || x, statedb_test_pause(x) FROM ` + rows + `;
END;`
	db, err := statedb.OpenDB(ctx, filepath.Join(t.TempDir(), "c.db"), schema)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prepared, err := statedb.Prepare(ctx, db, slow)
	if err != nil {
		t.Fatal(err)
	}
	var unprepared *statedb.Statements
	tests := []struct {
		name  string
		write func(cctx context.Context, tx *sql.Tx) error
		// kept: the write succeeds and row "a" survives the commit.
		kept bool
	}{
		{name: "Statements.Exec prepared", kept: true, write: func(cctx context.Context, tx *sql.Tx) error {
			_, err := prepared.Exec(cctx, tx, slow)
			return err
		}},
		{name: "Statements.Exec unprepared", kept: true, write: func(cctx context.Context, tx *sql.Tx) error {
			_, err := unprepared.Exec(cctx, tx, slow)
			return err
		}},
		{name: "MarkSeen", kept: true, write: func(cctx context.Context, tx *sql.Tx) error {
			fresh, err := statedb.MarkSeen(cctx, tx, "event-1")
			if err == nil && !fresh {
				err = errors.New("MarkSeen: a new event id reported as seen")
			}
			return err
		}},
		{name: "control: cancellable tx.ExecContext loses the transaction", kept: false, write: func(cctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(cctx, slow)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.ExecContext(ctx, `DELETE FROM kv; DELETE FROM inbox`); err != nil {
				t.Fatal(err)
			}
			started, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			pause := func() { once.Do(func() { close(started); <-release }) }
			pauseHook.Store(&pause)
			defer pauseHook.Store(nil)

			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, insA); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- tt.write(cctx, tx) }()
			select {
			case <-started:
			case err := <-errc:
				t.Fatalf("the write ended before it reached the pause: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("the write never reached the pause")
			}
			// A statement run with a cancellable context has a watcher
			// goroutine in the driver that interrupts it when the context
			// ends. Cancel, and let every watcher of the paused write act
			// before the write goes on.
			watchers := statedbtest.InterruptWatchers()
			if !tt.kept && len(watchers) == 0 {
				t.Fatal("control: no interrupt watcher found for a statement with a cancellable context; did modernc.org/sqlite change? (see interruptWatchers)")
			}
			cancel()
			statedbtest.WaitWatchersDone(t, watchers)
			close(release)
			werr := <-errc
			cerr := tx.Commit()

			var a, more int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE k = 'a'), count(*) FILTER (WHERE k <> 'a') FROM kv`).Scan(&a, &more); err != nil {
				t.Fatal(err)
			}
			if !tt.kept {
				if werr == nil || a != 0 {
					t.Fatalf("control: write err %v, row a count %d; want an interrupted write and row a rolled back with it (did SQLite or the driver change?)", werr, a)
				}
				return
			}
			if werr != nil || cerr != nil {
				t.Fatalf("write: %v, commit: %v; want both to succeed despite the cancelled context", werr, cerr)
			}
			if a != 1 || more != n {
				t.Fatalf("after commit: row a count %d, rows of the write %d; want 1 and %d", a, more, n)
			}
		})
	}
}

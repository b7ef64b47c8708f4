package statedb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events/common"
)

// A minimal service store built the way the reference services build
// theirs: a Store embedding *statedb.State[*kvTx], handler methods on kvTx.
const (
	kvDDL = statedb.InboxDDL + `CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;`
	qPut  = `INSERT INTO kv(k, v) VALUES(?, ?) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v`
	qGet  = `SELECT v FROM kv WHERE k = ?`
)

type kvStore struct{ *statedb.State[*kvTx] }

type kvTx struct{ tx statedb.Tx }

func newKV(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*kvStore, error) {
	st, err := statedb.NewState(ctx, db, emit, func(t statedb.Tx) *kvTx { return &kvTx{t} }, qPut, qGet)
	if err != nil {
		return nil, err
	}
	return &kvStore{st}, nil
}

// add is a handler: it adds v to k once per event id and emits the new sum.
func (t *kvTx) add(ctx context.Context, eventID, k string, v int) error {
	fresh, err := t.tx.Seen(ctx, eventID)
	if err != nil || !fresh {
		return err
	}
	if _, err := t.tx.Exec(ctx, qPut, k, v); err != nil {
		return err
	}
	var sum int
	if err := t.tx.QueryRow(ctx, qGet, k).Scan(&sum); err != nil {
		return err
	}
	return t.tx.Emit(ctx, sum)
}

type emitted struct{ evs []any }

func (e *emitted) Emit(_ context.Context, tx *sql.Tx, ev any) error {
	if tx == nil {
		return errors.New("emit outside a transaction")
	}
	e.evs = append(e.evs, ev)
	return nil
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStateAppliesOncePerEvent(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		nilEmit bool
		// apply runs the handler the way the runtime or a test would.
		apply     func(ctx context.Context, s *kvStore) error
		wantErr   error
		wantSum   int // -1: no row
		wantInbox int
		wantEvs   []any
	}{
		{name: "batch dedupes by event id", wantSum: 5, wantInbox: 2, wantEvs: []any{2, 5},
			apply: func(ctx context.Context, s *kvStore) error {
				for _, id := range []string{"e1", "e1", "e2"} {
					v := map[string]int{"e1": 2, "e2": 3}[id]
					if err := s.Batch(ctx, func(t *kvTx) error { return t.add(ctx, id, "a", v) }); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "in writes no inbox row", wantSum: 4, wantInbox: 0, wantEvs: []any{2, 4},
			apply: func(ctx context.Context, s *kvStore) error {
				return statedb.InTx(ctx, s.DB(), func(tx *sql.Tx) error {
					// The runtime's inbox deduped already: the same id twice applies twice.
					if err := s.In(tx).add(ctx, "e1", "a", 2); err != nil {
						return err
					}
					return s.In(tx).add(ctx, "e1", "a", 2)
				})
			}},
		{name: "a failed batch rolls back state, inbox and events", wantErr: errBoom, wantSum: -1, wantInbox: 0,
			apply: func(ctx context.Context, s *kvStore) error {
				return s.Batch(ctx, func(t *kvTx) error {
					if err := t.add(ctx, "e1", "a", 2); err != nil {
						return err
					}
					return errBoom
				})
			}},
		{name: "apply outside a handler runs a batch per event, deduped", wantSum: 2, wantInbox: 1, wantEvs: []any{2},
			apply: func(ctx context.Context, s *kvStore) error {
				for range 2 {
					err := s.Apply(ctx, common.EventMetadata{EventID: "e1"}, "o1", func(t *kvTx, rec statedb.Record) error {
						if rec.EventID != "e1" || rec.Offset != -1 {
							return fmt.Errorf("record %+v, want event e1 at no offset", rec)
						}
						return t.add(ctx, rec.EventID, "a", 2)
					})
					if err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "nil emitter drops events", nilEmit: true, wantSum: 2, wantInbox: 1,
			apply: func(ctx context.Context, s *kvStore) error {
				return s.Batch(ctx, func(t *kvTx) error { return t.add(ctx, "e1", "a", 2) })
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rec := &emitted{}
			var emit statedb.Emitter = rec
			if tt.nilEmit {
				emit = nil
			}
			s, err := statedb.OpenStore(ctx, filepath.Join(t.TempDir(), "kv.db"), kvDDL, emit, newKV)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := tt.apply(ctx, s); !errors.Is(err, tt.wantErr) {
				t.Fatalf("apply: %v, want %v", err, tt.wantErr)
			}
			sum := -1
			if n := count(t, s.DB(), `SELECT count(*) FROM kv`); n == 1 {
				sum = count(t, s.DB(), qGet, "a")
			}
			if sum != tt.wantSum {
				t.Errorf("sum = %d, want %d", sum, tt.wantSum)
			}
			if n := count(t, s.DB(), `SELECT count(*) FROM inbox`); n != tt.wantInbox {
				t.Errorf("inbox rows = %d, want %d", n, tt.wantInbox)
			}
			if tt.wantErr == nil && !tt.nilEmit && len(rec.evs) != len(tt.wantEvs) {
				t.Fatalf("emitted %v, want %v", rec.evs, tt.wantEvs)
			}
			for i, want := range tt.wantEvs {
				if rec.evs[i] != want {
					t.Errorf("event %d = %v, want %v", i, rec.evs[i], want)
				}
			}
		})
	}
}

func TestNewStateNamesRefusedQuery(t *testing.T) {
	ctx := context.Background()
	db, err := statedb.OpenDB(ctx, filepath.Join(t.TempDir(), "kv.db"), kvDDL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = statedb.NewState(ctx, db, nil, func(t statedb.Tx) statedb.Tx { return t }, qPut, `SELECT nope FROM nowhere`)
	if err == nil || !strings.Contains(err.Error(), "statedb: prepare") || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("NewState with a bad query: %v, want an error naming it", err)
	}
}

func TestOpenStoreClosesDatabaseWhenOpenFails(t *testing.T) {
	ctx := context.Background()
	errOpen := errors.New("open failed")
	var got *sql.DB
	s, err := statedb.OpenStore(ctx, filepath.Join(t.TempDir(), "kv.db"), kvDDL, nil,
		func(_ context.Context, db *sql.DB, _ statedb.Emitter) (*kvStore, error) {
			got = db
			return &kvStore{}, errOpen
		})
	if !errors.Is(err, errOpen) || s != nil {
		t.Fatalf("OpenStore = %v, %v; want nil, open's error", s, err)
	}
	if got == nil {
		t.Fatal("open was not called")
	}
	if err := got.PingContext(ctx); err == nil {
		t.Fatal("the database is still open after open failed")
	}
}

func TestOpenStoreReportsDDLError(t *testing.T) {
	called := false
	_, err := statedb.OpenStore(context.Background(), filepath.Join(t.TempDir(), "kv.db"), `CREATE TABLE (`, nil,
		func(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*kvStore, error) {
			called = true
			return newKV(ctx, db, emit)
		})
	if err == nil || !strings.Contains(err.Error(), "statedb: create tables") || called {
		t.Fatalf("OpenStore with bad DDL: %v (open called: %v), want the OpenDB error", err, called)
	}
}

package eventing

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSQLiteRowTimesAsStrftime: on SQLite the inbox and outbox rows get
// their time from Go (Store.stamp) instead of strftime('now') in the column
// default; the text is the same as the default's, which tools and the
// parked table read.
func TestSQLiteRowTimesAsStrftime(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, filepath.Join(t.TempDir(), "stamp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before := time.Now().UTC().Add(-time.Millisecond)
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.exec(ctx, tx, stmtInbox, "g", "e-1", "things", 0, int64(7)); err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(ctx, tx, &kgo.Record{Topic: "things", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC().Add(time.Millisecond)
	for _, q := range []string{
		`SELECT handled_at, strftime('%Y-%m-%dT%H:%M:%fZ', handled_at) FROM contrail_inbox`,
		`SELECT created_at, strftime('%Y-%m-%dT%H:%M:%fZ', created_at) FROM contrail_outbox`,
	} {
		var got, normal string
		if err := st.DB().QueryRowContext(ctx, q).Scan(&got, &normal); err != nil {
			t.Fatal(err)
		}
		if got != normal {
			t.Errorf("%s: stored %q, strftime writes %q", q, got, normal)
		}
		at, err := time.Parse(sqliteTime, got)
		if err != nil || at.Before(before.Truncate(time.Millisecond)) || at.After(after) {
			t.Errorf("%s: stored %q (%v), want a time between %v and %v", q, got, err, before, after)
		}
	}
}

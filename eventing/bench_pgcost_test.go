package eventing_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/eventing/storetest"
)

// BenchmarkPostgresStatementCost prints the PostgreSQL server's CPU time
// (its backend process's, from /proc) per inbox row written one statement
// each and as the runtime's batches write them (one statement for the
// batch), per round trip (SELECT 1) and per empty transaction, 30 rows a
// transaction. It is what the order flow's PostgreSQL mode spends its
// server's CPU on (docs/performance.md, PostgreSQL mode). Linux only (it
// skips elsewhere), and it needs a server (storetest.PostgresURL).
//
// Run: go test ./eventing -run '^$' -bench PostgresStatementCost -benchtime 1x
func BenchmarkPostgresStatementCost(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("needs /proc")
	}
	ctx := context.Background()
	db, err := eventing.OpenPostgres(ctx, storetest.PostgresURL(b), "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := eventing.NewStore(ctx, db); err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	const rows, perTx = 3000, 30
	ids := make([]string, rows)
	for i := range ids {
		ids[i] = statedb.NewID()
	}
	exec := func(q string, args ...any) {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	const insert = `INSERT INTO contrail_inbox (consumer_group, event_id, topic, partition, "offset") VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	const bulk = `INSERT INTO contrail_inbox (consumer_group, event_id, topic, partition, "offset")
		SELECT $1, e, t, p, o FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) WITH ORDINALITY AS u(e, t, p, o, n) ORDER BY n
		ON CONFLICT DO NOTHING RETURNING event_id`
	for _, c := range []struct {
		name string
		ops  int // per iteration of fn
		fn   func(i int)
	}{
		{"SELECT 1 (a round trip)", 1, func(int) {
			var x int
			if err := conn.QueryRowContext(ctx, `SELECT 1`).Scan(&x); err != nil {
				b.Fatal(err)
			}
		}},
		{"BEGIN; COMMIT (an empty transaction)", 1, func(int) { exec(`BEGIN`); exec(`COMMIT`) }},
		{"inbox row, one INSERT each, 30 a transaction", perTx, func(i int) {
			exec(`BEGIN`)
			for j := range perTx {
				exec(insert, "one", ids[i*perTx+j], "things", 0, int64(j))
			}
			exec(`COMMIT`)
		}},
		{"inbox row, one INSERT for 30 (a batch's)", perTx, func(i int) {
			es, ts, ps, os := make([]string, perTx), make([]string, perTx), make([]int32, perTx), make([]int64, perTx)
			for j := range perTx {
				es[j], ts[j], os[j] = ids[i*perTx+j], "things", int64(j)
			}
			exec(`BEGIN`)
			rs, err := conn.QueryContext(ctx, bulk, "bulk", es, ts, ps, os)
			if err != nil {
				b.Fatal(err)
			}
			for rs.Next() {
			}
			rs.Close()
			exec(`COMMIT`)
		}},
	} {
		n := rows / c.ops
		t0, w := backendTicks(b, pid), time.Now()
		for i := range n {
			c.fn(i)
		}
		cpu := backendTicks(b, pid) - t0
		fmt.Printf("%-46s server CPU %6.1f µs, wall %6.1f µs per row or statement\n", c.name,
			float64(cpu)*1e4/float64(n*c.ops), float64(time.Since(w).Microseconds())/float64(n*c.ops))
	}
}

// backendTicks is the CPU time (user + system, in 10 ms ticks) of process
// pid so far.
func backendTicks(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("cannot read the backend's CPU time (is PostgreSQL on this machine?): %v", err)
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

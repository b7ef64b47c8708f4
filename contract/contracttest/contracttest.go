// Package contracttest verifies a producer's events against its consumers'
// contracts from `go test`, so a service learns in its own test run that a
// change to an event it publishes would break a consumer:
//
//	func TestConsumerContracts(t *testing.T) {
//		contracttest.Verify(t, contracttest.Dir(t), orders.OrderPlacedBinding, orders.OrderReadyBinding)
//	}
//
// It uses the same engine and rules as `contrail contract verify`.
package contracttest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/compat/report"
	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/events"
)

// Dir returns the repository's contracts directory: contract.DefaultDir
// next to the go.mod found by walking up from the test's working directory.
// It fails t when there is no go.mod above it.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("contracttest: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, contract.DefaultDir)
		}
		if filepath.Dir(d) == d {
			t.Fatalf("contracttest: no go.mod above %s: pass the contracts directory explicitly", wd)
			return ""
		}
	}
}

// Verify loads every contract in dir and verifies each producer type
// against the contracts for its subject and event. It fails t (with the
// findings in `contrail contract verify`'s text form) when a contract breaks,
// when dir does not load, or when a producer has no contract at all (a
// typo in the directory would otherwise pass silently); use VerifyContracts
// to pass contracts yourself.
func Verify(t testing.TB, dir string, producers ...events.Type) {
	t.Helper()
	cs, err := contract.Load(dir)
	if err != nil {
		t.Fatalf("contracttest: %v", err)
	}
	VerifyContracts(t, cs, producers...)
}

// VerifyContracts is Verify over contracts already loaded (from files,
// contract.Fetch or contract.FromType). Contracts for other subjects are
// ignored.
func VerifyContracts(t testing.TB, contracts []*contract.Contract, producers ...events.Type) {
	t.Helper()
	// The majors of one event share its subject: they are verified together,
	// each contract against the writer of its own major.
	type key struct{ subject, event string }
	var order []key
	writers := map[key][]contract.Writer{}
	for _, p := range producers {
		k := key{p.Subject(), p.FullName()}
		if _, ok := writers[k]; !ok {
			order = append(order, k)
		}
		writers[k] = append(writers[k], contract.WriterOf(p))
	}
	for _, k := range order {
		var mine []*contract.Contract
		for _, c := range contracts {
			if c.Subject == k.subject && c.Event == k.event {
				mine = append(mine, c)
			}
		}
		if len(mine) == 0 {
			t.Errorf("contracttest: no consumer contract for %s (subject %q): export them with `contrail contract export`", k.event, k.subject)
			continue
		}
		ws := writers[k]
		res, err := contract.Verify(ws, mine)
		if err != nil {
			t.Errorf("contracttest: %v", err)
			continue
		}
		if res.Breaking() {
			var b bytes.Buffer
			_ = report.Write(&b, "text", res.Report(ws[0].Schema.Label, "consumer contracts", ""))
			t.Errorf("contracttest: %s breaks %d consumer contract finding(s):\n%s", k.event, len(res.Findings), b.String())
		}
	}
}

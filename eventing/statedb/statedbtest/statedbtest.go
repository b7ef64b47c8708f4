// Package statedbtest helps tests of code on statedb's SQLite databases see
// what modernc.org/sqlite does with a cancelled statement.
package statedbtest

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// InterruptWatchers returns the ids of the goroutines modernc.org/sqlite
// runs to interrupt a statement when its context ends (created by its
// interruptOnDone; one per running statement whose context can end). A
// goroutine dump is the only way to see them from outside the driver.
func InterruptWatchers() map[string]bool {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	ids := map[string]bool{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "created by modernc.org/sqlite.interruptOnDone") {
			id, _, _ := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
			ids[id] = true
		}
	}
	return ids
}

// WaitWatchersDone waits until none of the watcher goroutines ids is left:
// each saw its context end and interrupted its statement (it exits right
// after), or saw its statement finish. It fails t after 30 seconds.
func WaitWatchersDone(t testing.TB, ids map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := 0
		for id := range InterruptWatchers() {
			if ids[id] {
				left++
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d SQLite interrupt watchers still running 30s after the cancel", left)
		}
		time.Sleep(time.Millisecond)
	}
}

package compat_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/schemas"
)

// fixtureNow is the date tree fixtures are checked on (exception expiry).
var fixtureNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func checkTreeDirs(t *testing.T, prevDir, curDir string) []compat.Finding {
	t.Helper()
	snap := func(dir, label string) compat.Snapshot {
		set, err := schemas.Load(dir)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		s, err := compat.SnapshotOf(set, label)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	fs, err := compat.CheckTree(snap(curDir, "current"), []compat.Snapshot{snap(prevDir, "previous")}, compat.TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(curDir, "compat-exceptions.yaml")); err == nil {
		ex, err := compat.ParseExceptions("compat-exceptions.yaml", data)
		if err != nil {
			t.Fatal(err)
		}
		fs, _ = ex.Apply(fs, fixtureNow)
	}
	return compat.Dedupe(fs)
}

// TestTreeRuleFixtures checks the schema-tree rules' fixtures: each
// testdata/<RULE>/ holds previous/, current/ and passing/ trees.
func TestTreeRuleFixtures(t *testing.T) {
	tests := []struct {
		name string
		want map[compat.RuleID]int // every finding current must produce
	}{
		{name: "SUBJECT_DELETED", want: map[compat.RuleID]int{"SUBJECT_DELETED": 1}},
		{name: "SUBJECT_MOVED", want: map[compat.RuleID]int{"SUBJECT_MOVED": 1}},
		{name: "STRATEGY_CHANGED", want: map[compat.RuleID]int{"STRATEGY_CHANGED": 1}},
		{name: "SCHEMA_FILE_DELETED", want: map[compat.RuleID]int{"SCHEMA_FILE_DELETED": 1}},
		{name: "SCHEMA_FILE_RENAMED", want: map[compat.RuleID]int{"SCHEMA_FILE_RENAMED": 1}},
		{name: "EXCEPTION_UNUSED", want: map[compat.RuleID]int{"EXCEPTION_UNUSED": 1}},
		{name: "EXCEPTION_EXPIRED", want: map[compat.RuleID]int{"EXCEPTION_EXPIRED": 1, "TYPE_CHANGED": 1}},
		{name: "MAJOR_ADDED", want: map[compat.RuleID]int{"MAJOR_ADDED": 1}},
		{name: "MAJOR_WITHOUT_MIGRATION", want: map[compat.RuleID]int{"MAJOR_WITHOUT_MIGRATION": 1}},
		{name: "MAJOR_RETIRED", want: map[compat.RuleID]int{"MAJOR_RETIRED": 1}},
		{name: "MIGRATION_RULE_REMOVED", want: map[compat.RuleID]int{"MIGRATION_RULE_REMOVED": 1}},
		{name: "MIGRATION_RULE_CHANGED", want: map[compat.RuleID]int{"MIGRATION_RULE_CHANGED": 1}},
		{name: "DOMAIN_RULE_ADDED", want: map[compat.RuleID]int{"DOMAIN_RULE_ADDED": 1}},
		{name: "DOMAIN_RULE_REMOVED", want: map[compat.RuleID]int{"DOMAIN_RULE_REMOVED": 1}},
		{name: "DOMAIN_RULE_CHANGED", want: map[compat.RuleID]int{"DOMAIN_RULE_CHANGED": 1}},
		{name: "PII_TAG_REMOVED", want: map[compat.RuleID]int{"PII_TAG_REMOVED": 1}},
		{name: "DATA_CONTRACT_CHANGED", want: map[compat.RuleID]int{"DATA_CONTRACT_CHANGED": 1}},
	}
	dirs, _ := filepath.Glob("testdata/*/previous")
	if len(dirs) != len(tests) {
		t.Fatalf("%d tree fixtures, %d table entries: keep them in step", len(dirs), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", tt.name)
			got := map[compat.RuleID]int{}
			var loc compat.Location
			for _, f := range checkTreeDirs(t, filepath.Join(dir, "previous"), filepath.Join(dir, "current")) {
				got[f.Rule]++
				if f.Rule == compat.RuleID(tt.name) {
					loc = f.Reader
					if loc.File == "" {
						loc = f.Writer
					}
					if f.Message == "" {
						t.Error("empty message")
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("current: rules %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("current: rules %v, want %v", got, tt.want)
				}
			}
			if loc.File == "" || loc.Line == 0 {
				t.Errorf("finding has no file position: %+v", loc)
			}
			// The passing twin passes: no finding but Info ones (a new major
			// with its migration rule says so, and passes).
			for _, f := range checkTreeDirs(t, filepath.Join(dir, "previous"), filepath.Join(dir, "passing")) {
				if compat.SeverityOf(f.Rule) != compat.Info {
					t.Fatalf("passing twin: %+v", f)
				}
			}
		})
	}
}

// TestRenameKeepingSubject covers renames whose subject does not change
// (TopicName strategy): the subject keeps its history and an alias makes
// resolution pass, yet the file, full name and generated Go type all change,
// so the rename must still be reported.
func TestRenameKeepingSubject(t *testing.T) {
	const manifest = "version: 1\ndefaults: {strategy: TopicName, compatibility: BACKWARD}\ntopics: [{name: shop}]\n" +
		"events:\n  - schema: shop.%s\n    topic: shop\n    key: orderId\n"
	const avsc = `{"type": "record", "name": "%s", "namespace": "shop"%s, "fields": [{"name": "orderId", "type": "string"}]}`
	write := func(t *testing.T, name, extra string) string {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "shop"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte(fmt.Sprintf(manifest, name)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "shop", name+".avsc"), []byte(fmt.Sprintf(avsc, name, extra)), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	prev := write(t, "OrderShipped", "")
	tests := []struct {
		name string
		cur  string
		want map[compat.RuleID]int
	}{
		{name: "unchanged", cur: write(t, "OrderShipped", ""), want: map[compat.RuleID]int{}},
		{name: "renamed with an alias", cur: write(t, "OrderSent", `, "aliases": ["shop.OrderShipped"]`),
			want: map[compat.RuleID]int{"SCHEMA_FILE_RENAMED": 1}},
		{name: "renamed without an alias", cur: write(t, "OrderSent", ""),
			want: map[compat.RuleID]int{"SCHEMA_FILE_RENAMED": 1, "NAME_MISMATCH": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[compat.RuleID]int{}
			for _, f := range checkTreeDirs(t, prev, tt.cur) {
				got[f.Rule]++
				if f.Rule != "SCHEMA_FILE_RENAMED" {
					continue
				}
				if f.Subject != "shop-value" || f.Reader.File != "shop/OrderSent.avsc" || f.Writer.File != "shop/OrderShipped.avsc" ||
					!strings.Contains(f.Message, "subject shop-value keeps") {
					t.Errorf("finding = %+v", f)
				}
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("rules %v, want %v", got, tt.want)
			}
		})
	}
}

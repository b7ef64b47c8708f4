package check_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/check"
	"github.com/contrail-events/contrail/schemas"
)

// fixtureNow is the date the fixtures' exceptions are judged on: after
// EXCEPTION_EXPIRED/current's expiry, before EXCEPTION_EXPIRED/passing's.
var fixtureNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func fixture(rule, tree string) string { return filepath.Join("..", "testdata", rule, tree) }

// copyTree copies the schema tree src (manifest and .avsc files, plus any
// exceptions file) to a new temporary directory and returns it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func rules(fs []compat.Finding) map[compat.RuleID]int {
	m := map[compat.RuleID]int{}
	for _, f := range fs {
		m[f.Rule]++
	}
	return m
}

// TestRunDirectoryBaseline runs whole checks against directory baselines:
// the tree-rule fixtures (previous is the baseline), exceptions from the
// default file and from Options.Exceptions, the level override, and the
// verdict.
func TestRunDirectoryBaseline(t *testing.T) {
	// A second exceptions file, outside the schema tree, that silences the
	// EXCEPTION_EXPIRED fixture's break for good.
	silence := filepath.Join(t.TempDir(), "accepted.yaml")
	if err := os.WriteFile(silence, []byte("exceptions:\n  - rule: TYPE_CHANGED\n    path: shop/*.avsc\n    reason: the unit migration, ADR 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		opts         check.Options
		want         map[compat.RuleID]int
		silenced     int
		breaking     bool
		exceptionsAt string // file findings about the exceptions file point at
		subjects     int    // subjects checked, when it matters
	}{
		{name: "subject deleted", opts: check.Options{Schemas: fixture("SUBJECT_DELETED", "current"), Against: fixture("SUBJECT_DELETED", "previous")},
			want: map[compat.RuleID]int{"SUBJECT_DELETED": 1}, breaking: true},
		{name: "subject deleted, passing twin", opts: check.Options{Schemas: fixture("SUBJECT_DELETED", "passing"), Against: fixture("SUBJECT_DELETED", "previous")},
			want: map[compat.RuleID]int{}},
		{name: "schema file renamed", opts: check.Options{Schemas: fixture("SCHEMA_FILE_RENAMED", "current"), Against: "dir:" + fixture("SCHEMA_FILE_RENAMED", "previous")},
			want: map[compat.RuleID]int{"SCHEMA_FILE_RENAMED": 1}, breaking: true},
		{name: "expired exception reports the break", opts: check.Options{Schemas: fixture("EXCEPTION_EXPIRED", "current"), Against: fixture("EXCEPTION_EXPIRED", "previous")},
			want: map[compat.RuleID]int{"EXCEPTION_EXPIRED": 1, "TYPE_CHANGED": 1}, breaking: true, exceptionsAt: "compat-exceptions.yaml"},
		{name: "live exception silences the break", opts: check.Options{Schemas: fixture("EXCEPTION_EXPIRED", "passing"), Against: fixture("EXCEPTION_EXPIRED", "previous")},
			want: map[compat.RuleID]int{}, silenced: 1},
		{name: "Now decides expiry", opts: check.Options{Schemas: fixture("EXCEPTION_EXPIRED", "passing"), Against: fixture("EXCEPTION_EXPIRED", "previous"), Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
			want: map[compat.RuleID]int{"EXCEPTION_EXPIRED": 1, "TYPE_CHANGED": 1}, breaking: true},
		{name: "unused exception only warns", opts: check.Options{Schemas: fixture("EXCEPTION_UNUSED", "current"), Against: fixture("EXCEPTION_UNUSED", "previous")},
			want: map[compat.RuleID]int{"EXCEPTION_UNUSED": 1}},
		{name: "exceptions file given", opts: check.Options{Schemas: fixture("EXCEPTION_EXPIRED", "current"), Against: fixture("EXCEPTION_EXPIRED", "previous"), Exceptions: silence},
			want: map[compat.RuleID]int{}, silenced: 1},
		{name: "level NONE passes a break", opts: check.Options{Schemas: fixture("EXCEPTION_UNUSED", "previous"), Against: fixture("EXCEPTION_EXPIRED", "current"), Level: "none"},
			want: map[compat.RuleID]int{}},
		{name: "level override applies", opts: check.Options{Schemas: fixture("EXCEPTION_UNUSED", "previous"), Against: fixture("EXCEPTION_EXPIRED", "current"), Level: compat.Forward},
			want: map[compat.RuleID]int{"TYPE_CHANGED": 1}, breaking: true},
		{name: "a new major with its migration rule passes and says so", opts: check.Options{Schemas: fixture("MAJOR_ADDED", "current"), Against: fixture("MAJOR_ADDED", "previous")},
			want: map[compat.RuleID]int{"MAJOR_ADDED": 1}, subjects: 1},
		{name: "a new major without a migration rule breaks", opts: check.Options{Schemas: fixture("MAJOR_WITHOUT_MIGRATION", "current"), Against: fixture("MAJOR_WITHOUT_MIGRATION", "previous")},
			want: map[compat.RuleID]int{"MAJOR_WITHOUT_MIGRATION": 1}, breaking: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Now.IsZero() {
				tt.opts.Now = fixtureNow
			}
			res, err := check.Run(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := rules(res.Findings); !maps.Equal(got, tt.want) {
				t.Fatalf("findings %v, want %v\n%+v", got, tt.want, res.Findings)
			}
			if len(res.Silenced) != tt.silenced || res.Breaking() != tt.breaking {
				t.Fatalf("silenced %d (want %d), breaking %v (want %v)", len(res.Silenced), tt.silenced, res.Breaking(), tt.breaking)
			}
			if tt.subjects != 0 && len(res.Subjects) != tt.subjects {
				t.Errorf("subjects %v, want %d", res.Subjects, tt.subjects)
			}
			if res.Next != compat.WorkingTree || res.Baseline != tt.opts.Against || len(res.Subjects) == 0 {
				t.Errorf("labels %q against %q, %d subjects", res.Next, res.Baseline, len(res.Subjects))
			}
			wantPrefix := filepath.ToSlash(filepath.Clean(strings.TrimPrefix(tt.opts.Against, "dir:"))) + "/"
			if res.BaselinePrefix != wantPrefix {
				t.Errorf("baseline prefix %q, want %q", res.BaselinePrefix, wantPrefix)
			}
			for _, f := range res.Findings {
				if strings.HasPrefix(string(f.Rule), "EXCEPTION_") && f.Reader.File != tt.exceptionsAt && tt.exceptionsAt != "" {
					t.Errorf("%s at %q, want %q", f.Rule, f.Reader.File, tt.exceptionsAt)
				}
			}
		})
	}
}

// TestRunDedupesAndSorts: a shared type's break shows up under its own
// subject and under every event that uses it; Run reports it once, and
// findings come sorted by file and position.
func TestRunDedupesAndSorts(t *testing.T) {
	base := copyTree(t, fixture("EXCEPTION_UNUSED", "previous"))
	write := func(dir, name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const shared = `{"type": "enum", "name": "Channel", "namespace": "shop", "symbols": ["WEB"%s]}`
	const placed = `{"type": "record", "name": "OrderPlaced", "namespace": "shop", "fields": [
  {"name": "orderId", "type": "string"},
  {"name": "quantity", "type": "%s"},
  {"name": "channel", "type": "shop.Channel"}
]}`
	write(base, "shop/Channel.avsc", fmtS(shared, `, "MOBILE"`))
	write(base, "shop/OrderPlaced.avsc", fmtS(placed, "int"))
	next := copyTree(t, base)
	write(next, "shop/Channel.avsc", fmtS(shared, "")) // MOBILE removed: breaks Channel and OrderPlaced
	write(next, "shop/OrderPlaced.avsc", fmtS(placed, "string"))

	res, err := check.Run(context.Background(), check.Options{Schemas: next, Against: base, Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	want := map[compat.RuleID]int{"TYPE_CHANGED": 1, "ENUM_SYMBOL_REMOVED_WITHOUT_DEFAULT": 1}
	if got := rules(res.Findings); !maps.Equal(got, want) {
		t.Fatalf("findings %v, want %v (each once)\n%+v", got, want, res.Findings)
	}
	sorted := slices.IsSortedFunc(res.Findings, func(a, b compat.Finding) int {
		return strings.Compare(a.Reader.File, b.Reader.File)
	})
	if !sorted || res.Findings[0].Reader.File != "shop/Channel.avsc" {
		t.Fatalf("findings not sorted by file: %+v", res.Findings)
	}
}

func fmtS(format, arg string) string { return strings.Replace(format, "%s", arg, 1) }

// TestRunErrors: options Validate rejects, input that does not parse
// (compat.ErrInvalidInput) and tool failures (not ErrInvalidInput), each
// with a message that says what to do and no password.
func TestRunErrors(t *testing.T) {
	good := fixture("SUBJECT_DELETED", "previous")
	broken := copyTree(t, good)
	if err := os.WriteFile(filepath.Join(broken, "shop", "OrderPlaced.avsc"), []byte(`{"type": "record", "name": "OrderPlaced", "namespace": "shop", "fields": [{"name": "x", "type": "strin"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badExceptions := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(badExceptions, []byte("exceptions:\n  - rule: CONTRACT_FIELD_NOT_WRITTEN\n    subject: x\n    reason: contract rules are not check rules\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     check.Options
		validate bool // Validate fails too, not just Run
		invalid  bool // wraps compat.ErrInvalidInput
		want     string
		is       error
	}{
		{name: "no baseline", opts: check.Options{Schemas: good}, validate: true, want: "check: --against is required"},
		{name: "unknown level", opts: check.Options{Schemas: good, Against: good, Level: "sideways"}, validate: true, want: "FULL_TRANSITIVE", is: compat.ErrUnknownLevel},
		{name: "transitive needs git", opts: check.Options{Schemas: good, Against: good, Transitive: true}, validate: true, want: "--transitive works with --against git:REF only"},
		{name: "registry URL hides its password", opts: check.Options{Schemas: good, Against: "http://ci:s3cr3t@[::1:bad/"}, validate: true, want: "does not parse"},
		{name: "working tree does not parse", opts: check.Options{Schemas: broken, Against: good}, invalid: true, want: "check: working tree: schemas: "},
		{name: "no manifest", opts: check.Options{Schemas: t.TempDir(), Against: good}, invalid: true, is: schemas.ErrNoManifest},
		{name: "baseline does not parse", opts: check.Options{Schemas: good, Against: broken}, invalid: true, want: "check: baseline " + broken},
		{name: "baseline directory missing", opts: check.Options{Schemas: good, Against: filepath.Join(good, "nope")}, want: "is not git:REF, an http(s) registry URL or a directory"},
		{name: "exceptions file missing", opts: check.Options{Schemas: good, Against: good, Exceptions: filepath.Join(good, "nope.yaml")}, want: "check: exceptions: "},
		{name: "contract rule in exceptions", opts: check.Options{Schemas: good, Against: good, Exceptions: badExceptions}, invalid: true, want: `unknown rule "CONTRACT_FIELD_NOT_WRITTEN"`, is: compat.ErrBadExceptions},
		{name: "registry unreachable", opts: check.Options{Schemas: good, Against: "http://127.0.0.1:1"}, want: "check: baseline: registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); (err != nil) != tt.validate {
				t.Fatalf("Validate: %v, want an error: %v", err, tt.validate)
			}
			res, err := check.Run(context.Background(), tt.opts)
			if err == nil {
				t.Fatalf("no error; findings %+v", res.Findings)
			}
			if errors.Is(err, compat.ErrInvalidInput) != tt.invalid {
				t.Errorf("errors.Is(ErrInvalidInput) = %v, want %v: %v", !tt.invalid, tt.invalid, err)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q should contain %q and no password", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v should wrap %v", err, tt.is)
			}
		})
	}
}

// TestRunGitBaseline checks against git refs: the ref, its history
// (transitive), a ref git does not know, and a ref from before the schema
// directory existed, which passes with a note.
func TestRunGitBaseline(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	gitRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "README"), []byte("before schemas\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun("init", "-q", "-b", "main")
	gitRun("add", ".")
	gitRun("commit", "-q", "-m", "no schemas yet")
	dir := filepath.Join(repo, "schemas")
	if err := os.CopyFS(dir, os.DirFS(fixture("EXCEPTION_UNUSED", "previous"))); err != nil {
		t.Fatal(err)
	}
	gitRun("add", ".")
	gitRun("commit", "-q", "-m", "v1: quantity int")
	placed := filepath.Join(dir, "shop", "OrderPlaced.avsc")
	edit := func(old, new string) {
		t.Helper()
		b, _ := os.ReadFile(placed)
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q", placed, old)
		}
		if err := os.WriteFile(placed, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// v2 adds a field with a default; the working tree drops the default
	// (breaks v1 data only) and makes quantity a string (breaks both).
	edit(`{"name": "quantity", "type": "int"}`, `{"name": "quantity", "type": "int"}, {"name": "note", "type": "string", "default": ""}`)
	gitRun("commit", "-q", "-am", "v2: note with a default")
	edit(`, "default": ""}`, `}`)
	edit(`"type": "int"`, `"type": "string"`)

	tests := []struct {
		name     string
		opts     check.Options
		want     map[compat.RuleID]int
		notes    string // in the notes
		progress []int  // OnProgress's done values
		err      string
	}{
		{name: "ref", opts: check.Options{Against: "git:main"}, want: map[compat.RuleID]int{"TYPE_CHANGED": 1}},
		{name: "history", opts: check.Options{Against: "git:main", Transitive: true, Level: compat.BackwardTransitive},
			want: map[compat.RuleID]int{"TYPE_CHANGED": 1, "READER_FIELD_MISSING_DEFAULT": 1}, progress: []int{1, 2}},
		{name: "before the schema directory", opts: check.Options{Against: "git:main~2"}, want: map[compat.RuleID]int{}, notes: "git:main~2@"},
		{name: "unknown ref", opts: check.Options{Against: "git:no-such-branch"}, err: "fetch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var notes []string
			var progress []int
			tt.opts.Schemas, tt.opts.Now = dir, fixtureNow
			tt.opts.OnNote = func(msg string) { notes = append(notes, msg) }
			tt.opts.OnProgress = func(done, total int) { progress = append(progress, done) }
			res, err := check.Run(context.Background(), tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || errors.Is(err, compat.ErrInvalidInput) {
					t.Fatalf("error %v, want a tool error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rules(res.Findings); !maps.Equal(got, tt.want) {
				t.Fatalf("findings %v, want %v\n%+v", got, tt.want, res.Findings)
			}
			if res.PathPrefix != "schemas/" || res.BaselinePrefix != "schemas/" {
				t.Errorf("prefixes %q, %q: want schemas/ for both", res.PathPrefix, res.BaselinePrefix)
			}
			if tt.notes != "" && !strings.Contains(strings.Join(notes, "\n"), tt.notes) {
				t.Errorf("notes %q, want %q", notes, tt.notes)
			}
			if (tt.notes == "") != (len(notes) == 0) || (len(notes) > 0 && !strings.Contains(notes[0], "has no schemas/: every subject is new")) {
				t.Errorf("notes %q, want %q", notes, tt.notes)
			}
			if !slices.Equal(progress, tt.progress) {
				t.Errorf("progress %v, want %v", progress, tt.progress)
			}
		})
	}
}

// TestRules: check reports every rule but the contract rules.
func TestRules(t *testing.T) {
	got := check.Rules()
	if len(got) == 0 || len(got) != len(compat.Rules())-len(compat.RulesIn(compat.ScopeContract)) {
		t.Fatalf("%d check rules of %d", len(got), len(compat.Rules()))
	}
	for _, r := range got {
		if r.Scope == compat.ScopeContract {
			t.Errorf("check reports contract rule %s", r.ID)
		}
	}
}

// TestRunMajorsGitBaseline: a git baseline carries the sidecars, so a
// changed migration rule is reported; a breaking change inside a major still
// breaks, checked against that major only.
func TestRunMajorsGitBaseline(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	gitRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	dir := filepath.Join(repo, "schemas")
	if err := os.CopyFS(dir, os.DirFS(fixture("MAJOR_RETIRED", "previous"))); err != nil {
		t.Fatal(err)
	}
	gitRun("init", "-q", "-b", "main")
	gitRun("add", ".")
	gitRun("commit", "-q", "-m", "OrderPlaced v1 and v2")
	edit := func(file, old, new string) {
		t.Helper()
		p := filepath.Join(dir, "shop", file)
		b, _ := os.ReadFile(p)
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q", p, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("OrderPlaced.v2.contract.yaml", "mode: UPDOWN", "mode: UPGRADE")
	res, err := check.Run(context.Background(), check.Options{Schemas: dir, Against: "git:main", Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules(res.Findings); !maps.Equal(got, map[compat.RuleID]int{"MIGRATION_RULE_CHANGED": 1}) || res.Breaking() {
		t.Fatalf("findings %v (breaking %v), want one MIGRATION_RULE_CHANGED\n%+v", got, res.Breaking(), res.Findings)
	}
	if f := res.Findings[0]; f.Reader.File != "shop/OrderPlaced.v2.contract.yaml" || f.Reader.Line != 3 || !strings.Contains(f.Message, `mode "UPDOWN" -> "UPGRADE"`) {
		t.Errorf("finding %+v", f)
	}
	// v2 makes quantity a string: TYPE_CHANGED against v2 only (v1 has an
	// int too, but v2 is not checked against v1 any more).
	edit("OrderPlaced.v2.avsc", `"type": "long"`, `"type": "string"`)
	res, err = check.Run(context.Background(), check.Options{Schemas: dir, Against: "git:main", Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules(res.Findings); !maps.Equal(got, map[compat.RuleID]int{"MIGRATION_RULE_CHANGED": 1, "TYPE_CHANGED": 1}) || !res.Breaking() {
		t.Fatalf("findings %v (breaking %v)\n%+v", got, res.Breaking(), res.Findings)
	}
	for _, f := range res.Findings {
		if f.Rule == "TYPE_CHANGED" && (f.Reader.File != "shop/OrderPlaced.v2.avsc" || f.Writer.File != "shop/OrderPlaced.v2.avsc") {
			t.Errorf("TYPE_CHANGED between %s and %s, want v2 with v2", f.Reader.File, f.Writer.File)
		}
	}
}

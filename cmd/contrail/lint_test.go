package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/lint"
)

// lintFixture is a rule's fixture tree under lint/testdata.
func lintFixture(rule, kind string) string {
	return filepath.Join("..", "..", "lint", "testdata", rule, kind)
}

func TestLintCommand(t *testing.T) {
	missingReason := t.TempDir()
	copyTreeForLint(t, lintFixture("FIELD_DOC_MISSING", "good"), missingReason)
	edit(t, filepath.Join(missingReason, "manifest.yaml"), "key: orderId\n", "key: orderId\nlint:\n  ignore:\n    - rule: FIELD_DOC_MISSING\n")

	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    []string
		stderr    string
		notStdout string
	}{
		{name: "the repository's schemas pass", args: []string{"lint", "--schemas", "../../schemas"}, code: exitOK,
			stdout: []string{"clean: ", " files linted at tier STANDARD: 0 errors, 0 warnings, 0 ignored"}},
		{name: "a finding exits 100 at its line", args: []string{"lint", "--schemas", lintFixture("UNION_NULL_NOT_FIRST", "bad")}, code: exitBreaking,
			stdout: []string{
				"lint/testdata/UNION_NULL_NOT_FIRST/bad/shop/orders/OrderPlaced.avsc:9:47: error UNION_NULL_NOT_FIRST\n",
				"FAILED: 2 files linted at tier STANDARD: 1 errors, 0 warnings, 0 ignored",
			}},
		{name: "github annotations", args: []string{"lint", "--schemas", lintFixture("ENUM_SYMBOL_CASE", "bad"), "--format", "github-actions"}, code: exitBreaking,
			stdout: []string{"::error file=lint/testdata/ENUM_SYMBOL_CASE/bad/shop/orders/SalesChannel.avsc,line=6,col=26,title=ENUM_SYMBOL_CASE::symbol Web"}},
		{name: "the tier flag", args: []string{"lint", "--schemas", lintFixture("FIELD_DOC_MISSING", "bad"), "--tier", "docs"}, code: exitBreaking,
			stdout: []string{"error FIELD_DOC_MISSING", "at tier DOCS"}},
		{name: "below the rule's tier", args: []string{"lint", "--schemas", lintFixture("FIELD_DOC_MISSING", "bad"), "--tier", "BASIC"}, code: exitOK,
			stdout: []string{"clean: 2 files linted at tier BASIC"}},
		{name: "paths limit the findings", args: []string{"lint", "--schemas", lintFixture("NAMED_TYPE_UNUSED", "bad"), filepath.Join(lintFixture("NAMED_TYPE_UNUSED", "bad"), "shop", "orders")}, code: exitOK,
			stdout: []string{"clean: 1 files linted"}},
		{name: "a warning alone passes", args: []string{"lint", "--schemas", lintFixture("LINT_IGNORE_UNUSED", "bad"), "--tier", "DOCS"}, code: exitOK,
			stdout: []string{"warning LINT_IGNORE_UNUSED", "clean: 2 files linted at tier DOCS: 0 errors, 1 warnings"}},
		{name: "an ignore without a reason is invalid input", args: []string{"lint", "--schemas", missingReason}, code: exitInvalid,
			stderr: "manifest.yaml:10:7: ignore entry has no reason"},
		{name: "a tree that does not load is invalid input", args: []string{"lint", "--schemas", t.TempDir()}, code: exitInvalid,
			stderr: "no manifest.yaml"},
		{name: "unknown tier", args: []string{"lint", "--tier", "STRICT"}, code: exitError, stderr: "unknown tier"},
		{name: "unknown format", args: []string{"lint", "--format", "yaml"}, code: exitError, stderr: "unknown --format"},
		{name: "a path outside the tree", args: []string{"lint", "--schemas", "../../schemas", "."}, code: exitError, stderr: "outside the schema tree"},
		{name: "list the rules", args: []string{"lint", "--list-rules"}, code: exitOK,
			stdout: []string{"UNION_RECORDS_AMBIGUOUS          STANDARD The records of a union", "FIELD_DOC_MISSING                DOCS     "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr.String())
			}
		})
	}
}

// TestLintListsEveryRule: --list-rules prints one line per rule.
func TestLintListsEveryRule(t *testing.T) {
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"lint", "--list-rules"}, &stdout, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	rules := lint.Rules()
	if len(lines) != len(rules) {
		t.Fatalf("%d lines for %d rules:\n%s", len(lines), len(rules), stdout.String())
	}
	for i, r := range rules {
		if f := strings.Fields(lines[i]); len(f) < 3 || f[0] != string(r.ID) || f[1] != r.Tier.String() {
			t.Errorf("line %d: %q, want %s %s ...", i, lines[i], r.ID, r.Tier)
		}
	}
}

func TestLintJSON(t *testing.T) {
	var stdout bytes.Buffer
	code := run(context.Background(), []string{"lint", "--schemas", lintFixture("NULLABLE_FIELD_DEFAULT_MISSING", "bad"), "--format", "json"}, &stdout, &bytes.Buffer{})
	var doc struct {
		Kind     string
		Breaking bool
		Findings []struct {
			Rule     string
			Severity string
			Location struct {
				Path, File string
				Line, Col  int
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || code != exitBreaking || doc.Kind != "lint" || !doc.Breaking || len(doc.Findings) != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, stdout.String())
	}
	f := doc.Findings[0]
	if f.Rule != "NULLABLE_FIELD_DEFAULT_MISSING" || f.Severity != "error" || f.Location.Path != "/fields/2/name" || f.Location.Line != 9 || f.Location.Col != 14 ||
		f.Location.File != "lint/testdata/NULLABLE_FIELD_DEFAULT_MISSING/bad/shop/orders/OrderPlaced.avsc" {
		t.Errorf("finding %+v", f)
	}
}

// TestLintCIScripts runs the lint step of ci/github/action.yml and the
// contrail-lint job of ci/gitlab/contrail-check.yml, with a contrail built
// from this tree, over a copy of the repository's schemas with one lint
// violation: both must fail with exit 100 and point at it.
func TestLintCIScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the contrail binary")
	}
	for _, tool := range []string{"bash", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	tmp := t.TempDir()
	gopath := filepath.Join(tmp, "gopath")
	bin := filepath.Join(gopath, "bin", "contrail")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := filepath.Join(tmp, "work")
	copySchemas(t, filepath.Join(work, "schemas"))
	reason := filepath.Join(work, "schemas", "contrail", "orders", "CancelReason.avsc")
	edit(t, reason, `"OUT_OF_STOCK"`, `"OutOfStock"`)
	line, col := lineCol(t, reason, `"OutOfStock"`)

	t.Run("github", func(t *testing.T) {
		script := actionStep(t, "Lint schemas")
		code, out := runScript(t, work, script, []string{"SCHEMAS=schemas", "TIER=", "GOPATH=" + gopath})
		want := "::error file=schemas/contrail/orders/CancelReason.avsc,line=" + itoa(line) + ",col=" + itoa(col) + ",title=ENUM_SYMBOL_CASE::"
		if code != exitBreaking || !strings.Contains(out, want) {
			t.Fatalf("exit %d, want 100 and %q\n%s", code, want, out)
		}
	})
	t.Run("gitlab", func(t *testing.T) {
		var tpl map[string]struct {
			Variables map[string]string `yaml:"variables"`
			Script    []string          `yaml:"script"`
		}
		readYAML(t, filepath.Join("..", "..", "ci", "gitlab", "contrail-check.yml"), &tpl)
		job, ok := tpl[".contrail-lint"]
		if !ok || len(job.Script) < 2 || !strings.Contains(job.Script[0], "go install") {
			t.Fatalf("template has no .contrail-lint job of the expected shape: %+v", job)
		}
		env := []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")}
		for k, v := range job.Variables {
			env = append(env, k+"="+v)
		}
		code, out := runScript(t, work, strings.Join(job.Script[1:], "\n"), env)
		if code != exitBreaking || !strings.Contains(out, "error ENUM_SYMBOL_CASE") {
			t.Fatalf("exit %d, want 100\n%s", code, out)
		}
		xmlOut, err := os.ReadFile(filepath.Join(work, "contrail-lint.xml"))
		if err != nil || !strings.Contains(string(xmlOut), `type="ENUM_SYMBOL_CASE"`) {
			t.Fatalf("junit report: %v\n%s", err, xmlOut)
		}
	})
}

// actionStep returns the run script of the GitHub action's step name.
func actionStep(t *testing.T, name string) string {
	t.Helper()
	var action struct {
		Runs struct {
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	readYAML(t, filepath.Join("..", "..", "ci", "github", "action.yml"), &action)
	for _, s := range action.Runs.Steps {
		if s.Name == name {
			return s.Run
		}
	}
	t.Fatalf("action.yml has no step named %q", name)
	return ""
}

// copyTreeForLint copies every file under src to dst.
func copyTreeForLint(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

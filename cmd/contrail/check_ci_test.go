package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCIScripts runs the shell that ci/github/action.yml and
// ci/gitlab/contrail-check.yml run, with a contrail built from this tree, in
// a clone whose branch breaks a schema of origin/main: both must fail with
// exit 100 and point at the broken line.
func TestCIScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the contrail binary")
	}
	for _, tool := range []string{"git", "bash", "go"} {
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

	// origin: main with the repository's schemas; work: a clone with a
	// breaking commit on a branch.
	origin := filepath.Join(tmp, "origin")
	copySchemas(t, filepath.Join(origin, "schemas"))
	gitRun(t, origin, "init", "-q", "-b", "main")
	gitRun(t, origin, "add", ".")
	gitRun(t, origin, "commit", "-q", "-m", "v1")
	work := filepath.Join(tmp, "work")
	gitRun(t, tmp, "clone", "-q", origin, work)
	gitRun(t, work, "checkout", "-q", "-b", "feature")
	placed := filepath.Join(work, "schemas", "contrail", "orders", "OrderPlaced.avsc")
	breakCustomerID(t, filepath.Dir(filepath.Dir(filepath.Dir(placed))))
	gitRun(t, work, "commit", "-q", "-am", "breaking")
	line, col := lineCol(t, placed, `"long"`)

	t.Run("github", func(t *testing.T) {
		script, env := githubStep(t)
		env = append(env, "BASE_REF=main", "AGAINST=", "SCHEMAS=schemas", "TRANSITIVE=true", "LEVEL=", "EXCEPTIONS=", "GOPATH="+gopath)
		code, out := runScript(t, work, script, env)
		want := "::error file=schemas/contrail/orders/OrderPlaced.avsc,line=" + itoa(line) + ",col=" + itoa(col) + ",title=TYPE_CHANGED::"
		if code != exitBreaking || !strings.Contains(out, want) {
			t.Fatalf("exit %d, want 100 and %q\n%s", code, want, out)
		}
	})
	t.Run("gitlab", func(t *testing.T) {
		script, env := gitlabScript(t)
		env = append(env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main", "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
		code, out := runScript(t, work, script, env)
		if code != exitBreaking || !strings.Contains(out, "error TYPE_CHANGED") {
			t.Fatalf("exit %d, want 100\n%s", code, out)
		}
		xmlOut, err := os.ReadFile(filepath.Join(work, "contrail-check.xml"))
		if err != nil || !regexp.MustCompile(`<failure message="[^"]*customerId[^"]*" type="TYPE_CHANGED"`).Match(xmlOut) {
			t.Fatalf("junit report: %v\n%s", err, xmlOut)
		}
	})
}

func runScript(t *testing.T, dir, script string, env []string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

// githubStep returns the run script of the action's check step and the
// environment the action passes it (with the inputs' defaults resolved by
// the caller).
func githubStep(t *testing.T) (string, []string) {
	t.Helper()
	var action struct {
		Runs struct {
			Steps []struct {
				Name string            `yaml:"name"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	readYAML(t, filepath.Join("..", "..", "ci", "github", "action.yml"), &action)
	for _, s := range action.Runs.Steps {
		if s.Name == "Check schema compatibility" {
			return s.Run, nil
		}
	}
	t.Fatal("action.yml has no step named \"Check schema compatibility\"")
	return "", nil
}

// gitlabScript returns the template's check script (everything after the
// install line) and its default variables.
func gitlabScript(t *testing.T) (string, []string) {
	t.Helper()
	var tpl map[string]struct {
		Variables map[string]string `yaml:"variables"`
		Script    []string          `yaml:"script"`
	}
	readYAML(t, filepath.Join("..", "..", "ci", "gitlab", "contrail-check.yml"), &tpl)
	job, ok := tpl[".contrail-check"]
	if !ok || len(job.Script) < 2 || !strings.Contains(job.Script[0], "go install") {
		t.Fatalf("template shape changed: %+v", job)
	}
	var env []string
	for k, v := range job.Variables {
		env = append(env, k+"="+v)
	}
	return strings.Join(job.Script[1:], "\n"), env
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

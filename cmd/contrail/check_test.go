package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/schemas"
)

// copySchemas copies the repository's own schema tree (manifest, .avsc and
// the data contracts beside them) to dst.
func copySchemas(t *testing.T, dst string) {
	t.Helper()
	src := filepath.Join("..", "..", "schemas")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(p, ".avsc") && !strings.HasSuffix(p, schemas.SidecarSuffix) && filepath.Base(p) != "manifest.yaml" {
			return nil
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
}

// edit replaces the first occurrence of old in file with new.
func edit(t *testing.T, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lineCol returns the 1-based line and column of the first occurrence of
// needle in file.
func lineCol(t *testing.T, file, needle string) (int, int) {
	t.Helper()
	b, _ := os.ReadFile(file)
	i := strings.Index(string(b), needle)
	if i < 0 {
		t.Fatalf("%s does not contain %q", file, needle)
	}
	line := strings.Count(string(b[:i]), "\n") + 1
	col := i - strings.LastIndex(string(b[:i]), "\n")
	return line, col
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func ruleSet(out string) map[string]int {
	m := map[string]int{}
	for _, s := range regexp.MustCompile(`title=([A-Z_]+)::`).FindAllStringSubmatch(out, -1) {
		m[s[1]]++
	}
	return m
}

// TestCheckGitTwoCommits is the end-to-end proof: a real git repository
// with a compatible commit and then a breaking one, checked by the real
// `contrail check` against git refs, in every format.
func TestCheckGitTwoCommits(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	dir := filepath.Join(repo, "schemas")
	copySchemas(t, dir)
	gitRun(t, repo, "init", "-q", "-b", "main")
	gitRun(t, repo, "add", ".")
	gitRun(t, repo, "commit", "-q", "-m", "v1")

	placed := filepath.Join(dir, "contrail", "orders", "OrderPlaced.avsc")
	// Commit 2, compatible: a new field with a default.
	edit(t, placed, `{"name": "couponCode", "type": ["null", "string"], "default": null}`,
		`{"name": "couponCode", "type": ["null", "string"], "default": null},
    {"name": "giftNote", "type": "string", "default": ""}`)
	gitRun(t, repo, "commit", "-q", "-am", "compatible: giftNote with a default")

	set, err := schemas.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	nSubjects := len(set.Types) // one per event, one per shared type
	code, out, errOut := runCLI(t, "check", "--schemas", dir, "--against", "git:HEAD~1")
	if code != exitOK || !strings.Contains(out, "compatible: "+itoa(nSubjects)+" subjects") {
		t.Fatalf("compatible commit: exit %d\n%s\n%s", code, out, errOut)
	}

	// Commit 3, breaking: giftNote loses its default (fine against commit 2,
	// breaks commit 1 data) and customerId changes type (breaks both).
	edit(t, placed, `{"name": "giftNote", "type": "string", "default": ""}`, `{"name": "giftNote", "type": "string"}`)
	edit(t, placed, `{"name": "customerId", "type": "string"}`, `{"name": "customerId", "type": "long"}`)
	gitRun(t, repo, "commit", "-q", "-am", "breaking")

	typeLine, typeCol := lineCol(t, placed, `"long"`)
	giftLine, giftCol := lineCol(t, placed, `{"name": "giftNote"`)
	annotation := func(line, col int, rule string) string {
		return "::error file=schemas/contrail/orders/OrderPlaced.avsc,line=" + itoa(line) + ",col=" + itoa(col) + ",title=" + rule + "::"
	}

	code, out, errOut = runCLI(t, "check", "--schemas", dir, "--against", "git:HEAD~1", "--format", "github-actions")
	if code != exitBreaking {
		t.Fatalf("breaking commit: exit %d, want 100\n%s\n%s", code, out, errOut)
	}
	if got := ruleSet(out); len(got) != 1 || got["TYPE_CHANGED"] != 1 {
		t.Fatalf("against HEAD~1 want exactly one TYPE_CHANGED, got %v\n%s", got, out)
	}
	if !strings.Contains(out, annotation(typeLine, typeCol, "TYPE_CHANGED")+"[orders-contrail.orders.OrderPlaced] record contrail.orders.OrderPlaced field \"customerId\"") {
		t.Fatalf("annotation not on %d:%d:\n%s", typeLine, typeCol, out)
	}

	// --transitive: OrderPlaced is FULL_TRANSITIVE, so commit 1 counts too.
	code, out, _ = runCLI(t, "check", "--schemas", dir, "--against", "git:HEAD~1", "--transitive", "--format", "github-actions")
	if code != exitBreaking {
		t.Fatalf("transitive: exit %d\n%s", code, out)
	}
	if got := ruleSet(out); got["TYPE_CHANGED"] != 1 || got["READER_FIELD_MISSING_DEFAULT"] != 1 || len(got) != 2 {
		t.Fatalf("transitive: rules %v\n%s", got, out)
	}
	if !strings.Contains(out, annotation(giftLine, giftCol, "READER_FIELD_MISSING_DEFAULT")) {
		t.Fatalf("missing-default annotation not on %d:%d:\n%s", giftLine, giftCol, out)
	}

	// The same findings in the other formats.
	code, out, _ = runCLI(t, "check", "--schemas", dir, "--against", "git:HEAD~1", "--transitive", "--format", "json")
	var doc struct {
		Breaking bool
		Findings []struct {
			Rule     string
			Subject  string
			Location struct {
				File string
				Line int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitBreaking || !doc.Breaking || len(doc.Findings) != 2 {
		t.Fatalf("json: exit %d, err %v\n%s", code, err, out)
	}
	for _, f := range doc.Findings {
		if f.Location.File != "schemas/contrail/orders/OrderPlaced.avsc" || (f.Location.Line != typeLine && f.Location.Line != giftLine) {
			t.Errorf("json finding %+v", f)
		}
	}
	code, out, _ = runCLI(t, "check", "--schemas", dir, "--against", "git:HEAD~1", "--transitive", "--format", "junit")
	var ju struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name     string `xml:"name,attr"`
				Failures []struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &ju); err != nil || code != exitBreaking || ju.Failures != 1 || len(ju.Suites[0].Cases) != nSubjects {
		t.Fatalf("junit: exit %d, err %v\n%s", code, err, out)
	}
	code, out, _ = runCLI(t, "check", "--schemas", dir, "--against", "git:HEAD~1", "--transitive")
	if code != exitBreaking || !strings.Contains(out, "schemas/contrail/orders/OrderPlaced.avsc:"+itoa(typeLine)+":"+itoa(typeCol)+": error TYPE_CHANGED") ||
		!strings.Contains(out, `add a default to field "giftNote"`) || !strings.Contains(out, "BREAKING") {
		t.Fatalf("text: exit %d\n%s", code, out)
	}

	// An unknown ref is a tool error that says what to do.
	code, _, errOut = runCLI(t, "check", "--schemas", dir, "--against", "git:no-such-branch")
	if code != exitError || !strings.Contains(errOut, "fetch") {
		t.Fatalf("unknown ref: exit %d, %s", code, errOut)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestCheckTree runs check against a directory baseline (the unmodified
// tree) after one change each, covering tree rules, exceptions and exit codes.
func TestCheckTree(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		args   []string
		code   int
		rules  map[string]int
		stderr string
	}{
		{name: "unchanged", change: func(*testing.T, string) {}, code: exitOK, rules: map[string]int{}},
		{name: "compatible optional field", code: exitOK, rules: map[string]int{}, change: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "contrail/shipping/OrderShipped.avsc"), `"fields": [`, `"fields": [
    {"name": "note", "type": ["null", "string"], "default": null},`)
		}},
		{name: "shared type change reported once", code: exitBreaking, rules: map[string]int{"ENUM_SYMBOL_REMOVED_WITHOUT_DEFAULT": 1}, change: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "contrail/orders/SalesChannel.avsc"), `, "MOBILE"`, ``)
			edit(t, filepath.Join(d, "contrail/orders/SalesChannel.avsc"), `,
  "default": "UNKNOWN"`, ``)
		}},
		{name: "subject moved", code: exitBreaking, rules: map[string]int{"SUBJECT_MOVED": 1}, change: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "manifest.yaml"), "topic: shipments", "topic: orders")
		}},
		{name: "strategy changed", code: exitBreaking, rules: map[string]int{"STRATEGY_CHANGED": 1}, change: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "manifest.yaml"), "strategy: RecordName\n    compatibility: FULL", "strategy: TopicRecordName\n    compatibility: FULL")
		}},
		{name: "schema file deleted", code: exitBreaking, rules: map[string]int{"SCHEMA_FILE_DELETED": 1}, change: func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "contrail/payments/PaymentRefunded.avsc"))
			edit(t, filepath.Join(d, "manifest.yaml"), "  - schema: contrail.payments.PaymentRefunded\n    topic: payments\n    key: orderId\n    producers: [payment]\n    consumers: [order]\n", "")
		}},
		{name: "schema file renamed", code: exitBreaking, rules: map[string]int{"SCHEMA_FILE_RENAMED": 1}, change: func(t *testing.T, d string) {
			old := filepath.Join(d, "contrail/payments/PaymentRefunded.avsc")
			b, _ := os.ReadFile(old)
			os.Remove(old)
			s := strings.Replace(string(b), `"name": "PaymentRefunded"`, `"name": "PaymentReversed", "aliases": ["contrail.payments.PaymentRefunded"]`, 1)
			os.WriteFile(filepath.Join(d, "contrail/payments/PaymentReversed.avsc"), []byte(s), 0o644)
			edit(t, filepath.Join(d, "manifest.yaml"), "schema: contrail.payments.PaymentRefunded", "schema: contrail.payments.PaymentReversed")
		}},
		{name: "level override NONE passes a break", code: exitOK, args: []string{"--level", "none"}, rules: map[string]int{}, change: breakCustomerID},
		{name: "exception silences", code: exitOK, rules: map[string]int{}, change: func(t *testing.T, d string) {
			breakCustomerID(t, d)
			writeExceptions(t, d, "  - rule: TYPE_CHANGED\n    subject: orders-contrail.orders.OrderPlaced\n    reason: nobody reads customerId yet\n    expires: 2999-01-01\n")
		}},
		{name: "exception by path", code: exitOK, rules: map[string]int{}, change: func(t *testing.T, d string) {
			breakCustomerID(t, d)
			writeExceptions(t, d, "  - rule: TYPE_CHANGED\n    path: contrail/orders/*.avsc\n    reason: migration, see ADR 7\n")
		}},
		{name: "expired exception", code: exitBreaking, rules: map[string]int{"TYPE_CHANGED": 1, "EXCEPTION_EXPIRED": 1}, change: func(t *testing.T, d string) {
			breakCustomerID(t, d)
			writeExceptions(t, d, "  - rule: TYPE_CHANGED\n    subject: orders-contrail.orders.OrderPlaced\n    reason: was fine last year\n    expires: 2020-01-01\n")
		}},
		{name: "unused exception warns", code: exitOK, rules: map[string]int{"EXCEPTION_UNUSED": 1}, change: func(t *testing.T, d string) {
			writeExceptions(t, d, "  - rule: FIXED_SIZE_CHANGED\n    subject: nothing\n    reason: leftover\n")
		}},
		{name: "exception without reason", code: exitInvalid, stderr: "has no reason", change: func(t *testing.T, d string) {
			writeExceptions(t, d, "  - rule: TYPE_CHANGED\n    subject: x\n")
		}},
		{name: "invalid schema", code: exitInvalid, stderr: "OrderPlaced.avsc:", change: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "contrail/orders/OrderPlaced.avsc"), `{"name": "customerId", "type": "string"}`, `{"name": "customerId", "type": "string", "default": 5}`)
		}},
		{name: "bad format", code: exitError, args: []string{"--format", "xml"}, stderr: "github-actions", change: func(*testing.T, string) {}},
		{name: "bad level", code: exitError, args: []string{"--level", "sideways"}, stderr: "FULL_TRANSITIVE", change: func(*testing.T, string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, dir := filepath.Join(t.TempDir(), "base"), filepath.Join(t.TempDir(), "schemas")
			copySchemas(t, base)
			copySchemas(t, dir)
			tt.change(t, dir)
			args := append([]string{"check", "--schemas", dir, "--against", base, "--format", "github-actions"}, tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if tt.rules != nil {
				if got := ruleSet(out); !equalCounts(got, tt.rules) {
					t.Fatalf("rules %v, want %v\n%s", got, tt.rules, out)
				}
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("stderr %q should contain %q", errOut, tt.stderr)
			}
		})
	}
	code, _, errOut := runCLI(t, "check")
	if code != exitError || !strings.Contains(errOut, "--against is required") {
		t.Fatalf("no --against: %d %s", code, errOut)
	}
}

func breakCustomerID(t *testing.T, d string) {
	edit(t, filepath.Join(d, "contrail/orders/OrderPlaced.avsc"), `{"name": "customerId", "type": "string"}`, `{"name": "customerId", "type": "long"}`)
}

func writeExceptions(t *testing.T, d, entries string) {
	if err := os.WriteFile(filepath.Join(d, "compat-exceptions.yaml"), []byte("exceptions:\n"+entries), 0o644); err != nil {
		t.Fatal(err)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// servePushed starts our registry over HTTP with the repository's schemas
// pushed as `contrail registry push` does, and returns its URL and a client.
func servePushed(t *testing.T) (string, *sr.Client) {
	t.Helper()
	url := registrytest.Serve(t)
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	set, err := schemas.Load(filepath.Join("..", "..", "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.Push(context.Background(), cl, set, false, nil); err != nil {
		t.Fatal(err)
	}
	return url, cl
}

// TestCheckAgainstRegistry registers the repository's schemas (with
// references) in Contrail's registry over real HTTP, then checks a breaking
// and a compatible working tree against it.
func TestCheckAgainstRegistry(t *testing.T) {
	srvURL, _ := servePushed(t)

	dir := filepath.Join(t.TempDir(), "schemas")
	copySchemas(t, dir)
	code, out, errOut := runCLI(t, "check", "--schemas", dir, "--against", srvURL)
	if code != exitOK {
		t.Fatalf("unchanged tree against registry: exit %d\n%s\n%s", code, out, errOut)
	}
	edit(t, filepath.Join(dir, "contrail/common/Money.avsc"), `"scale": 2`, `"scale": 3`)
	code, out, errOut = runCLI(t, "check", "--schemas", dir, "--against", srvURL, "--format", "json")
	if code != exitBreaking || !strings.Contains(out, `"rule": "DECIMAL_SCALE_CHANGED"`) || !strings.Contains(out, `"writer": "registry contrail.common.Money v1"`) {
		t.Fatalf("breaking tree against registry: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "check", "--schemas", dir, "--against", "http://127.0.0.1:1")
	if code != exitError || !strings.Contains(errOut, "registry") {
		t.Fatalf("unreachable registry: exit %d %s", code, errOut)
	}
}

// TestCheckExceptionsFileAnnotations: findings about the exceptions file
// (expired, unused) are annotated at that file's path from the repository
// root, wherever the file lives and however --schemas is spelt, so the
// annotation lands on the right line of the pull request.
func TestCheckExceptionsFileAnnotations(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	dir := filepath.Join(repo, "schemas")
	copySchemas(t, dir)
	gitRun(t, repo, "init", "-q", "-b", "main")
	gitRun(t, repo, "add", ".")
	gitRun(t, repo, "commit", "-q", "-m", "v1")
	const entries = "exceptions:\n  - rule: FIXED_SIZE_CHANGED\n    subject: nothing\n    reason: leftover\n"
	if err := os.MkdirAll(filepath.Join(repo, "ci"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "compat-exceptions.yaml"), filepath.Join(repo, "ci", "exceptions.yaml")} {
		if err := os.WriteFile(f, []byte(entries), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "default location", args: nil, want: "::warning file=schemas/compat-exceptions.yaml,line=2,"},
		{name: "outside the schema dir", args: []string{"--exceptions", filepath.Join(repo, "ci", "exceptions.yaml")},
			want: "::warning file=ci/exceptions.yaml,line=2,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--schemas", dir, "--against", "git:HEAD", "--format", "github-actions"}, tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != exitOK || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want 0 and %q\nstdout: %s\nstderr: %s", code, tt.want, out, errOut)
			}
		})
	}
}

// TestCheckBaselineWithoutSchemas: the pull request that adds Contrail to a
// repository checks against a base branch with no schema directory yet.
// Every subject is new, so it passes (and says why) instead of failing with
// "no manifest.yaml" about a tree the author cannot change.
func TestCheckBaselineWithoutSchemas(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "README"), []byte("before contrail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, "init", "-q", "-b", "main")
	gitRun(t, repo, "add", ".")
	gitRun(t, repo, "commit", "-q", "-m", "no schemas yet")
	dir := filepath.Join(repo, "schemas")
	copySchemas(t, dir)
	gitRun(t, repo, "add", ".")
	gitRun(t, repo, "commit", "-q", "-m", "adopt contrail")
	tests := []struct {
		name string
		args []string
	}{
		{name: "latest", args: nil},
		{name: "transitive", args: []string{"--transitive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--schemas", dir, "--against", "git:HEAD~1"}, tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != exitOK || !strings.Contains(out, "compatible") || !strings.Contains(errOut, "has no schemas/") {
				t.Fatalf("exit %d, want 0 and a note that the baseline has no schemas/\nstdout: %s\nstderr: %s", code, out, errOut)
			}
		})
	}
	// A baseline whose schema tree exists but is broken is still exit 2.
	if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte("version: 1\ntopics: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, "commit", "-q", "-am", "break the manifest")
	copySchemas(t, dir)
	if code, _, errOut := runCLI(t, "check", "--schemas", dir, "--against", "git:HEAD"); code != exitInvalid {
		t.Fatalf("broken baseline manifest: exit %d, want %d\n%s", code, exitInvalid, errOut)
	}
}

// TestCheckAgainstRegistryWithAuth: a registry behind basic auth (as every
// hosted one is) is a baseline too, with credentials from the URL or from
// the environment `contrail registry push` reads; a password in the URL is
// never printed.
func TestCheckAgainstRegistryWithAuth(t *testing.T) {
	srvURL := registrytest.Serve(t, registry.WithBasicAuth(map[string]string{"ci": "s3cret"}))
	dir := filepath.Join(t.TempDir(), "schemas")
	copySchemas(t, dir)
	withUser := strings.Replace(srvURL, "http://", "http://ci:s3cret@", 1)
	tests := []struct {
		name    string
		against string
		env     []string // CONTRAIL_REGISTRY_USER, CONTRAIL_REGISTRY_PASSWORD
		code    int
	}{
		{name: "no credentials", against: srvURL, code: exitError},
		{name: "credentials in the URL", against: withUser, code: exitOK},
		{name: "credentials from the environment", against: srvURL, env: []string{"ci", "s3cret"}, code: exitOK},
		{name: "wrong password", against: strings.Replace(withUser, "s3cret", "nope", 1), code: exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, pass := "", ""
			if tt.env != nil {
				user, pass = tt.env[0], tt.env[1]
			}
			t.Setenv("CONTRAIL_REGISTRY_USER", user)
			t.Setenv("CONTRAIL_REGISTRY_PASSWORD", pass)
			for _, format := range []string{"text", "json"} {
				code, out, errOut := runCLI(t, "check", "--schemas", dir, "--against", tt.against, "--format", format)
				if code != tt.code {
					t.Fatalf("%s: exit %d, want %d\n%s\n%s", format, code, tt.code, out, errOut)
				}
				if strings.Contains(out+errOut, "s3cret") || strings.Contains(out+errOut, ":nope@") {
					t.Fatalf("%s: the password is printed:\n%s\n%s", format, out, errOut)
				}
			}
		})
	}
}

// A registry URL that does not parse must not echo its password.
func TestCheckBadRegistryURLHidesPassword(t *testing.T) {
	code, out, errOut := runCLI(t, "check", "--against", "http://ci:s3cr3t-pw@[::1:bad/")
	if code != exitError {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitError, out, errOut)
	}
	if strings.Contains(out+errOut, "s3cr3t-pw") {
		t.Fatalf("password printed:\n%s%s", out, errOut)
	}
	if !strings.Contains(errOut, "does not parse") {
		t.Fatalf("unclear error:\n%s", errOut)
	}
}

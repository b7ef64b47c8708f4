package lint_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/lint"
)

// where prints a finding's location as the fixture table writes it.
func where(f compat.Finding) string {
	return fmt.Sprintf("%s:%d:%d %s", f.Reader.File, f.Reader.Line, f.Reader.Col, f.Reader.Path)
}

// TestLintRules runs every rule's fixture pair at the strictest tier: the
// bad tree yields exactly that rule's finding, at that place, with a message
// that names what is wrong; its passing twin yields nothing.
func TestLintRules(t *testing.T) {
	tests := []struct {
		rule  compat.RuleID
		where string // file:line:col JSON-pointer of the one finding
		msg   string // a part of its message
	}{
		{"NAMESPACE_DIRECTORY_MISMATCH", "vendor/shop/orders/OrderPlaced.avsc:4:16 /namespace", "move the file to shop/orders/OrderPlaced.avsc"},
		{"LOGICAL_TYPE_UNKNOWN", "shop/orders/OrderPlaced.avsc:9:66 /fields/2/type/logicalType", `unknown logicalType "timestamp-milis" on the type of field placedAt of shop.orders.OrderPlaced: Avro ignores it and the value is a plain long; did you mean "timestamp-millis"?`},
		{"LOGICAL_TYPE_WRONG_BASE", "shop/orders/OrderPlaced.avsc:9:68 /fields/2/type/logicalType", `logicalType "duration" annotates a fixed of size 12, not bytes`},
		{"LOGICAL_TYPE_ON_FIELD", "shop/orders/OrderPlaced.avsc:9:57 /fields/2/logicalType", `field placedAt of shop.orders.OrderPlaced has "logicalType": "timestamp-millis" beside its type`},
		{"DECIMAL_WITHOUT_LOGICAL_TYPE", "shop/orders/OrderPlaced.avsc:9:62 /fields/2/type/precision", `The type of field total of shop.orders.OrderPlaced has "precision" but no "logicalType": "decimal"`},
		{"LINT_IGNORE_UNUSED", "manifest.yaml:10:7 /lint/ignore/0", "the ignore entry for FIELD_DOC_MISSING in shop/orders/OrderPlaced.avsc"},
		{"TYPE_NAME_CASE", "shop/orders/sales_channel.avsc:3:11 /name", "enum shop.orders.sales_channel is not PascalCase: name it SalesChannel"},
		{"FIELD_NAME_CASE", "shop/orders/OrderPlaced.avsc:10:14 /fields/3/name", "field customer_id of shop.orders.OrderPlaced is not camelCase"},
		{"ENUM_SYMBOL_CASE", "shop/orders/SalesChannel.avsc:6:26 /symbols/1", "symbol Web of enum shop.orders.SalesChannel is not UPPER_SNAKE_CASE: call it WEB"},
		{"NAMESPACE_CASE", "shop/Orders/OrderPlaced.avsc:4:16 /namespace", "namespace shop.Orders of shop.Orders.OrderPlaced is not lower case: use shop.orders"},
		{"ENUM_DEFAULT_MISSING", "shop/orders/SalesChannel.avsc:6:14 /symbols", `enum shop.orders.SalesChannel has no default`},
		{"UNION_NULL_NOT_FIRST", "shop/orders/OrderPlaced.avsc:9:47 /fields/2/type/1", `the union ["string", "null"] of the type of field couponCode of shop.orders.OrderPlaced lists null as branch 2`},
		{"NULLABLE_FIELD_DEFAULT_MISSING", "shop/orders/OrderPlaced.avsc:9:14 /fields/2/name", `nullable field couponCode of shop.orders.OrderPlaced has no default: add "default": null`},
		{"UNION_RECORDS_AMBIGUOUS", "shop/orders/OrderPlaced.avsc:9:33 /fields/2/type", "the union of shop.orders.CardPayment and shop.orders.CashPayment in the type of field payment"},
		{"EVENT_METADATA_MISSING", "shop/orders/OrderPlaced.avsc:6:13 /fields", `event shop.orders.OrderPlaced (manifest.yaml line 5) has no "metadata" field`},
		{"NAMED_TYPE_UNUSED", "shop/common/Money.avsc:3:11 /name", "record shop.common.Money is not an event in manifest.yaml and no event uses it"},
		{"TYPE_DOC_MISSING", "shop/common/EventMetadata.avsc:3:11 /name", "record shop.common.EventMetadata has no doc"},
		{"FIELD_DOC_MISSING", "shop/orders/OrderPlaced.avsc:8:14 /fields/1/name", "field orderId of shop.orders.OrderPlaced has no doc"},
	}
	covered := map[compat.RuleID]bool{}
	for _, tt := range tests {
		covered[tt.rule] = true
		t.Run(string(tt.rule), func(t *testing.T) {
			dir := filepath.Join("testdata", string(tt.rule))
			bad := runLint(t, lint.Options{Schemas: filepath.Join(dir, "bad"), Tier: lint.Docs})
			if len(bad.Findings) != 1 {
				t.Fatalf("bad: want exactly one %s finding, got %d:\n%s", tt.rule, len(bad.Findings), dump(bad.Findings))
			}
			f := bad.Findings[0]
			if f.Rule != tt.rule || where(f) != tt.where {
				t.Errorf("bad: got %s at %s, want %s at %s", f.Rule, where(f), tt.rule, tt.where)
			}
			if !strings.Contains(f.Message, tt.msg) {
				t.Errorf("bad: message\n  %s\nlacks\n  %s", f.Message, tt.msg)
			}
			good := runLint(t, lint.Options{Schemas: filepath.Join(dir, "good"), Tier: lint.Docs})
			if len(good.Findings) != 0 {
				t.Errorf("good: want no findings, got:\n%s", dump(good.Findings))
			}
		})
	}
	for _, r := range lint.Rules() {
		if !covered[r.ID] {
			t.Errorf("rule %s has no row in TestLintRules: add testdata/%s/{bad,good} and a row", r.ID, r.ID)
		}
	}
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, ok := lint.RuleByID(compat.RuleID(d.Name())); d.IsDir() && !ok && d.Name() != "fuzz" {
			t.Errorf("testdata/%s is no rule's fixture", d.Name())
		}
	}
}

// TestLintRepoSchemas lints the repository's own schemas at STANDARD: they
// must pass with no finding (make test runs this; `contrail lint` in
// `make test` runs the same over the CLI).
func TestLintRepoSchemas(t *testing.T) {
	res := runLint(t, lint.Options{Schemas: filepath.Join("..", "schemas"), Tier: lint.Standard})
	if len(res.Findings) != 0 {
		t.Fatalf("the repository's schemas have lint findings at STANDARD; fix them, or accept them with an ignore and a reason:\n%s", dump(res.Findings))
	}
	if len(res.Subjects) < 10 {
		t.Fatalf("linted only %d files", len(res.Subjects))
	}
}

// stableIDs are every rule ID ever released. IDs are never deleted or
// reused: a rule may be deprecated, but its ID stays in the table.
var stableIDs = []compat.RuleID{
	"NAMESPACE_DIRECTORY_MISMATCH", "LOGICAL_TYPE_UNKNOWN", "LOGICAL_TYPE_WRONG_BASE", "LOGICAL_TYPE_ON_FIELD",
	"DECIMAL_WITHOUT_LOGICAL_TYPE", "LINT_IGNORE_UNUSED", "TYPE_NAME_CASE", "FIELD_NAME_CASE", "ENUM_SYMBOL_CASE",
	"NAMESPACE_CASE", "ENUM_DEFAULT_MISSING", "UNION_NULL_NOT_FIRST", "NULLABLE_FIELD_DEFAULT_MISSING",
	"UNION_RECORDS_AMBIGUOUS", "EVENT_METADATA_MISSING", "NAMED_TYPE_UNUSED", "TYPE_DOC_MISSING", "FIELD_DOC_MISSING",
}

// TestLintRuleTable checks the table itself: stable UPPER_SNAKE IDs that no
// compat rule uses (the printers share one finding type), a tier, a
// severity and a one-sentence purpose each, and none ever deleted.
func TestLintRuleTable(t *testing.T) {
	upperSnake := regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)
	seen := map[compat.RuleID]bool{}
	for _, r := range lint.Rules() {
		if !upperSnake.MatchString(string(r.ID)) {
			t.Errorf("%s: ID is not UPPER_SNAKE", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("%s: ID listed twice", r.ID)
		}
		seen[r.ID] = true
		if _, clash := compat.RuleByID(r.ID); clash {
			t.Errorf("%s: compat has a rule with this ID; lint IDs must differ", r.ID)
		}
		if !slices.Contains(lint.Tiers(), r.Tier) {
			t.Errorf("%s: tier %v", r.ID, r.Tier)
		}
		if r.Severity != compat.Error && r.Severity != compat.Warning {
			t.Errorf("%s: severity %q", r.ID, r.Severity)
		}
		if r.Purpose == "" || strings.Contains(r.Purpose, "\n") || !strings.HasSuffix(r.Purpose, ".") {
			t.Errorf("%s: purpose must be one sentence on one line: %q", r.ID, r.Purpose)
		}
		if lint.SeverityOf(r.ID) != r.Severity {
			t.Errorf("%s: SeverityOf disagrees with the table", r.ID)
		}
		if !slices.Contains(stableIDs, r.ID) {
			t.Errorf("%s: new rule: add its ID to stableIDs (IDs are forever)", r.ID)
		}
	}
	for _, id := range stableIDs {
		if !seen[id] {
			t.Errorf("rule %s was deleted: rule IDs are never deleted, deprecate it instead", id)
		}
	}
	prev := lint.Minimal
	for _, r := range lint.Rules() {
		if r.Tier < prev {
			t.Errorf("%s: the table is ordered by tier; %s comes after %s rules", r.ID, r.Tier, prev)
		}
		prev = r.Tier
	}
}

// TestLintDocsListEveryRule: docs/lint.md lists every rule with its tier.
func TestLintDocsListEveryRule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "lint.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, r := range lint.Rules() {
		heading := regexp.MustCompile("(?m)^#+ `" + string(r.ID) + "` \\(" + r.Tier.String() + "\\)")
		if !heading.MatchString(doc) {
			t.Errorf("docs/lint.md has no heading \"### `%s` (%s)\"", r.ID, r.Tier)
		}
	}
}

func TestLintParseTier(t *testing.T) {
	for _, tier := range lint.Tiers() {
		got, err := lint.ParseTier(strings.ToLower(tier.String()))
		if err != nil || got != tier {
			t.Errorf("ParseTier(%q) = %v, %v", tier, got, err)
		}
	}
	if _, err := lint.ParseTier("STRICT"); err == nil || !strings.Contains(err.Error(), "MINIMAL, BASIC, STANDARD or DOCS") {
		t.Errorf("ParseTier(STRICT): %v", err)
	}
}

func runLint(t *testing.T, o lint.Options) *lintResult {
	t.Helper()
	res, err := lint.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("lint %s: %v", o.Schemas, err)
	}
	return &lintResult{Findings: res.Findings, Silenced: res.Silenced, Subjects: res.Subjects, Next: res.Next}
}

type lintResult struct {
	Findings, Silenced []compat.Finding
	Subjects           []string
	Next               string
}

func dump(fs []compat.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s: %s\n", f.Rule, where(f), f.Message)
	}
	return b.String()
}

// copyTree copies a fixture tree to a temporary directory and applies
// overrides (slash path -> text).
func copyTree(t *testing.T, src string, overrides map[string]string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return write(filepath.Join(dst, rel), string(b))
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, text := range overrides {
		if err := write(filepath.Join(dst, filepath.FromSlash(rel)), text); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func write(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// clean is a tree with no finding at DOCS: one event, its metadata record.
var clean = filepath.Join("testdata", "FIELD_DOC_MISSING", "good")

const manifestHead = "version: 1\ntopics:\n  - name: orders\nevents:\n  - schema: shop.orders.OrderPlaced\n    topic: orders\n    key: orderId\n"

// placed is the clean tree's event with extra fields.
func placed(fields ...string) string {
	all := append([]string{
		`{"name": "metadata", "type": "shop.common.EventMetadata", "doc": "Event identity."}`,
		`{"name": "orderId", "type": "string", "doc": "The order."}`,
	}, fields...)
	return "{\n  \"type\": \"record\",\n  \"name\": \"OrderPlaced\",\n  \"namespace\": \"shop.orders\",\n  \"doc\": \"A customer placed an order.\",\n  \"fields\": [\n    " +
		strings.Join(all, ",\n    ") + "\n  ]\n}\n"
}

// TestLintConfigInvalid: a lint configuration lint cannot use is invalid
// input (exit 2), reported at its file:line:col with what to do.
func TestLintConfigInvalid(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // "file:line:col: message part", file relative to the tree
	}{
		{name: "ignore without a reason",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  ignore:\n    - rule: FIELD_DOC_MISSING\n"},
			want:  "manifest.yaml:10:7: ignore entry has no reason: add reason:"},
		{name: "ignore with a blank reason",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  ignore:\n    - {file: shop/orders, reason: \"  \"}\n"},
			want:  "manifest.yaml:10:35: ignore entry has no reason"},
		{name: "ignore of nothing in particular",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  ignore:\n    - reason: too strict\n"},
			want:  "manifest.yaml:10:7: ignore entry names neither a rule nor a file"},
		{name: "ignore outside the tree",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  ignore:\n    - {file: ../other, reason: theirs}\n"},
			want:  `manifest.yaml:10:14: ignore file "../other" must be a slash path under the schema root`},
		{name: "unknown tier",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  tier: STRICT\n"},
			want:  `manifest.yaml:9:9: unknown lint tier "STRICT": use MINIMAL, BASIC, STANDARD or DOCS`},
		{name: "misspelt rule in except",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  except: [FIELD_DOCS_MISSING]\n"},
			want:  `manifest.yaml:9:12: unknown lint rule "FIELD_DOCS_MISSING" in except (did you mean FIELD_DOC_MISSING?)`},
		{name: "rule in use and except",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  use: [TYPE_DOC_MISSING]\n  except: [TYPE_DOC_MISSING]\n"},
			want:  "manifest.yaml:10:12: rule TYPE_DOC_MISSING is in both use and except"},
		{name: "unknown field case",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  field_case: kebab-case\n"},
			want:  `manifest.yaml:9:15: unknown field_case "kebab-case": use camelCase or snake_case`},
		{name: "the unused-ignore rule ignored",
			files: map[string]string{"manifest.yaml": manifestHead + "lint:\n  ignore:\n    - {rule: LINT_IGNORE_UNUSED, reason: noisy}\n"},
			want:  "manifest.yaml:10:14: LINT_IGNORE_UNUSED cannot be ignored: list it under except"},
		{name: "attribute entry without a reason",
			files: map[string]string{"shop/orders/OrderPlaced.avsc": placed(`{"name": "note", "type": "string", "contrail.lint.ignore": [{"rule": "FIELD_DOC_MISSING"}]}`)},
			want:  `shop/orders/OrderPlaced.avsc:9:65: contrail.lint.ignore entry for FIELD_DOC_MISSING has no "reason"`},
		{name: "attribute not a list",
			files: map[string]string{"shop/orders/OrderPlaced.avsc": placed(`{"name": "note", "type": "string", "contrail.lint.ignore": "FIELD_DOC_MISSING"}`)},
			want:  `shop/orders/OrderPlaced.avsc:9:64: contrail.lint.ignore must be a list of {"rule": "RULE_ID", "reason": "why"} objects, not "FIELD_DOC_MISSING"`},
		{name: "attribute with an unknown rule",
			files: map[string]string{"shop/orders/OrderPlaced.avsc": placed(`{"name": "note", "type": "string", "contrail.lint.ignore": [{"rule": "DOCS", "reason": "later"}]}`)},
			want:  `shop/orders/OrderPlaced.avsc:9:74: unknown lint rule "DOCS" in contrail.lint.ignore`},
		{name: "attribute entry with an unknown key",
			files: map[string]string{"shop/orders/OrderPlaced.avsc": placed(`{"name": "note", "type": "string", "contrail.lint.ignore": [{"rule": "FIELD_DOC_MISSING", "reason": "later", "until": "2030"}]}`)},
			want:  `shop/orders/OrderPlaced.avsc:9:123: unknown key "until" in a contrail.lint.ignore entry: use rule and reason`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyTree(t, clean, tt.files)
			_, err := lint.Run(context.Background(), lint.Options{Schemas: dir})
			if !errors.Is(err, compat.ErrInvalidInput) {
				t.Fatalf("err = %v, want invalid input", err)
			}
			var list lint.Errors
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("want exactly one lint.Error, got %v", err)
			}
			e := list[0]
			got := fmt.Sprintf("%s:%d:%d: %s", strings.TrimPrefix(e.File, filepath.ToSlash(dir)+"/"), e.Line, e.Col, e.Msg)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s...", got, tt.want)
			}
		})
	}
}

// TestLintSelection: tiers are cumulative, use and except adjust them, the
// flag overrides the manifest's tier, and field_case pins the convention.
func TestLintSelection(t *testing.T) {
	undocumented := filepath.Join("testdata", "FIELD_DOC_MISSING", "bad")
	tests := []struct {
		name   string
		dir    string
		tier   lint.Tier
		want   []compat.RuleID
		label  string
		silent int
	}{
		{name: "STANDARD leaves docs out", dir: undocumented, label: "tier STANDARD"},
		{name: "the flag's tier", dir: undocumented, tier: lint.Docs, want: []compat.RuleID{"FIELD_DOC_MISSING"}, label: "tier DOCS"},
		{name: "use adds a rule to the tier",
			dir:  copyTree(t, undocumented, map[string]string{"manifest.yaml": manifestHead + "lint:\n  tier: BASIC\n  use: [FIELD_DOC_MISSING]\n"}),
			want: []compat.RuleID{"FIELD_DOC_MISSING"}, label: "tier BASIC +FIELD_DOC_MISSING"},
		{name: "except takes one out",
			dir:   copyTree(t, undocumented, map[string]string{"manifest.yaml": manifestHead + "lint:\n  tier: DOCS\n  except: [FIELD_DOC_MISSING]\n"}),
			label: "tier DOCS -FIELD_DOC_MISSING"},
		{name: "the flag overrides the manifest's tier",
			dir:  copyTree(t, undocumented, map[string]string{"manifest.yaml": manifestHead + "lint:\n  tier: MINIMAL\n"}),
			tier: lint.Docs, want: []compat.RuleID{"FIELD_DOC_MISSING"}, label: "tier DOCS"},
		{name: "field_case pins snake_case",
			dir: copyTree(t, clean, map[string]string{"manifest.yaml": manifestHead + "lint:\n  field_case: snake_case\n",
				"shop/orders/OrderPlaced.avsc": placed()}),
			want: []compat.RuleID{"FIELD_NAME_CASE", "FIELD_NAME_CASE"}, label: "tier STANDARD"}, // eventId, orderId
		{name: "a manifest ignore of a folder",
			dir:    copyTree(t, undocumented, map[string]string{"manifest.yaml": manifestHead + "lint:\n  tier: DOCS\n  ignore:\n    - {file: shop/orders, reason: documented elsewhere}\n"}),
			label:  "tier DOCS",
			silent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runLint(t, lint.Options{Schemas: tt.dir, Tier: tt.tier})
			var got []compat.RuleID
			for _, f := range res.Findings {
				got = append(got, f.Rule)
			}
			if !slices.Equal(got, tt.want) || res.Next != tt.label || len(res.Silenced) != tt.silent {
				t.Errorf("got %v at %q (%d ignored), want %v at %q (%d ignored)\n%s", got, res.Next, len(res.Silenced), tt.want, tt.label, tt.silent, dump(res.Findings))
			}
		})
	}
}

// TestLintIgnoreAttribute: a contrail.lint.ignore attribute accepts its
// rule's findings inside the object it sits on, and nowhere else; one that
// accepts nothing is reported where it is written.
func TestLintIgnoreAttribute(t *testing.T) {
	record := `{
  "type": "record",
  "name": "OrderPlaced",
  "namespace": "shop.orders",
  "doc": "A customer placed an order.",
  "contrail.lint.ignore": [{"rule": "TYPE_DOC_MISSING", "reason": "nothing to accept here"}],
  "fields": [
    {"name": "metadata", "type": "shop.common.EventMetadata", "doc": "Event identity."},
    {"name": "orderId", "type": "string", "contrail.lint.ignore": [{"rule": "FIELD_DOC_MISSING", "reason": "the key needs no doc"}]},
    {"name": "note", "type": "string"}
  ]
}
`
	dir := copyTree(t, clean, map[string]string{"shop/orders/OrderPlaced.avsc": record})
	res := runLint(t, lint.Options{Schemas: dir, Tier: lint.Docs})
	want := []string{
		"LINT_IGNORE_UNUSED shop/orders/OrderPlaced.avsc:6:28 /contrail.lint.ignore/0",
		"FIELD_DOC_MISSING shop/orders/OrderPlaced.avsc:10:14 /fields/2/name",
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, string(f.Rule)+" "+where(f))
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant %q", dump(res.Findings), want)
	}
	if len(res.Silenced) != 1 || where(res.Silenced[0]) != "shop/orders/OrderPlaced.avsc:9:14 /fields/1/name" {
		t.Errorf("silenced: %s", dump(res.Silenced))
	}
}

// TestLintPaths: paths limit what is reported, never what is read.
func TestLintPaths(t *testing.T) {
	dir := copyTree(t, clean, map[string]string{
		"shop/orders/OrderPlaced.avsc":   placed(`{"name": "note", "type": "string"}`),
		"shop/common/EventMetadata.avsc": "{\n  \"type\": \"record\",\n  \"name\": \"EventMetadata\",\n  \"namespace\": \"shop.common\",\n  \"fields\": [{\"name\": \"eventId\", \"type\": \"string\", \"doc\": \"Id.\"}]\n}\n",
	})
	all := runLint(t, lint.Options{Schemas: dir, Tier: lint.Docs})
	orders := runLint(t, lint.Options{Schemas: dir, Tier: lint.Docs, Paths: []string{filepath.Join(dir, "shop", "orders")}})
	if len(all.Findings) != 2 || len(orders.Findings) != 1 || orders.Findings[0].Rule != "FIELD_DOC_MISSING" || !slices.Equal(orders.Subjects, []string{"shop/orders/OrderPlaced.avsc"}) {
		t.Errorf("all:\n%sorders only:\n%s(files %v)", dump(all.Findings), dump(orders.Findings), orders.Subjects)
	}
	for _, p := range []string{t.TempDir(), filepath.Join(dir, "nowhere")} {
		if _, err := lint.Run(context.Background(), lint.Options{Schemas: dir, Paths: []string{p}}); err == nil || errors.Is(err, compat.ErrInvalidInput) {
			t.Errorf("path %s: err = %v, want a usage error", p, err)
		}
	}
}

// TestLintInvalidTree: a tree the loader rejects is invalid input, with
// the loader's own message (lint has no rule for what cannot load).
func TestLintInvalidTree(t *testing.T) {
	inline := placed(`{"name": "total", "type": {"type": "record", "name": "Money", "fields": []}, "doc": "Inline."}`)
	dir := copyTree(t, clean, map[string]string{"shop/orders/OrderPlaced.avsc": inline})
	_, err := lint.Run(context.Background(), lint.Options{Schemas: dir})
	if !errors.Is(err, compat.ErrInvalidInput) || !strings.Contains(err.Error(), "shop.orders.Money is defined inline") {
		t.Fatalf("err = %v", err)
	}
}

// TestLintMajors: a later major of an event (<Name>.v<N>.avsc) is linted
// like any schema file, sits where it should, and keeps the types only it
// uses in use; its missing metadata field is reported at its own file.
func TestLintMajors(t *testing.T) {
	const note = `{"type": "record", "name": "Note", "namespace": "shop.orders", "doc": "A note.", "fields": [{"name": "text", "type": "string", "doc": "The text."}]}`
	dir := copyTree(t, clean, map[string]string{
		"manifest.yaml":                   manifestHead + "    compatibility_group: major_version\n",
		"shop/orders/OrderPlaced.v2.avsc": placed(`{"name": "note", "type": "shop.orders.Note", "doc": "Only major 2 has it."}`),
		"shop/orders/Note.avsc":           note,
	})
	res := runLint(t, lint.Options{Schemas: dir, Tier: lint.Docs})
	if len(res.Findings) != 0 {
		t.Fatalf("findings:\n%s", dump(res.Findings))
	}
	if !slices.Contains(res.Subjects, "shop/orders/OrderPlaced.v2.avsc") {
		t.Errorf("major 2 not linted: %v", res.Subjects)
	}
	noMeta := strings.Replace(placed(), `{"name": "metadata", "type": "shop.common.EventMetadata", "doc": "Event identity."},`, "", 1)
	dir = copyTree(t, clean, map[string]string{
		"manifest.yaml":                   manifestHead + "    compatibility_group: major_version\n",
		"shop/orders/OrderPlaced.v2.avsc": noMeta,
	})
	res = runLint(t, lint.Options{Schemas: dir, Tier: lint.Standard})
	if len(res.Findings) != 1 || res.Findings[0].Rule != "EVENT_METADATA_MISSING" || !strings.Contains(where(res.Findings[0]), "OrderPlaced.v2.avsc:") {
		t.Fatalf("findings:\n%s", dump(res.Findings))
	}
}

// Package layering holds the test that keeps the module's import graph
// layered: imports flow one way, and nothing imports a package above it,
// neither a package nor its tests (in-package _test.go files and external
// x_test packages alike). From the bottom up, the layers are:
//
//	wire                      wire conventions: header keys, content types, frame, addresses
//	events, events/*          Binding and friends; the generated types (and events/money)
//	schemas                   the schema-tree loader
//	registry/regclient        the one way to reach a registry
//	compat, codegen           the compatibility engine; the code generator
//	tracing, broker           OpenTelemetry; the embedded Kafka broker
//	rules                     data-contract rules: CEL conditions, PII tags and redaction
//	registry                  the schema registry: server, stores, serde
//	contract                  consumer contracts over compat (+ contracttest)
//	eventing                  the event runtime (never imports tracing: it declares its Tracer)
//	eventing/storetest        the store conformance suite (SQLite, PostgreSQL)
//	eventing/statedb          SQLite or PostgreSQL state, inbox/outbox transactions
//	eventing/host             Config, Host, Service: how a service runs
//	contract/internal         an app on the runtime for contract's evolution test
//	contract/providertest     runs one service for real to verify it as a provider
//	services/{order,inventory,payment,shipping}   the reference flow; never each other
//	platform/loadgen          `contrail load`
//	platform                  what `contrail up` runs (+ platformtest)
//	platform/e2e              whole-flow tests
//	cmd/contrail              the CLI over all of it
//
// Like buf's bandeps, the rules are a table (rules) ordered from the bottom
// layer up, and a new package must be given a row before the test passes. A
// row's tests obey the same row; the only extra is a row's testAllow list:
// exact test fixtures (and the package whose options a fixture takes) that
// sit below the row. Outside its own subtree, nothing, allowance or not, may
// import a package whose row comes later in the table.
package layering

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/contrail-events/contrail/"

// rule says which of the module's own packages a package (matched by the
// longest prefix) may import.
type rule struct {
	prefix string
	// allow lists what the package and its tests may import: an entry
	// matches a package and its subpackages ("registry" allows
	// "registry/serde"); "*" matches everything. The package's own subtree
	// is always allowed.
	allow []string
	// testAllow lists what only the package's tests may import besides
	// allow: exact import paths (no subpackages), each a test fixture below
	// this row or the package whose options that fixture takes. Keep it
	// minimal and say why; it can never reach up (see allowed).
	testAllow []string
}

// rules is ordered from the bottom layer up: outside its own subtree, a
// package may import only packages whose row comes no later than its own
// (allowed enforces it). An allow entry matches a package and its
// subpackages.
var rules = []rule{
	{prefix: "wire"}, // wire conventions: header keys, content types, frame, default addresses
	// Test helpers for generated types (Diff, RoundTrip): they import
	// nothing of ours, so they sit at the bottom, below events.
	{prefix: "codegen/codegentest"},
	{prefix: "internal"},
	{prefix: "events", allow: []string{"wire"}, // hand-written support for generated code; wire's data-contract shapes
		testAllow: []string{"codegen/codegentest"}}, // compares decoded generated values
	{prefix: "events/", allow: []string{"events", "wire"}},                                 // generated packages (and money): each other and events only
	{prefix: "schemas", allow: []string{"events", "wire"}},                                 // the loader
	{prefix: "registry/regclient", allow: []string{"wire"}},                                // the one way to reach a registry
	{prefix: "compat", allow: []string{"schemas", "events", "wire", "registry/regclient"}}, // the one compatibility engine
	{prefix: "lint", allow: []string{"schemas", "events", "wire", "compat"}},               // schema style rules, printed by compat/report
	{prefix: "codegen", allow: []string{"schemas", "events", "wire"}},
	{prefix: "tracing", allow: []string{"wire"}},
	{prefix: "broker", allow: []string{"wire"}},
	// Data-contract rules: CEL conditions on generated values, PII tags.
	{prefix: "rules", allow: []string{"events", "wire"}},
	{prefix: "registry", allow: []string{"compat", "schemas", "events", "wire", "rules"},
		testAllow: []string{"broker", "broker/brokertest"}}, // the Kafka store on the embedded broker over TCP
	{prefix: "contract", allow: []string{"compat", "schemas", "events", "wire", "registry/regclient"},
		testAllow: []string{
			"registry/registrytest", "registry", // our registry over HTTP (Serve takes registry options)
			"codegen", // checks that testdata/evolution's generated fixtures are fresh
		}},
	// The event runtime: its core never imports tracing (it declares the
	// Tracer it needs); its state store and service host build on it.
	{prefix: "eventing", allow: []string{"events", "wire", "rules"},
		testAllow: []string{
			"broker", "broker/brokertest", // the embedded broker over TCP
			"registry", "registry/registrytest", "registry/serde", // our registry over HTTP and the real serde
			"schemas", // the repository's schema set, to push to the registry
			"tracing", // the runtime's hooks with the real tracing implementation
		}},
	// The store conformance suite and its databases: it runs the runtime
	// on an embedded broker over TCP.
	{prefix: "eventing/storetest", allow: []string{"eventing", "events", "broker", "wire"}},
	{prefix: "eventing/statedb", allow: []string{"eventing", "events", "registry", "tracing", "wire"}},
	{prefix: "eventing/host", allow: []string{"eventing", "events", "schemas", "registry", "tracing", "wire"}},
	{prefix: "contract/internal", allow: []string{"events", "registry", "eventing", "wire"}},
	// Provider verification: runs one service (through eventing/host) on
	// the embedded broker and our registry. The services' tests use it.
	{prefix: "contract/providertest", allow: []string{"contract", "compat", "schemas", "events", "registry", "broker", "eventing", "wire"}},
	// The four services talk only through events: none imports another.
	// Their provider tests (provider_test.go) derive their consumer
	// contracts and verify them as providers.
	{prefix: "services/order", allow: servicesAllow, testAllow: servicesTestAllow},
	{prefix: "services/inventory", allow: servicesAllow, testAllow: servicesTestAllow},
	{prefix: "services/payment", allow: servicesAllow, testAllow: servicesTestAllow},
	{prefix: "services/shipping", allow: servicesAllow, testAllow: servicesTestAllow},
	// The web console: pages over the runtime, the registry, tracing, compat and contracts.
	{prefix: "console", allow: []string{"eventing", "registry", "tracing", "compat", "contract", "schemas", "events", "wire", "rules"},
		testAllow: []string{"broker", "broker/brokertest"}}, // the embedded broker over TCP (Start takes broker options)
	// The local platform (`contrail up`), its load generator and whole-flow tests.
	{prefix: "platform/loadgen", allow: []string{"events", "schemas", "wire"}},
	{prefix: "platform", allow: []string{"broker", "registry", "schemas", "events", "tracing", "eventing", "wire", "contract", "console"}},
	{prefix: "platform/e2e", allow: []string{"events", "schemas", "registry", "tracing", "services", "platform", "wire"}},
	{prefix: "cmd/contrail", allow: []string{"*"}},
}

var (
	servicesAllow     = []string{"events", "registry", "tracing", "eventing", "wire"}
	servicesTestAllow = []string{"contract", "contract/providertest"} // FromRouter and the committed contracts; Start, Run, Await, VerifyOutputs
)

// under reports whether pkg is prefix or inside it. A prefix ending in "/"
// ("events/") matches only packages below it, not the parent itself.
func under(pkg, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// rowFor returns the index in rules of the row with the longest prefix that
// pkg is under.
func rowFor(pkg string) (int, bool) {
	best, found := -1, false
	for i, r := range rules {
		if under(pkg, r.prefix) && (!found || len(r.prefix) >= len(rules[best].prefix)) {
			best, found = i, true
		}
	}
	return best, found
}

// allowed reports whether a package governed by rules[row] may import imp
// (test: from its tests): anything in its own subtree; else, "*" aside,
// only a package whose row comes no later in the table than row (so no
// entry can reach up, not even through a subtree it matches: "eventing"
// does not let eventing/statedb import eventing/host), and then only one
// under an allow entry or, for tests, exactly a testAllow entry.
func allowed(row int, imp string, test bool) bool {
	r := rules[row]
	if under(imp, r.prefix) || slices.Contains(r.allow, "*") {
		return true
	}
	if to, ok := rowFor(imp); !ok || to > row {
		return false
	}
	for _, a := range r.allow {
		if under(imp, a) {
			return true
		}
	}
	return test && slices.Contains(r.testAllow, imp)
}

// listed is the part of `go list -json` the check reads.
type listed struct {
	ImportPath   string
	Dir          string
	Imports      []string
	TestImports  []string // in-package _test.go files
	XTestImports []string // external package x_test files
	TestGoFiles  []string
	XTestGoFiles []string
}

// violations returns one message for each package without a rule and each
// import of the module's own packages, by a package or by its tests, that
// the rules forbid.
func violations(pkgs []listed) []string {
	var out []string
	for _, p := range pkgs {
		pkg := strings.TrimPrefix(p.ImportPath, module)
		row, ok := rowFor(pkg)
		if !ok {
			out = append(out, fmt.Sprintf("package %s has no layering rule: add a row to rules in internal/layering", pkg))
			continue
		}
		r := rules[row]
		check := func(kind string, imports, files []string, test bool) {
			for _, imp := range imports {
				if !strings.HasPrefix(imp, module) {
					continue
				}
				dep := strings.TrimPrefix(imp, module)
				if allowed(row, dep, test) {
					continue
				}
				who := pkg + " imports"
				if test {
					who = pkg + " " + kind
					if fs := importing(p.Dir, files, imp); len(fs) > 0 {
						who += " (" + strings.Join(fs, ", ") + ")"
					}
					who += " import"
				}
				out = append(out, fmt.Sprintf("%s %s: not allowed by its layering rule %q (allows %v; its tests also %v); move the shared code down a layer or the test up", who, dep, r.prefix, r.allow, r.testAllow))
			}
		}
		check("", p.Imports, nil, false)
		check("tests", p.TestImports, p.TestGoFiles, true)
		check("external tests", p.XTestImports, p.XTestGoFiles, true)
	}
	return out
}

// importing returns which of dir's files import path, for the message; nil
// when it cannot tell (no dir, unreadable files).
func importing(dir string, files []string, path string) []string {
	if dir == "" {
		return nil
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, is := range f.Imports {
			if p, err := strconv.Unquote(is.Path.Value); err == nil && p == path {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// goList lists the module's packages.
func goList(t *testing.T) []listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Dir,Imports,TestImports,XTestImports,TestGoFiles,XTestGoFiles", module+"...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []listed
	dec := json.NewDecoder(out)
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	return pkgs
}

func TestImportsFlowOneWay(t *testing.T) {
	pkgs := goList(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// TestRulesPointDown checks the table itself: every allow and testAllow
// entry is governed by a row that comes earlier (lower) than the row
// granting it; an allow entry with no row of its own ("services") needs
// every row under it to come earlier. allowed refuses an upward import
// anyway (including one an entry's subtree would match); this test says so
// where the table is edited.
func TestRulesPointDown(t *testing.T) {
	for i, r := range rules {
		for _, a := range r.allow {
			if a == "*" {
				continue
			}
			if to, ok := rowFor(a); ok {
				if to > i {
					t.Errorf("rule %q: allow entry %q is governed by rule %q, which comes later (higher) in the table", r.prefix, a, rules[to].prefix)
				}
				continue
			}
			n := 0
			for j, s := range rules {
				if under(s.prefix, a) {
					n++
					if j > i {
						t.Errorf("rule %q: allow entry %q covers rule %q, which comes later (higher) in the table", r.prefix, a, s.prefix)
					}
				}
			}
			if n == 0 {
				t.Errorf("rule %q: allow entry %q matches no row", r.prefix, a)
			}
		}
		for _, a := range r.testAllow {
			to, ok := rowFor(a)
			switch {
			case !ok:
				t.Errorf("rule %q: testAllow entry %q matches no row", r.prefix, a)
			case to >= i || under(a, r.prefix):
				t.Errorf("rule %q: testAllow entry %q (rule %q) is not below it: tests may only be allowed fixtures from lower rows", r.prefix, a, rules[to].prefix)
			}
		}
	}
}

// The rule matcher itself must be able to say no.
func TestRulesRejectUpwardImports(t *testing.T) {
	tests := []struct {
		name, pkg, imp string
		test           bool // the import is from the package's tests
		want           bool
	}{
		{"compat may use schemas", "compat", "schemas", false, true},
		{"compat subpackage may use compat", "compat/report", "compat", false, true},
		{"compat may use regclient", "compat/baseline", "registry/regclient", false, true},
		{"schemas may not use compat", "schemas", "compat", false, false},
		{"generated may use common", "events/orders", "events/common", false, true},
		{"events may not use schemas", "events", "schemas", false, false},
		{"wire imports nothing of ours", "wire", "events", false, false},
		{"order may not use inventory", "services/order", "services/inventory", false, false},
		{"platform may not use a service", "platform", "services/order", false, false},
		{"registry may not use services", "registry/serde", "eventing", false, false},
		{"runtime may not use tracing", "eventing", "tracing", false, false},
		{"statedb may use tracing", "eventing/statedb", "tracing", false, true},
		{"statedb may not use host", "eventing/statedb", "eventing/host", false, false},
		{"cmd may use anything", "cmd/contrail", "platform/e2e", false, true},
		{"nothing of ours is unruled", "contract", "nowhere", false, false},

		// Tests obey the same rows.
		{"contract tests may not use a service", "contract", "services/order", true, false},
		{"providertest tests may not use a service", "contract/providertest", "services/shipping", true, false},
		{"providertest tests may not use the platform", "contract/providertest", "platform", true, false},
		{"service tests may not use another service", "services/payment", "services/order", true, false},
		{"service tests may not use the platform", "services/order", "platform", true, false},
		{"registry tests may not use eventing", "registry/serde", "eventing", true, false},
		{"compat tests may not use contract", "compat/baseline", "contract", true, false},
		{"compat tests may not use registrytest", "compat/baseline", "registry/registrytest", true, false},
		{"events tests may not use schemas", "events", "schemas", true, false},
		{"runtime may not use tracing", "eventing", "tracing", false, false},
		{"runtime tests may not use a service", "eventing", "services/order", true, false},
		{"statedb tests may not use host", "eventing/statedb", "eventing/host", true, false},
		{"tests may not use cmd", "platform/e2e", "cmd/contrail", true, false},
		{"tests may use their own fixtures", "registry", "registry/registrytest", true, true},
		// testAllow: exact fixtures below, for tests only.
		{"service tests may use providertest", "services/order", "contract/providertest", true, true},
		{"service tests may use contract", "services/inventory", "contract", true, true},
		{"services may not use providertest", "services/order", "contract/providertest", false, false},
		{"testAllow is exact", "services/order", "contract/contracttest", true, false},
		{"contract tests may use registrytest", "contract", "registry/registrytest", true, true},
		{"events tests may use codegentest", "events", "codegen/codegentest", true, true},
		{"generated types' tests may not use codegentest", "events/orders", "codegen/codegentest", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, ok := rowFor(tt.pkg)
			if !ok {
				t.Fatalf("no rule for %s", tt.pkg)
			}
			if got := allowed(row, tt.imp, tt.test); got != tt.want {
				t.Fatalf("allowed(%s -> %s, test %v) = %v, want %v (rule %q)", tt.pkg, tt.imp, tt.test, got, tt.want, rules[row].prefix)
			}
		})
	}
}

// TestViolationsReportTestImports runs the checker on planted packages: an
// upward import from a test file must be reported, wherever it is listed.
func TestViolationsReportTestImports(t *testing.T) {
	tests := []struct {
		name string
		pkg  listed
		want []string // one violation each, containing these
	}{
		{name: "clean", pkg: listed{ImportPath: module + "contract",
			Imports:      []string{module + "compat", "fmt"},
			XTestImports: []string{module + "contract", module + "registry/registrytest", "testing"}}},
		{name: "upward x_test import", pkg: listed{ImportPath: module + "contract",
			Imports:      []string{module + "compat"},
			XTestImports: []string{module + "contract", module + "services/order"}},
			want: []string{"contract external tests import services/order"}},
		{name: "upward in-package test import", pkg: listed{ImportPath: module + "registry/serde",
			TestImports: []string{module + "eventing"}},
			want: []string{"registry/serde tests import eventing"}},
		{name: "testAllow does not apply to the package", pkg: listed{ImportPath: module + "services/order",
			Imports:      []string{module + "contract/providertest"},
			XTestImports: []string{module + "contract/providertest", module + "services/order"}},
			want: []string{"services/order imports contract/providertest"}},
		{name: "tests reaching into the platform", pkg: listed{ImportPath: module + "services/order",
			XTestImports: []string{module + "platform", module + "services/inventory"}},
			want: []string{"services/order external tests import platform", "services/order external tests import services/inventory"}},
		{name: "no rule", pkg: listed{ImportPath: module + "nowhere"},
			want: []string{"package nowhere has no layering rule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations([]listed{tt.pkg})
			if len(got) != len(tt.want) {
				t.Fatalf("violations = %q, want %d containing %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %q does not contain %q", got[i], w)
				}
			}
		})
	}
}

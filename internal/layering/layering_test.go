// Package layering holds the test that keeps the README's layering true:
// imports flow one way, cmd -> services -> {registry, tracing, events/*} ->
// {compat, codegen} -> schemas -> events. Like buf's bandeps, the rules are a
// table; a new package must be given a row before the test passes.
package layering

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/contrail-events/contrail/"

// rule says which of the module's own packages a package (matched by the
// longest prefix) may import. "self" allows the package's own subtree.
type rule struct {
	prefix string
	allow  []string
}

// rules is ordered from the bottom layer up. An allow entry matches a package
// and its subpackages ("registry" allows "registry/serde").
var rules = []rule{
	{"wire", nil},                           // wire conventions: header keys, content types, frame, default addresses
	{"events", nil},                         // hand-written support for generated code
	{"events/", []string{"events", "wire"}}, // generated packages (and money): each other and events only
	{"schemas", []string{"events", "wire"}}, // the loader
	{"compat", []string{"schemas", "events", "wire", "registry/regclient"}}, // the one compatibility engine
	{"codegen", []string{"schemas", "events", "wire"}},
	{"tracing", []string{"wire"}},
	{"broker", []string{"wire"}},
	{"registry/regclient", []string{"wire"}}, // the one way to reach a registry
	{"registry", []string{"compat", "schemas", "events", "wire"}},
	{"contract", []string{"compat", "schemas", "events", "wire", "registry/regclient"}},
	{"contract/providertest", []string{"contract", "compat", "schemas", "events", "registry", "broker", "eventing", "wire"}},
	{"contract/internal", []string{"events", "registry", "eventing", "wire"}},
	// The event runtime: its core never imports tracing (it declares the
	// Tracer it needs); its state store and service host build on it.
	{"eventing", []string{"events", "wire", "registry"}},
	{"eventing/statedb", []string{"eventing", "events", "registry", "tracing", "wire"}},
	{"eventing/host", []string{"eventing", "events", "schemas", "registry", "tracing", "wire"}},
	// The four services talk only through events: none imports another.
	{"services/order", []string{"events", "registry", "tracing", "eventing", "wire"}},
	{"services/inventory", []string{"events", "registry", "tracing", "eventing", "wire"}},
	{"services/payment", []string{"events", "registry", "tracing", "eventing", "wire"}},
	{"services/shipping", []string{"events", "registry", "tracing", "eventing", "wire"}},
	// The local platform (`contrail up`), its load generator and whole-flow tests.
	{"platform", []string{"broker", "registry", "schemas", "events", "tracing", "eventing", "wire"}},
	{"platform/loadgen", []string{"events", "schemas", "wire"}},
	{"platform/e2e", []string{"events", "schemas", "registry", "tracing", "services", "platform", "wire"}},
	{"internal", nil},
	{"cmd/contrail", []string{"*"}},
}

// under reports whether pkg is prefix or inside it. A prefix ending in "/"
// ("events/") matches only packages below it, not the parent itself.
func under(pkg, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// ruleFor returns the rule with the longest prefix that pkg is under.
func ruleFor(pkg string) (rule, bool) {
	best, found := rule{}, false
	for _, r := range rules {
		if under(pkg, r.prefix) && len(r.prefix) >= len(best.prefix) {
			best, found = r, true
		}
	}
	return best, found
}

// allowed reports whether a package governed by r may import imp: its own
// subtree, or anything under an allow entry ("*" allows everything).
func allowed(r rule, imp string) bool {
	if under(imp, r.prefix) {
		return true
	}
	for _, a := range r.allow {
		if a == "*" || under(imp, a) {
			return true
		}
	}
	return false
}

type listed struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func TestImportsFlowOneWay(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", "github.com/contrail-events/contrail/...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	var n int
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		pkg := strings.TrimPrefix(p.ImportPath, module)
		r, ok := ruleFor(pkg)
		if !ok {
			t.Errorf("package %s has no layering rule: add a row to rules in internal/layering", pkg)
			continue
		}
		// Non-test imports must respect the layers; tests may reach down
		// to anything but cmd (fixtures and fakes live in lower layers).
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if !allowed(r, dep) {
				t.Errorf("%s imports %s: not allowed by its layering rule %q (allows %v); move the shared code down a layer", pkg, dep, r.prefix, r.allow)
			}
		}
		for _, imp := range append(p.TestImports, p.XTestImports...) {
			if strings.HasPrefix(imp, module+"cmd/") {
				t.Errorf("%s tests import %s: nothing may import cmd/", pkg, imp)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	if n < 10 {
		t.Fatalf("go list found only %d packages", n)
	}
}

// The rule matcher itself must be able to say no.
func TestRulesRejectUpwardImports(t *testing.T) {
	tests := []struct {
		name, pkg, imp string
		want           bool
	}{
		{"compat may use schemas", "compat", "schemas", true},
		{"compat subpackage may use compat", "compat/report", "compat", true},
		{"schemas may not use compat", "schemas", "compat", false},
		{"generated may use common", "events/orders", "events/common", true},
		{"events may not use schemas", "events", "schemas", false},
		{"wire imports nothing of ours", "wire", "events", false},
		{"order may not use inventory", "services/order", "services/inventory", false},
		{"platform may not use a service", "platform", "services/order", false},
		{"registry may not use services", "registry/serde", "eventing", false},
		{"runtime may not use tracing", "eventing", "tracing", false},
		{"statedb may use tracing", "eventing/statedb", "tracing", true},
		{"cmd may use anything", "cmd/contrail", "services/platform", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := ruleFor(tt.pkg)
			if !ok {
				t.Fatalf("no rule for %s", tt.pkg)
			}
			if got := allowed(r, tt.imp); got != tt.want {
				t.Fatalf("allowed(%s -> %s) = %v, want %v (rule %q)", tt.pkg, tt.imp, got, tt.want, r.prefix)
			}
		})
	}
}

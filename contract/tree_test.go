package contract_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/schemas"
)

// producerTree copies the repository's schema tree to a temporary
// directory and returns it.
func producerTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, schemas.FS); err != nil {
		t.Fatal(err)
	}
	return dir
}

func replaceIn(t *testing.T, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("%s: %q not found (%v)", file, old, err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyTree runs whole verifications, from contract files and from
// the registry, and checks the verdict, the report's labels and how each
// failure is classified.
func TestVerifyTree(t *testing.T) {
	ctx := context.Background()
	tree := producerTree(t)
	cdir := filepath.Join(t.TempDir(), "contracts")
	files, consumers, err := contract.ExportTree(tree, cdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || !strings.HasPrefix(files[0], filepath.ToSlash(cdir)+"/") || len(consumers) < 2 {
		t.Fatalf("export: files %v, consumers %v", files, consumers)
	}
	// The registry holds inventory's contracts only.
	const pw = "s3cret-pw"
	srvURL := registrytest.Serve(t, registry.WithBasicAuth(map[string]string{"ci": pw}))
	withUser := strings.Replace(srvURL, "http://", "http://ci:"+pw+"@", 1)
	pubs, err := contract.PublishDir(ctx, contract.PublishOptions{Contracts: cdir, Registry: withUser, Consumers: []string{"inventory"}})
	if err != nil || len(pubs) == 0 {
		t.Fatalf("publish: %v %v", pubs, err)
	}
	inventoryOnly := len(pubs)

	// A producer that stops writing couponCode (it has a default, so
	// resolution passes) breaks every contract that relies on it.
	dropped := producerTree(t)
	replaceIn(t, filepath.Join(dropped, "contrail", "orders", "OrderPlaced.avsc"), `,`+"\n"+`    {"name": "couponCode", "type": ["null", "string"], "default": null}`, ``)
	broken := producerTree(t)
	replaceIn(t, filepath.Join(broken, "contrail", "orders", "OrderPlaced.avsc"), `"type": "string"}`, `"type": "strin"}`)
	badContracts := t.TempDir()
	if err := os.WriteFile(filepath.Join(badContracts, "x.json"), []byte(`{"consumer":"x","subject":"s","event":"e","schema":{"type":"record","name":"e","fields":[]},"fields":["gone"]}`), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		opts     contract.VerifyOptions
		checked  int    // contracts verified; 0: every exported one
		rule     string // a finding's rule, "" for none
		baseline string // in the report's baseline label
		err      string
		invalid  bool // the error wraps compat.ErrInvalidInput
	}{
		{name: "files hold", opts: contract.VerifyOptions{Schemas: tree, Contracts: cdir}, baseline: "consumer contracts (" + cdir + ")"},
		{name: "one consumer", opts: contract.VerifyOptions{Schemas: tree, Contracts: cdir, Consumers: []string{"inventory"}}, checked: inventoryOnly},
		{name: "registry only", opts: contract.VerifyOptions{Schemas: tree, NoFiles: true, Registry: withUser}, checked: inventoryOnly, baseline: "consumer contracts (" + srvURL + ")"},
		{name: "identical copies once", opts: contract.VerifyOptions{Schemas: tree, Contracts: cdir, Registry: withUser}, baseline: cdir + ", " + srvURL},
		{name: "a relied-on field is no longer written", opts: contract.VerifyOptions{Schemas: dropped, Contracts: cdir}, rule: "CONTRACT_FIELD_NOT_WRITTEN"},
		{name: "no contracts", opts: contract.VerifyOptions{Schemas: tree, Contracts: filepath.Join(cdir, "none")}, err: "no consumer contracts found in " + filepath.Join(cdir, "none")},
		{name: "no such consumer", opts: contract.VerifyOptions{Schemas: tree, Contracts: cdir, Consumers: []string{"nobody"}}, err: "run `contrail contract export`"},
		{name: "contract file does not parse", opts: contract.VerifyOptions{Schemas: tree, Contracts: badContracts}, err: `relied-on field "gone"`, invalid: true},
		{name: "schemas do not parse", opts: contract.VerifyOptions{Schemas: broken, Contracts: cdir}, err: "contract: schemas: ", invalid: true},
		{name: "credentials rejected", opts: contract.VerifyOptions{Schemas: tree, NoFiles: true, Registry: srvURL}, err: "pass credentials as http(s)://user:password@host"},
		{name: "registry URL does not parse", opts: contract.VerifyOptions{Schemas: tree, Registry: "http://ci:" + pw + "@127.0.0.1:port"}, err: "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CONTRAIL_REGISTRY_USER", "")
			res, err := contract.VerifyTree(ctx, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), pw) {
					t.Fatalf("err %v, want one containing %q and no password", err, tt.err)
				}
				if errors.Is(err, compat.ErrInvalidInput) != tt.invalid {
					t.Fatalf("err %v: invalid input %v, want %v", err, !tt.invalid, tt.invalid)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.checked
			if want == 0 {
				want = len(files)
			}
			var rules []string
			for _, f := range res.Findings {
				rules = append(rules, string(f.Rule))
			}
			if len(res.Subjects) != want || res.Breaking() != (tt.rule != "") || (tt.rule != "" && !slices.Contains(rules, tt.rule)) {
				t.Fatalf("%d checked (want %d), rules %v (want %q)", len(res.Subjects), want, rules, tt.rule)
			}
			if res.Next != compat.WorkingTree || !strings.Contains(res.Baseline, tt.baseline) || res.PathPrefix != filepath.ToSlash(tt.opts.Schemas)+"/" {
				t.Fatalf("labels %q against %q, prefix %q", res.Next, res.Baseline, res.PathPrefix)
			}
		})
	}
}

func TestPublishDirErrors(t *testing.T) {
	srvURL := registrytest.Serve(t, registry.WithBasicAuth(map[string]string{"ci": "pw"}))
	cdir := filepath.Join(t.TempDir(), "contracts")
	if _, _, err := contract.ExportTree(producerTree(t), cdir, []string{"inventory"}); err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "x.json"), []byte(`{"consumer": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    contract.PublishOptions
		err     string
		invalid bool
	}{
		{name: "nothing to publish", opts: contract.PublishOptions{Contracts: cdir, Registry: srvURL, Consumers: []string{"nobody"}}, err: "no contracts in " + cdir + " to publish"},
		{name: "credentials rejected", opts: contract.PublishOptions{Contracts: cdir, Registry: srvURL}, err: "(registry " + srvURL + "): pass credentials"},
		{name: "URL that does not parse", opts: contract.PublishOptions{Contracts: cdir, Registry: "ftp://x"}, err: "want http(s)://"},
		{name: "contracts that do not parse", opts: contract.PublishOptions{Contracts: bad, Registry: srvURL}, err: "x.json", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CONTRAIL_REGISTRY_USER", "")
			if (tt.opts.Validate() != nil) != strings.HasPrefix(tt.opts.Registry, "ftp") {
				t.Errorf("Validate: %v", tt.opts.Validate())
			}
			_, err := contract.PublishDir(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.err) || errors.Is(err, compat.ErrInvalidInput) != tt.invalid {
				t.Fatalf("err %v, want %q (invalid input: %v)", err, tt.err, tt.invalid)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	cs := []*contract.Contract{{Consumer: "a", Subject: "1"}, {Consumer: "b", Subject: "2"}, {Consumer: "a", Subject: "3"}}
	tests := []struct {
		name      string
		consumers []string
		want      []string // subjects
	}{
		{name: "every consumer", consumers: nil, want: []string{"1", "2", "3"}},
		{name: "one", consumers: []string{"a"}, want: []string{"1", "3"}},
		{name: "none known", consumers: []string{"c"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range contract.Select(cs, tt.consumers) {
				got = append(got, c.Subject)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRulesInCompatTable: the contract rules are compat's table entries,
// with their IDs unchanged.
func TestRulesInCompatTable(t *testing.T) {
	want := []compat.RuleID{"CONTRACT_FIELD_NOT_WRITTEN", "CONTRACT_EVENT_MISSING", "CONTRACT_SUBJECT_MOVED"}
	var got []compat.RuleID
	for _, r := range contract.Rules() {
		got = append(got, r.ID)
		if tr, ok := compat.RuleByID(r.ID); !ok || tr != r || tr.Scope != compat.ScopeContract {
			t.Errorf("%s: table entry %+v, %v", r.ID, tr, ok)
		}
	}
	if !slices.Equal(got, want) || contract.FieldNotWritten != compat.ContractFieldNotWritten {
		t.Fatalf("rules %v, want %v", got, want)
	}
}

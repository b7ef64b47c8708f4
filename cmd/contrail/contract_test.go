package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/schemas"
)

// contractTree copies the embedded schema tree to a temp dir and returns it.
func contractTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(schemas.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(schemas.FS, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func contractEdit(t *testing.T, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s: %q not found", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestContractExportVerify(t *testing.T) {
	tree := contractTree(t)
	cdir := filepath.Join(t.TempDir(), "contracts")
	code, out, errOut := runCLI(t, "contract", "export", "--schemas", tree, "--contracts", cdir)
	if code != exitOK || !strings.Contains(out, "exported 13 contracts of 4 consumers") {
		t.Fatalf("export: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "contract", "verify", "--schemas", tree, "--contracts", cdir)
	if code != exitOK || !strings.Contains(out, "compatible: 13 subjects") {
		t.Fatalf("verify unchanged: %d\n%s%s", code, out, errOut)
	}

	// The producer drops customerId: both OrderPlaced consumers break.
	placed := filepath.Join(tree, "contrail", "orders", "OrderPlaced.avsc")
	contractEdit(t, placed, `{"name": "customerId", "type": "string"},`+"\n", "")
	contractEdit(t, filepath.Join(tree, "contrail", "orders", "OrderPlaced.contract.yaml"), "    contrail.orders.OrderPlaced.customerId: [PII]\n", "") // a tag on no field does not load
	tests := []struct {
		name   string
		format string
		want   []string
	}{
		{"text", "text", []string{"READER_FIELD_MISSING_DEFAULT", "consumer inventory", "consumer payment", "customerId", "contrail.orders.OrderPlaced", "BREAKING"}},
		{"json", "json", []string{`"breaking": true`, `"rule": "READER_FIELD_MISSING_DEFAULT"`, `(consumer inventory)`}},
		{"github-actions", "github-actions", []string{"::error file=", "title=READER_FIELD_MISSING_DEFAULT::", "consumer payment"}},
		{"junit", "junit", []string{"<testsuites", `orders-contrail.orders.OrderPlaced (consumer inventory)`, "<failure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "contract", "verify", "--schemas", tree, "--contracts", cdir, "--format", tt.format)
			if code != exitBreaking {
				t.Fatalf("code %d, want %d\n%s%s", code, exitBreaking, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// --consumer narrows the check to the consumers named.
	code, out, _ = runCLI(t, "contract", "verify", "--schemas", tree, "--contracts", cdir, "--consumer", "shipping", "--consumer", "order")
	if code != exitOK || strings.Contains(out, "inventory") {
		t.Fatalf("verify shipping,order: %d\n%s", code, out)
	}
	// JSON output is valid JSON.
	_, out, _ = runCLI(t, "contract", "verify", "--schemas", tree, "--contracts", cdir, "--format", "json")
	var doc struct{ Findings []struct{ Rule string } }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Findings) != 2 {
		t.Fatalf("json: %v %d findings\n%s", err, len(doc.Findings), out)
	}
}

func TestContractVerifyErrors(t *testing.T) {
	tree := contractTree(t)
	cdir := filepath.Join(t.TempDir(), "contracts")
	if code, out, e := runCLI(t, "contract", "export", "--schemas", tree, "--contracts", cdir); code != exitOK {
		t.Fatalf("export: %d %s %s", code, out, e)
	}
	badDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(badDir, "x.json"), []byte(`{"consumer":"x","subject":"s","event":"e","schema":{"type":"record","name":"e","fields":[]},"fields":["gone"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	brokenTree := contractTree(t)
	contractEdit(t, filepath.Join(brokenTree, "contrail", "orders", "OrderPlaced.avsc"), `"type": "string"}`, `"type": "strin"}`)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown format", []string{"--schemas", tree, "--contracts", cdir, "--format", "xml"}, exitError, "unknown --format"},
		{"no contracts", []string{"--schemas", tree, "--contracts", filepath.Join(cdir, "none")}, exitError, "no consumer contracts"},
		{"invalid contract", []string{"--schemas", tree, "--contracts", badDir}, exitInvalid, `relied-on field "gone"`},
		{"invalid schema", []string{"--schemas", brokenTree, "--contracts", cdir}, exitInvalid, "OrderPlaced.avsc:"},
		{"registry down", []string{"--schemas", tree, "--no-files", "--registry", "http://127.0.0.1:1"}, exitError, "registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"contract", "verify"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Fatalf("code %d (want %d), stderr %q (want %q)\n%s", code, tt.code, errOut, tt.want, out)
			}
		})
	}
}

// TestContractPublishAndVerifyFromRegistry publishes the contracts to our
// registry over HTTP, then verifies a breaking producer tree against the
// registry's contracts alone.
func TestContractPublishAndVerifyFromRegistry(t *testing.T) {
	url := registrytest.Serve(t)
	tree := contractTree(t)
	cdir := filepath.Join(t.TempDir(), "contracts")
	if code, out, e := runCLI(t, "contract", "export", "--schemas", tree, "--contracts", cdir, "--consumer", "inventory"); code != exitOK {
		t.Fatalf("export: %d %s %s", code, out, e)
	}
	code, out, errOut := runCLI(t, "contract", "publish", "--contracts", cdir, "--registry", url)
	if code != exitOK || !strings.Contains(out, "_contracts.inventory.orders-contrail.orders.OrderPlaced: id ") {
		t.Fatalf("publish: %d\n%s%s", code, out, errOut)
	}
	// Publishing again changes nothing.
	code, out2, _ := runCLI(t, "contract", "publish", "--contracts", cdir, "--registry", url)
	if code != exitOK || out2 != out {
		t.Fatalf("republish: %d\n%s\nvs\n%s", code, out2, out)
	}
	code, out, errOut = runCLI(t, "contract", "verify", "--schemas", tree, "--no-files", "--registry", url)
	if code != exitOK || !strings.Contains(out, "compatible: 3 subjects") {
		t.Fatalf("verify from registry: %d\n%s%s", code, out, errOut)
	}
	contractEdit(t, filepath.Join(tree, "contrail", "common", "LineItem.avsc"), `{"name": "sku", "type": "string"},`, ``)
	code, out, errOut = runCLI(t, "contract", "verify", "--schemas", tree, "--no-files", "--registry", url)
	if code != exitBreaking || !strings.Contains(out, "consumer inventory") || !strings.Contains(out, "sku") {
		t.Fatalf("verify breaking from registry: %d\n%s%s", code, out, errOut)
	}
}

func TestContractSnapshot(t *testing.T) {
	tree := contractTree(t)
	hist := filepath.Join(t.TempDir(), "history")
	examples := filepath.Join("..", "..", "schemas", "examples")
	code, out, errOut := runCLI(t, "contract", "snapshot", "--schemas", tree, "--examples", examples, "--history", hist)
	if code != exitOK || !strings.Contains(out, "snapshot: 20 examples of 10 events encoded") {
		t.Fatalf("snapshot: %d\n%s%s", code, out, errOut)
	}
	m, _ := filepath.Glob(filepath.Join(hist, "contrail.orders.OrderPlaced", "*", "card-web.avro"))
	if len(m) != 1 {
		t.Fatalf("payload files %v", m)
	}
	// An example that no longer matches the schema is invalid input.
	contractEdit(t, filepath.Join(tree, "contrail", "common", "Address.avsc"), `{"name": "city", "type": "string"},`, `{"name": "city", "type": "string"}, {"name": "region", "type": "string"},`)
	code, _, errOut = runCLI(t, "contract", "snapshot", "--schemas", tree, "--examples", examples, "--history", hist)
	if code != exitInvalid || !strings.Contains(errOut, `field "region" is missing`) || !strings.Contains(errOut, "card-web.json") {
		t.Fatalf("snapshot with stale examples: %d\n%s", code, errOut)
	}
}

// TestContractVerifyFilesAndRegistry verifies the union of file and registry
// contracts: identical copies once, and a registry copy that differs from the
// file (here: it relies on couponCode) is verified too.
func TestContractVerifyFilesAndRegistry(t *testing.T) {
	url := registrytest.Serve(t)
	tree := contractTree(t)
	cdir := filepath.Join(t.TempDir(), "contracts")
	if code, out, e := runCLI(t, "contract", "export", "--schemas", tree, "--contracts", cdir, "--consumer", "inventory"); code != exitOK {
		t.Fatalf("export: %d %s %s", code, out, e)
	}
	if code, out, e := runCLI(t, "contract", "publish", "--contracts", cdir, "--registry", url); code != exitOK {
		t.Fatalf("publish: %d %s %s", code, out, e)
	}
	code, out, _ := runCLI(t, "contract", "verify", "--schemas", tree, "--contracts", cdir, "--registry", url)
	if code != exitOK || !strings.Contains(out, "3 subjects checked") {
		t.Fatalf("identical copies should be verified once: %d\n%s", code, out)
	}
	// The files now say inventory relies on orderId only; the registry still
	// has every top-level field. Dropping couponCode breaks the registry copy.
	placed := filepath.Join(cdir, "inventory", "orders-contrail.orders.OrderPlaced.json")
	contractEdit(t, placed, `"fields": [],`, `"fields": ["orderId"],`)
	contractEdit(t, filepath.Join(tree, "contrail", "orders", "OrderPlaced.avsc"), `,`+"\n"+`    {"name": "couponCode", "type": ["null", "string"], "default": null}`, ``)
	if code, out, _ := runCLI(t, "contract", "verify", "--schemas", tree, "--contracts", cdir); code != exitOK {
		t.Fatalf("files alone: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "contract", "verify", "--schemas", tree, "--contracts", cdir, "--registry", url)
	if code != exitBreaking || !strings.Contains(out, "CONTRACT_FIELD_NOT_WRITTEN") || !strings.Contains(out, "couponCode") {
		t.Fatalf("files + registry: %d\n%s", code, out)
	}
}

// TestContractRegistryBasicAuth publishes and verifies against our registry
// over HTTP with basic auth required: credentials from the URL or the
// environment work, none or wrong ones fail with a 401 message that says
// how to pass them, and the password is never printed.
func TestContractRegistryBasicAuth(t *testing.T) {
	const pw = "s3cret-pw"
	srvURL := registrytest.Serve(t, registry.WithBasicAuth(map[string]string{"ci": pw}))
	withUser := strings.Replace(srvURL, "http://", "http://ci:"+pw+"@", 1)
	wrongPW := strings.Replace(srvURL, "http://", "http://ci:wrong-pw@", 1)

	tree := contractTree(t)
	cdir := filepath.Join(t.TempDir(), "contracts")
	if code, out, e := runCLI(t, "contract", "export", "--schemas", tree, "--contracts", cdir, "--consumer", "inventory"); code != exitOK {
		t.Fatalf("export: %d %s %s", code, out, e)
	}
	tests := []struct {
		name     string
		url      string
		env      []string // CONTRAIL_REGISTRY_USER, CONTRAIL_REGISTRY_PASSWORD
		code     int
		wantErr  []string // in stderr of both publish and verify
		wantVerf string   // in verify's stdout on success
	}{
		{name: "no credentials", url: srvURL, code: exitError,
			wantErr: []string{"HTTP 401", "rejected the credentials", "CONTRAIL_REGISTRY_USER", srvURL}},
		{name: "wrong password in the URL", url: wrongPW, code: exitError,
			wantErr: []string{"HTTP 401", "CONTRAIL_REGISTRY_PASSWORD", srvURL}},
		{name: "wrong password from the environment", url: srvURL, env: []string{"ci", "wrong-pw"}, code: exitError,
			wantErr: []string{"HTTP 401"}},
		{name: "credentials in the URL", url: withUser, code: exitOK, wantVerf: "compatible: 3 subjects"},
		{name: "credentials from the environment", url: srvURL, env: []string{"ci", pw}, code: exitOK, wantVerf: "compatible: 3 subjects"},
		{name: "the URL's credentials win over the environment", url: withUser, env: []string{"ci", "wrong-pw"}, code: exitOK, wantVerf: "compatible: 3 subjects"},
		{name: "URL that does not parse", url: "http://ci:" + pw + "@127.0.0.1:port", code: exitError,
			wantErr: []string{"registry URL does not parse", "invalid port"}},
		{name: "not an http URL", url: "ftp://ci:" + pw + "@127.0.0.1", code: exitError,
			wantErr: []string{"want http(s)://", "ftp://ci:xxxxx@127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, pass := "", ""
			if tt.env != nil {
				user, pass = tt.env[0], tt.env[1]
			}
			t.Setenv("CONTRAIL_REGISTRY_USER", user)
			t.Setenv("CONTRAIL_REGISTRY_PASSWORD", pass)
			runs := [][]string{
				{"contract", "publish", "--contracts", cdir, "--registry", tt.url},
				{"contract", "verify", "--schemas", tree, "--no-files", "--registry", tt.url},
				{"contract", "verify", "--schemas", tree, "--no-files", "--registry", tt.url, "--format", "json"},
			}
			for i, args := range runs {
				code, out, errOut := runCLI(t, args...)
				if code != tt.code {
					t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, tt.code, out, errOut)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(errOut, w) {
						t.Fatalf("%v: stderr lacks %q:\n%s", args, w, errOut)
					}
				}
				if strings.Contains(out+errOut, pw) || strings.Contains(out+errOut, "wrong-pw") {
					t.Fatalf("%v: the password is printed:\n%s\n%s", args, out, errOut)
				}
				switch {
				case tt.code != exitOK:
				case i == 0 && !strings.Contains(out, "_contracts.inventory.orders-contrail.orders.OrderPlaced: id "):
					t.Fatalf("publish: %s", out)
				case i == 1 && !strings.Contains(out, tt.wantVerf):
					t.Fatalf("verify: want %q:\n%s", tt.wantVerf, out)
				case i == 2 && !strings.Contains(out, srvURL):
					t.Fatalf("verify json does not name the registry %s:\n%s", srvURL, out)
				}
			}
		})
	}
}

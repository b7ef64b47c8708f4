package contract_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/schemas"
)

// copyTree writes the repository's embedded schema tree to a temp dir, then
// applies edits: file -> (old -> new) replacements that must each match.
func copyTree(t *testing.T, edits map[string][][2]string) string {
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
	for file, reps := range edits {
		p := filepath.Join(dir, filepath.FromSlash(file))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, r := range reps {
			if !strings.Contains(s, r[0]) {
				t.Fatalf("edit %s: %q not found", file, r[0])
			}
			s = strings.Replace(s, r[0], r[1], 1)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func defaultContracts(t *testing.T) (*schemas.Set, []*contract.Contract) {
	t.Helper()
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := contract.FromSet(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set, cs
}

func TestFromSetOnePerConsumerAndEvent(t *testing.T) {
	set, cs := defaultContracts(t)
	want := 0
	for _, ev := range set.Events {
		want += len(ev.Consumers)
	}
	if len(cs) != want || want == 0 {
		t.Fatalf("got %d contracts, want %d", len(cs), want)
	}
	var found bool
	for _, c := range cs {
		if c.Consumer == "inventory" && c.Event == "contrail.orders.OrderPlaced" {
			found = true
			if c.Subject != "orders-contrail.orders.OrderPlaced" || c.Topic != "orders" {
				t.Errorf("inventory/OrderPlaced: subject %q topic %q", c.Subject, c.Topic)
			}
			if !strings.Contains(string(c.Schema), `"contrail.common.Money"`) || strings.Contains(string(c.Schema), `"references"`) {
				t.Errorf("schema is not self-contained: %s", c.Schema)
			}
		}
	}
	if !found {
		t.Fatal("no inventory contract for OrderPlaced")
	}
}

func TestFromTypeMatchesManifest(t *testing.T) {
	c, err := contract.FromType("inventory", orders.OrderPlacedBinding, contract.Fields("orderId", "items.sku", "items.quantity"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != orders.OrderPlacedBinding.Subject() || c.Event != "contrail.orders.OrderPlaced" {
		t.Fatalf("subject %q event %q", c.Subject, c.Event)
	}
	if got := strings.Join(c.Fields, ","); got != "items.quantity,items.sku,orderId" {
		t.Fatalf("fields %s", got)
	}
	if !strings.HasSuffix(c.Source, "orders") {
		t.Fatalf("source %q", c.Source)
	}
	set, _ := defaultContracts(t)
	res, err := contract.Verify(contract.WritersOf(set, "working tree"), []*contract.Contract{c})
	if err != nil || len(res.Findings) != 0 {
		t.Fatalf("generated type vs its own schema: %v %+v", err, res)
	}
}

func TestInvalidContracts(t *testing.T) {
	good, err := contract.FromType("inventory", orders.OrderPlacedBinding)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(c *contract.Contract)
		want string
	}{
		{"unknown field", func(c *contract.Contract) { c.Fields = []string{"orderId", "nope"} }, `field "nope"`},
		{"unknown nested field", func(c *contract.Contract) { c.Fields = []string{"items.colour"} }, `"colour"`},
		{"no consumer", func(c *contract.Contract) { c.Consumer = "" }, "consumer"},
		{"bad consumer", func(c *contract.Contract) { c.Consumer = "../x" }, "consumer"},
		{"no subject", func(c *contract.Contract) { c.Subject = "" }, "subject is empty"},
		{"schema not JSON", func(c *contract.Contract) { c.Schema = []byte(`{"type":`) }, "does not parse"},
		{"other record", func(c *contract.Contract) { c.Event = "contrail.orders.OrderReady" }, "not the record"},
		{"future format", func(c *contract.Contract) { c.Format = 9 }, "format 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &contract.Contract{Format: good.Format, Consumer: good.Consumer, Subject: good.Subject, Event: good.Event, Schema: good.Schema}
			tt.mod(c)
			err := c.Validate()
			if !errors.Is(err, contract.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	_, cs := defaultContracts(t)
	cs[0].Fields = []string{"orderId"}
	dir := t.TempDir()
	files, err := contract.Write(dir, cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cs) || !strings.Contains(strings.Join(files, " "), "inventory/orders-contrail.orders.OrderPlaced.json") {
		t.Fatalf("files %v", files)
	}
	back, err := contract.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(cs) {
		t.Fatalf("loaded %d, wrote %d", len(back), len(cs))
	}
	for i := range cs {
		if back[i].Key() != cs[i].Key() || strings.Join(back[i].Fields, ",") != strings.Join(cs[i].Fields, ",") {
			t.Fatalf("contract %d: %s %v != %s %v", i, back[i].Key(), back[i].Fields, cs[i].Key(), cs[i].Fields)
		}
	}
	// Re-export keeps hand-narrowed fields.
	set, _ := defaultContracts(t)
	again, err := contract.FromSet(set, back)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(again[0].Fields, ",") != "orderId" {
		t.Fatalf("re-export lost fields: %v", again[0].Fields)
	}
	// A malformed file is reported with its name, and a misspelt key is not ignored.
	bad := filepath.Join(dir, "payment", "broken.json")
	if err := os.WriteFile(bad, []byte(`{"consumer":"payment","fieldz":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = contract.Load(dir)
	if !errors.Is(err, contract.ErrInvalid) || !strings.Contains(err.Error(), "payment/broken.json") || !strings.Contains(err.Error(), "fieldz") {
		t.Fatalf("Load of a broken file: %v", err)
	}
	if cs, err := contract.Load(filepath.Join(dir, "missing")); err != nil || cs != nil {
		t.Fatalf("missing dir: %v %v", cs, err)
	}
}

func TestWriteReturnsFilesSorted(t *testing.T) {
	_, cs := defaultContracts(t)
	slices.Reverse(cs)
	files, err := contract.Write(t.TempDir(), cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cs) || !slices.IsSorted(files) {
		t.Fatalf("Write of contracts in reverse order returned %v, want all %d files sorted", files, len(cs))
	}
}

func TestVerify(t *testing.T) {
	const placed = "contrail/orders/OrderPlaced.avsc"
	tests := []struct {
		name    string
		edits   map[string][][2]string
		fields  []string // inventory's relied-on fields for OrderPlaced; nil = all
		want    []compat.RuleID
		wantMsg []string
	}{
		{name: "unchanged", want: nil},
		{
			name:  "field added with default",
			edits: map[string][][2]string{placed: {{`{"name": "couponCode"`, `{"name": "giftNote", "type": ["null", "string"], "default": null},` + "\n    " + `{"name": "couponCode"`}}},
			want:  nil,
		},
		{
			name: "field without default removed",
			edits: map[string][][2]string{placed: {{`{"name": "customerId", "type": "string"},`, ``}},
				// the field's PII tag goes with it: the loader refuses a tag on no field
				"contrail/orders/OrderPlaced.contract.yaml": {{"    contrail.orders.OrderPlaced.customerId: [PII]\n", ""}}},
			want:    []compat.RuleID{"READER_FIELD_MISSING_DEFAULT", "READER_FIELD_MISSING_DEFAULT"},
			wantMsg: []string{"consumer inventory", "consumer payment", "customerId"},
		},
		{
			name:    "defaulted field a consumer relies on removed",
			edits:   map[string][][2]string{placed: {{`,` + "\n" + `    {"name": "couponCode", "type": ["null", "string"], "default": null}`, ``}}},
			fields:  []string{"orderId", "couponCode"},
			want:    []compat.RuleID{"CONTRACT_FIELD_NOT_WRITTEN", "CONTRACT_FIELD_NOT_WRITTEN"},
			wantMsg: []string{"consumer inventory relies on field `couponCode`", "consumer payment relies on field `couponCode`"},
		},
		{
			name:   "defaulted field nobody relies on removed",
			edits:  map[string][][2]string{placed: {{`,` + "\n" + `    {"name": "couponCode", "type": ["null", "string"], "default": null}`, ``}}},
			fields: []string{"orderId", "items.sku"},
			want:   []compat.RuleID{"CONTRACT_FIELD_NOT_WRITTEN"}, // payment's contract still relies on every top-level field
		},
		{
			name:    "nested relied-on field gains a default",
			edits:   map[string][][2]string{"contrail/common/LineItem.avsc": {{`{"name": "sku", "type": "string"},`, `{"name": "sku", "type": "string", "default": ""},`}}},
			fields:  []string{"items.sku"},
			want:    nil, // adding a default is fine
			wantMsg: nil,
		},
		{
			name:    "subject moved",
			edits:   map[string][][2]string{"manifest.yaml": {{"topic: orders\n    strategy: TopicRecordName\n    compatibility: FULL_TRANSITIVE", "topic: orders\n    strategy: RecordName\n    compatibility: FULL_TRANSITIVE"}}},
			want:    []compat.RuleID{"CONTRACT_SUBJECT_MOVED", "CONTRACT_SUBJECT_MOVED"},
			wantMsg: []string{`now produced under "contrail.orders.OrderPlaced"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cs := defaultContracts(t)
			for _, c := range cs {
				if c.Consumer == "inventory" && c.Event == "contrail.orders.OrderPlaced" {
					c.Fields = tt.fields
				}
			}
			set, err := schemas.Load(copyTree(t, tt.edits))
			if err != nil {
				t.Fatal(err)
			}
			res, err := contract.Verify(contract.WritersOf(set, "working tree"), cs)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Checked) != len(cs) {
				t.Fatalf("checked %d of %d", len(res.Checked), len(cs))
			}
			var got []compat.RuleID
			var msgs strings.Builder
			for _, f := range res.Findings {
				got = append(got, f.Rule)
				msgs.WriteString(f.Subject + " " + f.Message + "\n")
			}
			if strings.Join(ids(got), ",") != strings.Join(ids(tt.want), ",") {
				t.Fatalf("rules %v, want %v\n%s", got, tt.want, msgs.String())
			}
			if res.Breaking() != (len(tt.want) > 0) {
				t.Fatalf("Breaking() = %v", res.Breaking())
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(msgs.String(), m) {
					t.Errorf("findings do not mention %q:\n%s", m, msgs.String())
				}
			}
			for _, f := range res.Findings {
				if !strings.Contains(f.Subject, "(consumer ") {
					t.Errorf("finding subject %q does not name the consumer", f.Subject)
				}
			}
		})
	}
}

func TestVerifyFindingPointsAtWriterLine(t *testing.T) {
	_, cs := defaultContracts(t)
	dir := copyTree(t, map[string][][2]string{"contrail/orders/SalesChannel.avsc": {{`"symbols": ["UNKNOWN", "WEB", "MOBILE"],`, `"symbols": ["UNKNOWN", "WEB"],`}}})
	set, err := schemas.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Removing a symbol is fine for readers (they know more symbols); the
	// reverse, a symbol readers lack, is covered by the enum default.
	res, err := contract.Verify(contract.WritersOf(set, "working tree"), cs)
	if err != nil || len(res.Findings) != 0 {
		t.Fatalf("%v %+v", err, res.Findings)
	}
	dir = copyTree(t, map[string][][2]string{"contrail/orders/OrderPlaced.avsc": {{`{"name": "customerId", "type": "string"}`, `{"name": "customerId", "type": "long"}`}}})
	if set, err = schemas.Load(dir); err != nil {
		t.Fatal(err)
	}
	res, err = contract.Verify(contract.WritersOf(set, "working tree"), cs)
	if err != nil || len(res.Findings) == 0 {
		t.Fatalf("%v %+v", err, res)
	}
	f := res.Findings[0]
	if f.Rule != "TYPE_CHANGED" || f.Writer.File != "contrail/orders/OrderPlaced.avsc" || f.Writer.Line != 9 {
		t.Fatalf("finding %+v", f)
	}
}

func ids(rs []compat.RuleID) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// TestVerifyNestedFieldNotWritten: a consumer whose reader gave a nested
// field a default still breaks when the producer stops writing it, if the
// consumer relies on it; resolution alone would pass.
func TestVerifyNestedFieldNotWritten(t *testing.T) {
	c, err := contract.FromType("inventory", orders.OrderPlacedBinding, contract.Fields("orderId", "items.sku"))
	if err != nil {
		t.Fatal(err)
	}
	const sku = `{"name":"sku","type":"string"}`
	if !strings.Contains(string(c.Schema), sku) {
		t.Fatalf("schema lacks %s: %s", sku, c.Schema)
	}
	c.Schema = []byte(strings.Replace(string(c.Schema), sku, `{"name":"sku","type":"string","default":"?"}`, 1))
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	set, err := schemas.Load(copyTree(t, map[string][][2]string{"contrail/common/LineItem.avsc": {{`{"name": "sku", "type": "string"},`, ``}}}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		fields []string
		want   int
	}{
		{"relied on", []string{"orderId", "items.sku"}, 1},
		{"not relied on", []string{"orderId", "items.quantity"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Fields = tt.fields
			res, err := contract.Verify(contract.WritersOf(set, "working tree"), []*contract.Contract{c})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != tt.want {
				t.Fatalf("findings %+v, want %d", res.Findings, tt.want)
			}
			if tt.want > 0 {
				f := res.Findings[0]
				if f.Rule != contract.FieldNotWritten.ID || !strings.Contains(f.Message, "`items.sku`") || !strings.Contains(f.Message, "consumer inventory") {
					t.Fatalf("finding %+v", f)
				}
			}
		})
	}
}

// TestVerifyMajors: with an event in two majors, a contract is verified
// against the producer's schema of its own major only (major 2 breaks major
// 1, which readers bridge with Go migrations), and a contract of a major the
// producer no longer has is reported with the live majors.
func TestVerifyMajors(t *testing.T) {
	dir := copyTree(t, map[string][][2]string{
		"manifest.yaml": {{"  - schema: contrail.orders.OrderCancelled\n    topic: orders\n", "  - schema: contrail.orders.OrderCancelled\n    topic: orders\n    compatibility_group: major_version\n"}},
	})
	v2 := `{"type": "record", "name": "OrderCancelled", "namespace": "contrail.orders", "fields": [
  {"name": "metadata", "type": "contrail.common.EventMetadata"},
  {"name": "orderId", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "reasonCode", "type": "int"}
]}`
	if err := os.WriteFile(filepath.Join(dir, "contrail", "orders", "OrderCancelled.v2.avsc"), []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := schemas.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	all, err := contract.FromSet(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*contract.Contract
	for _, c := range all {
		if c.Event == "contrail.orders.OrderCancelled" && c.Consumer == "inventory" {
			cs = append(cs, c)
		}
	}
	if len(cs) != 1 || cs[0].Major != 0 {
		t.Fatalf("contracts %+v", cs)
	}
	writers := contract.WritersOf(set, "working tree")
	res, err := contract.Verify(writers, cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Fatalf("a major 1 contract was checked against major 2: %+v", res.Findings)
	}
	// The same reader schema as a contract of major 2 breaks.
	c2 := *cs[0]
	c2.Major = 2
	res, err = contract.Verify(writers, []*contract.Contract{&c2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 || res.Findings[0].Writer.File != "contrail/orders/OrderCancelled.v2.avsc" {
		t.Fatalf("major 2 contract: %+v", res.Findings)
	}
	c3 := *cs[0]
	c3.Major = 3
	res, err = contract.Verify(writers, []*contract.Contract{&c3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Rule != contract.EventMissing.ID || !strings.Contains(res.Findings[0].Message, "have only v1, v2 there") {
		t.Fatalf("major 3 contract: %+v", res.Findings)
	}
}

package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	bolt "go.etcd.io/bbolt"

	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/wire"
)

const (
	// orderV1 and orderV2 are two majors of one event: v2 renames ssn,
	// which BACKWARD refuses inside a major.
	orderV1 = `{"type":"record","name":"Order","namespace":"contracts","fields":[{"name":"id","type":"string"},{"name":"ssn","type":"string"}]}`
	orderV2 = `{"type":"record","name":"Order","namespace":"contracts","fields":[{"name":"id","type":"string"},{"name":"socialSecurityNumber","type":"string"}]}`
	// orderV2b adds an optional field to orderV2: compatible in major 2.
	orderV2b = `{"type":"record","name":"Order","namespace":"contracts","fields":[{"name":"id","type":"string"},{"name":"socialSecurityNumber","type":"string"},{"name":"note","type":["null","string"],"default":null}]}`
)

// TestContractsFranzGo registers, reads and checks data contracts through
// franz-go's pkg/sr, the client the serde and `registry push` use: its
// Schema.SchemaMetadata and SchemaRuleSet, and its SetCompatibility and
// Compatibility with the group, defaults and overrides.
func TestContractsFranzGo(t *testing.T) {
	ctx := context.Background()
	cl, err := sr.NewClient(sr.URLs(registrytest.Serve(t)))
	if err != nil {
		t.Fatal(err)
	}
	const subject = "contracts.Order"
	override := &sr.SchemaRuleSet{DomainRules: []sr.SchemaRule{{
		Name: "checkId", Kind: sr.SchemaRuleKindCondition, Mode: sr.SchemaRuleModeWrite, Type: wire.RuleTypeCEL, Expr: "message.id != ''",
	}}}
	set := cl.SetCompatibility(ctx, sr.SetCompatibility{
		Level:           sr.CompatBackward,
		Group:           wire.CompatibilityGroupMajorVersion,
		DefaultMetadata: &sr.SchemaMetadata{Properties: map[string]string{"owner": "orders-team"}},
		OverrideRuleSet: override,
	}, subject)
	if set[0].Err != nil || set[0].Group != wire.CompatibilityGroupMajorVersion || set[0].DefaultMetadata == nil ||
		set[0].DefaultMetadata.Properties["owner"] != "orders-team" || !reflect.DeepEqual(set[0].OverrideRuleSet, override) {
		t.Fatalf("SetCompatibility = %+v", set[0])
	}
	got := cl.Compatibility(ctx, subject)
	if got[0].Err != nil || got[0].Level != sr.CompatBackward || got[0].Group != wire.CompatibilityGroupMajorVersion ||
		!reflect.DeepEqual(got[0].OverrideRuleSet, override) || got[0].DefaultMetadata == nil {
		t.Fatalf("Compatibility = %+v", got[0])
	}

	checkSsnLen := sr.SchemaRule{Name: "checkSsnLen", Kind: sr.SchemaRuleKindCondition, Mode: sr.SchemaRuleModeWrite,
		Type: wire.RuleTypeCEL, Expr: "size(message.ssn) == 9", OnFailure: wire.RuleActionDLQ, Params: map[string]string{"dlq.topic": "bad-orders"}}
	v1 := sr.Schema{Schema: orderV1,
		SchemaMetadata: &sr.SchemaMetadata{
			Properties: map[string]string{wire.PropertyMajorVersion: "1"},
			Tags:       map[string][]string{"contracts.Order.ssn": {wire.TagPII}},
		},
		SchemaRuleSet: &sr.SchemaRuleSet{DomainRules: []sr.SchemaRule{checkSsnLen}},
	}
	ss, err := cl.CreateSchema(ctx, subject, v1)
	if err != nil {
		t.Fatalf("CreateSchema(v1): %v", err)
	}
	wantMD := &sr.SchemaMetadata{
		Properties: map[string]string{wire.PropertyMajorVersion: "1", "owner": "orders-team"},
		Tags:       map[string][]string{"contracts.Order.ssn": {wire.TagPII}},
	}
	wantRS := &sr.SchemaRuleSet{DomainRules: []sr.SchemaRule{checkSsnLen, override.DomainRules[0]}}
	if !reflect.DeepEqual(ss.SchemaMetadata, wantMD) || !reflect.DeepEqual(ss.SchemaRuleSet, wantRS) {
		t.Fatalf("CreateSchema(v1) = metadata %+v rules %+v\nwant %+v %+v", ss.SchemaMetadata, ss.SchemaRuleSet, wantMD, wantRS)
	}
	byID, err := cl.SchemaByID(ctx, ss.ID)
	if err != nil || !reflect.DeepEqual(byID.SchemaMetadata, wantMD) || !reflect.DeepEqual(byID.SchemaRuleSet, wantRS) {
		t.Fatalf("SchemaByID = %+v, %v", byID, err)
	}
	if major, ok := (&wire.Metadata{Properties: byID.SchemaMetadata.Properties}).Major(); !ok || major != 1 {
		t.Fatalf("major of the schema read back = %d, %v", major, ok)
	}
	// The lookup the serde makes finds v1 as sent and as stored.
	for _, s := range []sr.Schema{v1, {Schema: orderV1}} {
		if found, err := cl.LookupSchema(ctx, subject, s); err != nil || found.ID != ss.ID || found.Version != 1 {
			t.Fatalf("LookupSchema(%+v) = %+v, %v", s.SchemaMetadata, found, err)
		}
	}

	// A breaking change is refused inside major 1 and passes as major 2
	// with its migration rules.
	var re *sr.ResponseError
	if _, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: orderV2}); !errors.As(err, &re) || re.SchemaError() != sr.ErrIncompatibleSchema {
		t.Fatalf("breaking change inheriting major 1: %v; want ErrIncompatibleSchema", err)
	}
	if !strings.Contains(re.Message, "compatibility group major_version=1") || !strings.Contains(re.Message, "metadata.properties.major_version") {
		t.Errorf("409 message %q does not name the group and how to start a new major", re.Message)
	}
	upgrade := sr.SchemaRule{Name: "upgradeOrderV1ToV2", Kind: sr.SchemaRuleKindTransform, Mode: sr.SchemaRuleModeUpgrade, Type: wire.RuleTypeGoMigration}
	v2 := sr.Schema{Schema: orderV2,
		SchemaMetadata: &sr.SchemaMetadata{Properties: map[string]string{wire.PropertyMajorVersion: "2"}},
		SchemaRuleSet:  &sr.SchemaRuleSet{MigrationRules: []sr.SchemaRule{upgrade}},
	}
	res, err := cl.CheckCompatibility(ctx, subject, -2, v2)
	if err != nil || !res.Is {
		t.Fatalf("CheckCompatibility(v2 as major 2) = %+v, %v; want compatible", res, err)
	}
	ss2, err := cl.CreateSchema(ctx, subject, v2)
	if err != nil || ss2.Version != 2 || ss2.ID == ss.ID {
		t.Fatalf("CreateSchema(v2 as major 2) = %+v, %v", ss2, err)
	}
	if rs := ss2.SchemaRuleSet; rs == nil || !reflect.DeepEqual(rs.MigrationRules, []sr.SchemaRule{upgrade}) {
		t.Fatalf("v2 migration rules = %+v", rs)
	}
	// v2b inherits major 2 and its rules from v2.
	ss3, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: orderV2b})
	if err != nil || ss3.Version != 3 || ss3.SchemaMetadata == nil || ss3.SchemaMetadata.Properties[wire.PropertyMajorVersion] != "2" {
		t.Fatalf("CreateSchema(v2b) = %+v, %v; want version 3 in major 2", ss3, err)
	}
	// Looking up major 1's schema without its metadata compares it with
	// the latest version's contract, as Confluent does: not found.
	if _, err := cl.LookupSchema(ctx, subject, sr.Schema{Schema: orderV1}); !errors.As(err, &re) || re.SchemaError() != sr.ErrSchemaNotFound {
		t.Fatalf("LookupSchema(v1 without metadata) after major 2: %v; want ErrSchemaNotFound", err)
	}
	if found, err := cl.LookupSchema(ctx, subject, v1); err != nil || found.Version != 1 {
		t.Fatalf("LookupSchema(v1 with its metadata) = %+v, %v", found, err)
	}
}

// TestContractsSurviveBoltReopen registers contracts and configs with
// defaults, overrides and a group on the bbolt store, reopens it and
// compares every read byte for byte; a schema record written before data
// contracts loads with none.
func TestContractsSurviveBoltReopen(t *testing.T) {
	dir := t.TempDir()
	open := func() (string, func()) {
		s, err := registry.OpenBoltStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		reg, err := registry.Open(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		h, err := registry.NewServer(reg)
		if err != nil {
			t.Fatal(err)
		}
		return serveHTTP(t, h), func() { s.Close() }
	}
	base, closeStore := open()
	for _, w := range []struct{ method, path, body string }{
		{"PUT", "/config", `{"compatibility":"BACKWARD","validateFields":true,"defaultMetadata":{"properties":{"owner":"platform"}}}`},
		{"PUT", "/config/contracts.Order", `{"compatibilityGroup":"major_version","overrideRuleSet":{"domainRules":[{"name":"checkId","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id != ''"}]},"overrideMetadata":{"sensitive":["owner"]}}`},
		{"POST", "/subjects/contracts.Order/versions", `{"schema":` + quote(orderV1) + `,"metadata":{"properties":{"major_version":"1"},"tags":{"contracts.Order.ssn":["PII"]}}}`},
		{"POST", "/subjects/contracts.Order/versions", `{"schema":` + quote(orderV2) + `,"metadata":{"properties":{"major_version":"2"}},"ruleSet":{"migrationRules":[{"name":"up","kind":"TRANSFORM","mode":"UPGRADE","type":"CONTRAIL_GO"}]}}`},
		{"POST", "/subjects/plain/versions", `{"schema":"\"string\""}`},
	} {
		if code, _, body := call(t, w.method, base+w.path, w.body); code != 200 {
			t.Fatalf("%s %s = %d %s", w.method, w.path, code, body)
		}
	}
	paths := []string{"/config", "/config/contracts.Order", "/config/contracts.Order?defaultToGlobal=true",
		"/subjects/contracts.Order/versions/1", "/subjects/contracts.Order/versions/2", "/schemas/ids/1", "/schemas/ids/2",
		"/schemas/ids/3", "/subjects/plain/versions/1"}
	before := map[string]string{}
	for _, p := range paths {
		code, body := httpGet(t, base, p)
		if code != 200 {
			t.Fatalf("GET %s = %d %s", p, code, body)
		}
		before[p] = body
	}
	if want := `"metadata":{"tags":{"contracts.Order.ssn":["PII"]},"properties":{"major_version":"1","owner":"platform"},"sensitive":["owner"]}`; !strings.Contains(before["/schemas/ids/1"], want) {
		t.Fatalf("GET /schemas/ids/1 = %s, want %s (global default, subject override)", before["/schemas/ids/1"], want)
	}
	closeStore()

	// A schema record as releases before data contracts wrote it.
	db, err := bolt.Open(filepath.Join(dir, registry.DataFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		key := []byte{0, 0, 0, 0, 0, 0, 0, 9}
		if err := tx.Bucket([]byte("schemas")).Put(key, []byte(`{"id":9,"schema":"\"bytes\""}`)); err != nil {
			return err
		}
		return tx.Bucket([]byte("versions")).Put(append([]byte("legacy\x00"), 0, 0, 0, 1), []byte(`{"subject":"legacy","version":1,"id":9}`))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	base, closeStore = open()
	defer closeStore()
	for _, p := range paths {
		if _, body := httpGet(t, base, p); body != before[p] {
			t.Errorf("GET %s after reopen:\n%s\nbefore:\n%s", p, body, before[p])
		}
	}
	if code, body := httpGet(t, base, "/subjects/legacy/versions/1"); code != 200 || strings.Contains(body, "metadata") || strings.Contains(body, "ruleSet") {
		t.Errorf("a record from before data contracts = %d %s, want it without metadata and rule set", code, body)
	}
	// The old record is a schema without contract: registering it with one
	// makes a new ID.
	if code, _, body := call(t, "POST", base+"/subjects/legacy/versions", `{"schema":"\"bytes\"","metadata":{"properties":{"a":"b"}}}`); code != 200 || regID(body) == 9 {
		t.Errorf("re-register with metadata = %d %s, want a new id", code, body)
	}
}

// TestContractRequestErrors pins the answers to bad contracts that the
// conformance suite does not cover: what Confluent cannot decode (an
// unknown kind or mode) is 42210 here on every route that takes a rule
// set; encodingRules, which this registry does not keep, are refused; a
// malformed shape is 400.
func TestContractRequestErrors(t *testing.T) {
	base := registrytest.Serve(t)
	if code, _, body := call(t, "POST", base+"/subjects/s/versions", `{"schema":"\"string\""}`); code != 200 {
		t.Fatalf("register: %d %s", code, body)
	}
	badKind := `{"domainRules":[{"name":"a","kind":"VALIDATE","mode":"WRITE","type":"CEL"}]}`
	badMode := `{"migrationRules":[{"name":"a","kind":"TRANSFORM","mode":"SIDEWAYS","type":"JSONATA"}]}`
	schema := func(extra string) string { return `{"schema":"\"string\"",` + extra + `}` }
	tests := []struct {
		name, method, path, body string
		status, code             int
		want                     string
	}{
		{"unknown kind on register", "POST", "/subjects/s/versions", schema(`"ruleSet":` + badKind), 422, 42210, `kind "VALIDATE"`},
		{"unknown mode on register", "POST", "/subjects/s/versions", schema(`"ruleSet":` + badMode), 422, 42210, `mode "SIDEWAYS"`},
		{"unknown kind on lookup", "POST", "/subjects/s", schema(`"ruleSet":` + badKind), 422, 42210, "CONDITION or TRANSFORM"},
		{"unknown mode on compatibility", "POST", "/compatibility/subjects/s/versions/latest", schema(`"ruleSet":` + badMode), 422, 42210, "UPGRADE, DOWNGRADE or UPDOWN"},
		{"unknown kind in config", "PUT", "/config/s", `{"defaultRuleSet":` + badKind + `}`, 422, 42210, "defaultRuleSet"},
		{"encodingRules", "POST", "/subjects/s/versions", schema(`"ruleSet":{"encodingRules":[{"name":"e","type":"ENCRYPT"}]}`), 422, 42210, "encodingRules are not supported"},
		{"encodingRules in config", "PUT", "/config/s", `{"overrideRuleSet":{"encodingRules":[{"name":"e","type":"ENCRYPT"}]}}`, 422, 42210, "encodingRules"},
		{"metadata not an object", "POST", "/subjects/s/versions", schema(`"metadata":[]`), 400, 400, "metadata: want an object"},
		{"null property", "POST", "/subjects/s/versions", schema(`"metadata":{"properties":{"a":null}}`), 400, 400, `metadata.properties["a"] is null`},
		{"object property", "POST", "/subjects/s/versions", schema(`"metadata":{"properties":{"a":{}}}`), 400, 400, `metadata.properties["a"]: want a string`},
		{"null tag list", "POST", "/subjects/s/versions", schema(`"metadata":{"tags":{"f":null}}`), 400, 400, `metadata.tags["f"] is null`},
		{"null rule", "POST", "/subjects/s/versions", schema(`"ruleSet":{"domainRules":[null]}`), 400, 400, "ruleSet.domainRules[0] is null"},
		{"rule not an object", "POST", "/subjects/s/versions", schema(`"ruleSet":{"domainRules":["a"]}`), 400, 400, "ruleSet.domainRules[0]: want an object"},
		{"disabled not a boolean", "POST", "/subjects/s/versions", schema(`"ruleSet":{"domainRules":[{"name":"a","type":"CEL","mode":"WRITE","disabled":3}]}`), 400, 400, "disabled: want true or false"},
		{"config metadata not an object", "PUT", "/config/s", `{"defaultMetadata":"x"}`, 400, 400, "defaultMetadata"},
		{"config group not a string", "PUT", "/config/s", `{"compatibilityGroup":5}`, 400, 400, "compatibilityGroup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := call(t, tt.method, base+tt.path, tt.body)
			var e struct {
				Message string `json:"message"`
			}
			json.Unmarshal([]byte(body), &e)
			if code != tt.status || errorCode(t, body) != tt.code || !strings.Contains(e.Message, tt.want) {
				t.Errorf("%s %s %s = %d %s; want %d error_code %d mentioning %q", tt.method, tt.path, tt.body, code, body, tt.status, tt.code, tt.want)
			}
		})
	}
	if _, body := httpGet(t, base, "/subjects/s/versions"); body != "[1]" {
		t.Errorf("versions after refused requests = %s, want [1]", body)
	}
}

// TestContractGoAPI: Go callers get the same normalization and checks as
// HTTP clients, and cannot store text the stores would not keep.
func TestContractGoAPI(t *testing.T) {
	ctx := context.Background()
	reg, err := registry.Open(ctx, registry.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	md := &wire.Metadata{Tags: map[string][]string{"f": {"b", "a", "b"}}, Sensitive: []string{"y", "x"}}
	rs := &wire.RuleSet{DomainRules: []wire.Rule{{Name: "r", Type: wire.RuleTypeCEL, Tags: []string{"T", "S"}}}}
	id, err := reg.Register(ctx, "s", registry.SchemaRequest{Schema: `"string"`, Metadata: md, RuleSet: rs}, registry.RegisterOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if md.Tags["f"][0] != "b" || rs.DomainRules[0].Kind != "" {
		t.Fatal("Register changed the caller's metadata or rule set")
	}
	rec, err := reg.SchemaByID(id, registry.IDOpts{})
	if err != nil {
		t.Fatal(err)
	}
	wantMD := &wire.Metadata{Tags: map[string][]string{"f": {"a", "b"}}, Sensitive: []string{"x", "y"}}
	wantRS := &wire.RuleSet{DomainRules: []wire.Rule{{Name: "r", Kind: wire.RuleKindTransform, Mode: wire.RuleModeWriteRead, Type: wire.RuleTypeCEL, Tags: []string{"S", "T"}}}}
	if !reflect.DeepEqual(rec.Metadata, wantMD) || !reflect.DeepEqual(rec.RuleSet, wantRS) {
		t.Fatalf("stored contract = %+v %+v, want %+v %+v", rec.Metadata, rec.RuleSet, wantMD, wantRS)
	}
	sv, err := reg.Lookup("s", registry.SchemaRequest{Schema: `"string"`, Metadata: wantMD, RuleSet: rs}, registry.LookupOpts{})
	if err != nil || sv.ID != id || !reflect.DeepEqual(sv.RuleSet, wantRS) {
		t.Fatalf("Lookup = %+v, %v", sv, err)
	}
	_, err = reg.Register(ctx, "s", registry.SchemaRequest{Schema: `"string"`, Metadata: &wire.Metadata{Properties: map[string]string{"k": "\xff"}}}, registry.RegisterOpts{})
	var e *registry.Error
	if !errors.As(err, &e) || e.Code != registry.CodeInvalidSchema || !strings.Contains(e.Message, "not valid UTF-8") {
		t.Fatalf("metadata with invalid UTF-8: %v; want 42201", err)
	}
	_, err = reg.Register(ctx, "s", registry.SchemaRequest{Schema: `"string"`, RuleSet: &wire.RuleSet{DomainRules: []wire.Rule{{Name: "r"}}}}, registry.RegisterOpts{})
	if !errors.As(err, &e) || e.Code != registry.CodeInvalidRuleSet {
		t.Fatalf("rule without type: %v; want 42210", err)
	}
	if _, err := reg.SetConfig(ctx, "s", registry.ConfigUpdate{OverrideRuleSet: &wire.RuleSet{MigrationRules: []wire.Rule{{Name: "m", Type: "X", Mode: wire.RuleModeWrite}}}}); !errors.As(err, &e) || e.Code != registry.CodeInvalidRuleSet {
		t.Fatalf("config with a WRITE migration rule: %v; want 42210", err)
	}
}

// TestContractImportKeepsContract: IMPORT stores a schema's contract as
// the source registry had it, with no inheritance and no config merge
// (Confluent skips maybePopulateFromPrevious in IMPORT mode), and keeps
// ids apart by contract.
func TestContractImportKeepsContract(t *testing.T) {
	base := registrytest.Serve(t)
	for _, w := range []struct{ method, path, body string }{
		{"PUT", "/config/imp", `{"overrideMetadata":{"properties":{"stamp":"x"}}}`},
		{"PUT", "/mode/imp?force=true", `{"mode":"IMPORT"}`},
		{"POST", "/subjects/imp/versions", `{"schema":"\"string\"","id":7,"version":1,"metadata":{"properties":{"major_version":"1"}}}`},
		{"POST", "/subjects/imp/versions", `{"schema":"\"string\"","id":8,"version":2}`},
	} {
		if code, _, body := call(t, w.method, base+w.path, w.body); code != 200 {
			t.Fatalf("%s %s = %d %s", w.method, w.path, code, body)
		}
	}
	for v, want := range map[int]string{1: `"metadata":{"properties":{"major_version":"1"}}`, 2: ""} {
		_, body := httpGet(t, base, fmt.Sprintf("/subjects/imp/versions/%d", v))
		if (want == "") == strings.Contains(body, "metadata") || !strings.Contains(body, want) {
			t.Errorf("IMPORTed version %d = %s, want %q", v, body, want)
		}
	}
	// Id 7 holds the schema with its metadata: importing it without is
	// another schema, which the id cannot name.
	code, _, body := call(t, "POST", base+"/subjects/imp/versions", `{"schema":"\"string\"","id":7,"version":3}`)
	if code != 422 || errorCode(t, body) != registry.CodeNotPermitted {
		t.Errorf("importing id 7 without its metadata = %d %s, want 42205", code, body)
	}
}

// quote is s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// serveHTTP serves h on loopback for the length of t.
func serveHTTP(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestKafkaStoreContracts loads data contracts from a topic Confluent
// wrote (testdata/kafka/confluent_contracts.txt), registers on top of
// them, checks the bytes of the records written against Confluent's
// format, and has a replica following the topic and a second store
// reading it from scratch answer every request the same.
func TestKafkaStoreContracts(t *testing.T) {
	b := brokertest.Start(t)
	produceFixtureFile(t, b.Addr(), "_schemas", "testdata/kafka/confluent_contracts.txt")
	store := openKafkaStore(t, b.Addr(), "_schemas")
	first := registrytest.ServeStore(t, store)
	if n := store.Skipped(); n != 0 {
		t.Fatalf("Skipped = %d, want 0", n)
	}
	loaded := []struct{ path, want string }{
		{"/config", `{"compatibilityLevel":"BACKWARD","defaultMetadata":{"properties":{"owner":"platform"}}}`},
		{"/config/orders-value", `{"validateFields":false,"compatibilityLevel":"BACKWARD","compatibilityGroup":"major_version",` +
			`"overrideRuleSet":{"domainRules":[{"name":"checkId","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id != ''","disabled":false}]}}`},
		{"/schemas/ids/1", `{"schema":` + quote(orderV1) + `,"schemaType":"AVRO",` +
			`"metadata":{"tags":{"contracts.Order.ssn":["PII"]},"properties":{"major_version":"1","owner":"platform"}},` +
			`"ruleSet":{"domainRules":[{"name":"checkId","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id != ''","disabled":false}]}}`},
		// encodingRules are dropped; the version is kept.
		{"/subjects/orders-value/versions/2", `{"subject":"orders-value","version":2,"id":2,"schemaType":"AVRO",` +
			`"metadata":{"properties":{"major_version":"2","owner":"platform"}},` +
			`"ruleSet":{"migrationRules":[{"name":"changeSsnToSocialSecurityNumber","kind":"TRANSFORM","mode":"UPGRADE","type":"JSONATA",` +
			`"expr":"$merge([$sift($, function($v, $k) {$k != 'ssn'}), {'socialSecurityNumber': $.'ssn'}])","disabled":false}],` +
			`"domainRules":[{"name":"checkId","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id != ''","disabled":false}]},` +
			`"schema":` + quote(orderV2) + `}`},
	}
	for _, l := range loaded {
		if code, body := httpGet(t, first, l.path); code != 200 || body != l.want {
			t.Errorf("GET %s = %d\n%s\nwant\n%s", l.path, code, body, l.want)
		}
	}

	// A replica following the topic sees what is written from here on.
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	fstore, err := registry.OpenKafkaStore(fctx, registry.KafkaBrokers(b.Addr()), registry.KafkaFollow(true))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fstore.Close() })
	follower := registrytest.ServeStore(t, fstore, registry.WithReadOnly(true))

	// On top: v2b inherits major 2 (so BACKWARD holds against v2 only), a
	// new subject gets the global default metadata, and a config with
	// every contract field is written.
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/subjects/orders-value/versions", `{"schema":` + quote(orderV2b) + `}`},
		{"PUT", "/config/s", `{"validateFields":true,"compatibilityGroup":"major_version","defaultMetadata":{"properties":{"team":"a"}},` +
			`"overrideMetadata":{"sensitive":["team"]},"defaultRuleSet":{"domainRules":[{"name":"d","type":"CEL","mode":"READ","expr":"a > b"}]},` +
			`"overrideRuleSet":{"migrationRules":[{"name":"m","type":"CONTRAIL_GO","mode":"UPDOWN","onFailure":"ERROR,NONE"}]}}`},
		{"POST", "/subjects/s/versions", `{"schema":"\"string\"","metadata":{"properties":{"major_version":"1"}},"ruleSet":{"domainRules":[{"name":"nonEmpty","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"size(message) > 0"}]}}`},
	} {
		if code, _, body := call(t, w.method, first+w.path, w.body); code != 200 {
			t.Fatalf("%s %s = %d %s", w.method, w.path, code, body)
		}
	}
	want := []string{
		`{"keytype":"SCHEMA","subject":"orders-value","version":3,"magic":1}	{"subject":"orders-value","version":3,"id":3,` +
			`"metadata":{"properties":{"major_version":"2","owner":"platform"}},` +
			`"ruleSet":{"migrationRules":[{"name":"changeSsnToSocialSecurityNumber","kind":"TRANSFORM","mode":"UPGRADE","type":"JSONATA",` +
			`"expr":"$merge([$sift($, function($v, $k) {$k != 'ssn'}), {'socialSecurityNumber': $.'ssn'}])","disabled":false}],` +
			`"domainRules":[{"name":"checkId","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id != ''","disabled":false}]},` +
			`"schema":` + quote(orderV2b) + `,"deleted":false}`,
		`{"keytype":"CONFIG","subject":"s","magic":0}	{"validateFields":true,"compatibilityGroup":"major_version",` +
			`"defaultMetadata":{"properties":{"team":"a"}},"overrideMetadata":{"sensitive":["team"]},` +
			`"defaultRuleSet":{"domainRules":[{"name":"d","kind":"TRANSFORM","mode":"READ","type":"CEL","expr":"a > b","disabled":false}]},` +
			`"overrideRuleSet":{"migrationRules":[{"name":"m","kind":"TRANSFORM","mode":"UPDOWN","type":"CONTRAIL_GO","onFailure":"ERROR,NONE","disabled":false}]}}`,
		`{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}	{"subject":"s","version":1,"id":4,` +
			`"metadata":{"properties":{"major_version":"1","team":"a"},"sensitive":["team"]},` +
			`"ruleSet":{"migrationRules":[{"name":"m","kind":"TRANSFORM","mode":"UPDOWN","type":"CONTRAIL_GO","onFailure":"ERROR,NONE","disabled":false}],` +
			`"domainRules":[{"name":"d","kind":"TRANSFORM","mode":"READ","type":"CEL","expr":"a > b","disabled":false},` +
			`{"name":"nonEmpty","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"size(message) > 0","disabled":false}]},` +
			`"schema":"\"string\"","deleted":false}`,
	}
	all := topicRecords(t, b.Addr(), "_schemas", 4+len(want)) // the fixture's, then ours
	if len(all) < len(want) {
		t.Fatalf("read %d records from the topic, want %d", len(all), 4+len(want))
	}
	if got := all[len(all)-len(want):]; !reflect.DeepEqual(got, want) {
		t.Errorf("records written:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	second := registrytest.ServeStore(t, openKafkaStore(t, b.Addr(), "_schemas"))
	waitFor(t, func() bool {
		st, _ := httpGet(t, follower, "/subjects/s/versions/1")
		return st == 200
	})
	for _, p := range []string{"/config", "/config/orders-value", "/config/s", "/config/s?defaultToGlobal=true", "/schemas",
		"/schemas/ids/1", "/schemas/ids/2", "/schemas/ids/3", "/schemas/ids/4", "/subjects/s/versions/1"} {
		s1, b1 := httpGet(t, first, p)
		for name, reader := range map[string]string{"a store loading the topic": second, "a following replica": follower} {
			s2, b2 := httpGet(t, reader, p)
			if s1 != 200 || s1 != s2 || b1 != b2 {
				t.Errorf("GET %s: writer %d %s, %s %d %s", p, s1, b1, name, s2, b2)
			}
		}
	}
}

// topicRecords reads the first n records of topic on addr as key, tab,
// value ("null" for a tombstone).
func topicRecords(t *testing.T, addr, topic string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []string
	for len(out) < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			v := "null"
			if r.Value != nil {
				v = string(r.Value)
			}
			out = append(out, string(r.Key)+"\t"+v)
		})
	}
	return out
}

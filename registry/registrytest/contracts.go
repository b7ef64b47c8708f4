package registrytest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
)

// Data contracts (Confluent Platform 7.4 and later): schema metadata and
// rule sets, the config's defaults and overrides for them, and
// compatibility groups. The request bodies are the examples of Confluent's
// "Data Contracts for Schema Registry" page; the answers are checked byte
// for byte against what Confluent writes (Jackson, NON_EMPTY: the fields of
// Metadata and Rule in constructor order, tags and params sorted, every
// rule with "disabled", a rule without kind a TRANSFORM and without mode
// WRITEREAD).

// DataContracts runs (true, the default) or skips the DataContracts cases,
// for registries without data contracts (Confluent Community, Redpanda).
func DataContracts(on bool) Opt { return optFunc(func(s *suite) { s.skipContracts = !on }) }

// customerSchema is the record the Confluent page's rules talk about.
func customerSchema(name string, fields ...string) string {
	return record(name, append([]string{`{"name":"name","type":"string"}`, `{"name":"ssn","type":"string"}`}, fields...)...)
}

// The examples of Confluent's data-contracts page: metadata tagging the
// ssn field PII with owner properties, the checkSsnLen CEL condition that
// dead-letters a bad record, the JSONata migration rules between a major
// version that calls the field ssn and one that calls it
// socialSecurityNumber, and the field-level encryption rule.
const (
	docMetadata = `{"tags":{"**.ssn":["PII"]},"properties":{"owner":"Bob Jones","email":"bob@acme.com"}}`
	// docMetadataOut is docMetadata as Confluent answers it (sorted maps).
	docMetadataOut = `{"tags":{"**.ssn":["PII"]},"properties":{"email":"bob@acme.com","owner":"Bob Jones"}}`

	docDomainRules = `{"domainRules":[{"name":"checkSsnLen","kind":"CONDITION","type":"CEL","mode":"WRITE",` +
		`"expr":"size(message.ssn) == 9","params":{"dlq.topic":"bad-data"},"onFailure":"DLQ"}]}`
	docDomainRulesOut = `{"domainRules":[{"name":"checkSsnLen","kind":"CONDITION","mode":"WRITE","type":"CEL",` +
		`"params":{"dlq.topic":"bad-data"},"expr":"size(message.ssn) == 9","onFailure":"DLQ","disabled":false}]}`

	docMigrationRules = `{"migrationRules":[` +
		`{"name":"changeSsnToSocialSecurityNumber","kind":"TRANSFORM","type":"JSONATA","mode":"UPGRADE",` +
		`"expr":"$merge([$sift($, function($v, $k) {$k != 'ssn'}), {'socialSecurityNumber': $.'ssn'}])"},` +
		`{"name":"changeSocialSecurityNumberToSsn","kind":"TRANSFORM","type":"JSONATA","mode":"DOWNGRADE",` +
		`"expr":"$merge([$sift($, function($v, $k) {$k != 'socialSecurityNumber'}), {'ssn': $.'socialSecurityNumber'}])"}]}`
	docMigrationRulesOut = `{"migrationRules":[` +
		`{"name":"changeSsnToSocialSecurityNumber","kind":"TRANSFORM","mode":"UPGRADE","type":"JSONATA",` +
		`"expr":"$merge([$sift($, function($v, $k) {$k != 'ssn'}), {'socialSecurityNumber': $.'ssn'}])","disabled":false},` +
		`{"name":"changeSocialSecurityNumberToSsn","kind":"TRANSFORM","mode":"DOWNGRADE","type":"JSONATA",` +
		`"expr":"$merge([$sift($, function($v, $k) {$k != 'socialSecurityNumber'}), {'ssn': $.'socialSecurityNumber'}])","disabled":false}]}`

	// docEncryptRules is the page's field-level encryption rule: tags,
	// params and a pair of actions, one per direction of a WRITEREAD rule
	// (its kind and mode are left to their defaults here).
	docEncryptRules = `{"domainRules":[{"name":"encryptPII","type":"ENCRYPT","tags":["PII"],` +
		`"params":{"encrypt.kek.name":"kek1","encrypt.kms.type":"local-kms","encrypt.kms.key.id":"mykey"},"onFailure":"ERROR,NONE"}]}`
	docEncryptRulesOut = `{"domainRules":[{"name":"encryptPII","kind":"TRANSFORM","mode":"WRITEREAD","type":"ENCRYPT","tags":["PII"],` +
		`"params":{"encrypt.kek.name":"kek1","encrypt.kms.key.id":"mykey","encrypt.kms.type":"local-kms"},"onFailure":"ERROR,NONE","disabled":false}]}`
)

// contractBody is a schema request with metadata and rule set given as
// JSON text ("" leaves one out).
func contractBody(schema, metadata, ruleSet string) string {
	b, _ := json.Marshal(schema)
	out := `{"schemaType":"AVRO","schema":` + string(b)
	if metadata != "" {
		out += `,"metadata":` + metadata
	}
	if ruleSet != "" {
		out += `,"ruleSet":` + ruleSet
	}
	return out + "}"
}

// contractOf is an answer's id, version and schema, and its metadata and
// ruleSet as the bytes sent ("" when absent).
type contractOf struct {
	ID, Version       int
	Metadata, RuleSet string
	Schema            string
}

func (s *suite) contract(t *testing.T, method, path, body string) contractOf {
	t.Helper()
	r := s.do(t, method, path, body)
	if r.status != 200 {
		t.Fatalf("%s %s %s: want HTTP 200, got %s", method, path, body, r)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
	}
	var c contractOf
	json.Unmarshal(raw["id"], &c.ID)
	json.Unmarshal(raw["version"], &c.Version)
	json.Unmarshal(raw["schema"], &c.Schema)
	c.Metadata, c.RuleSet = string(raw["metadata"]), string(raw["ruleSet"])
	return c
}

func (s *suite) registerContract(t *testing.T, subject, body string) contractOf {
	t.Helper()
	return s.contract(t, "POST", "/subjects/"+url.PathEscape(subject)+"/versions", body)
}

func (s *suite) dataContracts(t *testing.T) {
	if s.skipContracts {
		t.Skip("data contracts skipped (registrytest.DataContracts(false))")
	}
	t.Run("RoundTrip", s.contractsRoundTrip)
	t.Run("Identity", s.contractsIdentity)
	t.Run("Inheritance", s.contractsInheritance)
	t.Run("ConfigDefaultsAndOverrides", s.contractsConfig)
	t.Run("CompatibilityGroup", s.contractsGroup)
	t.Run("InvalidRuleSet", s.contractsInvalid)
}

// contractsRoundTrip: the page's examples come back from every read
// exactly as Confluent writes them, and the raw schema stays raw.
func (s *suite) contractsRoundTrip(t *testing.T) {
	subj := "conformance-contract-roundtrip"
	schema := customerSchema("ContractCustomer")
	got := s.registerContract(t, subj, contractBody(schema, docMetadata, docDomainRules))
	want := contractOf{ID: got.ID, Version: 1, Metadata: docMetadataOut, RuleSet: docDomainRulesOut, Schema: schema}
	if got != want {
		t.Fatalf("register answer = %+v\nwant %+v", got, want)
	}
	for _, read := range []struct{ method, path, body string }{
		{"GET", "/subjects/" + subj + "/versions/1", ""},
		{"GET", "/subjects/" + subj + "/versions/latest", ""},
		{"GET", fmt.Sprintf("/schemas/ids/%d", got.ID), ""},
		{"GET", fmt.Sprintf("/schemas/ids/%d?fetchMaxId=true", got.ID), ""},
		// Lookup with the contract as sent, and without any: the second
		// look-up takes the latest version's (lookUpSchemaUnderSubject).
		{"POST", "/subjects/" + subj, contractBody(schema, docMetadata, docDomainRules)},
		{"POST", "/subjects/" + subj, contractBody(schema, "", "")},
	} {
		c := s.contract(t, read.method, read.path, read.body)
		if c.Metadata != docMetadataOut || c.RuleSet != docDomainRulesOut || c.Schema != schema {
			t.Errorf("%s %s = metadata %s ruleSet %s schema %s\nwant %s %s %s", read.method, read.path, c.Metadata, c.RuleSet, c.Schema,
				docMetadataOut, docDomainRulesOut, schema)
		}
	}
	var all []json.RawMessage
	s.ok(t, "GET", "/schemas?subjectPrefix="+subj, nil, &all)
	if len(all) != 1 || !containsRaw(all[0], "ruleSet", docDomainRulesOut) || !containsRaw(all[0], "metadata", docMetadataOut) {
		t.Errorf("GET /schemas?subjectPrefix=%s = %s, want the version with its contract", subj, all)
	}
	if r := s.ok(t, "GET", "/subjects/"+subj+"/versions/1/schema", nil, nil); string(r.body) != schema {
		t.Errorf("GET .../versions/1/schema = %s, want the raw schema", r.body)
	}
	if r := s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d/schema", got.ID), nil, nil); string(r.body) != schema {
		t.Errorf("GET /schemas/ids/%d/schema = %s, want the raw schema", got.ID, r.body)
	}
	// The migration rules and the encryption rule of the page, on other
	// subjects; a rule without kind or mode is answered with the defaults.
	for i, tc := range []struct{ rules, out string }{
		{docMigrationRules, docMigrationRulesOut},
		{docEncryptRules, docEncryptRulesOut},
	} {
		sub := fmt.Sprintf("%s-%d", subj, i)
		c := s.registerContract(t, sub, contractBody(schema, "", tc.rules))
		if c.RuleSet != tc.out {
			t.Errorf("ruleSet %s\nanswered %s\nwant     %s", tc.rules, c.RuleSet, tc.out)
		}
		if c := s.contract(t, "GET", fmt.Sprintf("/schemas/ids/%d", c.ID), ""); c.RuleSet != tc.out {
			t.Errorf("GET /schemas/ids: ruleSet %s, want %s", c.RuleSet, tc.out)
		}
	}
	// Jackson reads a number or boolean property as its text, so the
	// {"major_version": 1} of Confluent's migration demos is "1".
	c := s.registerContract(t, subj+"-numbers", contractBody(schema, `{"properties":{"major_version":1,"beta":true}}`, ""))
	if c.Metadata != `{"properties":{"beta":"true","major_version":"1"}}` {
		t.Errorf("metadata with a number and a boolean answered %s", c.Metadata)
	}
}

// containsRaw reports whether the JSON object obj has field name with
// exactly the bytes want.
func containsRaw(obj json.RawMessage, name, want string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(obj, &m) == nil && string(m[name]) == want
}

// contractsIdentity: Confluent hashes the schema, its references, its
// metadata and its rule set (Schema.updateHash), so the same text with
// another contract is another schema with another ID, while the same
// schema and contract under another subject keeps its ID.
func (s *suite) contractsIdentity(t *testing.T) {
	subj := "conformance-contract-identity"
	schema := customerSchema("ContractIdentity")
	plain := s.registerContract(t, subj, contractBody(schema, "", ""))
	tagged := s.registerContract(t, subj, contractBody(schema, docMetadata, ""))
	if tagged.ID == plain.ID || tagged.Version != 2 {
		t.Fatalf("same text with metadata: id %d version %d, want a new id (not %d) and version 2", tagged.ID, tagged.Version, plain.ID)
	}
	ruled := s.registerContract(t, subj, contractBody(schema, docMetadata, docDomainRules))
	if ruled.ID == tagged.ID || ruled.ID == plain.ID || ruled.Version != 3 {
		t.Fatalf("same text with a rule set: id %d version %d, want a new id and version 3", ruled.ID, ruled.Version)
	}
	// Key order, whitespace, tag order and duplicates do not count.
	again := s.registerContract(t, subj, contractBody(schema,
		`{"properties":{"email":"bob@acme.com","owner":"Bob Jones"}, "tags":{"**.ssn":["PII","PII"]}}`, docDomainRules))
	if again.ID != ruled.ID || again.Version != 3 {
		t.Fatalf("re-registering the same contract: id %d version %d, want id %d version 3", again.ID, again.Version, ruled.ID)
	}
	other := s.registerContract(t, subj+"-other", contractBody(schema, docMetadata, docDomainRules))
	if other.ID != ruled.ID {
		t.Fatalf("same schema and contract under another subject: id %d, want %d", other.ID, ruled.ID)
	}
	other = s.registerContract(t, subj+"-other2", contractBody(schema, docMetadata, ""))
	if other.ID != tagged.ID {
		t.Fatalf("same schema and metadata under another subject: id %d, want %d", other.ID, tagged.ID)
	}
	// Empty metadata is metadata: it replaces the inherited one and makes
	// another schema.
	empty := s.registerContract(t, subj, contractBody(schema, `{}`, docDomainRules))
	if empty.ID == ruled.ID || empty.Version != 4 || empty.Metadata != `{}` {
		t.Fatalf("empty metadata: %+v, want a new id, version 4 and metadata {}", empty)
	}
	var versions []int
	s.ok(t, "GET", "/subjects/"+subj+"/versions", nil, &versions)
	if len(versions) != 4 {
		t.Fatalf("versions = %v, want 4", versions)
	}
}

// contractsInheritance: a registration without metadata or rule set
// takes the latest version's, each on its own (maybeSetMetadataRuleSet),
// and so re-registering a schema without them finds its version.
func (s *suite) contractsInheritance(t *testing.T) {
	subj := "conformance-contract-inherit"
	v1 := customerSchema("ContractInherit")
	v1c := s.registerContract(t, subj, contractBody(v1, docMetadata, docDomainRules))
	if again := s.registerContract(t, subj, contractBody(v1, "", "")); again.ID != v1c.ID || again.Version != 1 {
		t.Fatalf("re-register without contract = id %d version %d, want id %d version 1", again.ID, again.Version, v1c.ID)
	}
	v2 := customerSchema("ContractInherit", fNote)
	v2c := s.registerContract(t, subj, contractBody(v2, "", ""))
	if v2c.Version != 2 || v2c.Metadata != docMetadataOut || v2c.RuleSet != docDomainRulesOut {
		t.Fatalf("v2 without contract = %+v, want version 2 with v1's metadata and rule set", v2c)
	}
	got := s.contract(t, "GET", "/subjects/"+subj+"/versions/2", "")
	if got.Metadata != docMetadataOut || got.RuleSet != docDomainRulesOut {
		t.Fatalf("GET version 2 = %+v, want the inherited contract", got)
	}
	// A new rule set alone keeps the inherited metadata.
	v3 := customerSchema("ContractInherit", fNote, `{"name":"extra","type":["null","long"],"default":null}`)
	v3c := s.registerContract(t, subj, contractBody(v3, "", docEncryptRules))
	if v3c.Version != 3 || v3c.Metadata != docMetadataOut || v3c.RuleSet != docEncryptRulesOut {
		t.Fatalf("v3 with a rule set only = %+v, want version 3 with v2's metadata and the new rule set", v3c)
	}
}

// contractsConfig: the config's defaultMetadata/defaultRuleSet go under
// and overrideMetadata/overrideRuleSet over what a registration sends
// (mergeMetadata: key by key; mergeRuleSets: rule by name), and the config
// answers them as Confluent's Config does.
func (s *suite) contractsConfig(t *testing.T) {
	subj := "conformance-contract-config"
	put := `{"compatibility":"BACKWARD","compatibilityGroup":"major_version",` +
		`"defaultMetadata":{"properties":{"owner":"team-a","tier":"gold"}},` +
		`"overrideMetadata":{"properties":{"tier":"platinum"},"sensitive":["secret"]},` +
		`"defaultRuleSet":{"domainRules":[{"name":"checkName","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.name != ''"}]},` +
		`"overrideRuleSet":{"domainRules":[{"name":"checkSsnLen","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"size(message.ssn) == 9"}]}}`
	r := s.ok(t, "PUT", "/config/"+subj, put, nil)
	wantPut := `{"compatibility":"BACKWARD","compatibilityGroup":"major_version",` +
		`"defaultMetadata":{"properties":{"owner":"team-a","tier":"gold"}},` +
		`"overrideMetadata":{"properties":{"tier":"platinum"},"sensitive":["secret"]},` +
		`"defaultRuleSet":{"domainRules":[{"name":"checkName","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.name != ''","disabled":false}]},` +
		`"overrideRuleSet":{"domainRules":[{"name":"checkSsnLen","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"size(message.ssn) == 9","disabled":false}]}}`
	if string(r.body) != wantPut {
		t.Errorf("PUT /config/%s answered\n%s\nwant\n%s", subj, r.body, wantPut)
	}
	r = s.ok(t, "GET", "/config/"+subj, nil, nil)
	if want := `{"compatibilityLevel"` + wantPut[len(`{"compatibility"`):]; string(r.body) != want {
		t.Errorf("GET /config/%s =\n%s\nwant\n%s", subj, r.body, want)
	}
	// The request's checkName replaces the default's; the override's
	// checkSsnLen comes last; tier is the override's whatever was sent.
	sent := contractBody(customerSchema("ContractConfig"),
		`{"properties":{"owner":"bob","tier":"bronze","major_version":"1"}}`,
		`{"domainRules":[{"name":"checkName","kind":"CONDITION","mode":"WRITEREAD","type":"CEL","expr":"size(message.name) > 0"}]}`)
	got := s.registerContract(t, subj, sent)
	wantMD := `{"properties":{"major_version":"1","owner":"bob","tier":"platinum"},"sensitive":["secret"]}`
	wantRS := `{"domainRules":[{"name":"checkName","kind":"CONDITION","mode":"WRITEREAD","type":"CEL","expr":"size(message.name) > 0","disabled":false},` +
		`{"name":"checkSsnLen","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"size(message.ssn) == 9","disabled":false}]}`
	if got.Metadata != wantMD || got.RuleSet != wantRS {
		t.Fatalf("registered with config defaults and overrides:\nmetadata %s\nruleSet  %s\nwant\nmetadata %s\nruleSet  %s", got.Metadata, got.RuleSet, wantMD, wantRS)
	}
	// Re-registering what was sent finds that version: the same merge
	// gives the same contract.
	if again := s.registerContract(t, subj, sent); again.ID != got.ID || again.Version != 1 {
		t.Fatalf("re-registering under defaults and overrides = id %d version %d, want id %d version 1", again.ID, again.Version, got.ID)
	}
	// Without a contract the defaults apply (under the overrides).
	bare := s.registerContract(t, subj, contractBody(customerSchema("ContractConfig", fNote), "", ""))
	if bare.Version != 2 || bare.Metadata != wantMD || bare.RuleSet != wantRS {
		t.Fatalf("a registration without contract = %+v, want version 2 inheriting version 1's contract", bare)
	}
	// Another subject without a config stores nothing it was not sent.
	other := s.registerContract(t, subj+"-bare", contractBody(customerSchema("ContractBare"), "", ""))
	if other.Metadata != "" || other.RuleSet != "" {
		t.Fatalf("a subject without config stores %+v, want no contract", other)
	}
	// null removes a setting; the rest stays.
	r = s.ok(t, "PUT", "/config/"+subj, `{"defaultMetadata":null,"defaultRuleSet":null,"overrideRuleSet":null}`, nil)
	want := `{"compatibility":"BACKWARD","compatibilityGroup":"major_version","overrideMetadata":{"properties":{"tier":"platinum"},"sensitive":["secret"]}}`
	if string(r.body) != want {
		t.Errorf("PUT nulls answered %s, want %s", r.body, want)
	}
	s.ok(t, "DELETE", "/config/"+subj, nil, nil)
}

// contractsGroup: with compatibilityGroup set, a registration or a check
// is compared only with versions whose metadata has its value of the
// group property (isCompatibleWithPrevious), so a breaking change passes
// as a new major and fails inside one.
func (s *suite) contractsGroup(t *testing.T) {
	subj := "conformance-contract-group"
	s.ok(t, "PUT", "/config/"+subj, `{"compatibility":"BACKWARD","compatibilityGroup":"major_version"}`, nil)
	var cfg map[string]any
	s.ok(t, "GET", "/config/"+subj, nil, &cfg)
	if cfg["compatibilityGroup"] != "major_version" {
		t.Fatalf("GET /config/%s = %v, want compatibilityGroup major_version", subj, cfg)
	}
	major1 := `{"properties":{"major_version":"1"}}`
	major2 := `{"properties":{"major_version":"2"}}`
	v1 := record("ContractGroup", fID, fQty)
	breaking := record("ContractGroup", fID, fCount) // qty removed, count (no default) added
	s.registerContract(t, subj, contractBody(v1, major1, ""))
	r := s.do(t, "POST", "/subjects/"+subj+"/versions", contractBody(breaking, major1, ""))
	checkError(t, "breaking change inside major 1", r, 409, s.incompatible)
	v2 := s.registerContract(t, subj, contractBody(breaking, major2, docMigrationRules))
	if v2.Version != 2 {
		t.Fatalf("breaking change as major 2 = %+v, want version 2", v2)
	}
	// Without metadata a registration inherits major 2, and is checked
	// against major 2 only.
	v3 := s.registerContract(t, subj, contractBody(record("ContractGroup", fID, fCount, fNote), "", ""))
	if v3.Version != 3 || v3.Metadata != major2 {
		t.Fatalf("compatible change without metadata = %+v, want version 3 in major 2", v3)
	}
	r = s.do(t, "POST", "/subjects/"+subj+"/versions", contractBody(v1, "", ""))
	checkError(t, "major 1's schema inheriting major 2", r, 409, s.incompatible)
	check := func(path, body string, want bool) {
		t.Helper()
		var got struct {
			IsCompatible *bool `json:"is_compatible"`
		}
		s.ok(t, "POST", path, body, &got)
		if got.IsCompatible == nil || *got.IsCompatible != want {
			t.Errorf("POST %s %s: is_compatible %v, want %v", path, body, got.IsCompatible, want)
		}
	}
	all := "/compatibility/subjects/" + subj + "/versions"
	check(all, contractBody(record("ContractGroup", fID, fQty, fNote), major1, ""), true)
	check(all, contractBody(breaking, major1, ""), false)
	check(all, contractBody(v1, major2, ""), false)
	check(all, contractBody(v1, `{"properties":{"major_version":"3"}}`, ""), true)
	// The latest version is in major 2: a major-1 check against it has
	// nothing to compare with.
	check(all+"/latest", contractBody(record("ContractGroup", fID), major1, ""), true)
	check(all+"/1", contractBody(breaking, major1, ""), false)
	// GET /subjects/{s}/metadata finds the latest version of a major, as
	// serializers with use.latest.with.metadata ask (getLatestWithMetadata).
	for value, version := range map[string]int{"1": 1, "2": 3} {
		c := s.contract(t, "GET", "/subjects/"+subj+"/metadata?key=major_version&value="+value, "")
		if c.Version != version || c.Metadata != `{"properties":{"major_version":"`+value+`"}}` {
			t.Errorf("latest version of major %s = %+v, want version %d", value, c, version)
		}
	}
	s.fails(t, "GET", "/subjects/"+subj+"/metadata?key=major_version&value=9", nil, 404, 40403)
	s.fails(t, "GET", "/subjects/conformance-no-such-subject/metadata?key=major_version&value=1", nil, 404, 40401)
	s.ok(t, "DELETE", "/config/"+subj, nil, nil)
}

// contractsInvalid: a rule set that RuleSet.validate refuses is answered
// 422 with Confluent's INVALID_RULESET_ERROR_CODE, 42210, on
// registration and on config updates alike, and nothing is stored.
func (s *suite) contractsInvalid(t *testing.T) {
	subj := "conformance-contract-invalid"
	schema := customerSchema("ContractInvalid")
	for _, tc := range []struct{ name, rules string }{
		{"duplicate names", `{"domainRules":[{"name":"a","type":"CEL","mode":"WRITE"},{"name":"a","type":"CEL","mode":"READ"}]}`},
		{"duplicate across lists", `{"migrationRules":[{"name":"a","type":"JSONATA","mode":"UPGRADE"}],"domainRules":[{"name":"a","type":"CEL","mode":"WRITE"}]}`},
		{"name starting with a digit", `{"domainRules":[{"name":"1a","type":"CEL","mode":"WRITE"}]}`},
		{"name with a space", `{"domainRules":[{"name":"a b","type":"CEL","mode":"WRITE"}]}`},
		{"name over 64", `{"domainRules":[{"name":"a234567890123456789012345678901234567890123456789012345678901234x","type":"CEL","mode":"WRITE"}]}`},
		{"missing name", `{"domainRules":[{"type":"CEL","mode":"WRITE"}]}`},
		{"missing type", `{"domainRules":[{"name":"a","mode":"WRITE"}]}`},
		{"migration rule in WRITE mode", `{"migrationRules":[{"name":"a","type":"JSONATA","mode":"WRITE"}]}`},
		{"migration rule without mode (WRITEREAD)", `{"migrationRules":[{"name":"a","type":"JSONATA"}]}`},
		{"domain rule in UPGRADE mode", `{"domainRules":[{"name":"a","type":"CEL","mode":"UPGRADE"}]}`},
		{"action pair on a WRITE rule", `{"domainRules":[{"name":"a","type":"CEL","mode":"WRITE","onFailure":"ERROR,NONE"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.fails(t, "POST", "/subjects/"+subj+"/versions", contractBody(schema, "", tc.rules), 422, 42210)
			s.fails(t, "PUT", "/config/"+subj, `{"defaultRuleSet":`+tc.rules+`}`, 422, 42210)
			s.fails(t, "PUT", "/config/"+subj, `{"overrideRuleSet":`+tc.rules+`}`, 422, 42210)
		})
	}
	s.fails(t, "GET", "/subjects/"+subj+"/versions", nil, 404, 40401)
	s.fails(t, "GET", "/config/"+subj, nil, 404, 40408)
}

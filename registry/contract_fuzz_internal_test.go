package registry

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzContractJSON feeds arbitrary request bodies to the data-contract
// parser (SchemaRequest.UnmarshalJSON, parseMetadata, parseRuleSet) and
// checks what it accepts: the checks never panic, normalizing is
// idempotent, what the registry answers for a contract parses back to the
// same identity, and merging a contract with itself changes nothing.
func FuzzContractJSON(f *testing.F) {
	for _, s := range []string{
		`{"schema":"\"string\"","metadata":{"tags":{"**.ssn":["PII"]},"properties":{"owner":"Bob Jones","email":"bob@acme.com"}}}`,
		`{"schema":"\"string\"","ruleSet":{"domainRules":[{"name":"checkSsnLen","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"size(message.ssn) == 9","params":{"dlq.topic":"bad-data"},"onFailure":"DLQ"}]}}`,
		`{"schema":"\"string\"","ruleSet":{"migrationRules":[{"name":"up","kind":"TRANSFORM","type":"JSONATA","mode":"UPGRADE","expr":"$"},{"name":"down","mode":"DOWNGRADE","type":"JSONATA"}]}}`,
		`{"schema":"\"string\"","metadata":{"properties":{"major_version":1,"beta":true,"big":1e400}},"ruleSet":{"domainRules":[{"name":"e","type":"ENCRYPT","tags":["PII","PII"],"onFailure":"ERROR,NONE","disabled":"true"}]}}`,
		`{"schema":"\"string\"","metadata":{},"ruleSet":{}}`,
		`{"schema":"\"string\"","metadata":null,"ruleSet":{"domainRules":null,"encodingRules":[]}}`,
		`{"schema":"\"string\"","metadata":{"tags":{"a":[]},"sensitive":["b","a","b"]}}`,
		`{"schema":"\"string\"","ruleSet":{"domainRules":[{"name":"a","kind":"VALIDATE"}],"encodingRules":[{"name":"x"}]}}`,
		`{"metadata":{"properties":{"a":null}}}`, `{"ruleSet":{"domainRules":[null]}}`, `{"metadata":[]}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req SchemaRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		for _, where := range []string{"ruleSet", "defaultRuleSet"} {
			_ = checkRuleKinds(where, req.RuleSet)
			_ = checkRuleSet(where, req.RuleSet)
		}
		_, _ = contractText(req.Metadata, req.RuleSet)
		c := req.contract()
		if again := (contract{normMetadata(c.md), normRuleSet(c.rs)}); !reflect.DeepEqual(again, c) || again.key() != c.key() {
			t.Fatalf("normalizing twice changed %+v into %+v", c, again)
		}
		if (c.md == nil) != (req.Metadata == nil) || (c.rs == nil) != (req.RuleSet == nil) {
			t.Fatalf("normalizing turned absent into present or back: %+v from %+v %+v", c, req.Metadata, req.RuleSet)
		}
		// What the registry answers (SubjectVersion's JSON) reads back as
		// the same contract.
		out, err := SubjectVersion{Schema: `"string"`, Metadata: c.md, RuleSet: c.rs}.MarshalJSON()
		if err != nil {
			t.Fatalf("encode %+v: %v", c, err)
		}
		var back SchemaRequest
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("the answer %s does not parse back: %v", out, err)
		}
		if got := back.contract().key(); got != c.key() {
			t.Fatalf("answer %s parses back to key %q, want %q", out, got, c.key())
		}
		if checkRuleSet("ruleSet", req.RuleSet) == nil {
			if err := checkRuleSet("ruleSet", c.rs); err != nil {
				t.Fatalf("valid rule set %+v fails once normalized: %v", req.RuleSet, err)
			}
			merged := contract{mergeMetadata(c.md, c.md), mergeRuleSets(c.rs, c.rs)}
			if merged.key() != c.key() {
				t.Fatalf("merging %+v with itself gave %+v", c, merged)
			}
		}
		if got := (contract{mergeMetadata(nil, c.md), mergeRuleSets(c.rs, nil)}); got.key() != c.key() {
			t.Fatalf("merging with nothing changed %+v into %+v", c, got)
		}
	})
}

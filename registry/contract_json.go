package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/contrail-events/contrail/wire"
)

// The JSON of metadata and rule sets in requests, read the way Confluent's
// Jackson mapper reads them: unknown fields are ignored, a JSON null is an
// absent field, and a number or boolean where a string is expected is
// taken as its text ({"major_version": 1} is the property "1"), so a body
// Confluent accepts is accepted here. Errors name the field; the server
// answers them with 400, except encodingRules (42210).

// parseMetadata decodes raw, the JSON of the field where ("metadata",
// "defaultMetadata"); absent or null is nil.
func parseMetadata(raw json.RawMessage, where string) (*wire.Metadata, error) {
	if isNull(raw) {
		return nil, nil
	}
	obj, err := parseObject(raw, where, `{"tags": {...}, "properties": {...}, "sensitive": [...]}`)
	if err != nil {
		return nil, err
	}
	m := &wire.Metadata{}
	if raw := obj["tags"]; !isNull(raw) {
		tags, err := parseObject(raw, where+".tags", `{"<field path>": ["<tag>", ...]}`)
		if err != nil {
			return nil, err
		}
		m.Tags = make(map[string][]string, len(tags))
		for _, k := range sortedRawKeys(tags) {
			if isNull(tags[k]) {
				return nil, fmt.Errorf("%s.tags[%q] is null, not a list of tags such as [\"PII\"]", where, k)
			}
			list, err := parseStrings(tags[k], fmt.Sprintf("%s.tags[%q]", where, k))
			if err != nil {
				return nil, err
			}
			m.Tags[k] = list
		}
	}
	if raw := obj["properties"]; !isNull(raw) {
		props, err := parseStringMap(raw, where+".properties")
		if err != nil {
			return nil, err
		}
		m.Properties = props
	}
	if raw := obj["sensitive"]; !isNull(raw) {
		list, err := parseStrings(raw, where+".sensitive")
		if err != nil {
			return nil, err
		}
		m.Sensitive = list
	}
	return m, nil
}

// parseRuleSet decodes raw, the JSON of the field where ("ruleSet",
// "defaultRuleSet"); absent or null is nil. Kinds and modes are not
// checked here (see checkRuleKinds).
func parseRuleSet(raw json.RawMessage, where string) (*wire.RuleSet, error) {
	if isNull(raw) {
		return nil, nil
	}
	obj, err := parseObject(raw, where, `{"migrationRules": [...], "domainRules": [...]}`)
	if err != nil {
		return nil, err
	}
	if raw := obj["encodingRules"]; !isNull(raw) {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil || len(list) > 0 {
			return nil, errRuleSet(where, "encodingRules are not supported by this registry; send migrationRules and domainRules only.")
		}
	}
	rs := &wire.RuleSet{}
	for _, l := range []struct {
		name string
		into *[]wire.Rule
	}{{"migrationRules", &rs.MigrationRules}, {"domainRules", &rs.DomainRules}} {
		raw := obj[l.name]
		if isNull(raw) {
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("%s.%s: want a list of rules, got %s", where, l.name, kindOf(raw))
		}
		for i, r := range list {
			at := fmt.Sprintf("%s.%s[%d]", where, l.name, i)
			if isNull(r) {
				return nil, fmt.Errorf("%s is null, not a rule {\"name\", \"kind\", \"mode\", \"type\", ...}", at)
			}
			rule, err := parseRule(r, at)
			if err != nil {
				return nil, err
			}
			*l.into = append(*l.into, rule)
		}
	}
	return rs, nil
}

// parseRule decodes one rule object.
func parseRule(raw json.RawMessage, where string) (wire.Rule, error) {
	var r wire.Rule
	obj, err := parseObject(raw, where, `{"name", "kind", "mode", "type", "expr", ...}`)
	if err != nil {
		return r, err
	}
	kind, mode := string(r.Kind), string(r.Mode)
	for _, f := range []struct {
		name string
		into *string
	}{
		{"name", &r.Name}, {"doc", &r.Doc}, {"kind", &kind}, {"mode", &mode}, {"type", &r.Type},
		{"expr", &r.Expr}, {"onSuccess", &r.OnSuccess}, {"onFailure", &r.OnFailure},
	} {
		if raw := obj[f.name]; !isNull(raw) {
			s, err := parseScalar(raw, where+"."+f.name)
			if err != nil {
				return r, err
			}
			*f.into = s
		}
	}
	r.Kind, r.Mode = wire.RuleKind(kind), wire.RuleMode(mode)
	if raw := obj["tags"]; !isNull(raw) {
		if r.Tags, err = parseStrings(raw, where+".tags"); err != nil {
			return r, err
		}
	}
	if raw := obj["params"]; !isNull(raw) {
		if r.Params, err = parseStringMap(raw, where+".params"); err != nil {
			return r, err
		}
	}
	if raw := obj["disabled"]; !isNull(raw) {
		switch s := string(bytes.TrimSpace(raw)); s {
		case "true", `"true"`:
			r.Disabled = true
		case "false", `"false"`:
		default:
			return r, fmt.Errorf("%s.disabled: want true or false, got %s", where, kindOf(raw))
		}
	}
	return r, nil
}

// parseObject decodes raw as a JSON object; hint is the shape wanted.
func parseObject(raw json.RawMessage, where, hint string) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%s: want an object %s, got %s", where, hint, kindOf(raw))
	}
	return obj, nil
}

// parseStrings decodes a list of scalars; null elements are refused, as
// Confluent cannot hash them.
func parseStrings(raw json.RawMessage, where string) ([]string, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%s: want a list of strings, got %s", where, kindOf(raw))
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		if isNull(e) {
			return nil, fmt.Errorf("%s[%d] is null, not a string", where, i)
		}
		s, err := parseScalar(e, fmt.Sprintf("%s[%d]", where, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// parseStringMap decodes an object of scalars; null values are refused.
func parseStringMap(raw json.RawMessage, where string) (map[string]string, error) {
	obj, err := parseObject(raw, where, `{"<key>": "<value>", ...}`)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(obj))
	for _, k := range sortedRawKeys(obj) {
		if isNull(obj[k]) {
			return nil, fmt.Errorf("%s[%q] is null, not a string", where, k)
		}
		s, err := parseScalar(obj[k], fmt.Sprintf("%s[%q]", where, k))
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// parseScalar reads a JSON string, or a number or boolean as its text.
func parseScalar(raw json.RawMessage, where string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%s: %v", where, err)
		}
		return s, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // 1e400 is text to keep, not a float to overflow
	var v any
	if dec.Decode(&v) == nil && !dec.More() {
		switch v.(type) {
		case bool, json.Number:
			return string(raw), nil
		}
	}
	return "", fmt.Errorf("%s: want a string, got %s", where, kindOf(raw))
}

// isNull reports whether raw is absent or the JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// kindOf names the JSON type of raw for a message.
func kindOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func sortedRawKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad entry named is always the same one
	return keys
}

// UnmarshalJSON implements json.Unmarshaler: the request's metadata and
// rule set are read as Confluent reads them (see parseMetadata).
func (r *SchemaRequest) UnmarshalJSON(b []byte) error {
	type plain SchemaRequest
	var in struct {
		plain
		Metadata json.RawMessage `json:"metadata"`
		RuleSet  json.RawMessage `json:"ruleSet"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	md, err := parseMetadata(in.Metadata, "metadata")
	if err != nil {
		return err
	}
	rs, err := parseRuleSet(in.RuleSet, "ruleSet")
	if err != nil {
		return err
	}
	*r = SchemaRequest(in.plain)
	r.Metadata, r.RuleSet = md, rs
	return nil
}

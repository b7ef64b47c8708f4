package registry

import (
	"encoding/json"
	"fmt"

	"github.com/contrail-events/contrail/wire"
)

// The record format of the state topic is Confluent Schema Registry's (and
// Karapace's), so a KafkaStore can take over their `_schemas` topic: JSON
// keys carrying a "keytype", JSON values as Confluent writes them, and a
// null value (tombstone) to delete a key for good.

// Key types of a Confluent `_schemas` record.
const (
	keySchema        = "SCHEMA"
	keyConfig        = "CONFIG"
	keyMode          = "MODE"
	keyNoop          = "NOOP"
	keyDeleteSubject = "DELETE_SUBJECT"
	keyClearSubject  = "CLEAR_SUBJECT"
	keyContext       = "CONTEXT"
)

// kafkaKey is every Confluent key type in one struct. The field order is
// Confluent's (keytype first, magic last); Subject is a pointer because
// the global config and mode keys carry "subject":null.
type kafkaKey struct {
	KeyType string  `json:"keytype"`
	Tenant  string  `json:"tenant,omitempty"`
	Context string  `json:"context,omitempty"`
	Subject *string `json:"subject,omitempty"`
	Version int     `json:"version,omitempty"`
	Magic   int     `json:"magic"`
}

// schemaValue is Confluent's SchemaValue. schemaType is written only for
// types other than AVRO, as Confluent does; metadata and ruleSet only when
// the schema has them.
type schemaValue struct {
	Subject    string         `json:"subject"`
	Version    int            `json:"version"`
	ID         int            `json:"id"`
	SchemaType string         `json:"schemaType,omitempty"`
	References []Reference    `json:"references,omitempty"`
	Metadata   *wire.Metadata `json:"metadata,omitempty"`
	RuleSet    *ruleSetOut    `json:"ruleSet,omitempty"`
	Schema     string         `json:"schema"`
	Deleted    bool           `json:"deleted"`
}

// configValue is the part of Confluent's ConfigValue Contrail keeps (all
// but validateRules and compatibilityPolicy), in Confluent's field order.
type configValue struct {
	Alias              string         `json:"alias,omitempty"`
	Normalize          *bool          `json:"normalize,omitempty"`
	ValidateFields     *bool          `json:"validateFields,omitempty"`
	CompatibilityLevel string         `json:"compatibilityLevel,omitempty"`
	CompatibilityGroup string         `json:"compatibilityGroup,omitempty"`
	DefaultMetadata    *wire.Metadata `json:"defaultMetadata,omitempty"`
	OverrideMetadata   *wire.Metadata `json:"overrideMetadata,omitempty"`
	DefaultRuleSet     *ruleSetOut    `json:"defaultRuleSet,omitempty"`
	OverrideRuleSet    *ruleSetOut    `json:"overrideRuleSet,omitempty"`
}

type modeValue struct {
	Mode string `json:"mode"`
}

// deleteSubjectValue soft-deletes every version of Subject up to Version.
type deleteSubjectValue struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

type contextValue struct {
	Tenant  string `json:"tenant"`
	Context string `json:"context"`
}

// kafkaTenant is the tenant Confluent's context keys carry outside its
// multi-tenant cloud.
const kafkaTenant = "default"

// kafkaRecord is one key and value of the state topic; a nil Value is a
// tombstone.
type kafkaRecord struct {
	Key, Value []byte
}

func settingKafkaKey(keyType, subject string) kafkaKey {
	k := kafkaKey{KeyType: keyType}
	if subject != "" {
		k.Subject = &subject
	}
	return k
}

// marshalKey writes k exactly as Confluent does: global settings spell out
// "subject":null, which omitempty would drop.
func marshalKey(k kafkaKey) ([]byte, error) {
	if (k.KeyType == keyConfig || k.KeyType == keyMode) && k.Subject == nil {
		return []byte(`{"keytype":"` + k.KeyType + `","subject":null,"magic":0}`), nil
	}
	return json.Marshal(k)
}

// encodeBatch turns b into state-topic records. lookup finds a schema that
// b does not carry (a new version of an existing schema). A schema in b
// with no version in b cannot be written, since Confluent's format keeps a
// schema only inside a subject version.
func encodeBatch(b Batch, lookup func(ctx string, id int) (SchemaRecord, bool)) ([]kafkaRecord, error) {
	var out []kafkaRecord
	put := func(k kafkaKey, v any) error {
		kb, err := marshalKey(k)
		if err != nil {
			return err
		}
		rec := kafkaRecord{Key: kb}
		if v != nil {
			// Without HTML escaping, as Jackson writes: "a > b" stays so.
			if rec.Value, err = marshal(v); err != nil {
				return err
			}
		}
		out = append(out, rec)
		return nil
	}
	inBatch := map[schemaKey]SchemaRecord{}
	for _, s := range b.Schemas {
		inBatch[schemaKey{s.Context, s.ID}] = s
	}
	written := map[schemaKey]bool{}
	for _, c := range b.Contexts {
		if err := put(kafkaKey{KeyType: keyContext, Tenant: kafkaTenant, Context: c}, contextValue{Tenant: kafkaTenant, Context: c}); err != nil {
			return nil, err
		}
	}
	for _, v := range b.Versions {
		sk := schemaKey{contextOf(v.Subject), v.ID}
		s, ok := inBatch[sk]
		if !ok {
			if s, ok = lookup(sk.ctx, sk.id); !ok {
				return nil, fmt.Errorf("version %d of %q names unknown schema id %d", v.Version, v.Subject, v.ID)
			}
		}
		written[sk] = true
		typ := s.Type
		if typ == "AVRO" {
			typ = ""
		}
		subject := v.Subject
		val := schemaValue{Subject: v.Subject, Version: v.Version, ID: v.ID, SchemaType: typ,
			References: s.References, Metadata: s.Metadata, RuleSet: outRules(s.RuleSet), Schema: s.Text, Deleted: v.Deleted}
		if err := put(kafkaKey{KeyType: keySchema, Subject: &subject, Version: v.Version, Magic: 1}, val); err != nil {
			return nil, err
		}
	}
	for sk := range inBatch {
		if !written[sk] {
			return nil, fmt.Errorf("schema id %d has no subject version; the Kafka store keeps schemas only inside versions", sk.id)
		}
	}
	for _, k := range b.DeleteVersions {
		subject := k.Subject
		if err := put(kafkaKey{KeyType: keySchema, Subject: &subject, Version: k.Version, Magic: 1}, nil); err != nil {
			return nil, err
		}
	}
	for _, c := range b.Configs {
		var v any
		if !c.IsEmpty() {
			v = configValue{Alias: c.Alias, Normalize: c.Normalize, ValidateFields: c.ValidateFields,
				CompatibilityLevel: c.Compatibility, CompatibilityGroup: c.CompatibilityGroup,
				DefaultMetadata: c.DefaultMetadata, OverrideMetadata: c.OverrideMetadata,
				DefaultRuleSet: outRules(c.DefaultRuleSet), OverrideRuleSet: outRules(c.OverrideRuleSet)}
		}
		if err := put(settingKafkaKey(keyConfig, c.Subject), v); err != nil {
			return nil, err
		}
	}
	for _, m := range b.Modes {
		var v any
		if m.Value != "" {
			v = modeValue{Mode: m.Value}
		}
		if err := put(settingKafkaKey(keyMode, m.Subject), v); err != nil {
			return nil, err
		}
	}
	for _, c := range b.DeleteContexts {
		if err := put(kafkaKey{KeyType: keyContext, Tenant: kafkaTenant, Context: c}, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeRecord turns one state-topic record into the Batch that applies
// it, given the state so far (view) for the subject-wide record kinds.
// Record kinds Contrail does not know (and NOOP) decode to an empty Batch.
func decodeRecord(key, value []byte, view *MemoryStore) (Batch, error) {
	var b Batch
	var k kafkaKey
	if err := json.Unmarshal(key, &k); err != nil {
		return b, fmt.Errorf("key %q: %w", truncate(string(key), 64), err)
	}
	subject := ""
	if k.Subject != nil {
		subject = normalizeSubject(*k.Subject)
	}
	tombstone := value == nil
	bad := func(err error) (Batch, error) {
		return Batch{}, fmt.Errorf("%s value for %q: %w", k.KeyType, subject, err)
	}
	switch k.KeyType {
	case keySchema:
		if tombstone {
			b.DeleteVersions = append(b.DeleteVersions, VersionKey{subject, k.Version})
			return b, nil
		}
		var v schemaIn
		if err := json.Unmarshal(value, &v); err != nil {
			return bad(err)
		}
		md, rs, err := v.contract()
		if err != nil {
			return bad(err)
		}
		s := normalizeSubject(v.Subject)
		typ := v.SchemaType
		if typ == "AVRO" {
			typ = ""
		}
		b.Schemas = append(b.Schemas, SchemaRecord{ID: v.ID, Context: contextOf(s), Type: typ, Text: v.Schema, References: v.References,
			Metadata: md, RuleSet: rs})
		b.Versions = append(b.Versions, VersionRecord{Subject: s, Version: v.Version, ID: v.ID, Deleted: v.Deleted})
		if c := contextOf(s); c != "" && !view.contexts[c] {
			b.Contexts = append(b.Contexts, c)
		}
	case keyConfig:
		c := ConfigRecord{Subject: subject}
		if !tombstone {
			var v configIn
			if err := json.Unmarshal(value, &v); err != nil {
				return bad(err)
			}
			var err error
			if c, err = v.record(subject); err != nil {
				return bad(err)
			}
		}
		b.Configs = append(b.Configs, c)
	case keyMode:
		m := SettingRecord{Subject: subject}
		if !tombstone {
			var v modeValue
			if err := json.Unmarshal(value, &v); err != nil {
				return bad(err)
			}
			m.Value = v.Mode
		}
		b.Modes = append(b.Modes, m)
	case keyDeleteSubject:
		if tombstone {
			return b, nil
		}
		var v deleteSubjectValue
		if err := json.Unmarshal(value, &v); err != nil {
			return bad(err)
		}
		s := normalizeSubject(v.Subject)
		for vk, vr := range view.versions {
			if vk.Subject == s && vk.Version <= v.Version && !vr.Deleted {
				vr.Deleted = true
				b.Versions = append(b.Versions, vr)
			}
		}
	case keyClearSubject:
		if tombstone {
			return b, nil
		}
		for vk, vr := range view.versions {
			if vk.Subject == subject && vr.Deleted {
				b.DeleteVersions = append(b.DeleteVersions, vk)
			}
		}
	case keyContext:
		c := k.Context
		if c == "" || c == DefaultContext {
			return b, nil
		}
		if tombstone {
			b.DeleteContexts = append(b.DeleteContexts, c)
		} else {
			b.Contexts = append(b.Contexts, c)
		}
	}
	return b, nil
}

// schemaIn is a schemaValue as read: metadata and rule set are read the
// way requests are (parseMetadata), so a value Confluent wrote with
// numbers for strings still loads.
type schemaIn struct {
	Subject    string          `json:"subject"`
	Version    int             `json:"version"`
	ID         int             `json:"id"`
	SchemaType string          `json:"schemaType"`
	References []Reference     `json:"references"`
	Metadata   json.RawMessage `json:"metadata"`
	RuleSet    json.RawMessage `json:"ruleSet"`
	Schema     string          `json:"schema"`
	Deleted    bool            `json:"deleted"`
}

func (v schemaIn) contract() (*wire.Metadata, *wire.RuleSet, error) {
	md, err := parseMetadata(v.Metadata, "metadata")
	if err != nil {
		return nil, nil, err
	}
	rs, err := parseRuleSet(withoutEncodingRules(v.RuleSet), "ruleSet")
	if err != nil {
		return nil, nil, err
	}
	return normMetadata(md), normRuleSet(rs), nil
}

// configIn is a configValue as read.
type configIn struct {
	Alias              string          `json:"alias"`
	Normalize          *bool           `json:"normalize"`
	ValidateFields     *bool           `json:"validateFields"`
	CompatibilityLevel string          `json:"compatibilityLevel"`
	CompatibilityGroup string          `json:"compatibilityGroup"`
	DefaultMetadata    json.RawMessage `json:"defaultMetadata"`
	OverrideMetadata   json.RawMessage `json:"overrideMetadata"`
	DefaultRuleSet     json.RawMessage `json:"defaultRuleSet"`
	OverrideRuleSet    json.RawMessage `json:"overrideRuleSet"`
}

// record is v as the config of subject.
func (v configIn) record(subject string) (ConfigRecord, error) {
	c := ConfigRecord{Subject: subject, Compatibility: v.CompatibilityLevel, Alias: v.Alias, Normalize: v.Normalize,
		ValidateFields: v.ValidateFields, CompatibilityGroup: v.CompatibilityGroup}
	var err error
	for _, m := range []struct {
		raw  json.RawMessage
		name string
		into **wire.Metadata
	}{{v.DefaultMetadata, "defaultMetadata", &c.DefaultMetadata}, {v.OverrideMetadata, "overrideMetadata", &c.OverrideMetadata}} {
		if *m.into, err = parseMetadata(m.raw, m.name); err != nil {
			return c, err
		}
		*m.into = normMetadata(*m.into)
	}
	for _, r := range []struct {
		raw  json.RawMessage
		name string
		into **wire.RuleSet
	}{{v.DefaultRuleSet, "defaultRuleSet", &c.DefaultRuleSet}, {v.OverrideRuleSet, "overrideRuleSet", &c.OverrideRuleSet}} {
		if *r.into, err = parseRuleSet(withoutEncodingRules(r.raw), r.name); err != nil {
			return c, err
		}
		*r.into = normRuleSet(*r.into)
	}
	return c, nil
}

// withoutEncodingRules drops the encodingRules of a rule set Confluent
// wrote: this registry keeps migration and domain rules only, and losing
// the encoding rules beats skipping the whole record.
func withoutEncodingRules(raw json.RawMessage) json.RawMessage {
	var obj map[string]json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &obj) != nil || obj["encodingRules"] == nil {
		return raw
	}
	delete(obj, "encodingRules")
	out, err := json.Marshal(obj)
	if err != nil {
		return raw
	}
	return out
}

package schemas

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// CompatibilityLevels are the levels a subject may have, as the Confluent
// registry names them.
var CompatibilityLevels = []string{
	"BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE",
}

// Strategies are the subject naming strategies the manifest accepts.
var Strategies = []events.Strategy{events.TopicName, events.RecordName, events.TopicRecordName}

// Defaults used when the manifest's defaults section leaves a value out.
const (
	DefaultStrategy      = events.TopicName
	DefaultCompatibility = "BACKWARD"
	DefaultPartitions    = 1
)

// Event is one manifest entry, resolved against the loaded types.
type Event struct {
	// Type is the event's record type: its lowest live major (Majors[0].Type),
	// which is Set.Types[FullName].
	Type *Type
	// Majors are the event's live majors in ascending order, one per schema
	// file: <Name>.avsc is major 1, <Name>.v<N>.avsc major N. They share the
	// full name and Subject; most events have one.
	Majors []*Major
	// CompatibilityGroup is the manifest's compatibility_group: "" or
	// wire.CompatibilityGroupMajorVersion ("major_version"), with which the
	// registry (and `contrail check`) checks each schema only against the
	// versions of its own major. An event with a major above 1 must set it.
	CompatibilityGroup string
	// Topic is the Kafka topic it travels on; several events may share one.
	Topic string
	// Subject is the registry subject under Strategy.
	Subject string
	// Strategy is the subject naming strategy (manifest entry, else defaults,
	// else TopicName).
	Strategy events.Strategy
	// Compatibility is the subject's compatibility level (entry, else
	// defaults, else BACKWARD).
	Compatibility string
	// Key is the top-level field of Type used as the partition key.
	Key string
	// Producers and Consumers name the services that produce and consume it.
	Producers, Consumers []string
	// Line and Col locate the entry in manifest.yaml.
	Line, Col int
}

// Topic is a topic the manifest declares.
type Topic struct {
	// Name is the Kafka topic name.
	Name string
	// Partitions is the topic's partition count (entry, else defaults,
	// else DefaultPartitions).
	Partitions int
}

type manifestDoc struct {
	Version  int `yaml:"version"`
	Defaults struct {
		Strategy           string `yaml:"strategy"`
		Compatibility      string `yaml:"compatibility"`
		Partitions         int    `yaml:"partitions"`
		TypesCompatibility string `yaml:"types_compatibility"`
	} `yaml:"defaults"`
	Topics []struct {
		Name       string `yaml:"name"`
		Partitions int    `yaml:"partitions"`
	} `yaml:"topics"`
	Events []manifestEvent `yaml:"events"`
	Lint   manifestLint    `yaml:"lint"`
}

// manifestLint is the lint section's shape; the loader checks only the
// shape (see ParseLintConfig for the values and their positions).
type manifestLint struct {
	Tier      string   `yaml:"tier"`
	FieldCase string   `yaml:"field_case"`
	Use       []string `yaml:"use"`
	Except    []string `yaml:"except"`
	Ignore    []struct {
		Rule   string `yaml:"rule"`
		File   string `yaml:"file"`
		Reason string `yaml:"reason"`
	} `yaml:"ignore"`
}

type manifestEvent struct {
	Schema             string   `yaml:"schema"`
	Topic              string   `yaml:"topic"`
	Strategy           string   `yaml:"strategy"`
	Compatibility      string   `yaml:"compatibility"`
	CompatibilityGroup string   `yaml:"compatibility_group"`
	Key                string   `yaml:"key"`
	Producers          []string `yaml:"producers"`
	Consumers          []string `yaml:"consumers"`
}

// parsedManifest is the decoded manifest with the YAML nodes for positions.
type parsedManifest struct {
	doc  manifestDoc
	root *yaml.Node
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// manifest decodes and validates the manifest against the types found so
// far; the key check runs in finishManifest, after hamba has parsed.
func (l *loader) manifest(data []byte, set *Set) *parsedManifest {
	p := &l.probs
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		l.yamlErr(ManifestFile, err)
		return nil
	}
	if len(root.Content) == 0 {
		p.add(ManifestFile, 1, 1, "empty manifest: declare version, topics and events")
		return nil
	}
	if l.shape(ManifestFile, root.Content[0], reflect.TypeOf(manifestDoc{}), "") {
		return nil
	}
	m := &parsedManifest{root: &root}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m.doc); err != nil {
		l.yamlErr(ManifestFile, err)
		return nil
	}
	doc := &m.doc
	if doc.Version != 1 {
		line, col := m.pos("version")
		p.add(ManifestFile, line, col, "unsupported manifest version %d: this contrail reads version: 1", doc.Version)
	}
	checkLevel := func(level string, path ...string) {
		if level != "" && !slices.Contains(CompatibilityLevels, level) {
			line, col := m.pos(path...)
			p.add(ManifestFile, line, col, "unknown compatibility level %q: use one of %s", level, strings.Join(CompatibilityLevels, ", "))
		}
	}
	checkStrategy := func(s string, path ...string) {
		if s != "" && !slices.Contains(Strategies, events.Strategy(s)) {
			line, col := m.pos(path...)
			p.add(ManifestFile, line, col, "unknown subject naming strategy %q: use TopicName, RecordName or TopicRecordName", s)
		}
	}
	checkStrategy(doc.Defaults.Strategy, "defaults", "strategy")
	checkLevel(doc.Defaults.Compatibility, "defaults", "compatibility")
	checkLevel(doc.Defaults.TypesCompatibility, "defaults", "types_compatibility")
	defPartitions := doc.Defaults.Partitions
	if defPartitions == 0 {
		defPartitions = DefaultPartitions
	}
	if defPartitions < 0 {
		line, col := m.pos("defaults", "partitions")
		p.add(ManifestFile, line, col, "partitions must be positive")
	}

	topics := map[string]bool{}
	for i, t := range doc.Topics {
		idx := strconv.Itoa(i)
		line, col := m.pos("topics", idx, "name")
		switch {
		case t.Name == "":
			line, col = m.pos("topics", idx)
			p.add(ManifestFile, line, col, "topic needs a name")
			continue
		case topics[t.Name]:
			p.add(ManifestFile, line, col, "topic %q is declared twice", t.Name)
			continue
		}
		topics[t.Name] = true
		parts := t.Partitions
		if parts == 0 {
			parts = defPartitions
		}
		if parts < 0 {
			line, col := m.pos("topics", idx, "partitions")
			p.add(ManifestFile, line, col, "partitions of topic %q must be positive", t.Name)
		}
		set.Topics = append(set.Topics, Topic{Name: t.Name, Partitions: parts})
	}
	declared := strings.Join(slices.Sorted(maps.Keys(topics)), ", ")

	set.TypesCompatibility = cmp.Or(doc.Defaults.TypesCompatibility, doc.Defaults.Compatibility, DefaultCompatibility)
	subjects := map[string]*Event{}
	broken := map[string]bool{}
	for _, e := range p.list {
		broken[e.File] = true
	}
	for i, me := range doc.Events {
		idx := strconv.Itoa(i)
		eline, ecol := m.pos("events", idx)
		at := func(key string) (int, int) {
			if line, col := m.pos("events", idx, key); line > 0 {
				return line, col
			}
			return eline, ecol
		}
		if me.Schema != "" {
			l.listed[me.Schema] = true
		}
		ev := &Event{
			Topic: me.Topic, Key: me.Key, Line: eline, Col: ecol, CompatibilityGroup: me.CompatibilityGroup,
			Strategy:      events.Strategy(cmp.Or(me.Strategy, doc.Defaults.Strategy, string(DefaultStrategy))),
			Compatibility: cmp.Or(me.Compatibility, doc.Defaults.Compatibility, DefaultCompatibility),
			Producers:     me.Producers, Consumers: me.Consumers,
		}
		ok := true
		if me.Schema == "" {
			p.add(ManifestFile, eline, ecol, `event needs "schema", the full name of its record (e.g. contrail.orders.OrderPlaced)`)
			continue
		}
		t := set.Types[me.Schema]
		if broken[filePathFor(me.Schema)] || (t != nil && broken[t.File]) {
			// The file's own problems explain it; more here would be noise.
			continue
		}
		if t == nil {
			line, col := at("schema")
			p.add(ManifestFile, line, col, "unknown schema %q: no .avsc defines it (expected %s)%s", me.Schema, filePathFor(me.Schema), suggestName(me.Schema, slices.Sorted(maps.Keys(set.Types))))
			ok = false
		} else if l.defs[me.Schema].kind != "record" {
			line, col := at("schema")
			p.add(ManifestFile, line, col, "schema %q is a %s: an event must be a record", me.Schema, l.defs[me.Schema].kind)
			ok = false
		} else if prev := set.Event(me.Schema); prev != nil {
			line, col := at("schema")
			p.add(ManifestFile, line, col, "event %s is listed twice (first at line %d): list each event once", me.Schema, prev.Line)
			ok = false
		}
		if me.Topic == "" {
			p.add(ManifestFile, eline, ecol, `event %s needs "topic"`, me.Schema)
			ok = false
		} else if !topics[me.Topic] {
			line, col := at("topic")
			p.add(ManifestFile, line, col, "topic %q is not declared: add it under topics (declared: %s)", me.Topic, declared)
			ok = false
		}
		if me.Strategy != "" && !slices.Contains(Strategies, events.Strategy(me.Strategy)) {
			line, col := at("strategy")
			p.add(ManifestFile, line, col, "unknown subject naming strategy %q: use TopicName, RecordName or TopicRecordName", me.Strategy)
			ok = false
		}
		checkLevel(me.Compatibility, "events", idx, "compatibility")
		if g := me.CompatibilityGroup; g != "" && g != wire.CompatibilityGroupMajorVersion {
			line, col := at("compatibility_group")
			p.add(ManifestFile, line, col, "unknown compatibility_group %q: the one group Contrail knows is %s (each major version checked only against itself)", g, wire.CompatibilityGroupMajorVersion)
			ok = false
		}
		if ds := l.majors[me.Schema]; t != nil && me.CompatibilityGroup == "" && ds[len(ds)-1].t.Major > 1 {
			last := ds[len(ds)-1].t
			p.add(ManifestFile, eline, ecol, "event %s has major %d (%s) but no compatibility_group: add `compatibility_group: %s` to its entry, so that the registry and `contrail check` compare each major only with itself and a new major may break the old one",
				me.Schema, last.Major, last.File, wire.CompatibilityGroupMajorVersion)
			ok = false
		}
		if me.Key == "" {
			p.add(ManifestFile, eline, ecol, `event %s needs "key", the top-level field used as the partition key`, me.Schema)
			ok = false
		}
		if ok {
			for _, d := range l.majors[me.Schema] {
				if msg := l.checkKey(d, me.Key); msg != "" {
					line, col := at("key")
					p.add(ManifestFile, line, col, "%s", msg)
					ok = false
					break
				}
			}
		}
		if !ok {
			continue
		}
		ev.Type = t
		for _, d := range l.majors[me.Schema] {
			ev.Majors = append(ev.Majors, &Major{Version: d.t.Major, Type: d.t})
		}
		subj, err := ev.Strategy.Subject(me.Topic, me.Schema)
		if err != nil {
			continue
		}
		ev.Subject = subj
		if prev := subjects[subj]; prev != nil {
			line, col := at("schema")
			p.add(ManifestFile, line, col, "subject %q of %s collides with %s (line %d): one subject holds one event type; use RecordName or TopicRecordName for events that share a topic", subj, me.Schema, prev.Type.FullName, prev.Line)
			continue
		}
		subjects[subj] = ev
		set.Events = append(set.Events, ev)
	}
	return m
}

// checkKey checks that key is a top-level field of record d whose type
// makes a partition key: a string (uuid included), int, long or enum.
func (l *loader) checkKey(d *def, key string) string {
	fullName := d.t.FullName
	if d.t.Major > 1 {
		fullName += fmt.Sprintf(" (major %d, %s)", d.t.Major, d.t.File)
	}
	fields := d.node.get("fields")
	if fields == nil {
		return ""
	}
	var names []string
	for _, f := range fields.items {
		name := f.get("name")
		if name == nil {
			continue
		}
		names = append(names, name.str)
		if name.str != key {
			continue
		}
		typ := f.get("type")
		if typ == nil {
			return ""
		}
		if typ.kind == jsonObject {
			typ = typ.get("type")
		}
		if typ != nil && typ.kind == jsonString {
			switch typ.str {
			case "string", "int", "long":
				return ""
			}
			if rd := l.defs[qualify(d.t.Namespace, typ.str)]; rd != nil && rd.kind == "enum" {
				return ""
			}
			if rd := l.defs[typ.str]; rd != nil && rd.kind == "enum" {
				return ""
			}
		}
		return fmt.Sprintf("key field %q of %s cannot be a partition key: use a string, int, long or enum field (not null, union or complex)", key, fullName)
	}
	return fmt.Sprintf("key field %q is not a field of %s: use one of its top-level fields (%s)", key, fullName, strings.Join(names, ", "))
}

func suggestName(s string, cands []string) string {
	best, bestD := "", 4
	for _, c := range cands {
		if d := EditDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// pos returns the position of the YAML node at path (mapping keys and
// sequence indexes); for a mapping key it is the value's position.
func (m *parsedManifest) pos(path ...string) (int, int) {
	n := m.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, p := range path {
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next = n.Content[i+1]
					break
				}
			}
			if next == nil {
				return 0, 0
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n.Content) {
				return 0, 0
			}
			n = n.Content[i]
		default:
			return 0, 0
		}
	}
	return n.Line, n.Column
}

// shape checks the shape of the YAML under n against t (the struct it
// decodes into: the manifest's, a sidecar's) and reports, at the offending
// node's line:col in file, every unknown mapping key (with the valid keys and
// a spelling suggestion) and every value of the wrong kind (a bare name where
// a mapping or list belongs, a word where a number belongs). yaml.v3's own
// errors name Go types and give no column. key names the value in messages.
// It reports whether it found any problem.
func (l *loader) shape(file string, n *yaml.Node, t reflect.Type, key string) bool {
	if n.Kind == yaml.AliasNode || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return false // aliases resolve later; null leaves the zero value
	}
	bad := func(want string) bool {
		got := fmt.Sprintf("%q", n.Value)
		switch n.Kind {
		case yaml.MappingNode:
			got = "a mapping"
		case yaml.SequenceNode:
			got = "a list"
		}
		l.probs.add(file, n.Line, n.Column, "%s: want %s, got %s", key, want, got)
		return true
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return bad("a list, e.g. [" + n.Value + "]")
		}
		found := false
		for _, item := range n.Content {
			found = l.shape(file, item, t.Elem(), key+" entry") || found
		}
		return found
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return bad("a mapping of names to values")
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				l.probs.add(file, k.Line, k.Column, "%s: a key must be a single value", key)
				found = true
				continue
			}
			found = l.shape(file, n.Content[i+1], t.Elem(), k.Value) || found
		}
		return found
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return bad("a single value")
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return bad("a whole number")
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return bad("true or false")
		}
	case reflect.Struct:
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = t.Field(i).Type
				names = append(names, name)
			}
		}
		if n.Kind != yaml.MappingNode {
			if key == "" {
				key = "manifest"
			}
			return bad("a mapping with keys " + strings.Join(names, ", "))
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if ft, ok := fields[k.Value]; ok {
				found = l.shape(file, n.Content[i+1], ft, k.Value) || found
				continue
			}
			found = true
			hint := ""
			best, bestD := "", 3
			for _, name := range names {
				if d := EditDistance(strings.ToLower(k.Value), name); d < bestD {
					best, bestD = name, d
				}
			}
			if best != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", best)
			}
			l.probs.add(file, k.Line, k.Column, "unknown key %q%s: remove it or use one of %s", k.Value, hint, strings.Join(names, ", "))
		}
		return found
	}
	return false
}

// yamlErr reports a YAML error of file (the manifest or a sidecar).
func (l *loader) yamlErr(file string, err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, e := range te.Errors {
			if mm := yamlLineRE.FindStringSubmatch(e); mm != nil {
				line, _ := strconv.Atoi(mm[1])
				l.probs.add(file, line, 1, "%s", strings.TrimSpace(mm[2]))
			} else {
				l.probs.add(file, 1, 1, "%s", e)
			}
		}
		return
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if mm := yamlLineRE.FindStringSubmatch(msg); mm != nil {
		line, _ := strconv.Atoi(mm[1])
		l.probs.add(file, line, 1, "invalid YAML: %s", mm[2])
		return
	}
	l.probs.add(file, 1, 1, "invalid YAML: %s", msg)
}

// ManifestValue is one string of the manifest and where it is written:
// 1-based line and column in manifest.yaml (both 0 when it is absent).
type ManifestValue struct {
	Value     string
	Line, Col int
}

// LintConfig is the manifest's lint section as written, with positions.
// The loader checks only its shape (keys and kinds of values); package lint
// gives the values their meaning and rejects what it cannot use (an unknown
// tier or rule ID, an ignore entry without a reason). The zero value is a
// manifest without a lint section.
type LintConfig struct {
	// Line and Col locate the "lint" key; 0 without a section.
	Line, Col int
	// Tier is "tier": the strictest rule tier that runs.
	Tier ManifestValue
	// FieldCase is "field_case": the field naming convention of the tree.
	FieldCase ManifestValue
	// Use and Except are "use" and "except": rule IDs added to and removed
	// from the tier's rules.
	Use, Except []ManifestValue
	// Ignore are the "ignore" entries, in order.
	Ignore []LintIgnore
}

// LintIgnore is one entry of the lint section's ignore list: findings of
// Rule (any rule when empty) in File (any file when empty; a folder covers
// the files below it) are accepted for Reason.
type LintIgnore struct {
	Rule, File, Reason ManifestValue
	// Line and Col locate the entry.
	Line, Col int
}

// ParseLintConfig reads the lint section of a manifest's text (the whole
// of manifest.yaml). A manifest without one gives the zero LintConfig. The
// error is an ErrorList with positions in ManifestFile when the text is not
// YAML or the section has the wrong shape, the same problems Load reports
// for it. ParseLintConfig is safe for concurrent use.
func ParseLintConfig(manifest []byte) (LintConfig, error) {
	l := &loader{}
	var root yaml.Node
	if err := yaml.Unmarshal(manifest, &root); err != nil {
		l.yamlErr(ManifestFile, err)
		return LintConfig{}, l.probs.err()
	}
	var cfg LintConfig
	if len(root.Content) == 0 {
		return cfg, nil
	}
	key, sec := mappingEntry(root.Content[0], "lint")
	if sec == nil {
		return cfg, nil
	}
	if l.shape(ManifestFile, sec, reflect.TypeOf(manifestLint{}), "lint") {
		return LintConfig{}, l.probs.err()
	}
	cfg.Line, cfg.Col = key.Line, key.Column
	sec = deref(sec)
	if sec.Kind != yaml.MappingNode {
		return cfg, nil // lint: (null) is an empty section
	}
	for i := 0; i+1 < len(sec.Content); i += 2 {
		v := deref(sec.Content[i+1])
		switch sec.Content[i].Value {
		case "tier":
			cfg.Tier = manifestValue(v)
		case "field_case":
			cfg.FieldCase = manifestValue(v)
		case "use":
			cfg.Use = manifestValues(v)
		case "except":
			cfg.Except = manifestValues(v)
		case "ignore":
			if v.Kind != yaml.SequenceNode {
				continue
			}
			for _, item := range v.Content {
				item = deref(item)
				ig := LintIgnore{Line: item.Line, Col: item.Column}
				for _, k := range []string{"rule", "file", "reason"} {
					if _, n := mappingEntry(item, k); n != nil {
						val := manifestValue(deref(n))
						switch k {
						case "rule":
							ig.Rule = val
						case "file":
							ig.File = val
						case "reason":
							ig.Reason = val
						}
					}
				}
				cfg.Ignore = append(cfg.Ignore, ig)
			}
		}
	}
	return cfg, nil
}

// mappingEntry returns the key and value nodes of key in mapping n, or nils.
func mappingEntry(n *yaml.Node, key string) (k, v *yaml.Node) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// deref follows YAML aliases (a bounded number of them).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// manifestValue is a scalar's value and position; a null or a non-scalar
// has an empty value.
func manifestValue(n *yaml.Node) ManifestValue {
	if n == nil {
		return ManifestValue{}
	}
	v := ManifestValue{Line: n.Line, Col: n.Column}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		v.Value = n.Value
	}
	return v
}

// manifestValues are the values of a sequence of scalars.
func manifestValues(n *yaml.Node) []ManifestValue {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]ManifestValue, 0, len(n.Content))
	for _, it := range n.Content {
		out = append(out, manifestValue(deref(it)))
	}
	return out
}

package schemas

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/hamba/avro/v2"
	"go.yaml.in/yaml/v3"

	"github.com/contrail-events/contrail/wire"
)

// SidecarSuffix ends the name of a data-contract sidecar: the file beside a
// schema that holds the metadata and rule set registered with it,
// <Name>.contract.yaml beside <Name>.avsc and <Name>.v<N>.contract.yaml
// beside <Name>.v<N>.avsc. Its keys are metadata and ruleSet, in
// Confluent's shape (wire.Metadata, wire.RuleSet).
const SidecarSuffix = ".contract.yaml"

// Major is one live major version of an event: one schema file and the data
// contract beside it. It is immutable and safe for concurrent use.
type Major struct {
	// Version is the major version number, 1 or more.
	Version int
	// Type is the major's record type, from its own file. Its full name is
	// the event's; only Type.Major and the file tell majors apart.
	Type *Type
	// Metadata is the metadata registered with the schema: the sidecar's
	// metadata plus the property wire.PropertyMajorVersion set to Version
	// when the event has a compatibility_group or Version is above 1 (the
	// loader adds it; a sidecar may only repeat it). Every major of a
	// grouped event says its major explicitly, because a Confluent registry
	// gives a schema registered without metadata the metadata of the
	// subject's latest version, which may be another major's. nil for major
	// 1 of an event without a group and without sidecar metadata: a schema
	// without the property is major 1.
	Metadata *wire.Metadata
	// RuleSet is the sidecar's rule set; nil when it has none.
	RuleSet *wire.RuleSet
	// Contract is the sidecar's slash path under the schema root, "" when
	// the major has none.
	Contract string

	pos, keyPos map[string][2]int
}

// ContractPos returns the 1-based line and byte column in Contract of the
// YAML value at jsonPointer (RFC 6901 over the sidecar's document, e.g.
// "/ruleSet/domainRules/0" or "/metadata/tags/contrail.orders.OrderPlaced.customerId";
// "" is the whole document). ok is false without a sidecar or when the
// pointer names no value.
func (m *Major) ContractPos(jsonPointer string) (line, col int, ok bool) {
	p, ok := m.pos[jsonPointer]
	return p[0], p[1], ok
}

// Migrations returns the enabled migration rules Contrail runs between this
// major and the one before it: type wire.RuleTypeGoMigration, kind
// TRANSFORM, in sidecar order. A major above 1 needs one for a breaking
// change to pass `contrail check`; major 1 never has one.
func (m *Major) Migrations() []wire.Rule { return GoMigrations(m.RuleSet) }

// GoMigrations returns the enabled migration rules of rs that Contrail runs:
// type wire.RuleTypeGoMigration, in order; none for a nil rs.
func GoMigrations(rs *wire.RuleSet) []wire.Rule {
	if rs == nil {
		return nil
	}
	var out []wire.Rule
	for _, r := range rs.MigrationRules {
		if r.Type == wire.RuleTypeGoMigration && !r.Disabled {
			out = append(out, r)
		}
	}
	return out
}

// Migrates reports the directions Migrations declare: up (mode UPGRADE or
// UPDOWN) from major Version-1 to Version, down (DOWNGRADE or UPDOWN) back.
func (m *Major) Migrates() (up, down bool) {
	for _, r := range m.Migrations() {
		up = up || r.Mode == wire.RuleModeUpgrade || r.Mode == wire.RuleModeUpDown
		down = down || r.Mode == wire.RuleModeDowngrade || r.Mode == wire.RuleModeUpDown
	}
	return up, down
}

// Major returns e's live major n, nil when it has none.
func (e *Event) Major(n int) *Major {
	for _, m := range e.Majors {
		if m.Version == n {
			return m
		}
	}
	return nil
}

// sidecarDoc is a sidecar's shape.
type sidecarDoc struct {
	Metadata *wire.Metadata `yaml:"metadata"`
	RuleSet  *wire.RuleSet  `yaml:"ruleSet"`
}

// sidecar is a parsed sidecar file.
type sidecar struct {
	file        string
	doc         sidecarDoc
	pos, keyPos map[string][2]int
}

func (s *sidecar) at(ptr string) (int, int) {
	if p, ok := s.pos[ptr]; ok {
		return p[0], p[1]
	}
	return 1, 1
}

func (s *sidecar) keyAt(ptr string) (int, int) {
	if p, ok := s.keyPos[ptr]; ok {
		return p[0], p[1]
	}
	return s.at(ptr)
}

// readSidecar parses and checks a sidecar and attaches it to the schema file
// beside it; the tags are checked once the schemas are parsed (contracts).
func (l *loader) readSidecar(file string, data []byte) {
	if strings.HasSuffix(file, ".contract.yml") {
		l.probs.add(file, 1, 1, "a data contract sidecar is named <Name>%s: rename it to %s", SidecarSuffix, strings.TrimSuffix(file, ".contract.yml")+SidecarSuffix)
		return
	}
	avsc := strings.TrimSuffix(file, SidecarSuffix) + ".avsc"
	var d *def
	for _, cand := range l.all() {
		if cand.t.File == avsc {
			d = cand
		}
	}
	if d == nil {
		if !slices.Contains(l.files, avsc) {
			l.probs.add(file, 1, 1, "%s is a data contract sidecar, but there is no schema file %s beside it: a sidecar describes the schema file of the same name (<Name>%s for <Name>.avsc, <Name>.v<N>%s for <Name>.v<N>.avsc); rename it or delete it",
				file, avsc, SidecarSuffix, SidecarSuffix)
		}
		return // the schema file does not load: its own problems say why
	}
	sc, ok := l.parseSidecar(file, data, d.t.Major)
	if ok {
		d.sidecar = sc
	}
}

// parseSidecar parses a sidecar of a file of major and reports its problems;
// ok is false when it has any.
func (l *loader) parseSidecar(file string, data []byte, major int) (*sidecar, bool) {
	errs := len(l.probs.list)
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		l.yamlErr(file, err)
		return nil, false
	}
	if len(root.Content) == 0 {
		l.probs.add(file, 1, 1, "empty data contract: add metadata: or ruleSet:, or delete the file")
		return nil, false
	}
	if l.shape(file, root.Content[0], reflect.TypeOf(sidecarDoc{}), "contract") {
		return nil, false
	}
	sc := &sidecar{file: file, pos: map[string][2]int{}, keyPos: map[string][2]int{}}
	yamlPositions(root.Content[0], "", sc.pos, sc.keyPos)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc.doc); err != nil {
		l.yamlErr(file, err)
		return nil, false
	}
	l.checkMetadata(sc, major)
	l.checkRules(sc, major)
	return sc, len(l.probs.list) == errs
}

// yamlPositions records the position of every value under n by JSON Pointer
// (value positions in pos, mapping keys' positions in keyPos).
// An alias is not followed: its value is located at the alias.
func yamlPositions(n *yaml.Node, ptr string, pos, keyPos map[string][2]int) {
	if n == nil {
		return
	}
	pos[ptr] = [2]int{n.Line, n.Column}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := ptr + "/" + escapePointer(k.Value)
			keyPos[p] = [2]int{k.Line, k.Column}
			yamlPositions(n.Content[i+1], p, pos, keyPos)
		}
	case yaml.SequenceNode:
		for i, it := range n.Content {
			yamlPositions(it, ptr+"/"+strconv.Itoa(i), pos, keyPos)
		}
	}
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(s string) string { return pointerEscaper.Replace(s) }

func (l *loader) checkMetadata(sc *sidecar, major int) {
	md := sc.doc.Metadata
	if md == nil {
		return
	}
	if v, ok := md.Properties[wire.PropertyMajorVersion]; ok && v != strconv.Itoa(major) {
		line, col := sc.at("/metadata/properties/" + wire.PropertyMajorVersion)
		l.probs.add(sc.file, line, col, "%s is %q, but this is the contract of major %d: remove the property (the loader sets it from the file name) or move the contract beside the right schema file",
			wire.PropertyMajorVersion, v, major)
	}
	for i, s := range md.Sensitive {
		if strings.TrimSpace(s) == "" {
			line, col := sc.at("/metadata/sensitive/" + strconv.Itoa(i))
			l.probs.add(sc.file, line, col, "sensitive: an empty property name: name a property under metadata.properties")
		}
	}
	for _, path := range slices.Sorted(maps.Keys(md.Tags)) {
		ptr := "/metadata/tags/" + escapePointer(path)
		if strings.TrimSpace(path) == "" {
			line, col := sc.keyAt(ptr)
			l.probs.add(sc.file, line, col, "tags: an empty field path: write <record full name>.<field>, e.g. contrail.orders.OrderPlaced.customerId")
			continue
		}
		tags := md.Tags[path]
		if len(tags) == 0 {
			line, col := sc.at(ptr)
			l.probs.add(sc.file, line, col, "tags of %s: list at least one tag, e.g. [%s], or remove the path", path, wire.TagPII)
		}
		for i, tag := range tags {
			if strings.TrimSpace(tag) == "" {
				line, col := sc.at(ptr + "/" + strconv.Itoa(i))
				l.probs.add(sc.file, line, col, "tags of %s: an empty tag: write a name such as %s", path, wire.TagPII)
			}
		}
	}
}

var (
	domainModes    = []wire.RuleMode{wire.RuleModeWrite, wire.RuleModeRead, wire.RuleModeWriteRead}
	migrationModes = []wire.RuleMode{wire.RuleModeUpgrade, wire.RuleModeDowngrade, wire.RuleModeUpDown}
	ruleActions    = []string{wire.RuleActionError, wire.RuleActionDLQ, wire.RuleActionNone}
)

func joinModes(ms []wire.RuleMode) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

func (l *loader) checkRules(sc *sidecar, major int) {
	rs := sc.doc.RuleSet
	if rs == nil {
		return
	}
	names := map[string]string{} // name -> pointer of its first rule
	var up, down string          // pointer of the rule declaring each direction
	check := func(list string, rules []wire.Rule, migration bool) {
		for i, r := range rules {
			ptr := "/ruleSet/" + list + "/" + strconv.Itoa(i)
			add := func(key, format string, args ...any) {
				line, col := sc.at(ptr + key)
				l.probs.add(sc.file, line, col, format, args...)
			}
			what := fmt.Sprintf("rule %q", r.Name)
			switch {
			case r.Name == "":
				what = fmt.Sprintf("%s rule %d", list, i+1)
				add("", `%s needs "name": a name such as totalIsPositive (letters, digits and _)`, what)
			case !validRuleName(r.Name):
				add("/name", "invalid rule name %q: a rule name starts with a letter or _ and continues with letters, digits or _ (Confluent's rule names)", r.Name)
			default:
				if prev, dup := names[r.Name]; dup {
					line, _ := sc.at(prev)
					add("/name", "rule name %q is also used at line %d: rule names are unique in a contract", r.Name, line)
				}
				names[r.Name] = ptr
			}
			switch r.Kind {
			case wire.RuleKindCondition, wire.RuleKindTransform:
			case "":
				add("", `%s needs "kind": %s or %s`, what, wire.RuleKindCondition, wire.RuleKindTransform)
			default:
				add("/kind", "%s: unknown kind %q: use %s or %s", what, r.Kind, wire.RuleKindCondition, wire.RuleKindTransform)
			}
			own, other, ownList, otherList := domainModes, migrationModes, "domainRules", "migrationRules"
			if migration {
				own, other, ownList, otherList = migrationModes, domainModes, "migrationRules", "domainRules"
			}
			switch {
			case slices.Contains(own, r.Mode):
			case r.Mode == "":
				add("", `%s needs "mode": one of %s`, what, joinModes(own))
			case slices.Contains(other, r.Mode):
				add("/mode", "%s: mode %s belongs to %s: move the rule there, or use one of %s in %s", what, r.Mode, otherList, joinModes(own), ownList)
			default:
				add("/mode", "%s: unknown mode %q: use one of %s", what, r.Mode, joinModes(own))
			}
			if migration {
				switch {
				case r.Type != wire.RuleTypeGoMigration:
					add("/type", "%s: migration rule type %q: Contrail runs migrations written in Go between generated majors: use type %s (and write the function in the file `contrail gen` creates)", what, r.Type, wire.RuleTypeGoMigration)
				case r.Kind != "" && r.Kind != wire.RuleKindTransform:
					add("/kind", "%s: a %s migration rule is a %s", what, wire.RuleTypeGoMigration, wire.RuleKindTransform)
				case r.Expr != "":
					add("/expr", "%s: a %s migration has no expr (the Go function is the migration): remove expr", what, wire.RuleTypeGoMigration)
				case major == 1:
					add("", "%s: major 1 has no earlier major to migrate from: a migration rule goes in the contract of the major it leads to (<Name>.v2%s)", what, SidecarSuffix)
				case !r.Disabled:
					if r.Mode == wire.RuleModeUpgrade || r.Mode == wire.RuleModeUpDown {
						if up != "" {
							line, _ := sc.at(up)
							add("/mode", "%s: the upgrade from major %d is already declared at line %d: declare each direction once", what, major-1, line)
						}
						up = ptr
					}
					if r.Mode == wire.RuleModeDowngrade || r.Mode == wire.RuleModeUpDown {
						if down != "" && down != ptr {
							line, _ := sc.at(down)
							add("/mode", "%s: the downgrade to major %d is already declared at line %d: declare each direction once", what, major-1, line)
						}
						down = ptr
					}
				}
			} else {
				switch {
				case r.Type != wire.RuleTypeCEL:
					add("/type", "%s: domain rule type %q: Contrail runs %s conditions on the whole message: use type %s", what, r.Type, wire.RuleTypeCEL, wire.RuleTypeCEL)
				case r.Kind != "" && r.Kind != wire.RuleKindCondition:
					add("/kind", "%s: a %s domain rule is a %s: Contrail checks messages with it, it does not change them", what, wire.RuleTypeCEL, wire.RuleKindCondition)
				case strings.TrimSpace(r.Expr) == "":
					add("", `%s: a %s rule needs "expr", a condition on the message such as 'message.total.units > 0'`, what, wire.RuleTypeCEL)
				}
			}
			twoWay := r.Mode == wire.RuleModeWriteRead || r.Mode == wire.RuleModeUpDown
			for _, a := range []struct{ key, val string }{{"onSuccess", r.OnSuccess}, {"onFailure", r.OnFailure}} {
				if a.val == "" {
					continue
				}
				parts := strings.Split(a.val, ",")
				if len(parts) > 2 || (len(parts) == 2 && !twoWay) {
					add("/"+a.key, "%s: %s %q: name one action, or two (\"WRITE,READ\") for a %s or %s rule", what, a.key, a.val, wire.RuleModeWriteRead, wire.RuleModeUpDown)
					continue
				}
				for _, p := range parts {
					if !slices.Contains(ruleActions, strings.TrimSpace(p)) {
						add("/"+a.key, "%s: %s: unknown action %q: use %s", what, a.key, strings.TrimSpace(p), strings.Join(ruleActions, ", "))
					}
				}
			}
		}
	}
	check("migrationRules", rs.MigrationRules, true)
	check("domainRules", rs.DomainRules, false)
}

// validRuleName follows Confluent's rule names: a letter or _, then
// letters, digits or _.
func validRuleName(s string) bool {
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return s != ""
}

// checkMajors reports majors above 1 and sidecars of types that are not
// manifest events.
func (l *loader) checkMajors(set *Set) {
	for _, d := range l.all() {
		if l.listed[d.t.FullName] {
			continue
		}
		if d.t.Major > 1 {
			n := d.node.get("name")
			l.probs.add(d.t.File, n.line, n.col, "%s is major %d of %s, which is not an event in %s: only events have majors; list it under events (with compatibility_group: %s), or give the changed type a new name",
				d.t.File, d.t.Major, d.t.FullName, ManifestFile, wire.CompatibilityGroupMajorVersion)
		}
		if d.sidecar != nil {
			l.probs.add(d.sidecar.file, 1, 1, "%s is not an event in %s, and only events have data contracts: tag its fields in the contract of each event that uses it (e.g. %s.<field>), or list it under events",
				d.t.FullName, ManifestFile, d.t.FullName)
		}
	}
}

// contracts checks the sidecars' field tags against the parsed schemas and
// gives every event's majors their metadata and rule set.
func (l *loader) contracts(set *Set) {
	for _, e := range set.Events {
		for _, m := range e.Majors {
			d := l.defOf(m.Type)
			var md *wire.Metadata
			if sc := d.sidecar; sc != nil {
				md = cloneMetadata(sc.doc.Metadata)
				if rs := sc.doc.RuleSet; !rs.IsZero() {
					m.RuleSet = rs
				}
				m.Contract, m.pos, m.keyPos = sc.file, sc.pos, sc.keyPos
				l.checkTags(sc, m)
			}
			if m.Version > 1 || e.CompatibilityGroup != "" {
				if md == nil {
					md = &wire.Metadata{}
				}
				if md.Properties == nil {
					md.Properties = map[string]string{}
				}
				md.Properties[wire.PropertyMajorVersion] = strconv.Itoa(m.Version)
			}
			if !md.IsZero() {
				m.Metadata = md
			}
		}
	}
}

func (l *loader) checkTags(sc *sidecar, m *Major) {
	md := sc.doc.Metadata
	if md == nil || len(md.Tags) == 0 || m.Type.Schema == nil {
		return
	}
	paths := FieldPaths(m.Type.Schema)
	for _, pattern := range slices.Sorted(maps.Keys(md.Tags)) {
		if strings.TrimSpace(pattern) == "" || slices.ContainsFunc(paths, func(p string) bool { return MatchTagPath(pattern, p) }) {
			continue
		}
		hint := ""
		best, bestD := "", len(pattern)/2+2
		for _, p := range paths {
			if d := EditDistance(pattern, p); d < bestD {
				best, bestD = p, d
			}
		}
		if best != "" {
			hint = fmt.Sprintf("; did you mean %q?", best)
		}
		line, col := sc.keyAt("/metadata/tags/" + escapePointer(pattern))
		l.probs.add(sc.file, line, col, "tag path %q matches no field of %s (%s): a path is <record full name>.<field> of the event's record or a record it uses, with * (within a name) and ** (across names) as wildcards%s",
			pattern, m.Type.FullName, m.Type.File, hint)
	}
}

func cloneMetadata(md *wire.Metadata) *wire.Metadata {
	if md == nil {
		return nil
	}
	out := &wire.Metadata{Properties: maps.Clone(md.Properties), Sensitive: slices.Clone(md.Sensitive)}
	if md.Tags != nil {
		out.Tags = make(map[string][]string, len(md.Tags))
		for k, v := range md.Tags {
			out.Tags[k] = slices.Clone(v)
		}
	}
	return out
}

// FieldPaths returns the path of every field of every record s holds, s
// itself included, as data-contract tags name them:
// "<record full name>.<field name>" (e.g. "contrail.common.Address.street"),
// records in the order they are first met, each once, fields in schema
// order.
func FieldPaths(s avro.Schema) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(s avro.Schema)
	walk = func(s avro.Schema) {
		if r, ok := s.(*avro.RefSchema); ok {
			s = r.Schema()
		}
		switch s := s.(type) {
		case *avro.RecordSchema:
			if seen[s.FullName()] {
				return
			}
			seen[s.FullName()] = true
			for _, f := range s.Fields() {
				out = append(out, s.FullName()+"."+f.Name())
			}
			for _, f := range s.Fields() {
				walk(f.Type())
			}
		case *avro.ArraySchema:
			walk(s.Items())
		case *avro.MapSchema:
			walk(s.Values())
		case *avro.UnionSchema:
			for _, b := range s.Types() {
				walk(b)
			}
		}
	}
	walk(s)
	return out
}

// MatchTagPath reports whether a field path (see FieldPaths) matches a tag
// path of wire.Metadata.Tags, as Confluent's serializers match them: '?'
// matches one character other than '.', '*' any run of characters other than
// '.', '**' any run of characters, and '\' makes the next character literal.
// A pattern without wildcards matches itself only.
func MatchTagPath(pattern, path string) bool {
	pattern = strings.ReplaceAll(pattern, "**.*", "**")
	// at[j] says the pattern read so far matches path[:j].
	at := make([]bool, len(path)+1)
	at[0] = true
	for i := 0; i < len(pattern); i++ {
		next := make([]bool, len(path)+1)
		switch c := pattern[i]; c {
		case '*':
			across := i+1 < len(pattern) && pattern[i+1] == '*'
			if across {
				i++
			}
			next[0] = at[0]
			for j := 1; j <= len(path); j++ {
				next[j] = at[j] || (next[j-1] && (across || path[j-1] != '.'))
			}
		default:
			one := c == '?'
			if c == '\\' && i+1 < len(pattern) {
				i++
				c = pattern[i]
			}
			for j := 1; j <= len(path); j++ {
				next[j] = at[j-1] && ((one && path[j-1] != '.') || (!one && path[j-1] == c))
			}
		}
		at = next
	}
	return at[len(path)]
}

// FieldsTagged returns the field paths of s (see FieldPaths) that md tags
// with tag, e.g. every field tagged wire.TagPII, in FieldPaths order.
func FieldsTagged(md *wire.Metadata, s avro.Schema, tag string) []string {
	if md == nil || len(md.Tags) == 0 {
		return nil
	}
	var out []string
	for _, p := range FieldPaths(s) {
		for pattern, tags := range md.Tags {
			if slices.Contains(tags, tag) && MatchTagPath(pattern, p) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

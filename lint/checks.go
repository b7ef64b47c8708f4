package lint

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/contrail-events/contrail/schemas"
)

// This file holds the rules' bodies, in the order of the table in rules.go.
// Each sees one element from the walker and reports through the pass.

// --- MINIMAL ---------------------------------------------------------------

func namespaceDirectory(p *pass, d *def) {
	want := strings.ReplaceAll(d.t.FullName, ".", "/") + ".avsc"
	if d.t.Major > 1 {
		// A later major of an event: <Name>.v<N>.avsc beside major 1.
		want = strings.TrimSuffix(want, ".avsc") + ".v" + strconv.Itoa(d.t.Major) + ".avsc"
	}
	if d.t.File == want {
		return
	}
	p.report(d, namespacePtr(d), "%s is defined in %s, but its namespace puts it at %s: move the file to %s (the folders from the schema root spell the namespace; the type's name does not change, so moving is compatible)",
		d.t.FullName, d.t.File, want, want)
}

// namespacePtr points at where d's namespace is written.
func namespacePtr(d *def) string {
	if n, _ := d.obj["name"].(string); strings.Contains(n, ".") {
		return "/name" // a full name overrides "namespace"
	}
	if _, ok := d.obj["namespace"]; ok {
		return "/namespace"
	}
	return "/name"
}

// logicalBases are the logical types Contrail's codec (hamba/avro) and the
// Avro specification agree on, with the type each annotates.
var logicalBases = map[string]string{
	"decimal":                "bytes",
	"uuid":                   "string",
	"date":                   "int",
	"time-millis":            "int",
	"time-micros":            "long",
	"timestamp-millis":       "long",
	"timestamp-micros":       "long",
	"local-timestamp-millis": "long",
	"local-timestamp-micros": "long",
	"duration":               "fixed",
}

// specOnly are logical types of recent Avro specifications that
// hamba/avro, and so contrail gen and the serde, ignore; each with what to
// use instead.
var specOnly = map[string]string{
	"timestamp-nanos":       `"timestamp-micros"`,
	"local-timestamp-nanos": `"local-timestamp-micros"`,
	"big-decimal":           `"decimal" with a precision and scale`,
}

func logicalTypeUnknown(p *pass, s *schema) {
	obj := s.object()
	lt, ok := obj["logicalType"]
	if !ok {
		return
	}
	base := typeName(obj)
	name, isString := lt.(string)
	switch {
	case !isString:
		p.report(s.def, s.ptr+"/logicalType", "logicalType of %s is %s, not a name: Avro ignores it and the value is %s; write a logical type name such as \"timestamp-millis\"",
			s.where(), describe(lt), plain(base))
	case logicalBases[name] != "":
		return
	case specOnly[name] != "":
		p.report(s.def, s.ptr+"/logicalType", "logicalType %q of %s is in the Avro specification, but hamba/avro (used by contrail gen and the serde) ignores it, so the value is %s: use %s",
			name, s.where(), plain(base), specOnly[name])
	default:
		p.report(s.def, s.ptr+"/logicalType", "unknown logicalType %q on %s: Avro ignores it and the value is %s; %s",
			name, s.where(), plain(base), closest(name, slices.Sorted(maps.Keys(logicalBases))))
	}
}

func logicalTypeWrongBase(p *pass, s *schema) {
	obj := s.object()
	name, _ := obj["logicalType"].(string)
	want := logicalBases[name]
	if want == "" {
		return
	}
	base := typeName(obj)
	switch {
	case name == "decimal" && (base == "bytes" || base == "fixed"):
		return
	case name == "duration" && base == "fixed":
		if size, ok := obj["size"].(json.Number); ok && size.String() == "12" {
			return
		}
		p.report(s.def, s.ptr+"/logicalType", "logicalType \"duration\" on %s needs a fixed of size 12 (months, days, milliseconds), not size %s: Avro ignores it and the value is plain bytes; set \"size\": 12",
			s.where(), describe(obj["size"]))
		return
	case base == want:
		return
	}
	example := fmt.Sprintf(`{"type": %q, "logicalType": %q}`, want, name)
	switch name {
	case "duration":
		want, example = "a fixed of size 12", `a fixed type in its own file, {"type": "fixed", "name": "...", "size": 12, "logicalType": "duration"}`
	case "decimal":
		want, example = "bytes or a fixed", `{"type": "bytes", "logicalType": "decimal", "precision": ..., "scale": ...}`
	}
	p.report(s.def, s.ptr+"/logicalType", "logicalType %q annotates %s, not %s (on %s): Avro ignores it here and the value is %s; use %s",
		name, want, base, s.where(), plain(base), example)
}

func logicalTypeOnField(p *pass, f *field) {
	lt, ok := f.obj["logicalType"]
	if !ok {
		return
	}
	base := typeName(f.obj["type"])
	p.report(f.def, f.ptr+"/logicalType", "%s has \"logicalType\": %s beside its type, where Avro ignores it: the value is a plain %s. Move it into the type: \"type\": {\"type\": %q, \"logicalType\": %s} (then run contrail check: the value's meaning changes for readers)",
		f.where(), describe(lt), base, base, describe(lt))
}

func decimalWithoutLogicalType(p *pass, s *schema) {
	if obj := s.object(); obj != nil {
		if base := typeName(obj); base == "bytes" || base == "fixed" {
			if key := decimalKey(obj); key != "" {
				if _, ok := obj["logicalType"]; !ok {
					p.report(s.def, s.ptr+"/"+key, "%s has %q but no \"logicalType\": \"decimal\": the value is plain bytes and %s means nothing. Add \"logicalType\": \"decimal\" to the same object",
						upperFirst(s.where()), key, key)
				}
			}
		}
	}
	if !s.direct {
		return
	}
	// precision or scale on the field itself, beside a bytes or fixed type.
	f := s.field
	base := typeName(s.val)
	if d := p.tree.refOf(s.val, s.def.t.Namespace); d != nil {
		base = d.kind
	}
	if base != "bytes" && base != "fixed" {
		return
	}
	if _, ok := f.obj["logicalType"]; ok {
		return // LOGICAL_TYPE_ON_FIELD says where it belongs
	}
	if key := decimalKey(f.obj); key != "" {
		p.report(f.def, f.ptr+"/"+key, "%s has %q beside its type, with no decimal logical type: the value is plain bytes. Write the decimal as the type: \"type\": {\"type\": \"bytes\", \"logicalType\": \"decimal\", \"precision\": ..., \"scale\": ...}",
			f.where(), key)
	}
}

func decimalKey(obj map[string]any) string {
	for _, k := range []string{"precision", "scale"} {
		if _, ok := obj[k]; ok {
			return k
		}
	}
	return ""
}

// --- BASIC -----------------------------------------------------------------

func typeNameCase(p *pass, d *def) {
	if isPascal(d.t.Name) {
		return
	}
	p.report(d, "/name", "%s %s is not PascalCase: name it %s (and rename its file to match). A registered type's rename changes its full name and subject: keep the old full name in \"aliases\" and run contrail check",
		d.kind, d.t.FullName, toPascal(d.t.Name))
}

func fieldNameCase(p *pass, f *field) {
	conv := p.tree.fieldCase
	ok, fix := isCamel(f.name), toCamel(f.name)
	if conv == snakeCase {
		ok, fix = isSnake(f.name), toSnake(f.name)
	}
	if ok {
		return
	}
	p.report(f.def, f.ptr+"/name", "%s is not %s (%s): rename it %s. A registered field's rename needs the old name in its \"aliases\" so readers still match old data; run contrail check",
		f.where(), conv, p.tree.fieldCaseWhy, fix)
}

func enumSymbolCase(p *pass, d *def) {
	if d.kind != "enum" {
		return
	}
	syms, _ := d.obj["symbols"].([]any)
	for i, s := range syms {
		sym, _ := s.(string)
		if isUpperSnake(sym) {
			continue
		}
		p.report(d, "/symbols/"+strconv.Itoa(i), "symbol %s of enum %s is not UPPER_SNAKE_CASE: call it %s. Renaming a registered symbol is a breaking change: readers without the new symbol fall back to the enum's default",
			sym, d.t.FullName, toUpperSnake(sym))
	}
}

func namespaceCase(p *pass, d *def) {
	ns := d.t.Namespace
	if ns == "" {
		return
	}
	parts := strings.Split(ns, ".")
	ok := true
	for i, part := range parts {
		if !isSnake(part) {
			ok = false
			parts[i] = toSnake(part)
		}
	}
	if ok {
		return
	}
	want := strings.Join(parts, ".")
	p.report(d, namespacePtr(d), "namespace %s of %s is not lower case: use %s (lower-case words separated by dots, the folders %s). A namespace change renames the type: keep the old full name in \"aliases\" and run contrail check",
		ns, d.t.FullName, want, strings.ReplaceAll(want, ".", "/"))
}

// --- STANDARD --------------------------------------------------------------

func enumDefaultMissing(p *pass, d *def) {
	if d.kind != "enum" {
		return
	}
	if _, ok := d.obj["default"]; ok {
		return
	}
	fix := `Add the symbol UNKNOWN and "default": "UNKNOWN"`
	syms, _ := d.obj["symbols"].([]any)
	if slices.Contains(syms, any("UNKNOWN")) {
		fix = `Add "default": "UNKNOWN"`
	}
	p.report(d, "/symbols", "enum %s has no default: a reader of this version fails on every symbol added later. %s before you add symbols",
		d.t.FullName, fix)
}

func unionNullNotFirst(p *pass, s *schema) {
	u, ok := s.val.([]any)
	if !ok {
		return
	}
	for i, b := range u {
		if i > 0 && isNull(b) {
			p.report(s.def, s.ptr+"/"+strconv.Itoa(i), "the union %s of %s lists null as branch %d: put \"null\" first, so the field can default to null (%s)",
				describeUnion(u), s.where(), i+1, describeUnion(append([]any{"null"}, slices.Delete(slices.Clone(u), i, i+1)...)))
			return
		}
	}
}

func nullableFieldDefaultMissing(p *pass, f *field) {
	u, ok := f.obj["type"].([]any)
	if !ok || len(u) < 2 || !isNull(u[0]) {
		return
	}
	if _, ok := f.obj["default"]; ok {
		return
	}
	p.report(f.def, f.ptr+"/name", "nullable %s has no default: add \"default\": null, so writers may leave it out and the field can be added or removed without breaking readers",
		f.where())
}

func unionRecordsAmbiguous(p *pass, s *schema) {
	u, ok := s.val.([]any)
	if !ok {
		return
	}
	var recs []*def
	for _, b := range u {
		if d := p.tree.refOf(b, s.def.t.Namespace); d != nil && d.isRecord() {
			recs = append(recs, d)
		}
	}
	for i, a := range recs {
		allA, reqA := a.fieldNames()
		for _, b := range recs[i+1:] {
			allB, reqB := b.fieldNames()
			if !subset(reqA, allB) || !subset(reqB, allA) {
				continue
			}
			both := slices.Sorted(maps.Keys(union(reqA, reqB)))
			p.report(s.def, s.ptr, "the union of %s and %s in %s cannot be told apart in plain JSON (without Avro's union tag): an object with the fields {%s} is both, since each record has every field the other requires. Give %s a required field (no default) that %s lacks, such as its own id, or put a discriminating enum field in both",
				a.t.FullName, b.t.FullName, s.where(), strings.Join(both, ", "), b.t.Name, a.t.Name)
		}
	}
}

func subset(a, b map[string]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func union(a, b map[string]bool) map[string]bool {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// metadataField is the field the runtime reads event ids from (see
// eventing's fillMetadata): a record with a string eventId.
const metadataField = "metadata"

func eventMetadataMissing(p *pass) {
	suggest, add := "a record with eventId, correlationId and causationId fields, like contrail.common.EventMetadata",
		`Add a "metadata" field, first, whose type is a record with eventId, correlationId and causationId fields, like contrail.common.EventMetadata`
	for _, d := range p.tree.defs {
		if d.t.Name == "EventMetadata" && d.isRecord() {
			suggest = d.t.FullName
			add = fmt.Sprintf(`Add {"name": %q, "type": %q} as its first field`, metadataField, suggest)
			break
		}
	}
	for _, e := range p.tree.set.Events {
		for _, m := range e.Majors {
			eventMetadataOf(p, e, p.tree.defOf(m.Type), suggest, add)
		}
	}
}

// eventMetadataOf checks the metadata field of one major d of event e.
func eventMetadataOf(p *pass, e *schemas.Event, d *def, suggest, add string) {
	if d == nil {
		return
	}
	var meta *field
	for _, f := range p.tree.fields {
		if f.def == d && f.name == metadataField {
			meta = f
		}
	}
	if meta == nil {
		p.report(d, "/fields", "event %s (manifest.yaml line %d) has no %q field: the runtime reads metadata.eventId, correlationId and causationId for event ids, deduplication and trace headers. %s",
			d.t.FullName, e.Line, metadataField, add)
		return
	}
	md := p.tree.refOf(meta.obj["type"], d.t.Namespace)
	switch {
	case md == nil || !md.isRecord():
		p.report(d, meta.ptr+"/type", "%s must be a record (not %s) for the runtime to find the event's ids: make its type %s",
			meta.where(), describe(meta.obj["type"]), suggest)
	case !hasStringField(md, "eventId"):
		p.report(d, meta.ptr+"/type", "%s is %s, which has no string eventId field for the runtime to read and fill: add {\"name\": \"eventId\", \"type\": {\"type\": \"string\", \"logicalType\": \"uuid\"}} to it, or use %s",
			meta.where(), md.t.FullName, suggest)
	}
}

func hasStringField(d *def, name string) bool {
	for _, f := range d.fieldObjects() {
		if f["name"] == name {
			return typeName(f["type"]) == "string"
		}
	}
	return false
}

func namedTypeUnused(p *pass) {
	used := map[string]bool{}
	for _, e := range p.tree.set.Events {
		used[e.Type.FullName] = true
		for _, m := range e.Majors {
			for _, r := range m.Type.References {
				used[r] = true
			}
		}
	}
	for _, d := range p.tree.defs {
		if used[d.t.FullName] {
			continue
		}
		p.report(d, "/name", "%s %s is not an event in manifest.yaml and no event uses it: use it in an event, list it under events, or delete %s",
			d.kind, d.t.FullName, d.t.File)
	}
}

// --- DOCS ------------------------------------------------------------------

func typeDocMissing(p *pass, d *def) {
	if hasDoc(d.obj) {
		return
	}
	p.report(d, "/name", "%s %s has no doc: add \"doc\": \"...\" saying what it is (a doc is not part of the schema's canonical form, so adding one is compatible)",
		d.kind, d.t.FullName)
}

func fieldDocMissing(p *pass, f *field) {
	if hasDoc(f.obj) {
		return
	}
	p.report(f.def, f.ptr+"/name", "%s has no doc: add \"doc\": \"...\" saying what it holds (a doc is not part of the schema's canonical form, so adding one is compatible)",
		f.where())
}

func hasDoc(obj map[string]any) bool {
	s, _ := obj["doc"].(string)
	return strings.TrimSpace(s) != ""
}

// --- helpers ---------------------------------------------------------------

// plain says what a value of base is without its logical type.
func plain(base string) string {
	if base == "bytes" {
		return "plain bytes"
	}
	return "a plain " + base
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// describe renders a JSON value briefly for a message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case []any:
		return describeUnion(v)
	case map[string]any:
		if t, ok := v["type"].(string); ok {
			return fmt.Sprintf("a %s object", t)
		}
		return "an object"
	}
	return fmt.Sprint(v)
}

// describeUnion renders a union's branches: ["null", "string"].
func describeUnion(u []any) string {
	parts := make([]string, len(u))
	for i, b := range u {
		parts[i] = strconv.Quote(typeName(b))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// closest suggests the candidate nearest to s, or lists them.
func closest(s string, cands []string) string {
	best, bestD := "", 4
	for _, c := range cands {
		if d := schemas.EditDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "use one of " + strings.Join(cands, ", ")
}

// The field naming conventions.
const (
	camelCase = "camelCase"
	snakeCase = "snake_case"
)

func isPascal(s string) bool {
	return s != "" && s[0] >= 'A' && s[0] <= 'Z' && !strings.ContainsAny(s, "_")
}

func isCamel(s string) bool {
	return s != "" && s[0] >= 'a' && s[0] <= 'z' && !strings.ContainsAny(s, "_")
}

// isSnake: lower-case words of letters and digits joined by single underscores.
func isSnake(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

func isUpperSnake(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// words splits a name at underscores and case changes ("orderID" ->
// order, ID; "HTTPServer" -> HTTP, Server); digits stay with their word.
func words(s string) []string {
	var out []string
	rs := []rune(s)
	start := 0
	flush := func(end int) {
		if end > start {
			out = append(out, string(rs[start:end]))
		}
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '_' || r == '-' || r == ' ' || r == '.' {
			flush(i)
			start = i + 1
			continue
		}
		if i > start && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush(i)
				start = i
			}
		}
	}
	flush(len(rs))
	return out
}

func title(w string) string {
	w = strings.ToLower(w)
	if w == "" {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

func toPascal(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		b.WriteString(title(w))
	}
	return b.String()
}

func toCamel(s string) string {
	ws := words(s)
	var b strings.Builder
	for i, w := range ws {
		if i == 0 {
			b.WriteString(strings.ToLower(w))
		} else {
			b.WriteString(title(w))
		}
	}
	return b.String()
}

func toSnake(s string) string {
	ws := words(s)
	for i := range ws {
		ws[i] = strings.ToLower(ws[i])
	}
	return strings.Join(ws, "_")
}

func toUpperSnake(s string) string { return strings.ToUpper(toSnake(s)) }

package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/schemas"
)

// tree is a loaded schema tree as the walker sees it: every file's JSON
// decoded, and every element a rule can look at listed once, in file order.
type tree struct {
	set    *schemas.Set
	defs   []*def          // one per file, by path
	byName map[string]*def // full name -> definition
	fields []*field
	types  []*schema

	// fieldCase is the convention FIELD_NAME_CASE enforces, and why.
	fieldCase, fieldCaseWhy string
}

// def is one named type definition: the top-level object of one .avsc file
// (the loader allows nothing else in a file).
type def struct {
	t    *schemas.Type
	kind string // record, error, enum or fixed
	obj  map[string]any
}

// field is one field of a record.
type field struct {
	def   *def
	index int
	name  string
	obj   map[string]any
	ptr   string // JSON Pointer of the field object, e.g. "/fields/3"
}

// defOf returns the definition of the schema file of ty, nil if none.
func (t *tree) defOf(ty *schemas.Type) *def {
	for _, d := range t.defs {
		if d.t == ty {
			return d
		}
	}
	return nil
}

// where names the field in messages: "field payment of contrail.orders.OrderPlaced".
func (f *field) where() string {
	return fmt.Sprintf("field %s of %s", f.name, f.def.t.FullName)
}

// schema is one type expression: the definition itself, a field's type, a
// union branch, array items or map values.
type schema struct {
	def *def
	ptr string
	val any // a name (string), a union ([]any) or an object (map[string]any)
	// field is the field this type belongs to (directly or nested), nil for
	// the definition itself; direct says it is the field's own "type".
	field  *field
	direct bool
}

// where names the type expression in messages.
func (s *schema) where() string {
	switch {
	case s.field == nil:
		return s.def.t.FullName
	case s.direct:
		return "the type of " + s.field.where()
	}
	return "a type inside " + s.field.where()
}

// object returns the type expression as a JSON object, or nil.
func (s *schema) object() map[string]any {
	m, _ := s.val.(map[string]any)
	return m
}

// newTree decodes every schema file of set for the walker: every type,
// the later majors of events included (byName holds the type a reference by
// full name means).
func newTree(set *schemas.Set) (*tree, error) {
	t := &tree{set: set, byName: map[string]*def{}}
	for _, ty := range set.Order() {
		root, err := decodeJSON(ty.Text)
		if err != nil {
			return nil, fmt.Errorf("lint: %s: %w", ty.File, err)
		}
		obj, ok := root.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("lint: %s: not a JSON object", ty.File)
		}
		kind, _ := obj["type"].(string)
		d := &def{t: ty, kind: kind, obj: obj}
		t.defs = append(t.defs, d)
		if set.Types[ty.FullName] == ty {
			t.byName[ty.FullName] = d
		}
	}
	slices.SortFunc(t.defs, func(a, b *def) int { return strings.Compare(a.t.File, b.t.File) })
	for _, d := range t.defs {
		t.types = append(t.types, &schema{def: d, ptr: "", val: d.obj})
		if !d.isRecord() {
			continue
		}
		list, _ := d.obj["fields"].([]any)
		for i, v := range list {
			fv, ok := v.(map[string]any)
			if !ok {
				continue
			}
			name, _ := fv["name"].(string)
			f := &field{def: d, index: i, name: name, obj: fv, ptr: "/fields/" + strconv.Itoa(i)}
			t.fields = append(t.fields, f)
			if typ, ok := fv["type"]; ok {
				t.visit(d, typ, f.ptr+"/type", f, true)
			}
		}
	}
	return t, nil
}

// visit lists a type expression and the ones nested in it.
func (t *tree) visit(d *def, v any, ptr string, f *field, direct bool) {
	t.types = append(t.types, &schema{def: d, ptr: ptr, val: v, field: f, direct: direct})
	switch v := v.(type) {
	case []any:
		for i, it := range v {
			t.visit(d, it, ptr+"/"+strconv.Itoa(i), f, false)
		}
	case map[string]any:
		switch v["type"] {
		case "array":
			if it, ok := v["items"]; ok {
				t.visit(d, it, ptr+"/items", f, false)
			}
		case "map":
			if it, ok := v["values"]; ok {
				t.visit(d, it, ptr+"/values", f, false)
			}
		}
	}
}

func decodeJSON(text string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func (d *def) isRecord() bool { return d.kind == "record" || d.kind == "error" }

// fieldObjects returns a record's field objects.
func (d *def) fieldObjects() []map[string]any {
	list, _ := d.obj["fields"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, f := range list {
		if m, ok := f.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// fieldNames returns a record's field names, and the subset without a
// default (the fields every writer writes and every reader needs).
func (d *def) fieldNames() (all, required map[string]bool) {
	all, required = map[string]bool{}, map[string]bool{}
	for _, f := range d.fieldObjects() {
		name, _ := f["name"].(string)
		all[name] = true
		if _, ok := f["default"]; !ok {
			required[name] = true
		}
	}
	return all, required
}

// resolve returns the definition a type name means inside namespace ns
// (Avro's rule: a dotted name is full, else the enclosing namespace first),
// or nil for a primitive or unknown name.
func (t *tree) resolve(name, ns string) *def {
	if !strings.Contains(name, ".") && ns != "" {
		if d := t.byName[ns+"."+name]; d != nil {
			return d
		}
	}
	return t.byName[name]
}

// refOf returns the definition a type expression refers to by name ("x.Y"
// or {"type": "x.Y"}), or nil.
func (t *tree) refOf(v any, ns string) *def {
	switch v := v.(type) {
	case string:
		return t.resolve(v, ns)
	case map[string]any:
		if s, ok := v["type"].(string); ok {
			return t.resolve(s, ns)
		}
	}
	return nil
}

// typeName is the type a type expression names: the name itself, an
// object's "type", or "union".
func typeName(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		return "union"
	case map[string]any:
		s, _ := v["type"].(string)
		return s
	}
	return ""
}

// isNull reports whether a type expression is the null type.
func isNull(v any) bool { return typeName(v) == "null" }

// pass is one rule's run over the tree.
type pass struct {
	rule     *Rule
	tree     *tree
	findings []compat.Finding
}

// report adds a finding of the pass's rule at the JSON value ptr of d's
// file (the nearest enclosing value with a known position).
func (p *pass) report(d *def, ptr, format string, args ...any) {
	p.findings = append(p.findings, compat.Finding{
		Rule:    p.rule.ID,
		Reader:  locate(d.t, ptr),
		Message: fmt.Sprintf(format, args...),
	})
}

// locate returns the location of the JSON value at ptr in t's file, or of
// its nearest ancestor with a known position.
func locate(t *schemas.Type, ptr string) compat.Location {
	for {
		if line, col, ok := t.Pos(ptr); ok {
			return compat.Location{Path: ptr, File: t.File, Line: line, Col: col}
		}
		if ptr == "" {
			return compat.Location{File: t.File}
		}
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
}

// run runs rule over the tree and returns its findings in walk order.
func (t *tree) run(rule *Rule) []compat.Finding {
	p := &pass{rule: rule, tree: t}
	c := rule.check
	if c.tree != nil {
		c.tree(p)
	}
	if c.named != nil {
		for _, d := range t.defs {
			c.named(p, d)
		}
	}
	if c.field != nil {
		for _, f := range t.fields {
			c.field(p, f)
		}
	}
	if c.schema != nil {
		for _, s := range t.types {
			c.schema(p, s)
		}
	}
	return p.findings
}

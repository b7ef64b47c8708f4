package schemas

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

var primitives = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true,
}

const primitiveList = "null, boolean, int, long, float, double, bytes, string"

// validator checks one file's type expressions with positions.
type validator struct {
	l    *loader
	d    *def
	file string
	ns   string
	refs []ref
}

func (v *validator) errAt(n *jsonNode, format string, args ...any) {
	v.l.probs.add(v.file, n.line, n.col, format, args...)
}

func (v *validator) topLevel(root *jsonNode) {
	v.named(root, v.d.kind, true)
}

// schema checks any type expression: a name, a union or an object.
func (v *validator) schema(n *jsonNode, ns string) {
	switch n.kind {
	case jsonString:
		v.name(n, n.str, ns)
	case jsonArray:
		v.union(n, ns)
	case jsonObject:
		v.object(n, ns)
	default:
		v.errAt(n, "a type must be a name, a union (JSON array) or an object, not a %s", n.kind)
	}
}

// name checks a type given by name: a primitive or a named type reference.
func (v *validator) name(n *jsonNode, s, ns string) {
	if primitives[s] {
		return
	}
	switch s {
	case "record", "error", "enum", "fixed", "array", "map":
		v.errAt(n, `%q is not a type name: write it as an object, e.g. {"type": %q, ...}`, s, s)
		return
	}
	full := v.resolve(s, ns)
	if _, ok := v.l.defs[full]; !ok {
		if !strings.Contains(s, ".") {
			v.errAt(n, "unknown type %q: use a primitive (%s), a complex type object, or the full name of a named type%s", s, primitiveList, v.suggest(s, ns))
		} else {
			v.errAt(n, "undefined named reference %q: no .avsc file defines it (expected %s)%s", s, filePathFor(full), v.suggest(s, ns))
		}
		return
	}
	if ds := v.l.majors[full]; len(ds) > 1 && full != v.d.t.FullName {
		v.errAt(n, "%s has %d live majors (%s to %s): a reference by full name cannot say which; refer to a shared type that both use instead of the event",
			full, len(ds), ds[0].t.File, ds[len(ds)-1].t.File)
		return
	}
	if !slices.ContainsFunc(v.refs, func(r ref) bool { return r.name == full }) {
		v.refs = append(v.refs, ref{name: full, line: n.line, col: n.col})
	}
}

// suggest proposes the closest known name.
func (v *validator) suggest(s, ns string) string {
	best, bestD := "", 3
	cands := slices.AppendSeq(slices.Collect(maps.Keys(primitives)), maps.Keys(v.l.defs))
	slices.Sort(cands)
	for _, c := range cands {
		d := EditDistance(strings.ToLower(s), strings.ToLower(c))
		if i := strings.LastIndexByte(c, '.'); i >= 0 && !strings.Contains(s, ".") {
			d = min(d, EditDistance(strings.ToLower(s), strings.ToLower(c[i+1:])))
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// EditDistance is the Levenshtein distance between a and b, in bytes: how
// "did you mean" suggestions (here and in lint) pick the closest name.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (v *validator) union(n *jsonNode, ns string) {
	if len(n.items) == 0 {
		v.errAt(n, "empty union: list at least one type")
		return
	}
	seen := map[string]*jsonNode{}
	for _, it := range n.items {
		if it.kind == jsonArray {
			v.errAt(it, "a union may not directly contain another union: list its branches in the outer union")
			continue
		}
		v.schema(it, ns)
		key := v.branchKey(it, ns)
		if key == "" {
			continue
		}
		if prev, dup := seen[key]; dup {
			v.errAt(it, "union lists %s twice (first at %d:%d): a union may hold each type once", key, prev.line, prev.col)
			continue
		}
		seen[key] = it
	}
}

// branchKey is what makes a union branch unique: the primitive or complex
// type name, or a named type's full name.
func (v *validator) branchKey(n *jsonNode, ns string) string {
	switch n.kind {
	case jsonString:
		if primitives[n.str] {
			return n.str
		}
		return v.resolve(n.str, ns)
	case jsonObject:
		t := n.get("type")
		if t == nil || t.kind != jsonString {
			return ""
		}
		if namedKinds[t.str] {
			name := n.get("name")
			if name == nil || name.kind != jsonString {
				return ""
			}
			return qualify(ns, name.str)
		}
		if primitives[t.str] || t.str == "array" || t.str == "map" {
			return t.str
		}
		return v.resolve(t.str, ns)
	}
	return ""
}

// resolve returns the full name a reference s means in namespace ns.
func (v *validator) resolve(s, ns string) string {
	if strings.Contains(s, ".") {
		return s
	}
	if _, ok := v.l.defs[qualify(ns, s)]; ok {
		return qualify(ns, s)
	}
	return s
}

func (v *validator) object(n *jsonNode, ns string) {
	t := n.member("type")
	if t == nil {
		v.errAt(n, `missing "type" in a type object`)
		return
	}
	if t.val.kind != jsonString {
		v.errAt(t.val, `"type" of a type object must be a string, not a %s`, t.val.kind)
		return
	}
	switch s := t.val.str; {
	case primitives[s]:
		v.logical(n, s)
	case namedKinds[s]:
		v.named(n, s, false)
	case s == "array":
		items := n.get("items")
		if items == nil {
			v.errAt(n, `an array needs "items", the type of its elements`)
			return
		}
		v.schema(items, ns)
	case s == "map":
		values := n.get("values")
		if values == nil {
			v.errAt(n, `a map needs "values", the type of its values (keys are strings)`)
			return
		}
		v.schema(values, ns)
	default:
		v.name(t.val, s, ns)
	}
}

// logical checks the properties of known logical types.
func (v *validator) logical(n *jsonNode, prim string) {
	lt := n.get("logicalType")
	if lt == nil || lt.kind != jsonString {
		return
	}
	switch lt.str {
	case "decimal":
		if prim != "bytes" {
			v.errAt(lt, "logicalType decimal annotates bytes or fixed, not %s", prim)
			return
		}
		v.decimal(n, -1)
	case "uuid":
		if prim != "string" {
			v.errAt(lt, "logicalType uuid annotates string, not %s", prim)
		}
	case "timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros", "time-micros":
		if prim != "long" {
			v.errAt(lt, "logicalType %s annotates long, not %s", lt.str, prim)
		}
	case "date", "time-millis":
		if prim != "int" {
			v.errAt(lt, "logicalType %s annotates int, not %s", lt.str, prim)
		}
	}
}

// decimal checks precision and scale; size is the fixed size or -1.
func (v *validator) decimal(n *jsonNode, size int) {
	p := n.get("precision")
	if p == nil || p.kind != jsonNumber {
		v.errAt(n, `a decimal needs "precision", a positive integer (total digits)`)
		return
	}
	prec, err := strconv.Atoi(p.str)
	if err != nil || prec <= 0 {
		v.errAt(p, "decimal precision must be a positive integer, not %s", p.str)
		return
	}
	if size > 0 {
		// The largest precision a signed size-byte two's complement holds.
		maxPrec := int(float64(8*size-1) * 0.30102999566398120)
		if prec > maxPrec {
			v.errAt(p, "decimal precision %d does not fit in fixed size %d (at most %d)", prec, size, maxPrec)
		}
	}
	if s := n.get("scale"); s != nil {
		scale, err := strconv.Atoi(s.str)
		if s.kind != jsonNumber || err != nil || scale < 0 || scale > prec {
			v.errAt(s, "decimal scale must be an integer from 0 to the precision (%d)", prec)
		}
	}
}

// named checks a record, enum or fixed definition.
func (v *validator) named(n *jsonNode, kind string, top bool) {
	if !top {
		name := n.get("name")
		full := "a named type"
		if name != nil && name.kind == jsonString {
			full = qualify(v.ns, name.str)
		}
		v.errAt(n, "%s is defined inline: define it in its own file %s and refer to it by its full name", full, filePathFor(full))
		return
	}
	ns := v.d.t.Namespace
	v.aliases(n)
	switch kind {
	case "record", "error":
		v.record(n, ns)
	case "enum":
		v.enum(n)
	case "fixed":
		size := n.get("size")
		sz, err := 0, error(nil)
		if size != nil {
			sz, err = strconv.Atoi(size.str)
		}
		if size == nil || size.kind != jsonNumber || err != nil || sz < 0 {
			at := n
			if size != nil {
				at = size
			}
			v.errAt(at, `a fixed needs "size", a non-negative integer number of bytes`)
			return
		}
		if lt := n.get("logicalType"); lt != nil && lt.kind == jsonString && lt.str == "decimal" {
			v.decimal(n, sz)
		}
	}
}

func (v *validator) record(n *jsonNode, ns string) {
	fields := n.get("fields")
	if fields == nil {
		v.errAt(n, `a record needs "fields", a JSON array (it may be empty)`)
		return
	}
	if fields.kind != jsonArray {
		v.errAt(fields, `"fields" must be a JSON array, not a %s`, fields.kind)
		return
	}
	seen := map[string]*jsonNode{}
	for _, f := range fields.items {
		if f.kind != jsonObject {
			v.errAt(f, `a field must be an object {"name": ..., "type": ...}, not a %s`, f.kind)
			continue
		}
		name := f.get("name")
		if name == nil || name.kind != jsonString {
			v.errAt(f, `a field needs "name", a string`)
			continue
		}
		if !validName(name.str) {
			v.errAt(name, "invalid field name %q: names start with [A-Za-z_] and continue with [A-Za-z0-9_]", name.str)
		}
		if prev, dup := seen[name.str]; dup {
			v.errAt(name, "duplicate field name %q (first at %d:%d): rename or remove one", name.str, prev.line, prev.col)
		} else {
			seen[name.str] = name
		}
		if o := f.get("order"); o != nil && (o.kind != jsonString || (o.str != "ascending" && o.str != "descending" && o.str != "ignore")) {
			v.errAt(o, `field %q has an invalid "order": use "ascending", "descending" or "ignore"`, name.str)
		}
		v.aliases(f)
		typ := f.get("type")
		if typ == nil {
			v.errAt(f, `field %q needs "type"`, name.str)
			continue
		}
		errs := len(v.l.probs.list)
		v.schema(typ, ns)
		if def := f.get("default"); def != nil && len(v.l.probs.list) == errs {
			if at, msg := v.checkDefault(typ, ns, def, 0); msg != "" {
				v.errAt(at, "default of field %q does not match its type: %s", name.str, msg)
			}
		}
	}
}

// aliases checks an "aliases" member: a JSON array of (dotted) names.
func (v *validator) aliases(n *jsonNode) {
	a := n.get("aliases")
	if a == nil {
		return
	}
	if a.kind != jsonArray {
		v.errAt(a, `"aliases" must be a JSON array of names`)
		return
	}
	for _, it := range a.items {
		ok := it.kind == jsonString && it.str != ""
		if ok {
			for _, part := range strings.Split(it.str, ".") {
				ok = ok && validName(part)
			}
		}
		if !ok {
			v.errAt(it, "invalid alias: aliases are names matching [A-Za-z_][A-Za-z0-9_]* (dotted for named types)")
		}
	}
}

func (v *validator) enum(n *jsonNode) {
	syms := n.get("symbols")
	if syms == nil || syms.kind != jsonArray {
		at := n
		if syms != nil {
			at = syms
		}
		v.errAt(at, `an enum needs "symbols", a JSON array of names`)
		return
	}
	if len(syms.items) == 0 {
		v.errAt(syms, "an enum needs at least one symbol")
		return
	}
	seen := map[string]*jsonNode{}
	for _, s := range syms.items {
		if s.kind != jsonString || !validName(s.str) {
			v.errAt(s, "invalid enum symbol: symbols are strings matching [A-Za-z_][A-Za-z0-9_]*")
			continue
		}
		if prev, dup := seen[s.str]; dup {
			v.errAt(s, "duplicate enum symbol %q (first at %d:%d)", s.str, prev.line, prev.col)
		}
		seen[s.str] = s
	}
	if def := n.get("default"); def != nil {
		if def.kind != jsonString || seen[def.str] == nil {
			v.errAt(def, "enum default must be one of its symbols")
		}
	}
}

// checkDefault checks a default value against a type expression and
// returns the offending value and a message, or "" when it matches.
func (v *validator) checkDefault(typ *jsonNode, ns string, val *jsonNode, depth int) (*jsonNode, string) {
	if depth > maxJSONDepth {
		return val, "default nests too deeply"
	}
	switch typ.kind {
	case jsonArray:
		if len(typ.items) == 0 {
			return nil, ""
		}
		at, msg := v.checkDefault(typ.items[0], ns, val, depth+1)
		if msg != "" {
			return at, msg + fmt.Sprintf(" (a union's default must match its first branch, %s: reorder the branches or change the default)", describeType(typ.items[0]))
		}
		return nil, ""
	case jsonString:
		if primitives[typ.str] {
			return checkPrimitiveDefault(typ.str, val)
		}
		d := v.l.defs[v.resolve(typ.str, ns)]
		if d == nil {
			return nil, ""
		}
		return v.checkNamedDefault(d.node, d.kind, d.t.Namespace, val, depth)
	case jsonObject:
		t := typ.get("type")
		if t == nil || t.kind != jsonString {
			return nil, ""
		}
		switch {
		case primitives[t.str]:
			return checkPrimitiveDefault(t.str, val)
		case t.str == "array":
			if val.kind != jsonArray {
				return val, fmt.Sprintf("got %s, want an array", describeValue(val))
			}
			for _, it := range val.items {
				if at, msg := v.checkDefault(typ.get("items"), ns, it, depth+1); msg != "" {
					return at, msg
				}
			}
			return nil, ""
		case t.str == "map":
			if val.kind != jsonObject {
				return val, fmt.Sprintf("got %s, want an object (a map)", describeValue(val))
			}
			for _, m := range val.members {
				if at, msg := v.checkDefault(typ.get("values"), ns, m.val, depth+1); msg != "" {
					return at, msg
				}
			}
			return nil, ""
		case namedKinds[t.str]:
			return v.checkNamedDefault(typ, t.str, ns, val, depth)
		default:
			d := v.l.defs[v.resolve(t.str, ns)]
			if d == nil {
				return nil, ""
			}
			return v.checkNamedDefault(d.node, d.kind, d.t.Namespace, val, depth)
		}
	}
	return nil, ""
}

func (v *validator) checkNamedDefault(n *jsonNode, kind, ns string, val *jsonNode, depth int) (*jsonNode, string) {
	if v.brokenNode(n) {
		// The type's own problems are reported; judging a default against
		// a broken type would only add noise.
		return nil, ""
	}
	switch kind {
	case "enum":
		var syms []string
		if s := n.get("symbols"); s != nil {
			for _, it := range s.items {
				syms = append(syms, it.str)
			}
		}
		if val.kind != jsonString || !slices.Contains(syms, val.str) {
			return val, fmt.Sprintf("got %s, want one of the enum symbols %s", describeValue(val), strings.Join(syms, ", "))
		}
	case "fixed":
		sizeNode := n.get("size")
		if sizeNode == nil {
			return nil, ""
		}
		size, _ := strconv.Atoi(sizeNode.str)
		if val.kind != jsonString || len([]rune(val.str)) != size {
			return val, fmt.Sprintf("got %s, want a string of %d characters (one per byte)", describeValue(val), size)
		}
	case "record", "error":
		if val.kind != jsonObject {
			return val, fmt.Sprintf("got %s, want an object with the record's fields", describeValue(val))
		}
		fields := n.get("fields")
		if fields == nil {
			return nil, ""
		}
		for _, f := range fields.items {
			name, typ := f.get("name"), f.get("type")
			if name == nil || typ == nil {
				continue
			}
			fv := val.get(name.str)
			if fv == nil {
				if f.get("default") == nil {
					return val, fmt.Sprintf("missing field %q, which has no default", name.str)
				}
				continue
			}
			if at, msg := v.checkDefault(typ, ns, fv, depth+1); msg != "" {
				return at, msg
			}
		}
	}
	return nil, ""
}

// brokenNode reports whether n is the root of a file with problems.
func (v *validator) brokenNode(n *jsonNode) bool {
	for _, d := range v.l.all() {
		if d.node == n {
			for _, e := range v.l.probs.list {
				if e.File == d.t.File {
					return true
				}
			}
		}
	}
	return false
}

func checkPrimitiveDefault(prim string, val *jsonNode) (*jsonNode, string) {
	want := map[string]string{
		"null": "null", "boolean": "true or false", "int": "a 32-bit integer", "long": "a 64-bit integer",
		"float": "a number", "double": "a number", "bytes": "a string (one character per byte)", "string": "a string",
	}[prim]
	ok := false
	switch prim {
	case "null":
		ok = val.kind == jsonNull
	case "boolean":
		ok = val.kind == jsonBool
	case "int":
		_, err := strconv.ParseInt(val.str, 10, 32)
		ok = val.kind == jsonNumber && err == nil
	case "long":
		_, err := strconv.ParseInt(val.str, 10, 64)
		ok = val.kind == jsonNumber && err == nil
	case "float", "double":
		ok = val.kind == jsonNumber
		if ok {
			_, ok = new(big.Float).SetString(val.str)
		}
	case "bytes":
		ok = val.kind == jsonString && !strings.ContainsFunc(val.str, func(r rune) bool { return r > 0xff })
	case "string":
		ok = val.kind == jsonString
	}
	if ok {
		return nil, ""
	}
	return val, fmt.Sprintf("got %s, want %s", describeValue(val), want)
}

func describeValue(n *jsonNode) string {
	switch n.kind {
	case jsonString:
		return "string " + strconv.Quote(n.str)
	case jsonNumber:
		return "number " + n.str
	case jsonBool:
		return strconv.FormatBool(n.b)
	case jsonNull:
		return "null"
	}
	return "an " + n.kind.String()
}

func describeType(n *jsonNode) string {
	switch n.kind {
	case jsonString:
		return strconv.Quote(n.str)
	case jsonObject:
		if t := n.get("type"); t != nil && t.kind == jsonString {
			return strconv.Quote(t.str)
		}
	}
	return "a " + n.kind.String()
}

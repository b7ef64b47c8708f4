package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/compat"
)

// Change is one difference between two versions of a schema, found by
// walking both as Avro types (not as text): a field added or removed, a
// type, default, symbol or doc changed. Findings are the compat engine's
// findings that point at it; with any that the level requires, the change
// is breaking.
type Change struct {
	// Where names the record and field, e.g. `record contrail.shipping.OrderShipped field "carrier"`.
	Where string
	// What says what changed, e.g. "field added".
	What string
	// Old and New describe both sides ("" when a side has nothing).
	Old, New string
	// OldPath and NewPath are JSON Pointers into each version (NoPath when
	// the element does not exist on that side), in the form compat.Finding
	// locations use for a schema without a source file.
	OldPath, NewPath string
	// Findings are the compat findings located at this change.
	Findings []DiffFinding
}

// Breaking reports whether a finding of this change breaks the level.
func (c Change) Breaking() bool {
	for _, f := range c.Findings {
		if f.Breaking {
			return true
		}
	}
	return false
}

// NoPath is a Change's path on the side where the changed element does
// not exist (it is not a JSON Pointer, which is "" or starts with "/").
const NoPath = "-"

// DiffFinding is a compat finding with the direction it was found in.
type DiffFinding struct {
	compat.Finding
	// Backward is true for "the new version reads data written with the
	// old one" (compat.Check(new, old)), false for the forward direction.
	Backward bool
	// Breaking is true when the level checks this direction.
	Breaking bool
}

// DirectionName is "backward" or "forward".
func (f DiffFinding) DirectionName() string {
	if f.Backward {
		return "backward"
	}
	return "forward"
}

// SemanticDiff compares two versions of a schema: every change, each with
// the findings of compat.Check in both directions located at it, labelled
// breaking when level checks that direction (BACKWARD*: the new version
// must read the old; FORWARD*: the old must read the new; FULL*: both;
// NONE: neither). Findings no change explains are returned in other (none
// are expected; the page shows them anyway). oldLabel and newLabel name
// the versions in the findings' messages.
func SemanticDiff(old, new avro.Schema, oldLabel, newLabel string, level compat.Level) (changes []Change, other []DiffFinding) {
	d := &differ{oldDefs: compat.Definitions(old), newDefs: compat.Definitions(new), seen: map[[2]string]bool{}}
	d.walk(old, new, "", "", "top-level schema")
	back, fwd := checksDirections(level)
	var findings []DiffFinding
	for _, f := range compat.Check(compat.Schema{Schema: new, Label: newLabel}, compat.Schema{Schema: old, Label: oldLabel}) {
		findings = append(findings, DiffFinding{Finding: f, Backward: true, Breaking: back})
	}
	for _, f := range compat.Check(compat.Schema{Schema: old, Label: oldLabel}, compat.Schema{Schema: new, Label: newLabel}) {
		findings = append(findings, DiffFinding{Finding: f, Backward: false, Breaking: fwd})
	}
	for _, f := range findings {
		newPath, oldPath := f.Reader.Path, f.Writer.Path
		if !f.Backward {
			newPath, oldPath = f.Writer.Path, f.Reader.Path
		}
		// The change whose paths hold the finding's most closely.
		best, score := -1, 0
		for i, c := range d.changes {
			if s := matchLen(c.NewPath, newPath) + matchLen(c.OldPath, oldPath); s > score {
				best, score = i, s
			}
		}
		if best < 0 {
			other = append(other, f)
			continue
		}
		d.changes[best].Findings = append(d.changes[best].Findings, f)
	}
	return d.changes, other
}

// checksDirections says which directions level checks.
func checksDirections(level compat.Level) (backward, forward bool) {
	switch level {
	case compat.Backward, compat.BackwardTransitive:
		return true, false
	case compat.Forward, compat.ForwardTransitive:
		return false, true
	case compat.Full, compat.FullTransitive:
		return true, true
	}
	return false, false
}

// matchLen scores how closely a change's path base holds a finding's path
// p: 0 when p is not at or under base (or the change has no such side),
// else the longer base, the closer.
func matchLen(base, p string) int {
	if base != NoPath && (p == base || strings.HasPrefix(p, base+"/")) {
		return len(base) + 1
	}
	return 0
}

// differ walks two schemas side by side.
type differ struct {
	oldDefs, newDefs map[string]string
	seen             map[[2]string]bool
	changes          []Change
}

func (d *differ) add(where, what, old, new, op, np string) {
	d.changes = append(d.changes, Change{Where: where, What: what, Old: old, New: new, OldPath: op, NewPath: np})
}

func deref(s avro.Schema) avro.Schema {
	for {
		r, ok := s.(*avro.RefSchema)
		if !ok {
			return s
		}
		s = r.Schema()
	}
}

// walk compares old (at JSON Pointer op) with new (at np).
func (d *differ) walk(old, new avro.Schema, op, np, where string) {
	o, n := deref(old), deref(new)
	ou, oIsU := o.(*avro.UnionSchema)
	nu, nIsU := n.(*avro.UnionSchema)
	switch {
	case oIsU && nIsU:
		d.unions(ou, nu, op, np, where)
		return
	case nIsU:
		// A type became a union: fine when the union has a branch for it.
		for j, b := range nu.Types() {
			if sameKind(o, b) {
				d.add(where, "became a union", typeName(o), typeName(n), op, np)
				d.walk(o, b, op, np+"/"+strconv.Itoa(j), where)
				return
			}
		}
		d.add(where, "type changed", typeName(o), typeName(n), op, np)
		return
	case oIsU:
		for i, b := range ou.Types() {
			if sameKind(b, n) {
				d.add(where, "union narrowed to one type", typeName(o), typeName(n), op, np)
				d.walk(b, n, op+"/"+strconv.Itoa(i), np, where)
				return
			}
		}
		d.add(where, "type changed", typeName(o), typeName(n), op, np)
		return
	}
	if o.Type() != n.Type() {
		d.add(where, "type changed", typeName(o), typeName(n), op, np)
		return
	}
	switch nt := n.(type) {
	case *avro.RecordSchema:
		d.record(o.(*avro.RecordSchema), nt)
	case *avro.EnumSchema:
		d.enum(o.(*avro.EnumSchema), nt)
	case *avro.FixedSchema:
		ot := o.(*avro.FixedSchema)
		if !d.named(ot, nt) {
			return
		}
		op, np = d.oldDefs[ot.FullName()], d.newDefs[nt.FullName()]
		w := "fixed " + nt.FullName()
		if ot.FullName() != nt.FullName() {
			d.add(w, "renamed", ot.FullName(), nt.FullName(), op, np)
		}
		d.props(ot, nt, op, np, w)
		if ot.Size() != nt.Size() {
			d.add(w, "size changed", strconv.Itoa(ot.Size())+" bytes", strconv.Itoa(nt.Size())+" bytes", op+"/size", np+"/size")
		}
		d.logical(ot.Logical(), nt.Logical(), op, np, w)
	case *avro.ArraySchema:
		d.props(o, n, op, np, where)
		d.walk(o.(*avro.ArraySchema).Items(), nt.Items(), op+"/items", np+"/items", where)
	case *avro.MapSchema:
		d.props(o, n, op, np, where)
		d.walk(o.(*avro.MapSchema).Values(), nt.Values(), op+"/values", np+"/values", where)
	case *avro.PrimitiveSchema:
		d.props(o, n, op, np, where)
		d.logical(o.(*avro.PrimitiveSchema).Logical(), nt.Logical(), op, np, where)
	}
}

// props reports a change of a type's custom properties (a fixed type's or
// a primitive's "doc" is one).
func (d *differ) props(o, n avro.Schema, op, np, where string) {
	type propser interface{ Props() map[string]any }
	po, ok1 := o.(propser)
	pn, ok2 := n.(propser)
	if !ok1 || !ok2 {
		return
	}
	a, b := po.Props(), pn.Props()
	if len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b) {
		return
	}
	d.add(where, "properties changed", jsonText(a), jsonText(b), op, np)
}

// named reports whether the pair is walked for the first time, marking it.
func (d *differ) named(o, n avro.NamedSchema) bool {
	k := [2]string{o.FullName(), n.FullName()}
	if d.seen[k] {
		return false
	}
	d.seen[k] = true
	return true
}

func (d *differ) record(o, n *avro.RecordSchema) {
	if !d.named(o, n) {
		return
	}
	op, np := d.oldDefs[o.FullName()], d.newDefs[n.FullName()]
	rec := "record " + n.FullName()
	if o.FullName() != n.FullName() {
		d.add(rec, "renamed", o.FullName(), n.FullName(), op, np)
	}
	if o.Doc() != n.Doc() {
		d.add(rec, "doc changed", o.Doc(), n.Doc(), op, np)
	}
	d.props(o, n, op, np, rec)
	ofs, nfs := o.Fields(), n.Fields()
	used := make([]bool, len(ofs))
	for j, nf := range nfs {
		where := rec + " field " + strconv.Quote(nf.Name())
		nfp := np + "/fields/" + strconv.Itoa(j)
		i := fieldIndex(ofs, nf)
		if i < 0 {
			def := "no default"
			if nf.HasDefault() {
				def = "default " + jsonText(nf.Default())
			}
			d.add(where, "field added", "", typeName(nf.Type())+", "+def, NoPath, nfp)
			continue
		}
		used[i] = true
		of := ofs[i]
		ofp := op + "/fields/" + strconv.Itoa(i)
		if of.Name() != nf.Name() {
			d.add(where, "field renamed (alias)", of.Name(), nf.Name(), ofp, nfp)
		}
		switch {
		case of.HasDefault() && !nf.HasDefault():
			d.add(where, "default removed", jsonText(of.Default()), "", ofp, nfp)
		case !of.HasDefault() && nf.HasDefault():
			d.add(where, "default added", "", jsonText(nf.Default()), ofp, nfp)
		case of.HasDefault() && nf.HasDefault() && jsonText(of.Default()) != jsonText(nf.Default()):
			d.add(where, "default changed", jsonText(of.Default()), jsonText(nf.Default()), ofp, nfp)
		}
		if of.Doc() != nf.Doc() {
			d.add(where, "doc changed", of.Doc(), nf.Doc(), ofp, nfp)
		}
		if !reflect.DeepEqual(of.Props(), nf.Props()) {
			d.add(where, "properties changed", jsonText(of.Props()), jsonText(nf.Props()), ofp, nfp)
		}
		d.walk(of.Type(), nf.Type(), ofp+"/type", nfp+"/type", where)
	}
	for i, of := range ofs {
		if !used[i] {
			d.add(rec+" field "+strconv.Quote(of.Name()), "field removed", typeName(of.Type()), "", op+"/fields/"+strconv.Itoa(i), NoPath)
		}
	}
}

// fieldIndex finds the old field new field nf reads: by name, then by nf's
// aliases, as compat (and Java) match them.
func fieldIndex(ofs []*avro.Field, nf *avro.Field) int {
	for i, f := range ofs {
		if f.Name() == nf.Name() {
			return i
		}
	}
	for _, a := range nf.Aliases() {
		for i, f := range ofs {
			if f.Name() == a {
				return i
			}
		}
	}
	return -1
}

func (d *differ) enum(o, n *avro.EnumSchema) {
	if !d.named(o, n) {
		return
	}
	op, np := d.oldDefs[o.FullName()], d.newDefs[n.FullName()]
	w := "enum " + n.FullName()
	if o.FullName() != n.FullName() {
		d.add(w, "renamed", o.FullName(), n.FullName(), op, np)
	}
	if o.Doc() != n.Doc() {
		d.add(w, "doc changed", o.Doc(), n.Doc(), op, np)
	}
	d.props(o, n, op, np, w)
	for j, s := range n.Symbols() {
		if !slices.Contains(o.Symbols(), s) {
			d.add(w, "symbol added", "", s, op+"/symbols", np+"/symbols/"+strconv.Itoa(j))
		}
	}
	for i, s := range o.Symbols() {
		if !slices.Contains(n.Symbols(), s) {
			d.add(w, "symbol removed", s, "", op+"/symbols/"+strconv.Itoa(i), np+"/symbols")
		}
	}
	od, nd := "", ""
	if o.HasDefault() {
		od = o.Default()
	}
	if n.HasDefault() {
		nd = n.Default()
	}
	if od != nd {
		d.add(w, "default symbol changed", od, nd, op, np)
	}
}

func (d *differ) unions(o, n *avro.UnionSchema, op, np, where string) {
	ots, nts := o.Types(), n.Types()
	used := make([]bool, len(ots))
	for j, nb := range nts {
		i := slices.IndexFunc(ots, func(ob avro.Schema) bool { return sameKind(ob, nb) })
		if i < 0 || used[i] {
			d.add(where, "union branch added", "", typeName(nb), op, np+"/"+strconv.Itoa(j))
			continue
		}
		used[i] = true
		d.walk(ots[i], nb, op+"/"+strconv.Itoa(i), np+"/"+strconv.Itoa(j), where)
	}
	for i, ob := range ots {
		if !used[i] {
			d.add(where, "union branch removed", typeName(ob), "", op+"/"+strconv.Itoa(i), np)
		}
	}
}

func (d *differ) logical(o, n avro.LogicalSchema, op, np, where string) {
	switch {
	case o == nil && n == nil:
	case o == nil:
		d.add(where, "logical type added", "", string(n.Type()), op, np)
	case n == nil:
		d.add(where, "logical type removed", string(o.Type()), "", op, np)
	case o.Type() != n.Type():
		d.add(where, "logical type changed", string(o.Type()), string(n.Type()), op, np)
	default:
		od, ook := o.(*avro.DecimalLogicalSchema)
		nd, nok := n.(*avro.DecimalLogicalSchema)
		if ook && nok {
			if od.Scale() != nd.Scale() {
				d.add(where, "decimal scale changed", strconv.Itoa(od.Scale()), strconv.Itoa(nd.Scale()), op, np)
			}
			if od.Precision() != nd.Precision() {
				d.add(where, "decimal precision changed", strconv.Itoa(od.Precision()), strconv.Itoa(nd.Precision()), op, np)
			}
		}
	}
}

// sameKind reports whether two types are "the same branch": the same named
// type (by full name), or the same unnamed kind.
func sameKind(a, b avro.Schema) bool {
	a, b = deref(a), deref(b)
	an, aNamed := a.(avro.NamedSchema)
	bn, bNamed := b.(avro.NamedSchema)
	if aNamed || bNamed {
		return aNamed && bNamed && a.Type() == b.Type() && (an.FullName() == bn.FullName() || an.Name() == bn.Name())
	}
	return a.Type() == b.Type()
}

// typeName renders a type briefly: its full name, or its kind with items.
func typeName(s avro.Schema) string {
	s = deref(s)
	switch t := s.(type) {
	case avro.NamedSchema:
		return t.FullName()
	case *avro.PrimitiveSchema:
		if l := t.Logical(); l != nil {
			return string(t.Type()) + " (" + string(l.Type()) + ")"
		}
		return string(t.Type())
	case *avro.ArraySchema:
		return "array<" + typeName(t.Items()) + ">"
	case *avro.MapSchema:
		return "map<" + typeName(t.Values()) + ">"
	case *avro.UnionSchema:
		parts := make([]string, len(t.Types()))
		for i, b := range t.Types() {
			parts[i] = typeName(b)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return string(s.Type())
}

func jsonText(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// DiffLine is one row of a side-by-side text diff. A side's number is 0
// when the row has no line on that side.
type DiffLine struct {
	OldNo, NewNo int
	Old, New     string
	// Kind is "same", "del" (only on the old side), "add" (only on the new
	// side) or "change" (a deleted line next to its replacement).
	Kind string
}

// maxDiffLines bounds the text diff (quadratic in the line counts).
const maxDiffLines = 4000

// TextDiff returns the side-by-side line diff of two schema texts, each
// indented as JSON first (a text that is not JSON is compared as is). It
// returns nil when either text has more than maxDiffLines lines.
func TextDiff(oldText, newText string) []DiffLine {
	a, b := strings.Split(indentJSON(oldText), "\n"), strings.Split(indentJSON(newText), "\n")
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		return nil
	}
	// Longest common subsequence, from the end.
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	var dels, adds []DiffLine
	flush := func() {
		n := max(len(dels), len(adds))
		for k := range n {
			switch {
			case k < len(dels) && k < len(adds):
				out = append(out, DiffLine{OldNo: dels[k].OldNo, Old: dels[k].Old, NewNo: adds[k].NewNo, New: adds[k].New, Kind: "change"})
			case k < len(dels):
				out = append(out, dels[k])
			default:
				out = append(out, adds[k])
			}
		}
		dels, adds = dels[:0], adds[:0]
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			flush()
			out = append(out, DiffLine{OldNo: i + 1, Old: a[i], NewNo: j + 1, New: b[j], Kind: "same"})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			adds = append(adds, DiffLine{NewNo: j + 1, New: b[j], Kind: "add"})
			j++
		default:
			dels = append(dels, DiffLine{OldNo: i + 1, Old: a[i], Kind: "del"})
			i++
		}
	}
	flush()
	return out
}

func indentJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(strings.TrimSpace(s)), "", "  "); err != nil {
		return strings.TrimRight(s, "\n")
	}
	return b.String()
}

// sortedKeys returns m's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

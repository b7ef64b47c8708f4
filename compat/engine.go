package compat

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// seg is one step of a JSON Pointer into a schema. A seg with owner set marks
// the start of a named type's definition: paths restart there, because a
// named type may be defined in another file (or earlier in this one).
type seg struct {
	key   string // "fields", "type", "items", "values", "symbols", "size"; "" for a bare index
	idx   int    // array index, -1 for none
	owner avro.NamedSchema
}

type pair struct{ r, w avro.Schema }

// memoEntry is a silent verdict on a named pair. A pair found compatible
// only by assuming that an enclosing pair (still being checked, further up
// the recursion) is compatible is marked stale, not ok, and is checked again
// when asked next: the assumption may yet turn out false.
type memoEntry struct {
	p     pair
	state uint8
}

const (
	memoStale uint8 = iota
	memoInProgress
	memoOK
	memoFailed
)

const noLowest = int(^uint(0) >> 1)

// scanLimit is the size (fields of a writer record, symbols of a reader
// enum, branches of a reader union, named pairs walked) up to which the
// walker matches by scanning: most schemas stay below it, and scanning a few
// entries beats building a map. Above it the walker indexes the entries,
// once per walker, so that a check stays linear in the size of the schemas
// where a scan per entry would make it quadratic. A variable so that tests
// can force the indexed paths on small schemas.
var scanLimit = 16

func (w *walker) memoIndex(p pair) int {
	if w.memoIdx != nil {
		w.probes++
		if i, ok := w.memoIdx[p]; ok {
			return i
		}
		return -1
	}
	for i := range w.memo {
		w.probes++
		if w.memo[i].p == p {
			return i
		}
	}
	return -1
}

// memoAdd appends a memo entry for p, which must not have one, and indexes
// the memo once it outgrows a scan.
func (w *walker) memoAdd(p pair, state uint8) {
	w.memo = append(w.memo, memoEntry{p, state})
	switch {
	case w.memoIdx != nil:
		w.memoIdx[p] = len(w.memo) - 1
	case len(w.memo) > scanLimit:
		w.memoIdx = make(map[pair]int, 2*len(w.memo))
		for i, e := range w.memo {
			w.memoIdx[e.p] = i
		}
		w.probes += len(w.memo)
	}
}

// seenBefore reports whether the named pair p was walked in reporting mode,
// and marks it walked.
func (w *walker) seenBefore(p pair) bool {
	if w.seenIdx != nil {
		w.probes++
		if _, ok := w.seenIdx[p]; ok {
			return true
		}
		w.seenIdx[p] = struct{}{}
		return false
	}
	for _, q := range w.seen {
		w.probes++
		if q == p {
			return true
		}
	}
	w.seen = append(w.seen, p)
	if len(w.seen) > scanLimit {
		w.seenIdx = make(map[pair]struct{}, 2*len(w.seen))
		for _, q := range w.seen {
			w.seenIdx[q] = struct{}{}
		}
		w.probes += len(w.seen)
		w.seen = nil
	}
	return false
}

// side names the new version of a pair, when the caller knows it.
type side int

const (
	unknownSide side = iota
	readerIsNext
	writerIsNext
)

// walker applies the resolution rules to one (reader, writer) pair and
// collects findings. In silent mode (silent > 0) it only records whether
// anything failed; unions use that to try branches.
type walker struct {
	reader, writer Schema
	rp, wp         []seg
	findings       []Finding

	silent   int
	failed   bool
	specOnly bool // skip the rules stricter than the spec (agreement tests)
	next     side // which side is the new version, for the advice in messages

	seen   []pair            // named pairs already walked in reporting mode; few per schema, so a slice beats a map
	memo   []memoEntry       // silent verdicts of named pairs, in the order first met
	lowest int               // index of the outermost in-progress memo entry assumed compatible below here
	rDefs  map[string]string // full name -> JSON Pointer of its definition from the root
	wDefs  map[string]string
	record string // reader record the walker is in (for messages)
	field  string // reader field the walker is in (for messages)

	// Indexes for schemas too big to scan (see scanLimit), built on first use.
	seenIdx  map[pair]struct{}                        // replaces seen once it outgrows a scan
	memoIdx  map[pair]int                             // pair -> index in memo, once memo outgrows a scan
	fieldIdx map[*avro.RecordSchema]map[string]int    // writer record -> field name -> index
	symIdx   map[*avro.EnumSchema]map[string]struct{} // reader enum -> its symbols
	unionIdx map[*avro.UnionSchema]*branchIndex       // reader union -> its branches by name

	// probes counts the name comparisons and index lookups (and entries
	// indexed) made to match fields, enum symbols, union branches and named
	// pairs. A test holds it linear in the size of the schemas.
	probes int

	rbuf, wbuf [24]seg
}

func newWalker(reader, writer Schema) *walker {
	w := &walker{reader: reader, writer: writer, lowest: noLowest}
	w.rp, w.wp = w.rbuf[:0], w.wbuf[:0]
	return w
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func (w *walker) push(r, wr seg) { w.rp = append(w.rp, r); w.wp = append(w.wp, wr) }
func (w *walker) pop()           { w.rp = w.rp[:len(w.rp)-1]; w.wp = w.wp[:len(w.wp)-1] }

func key(k string) seg             { return seg{key: k, idx: -1} }
func keyIdx(k string, i int) seg   { return seg{key: k, idx: i} }
func index(i int) seg              { return seg{idx: i} }
func owner(n avro.NamedSchema) seg { return seg{owner: n, idx: -1} }

// check walks reader r against writer wr at the current paths.
func (w *walker) check(r, wr avro.Schema) {
	if w.silent > 0 && w.failed {
		return
	}
	r, wr = deref(r), deref(wr)

	// Every branch the writer can write must resolve.
	if wu, ok := wr.(*avro.UnionSchema); ok {
		for i, b := range wu.Types() {
			w.wp = append(w.wp, index(i))
			w.rp = append(w.rp, seg{idx: -2}) // placeholder, keeps stacks paired; ignored when rendering
			w.check(r, b)
			w.pop()
			if w.silent > 0 && w.failed {
				return
			}
		}
		return
	}
	if ru, ok := r.(*avro.UnionSchema); ok {
		w.intoReaderUnion(ru, wr)
		return
	}

	switch ws := wr.(type) {
	case *avro.PrimitiveSchema:
		rs, ok := r.(*avro.PrimitiveSchema)
		if !ok || (rs.Type() != ws.Type() && !promotable(ws.Type(), rs.Type())) {
			w.typeChanged(r, wr)
			return
		}
		w.logical(rs.Logical(), ws.Logical())
	case *avro.RecordSchema:
		rs, ok := r.(*avro.RecordSchema)
		if !ok {
			w.typeChanged(r, wr)
			return
		}
		w.named(rs, ws, func() { w.fields(rs, ws) })
	case *avro.EnumSchema:
		rs, ok := r.(*avro.EnumSchema)
		if !ok {
			w.typeChanged(r, wr)
			return
		}
		w.named(rs, ws, func() {
			if rs.HasDefault() {
				return
			}
			for i, sym := range ws.Symbols() {
				if !w.hasSymbol(rs, sym) {
					w.push(key("symbols"), keyIdx("symbols", i))
					w.symbolRemoved(rs, sym)
					w.pop()
				}
			}
		})
	case *avro.FixedSchema:
		rs, ok := r.(*avro.FixedSchema)
		if !ok {
			w.typeChanged(r, wr)
			return
		}
		w.named(rs, ws, func() {
			if rs.Size() != ws.Size() {
				w.push(key("size"), key("size"))
				w.fixedSize(rs, ws)
				w.pop()
			}
			w.logical(rs.Logical(), ws.Logical())
		})
	case *avro.ArraySchema:
		rs, ok := r.(*avro.ArraySchema)
		if !ok {
			w.typeChanged(r, wr)
			return
		}
		w.push(key("items"), key("items"))
		w.check(rs.Items(), ws.Items())
		w.pop()
	case *avro.MapSchema:
		rs, ok := r.(*avro.MapSchema)
		if !ok {
			w.typeChanged(r, wr)
			return
		}
		w.push(key("values"), key("values"))
		w.check(rs.Values(), ws.Values())
		w.pop()
	default:
		if r.Type() != wr.Type() {
			w.typeChanged(r, wr)
		}
	}
}

// named walks a named pair once (a pair walked before is reported at its
// first use only; a recursive one is assumed compatible): it matches the
// names, then runs body with the paths inside the pair's definitions.
func (w *walker) named(rs, ws avro.NamedSchema, body func()) {
	if w.visit(rs, ws) {
		return
	}
	saved := w.enter()
	w.nameMatch(rs, ws)
	if w.silent == 0 || !w.failed { // a silent walk that failed would learn nothing more
		w.push(owner(rs), owner(ws))
		body()
		w.pop()
	}
	w.done(rs, ws, saved)
}

// visit reports whether the named pair was walked before (or is being walked:
// recursion), marking it walked. In silent mode it consults the memo.
func (w *walker) visit(r, wr avro.Schema) bool {
	p := pair{r, wr}
	if w.silent > 0 {
		if i := w.memoIndex(p); i >= 0 {
			switch w.memo[i].state {
			case memoInProgress:
				// Recursion: assume compatible (coinduction, as in Java and
				// hamba), and remember the assumption.
				w.lowest = min(w.lowest, i)
				return true
			case memoOK:
				return true
			case memoFailed:
				w.failed = true
				return true
			}
			w.memo[i].state = memoInProgress // stale: check again
			return false
		}
		w.memoAdd(p, memoInProgress)
		return false
	}
	return w.seenBefore(p)
}

func (w *walker) fields(r, wr *avro.RecordSchema) {
	saveRec, saveField := w.record, w.field
	w.record = r.FullName()
	wfs := wr.Fields()
	byName := w.fieldsByName(wr)
	for i, rf := range r.Fields() {
		if w.silent > 0 && w.failed {
			break
		}
		j := w.fieldIndex(wfs, byName, rf)
		w.field = rf.Name()
		if j < 0 {
			if !rf.HasDefault() {
				w.push(keyIdx("fields", i), key("fields"))
				w.missingDefault(r, wr, rf)
				w.pop()
			}
			continue
		}
		w.push(keyIdx("fields", i), keyIdx("fields", j))
		w.push(key("type"), key("type"))
		w.check(rf.Type(), wfs[j].Type())
		w.pop()
		w.pop()
	}
	w.record, w.field = saveRec, saveField
}

// enter starts walking a named pair's children; it returns the assumption
// marker to hand to done.
func (w *walker) enter() int {
	saved := w.lowest
	w.lowest = noLowest
	return saved
}

// done records the silent verdict for a named pair that visit let through,
// and passes on any assumption about an enclosing pair.
func (w *walker) done(r, wr avro.Schema, saved int) {
	if w.silent == 0 {
		w.lowest = saved
		return
	}
	j := w.memoIndex(pair{r, wr})
	if j >= 0 {
		switch {
		case w.failed:
			w.memo[j].state = memoFailed // a failure never rests on an assumption
		case w.lowest < j:
			w.memo[j].state = memoStale
		default:
			w.memo[j].state = memoOK
		}
	}
	if w.lowest >= j {
		w.lowest = noLowest // assumptions about this pair are settled
	}
	w.lowest = min(w.lowest, saved)
}

// fieldIndex finds the writer field (of wfs, indexed by byName when not nil)
// that reader field rf reads: by name first, then by the reader field's
// aliases (as Java does); -1 for none.
func (w *walker) fieldIndex(wfs []*avro.Field, byName map[string]int, rf *avro.Field) int {
	if j := w.writerField(wfs, byName, rf.Name()); j >= 0 {
		return j
	}
	for _, a := range rf.Aliases() {
		if j := w.writerField(wfs, byName, a); j >= 0 {
			return j
		}
	}
	return -1
}

// writerField returns the index of the first field of wfs named name, or -1.
func (w *walker) writerField(wfs []*avro.Field, byName map[string]int, name string) int {
	if byName != nil {
		w.probes++
		if j, ok := byName[name]; ok {
			return j
		}
		return -1
	}
	for j, f := range wfs {
		w.probes++
		if f.Name() == name {
			return j
		}
	}
	return -1
}

// fieldsByName returns wr's field indexes by name, built once per walker;
// nil for a record narrow enough to scan.
func (w *walker) fieldsByName(wr *avro.RecordSchema) map[string]int {
	wfs := wr.Fields()
	if len(wfs) <= scanLimit {
		return nil
	}
	if idx, ok := w.fieldIdx[wr]; ok {
		return idx
	}
	idx := make(map[string]int, len(wfs))
	for j, f := range wfs {
		if _, dup := idx[f.Name()]; !dup {
			idx[f.Name()] = j
		}
	}
	w.probes += len(wfs)
	if w.fieldIdx == nil {
		w.fieldIdx = map[*avro.RecordSchema]map[string]int{}
	}
	w.fieldIdx[wr] = idx
	return idx
}

// hasSymbol reports whether the reader enum r has symbol sym.
func (w *walker) hasSymbol(r *avro.EnumSchema, sym string) bool {
	syms := r.Symbols()
	if len(syms) <= scanLimit {
		for _, s := range syms {
			w.probes++
			if s == sym {
				return true
			}
		}
		return false
	}
	set, ok := w.symIdx[r]
	if !ok {
		set = make(map[string]struct{}, len(syms))
		for _, s := range syms {
			set[s] = struct{}{}
		}
		w.probes += len(syms)
		if w.symIdx == nil {
			w.symIdx = map[*avro.EnumSchema]map[string]struct{}{}
		}
		w.symIdx[r] = set
	}
	w.probes++
	_, ok = set[sym]
	return ok
}

// intoReaderUnion resolves writer type wr against the reader's union: some
// branch must read it. When none does, it descends into the branch of the
// same kind and name (to report precisely what broke) or reports the branch
// as missing.
func (w *walker) intoReaderUnion(ru *avro.UnionSchema, wr avro.Schema) {
	branches := ru.Types()
	if len(branches) > scanLimit {
		w.intoWideUnion(ru, wr)
		return
	}
	for _, b := range branches {
		w.probes++
		if w.compatible(b, wr) {
			return
		}
	}
	if w.silent > 0 {
		w.failed = true
		return
	}
	for i, b := range branches {
		w.probes++
		if sameKind(deref(b), wr) {
			w.rp = append(w.rp, index(i))
			w.wp = append(w.wp, seg{idx: -2})
			w.check(b, wr)
			w.pop()
			return
		}
	}
	w.unionMissing(ru, wr)
}

// intoWideUnion is intoReaderUnion for a union too big to scan per writer
// type. It tries only the branches that can read wr at all (see
// branchIndex.candidates), in the union's order: every other branch would
// fail at once, on its type or its name, and leave nothing behind but the
// failure.
func (w *walker) intoWideUnion(ru *avro.UnionSchema, wr avro.Schema) {
	branches := ru.Types()
	cands := w.branchesOf(ru).candidates(w, branches, wr)
	for _, i := range cands {
		w.probes++
		if w.compatible(branches[i], wr) {
			return
		}
	}
	if w.silent > 0 {
		w.failed = true
		return
	}
	for _, i := range cands {
		w.probes++
		if sameKind(deref(branches[i]), wr) {
			w.rp = append(w.rp, index(i))
			w.wp = append(w.wp, seg{idx: -2})
			w.check(branches[i], wr)
			w.pop()
			return
		}
	}
	w.unionMissing(ru, wr)
}

// branchIndex indexes a reader union's branches (their positions) by what
// can select them: a named branch by its unqualified name and its aliases,
// an unnamed one by kind (a union holds few unnamed branches, one per type).
type branchIndex struct {
	byName  map[string][]int
	byAlias map[string][]int
	unnamed []int
}

func (w *walker) branchesOf(ru *avro.UnionSchema) *branchIndex {
	if bi, ok := w.unionIdx[ru]; ok {
		return bi
	}
	bi := &branchIndex{byName: map[string][]int{}, byAlias: map[string][]int{}}
	for i, b := range ru.Types() {
		w.probes++
		n, ok := deref(b).(avro.NamedSchema)
		if !ok {
			bi.unnamed = append(bi.unnamed, i)
			continue
		}
		bi.byName[n.Name()] = append(bi.byName[n.Name()], i)
		for _, a := range n.Aliases() {
			w.probes++
			bi.byAlias[a] = append(bi.byAlias[a], i)
		}
	}
	if w.unionIdx == nil {
		w.unionIdx = map[*avro.UnionSchema]*branchIndex{}
	}
	w.unionIdx[ru] = bi
	return bi
}

// candidates returns, in the union's order, the positions of the branches
// that may read wr: for a named wr, the branches sameKind matches (the same
// type, and a name that passes nameMatch); for an unnamed one, the unnamed
// branches.
func (bi *branchIndex) candidates(w *walker, branches avro.Schemas, wr avro.Schema) []int {
	n, ok := wr.(avro.NamedSchema)
	if !ok {
		return bi.unnamed
	}
	w.probes += 2
	a, b := bi.byName[n.Name()], bi.byAlias[n.FullName()]
	out := make([]int, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 { // merge two sorted lists, without repeats
		var i int
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0] < b[0]):
			i, a = a[0], a[1:]
		case len(a) == 0 || b[0] < a[0]:
			i, b = b[0], b[1:]
		default:
			i, a, b = a[0], a[1:], b[1:]
		}
		w.probes++
		if sameKind(deref(branches[i]), wr) {
			out = append(out, i)
		}
	}
	return out
}

// sameKind reports whether b is the branch a reader would pick for wr by
// kind alone: the same named type (by name or alias), or the same unnamed type.
func sameKind(b, wr avro.Schema) bool {
	if b.Type() != wr.Type() {
		return false
	}
	bn, ok := b.(avro.NamedSchema)
	if !ok {
		return true
	}
	return namesMatch(bn, wr.(avro.NamedSchema))
}

// compatible runs a silent check of r against wr.
func (w *walker) compatible(r, wr avro.Schema) bool {
	saveFailed, nr, nw := w.failed, len(w.rp), len(w.wp)
	w.silent++
	w.failed = false
	w.check(r, wr)
	ok := !w.failed
	w.silent--
	w.failed = saveFailed
	w.rp, w.wp = w.rp[:nr], w.wp[:nw]
	return ok
}

func namesMatch(r, wr avro.NamedSchema) bool {
	return r.Name() == wr.Name() || slices.Contains(r.Aliases(), wr.FullName())
}

func promotable(writer, reader avro.Type) bool {
	switch writer {
	case avro.Int:
		return reader == avro.Long || reader == avro.Float || reader == avro.Double
	case avro.Long:
		return reader == avro.Float || reader == avro.Double
	case avro.Float:
		return reader == avro.Double
	case avro.String:
		return reader == avro.Bytes
	case avro.Bytes:
		return reader == avro.String
	}
	return false
}

func (w *walker) nameMatch(r, wr avro.NamedSchema) {
	if namesMatch(r, wr) {
		return
	}
	if w.silent > 0 {
		w.failed = true
		return
	}
	w.add(NameMismatch.ID, fmt.Sprintf("%s: the %s is named %s in %s but %s in %s; rename it back, or add \"aliases\": [%q] to %s",
		w.where(), r.Type(), wr.FullName(), w.writer.Label, r.FullName(), w.reader.Label, wr.FullName(), r.FullName()))
}

func (w *walker) logical(r, wr avro.LogicalSchema) {
	if r == nil || wr == nil || w.specOnly {
		return // adding or dropping a logical type keeps the encoding
	}
	rd, rok := r.(*avro.DecimalLogicalSchema)
	wd, wok := wr.(*avro.DecimalLogicalSchema)
	if rok && wok {
		if rd.Scale() != wd.Scale() {
			if w.silent > 0 {
				w.failed = true
				return
			}
			w.add(DecimalScaleChanged.ID, fmt.Sprintf("%s: decimal scale changed from %d in %s to %d in %s, so every stored value would be read %s; keep scale %d, or add a new field with the new scale",
				w.where(), wd.Scale(), w.writer.Label, rd.Scale(), w.reader.Label, scaleEffect(wd.Scale(), rd.Scale()), wd.Scale()))
		}
		if rd.Precision() < wd.Precision() {
			if w.silent > 0 {
				w.failed = true
				return
			}
			w.add(DecimalPrecisionNarrowed.ID, fmt.Sprintf("%s: decimal precision narrowed from %d in %s to %d in %s, so large values written with %s no longer fit; keep precision %d or more",
				w.where(), wd.Precision(), w.writer.Label, rd.Precision(), w.reader.Label, w.writer.Label, wd.Precision()))
		}
		return
	}
	if r.Type() != wr.Type() {
		if w.silent > 0 {
			w.failed = true
			return
		}
		w.add(LogicalTypeChanged.ID, fmt.Sprintf("%s: logical type changed from %s in %s to %s in %s: the stored number stays the same but means something else; keep %s, or add a new field",
			w.where(), wr.Type(), w.writer.Label, r.Type(), w.reader.Label, wr.Type()))
	}
}

func scaleEffect(from, to int) string {
	if to > from {
		return fmt.Sprintf("10^%d times too small", to-from)
	}
	return fmt.Sprintf("10^%d times too big", from-to)
}

func (w *walker) typeChanged(r, wr avro.Schema) {
	if w.silent > 0 {
		w.failed = true
		return
	}
	w.add(TypeChanged.ID, fmt.Sprintf("%s: type changed from %s in %s to %s in %s, which Avro cannot convert; keep %s (or a type it promotes to), or add a new field with the new type and a default",
		w.where(), typeName(wr, 2), w.writer.Label, typeName(r, 2), w.reader.Label, typeName(wr, 2)))
}

func (w *walker) unionMissing(ru *avro.UnionSchema, wr avro.Schema) {
	t := typeName(wr, 1)
	var msg string
	switch w.next {
	case writerIsNext:
		msg = fmt.Sprintf("%s: %s can write %s, which the union %s in %s cannot read; readers on %s would fail, so do not add %s until every reader's union has it",
			w.where(), w.writer.Label, t, typeName(ru, 1), w.reader.Label, w.reader.Label, t)
	default:
		msg = fmt.Sprintf("%s: %s can write %s, but the union %s in %s has no branch that reads it; add %s back to the union",
			w.where(), w.writer.Label, t, typeName(ru, 1), w.reader.Label, t)
	}
	w.add(UnionBranchMissing.ID, msg)
}

func (w *walker) missingDefault(r, wr *avro.RecordSchema, f *avro.Field) {
	if w.silent > 0 {
		w.failed = true
		return
	}
	var msg string
	switch w.next {
	case readerIsNext:
		msg = fmt.Sprintf("record %s: field %q was added in %s without a default, so %s cannot read data written with %s; add a default to field %q, or make it optional ([\"null\", ...] with \"default\": null)",
			r.FullName(), f.Name(), w.reader.Label, w.reader.Label, w.writer.Label, f.Name())
	case writerIsNext:
		msg = fmt.Sprintf("record %s: field %q is gone in %s, but %s reads it and has no default for it, so %s cannot read data written with %s; keep field %q (deprecate it instead), or first ship readers that give it a default",
			r.FullName(), f.Name(), w.writer.Label, w.reader.Label, w.reader.Label, w.writer.Label, f.Name())
	default:
		msg = fmt.Sprintf("record %s: field %q exists in %s (with no default) but not in %s, so %s cannot read data written with %s; give field %q a default in %s (or make it optional: [\"null\", ...] with \"default\": null), or have %s write it",
			r.FullName(), f.Name(), w.reader.Label, w.writer.Label, w.reader.Label, w.writer.Label, f.Name(), w.reader.Label, w.writer.Label)
	}
	w.add(ReaderFieldMissingDefault.ID, msg)
}

func (w *walker) symbolRemoved(r *avro.EnumSchema, sym string) {
	if w.silent > 0 {
		w.failed = true
		return
	}
	var msg string
	switch w.next {
	case writerIsNext:
		msg = fmt.Sprintf("%s: %s adds symbol %q to enum %s, which %s does not know and has no enum default for; give the enum a \"default\" in a release that every reader has, then add the symbol",
			w.where(), w.writer.Label, sym, r.FullName(), w.reader.Label)
	default:
		msg = fmt.Sprintf("%s: enum %s in %s lacks symbol %q that %s can write, and the enum has no default; keep symbol %q, or add a \"default\" symbol to enum %s",
			w.where(), r.FullName(), w.reader.Label, sym, w.writer.Label, sym, r.FullName())
	}
	w.add(EnumSymbolRemovedWithoutDefault.ID, msg)
}

func (w *walker) fixedSize(r, wr *avro.FixedSchema) {
	if w.silent > 0 {
		w.failed = true
		return
	}
	w.add(FixedSizeChanged.ID, fmt.Sprintf("%s: fixed %s changed size from %d bytes in %s to %d in %s; keep size %d, or add a new fixed type and a new field",
		w.where(), r.FullName(), wr.Size(), w.writer.Label, r.Size(), w.reader.Label, wr.Size()))
}

// where names the record and field the walker is in.
func (w *walker) where() string {
	switch {
	case w.record == "":
		return "top-level schema"
	case w.field == "":
		return "record " + w.record
	}
	return "record " + w.record + " field " + strconv.Quote(w.field)
}

func (w *walker) add(id RuleID, msg string) {
	w.findings = append(w.findings, Finding{
		Rule:      id,
		Direction: Direction{Reader: w.reader.Label, Writer: w.writer.Label},
		Reader:    w.locate(w.reader, &w.rDefs, w.rp),
		Writer:    w.locate(w.writer, &w.wDefs, w.wp),
		Message:   msg,
	})
}

// locate turns a path stack into a Location: through the schema's Locator
// when it knows the named type that owns the path, else as a JSON Pointer
// from the root of the schema (referenced types expanded where first used).
func (w *walker) locate(s Schema, defs *map[string]string, stack []seg) Location {
	start := 0
	var own avro.NamedSchema
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i].owner != nil {
			own, start = stack[i].owner, i+1
			break
		}
	}
	var b strings.Builder
	for _, sg := range stack[start:] {
		if sg.idx == -2 || (sg.key == "" && sg.idx < 0) {
			continue
		}
		if sg.key != "" {
			b.WriteByte('/')
			b.WriteString(sg.key)
		}
		if sg.idx >= 0 {
			b.WriteByte('/')
			b.WriteString(strconv.Itoa(sg.idx))
		}
	}
	rel := b.String()
	name := ""
	if own != nil {
		name = own.FullName()
	}
	if s.Source != nil {
		if loc, ok := s.Source.Locate(name, rel); ok {
			return loc
		}
	}
	if name == "" {
		return Location{Path: rel}
	}
	if *defs == nil {
		*defs = Definitions(s.Schema)
	}
	return Location{Path: (*defs)[name] + rel}
}

// Definitions maps each named type in s to the JSON Pointer of its
// definition, the first place it is written out in full, walking fields in
// order: the pointers findings use for a schema without a source file.
func Definitions(s avro.Schema) map[string]string {
	defs := map[string]string{}
	var walk func(s avro.Schema, path string)
	walk = func(s avro.Schema, path string) {
		switch t := s.(type) {
		case *avro.RefSchema:
			if _, ok := defs[t.Schema().FullName()]; !ok {
				walk(t.Schema(), path)
			}
		case *avro.RecordSchema:
			if _, ok := defs[t.FullName()]; ok {
				return
			}
			defs[t.FullName()] = path
			for i, f := range t.Fields() {
				walk(f.Type(), path+"/fields/"+strconv.Itoa(i)+"/type")
			}
		case avro.NamedSchema:
			if _, ok := defs[t.FullName()]; !ok {
				defs[t.FullName()] = path
			}
		case *avro.ArraySchema:
			walk(t.Items(), path+"/items")
		case *avro.MapSchema:
			walk(t.Values(), path+"/values")
		case *avro.UnionSchema:
			for i, b := range t.Types() {
				walk(b, path+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(s, "")
	return defs
}

// typeName renders a type for a message, depth levels deep.
func typeName(s avro.Schema, depth int) string {
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
		if depth <= 0 {
			return "array"
		}
		return "array<" + typeName(t.Items(), depth-1) + ">"
	case *avro.MapSchema:
		if depth <= 0 {
			return "map"
		}
		return "map<" + typeName(t.Values(), depth-1) + ">"
	case *avro.UnionSchema:
		if depth <= 0 {
			return "union"
		}
		parts := make([]string, len(t.Types()))
		for i, b := range t.Types() {
			parts[i] = typeName(b, depth-1)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return string(s.Type())
}

package compat_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/compat"
)

// The agreement test generates random schema pairs and asserts that the
// engine's verdict equals hamba/avro's SchemaCompatibility.Compatible.
//
// Documented exceptions (where we deliberately differ from hamba, which
// follows Java here):
//   - DECIMAL_SCALE_CHANGED, DECIMAL_PRECISION_NARROWED, LOGICAL_TYPE_CHANGED:
//     hamba ignores logical types. These rules have Spec == false; the test
//     compares hamba with the engine minus those rules (CheckSpecOnly), and
//     asserts the full engine is never more lenient than hamba.
//   - FIELD_ALIAS_PRECEDENCE: when a reader field's alias names one writer
//     field and its own name another, hamba takes whichever comes first in
//     the writer; we (like Java) take the name. The generator never makes
//     such a pair (renamed fields get fresh names).

type gen struct {
	r     *rand.Rand
	n     int      // counter for fresh names
	named []string // named types defined so far (referable by name)
	depth int
}

var (
	primitives = []string{"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
	logicals   = []map[string]any{
		{"type": "int", "logicalType": "date"},
		{"type": "int", "logicalType": "time-millis"},
		{"type": "long", "logicalType": "timestamp-millis"},
		{"type": "long", "logicalType": "timestamp-micros"},
		{"type": "string", "logicalType": "uuid"},
		{"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
		{"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 4},
	}
)

func (g *gen) fresh(prefix string) string { g.n++; return fmt.Sprintf("%s%d", prefix, g.n) }

// typ returns a random type as JSON-ready Go values.
func (g *gen) typ() any {
	g.depth++
	defer func() { g.depth-- }()
	k := g.r.IntN(14)
	if g.depth > 3 {
		k = g.r.IntN(3)
	}
	switch k {
	case 0, 1:
		return primitives[1+g.r.IntN(len(primitives)-1)]
	case 2:
		return clone(logicals[g.r.IntN(len(logicals))])
	case 3:
		if len(g.named) > 0 {
			return g.named[g.r.IntN(len(g.named))]
		}
		return "int"
	case 4, 5, 6:
		return g.record()
	case 7:
		return g.enum()
	case 8:
		f := map[string]any{"type": "fixed", "name": g.fresh("F"), "size": 4 + g.r.IntN(3)*4}
		if g.r.IntN(3) == 0 {
			f["size"], f["logicalType"], f["precision"], f["scale"] = 8, "decimal", 10+g.r.IntN(8), g.r.IntN(3)
		}
		g.named = append(g.named, f["name"].(string))
		return f
	case 9:
		return map[string]any{"type": "array", "items": g.typ()}
	case 10:
		return map[string]any{"type": "map", "values": g.typ()}
	default:
		return g.union()
	}
}

func (g *gen) enum() any {
	syms := []any{"A", "B", "C", "D"}[:1+g.r.IntN(4)]
	e := map[string]any{"type": "enum", "name": g.fresh("E"), "symbols": syms}
	if g.r.IntN(3) == 0 {
		e["default"] = syms[0]
	}
	g.named = append(g.named, e["name"].(string))
	return e
}

func (g *gen) record() any {
	name := g.fresh("R")
	g.named = append(g.named, name)
	var fields []any
	for i := 0; i < 1+g.r.IntN(4); i++ {
		var t any
		if g.r.IntN(8) == 0 {
			t = []any{"null", name} // recursion
		} else {
			t = g.typ()
		}
		fields = append(fields, g.field(t))
	}
	return map[string]any{"type": "record", "name": name, "fields": fields}
}

func (g *gen) field(t any) map[string]any {
	f := map[string]any{"name": g.fresh("f"), "type": t}
	if g.r.IntN(2) == 0 {
		if d, ok := defaultFor(t); ok {
			f["default"] = d
		}
	}
	return f
}

func (g *gen) union() any {
	var branches []any
	seen := map[string]bool{}
	for i := 0; i < 1+g.r.IntN(4); i++ {
		t := g.typ()
		if _, isU := t.([]any); isU {
			continue
		}
		k := kind(t)
		if seen[k] {
			continue
		}
		seen[k] = true
		branches = append(branches, t)
	}
	return branches
}

// kind is the key unions must keep unique: the type, or the name.
func kind(t any) string {
	switch v := t.(type) {
	case string:
		return v
	case map[string]any:
		if n, ok := v["name"].(string); ok {
			return n
		}
		return v["type"].(string)
	}
	return "union"
}

// defaultFor returns a valid default for t, if an easy one exists.
func defaultFor(t any) (any, bool) {
	switch v := t.(type) {
	case string:
		switch v {
		case "null":
			return nil, true
		case "boolean":
			return false, true
		case "int", "long", "float", "double":
			return 0, true
		case "string", "bytes":
			return "", true
		}
	case []any:
		if len(v) > 0 {
			return defaultFor(v[0])
		}
	case map[string]any:
		switch v["type"] {
		case "array":
			return []any{}, true
		case "map":
			return map[string]any{}, true
		case "enum":
			return v["symbols"].([]any)[0], true
		case "int", "long":
			return 0, true
		case "string", "bytes":
			return "", true
		}
	}
	return nil, false
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// mutate applies one random edit somewhere in t and returns the result.
func (g *gen) mutate(t any) any {
	// Collect every node, then edit one.
	var nodes []any
	var walk func(v any)
	walk = func(v any) {
		nodes = append(nodes, v)
		switch x := v.(type) {
		case []any:
			for _, b := range x {
				walk(b)
			}
		case map[string]any:
			if fs, ok := x["fields"].([]any); ok {
				for _, f := range fs {
					walk(f.(map[string]any)["type"])
				}
			}
			if it, ok := x["items"]; ok {
				walk(it)
			}
			if vs, ok := x["values"]; ok {
				walk(vs)
			}
		}
	}
	walk(t)
	n := nodes[g.r.IntN(len(nodes))]
	switch x := n.(type) {
	case map[string]any:
		switch x["type"] {
		case "record":
			fs := x["fields"].([]any)
			if len(fs) == 0 {
				x["fields"] = append(fs, g.field("int"))
				break
			}
			i := g.r.IntN(len(fs))
			f := fs[i].(map[string]any)
			switch g.r.IntN(7) {
			case 6:
				g.rename(x)
			case 0: // add a field
				x["fields"] = append(fs, g.field(primitives[1+g.r.IntN(7)]))
			case 1: // remove a field
				x["fields"] = slices.Delete(fs, i, i+1)
			case 2: // rename, maybe with an alias
				old := f["name"]
				f["name"] = g.fresh("g")
				if g.r.IntN(2) == 0 {
					f["aliases"] = []any{old}
				}
			case 3: // toggle the default
				if _, ok := f["default"]; ok {
					delete(f, "default")
				} else if d, ok := defaultFor(f["type"]); ok {
					f["default"] = d
				}
			case 4: // change the type
				f["type"] = primitives[1+g.r.IntN(7)]
				if _, ok := f["default"]; ok {
					f["default"], _ = defaultFor(f["type"])
				}
			case 5: // make it optional
				if _, isU := f["type"].([]any); !isU && f["type"] != "null" {
					f["type"] = []any{"null", f["type"]}
					f["default"] = nil
				}
			}
		case "enum":
			syms := x["symbols"].([]any)
			switch g.r.IntN(4) {
			case 0:
				x["symbols"] = append(syms, g.fresh("S"))
			case 1:
				if len(syms) > 1 {
					last := syms[len(syms)-1]
					x["symbols"] = syms[:len(syms)-1]
					if x["default"] == last {
						x["default"] = syms[0]
					}
				}
			case 2:
				if _, ok := x["default"]; ok {
					delete(x, "default")
				} else {
					x["default"] = syms[0]
				}
			case 3:
				g.rename(x)
			}
		case "fixed":
			if g.r.IntN(2) == 0 {
				g.rename(x)
			} else if x["logicalType"] == "decimal" {
				x["scale"] = g.r.IntN(3)
			} else {
				x["size"] = 4 + g.r.IntN(3)*4
			}
		case "array":
			x["type"], x["values"] = "map", x["items"]
			delete(x, "items")
		case "map":
			x["items"] = g.typ()
		default: // a logical type
			if x["logicalType"] == "decimal" {
				x["precision"] = 8 + g.r.IntN(12)
				x["scale"] = g.r.IntN(5)
			} else {
				l := logicals[g.r.IntN(len(logicals))]
				for k := range x {
					delete(x, k)
				}
				for k, v := range clone(l).(map[string]any) {
					x[k] = v
				}
			}
		}
	case []any:
		if len(x) > 1 && g.r.IntN(2) == 0 {
			copy(x[g.r.IntN(len(x)):], x[g.r.IntN(len(x)):]) // may drop/duplicate a branch: invalid ones are skipped
		}
	}
	return t
}

// rename renames a named type: a new name (maybe aliasing the old full
// name), or a new namespace only (names still match unqualified).
func (g *gen) rename(x map[string]any) {
	old := x["name"].(string)
	if ns, ok := x["namespace"].(string); ok && ns != "" {
		old = ns + "." + old
	}
	if g.r.IntN(3) == 0 {
		x["namespace"] = []string{"a", "b.c", ""}[g.r.IntN(3)]
		return
	}
	x["name"] = g.fresh("N")
	if g.r.IntN(2) == 0 {
		x["aliases"] = []any{old}
	}
}

func parseAny(v any) (avro.Schema, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return avro.ParseBytesWithCache(b, "", &avro.SchemaCache{})
}

// TestAgreementWithHamba is the property test. Each case is reproducible
// from its seed (printed on failure).
func TestAgreementWithHamba(t *testing.T) {
	const cases = 3000
	checked, incompatible := 0, 0
	byRule := map[compat.RuleID]int{}
	for seed := uint64(1); seed <= cases; seed++ {
		g := &gen{r: rand.New(rand.NewPCG(seed, 42))}
		base := g.record()
		next := clone(base)
		for range 1 + g.r.IntN(3) {
			next = g.mutate(next)
		}
		a, errA := parseAny(base)
		b, errB := parseAny(next)
		if errA != nil || errB != nil {
			continue // the mutation made an invalid schema; skipped
		}
		for _, dir := range [][2]avro.Schema{{a, b}, {b, a}} {
			reader, writer := dir[0], dir[1]
			checked++
			hambaErr := avro.NewSchemaCompatibility().Compatible(reader, writer)
			spec := compat.CheckSpecOnly(reader, writer)
			full := compat.Check(compat.Schema{Schema: reader, Label: "r"}, compat.Schema{Schema: writer, Label: "w"})
			if (len(spec) == 0) != (hambaErr == nil) {
				t.Fatalf("seed %d: engine (spec rules) says compatible=%v, hamba says %v\nreader: %s\nwriter: %s\nfindings: %+v",
					seed, len(spec) == 0, hambaErr, reader, writer, spec)
			}
			if len(full) == 0 && len(spec) != 0 {
				t.Fatalf("seed %d: full engine more lenient than spec-only", seed)
			}
			if len(full) == 0 != compat.Compatible(reader, writer) {
				t.Fatalf("seed %d: Compatible disagrees with Check", seed)
			}
			if len(full) > 0 {
				incompatible++
			}
			for _, f := range full {
				byRule[f.Rule]++
			}
		}
	}
	// The generator must produce enough valid pairs, and both verdicts.
	if checked < cases || incompatible < checked/5 || incompatible > checked*4/5 {
		t.Fatalf("weak sample: %d pairs checked, %d incompatible", checked, incompatible)
	}
	// Every schema-resolution rule must be exercised, or the generator
	// has lost its reach.
	for _, r := range []compat.Rule{compat.ReaderFieldMissingDefault, compat.TypeChanged, compat.UnionBranchMissing,
		compat.EnumSymbolRemovedWithoutDefault, compat.FixedSizeChanged, compat.NameMismatch,
		compat.DecimalScaleChanged, compat.DecimalPrecisionNarrowed, compat.LogicalTypeChanged} {
		if byRule[r.ID] == 0 {
			t.Errorf("the generator never triggers %s", r.ID)
		}
	}
	t.Logf("%d pairs checked, %d incompatible; findings by rule: %v", checked, incompatible, byRule)
}

// TestIndexesAgreeOnRandomPairs checks the agreement test's pairs with every
// index forced (fields, symbols, union branches and named pairs looked up
// in maps, however few) against the default, where such small schemas are
// scanned: the findings, their order and the verdicts must be the same.
func TestIndexesAgreeOnRandomPairs(t *testing.T) {
	const cases = 3000
	checked := 0
	for seed := uint64(1); seed <= cases; seed++ {
		g := &gen{r: rand.New(rand.NewPCG(seed, 42))}
		base := g.record()
		next := clone(base)
		for range 1 + g.r.IntN(3) {
			next = g.mutate(next)
		}
		a, errA := parseAny(base)
		b, errB := parseAny(next)
		if errA != nil || errB != nil {
			continue
		}
		for _, dir := range [][2]avro.Schema{{a, b}, {b, a}} {
			reader, writer := compat.Schema{Schema: dir[0], Label: "r"}, compat.Schema{Schema: dir[1], Label: "w"}
			scanned := compat.Check(reader, writer)
			scannedSpec := compat.CheckSpecOnly(dir[0], dir[1])
			scannedOK := compat.Compatible(dir[0], dir[1])
			restore := compat.SetScanLimit(0)
			indexed := compat.Check(reader, writer)
			indexedSpec := compat.CheckSpecOnly(dir[0], dir[1])
			indexedOK := compat.Compatible(dir[0], dir[1])
			restore()
			if !slices.Equal(scanned, indexed) || !slices.Equal(scannedSpec, indexedSpec) || scannedOK != indexedOK {
				t.Fatalf("seed %d: scanned and indexed disagree\nreader: %s\nwriter: %s\nscanned: %+v\nindexed: %+v",
					seed, dir[0], dir[1], scanned, indexed)
			}
			checked++
		}
	}
	if checked < cases {
		t.Fatalf("weak sample: %d pairs checked", checked)
	}
}

package codegen

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/schemas"
)

type importSpec struct{ Name, Path string }

type fileData struct {
	Source  string
	Package string
	Imports []importSpec
	Record  *recordData
	Enum    *enumData
	Fixed   *fixedData
	Unions  []*unionData
	Binding *bindingData
	Named   *namedData
	// Alias is <Name>V1, declared as an alias of <Name> when the event has
	// several live majors; "" otherwise.
	Alias string
}

type recordData struct {
	Name     string
	FullName string
	Validate string // statements of the Validate method
	Doc      []string
	Fields   []fieldData
}

type fieldData struct {
	GoName, GoType, AvroName string
	Doc                      []string
}

type enumData struct {
	Name, FullName, Default string
	Doc                     []string
	Symbols                 []enumSym
}

type enumSym struct{ Const, Symbol string }

type fixedData struct {
	Name string
	Doc  []string
	Size int
}

type unionData struct {
	Pkg, Iface, Wrapper, Desc string
	Nullable                  bool
	Branches                  []branchData
}

type branchData struct {
	GoType        string // the type implementing the interface
	Declare       string // underlying type when GoType is declared for the union
	AvroName      string // the branch's name in the union
	Kind          string // record, enum or primitive
	Canonical     string // the Go type hamba's resolver decodes the branch into
	Generic       string // the Go type of the branch in generic decoding (enum, primitive)
	ToAvro        string // format turning a GoType value into the value to encode
	FromCanonical string // format turning a Canonical value into a GoType
}

type bindingData struct {
	Var, RefsVar, GoType, FullName, Topic, Subject, Strategy, KeyField, KeyExpr, TextConst string
	Refs                                                                                   []string
	// Major is the major version for a later major (0 for major 1, which
	// BindingConfig's default covers); MajorOf names it in docs.
	Major   int
	MajorOf string
	// Metadata and RuleSet are Go expressions of the data contract, "" for
	// none.
	Metadata, RuleSet string
	// Migrations are the events.RegisterMigration calls of init.
	Migrations []migrationData
}

// migrationData is one registered migration: from and to binding variables
// and the hand-written function between them.
type migrationData struct{ From, To, Func string }

type namedData struct {
	FullName, Source, TextConst, TextLit, GoType string
	Refs                                         []string
	RegisterAvro, IsEnum                         bool
	// Register is false for the later majors of an event: the named-type
	// registry (for references by full name) holds the lowest major.
	Register bool
}

// fileGen builds one file.
type fileGen struct {
	g       *generator
	t       *schemas.Type
	pkg     *pkgInfo
	imports map[string]string // path -> name ("" for default)
	unions  []*unionData
}

func (g *generator) file(t *schemas.Type) *File {
	f := &fileGen{g: g, t: t, pkg: g.pkgs[t.Namespace], imports: map[string]string{}}
	if f.pkg == nil {
		return nil
	}
	f.use("fmt", "")
	f.use("encoding/json", "")
	f.use("github.com/hamba/avro/v2", "")
	f.use(g.cfg.EventsImportPath, "")
	ev := g.set.Event(t.FullName)
	primary := g.set.Types[t.FullName] == t
	name := goTypeName(t)
	what := t.FullName
	if t.Major > 1 {
		what = fmt.Sprintf("major %d of %s", t.Major, t.FullName)
	}
	f.declare(name, what, "")
	source := path.Join(g.cfg.SourceDir, t.File)
	textConst := lowerFirst(name) + "SchemaText"
	f.declare(textConst, what+" schema text", "")
	data := &fileData{
		Source:  source,
		Package: f.pkg.leaf,
		Named: &namedData{
			FullName: t.FullName, Source: source, TextConst: textConst, TextLit: goStringLit(t.Text),
			GoType: name, Refs: t.References, RegisterAvro: primary && g.unionBranches[t.FullName], Register: primary,
		},
	}
	if ev != nil && len(ev.Majors) > 1 && t.Major == 1 {
		data.Alias = name + "V1"
		f.declare(data.Alias, "the alias of major 1 of "+t.FullName, "")
	}
	switch s := t.Schema.(type) {
	case *avro.RecordSchema:
		data.Record = f.record(s, name)
		data.Record.Validate = f.validateBody(s, data.Record)
		f.use("errors", "")
	case *avro.EnumSchema:
		data.Enum = f.enum(s, name)
		data.Named.IsEnum = true
	case *avro.FixedSchema:
		data.Fixed = &fixedData{Name: name, Size: s.Size(), Doc: docLines(fmt.Sprintf("%s is the Avro fixed %s (%d bytes).", name, s.FullName(), s.Size()), "")}
	}
	data.Unions = f.unions
	if m := majorOf(ev, t); m != nil && data.Record != nil {
		data.Binding = f.binding(ev, m, name, textConst, data.Record)
	}
	for _, p := range slices.Sorted(maps.Keys(f.imports)) {
		data.Imports = append(data.Imports, importSpec{Name: f.imports[p], Path: p})
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "file.go.tmpl", data); err != nil {
		g.errAt(t, "", "codegen: template: %v", err)
		return nil
	}
	return &File{Path: f.pkg.leaf + "/" + snake(name) + ".gen.go", Data: buf.Bytes()}
}

// goTypeName is the Go type of t: its name for major 1, <Name>V<N> for a
// later major of an event.
func goTypeName(t *schemas.Type) string {
	if t.Major > 1 {
		return exportName(t.Name) + "V" + strconv.Itoa(t.Major)
	}
	return exportName(t.Name)
}

// majorOf is the major of event ev that t defines, nil when t is no event.
func majorOf(ev *schemas.Event, t *schemas.Type) *schemas.Major {
	if ev == nil {
		return nil
	}
	if m := ev.Major(t.Major); m != nil && m.Type == t {
		return m
	}
	return nil
}

func (f *fileGen) use(importPath, name string) { f.imports[importPath] = name }

// declare reserves a package-level Go name, reporting a clash at ptr.
func (f *fileGen) declare(goName, what, ptr string) bool {
	if prev, ok := f.pkg.names[goName]; ok {
		f.g.errAt(f.t, ptr, "Go name %s for %s clashes with %s in package %s: rename one of them", goName, what, prev, f.pkg.leaf)
		return false
	}
	f.pkg.names[goName] = what
	return true
}

func (f *fileGen) record(s *avro.RecordSchema, name string) *recordData {
	r := &recordData{Name: name, FullName: s.FullName(), Doc: docLines(fmt.Sprintf("%s is the Avro record %s.", name, s.FullName()), s.Doc())}
	seen := map[string]string{}
	for i, fl := range s.Fields() {
		ptr := "/fields/" + strconv.Itoa(i)
		goName := exportName(fl.Name())
		// Every schema field gets an entry, even a rejected one, so
		// r.Fields[i] is schema field i (the binding and Validate rely on it);
		// a rejected field fails Generate anyway.
		fd := fieldData{GoName: goName, GoType: "struct{}", AvroName: fl.Name(), Doc: docLines("", fl.Doc())}
		rs, self := deref(fl.Type()).(*avro.RecordSchema)
		self = self && rs.FullName() == s.FullName()
		switch prev, dup := seen[goName]; {
		case dup:
			f.g.errAt(f.t, ptr+"/name", "fields %q and %q both become Go field %s: rename one", prev, fl.Name(), goName)
		case goName == "Validate":
			f.g.errAt(f.t, ptr+"/name", "field %q would clash with the generated Validate method: rename it", fl.Name())
		case self:
			f.g.errAt(f.t, ptr+"/type", "record %s contains itself in field %q, so no value of it is finite: make the field optional ([\"null\", %q]) or an array", s.FullName(), fl.Name(), s.Name())
		default:
			seen[goName] = fl.Name()
			fd.GoType = f.goType(fl.Type(), ptr+"/type", name+goName)
		}
		r.Fields = append(r.Fields, fd)
	}
	return r
}

func (f *fileGen) enum(s *avro.EnumSchema, name string) *enumData {
	e := &enumData{Name: name, FullName: s.FullName(), Doc: docLines(fmt.Sprintf("%s is the Avro enum %s.", name, s.FullName()), s.Doc())}
	for i, sym := range s.Symbols() {
		c := name + exportName(sym)
		if !f.declare(c, fmt.Sprintf("symbol %s of %s", sym, s.FullName()), "/symbols/"+strconv.Itoa(i)) {
			continue
		}
		e.Symbols = append(e.Symbols, enumSym{Const: c, Symbol: sym})
		if sym == s.Default() {
			e.Default = c
		}
	}
	if s.Default() != "" {
		f.declare(name+"Default", "the default of "+s.FullName(), "/default")
	}
	f.declare(name+"Values", "the symbol list of "+s.FullName(), "")
	return e
}

// named returns the Go type expression for a named type.
func (f *fileGen) named(full string) string {
	ns, name := "", full
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns, name = full[:i], full[i+1:]
	}
	p := f.g.pkgs[ns]
	if p == nil || p == f.pkg {
		return exportName(name)
	}
	f.use(p.importPath, "")
	return p.leaf + "." + exportName(name)
}

// goType maps a schema to a Go type expression; base names unions.
func (f *fileGen) goType(s avro.Schema, ptr, base string) string {
	s = deref(s)
	switch s := s.(type) {
	case *avro.PrimitiveSchema:
		return f.primitive(s, ptr)
	case *avro.RecordSchema, *avro.EnumSchema:
		return f.named(s.(avro.NamedSchema).FullName())
	case *avro.FixedSchema:
		if l := s.Logical(); l != nil {
			switch l.Type() {
			case avro.Decimal:
				f.use("math/big", "")
				return "*big.Rat"
			case avro.Duration:
				return "avro.LogicalDuration"
			}
		}
		return f.named(s.FullName())
	case *avro.ArraySchema:
		return "[]" + f.goType(s.Items(), ptr+"/items", base+"Item")
	case *avro.MapSchema:
		return "map[string]" + f.goType(s.Values(), ptr+"/values", base+"Value")
	case *avro.UnionSchema:
		if t, ok := optional(s); ok {
			idx := 1
			if s.Types()[0].Type() != avro.Null {
				idx = 0
			}
			inner := f.goType(t, ptr+"/"+strconv.Itoa(idx), base)
			if inner == "*big.Rat" {
				// hamba/avro v2.31 decodes ["null", decimal] into a
				// *big.Rat incorrectly (it writes a pointer into the Rat).
				f.g.errAt(f.t, ptr, "contrail gen does not support an optional decimal: hamba/avro cannot decode it; wrap the decimal in a record (like contrail.common.Money) and make that optional")
				return inner
			}
			return "*" + inner
		}
		return "*" + f.union(s, ptr, base)
	}
	f.g.errAt(f.t, ptr, "contrail gen cannot map %s to Go", s.Type())
	return "struct{}"
}

func (f *fileGen) primitive(s *avro.PrimitiveSchema, ptr string) string {
	if l := s.Logical(); l != nil {
		switch l.Type() {
		case avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros, avro.Date:
			f.use("time", "")
			return "time.Time"
		case avro.TimeMillis, avro.TimeMicros:
			f.use("time", "")
			return "time.Duration"
		case avro.Decimal:
			f.use("math/big", "")
			return "*big.Rat"
		case avro.UUID:
			return "string"
		}
	}
	switch s.Type() {
	case avro.Boolean:
		return "bool"
	case avro.Int:
		return "int32"
	case avro.Long:
		return "int64"
	case avro.Float:
		return "float32"
	case avro.Double:
		return "float64"
	case avro.Bytes:
		return "[]byte"
	case avro.String:
		return "string"
	}
	f.g.errAt(f.t, ptr, "a lone null type has no Go mapping: use it inside a union such as [\"null\", \"string\"]")
	return "struct{}"
}

// primitiveBranch describes a primitive union branch: Go type, the type
// hamba decodes it into (resolver and generic alike), suffix for names.
var primitiveBranch = map[avro.Type][3]string{
	avro.Boolean: {"bool", "bool", "Boolean"},
	avro.Int:     {"int32", "int", "Int"},
	avro.Long:    {"int64", "int64", "Long"},
	avro.Float:   {"float32", "float32", "Float"},
	avro.Double:  {"float64", "float64", "Double"},
	avro.Bytes:   {"[]byte", "[]byte", "Bytes"},
	avro.String:  {"string", "string", "String"},
}

// union declares the sealed interface and wrapper for a general union and
// returns the wrapper's name.
func (f *fileGen) union(s *avro.UnionSchema, ptr, base string) string {
	u := &unionData{Pkg: f.pkg.leaf, Iface: base, Wrapper: base + "Union"}
	var names []string
	for i, b := range s.Types() {
		bptr := ptr + "/" + strconv.Itoa(i)
		b = deref(b)
		if b.Type() == avro.Null {
			u.Nullable = true
			names = append(names, "null")
			continue
		}
		var bd branchData
		switch b := b.(type) {
		case *avro.RecordSchema, *avro.EnumSchema:
			n := b.(avro.NamedSchema)
			kind := "record"
			if _, ok := b.(*avro.EnumSchema); ok {
				kind = "enum"
			}
			canon := f.named(n.FullName())
			bd = branchData{AvroName: n.FullName(), Kind: kind, Canonical: canon, Generic: "string", ToAvro: "%s", FromCanonical: "%s"}
			if strings.Contains(canon, ".") {
				// Another package's type cannot get our marker method:
				// declare a local type with the same underlying type.
				bd.GoType = base + exportName(n.Name())
				bd.Declare = canon
				bd.ToAvro = canon + "(%s)"
				bd.FromCanonical = bd.GoType + "(%s)"
				if !f.declare(bd.GoType, "the "+n.FullName()+" branch of "+base, bptr) {
					continue
				}
			} else {
				bd.GoType = canon
			}
		case *avro.PrimitiveSchema:
			if b.Logical() != nil {
				f.g.errAt(f.t, bptr, "contrail gen does not support a logical type (%s) as a branch of a general union: wrap it in a record", b.Logical().Type())
				continue
			}
			pb := primitiveBranch[b.Type()]
			bd = branchData{
				GoType: base + pb[2], Declare: pb[0], AvroName: string(b.Type()), Kind: "primitive",
				Canonical: pb[1], Generic: pb[1], ToAvro: pb[0] + "(%s)", FromCanonical: base + pb[2] + "(%s)",
			}
			if !f.declare(bd.GoType, "the "+string(b.Type())+" branch of "+base, bptr) {
				continue
			}
		default:
			f.g.errAt(f.t, bptr, "contrail gen does not support %s as a branch of a general union: wrap it in a record", b.Type())
			continue
		}
		names = append(names, bd.AvroName)
		u.Branches = append(u.Branches, bd)
	}
	if len(u.Branches) == 0 {
		f.g.errAt(f.t, ptr, "a union needs a branch other than null")
	}
	u.Desc = "[" + strings.Join(names, ", ") + "]"
	if f.declare(u.Iface, "the union at "+ptr, ptr) && f.declare(u.Wrapper, "the union at "+ptr, ptr) && f.declare("New"+u.Wrapper, "the union at "+ptr, ptr) {
		f.unions = append(f.unions, u)
	}
	return u.Wrapper
}

func (f *fileGen) binding(ev *schemas.Event, m *schemas.Major, name, textConst string, r *recordData) *bindingData {
	t := m.Type
	b := &bindingData{
		Var: name + "Binding", RefsVar: lowerFirst(name) + "References", GoType: name, FullName: t.FullName, Topic: ev.Topic, Subject: ev.Subject,
		Strategy: string(ev.Strategy), KeyField: ev.Key, TextConst: textConst, Refs: t.References,
	}
	if m.Version > 1 {
		b.Major, b.MajorOf = m.Version, fmt.Sprintf("major %d of %s", m.Version, t.FullName)
	}
	f.declare(b.Var, "the binding of "+name, "")
	f.declare(b.RefsVar, "the references of "+name, "")
	if m.Metadata != nil || m.RuleSet != nil {
		f.use(f.g.cfg.WireImportPath, "")
		b.Metadata, b.RuleSet = metadataLit(m.Metadata), ruleSetLit(m.RuleSet)
	}
	for _, mig := range f.g.migrations(ev, m) {
		f.declare(mig.fn, fmt.Sprintf("the %s of %s from major %d to %d", mig.mode, t.FullName, mig.fromMajor, mig.toMajor), "")
		b.Migrations = append(b.Migrations, migrationData{From: mig.fromVar, To: mig.toVar, Func: mig.fn})
	}
	rec := t.Schema.(*avro.RecordSchema)
	for i, fl := range rec.Fields() {
		if fl.Name() != ev.Key {
			continue
		}
		goName := r.Fields[i].GoName
		switch kt := deref(fl.Type()); kt.Type() {
		case avro.String:
			b.KeyExpr = "v." + goName
		case avro.Int, avro.Long:
			f.use("strconv", "")
			b.KeyExpr = "strconv.FormatInt(int64(v." + goName + "), 10)"
		case avro.Enum:
			b.KeyExpr = "string(v." + goName + ")"
		default:
			f.g.errAt(t, "/fields/"+strconv.Itoa(i)+"/type", "key field %q has type %s: a partition key must be a string, int, long or enum", ev.Key, kt.Type())
			b.KeyExpr = `""`
		}
	}
	return b
}

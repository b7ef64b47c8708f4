package rules

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/hamba/avro/v2"
)

// How generated values appear in CEL.
//
// A rule sees the generated Go value itself, never a copy converted to maps:
// the provider below gives the checker each Avro record as a CEL object type
// named by its full name, with fields named and typed by the Avro schema, and
// reads a field from the Go struct through the index of the field whose
// `avro:"..."` tag names it (looked up once per Go type). Values map as
// follows: string, enum (a Go string type) -> string; int, long -> int;
// float, double -> double; boolean -> bool; bytes, fixed -> bytes; decimal
// (*big.Rat) -> DecimalTypeName; timestamp-*, date -> timestamp;
// time-* -> duration; array -> list; map -> map(string, ...); record ->
// object; ["null", T] -> T or null (a *T in Go; a primitive T is a nullable
// primitive to the checker); a union of several types (a generated XUnion
// wrapper whose Value field holds the branch) -> dyn, the branch's value.

// provider is a types.Provider and types.Adapter for the records of one
// Avro schema, on top of CEL's standard registry. It is immutable after
// newProvider, except for its caches, and safe for concurrent use.
type provider struct {
	base    *types.Registry
	records map[string]*recordDecl // by Avro full name
	byShort map[string][]*recordDecl
	goNames sync.Map // reflect.Type -> *types.Type: a Go struct's record type
}

type recordDecl struct {
	name   string
	typ    *types.Type
	fields map[string]*types.FieldType
	names  []string
	set    map[string]bool // field names, to match Go structs
}

// newProvider declares every record reachable from s.
func newProvider(s avro.Schema) (*provider, *types.Type, error) {
	base, err := types.NewRegistry()
	if err != nil {
		return nil, nil, err
	}
	p := &provider{base: base, records: map[string]*recordDecl{}, byShort: map[string][]*recordDecl{}}
	root, err := p.celType(s)
	if err != nil {
		return nil, nil, err
	}
	return p, root, nil
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

// celType returns the CEL type of values of s, declaring records.
func (p *provider) celType(s avro.Schema) (*types.Type, error) {
	s = deref(s)
	switch t := s.(type) {
	case *avro.RecordSchema:
		if d, ok := p.records[t.FullName()]; ok {
			return d.typ, nil
		}
		d := &recordDecl{name: t.FullName(), typ: types.NewObjectType(t.FullName()),
			fields: map[string]*types.FieldType{}, set: map[string]bool{}}
		p.records[d.name] = d
		p.byShort[t.Name()] = append(p.byShort[t.Name()], d)
		for _, f := range t.Fields() {
			ft, err := p.celType(f.Type())
			if err != nil {
				return nil, fmt.Errorf("field %s.%s: %w", t.FullName(), f.Name(), err)
			}
			name := f.Name()
			cache := &fieldCache{}
			d.fields[name] = &types.FieldType{
				Type:    ft,
				IsSet:   func(obj any) bool { return fieldIsSet(obj, name, cache) },
				GetFrom: func(obj any) (any, error) { return fieldValue(obj, name, cache) },
			}
			d.names = append(d.names, name)
			d.set[name] = true
		}
		return d.typ, nil
	case *avro.UnionSchema:
		var nonNull []avro.Schema
		for _, b := range t.Types() {
			if b.Type() != avro.Null {
				nonNull = append(nonNull, b)
			}
		}
		if len(nonNull) == 1 && len(t.Types()) == 2 {
			inner, err := p.celType(nonNull[0])
			if err != nil {
				return nil, err
			}
			switch inner.Kind() {
			case types.StringKind, types.IntKind, types.DoubleKind, types.BoolKind, types.BytesKind:
				return types.NewNullableType(inner), nil
			}
			return inner, nil
		}
		for _, b := range nonNull { // declare the branches' records
			if _, err := p.celType(b); err != nil {
				return nil, err
			}
		}
		return types.DynType, nil
	case *avro.ArraySchema:
		elem, err := p.celType(t.Items())
		if err != nil {
			return nil, err
		}
		return types.NewListType(elem), nil
	case *avro.MapSchema:
		elem, err := p.celType(t.Values())
		if err != nil {
			return nil, err
		}
		return types.NewMapType(types.StringType, elem), nil
	case *avro.EnumSchema:
		return types.StringType, nil
	case *avro.FixedSchema:
		if l := t.Logical(); l != nil && l.Type() == avro.Decimal {
			return DecimalType, nil
		}
		return types.BytesType, nil
	case *avro.PrimitiveSchema:
		if l := t.Logical(); l != nil {
			switch l.Type() {
			case avro.Decimal:
				return DecimalType, nil
			case avro.Date, avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros:
				return types.TimestampType, nil
			case avro.TimeMillis, avro.TimeMicros:
				return types.DurationType, nil
			}
		}
		switch t.Type() {
		case avro.String:
			return types.StringType, nil
		case avro.Bytes:
			return types.BytesType, nil
		case avro.Int, avro.Long:
			return types.IntType, nil
		case avro.Float, avro.Double:
			return types.DoubleType, nil
		case avro.Boolean:
			return types.BoolType, nil
		case avro.Null:
			return types.NullType, nil
		}
	}
	return nil, fmt.Errorf("rules: Avro type %s has no CEL type", s.Type())
}

// EnumValue implements types.Provider.
func (p *provider) EnumValue(name string) ref.Val { return p.base.EnumValue(name) }

// FindIdent implements types.Provider.
func (p *provider) FindIdent(name string) (ref.Val, bool) {
	if d, ok := p.records[name]; ok {
		return d.typ, true
	}
	if name == DecimalTypeName {
		return DecimalType, true
	}
	return p.base.FindIdent(name)
}

// FindStructType implements types.Provider.
func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if d, ok := p.records[name]; ok {
		return types.NewTypeTypeWithParam(d.typ), true
	}
	if name == DecimalTypeName {
		return types.NewTypeTypeWithParam(DecimalType), true
	}
	return p.base.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if d, ok := p.records[name]; ok {
		return append([]string(nil), d.names...), true
	}
	if name == DecimalTypeName {
		return nil, true
	}
	return p.base.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if d, ok := p.records[name]; ok {
		ft, ok := d.fields[field]
		return ft, ok
	}
	if name == DecimalTypeName {
		return nil, false
	}
	return p.base.FindStructFieldType(name, field)
}

// NewValue implements types.Provider: rules read events, they do not
// build them.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.records[name]; ok || name == DecimalTypeName {
		return types.NewErr("rules: cannot construct a %s in a rule", name)
	}
	return p.base.NewValue(name, fields)
}

// NativeToValue implements types.Adapter for the values of generated code.
func (p *provider) NativeToValue(v any) ref.Val {
	switch x := v.(type) {
	case nil:
		return types.NullValue
	case ref.Val:
		return x
	case *big.Rat:
		if x == nil {
			return types.NullValue
		}
		return decimalVal{x}
	case string:
		return types.String(x)
	case int32:
		return types.Int(x)
	case int64:
		return types.Int(x)
	case int:
		return types.Int(x)
	case bool:
		return types.Bool(x)
	case float64:
		return types.Double(x)
	case []byte:
		return types.Bytes(x)
	case time.Time:
		return types.Timestamp{Time: x}
	case time.Duration:
		return types.Duration{Duration: x}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String: // an enum
		return types.String(rv.String())
	case reflect.Pointer:
		if rv.IsNil() {
			return types.NullValue
		}
		e := rv.Elem()
		if e.Kind() == reflect.Struct {
			a := accessorsOf(e.Type())
			if a.union {
				return p.NativeToValue(e.Field(0).Interface())
			}
			if a.record {
				return &recordVal{p: p, v: v, typ: p.recordType(e.Type())}
			}
		}
		return p.NativeToValue(e.Interface())
	case reflect.Struct:
		a := accessorsOf(rv.Type())
		if a.union {
			return p.NativeToValue(rv.Field(0).Interface())
		}
		if a.record {
			return &recordVal{p: p, v: v, typ: p.recordType(rv.Type())}
		}
	case reflect.Slice:
		return types.NewDynamicList(p, v)
	case reflect.Map:
		return types.NewDynamicMap(p, v)
	case reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 { // a fixed
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return types.Bytes(b)
		}
		return types.NewDynamicList(p, v)
	}
	return p.base.NativeToValue(v)
}

// recordType returns the CEL type of a generated struct: the declared
// record whose field names are the struct's avro tags (preferring the one
// whose name is the Go type's, then the one declared first), else an
// object type named after the Go type.
func (p *provider) recordType(t reflect.Type) *types.Type {
	if v, ok := p.goNames.Load(t); ok {
		return v.(*types.Type)
	}
	a := accessorsOf(t)
	var match *recordDecl
	for _, d := range p.byShort[t.Name()] {
		if sameFields(d.set, a.index) {
			match = d
		}
	}
	if match == nil {
		for _, d := range p.records {
			if sameFields(d.set, a.index) && (match == nil || d.name < match.name) {
				match = d
			}
		}
	}
	typ := types.NewObjectType(t.String())
	if match != nil {
		typ = match.typ
	}
	p.goNames.Store(t, typ)
	return typ
}

func sameFields(a map[string]bool, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// accessors is what a rule needs of a Go struct type: the index of the
// field each avro tag names, and whether the struct is a generated union
// wrapper (one interface field named Value).
type accessors struct {
	index  map[string]int
	record bool // has avro tags
	union  bool
}

var accessorCache sync.Map // reflect.Type -> *accessors

func accessorsOf(t reflect.Type) *accessors {
	if a, ok := accessorCache.Load(t); ok {
		return a.(*accessors)
	}
	a := &accessors{index: map[string]int{}}
	if t.NumField() == 1 && t.Field(0).Name == "Value" && t.Field(0).Type.Kind() == reflect.Interface {
		a.union = true
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("avro")
		if !ok || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		a.index[name] = i
		a.record = true
	}
	v, _ := accessorCache.LoadOrStore(t, a)
	return v.(*accessors)
}

// fieldCache remembers, per declared field, where the last Go type seen
// keeps it: a field is almost always read from one Go type.
type fieldCache struct{ last atomic.Pointer[fieldLoc] }

type fieldLoc struct {
	t reflect.Type
	i int
}

// structOf returns the struct obj holds or points to.
func structOf(obj any) (reflect.Value, error) {
	if r, ok := obj.(*recordVal); ok {
		obj = r.v
	}
	rv := reflect.ValueOf(obj)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return reflect.Value{}, fmt.Errorf("the record is null")
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("%T is not a record", obj)
	}
	return rv, nil
}

func locate(rv reflect.Value, name string, c *fieldCache) (int, bool) {
	t := rv.Type()
	if l := c.last.Load(); l != nil && l.t == t {
		return l.i, true
	}
	i, ok := accessorsOf(t).index[name]
	if ok {
		c.last.Store(&fieldLoc{t: t, i: i})
	}
	return i, ok
}

// fieldValue reads field name of the record obj holds, as the Go value the
// adapter turns into CEL: a nested struct by pointer when it can (no copy),
// a union wrapper as its branch value, a nil pointer as nil.
func fieldValue(obj any, name string, c *fieldCache) (any, error) {
	rv, err := structOf(obj)
	if err != nil {
		return nil, fmt.Errorf("no such field '%s': %v", name, err)
	}
	i, ok := locate(rv, name, c)
	if !ok {
		return nil, fmt.Errorf("no such field '%s'", name)
	}
	return goValue(rv.Field(i)), nil
}

func goValue(fv reflect.Value) any {
	switch fv.Kind() {
	case reflect.Struct:
		if accessorsOf(fv.Type()).union {
			return fv.Field(0).Interface()
		}
		if fv.CanAddr() {
			return fv.Addr().Interface()
		}
	case reflect.Pointer:
		if fv.IsNil() {
			return nil
		}
		if e := fv.Elem(); e.Kind() == reflect.Struct && accessorsOf(e.Type()).union {
			return e.Field(0).Interface()
		}
	case reflect.Interface:
		if fv.IsNil() {
			return nil
		}
	}
	return fv.Interface()
}

// fieldIsSet is has(): a nullable field is set unless null, a union unless
// it holds nothing, any other field always.
func fieldIsSet(obj any, name string, c *fieldCache) bool {
	rv, err := structOf(obj)
	if err != nil {
		return false
	}
	i, ok := locate(rv, name, c)
	if !ok {
		return false
	}
	return goValue(rv.Field(i)) != nil
}

// recordVal is a generated struct (or a pointer to one) as a CEL object.
type recordVal struct {
	p   *provider
	v   any
	typ *types.Type
}

var (
	_ traits.Indexer     = (*recordVal)(nil)
	_ traits.FieldTester = (*recordVal)(nil)
)

func (r *recordVal) ConvertToNative(t reflect.Type) (any, error) {
	rv := reflect.ValueOf(r.v)
	switch {
	case rv.Type() == t:
		return r.v, nil
	case rv.Kind() == reflect.Pointer && rv.Elem().Type() == t:
		return rv.Elem().Interface(), nil
	case reflect.PointerTo(rv.Type()) == t:
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		return p.Interface(), nil
	case t.Kind() == reflect.Interface && rv.Type().Implements(t):
		return r.v, nil
	}
	return nil, fmt.Errorf("rules: cannot convert %s to %v", r.typ.TypeName(), t)
}

func (r *recordVal) ConvertToType(t ref.Type) ref.Val {
	switch t.TypeName() {
	case r.typ.TypeName():
		return r
	case types.TypeType.TypeName():
		return r.typ
	}
	return types.NewErr("type conversion error from '%s' to '%s'", r.typ.TypeName(), t.TypeName())
}

func (r *recordVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(*recordVal)
	if !ok {
		return types.False
	}
	a, errA := structOf(r.v)
	b, errB := structOf(o.v)
	if errA != nil || errB != nil {
		return types.Bool(errA != nil && errB != nil)
	}
	return types.Bool(reflect.DeepEqual(a.Interface(), b.Interface()))
}

func (r *recordVal) Type() ref.Type { return r.typ }
func (r *recordVal) Value() any     { return r.v }

// Get reads a field by name (dynamic access, e.g. on a union branch).
func (r *recordVal) Get(index ref.Val) ref.Val {
	name, ok := index.(types.String)
	if !ok {
		return types.NewErr("no such field: a record is indexed by a field name, not %s", index.Type().TypeName())
	}
	v, err := fieldValue(r.v, string(name), &fieldCache{})
	if err != nil {
		return types.NewErr("%v", err)
	}
	return r.p.NativeToValue(v)
}

// IsSet is has() on a dynamically typed record: a field the record does
// not have is not set (as for a map), so has(message.payment.cardToken)
// tells a union's branches apart.
func (r *recordVal) IsSet(field ref.Val) ref.Val {
	name, ok := field.(types.String)
	if !ok {
		return types.False
	}
	return types.Bool(fieldIsSet(r.v, string(name), &fieldCache{}))
}

package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/schemas"
)

// ExamplesDir is where example events live, relative to the repository:
// schemas/examples/<event full name>/<example name>.json.
const ExamplesDir = "schemas/examples"

// ErrBadExample is wrapped by every error about an example that does not
// match its schema. The message names the file and the JSON pointer.
var ErrBadExample = errors.New("contract: bad example")

// Example is one example event: a JSON document in Avro's JSON encoding
// (see FromJSON for the exact form) for one event.
type Example struct {
	// Event is the event's full name (the example's directory name).
	Event string
	// Name is the file name without ".json".
	Name string
	// File is the example's slash path as given to LoadExamples.
	File string
	// JSON is the file's content.
	JSON []byte
	// Value is the example as a hamba/avro generic value for the event's
	// schema in the tree it was loaded against, ready for avro.Marshal.
	Value any
}

// LoadExamples reads every example under dir (<dir>/<event full name>/*.json)
// and converts each against its event's schema in set. Every bad example is
// reported (errors wrap ErrBadExample and name file and JSON pointer), as is
// a directory named after no event. A missing dir holds no examples.
// Examples come sorted by event, then name.
func LoadExamples(dir string, set *schemas.Set) ([]*Example, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return LoadExamplesFS(os.DirFS(dir), strings.TrimSuffix(dir, "/"), set)
}

// LoadExamplesFS is LoadExamples over fsys; prefix is put before file names.
func LoadExamplesFS(fsys fs.FS, prefix string, set *schemas.Set) ([]*Example, error) {
	var out []*Example
	var errs []error
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(p) != ".json" {
			return nil
		}
		file := prefix + "/" + p
		event := path.Dir(p)
		t := set.Types[event]
		if t == nil || strings.Contains(event, "/") {
			errs = append(errs, fmt.Errorf("%w: %s: directory %q names no type of the schema tree: put examples in <dir>/<event full name>/", ErrBadExample, file, event))
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		v, err := FromJSON(t.Schema, data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
			return nil
		}
		out = append(out, &Example{Event: event, Name: strings.TrimSuffix(path.Base(p), ".json"), File: file, JSON: data, Value: v})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("contract: read examples %s: %w", prefix, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Event != out[j].Event {
			return out[i].Event < out[j].Event
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// FromJSON converts one JSON document in Avro's JSON encoding into the
// hamba/avro generic value of schema s (maps for records, *big.Rat for
// decimals, time.Time for timestamps, single-key maps for union branches),
// validating it strictly: unknown record fields, missing fields without a
// default, wrong types, out-of-range numbers, unknown enum symbols and
// unknown union branches are errors wrapping ErrBadExample that name the
// JSON pointer.
//
// The form is the Avro specification's JSON encoding with three
// conveniences, each documented in docs/contracts.md:
//   - a decimal on bytes is written as a decimal string ("19.99"), not as
//     the spec's string of byte code points;
//   - timestamp-millis/-micros may also be an RFC 3339 string;
//   - a record field that has a default may be left out.
//
// A union value is null or {"<branch>": value}, the branch being the full
// name of a named type (or its short name) or a primitive type name.
func FromJSON(s avro.Schema, data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrBadExample, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: more than one JSON value", ErrBadExample)
	}
	return convert(s, doc, "")
}

func bad(ptr, format string, a ...any) error {
	if ptr == "" {
		ptr = "/"
	}
	return fmt.Errorf("%w: %s: %s", ErrBadExample, ptr, fmt.Sprintf(format, a...))
}

func logical(s avro.Schema) string {
	if l, ok := s.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		return string(l.Logical().Type())
	}
	return ""
}

func convert(s avro.Schema, v any, ptr string) (any, error) {
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	switch t := s.(type) {
	case *avro.RecordSchema:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, bad(ptr, "record %s needs a JSON object, got %s", t.FullName(), jsonKind(v))
		}
		out := make(map[string]any, len(t.Fields()))
		known := map[string]bool{}
		for _, f := range t.Fields() {
			known[f.Name()] = true
			fv, present := obj[f.Name()]
			if !present {
				if !f.HasDefault() {
					return nil, bad(ptr, "record %s: field %q is missing and has no default: add it", t.FullName(), f.Name())
				}
				def := f.Default()
				dv, err := convertDefault(f.Type(), def, ptr+"/"+f.Name())
				if err != nil {
					return nil, err
				}
				out[f.Name()] = dv
				continue
			}
			cv, err := convert(f.Type(), fv, ptr+"/"+f.Name())
			if err != nil {
				return nil, err
			}
			out[f.Name()] = cv
		}
		for k := range obj {
			if !known[k] {
				return nil, bad(ptr, "record %s has no field %q: remove it or fix its name", t.FullName(), k)
			}
		}
		return out, nil
	case *avro.EnumSchema:
		str, ok := v.(string)
		if !ok {
			return nil, bad(ptr, "enum %s needs a symbol string, got %s", t.FullName(), jsonKind(v))
		}
		for _, sym := range t.Symbols() {
			if sym == str {
				return str, nil
			}
		}
		return nil, bad(ptr, "enum %s has no symbol %q: use one of %s", t.FullName(), str, strings.Join(t.Symbols(), ", "))
	case *avro.ArraySchema:
		arr, ok := v.([]any)
		if !ok {
			return nil, bad(ptr, "array needs a JSON array, got %s", jsonKind(v))
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			cv, err := convert(t.Items(), e, fmt.Sprintf("%s/%d", ptr, i))
			if err != nil {
				return nil, err
			}
			out[i] = cv
		}
		return out, nil
	case *avro.MapSchema:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, bad(ptr, "map needs a JSON object, got %s", jsonKind(v))
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			cv, err := convert(t.Values(), e, ptr+"/"+k)
			if err != nil {
				return nil, err
			}
			out[k] = cv
		}
		return out, nil
	case *avro.UnionSchema:
		if v == nil {
			if _, i := t.Types().Get("null"); i >= 0 {
				return nil, nil
			}
			return nil, bad(ptr, "null is not a branch of this union")
		}
		obj, ok := v.(map[string]any)
		if !ok || len(obj) != 1 {
			return nil, bad(ptr, `a union value is null or {"<branch>": value} with exactly one key, got %s`, jsonKind(v))
		}
		for k, bv := range obj {
			for _, b := range t.Types() {
				if branchMatches(b, k) {
					cv, err := convert(b, bv, ptr+"/"+k)
					if err != nil {
						return nil, err
					}
					return map[string]any{hambaName(b): cv}, nil
				}
			}
			var names []string
			for _, b := range t.Types() {
				names = append(names, hambaName(b))
			}
			return nil, bad(ptr, "union has no branch %q: use one of %s", k, strings.Join(names, ", "))
		}
	case *avro.FixedSchema:
		return nil, bad(ptr, "fixed %s is not supported in examples yet", t.FullName())
	case *avro.PrimitiveSchema:
		return convertPrimitive(t, v, ptr)
	}
	return nil, bad(ptr, "unsupported schema type %s", s.Type())
}

func branchMatches(b avro.Schema, key string) bool {
	if r, ok := b.(*avro.RefSchema); ok {
		b = r.Schema()
	}
	if n, ok := b.(avro.NamedSchema); ok {
		return key == n.FullName() || key == n.Name()
	}
	return key == string(b.Type()) || key == hambaName(b)
}

// hambaName is the key hamba/avro's generic union encoding uses for b.
func hambaName(b avro.Schema) string {
	if r, ok := b.(*avro.RefSchema); ok {
		b = r.Schema()
	}
	if n, ok := b.(avro.NamedSchema); ok {
		return n.FullName()
	}
	name := string(b.Type())
	if l := logical(b); l != "" {
		name += "." + l
	}
	switch t := b.(type) {
	case *avro.ArraySchema:
		name += ":" + hambaName(t.Items())
	case *avro.MapSchema:
		name += ":" + hambaName(t.Values())
	}
	return name
}

// convertDefault converts a field default (as hamba parsed it) to a
// generic value by a JSON round trip through convert, with a union default
// meaning its first branch, as the spec says.
func convertDefault(s avro.Schema, def any, ptr string) (any, error) {
	if u, ok := s.(*avro.UnionSchema); ok {
		first := u.Types()[0]
		if first.Type() == avro.Null {
			return nil, nil
		}
		v, err := convertDefault(first, def, ptr)
		if err != nil {
			return nil, err
		}
		return map[string]any{hambaName(first): v}, nil
	}
	b, err := json.Marshal(def)
	if err != nil {
		return nil, bad(ptr, "default: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, bad(ptr, "default: %v", err)
	}
	if s.Type() == avro.Bytes && logical(s) == "decimal" {
		// A decimal default is written as bytes in the schema; convert
		// those bytes rather than a decimal string.
		if str, ok := v.(string); ok {
			raw := []byte{}
			for _, r := range str {
				raw = append(raw, byte(r))
			}
			ps := s.(*avro.PrimitiveSchema)
			return new(big.Rat).SetFrac(new(big.Int).SetBytes(raw), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(ps.Logical().(*avro.DecimalLogicalSchema).Scale())), nil)), nil
		}
	}
	return convert(s, v, ptr)
}

func convertPrimitive(s *avro.PrimitiveSchema, v any, ptr string) (any, error) {
	lt := logical(s)
	switch s.Type() {
	case avro.Null:
		if v != nil {
			return nil, bad(ptr, "null needs JSON null, got %s", jsonKind(v))
		}
		return nil, nil
	case avro.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad(ptr, "boolean needs true or false, got %s", jsonKind(v))
		}
		return b, nil
	case avro.String:
		str, ok := v.(string)
		if !ok {
			return nil, bad(ptr, "string needs a JSON string, got %s", jsonKind(v))
		}
		if lt == "uuid" && !uuidLike(str) {
			return nil, bad(ptr, "uuid %q is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", str)
		}
		return str, nil
	case avro.Bytes:
		str, ok := v.(string)
		if !ok {
			return nil, bad(ptr, "bytes needs a JSON string, got %s", jsonKind(v))
		}
		if lt == "decimal" {
			dl := s.Logical().(*avro.DecimalLogicalSchema)
			r, ok := new(big.Rat).SetString(str)
			if !ok {
				return nil, bad(ptr, "decimal needs a decimal string such as \"19.99\", got %q", str)
			}
			scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dl.Scale())), nil)))
			if !scaled.IsInt() {
				return nil, bad(ptr, "decimal %s has more than %d fractional digits (the schema's scale)", str, dl.Scale())
			}
			if len(scaled.Num().String()) > dl.Precision()+1 || (scaled.Num().Sign() >= 0 && len(scaled.Num().String()) > dl.Precision()) {
				return nil, bad(ptr, "decimal %s has more than %d digits (the schema's precision)", str, dl.Precision())
			}
			return r, nil
		}
		raw := make([]byte, 0, len(str))
		for _, c := range str {
			if c > 255 {
				return nil, bad(ptr, "bytes are written as a string of code points \\u0000-\\u00ff; %q is out of range", c)
			}
			raw = append(raw, byte(c))
		}
		return raw, nil
	case avro.Int, avro.Long:
		if str, ok := v.(string); ok && s.Type() == avro.Long && (lt == "timestamp-millis" || lt == "timestamp-micros") {
			tm, err := time.Parse(time.RFC3339Nano, str)
			if err != nil {
				return nil, bad(ptr, "timestamp needs epoch %s as a number or an RFC 3339 string: %v", strings.TrimPrefix(lt, "timestamp-"), err)
			}
			return tm.UTC(), nil
		}
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad(ptr, "%s needs a JSON number, got %s", s.Type(), jsonKind(v))
		}
		i, err := n.Int64()
		if err != nil {
			return nil, bad(ptr, "%s needs an integer, got %s", s.Type(), n)
		}
		if s.Type() == avro.Int {
			if i < math.MinInt32 || i > math.MaxInt32 {
				return nil, bad(ptr, "%d does not fit an Avro int (32 bits): make the field a long", i)
			}
			if lt == "date" {
				return time.Unix(i*86400, 0).UTC(), nil
			}
			return int32(i), nil
		}
		switch lt {
		case "timestamp-millis":
			return time.UnixMilli(i).UTC(), nil
		case "timestamp-micros":
			return time.UnixMicro(i).UTC(), nil
		}
		return i, nil
	case avro.Float, avro.Double:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad(ptr, "%s needs a JSON number, got %s", s.Type(), jsonKind(v))
		}
		f, err := n.Float64()
		if err != nil {
			return nil, bad(ptr, "%s: %v", s.Type(), err)
		}
		if s.Type() == avro.Float {
			return float32(f), nil
		}
		return f, nil
	}
	return nil, bad(ptr, "unsupported type %s", s.Type())
}

func uuidLike(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Encode encodes e's value with schema s (the schema it was loaded
// against) in Avro binary, without the wire-format header.
func (e *Example) Encode(s avro.Schema) ([]byte, error) {
	b, err := avro.Marshal(s, e.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: encode: %v", ErrBadExample, e.File, err)
	}
	return b, nil
}

// DecodeAs decodes data, written with writer, as reader (resolving the
// two schemas first, as a consumer built with reader would) into out: a
// pointer to a generated type, or *any for the generic form. It returns the
// resolution or decoding error.
func DecodeAs(reader, writer avro.Schema, data []byte, out any) error {
	resolved := reader
	if reader.Fingerprint() != writer.Fingerprint() {
		r, err := avro.NewSchemaCompatibility().Resolve(reader, writer)
		if err != nil {
			return fmt.Errorf("contract: resolve writer %s to reader: %w", fullNameOf(writer), err)
		}
		resolved = r
	}
	if err := avro.Unmarshal(resolved, data, out); err != nil {
		return fmt.Errorf("contract: decode %s: %w", fullNameOf(writer), err)
	}
	return nil
}

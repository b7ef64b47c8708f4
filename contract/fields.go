package contract

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hamba/avro/v2"
)

// records returns the records reachable from s without crossing a record
// field: s itself, array items, map values and union branches.
func records(s avro.Schema) []*avro.RecordSchema {
	switch t := s.(type) {
	case *avro.RefSchema:
		return records(t.Schema())
	case *avro.RecordSchema:
		return []*avro.RecordSchema{t}
	case *avro.ArraySchema:
		return records(t.Items())
	case *avro.MapSchema:
		return records(t.Values())
	case *avro.UnionSchema:
		var out []*avro.RecordSchema
		for _, b := range t.Types() {
			out = append(out, records(b)...)
		}
		return out
	}
	return nil
}

func fieldOf(rec *avro.RecordSchema, name string) *avro.Field {
	for _, f := range rec.Fields() {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

// lookupField resolves a dotted field path in rec (see Contract.Fields).
func lookupField(rec *avro.RecordSchema, path string) (*avro.Field, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	cur := []*avro.RecordSchema{rec}
	var f *avro.Field
	for i, seg := range strings.Split(path, ".") {
		f = nil
		for _, r := range cur {
			if f = fieldOf(r, seg); f != nil {
				break
			}
		}
		if f == nil {
			if i == 0 {
				return nil, fmt.Errorf("record %s has no field %q", rec.FullName(), seg)
			}
			return nil, fmt.Errorf("no record under %q has a field %q", strings.Join(strings.Split(path, ".")[:i], "."), seg)
		}
		cur = records(f.Type())
	}
	return f, nil
}

// written reports whether the writer still writes the reader's field at
// path, matching field names and the reader's field aliases at every step
// the way Avro resolution does. When it does not, it returns the path prefix
// that is missing and whether the reader field there has a default (which
// resolution would silently read instead).
func written(reader, writer *avro.RecordSchema, path string) (ok bool, missing string, readerDefault bool) {
	segs := strings.Split(path, ".")
	rs := []*avro.RecordSchema{reader}
	ws := []*avro.RecordSchema{writer}
	for i, seg := range segs {
		var rf *avro.Field
		var rrec *avro.RecordSchema
		for _, r := range rs {
			if rf = fieldOf(r, seg); rf != nil {
				rrec = r
				break
			}
		}
		if rf == nil {
			// Not a field of the reader: Validate rules this out.
			return false, strings.Join(segs[:i+1], "."), false
		}
		// Prefer writer records of the same name; fall back to any.
		cands := matching(rrec, ws)
		var wf *avro.Field
		for _, w := range cands {
			if wf = writerField(w, rf); wf != nil {
				break
			}
		}
		if wf == nil {
			return false, strings.Join(segs[:i+1], "."), rf.HasDefault()
		}
		rs, ws = records(rf.Type()), records(wf.Type())
	}
	return true, "", false
}

func matching(r *avro.RecordSchema, ws []*avro.RecordSchema) []*avro.RecordSchema {
	var same []*avro.RecordSchema
	for _, w := range ws {
		if w.FullName() == r.FullName() || w.Name() == r.Name() || slices.Contains(r.Aliases(), w.FullName()) {
			same = append(same, w)
		}
	}
	if len(same) > 0 {
		return same
	}
	return ws
}

func writerField(w *avro.RecordSchema, rf *avro.Field) *avro.Field {
	if f := fieldOf(w, rf.Name()); f != nil {
		return f
	}
	for _, a := range rf.Aliases() {
		if f := fieldOf(w, a); f != nil {
			return f
		}
	}
	return nil
}

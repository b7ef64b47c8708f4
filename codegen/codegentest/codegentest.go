// Package codegentest holds test helpers for generated event types: a deep
// comparison that understands the types generated code uses (*big.Rat by
// value, time.Time by instant) and an Avro round trip that uses it.
package codegentest

import (
	"fmt"
	"math/big"
	"reflect"
	"time"

	"github.com/hamba/avro/v2"
)

var (
	ratPtrType = reflect.TypeFor[*big.Rat]()
	timeType   = reflect.TypeFor[time.Time]()
)

// Diff returns "" when want and got are equal, else the path of the first
// difference. *big.Rat compares by value (Cmp), time.Time by instant
// (Equal); nil and empty slices and maps are equal, because Avro does not
// tell them apart. Everything else compares like reflect.DeepEqual.
func Diff(want, got any) string {
	return diff("", reflect.ValueOf(want), reflect.ValueOf(got))
}

func diff(path string, a, b reflect.Value) string {
	if !a.IsValid() || !b.IsValid() {
		if a.IsValid() != b.IsValid() {
			return fmt.Sprintf("%s: one side is nil", path)
		}
		return ""
	}
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: type %s != %s", path, a.Type(), b.Type())
	}
	switch {
	case a.Type() == ratPtrType:
		ra, rb := a.Interface().(*big.Rat), b.Interface().(*big.Rat)
		if (ra == nil) != (rb == nil) || (ra != nil && ra.Cmp(rb) != 0) {
			return fmt.Sprintf("%s: %v != %v", path, ra, rb)
		}
		return ""
	case a.Type() == timeType:
		ta, tb := a.Interface().(time.Time), b.Interface().(time.Time)
		if !ta.Equal(tb) {
			return fmt.Sprintf("%s: %v != %v", path, ta, tb)
		}
		return ""
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil != non-nil", path)
			}
			return ""
		}
		return diff(path, a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if d := diff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d != %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d entries != %d", path, a.Len(), b.Len())
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				return fmt.Sprintf("%s[%v]: missing", path, k)
			}
			if d := diff(fmt.Sprintf("%s[%v]", path, k), a.MapIndex(k), bv); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return fmt.Sprintf("%s: %#v != %#v", path, a.Interface(), b.Interface())
	}
	return ""
}

// TB is the part of testing.TB RoundTrip needs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// RoundTrip marshals *v with api under schema, unmarshals into a new T,
// checks the result equals *v (Diff). It returns the encoding. (Bytes are
// not compared after a second encoding: Go randomizes map order.) A nil api means avro.DefaultConfig.
func RoundTrip[T any](t TB, api avro.API, schema avro.Schema, v *T) []byte {
	t.Helper()
	if api == nil {
		api = avro.DefaultConfig
	}
	data, err := api.Marshal(schema, v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	var got T
	if err := api.Unmarshal(schema, data, &got); err != nil {
		t.Fatalf("unmarshal %T: %v", v, err)
	}
	if d := Diff(*v, got); d != "" {
		t.Fatalf("%T changed in a round trip: %s", v, d)
	}
	return data
}

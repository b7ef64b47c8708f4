package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// validateBody returns the statements of a record's Validate method: checks
// for the values hamba/avro cannot encode (a nil decimal, which it panics
// on; a nil or empty required union; an enum value that is not a symbol),
// recursing into records, optionals, arrays, maps and union branches.
func (f *fileGen) validateBody(s *avro.RecordSchema, r *recordData) string {
	var b strings.Builder
	for i, fl := range s.Fields() {
		if i >= len(r.Fields) {
			break
		}
		b.WriteString(f.check("r."+r.Fields[i].GoName, fl.Type(), quoteFmt(fl.Name()), nil, 0, r.Fields[i].GoType))
	}
	return b.String()
}

func quoteFmt(s string) string { return strings.ReplaceAll(s, "%", "%%") }

func errf(pathFmt string, args []string, msg string, extra ...string) string {
	all := append(append([]string(nil), args...), extra...)
	a := ""
	if len(all) > 0 {
		a = ", " + strings.Join(all, ", ")
	}
	return fmt.Sprintf("errs = append(errs, fmt.Errorf(%s%s))\n", strconv.Quote(pathFmt+": "+msg), a)
}

// check returns statements validating expr (of Go type goType) against s.
func (f *fileGen) check(expr string, s avro.Schema, pathFmt string, args []string, depth int, goType string) string {
	s = deref(s)
	d := strconv.Itoa(depth)
	switch s := s.(type) {
	case *avro.PrimitiveSchema, *avro.FixedSchema:
		if l := s.(avro.LogicalTypeSchema).Logical(); l != nil && l.Type() == avro.Decimal {
			return "if " + expr + " == nil {\n" + errf(pathFmt, args, "nil decimal: set it (zero is new(big.Rat))") + "}\n"
		}
	case *avro.EnumSchema:
		return "if !" + expr + ".Valid() {\n" + errf(pathFmt, args, "%q is not a symbol of "+s.FullName(), expr) + "}\n"
	case *avro.RecordSchema:
		return "if err := " + expr + ".Validate(); err != nil {\n" + errf(pathFmt, args, "%w", "err") + "}\n"
	case *avro.ArraySchema:
		inner := f.check("x"+d, s.Items(), pathFmt+"[%d]", append(append([]string(nil), args...), "i"+d), depth+1, strings.TrimPrefix(goType, "[]"))
		if inner == "" {
			return ""
		}
		return "for i" + d + ", x" + d + " := range " + expr + " {\n" + inner + "}\n"
	case *avro.MapSchema:
		inner := f.check("x"+d, s.Values(), pathFmt+"[%q]", append(append([]string(nil), args...), "k"+d), depth+1, strings.TrimPrefix(goType, "map[string]"))
		if inner == "" {
			return ""
		}
		return "for k" + d + ", x" + d + " := range " + expr + " {\n" + inner + "}\n"
	case *avro.UnionSchema:
		if t, ok := optional(s); ok {
			inner := f.check("(*"+expr+")", t, pathFmt, args, depth+1, strings.TrimPrefix(goType, "*"))
			if inner == "" {
				return ""
			}
			return "if " + expr + " != nil {\n" + inner + "}\n"
		}
		return f.checkUnion(expr, s, pathFmt, args, depth, strings.TrimPrefix(goType, "*"))
	}
	return ""
}

func (f *fileGen) checkUnion(expr string, s *avro.UnionSchema, pathFmt string, args []string, depth int, wrapper string) string {
	var u *unionData
	for _, cand := range f.unions {
		if cand.Wrapper == wrapper {
			u = cand
		}
	}
	if u == nil {
		return ""
	}
	d := strconv.Itoa(depth)
	var cases strings.Builder
	for _, br := range u.Branches {
		var stmt string
		v := "v" + d
		switch br.Kind {
		case "record":
			if br.Declare != "" {
				v = "(*" + br.Declare + ")(&v" + d + ")"
			}
			stmt = "if err := " + v + ".Validate(); err != nil {\n" + errf(pathFmt, args, "%w", "err") + "}\n"
		case "enum":
			if br.Declare != "" {
				v = br.Declare + "(v" + d + ")"
			}
			stmt = "if !" + v + ".Valid() {\n" + errf(pathFmt, args, "%q is not a symbol of "+br.AvroName, v) + "}\n"
		default:
			continue
		}
		cases.WriteString("case " + br.GoType + ":\n" + stmt)
	}
	var b strings.Builder
	if u.Nullable {
		b.WriteString("if " + expr + " != nil {\n")
	} else {
		b.WriteString("if " + expr + " == nil {\n" + errf(pathFmt, args, "nil union: set it with New"+u.Wrapper) + "} else {\n")
	}
	b.WriteString("if " + expr + ".Value == nil {\n" + errf(pathFmt, args, "the union holds no value: set Value") + "}")
	if cases.Len() > 0 {
		b.WriteString(" else {\nswitch v" + d + " := " + expr + ".Value.(type) {\n" + cases.String() + "}\n}\n")
	} else {
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return b.String()
}

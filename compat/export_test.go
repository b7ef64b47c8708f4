package compat

import "github.com/hamba/avro/v2"

// CheckSpecOnly is Check without the rules that are stricter than the spec
// as Java and hamba implement it (Rule.Spec == false), for agreement tests.
func CheckSpecOnly(reader, writer avro.Schema) []Finding {
	w := newWalker(Schema{Schema: reader, Label: "reader"}, Schema{Schema: writer, Label: "writer"})
	w.specOnly = true
	w.check(reader, writer)
	return w.findings
}

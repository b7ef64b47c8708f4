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

// SetScanLimit sets the size above which the walker indexes fields, symbols,
// branches and named pairs instead of scanning them (0: always index), and
// returns a func that restores the limit. Not safe for parallel tests.
func SetScanLimit(n int) (restore func()) {
	old := scanLimit
	scanLimit = n
	return func() { scanLimit = old }
}

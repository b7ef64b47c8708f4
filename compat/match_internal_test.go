package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

// wideCase builds a (reader, writer) pair of schema texts of size n, and the
// number of findings Check reports for it.
type wideCase struct {
	name     string
	build    func(n int) (reader, writer string)
	findings int
}

var wideCases = []wideCase{
	{
		// Reader fields in reverse order, every tenth renamed with an alias
		// to its old name, one added without a default.
		name: "record fields, reversed, aliases",
		build: func(n int) (string, string) {
			var r, w []string
			for i := range n {
				w = append(w, fmt.Sprintf(`{"name":"f%d","type":"string"}`, i))
			}
			for i := n - 1; i >= 0; i-- {
				if i%10 == 3 {
					r = append(r, fmt.Sprintf(`{"name":"g%d","aliases":["f%d"],"type":"string"}`, i, i))
				} else {
					r = append(r, fmt.Sprintf(`{"name":"f%d","type":"string"}`, i))
				}
			}
			r = append(r, `{"name":"added","type":"long"}`)
			return record("Wide", r), record("Wide", w)
		},
		findings: 1,
	},
	{
		// The reader's enum lists the symbols in reverse and lacks one.
		name: "enum symbols",
		build: func(n int) (string, string) {
			var r, w []string
			for i := range n {
				w = append(w, fmt.Sprintf(`"S%d"`, i))
				if i != n/2 {
					r = append(r, fmt.Sprintf(`"S%d"`, n-1-i))
				}
			}
			enum := `{"type":"enum","name":"Big","symbols":[%s]}`
			return record("Top", []string{fmt.Sprintf(`{"name":"e","type":`+enum+`}`, strings.Join(r, ","))}),
				record("Top", []string{fmt.Sprintf(`{"name":"e","type":`+enum+`}`, strings.Join(w, ","))})
		},
		findings: 1,
	},
	{
		// A union of n records; the reader's lists them in reverse, lacks
		// one and changes the field type of another.
		name: "union branches by name",
		build: func(n int) (string, string) {
			var r, w []string
			for i := range n {
				w = append(w, fmt.Sprintf(`{"type":"record","name":"R%d","fields":[{"name":"x","type":"int"}]}`, i))
				j := n - 1 - i
				switch j {
				case n / 2:
				case n / 3:
					r = append(r, fmt.Sprintf(`{"type":"record","name":"R%d","fields":[{"name":"x","type":"boolean"}]}`, j))
				default:
					r = append(r, fmt.Sprintf(`{"type":"record","name":"R%d","fields":[{"name":"x","type":"long"}]}`, j))
				}
			}
			return record("Top", []string{`{"name":"u","type":[` + strings.Join(r, ",") + `]}`}),
				record("Top", []string{`{"name":"u","type":[` + strings.Join(w, ",") + `]}`})
		},
		findings: 2,
	},
	{
		// n fields of n named types, each walked once (and then used again
		// by name): the named pairs already walked grow to n.
		name: "named types walked once",
		build: func(n int) (string, string) {
			var r, w []string
			for i := range n {
				syms := `"A","B"`
				if i == n/2 {
					syms = `"A"`
				}
				w = append(w, fmt.Sprintf(`{"name":"f%d","type":{"type":"enum","name":"E%d","symbols":["A","B"]}},{"name":"g%d","type":"E%d"}`, i, i, i, i))
				r = append(r, fmt.Sprintf(`{"name":"f%d","type":{"type":"enum","name":"E%d","symbols":[%s]}},{"name":"g%d","type":"E%d"}`, i, i, syms, i, i))
			}
			return record("Top", r), record("Top", w)
		},
		findings: 1,
	},
}

func record(name string, fields []string) string {
	return `{"type":"record","name":"` + name + `","fields":[` + strings.Join(fields, ",") + `]}`
}

// probesFor checks reader against writer (silently: the verdict only) and
// returns the walker's probes and findings.
func probesFor(t *testing.T, r, wr avro.Schema, silent bool) (probes int, findings []Finding) {
	t.Helper()
	w := newWalker(Schema{Schema: r, Label: "r"}, Schema{Schema: wr, Label: "w"})
	if silent {
		w.silent = 1
	}
	w.check(r, wr)
	if silent && !w.failed {
		t.Fatal("the verdict-only check found nothing")
	}
	return w.probes, w.findings
}

func parsePair(t *testing.T, reader, writer string) (r, w avro.Schema) {
	t.Helper()
	r, err := avro.ParseWithCache(reader, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	w, err = avro.ParseWithCache(writer, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	return r, w
}

// TestMatchingIsLinear counts the walker's probes (name comparisons and
// index lookups matching fields, enum symbols, union branches and named
// pairs) for schemas of n = 1000, 2000 and 4000 entries, with findings and
// verdict only: at most 12 per entry, and doubling n at most about doubles
// them. A scan per entry (as before the indexes) makes them grow with n²
// (n⁴ for the union), and the check with them.
func TestMatchingIsLinear(t *testing.T) {
	const perEntry = 12
	for _, tt := range wideCases {
		t.Run(tt.name, func(t *testing.T) {
			counts := map[bool][]int{}
			for _, n := range []int{1000, 2000, 4000} {
				rt, wt := tt.build(n)
				r, w := parsePair(t, rt, wt)
				for _, silent := range []bool{false, true} {
					mode := "findings"
					if silent {
						mode = "verdict only"
					}
					p, fs := probesFor(t, r, w, silent)
					if !silent && len(fs) != tt.findings {
						t.Fatalf("n=%d: %d findings, want %d: %+v", n, len(fs), tt.findings, fs)
					}
					if p > perEntry*n {
						t.Errorf("%s, n=%d: %d probes, more than %d per entry: matching is not linear", mode, n, p, perEntry)
					}
					if c := counts[silent]; len(c) > 0 && float64(p) > 2.2*float64(c[len(c)-1]) {
						t.Errorf("%s, n=%d: %d probes, %.1fx those for n/2: matching is not linear", mode, n, p, float64(p)/float64(c[len(c)-1]))
					}
					counts[silent] = append(counts[silent], p)
				}
			}
			t.Logf("probes for n = 1000, 2000, 4000: %v with findings, %v verdict only", counts[false], counts[true])
		})
	}
}

// TestIndexesAgreeWithScans checks the wide cases with every index forced
// (scanLimit 0) and with none (every match a scan, as before the indexes):
// the findings must be the same, in the same order.
func TestIndexesAgreeWithScans(t *testing.T) {
	defer func(l int) { scanLimit = l }(scanLimit)
	for _, tt := range wideCases {
		t.Run(tt.name, func(t *testing.T) {
			rt, wt := tt.build(40)
			r, w := parsePair(t, rt, wt)
			scanLimit = 1 << 30
			_, scanned := probesFor(t, r, w, false)
			scanLimit = 0
			_, indexed := probesFor(t, r, w, false)
			if !slices.Equal(scanned, indexed) || len(scanned) != tt.findings {
				t.Fatalf("scanned:\n%+v\nindexed:\n%+v", scanned, indexed)
			}
		})
	}
}

// TestTextLocatorPositions compares every position TextLocator computes in
// one pass with a count from the start of the text (as it was computed per
// finding before), on the fixtures and on texts with multi-byte runes, CRLF
// and everything on one line.
func TestTextLocatorPositions(t *testing.T) {
	texts := map[string][]byte{
		"multibyte": []byte("{\"type\": \"record\", \"doc\": \"größe → ✓\",\n  \"name\": \"Ü\", \"fields\": [\n\t{\"name\": \"é\", \"type\": [\"null\", \"string\"]},  {\"name\": \"b\", \"doc\": \"日本\", \"type\": \"int\"}\n]}\n"),
		"crlf":      []byte("{\r\n \"type\": \"record\",\r\n \"name\": \"A\",\r\n \"fields\": [{\"name\": \"x\", \"type\": {\"type\": \"array\", \"items\": \"long\"}}]\r\n}"),
		"one line":  []byte(`{"type":"record","name":"A","doc":"ä","fields":[{"name":"x","type":"int"},{"name":"y","type":["null",{"type":"enum","name":"E","symbols":["Ä","B"]}]}]}`),
	}
	files, _ := filepath.Glob("testdata/*/*.avsc")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = b
	}
	for name, text := range texts {
		l, err := TextLocator("x.avsc", text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := refOffsets(t, text)
		tl := l.(*textLocator)
		if len(tl.pos) != len(want) {
			t.Fatalf("%s: %d positions, want %d", name, len(tl.pos), len(want))
		}
		for ptr, off := range want {
			line := 1 + bytes.Count(text[:off], []byte{'\n'})
			start := bytes.LastIndexByte(text[:off], '\n') + 1
			col := len([]rune(string(text[start:off]))) + 1
			if got := tl.pos[ptr]; got != (textPos{line, col}) {
				t.Errorf("%s: %s at %d:%d, want %d:%d", name, ptr, got.line, got.col, line, col)
			}
		}
	}
}

// refOffsets returns the byte offset of every JSON value in text by JSON
// Pointer, the way TextLocator finds them.
func refOffsets(t *testing.T, text []byte) map[string]int {
	out := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(text))
	var walk func(ptr string)
	walk = func(ptr string) {
		off := int(dec.InputOffset())
		for off < len(text) && strings.IndexByte(" \t\r\n:,", text[off]) >= 0 {
			off++
		}
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out[ptr] = off
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, _ := dec.Token()
				walk(ptr + "/" + escapePointer(k.(string)))
			}
			dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				walk(fmt.Sprintf("%s/%d", ptr, i))
			}
			dec.Token()
		}
	}
	walk("")
	return out
}

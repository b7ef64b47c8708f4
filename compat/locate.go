package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TextLocator returns a Locator over one .avsc file's text: it knows where
// every named type defined in the file (top-level or nested) starts, and the
// line and column of every JSON value. file is the name put in Locations
// (a slash path such as "contrail/orders/OrderPlaced.avsc"). Locate with an
// empty full name resolves paths from the file's root. It returns an error
// wrapping the JSON error when text is not JSON. The Locator is immutable and
// safe for concurrent use.
func TextLocator(file string, text []byte) (Locator, error) {
	l := &textLocator{file: file, pos: map[string]textPos{}, defs: map[string]string{}}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	c := &cursor{text: text, line: 1, col: 1}
	if err := l.index(dec, c, ""); err != nil {
		return nil, fmt.Errorf("compat: %s is not valid JSON: %w", file, err)
	}
	var v any
	if err := json.Unmarshal(text, &v); err != nil {
		return nil, fmt.Errorf("compat: %s is not valid JSON: %w", file, err)
	}
	l.named(v, "", "")
	return l, nil
}

type textLocator struct {
	file string
	pos  map[string]textPos // JSON Pointer -> where the value starts
	defs map[string]string  // full name -> JSON Pointer of its definition
}

// textPos is a line and column (in runes), both from 1.
type textPos struct{ line, col int }

func (l *textLocator) Locate(fullName, path string) (Location, bool) {
	prefix := ""
	if fullName != "" {
		p, ok := l.defs[fullName]
		if !ok {
			return Location{}, false
		}
		prefix = p
	}
	ptr := prefix + path
	p, ok := l.pos[ptr]
	if !ok {
		return Location{}, false
	}
	return Location{Path: ptr, File: l.file, Line: p.line, Col: p.col}, true
}

// cursor turns increasing byte offsets of a text into lines and columns, in
// one pass over the text: positions are computed once, when the text is
// indexed, since counting from the start for each finding made a check
// quadratic in the size of the file (many findings in a wide record).
type cursor struct {
	text      []byte
	off       int
	line, col int // of off
}

// skip returns the offset of the first byte at or after off that is not
// JSON whitespace, ':' or ','.
func (c *cursor) skip(off int) int {
	for off < len(c.text) && strings.IndexByte(" \t\r\n:,", c.text[off]) >= 0 {
		off++
	}
	return off
}

// to moves the cursor to off, at or after its offset and at the start of a
// JSON token (so never inside a UTF-8 sequence), and returns its position.
func (c *cursor) to(off int) textPos {
	seg := c.text[c.off:off]
	if nl := bytes.LastIndexByte(seg, '\n'); nl >= 0 {
		c.line += bytes.Count(seg, []byte{'\n'})
		c.col = 1 + utf8.RuneCount(seg[nl+1:])
	} else {
		c.col += utf8.RuneCount(seg)
	}
	c.off = off
	return textPos{c.line, c.col}
}

func (l *textLocator) index(dec *json.Decoder, c *cursor, ptr string) error {
	off := c.skip(int(dec.InputOffset()))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	l.pos[ptr] = c.to(off)
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			ks, _ := k.(string)
			if err := l.index(dec, c, ptr+"/"+escapePointer(ks)); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := l.index(dec, c, ptr+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // closing delimiter
	return err
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// named records where each named type is defined, following Avro's
// namespace inheritance.
func (l *textLocator) named(v any, ptr, ns string) {
	switch t := v.(type) {
	case []any:
		for i, b := range t {
			l.named(b, ptr+"/"+strconv.Itoa(i), ns)
		}
	case map[string]any:
		typ, _ := t["type"].(string)
		switch typ {
		case "record", "error", "enum", "fixed":
			name, _ := t["name"].(string)
			if name != "" {
				full := name
				if i := strings.LastIndexByte(name, '.'); i >= 0 {
					ns = name[:i]
				} else {
					if n, ok := t["namespace"].(string); ok && n != "" {
						ns = n // an empty namespace inherits, as hamba/avro parses it
					}
					if ns != "" {
						full = ns + "." + name
					}
				}
				if _, seen := l.defs[full]; !seen {
					l.defs[full] = ptr
				}
			}
			if fields, ok := t["fields"].([]any); ok {
				for i, f := range fields {
					if fm, ok := f.(map[string]any); ok {
						l.named(fm["type"], ptr+"/fields/"+strconv.Itoa(i)+"/type", ns)
					}
				}
			}
		case "array":
			l.named(t["items"], ptr+"/items", ns)
		case "map":
			l.named(t["values"], ptr+"/values", ns)
		default:
			if _, ok := t["type"].(map[string]any); ok {
				l.named(t["type"], ptr+"/type", ns)
			}
		}
	}
}

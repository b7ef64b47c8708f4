package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// TextLocator returns a Locator over one .avsc file's text: it knows where
// every named type defined in the file (top-level or nested) starts, and the
// line and column of every JSON value. file is the name put in Locations
// (a slash path such as "contrail/orders/OrderPlaced.avsc"). Locate with an
// empty full name resolves paths from the file's root. It returns an error
// wrapping the JSON error when text is not JSON. The Locator is immutable and
// safe for concurrent use.
func TextLocator(file string, text []byte) (Locator, error) {
	l := &textLocator{file: file, text: text, offsets: map[string]int{}, defs: map[string]string{}}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := l.index(dec, ""); err != nil {
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
	file    string
	text    []byte
	offsets map[string]int    // JSON Pointer -> byte offset of the value
	defs    map[string]string // full name -> JSON Pointer of its definition
}

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
	off, ok := l.offsets[ptr]
	if !ok {
		return Location{}, false
	}
	line, col := lineCol(l.text, off)
	return Location{Path: ptr, File: l.file, Line: line, Col: col}, true
}

func lineCol(text []byte, off int) (int, int) {
	line := 1 + bytes.Count(text[:off], []byte{'\n'})
	start := bytes.LastIndexByte(text[:off], '\n') + 1
	return line, len([]rune(string(text[start:off]))) + 1
}

func (l *textLocator) skip(off int) int {
	for off < len(l.text) && strings.IndexByte(" \t\r\n:,", l.text[off]) >= 0 {
		off++
	}
	return off
}

func (l *textLocator) index(dec *json.Decoder, ptr string) error {
	off := l.skip(int(dec.InputOffset()))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	l.offsets[ptr] = off
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
			if err := l.index(dec, ptr+"/"+escapePointer(ks)); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := l.index(dec, ptr+"/"+strconv.Itoa(i)); err != nil {
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

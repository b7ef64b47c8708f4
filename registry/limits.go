package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on what one request may store or make the registry compute. They
// apply to the HTTP API and to Registry's methods alike, and are listed in
// docs/registry.md ("Limits and hardening").
const (
	// MaxSubjectBytes is the longest subject name, in bytes of UTF-8;
	// longer names are refused with 42208. It fits a Kafka topic name (at
	// most 249 bytes) plus "-" and a record's full name
	// (TopicRecordNameStrategy), and keeps every accepted name far below
	// bbolt's 32 KiB key limit, so a name the registry accepts it can also
	// store, list and reload.
	MaxSubjectBytes = 1024
	// MaxSchemaDepth is the deepest nesting of JSON objects and arrays a
	// schema may have; deeper schemas are refused with 42209. It is
	// Jackson's default nesting limit (StreamReadConstraints, 2.15 and
	// later), which the Java Avro parser behind Confluent's registry applies
	// too, so no schema Confluent accepts is refused here.
	MaxSchemaDepth = 1000
	// MaxRecordFields is the most fields one record may declare; records
	// with more are refused with 42209. The compatibility check's cost grows
	// with the field count, and 10,000 (BigQuery's column limit) is above
	// any table an event mirrors.
	MaxRecordFields = 10_000
)

// invalidUTF8At returns the offset of the first byte of s that is not
// valid UTF-8, or -1. Stores keep names and texts in JSON, which turns such
// bytes into U+FFFD: two names that differ only there would become one.
func invalidUTF8At(s string) int {
	if utf8.ValidString(s) {
		return -1
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// checkText refuses (42201) a string the registry would store that is not
// valid UTF-8; what names the string in the message.
func checkText(what, s string) error {
	if i := invalidUTF8At(s); i >= 0 {
		return errInvalidSchema("Invalid schema request: %s is not valid UTF-8 (byte 0x%02X at offset %d); send UTF-8 text.", what, s[i], i)
	}
	return nil
}

// checkBody refuses (42201) a schema request body that JSON decoding would
// silently change: bytes that are not UTF-8 and \u escapes of lone UTF-16
// surrogates both decode to U+FFFD, so the registry would store other text
// than the client sent.
func checkBody(body []byte) error {
	if !utf8.Valid(body) {
		i := invalidUTF8At(string(body))
		return errInvalidSchema("Invalid schema request: the body is not valid UTF-8 (byte 0x%02X at offset %d); send UTF-8 JSON.", body[i], i)
	}
	if i := loneSurrogateAt(body); i >= 0 {
		return errInvalidSchema("Invalid schema request: the body escapes a lone UTF-16 surrogate (%s at offset %d), which is not a character; escape characters outside the BMP as a surrogate pair.", body[i:i+6], i)
	}
	return nil
}

// loneSurrogateAt returns the offset of the first \uD800-\uDFFF escape in
// the strings of JSON text b that is not half of a surrogate pair, or -1.
func loneSurrogateAt(b []byte) int {
	if !bytes.Contains(b, []byte(`\u`)) {
		return -1
	}
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(b) || b[i+1] != 'u' {
				i++ // skip the escaped character
				continue
			}
			u, ok := hex4(b, i+2)
			switch {
			case !ok || u < 0xD800 || u > 0xDFFF:
				i += 5
			case u >= 0xDC00: // a low half with no high half before it
				return i
			default:
				low, ok := uint16(0), false
				if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					low, ok = hex4(b, i+8)
				}
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return i
				}
				i += 11
			}
		}
	}
	return -1
}

func hex4(b []byte, at int) (uint16, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var v uint16
	for _, c := range b[at : at+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(d)
	}
	return v, true
}

// schemaText is a schema request's text decoded once, before any lock is
// taken: decoding a large schema must not hold up other requests.
type schemaText struct {
	compact string // compact JSON (sorted keys, no whitespace), no references
	tree    any    // the decoded JSON, for checkLimits
	depth   int    // deepest nesting of objects and arrays
	err     error  // 42201 not JSON, 42209 nested too deep to decode
}

// inspectSchema decodes text and keys it; see compactKey for the identity
// it computes.
func inspectSchema(text string) schemaText {
	depth := jsonDepth(text)
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber() // 1.0 and 1 stay as written
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		if depth > MaxSchemaDepth {
			// encoding/json gives up at 10,000 levels: say which limit
			// was hit, not that the JSON is bad.
			return schemaText{depth: depth, err: errTooDeep(depth)}
		}
		return schemaText{depth: depth, err: errInvalidSchema("Invalid schema: the schema is not valid JSON; send the Avro schema as a JSON string in \"schema\".")}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return schemaText{depth: depth, err: errInvalidSchema("Invalid schema: %v", err)}
	}
	return schemaText{compact: strings.TrimSuffix(buf.String(), "\n"), tree: v, depth: depth}
}

// jsonDepth is the deepest nesting of objects and arrays in JSON text s,
// counted without decoding it (brackets inside strings do not count).
func jsonDepth(s string) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func errTooDeep(depth int) *Error {
	return errf(http.StatusUnprocessableEntity, CodeSchemaTooLarge,
		"Schema too large: it nests JSON objects and arrays %d levels deep, more than the limit of %d (MaxSchemaDepth); flatten it, or register nested records under their own subjects and use references.",
		depth, MaxSchemaDepth)
}

// checkLimits refuses (42209) a decoded schema the registry should not
// parse or check: nested deeper than MaxSchemaDepth, or with a record of
// more than MaxRecordFields fields.
func (t schemaText) checkLimits() error {
	if t.depth > MaxSchemaDepth {
		return errTooDeep(t.depth)
	}
	return widestRecord(t.tree)
}

func widestRecord(v any) error {
	switch n := v.(type) {
	case map[string]any:
		if fields, ok := n["fields"].([]any); ok && len(fields) > MaxRecordFields && (n["type"] == "record" || n["type"] == "error") {
			return errf(http.StatusUnprocessableEntity, CodeSchemaTooLarge,
				"Schema too large: record %s has %d fields, more than the limit of %d (MaxRecordFields); split it into smaller nested records.",
				quoteName(n["name"]), len(fields), MaxRecordFields)
		}
		for _, k := range sortedKeys(n) {
			if err := widestRecord(n[k]); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range n {
			if err := widestRecord(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic messages when several records are too wide
	return keys
}

func quoteName(v any) string {
	s, _ := v.(string)
	return fmt.Sprintf("%q", truncate(s, 100))
}

// truncate shortens s to at most n bytes (on a rune boundary) for a
// message, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

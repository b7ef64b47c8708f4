package schemas

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonKind is the kind of a JSON value.
type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// jsonNode is one JSON value with the position of its first byte. The
// scanner keeps object members in source order, which hamba's map-based
// parser cannot, and which error messages and codegen need.
type jsonNode struct {
	kind      jsonKind
	line, col int
	ptr       string // JSON Pointer of this value from the document root

	b       bool
	str     string // string value, or the literal text of a number
	items   []*jsonNode
	members []jsonMember
}

// jsonMember is one "key": value pair of an object.
type jsonMember struct {
	key       string
	line, col int // position of the key
	val       *jsonNode
}

// get returns the value of key in an object node, or nil.
func (n *jsonNode) get(key string) *jsonNode {
	if n == nil || n.kind != jsonObject {
		return nil
	}
	for _, m := range n.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// member returns the member named key, or nil.
func (n *jsonNode) member(key string) *jsonMember {
	if n == nil || n.kind != jsonObject {
		return nil
	}
	for i := range n.members {
		if n.members[i].key == key {
			return &n.members[i]
		}
	}
	return nil
}

// jsonSyntaxError is a JSON syntax error at a position.
type jsonSyntaxError struct {
	line, col int
	msg       string
}

func (e *jsonSyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.line, e.col, e.msg) }

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 512

type jsonScanner struct {
	data      []byte
	off       int
	line, col int
	depth     int
}

// parseJSON parses data as exactly one JSON value (RFC 8259) and returns
// its tree with positions. Objects with a repeated key are rejected, since
// Avro schemas give them no meaning and encoding/json would silently keep
// the last one.
func parseJSON(data []byte) (*jsonNode, error) {
	s := &jsonScanner{data: data, line: 1, col: 1}
	if !utf8.Valid(data) {
		// Find the first bad byte for the position.
		for s.off < len(data) {
			r, size := utf8.DecodeRune(data[s.off:])
			if r == utf8.RuneError && size <= 1 {
				return nil, s.errf("invalid UTF-8 byte 0x%02x", data[s.off])
			}
			s.advance(size)
		}
	}
	s.skipSpace()
	n, err := s.value("")
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.off < len(s.data) {
		return nil, s.errf("unexpected %s after the top-level value", s.describe())
	}
	return n, nil
}

func (s *jsonScanner) errf(format string, args ...any) error {
	return &jsonSyntaxError{line: s.line, col: s.col, msg: fmt.Sprintf(format, args...)}
}

func (s *jsonScanner) describe() string {
	if s.off >= len(s.data) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(s.data[s.off:])
	return strconv.QuoteRune(r)
}

// advance moves n bytes forward, tracking line and (byte) column.
func (s *jsonScanner) advance(n int) {
	for i := 0; i < n && s.off < len(s.data); i++ {
		if s.data[s.off] == '\n' {
			s.line++
			s.col = 1
		} else {
			s.col++
		}
		s.off++
	}
}

func (s *jsonScanner) skipSpace() {
	for s.off < len(s.data) {
		switch s.data[s.off] {
		case ' ', '\t', '\n', '\r':
			s.advance(1)
		default:
			return
		}
	}
}

func escapePointerToken(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

func (s *jsonScanner) value(ptr string) (*jsonNode, error) {
	if s.off >= len(s.data) {
		return nil, s.errf("unexpected end of file: expected a JSON value")
	}
	n := &jsonNode{line: s.line, col: s.col, ptr: ptr}
	switch c := s.data[s.off]; {
	case c == '{':
		return n, s.object(n)
	case c == '[':
		return n, s.array(n)
	case c == '"':
		n.kind = jsonString
		str, err := s.str()
		n.str = str
		return n, err
	case c == '-' || (c >= '0' && c <= '9'):
		n.kind = jsonNumber
		lit, err := s.number()
		n.str = lit
		return n, err
	case c == 't':
		n.kind, n.b = jsonBool, true
		return n, s.literal("true")
	case c == 'f':
		n.kind = jsonBool
		return n, s.literal("false")
	case c == 'n':
		n.kind = jsonNull
		return n, s.literal("null")
	default:
		return nil, s.errf("unexpected %s: expected a JSON value", s.describe())
	}
}

func (s *jsonScanner) literal(want string) error {
	if len(s.data)-s.off < len(want) || string(s.data[s.off:s.off+len(want)]) != want {
		return s.errf("invalid literal: expected %q", want)
	}
	s.advance(len(want))
	return nil
}

func (s *jsonScanner) enter() error {
	s.depth++
	if s.depth > maxJSONDepth {
		return s.errf("nesting deeper than %d levels", maxJSONDepth)
	}
	return nil
}

func (s *jsonScanner) object(n *jsonNode) error {
	n.kind = jsonObject
	if err := s.enter(); err != nil {
		return err
	}
	defer func() { s.depth-- }()
	s.advance(1) // {
	s.skipSpace()
	if s.off < len(s.data) && s.data[s.off] == '}' {
		s.advance(1)
		return nil
	}
	seen := map[string][2]int{}
	for {
		if s.off >= len(s.data) || s.data[s.off] != '"' {
			return s.errf("unexpected %s: expected a string key", s.describe())
		}
		kl, kc := s.line, s.col
		key, err := s.str()
		if err != nil {
			return err
		}
		if p, dup := seen[key]; dup {
			return &jsonSyntaxError{line: kl, col: kc, msg: fmt.Sprintf("duplicate key %q (first at %d:%d)", key, p[0], p[1])}
		}
		seen[key] = [2]int{kl, kc}
		s.skipSpace()
		if s.off >= len(s.data) || s.data[s.off] != ':' {
			return s.errf("unexpected %s: expected ':' after key %q", s.describe(), key)
		}
		s.advance(1)
		s.skipSpace()
		v, err := s.value(n.ptr + "/" + escapePointerToken(key))
		if err != nil {
			return err
		}
		n.members = append(n.members, jsonMember{key: key, line: kl, col: kc, val: v})
		if done, err := s.separator('}'); done || err != nil {
			return err
		}
	}
}

func (s *jsonScanner) array(n *jsonNode) error {
	n.kind = jsonArray
	if err := s.enter(); err != nil {
		return err
	}
	defer func() { s.depth-- }()
	s.advance(1) // [
	s.skipSpace()
	if s.off < len(s.data) && s.data[s.off] == ']' {
		s.advance(1)
		return nil
	}
	for {
		v, err := s.value(n.ptr + "/" + strconv.Itoa(len(n.items)))
		if err != nil {
			return err
		}
		n.items = append(n.items, v)
		if done, err := s.separator(']'); done || err != nil {
			return err
		}
	}
}

// separator consumes what follows an object member or array item: a ','
// (and the space after it) or the closing byte, reporting done for the latter.
func (s *jsonScanner) separator(closing byte) (done bool, err error) {
	s.skipSpace()
	if s.off >= len(s.data) {
		return false, s.errf("unexpected end of file: expected ',' or '%c'", closing)
	}
	switch s.data[s.off] {
	case ',':
		s.advance(1)
		s.skipSpace()
		return false, nil
	case closing:
		s.advance(1)
		return true, nil
	default:
		return false, s.errf("unexpected %s: expected ',' or '%c'", s.describe(), closing)
	}
}

func (s *jsonScanner) str() (string, error) {
	s.advance(1) // opening quote
	var b strings.Builder
	for {
		if s.off >= len(s.data) {
			return "", s.errf("unexpected end of file inside a string")
		}
		c := s.data[s.off]
		switch {
		case c == '"':
			s.advance(1)
			return b.String(), nil
		case c < 0x20:
			return "", s.errf("control character 0x%02x in string: escape it", c)
		case c == '\\':
			if s.off+1 >= len(s.data) {
				return "", s.errf("unexpected end of file inside a string escape")
			}
			e := s.data[s.off+1]
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, err := s.hex4(s.off + 2)
				if err != nil {
					return "", err
				}
				n := 6
				if utf16.IsSurrogate(r) {
					hi := r
					r = utf8.RuneError
					if s.off+12 <= len(s.data) && s.data[s.off+6] == '\\' && s.data[s.off+7] == 'u' {
						if lo, err := s.hex4(s.off + 8); err == nil {
							if d := utf16.DecodeRune(hi, lo); d != utf8.RuneError {
								r, n = d, 12
							}
						}
					}
				}
				b.WriteRune(r)
				s.advance(n)
				continue
			default:
				return "", s.errf("invalid escape \\%c in string", e)
			}
			s.advance(2)
		default:
			_, size := utf8.DecodeRune(s.data[s.off:])
			b.Write(s.data[s.off : s.off+size])
			s.advance(size)
		}
	}
}

func (s *jsonScanner) hex4(at int) (rune, error) {
	if at+4 > len(s.data) {
		return 0, s.errf("truncated \\u escape")
	}
	v, err := strconv.ParseUint(string(s.data[at:at+4]), 16, 32)
	if err != nil || strings.ContainsAny(string(s.data[at:at+4]), "+-") {
		return 0, s.errf("invalid \\u escape %q", s.data[at:at+4])
	}
	return rune(v), nil
}

func (s *jsonScanner) number() (string, error) {
	start := s.off
	digits := func() int {
		n := 0
		for s.off < len(s.data) && s.data[s.off] >= '0' && s.data[s.off] <= '9' {
			s.advance(1)
			n++
		}
		return n
	}
	if s.data[s.off] == '-' {
		s.advance(1)
	}
	if s.off >= len(s.data) {
		return "", s.errf("unexpected end of file in a number")
	}
	if s.data[s.off] == '0' {
		s.advance(1)
		if s.off < len(s.data) && s.data[s.off] >= '0' && s.data[s.off] <= '9' {
			return "", s.errf("leading zero in a number")
		}
	} else if digits() == 0 {
		return "", s.errf("unexpected %s: expected a digit", s.describe())
	}
	if s.off < len(s.data) && s.data[s.off] == '.' {
		s.advance(1)
		if digits() == 0 {
			return "", s.errf("unexpected %s: expected a digit after '.'", s.describe())
		}
	}
	if s.off < len(s.data) && (s.data[s.off] == 'e' || s.data[s.off] == 'E') {
		s.advance(1)
		if s.off < len(s.data) && (s.data[s.off] == '+' || s.data[s.off] == '-') {
			s.advance(1)
		}
		if digits() == 0 {
			return "", s.errf("unexpected %s: expected a digit in the exponent", s.describe())
		}
	}
	return string(s.data[start:s.off]), nil
}

// positions indexes every value of a document by its JSON Pointer.
func positions(root *jsonNode) map[string][2]int {
	idx := map[string][2]int{}
	var walk func(n *jsonNode)
	walk = func(n *jsonNode) {
		idx[n.ptr] = [2]int{n.line, n.col}
		for _, it := range n.items {
			walk(it)
		}
		for _, m := range n.members {
			walk(m.val)
		}
	}
	walk(root)
	return idx
}

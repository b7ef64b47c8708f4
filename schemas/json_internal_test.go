package schemas

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseJSONPositions(t *testing.T) {
	doc := "{\n  \"a\": [1, {\"b~/c\": \"x\"}],\n\t\"é\": null, \"t\": true\n}"
	root, err := parseJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := positions(root)
	want := map[string][2]int{
		"":            {1, 1},
		"/a":          {2, 8},
		"/a/0":        {2, 9},
		"/a/1":        {2, 12},
		"/a/1/b~0~1c": {2, 21},
		"/é":          {3, 8},
		"/t":          {3, 19},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("positions = %v, want %v", got, want)
	}
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "1:1: unexpected end of file: expected a JSON value"},
		{"trailing comma", "[1,]", "1:4: unexpected ']': expected a JSON value"},
		{"missing colon", "{\"a\" 1}", "1:6: unexpected '1': expected ':' after key \"a\""},
		{"duplicate key", "{\"a\": 1,\n \"a\": 2}", "2:2: duplicate key \"a\" (first at 1:2)"},
		{"leading zero", "01", "1:2: leading zero in a number"},
		{"bad escape", `"\x"`, `1:2: invalid escape \x in string`},
		{"control char", "\"a\tb\"", "1:3: control character 0x09 in string: escape it"},
		{"trailing data", "{} {}", "1:4: unexpected '{' after the top-level value"},
		{"bad literal", "nul", `1:1: invalid literal: expected "null"`},
		{"unterminated", `{"a": "b`, "1:9: unexpected end of file inside a string"},
		{"invalid utf8", "\"\xff\"", "1:2: invalid UTF-8 byte 0xff"},
		{"too deep", strings.Repeat("[", maxJSONDepth+1), "nesting deeper than 512 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseJSON([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseJSONValues(t *testing.T) {
	root, err := parseJSON([]byte(`{"s": "a\u00e9\ud83d\ude00\n", "n": -1.5e3, "f": false}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := root.get("s").str; s != "aé😀\n" {
		t.Errorf("string = %q", s)
	}
	if n := root.get("n"); n.kind != jsonNumber || n.str != "-1.5e3" {
		t.Errorf("number = %+v", n)
	}
	if f := root.get("f"); f.kind != jsonBool || f.b {
		t.Errorf("bool = %+v", f)
	}
}

// FuzzParseJSON checks the scanner against encoding/json: it accepts
// exactly the valid documents without duplicate keys, and never panics.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1, 2.5e-3, "x", null, true]`, `{"a": {"b": []}}`, `"\ud800"`, `{"a":1,"a":2}`, `-0`, `1e`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := parseJSON(data)
		valid := json.Valid(data)
		if err == nil {
			if !valid {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			var v any
			if json.Unmarshal(data, &v) != nil {
				t.Fatalf("encoding/json rejects %q", data)
			}
			if p := positions(root); p[""] != [2]int{root.line, root.col} {
				t.Fatalf("root position missing")
			}
			return
		}
		// Unlike encoding/json, the scanner insists on UTF-8.
		if valid && utf8.Valid(data) && !strings.Contains(err.Error(), "duplicate key") && !strings.Contains(err.Error(), "nesting deeper") {
			t.Fatalf("rejected valid JSON %q: %v", data, err)
		}
	})
}

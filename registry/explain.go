package registry

import (
	"encoding/json"
	"fmt"
	"strings"
)

// explainDefault rewrites hamba's "invalid default for field x. <nil> not a
// int" (which shows the decoded value, not the one sent) into a message that
// names the field, quotes its default and says how to fix it. It returns ""
// when err is not about a default or the field cannot be found in text.
func explainDefault(text string, err error) string {
	const marker = "invalid default for field "
	msg := err.Error()
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	name := msg[i+len(marker):]
	if j := strings.Index(name, ". "); j >= 0 {
		name = name[:j]
	}
	var root any
	if json.Unmarshal([]byte(text), &root) != nil {
		return ""
	}
	typ, def, ok := findField(root, name, 0)
	if !ok {
		return ""
	}
	defJSON, _ := json.Marshal(def)
	typJSON, _ := json.Marshal(typ)
	switch t := typ.(type) {
	case []any:
		if len(t) == 0 {
			return ""
		}
		first, _ := json.Marshal(t[0])
		return fmt.Sprintf("field %q has default %s, which does not match its union %s: a union's default must match its first branch (%s); reorder the branches or change the default", name, defJSON, typJSON, first)
	default:
		if def == nil {
			return fmt.Sprintf("field %q has default null, but its type %s cannot be null; make the field optional with [\"null\", %s] and default null, or give a default of its type", name, typJSON, typJSON)
		}
		return fmt.Sprintf("field %q has default %s, which is not a value of its type %s; change the default to a value of that type", name, defJSON, typJSON)
	}
}

// findField finds the first record field called name (depth first) that has
// a default, and returns its type and default.
func findField(n any, name string, depth int) (typ, def any, ok bool) {
	if depth > 64 {
		return nil, nil, false
	}
	switch v := n.(type) {
	case map[string]any:
		if fields, isList := v["fields"].([]any); isList {
			for _, f := range fields {
				fm, _ := f.(map[string]any)
				if d, has := fm["default"]; has && fm["name"] == name {
					return fm["type"], d, true
				}
			}
		}
		for _, k := range []string{"fields", "type", "items", "values"} {
			if typ, def, ok := findField(v[k], name, depth+1); ok {
				return typ, def, true
			}
		}
	case []any:
		for _, e := range v {
			if typ, def, ok := findField(e, name, depth+1); ok {
				return typ, def, true
			}
		}
	}
	return nil, nil, false
}

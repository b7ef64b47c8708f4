package codegen

import (
	"strings"
	"unicode"
)

// initialisms are written in upper case in Go names (orderId -> OrderID).
var initialisms = map[string]bool{
	"ID": true, "URL": true, "URI": true, "UUID": true, "HTTP": true, "HTTPS": true, "API": true,
	"JSON": true, "XML": true, "SQL": true, "IP": true, "TTL": true, "CPU": true, "SKU": false,
}

// words splits an Avro name into words at underscores, dashes and case
// changes: "orderId" -> [order Id], "OUT_OF_STOCK" -> [OUT OF STOCK],
// "HTTPServer" -> [HTTP Server], "line2" -> [line2].
func words(s string) []string {
	var out []string
	rs := []rune(s)
	start := 0
	flush := func(i int) {
		if i > start {
			out = append(out, string(rs[start:i]))
		}
		start = i
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '_' || r == '-' || r == '.' {
			flush(i)
			start = i + 1
			continue
		}
		if i > start && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush(i)
			}
		}
	}
	flush(len(rs))
	return out
}

// exportName turns an Avro name into an exported Go identifier.
func exportName(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		up := strings.ToUpper(w)
		if initialisms[up] {
			b.WriteString(up)
			continue
		}
		rs := []rune(strings.ToLower(w))
		if w != strings.ToUpper(w) {
			// Mixed case: keep the author's inner capitals (customerId's
			// "customer" stays, "PostalCode" stays).
			rs = []rune(w)
		}
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	if b.Len() == 0 {
		return "X"
	}
	return b.String()
}

// lowerFirst makes an identifier unexported.
func lowerFirst(s string) string {
	rs := []rune(s)
	i := 0
	for i < len(rs) && unicode.IsUpper(rs[i]) {
		i++
	}
	switch {
	case i == 0:
	case i == 1 || i == len(rs):
		for j := 0; j < i; j++ {
			rs[j] = unicode.ToLower(rs[j])
		}
	default:
		for j := 0; j < i-1; j++ {
			rs[j] = unicode.ToLower(rs[j])
		}
	}
	return string(rs)
}

// snake turns a type name into a file name stem: OrderPlaced -> order_placed.
func snake(s string) string {
	ws := words(s)
	for i := range ws {
		ws[i] = strings.ToLower(ws[i])
	}
	return strings.Join(ws, "_")
}

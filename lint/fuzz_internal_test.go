package lint

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/schemas"
)

const placedFile = "shop/orders/OrderPlaced.avsc"

// FuzzLintSchema feeds arbitrary text as the event's .avsc file (its
// contrail.lint.ignore attributes included) or as the manifest (its lint
// section included) through the loader and then lint: for every tree that
// loads, lint must not panic, and must either report findings of known
// rules at a file position or reject the configuration as invalid input,
// every problem at a position.
func FuzzLintSchema(f *testing.F) {
	base := fixtureFS(f, filepath.Join("testdata", "FIELD_DOC_MISSING", "good"))
	f.Add(string(base[placedFile].Data), false)
	f.Add(string(base["manifest.yaml"].Data), true)
	for _, attr := range []string{
		`[{"rule": "FIELD_DOC_MISSING", "reason": "r"}]`,
		`[{"rule": "FIELD_DOC_MISSING"}]`,
		`[{"rule": "NOPE", "reason": "r", "x": 1}, 3, null]`,
		`{"rule": "TYPE_DOC_MISSING"}`,
		`[]`,
	} {
		f.Add(`{"type": "record", "name": "OrderPlaced", "namespace": "shop.orders", "contrail.lint.ignore": `+attr+`,
 "fields": [{"name": "metadata", "type": "shop.common.EventMetadata"}, {"name": "orderId", "type": {"type": "string", "contrail.lint.ignore": `+attr+`}, "contrail.lint.ignore": `+attr+`},
 {"name": "at", "type": ["long", "null"], "logicalType": "timestamp-millis", "precision": 3}]}`, false)
	}
	f.Add("version: 1\ntopics: [{name: orders}]\nevents: [{schema: shop.orders.OrderPlaced, topic: orders, key: orderId}]\n"+
		"lint:\n  tier: docs\n  field_case: snake_case\n  use: [X]\n  except: [FIELD_DOC_MISSING, ~]\n  ignore:\n    - {rule: TYPE_DOC_MISSING, file: /x, reason: ''}\n    - {}\n    - &a {file: shop, reason: r}\n    - *a\n", true)
	f.Fuzz(func(t *testing.T, text string, asManifest bool) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		file := placedFile
		if asManifest {
			file = schemas.ManifestFile
		}
		fsys[file] = &fstest.MapFile{Data: []byte(text)}
		set, err := schemas.LoadFS(fsys)
		if err != nil {
			return // the loader's own fuzz target covers what does not load
		}
		res, err := lintSet(set, fsys[schemas.ManifestFile].Data, Docs, nil)
		if err != nil {
			var list Errors
			if !errors.Is(err, compat.ErrInvalidInput) || !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not invalid input with positions: %v", err)
			}
			for _, e := range list {
				if e.File == "" || e.Line <= 0 || e.Msg == "" {
					t.Fatalf("problem without a position or message: %+v", e)
				}
			}
			return
		}
		for _, fd := range append(res.Findings, res.Silenced...) {
			if _, ok := RuleByID(fd.Rule); !ok || fd.Reader.File == "" || fd.Reader.Line <= 0 || fd.Message == "" {
				t.Fatalf("finding without a known rule, position or message: %+v", fd)
			}
		}
	})
}

// fixtureFS reads a fixture tree into a MapFS.
func fixtureFS(tb testing.TB, dir string) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestLintWords: the case converters behind the messages' suggestions.
func TestLintWords(t *testing.T) {
	tests := []struct{ in, camel, snake, pascal, upper string }{
		{"order_id", "orderId", "order_id", "OrderId", "ORDER_ID"},
		{"orderID", "orderId", "order_id", "OrderId", "ORDER_ID"},
		{"HTTPServer", "httpServer", "http_server", "HttpServer", "HTTP_SERVER"},
		{"line1", "line1", "line1", "Line1", "LINE1"},
		{"Web", "web", "web", "Web", "WEB"},
		{"sales-channel", "salesChannel", "sales_channel", "SalesChannel", "SALES_CHANNEL"},
	}
	for _, tt := range tests {
		if got := []string{toCamel(tt.in), toSnake(tt.in), toPascal(tt.in), toUpperSnake(tt.in)}; got[0] != tt.camel || got[1] != tt.snake || got[2] != tt.pascal || got[3] != tt.upper {
			t.Errorf("%s: got %v", tt.in, got)
		}
	}
}

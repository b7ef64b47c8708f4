package schemas_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/contrail-events/contrail/schemas"
)

// baseFS returns testdata/base with overrides applied ("" deletes a file).
func baseFS(t testing.TB, overrides map[string]string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	root := filepath.Join("testdata", "base")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range overrides {
		if v == "" {
			delete(m, k)
			continue
		}
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

// posOf returns "file:line:col" of the first occurrence of needle in text.
func posOf(t *testing.T, file, text, needle string) string {
	t.Helper()
	i := strings.Index(text, needle)
	if i < 0 {
		t.Fatalf("needle %q not in %s", needle, file)
	}
	line := strings.Count(text[:i], "\n") + 1
	col := i - strings.LastIndex(text[:i], "\n")
	return fmt.Sprintf("%s:%d:%d", file, line, col)
}

func TestLoadBase(t *testing.T) {
	set, err := schemas.LoadFS(baseFS(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, ty := range set.Order() {
		order = append(order, ty.FullName)
	}
	want := "shop.common.Currency shop.common.Money shop.orders.Cancelled shop.orders.Placed"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
	placed := set.Types["shop.orders.Placed"]
	if got := strings.Join(placed.References, " "); got != "shop.common.Currency shop.common.Money" {
		t.Errorf("Placed references = %s", got)
	}
	if placed.Schema == nil || placed.Schema.(interface{ FullName() string }).FullName() != "shop.orders.Placed" {
		t.Errorf("Placed schema not parsed: %v", placed.Schema)
	}
	if !strings.Contains(placed.Text, `"default": {}`) {
		t.Errorf("Text is not the file text: %s", placed.Text)
	}
	if line, col, ok := placed.Pos("/fields/2/type"); !ok || line != 8 || col != 30 {
		t.Errorf("Pos(/fields/2/type) = %d:%d %v, want 8:30", line, col, ok)
	}
	if _, _, ok := placed.Pos("/fields/9"); ok {
		t.Errorf("Pos of a missing value reported ok")
	}
	if len(set.Events) != 2 {
		t.Fatalf("events = %d", len(set.Events))
	}
	e0, e1 := set.Events[0], set.Events[1]
	if e0.Subject != "orders-shop.orders.Placed" || e0.Strategy != "TopicRecordName" || e0.Compatibility != "BACKWARD" || e0.Key != "id" {
		t.Errorf("event 0 = %+v", e0)
	}
	if e1.Subject != "shop.orders.Cancelled" || e1.Compatibility != "FULL" {
		t.Errorf("event 1 = %+v", e1)
	}
	if set.Event("shop.orders.Cancelled") != e1 || set.Event("shop.common.Money") != nil {
		t.Error("Set.Event lookup wrong")
	}
}

const placedPath = "shop/orders/Placed.avsc"

func TestLoadSchemaErrors(t *testing.T) {
	tests := []struct {
		name     string
		file     string // defaults to placedPath
		text     string
		at       string // needle whose position the error must carry
		wantFile string // file of the error; defaults to file
		want     string // substring of the message
	}{
		{
			name: "bad JSON",
			text: "{\n  \"type\": \"record\",\n  \"name\": \"Placed\",\n  \"namespace\": \"shop.orders\",\n  \"fields\": [\n    {\"name\": \"id\" \"type\": \"string\"}\n  ]\n}\n",
			at:   `"type": "string"}`,
			want: "invalid JSON: unexpected '\"': expected ',' or '}'",
		},
		{
			name: "unknown type",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "count", "type": "integer"}
]}`,
			at:   `"integer"`,
			want: `unknown type "integer"`,
		},
		{
			name: "unknown type suggests",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "strng"}
]}`,
			at:   `"strng"`,
			want: `did you mean "string"?`,
		},
		{
			name: "unknown complex type",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"}, {"name": "x", "type": {"type": "lst", "items": "int"}}
]}`,
			at:   `"lst"`,
			want: `unknown type "lst"`,
		},
		{
			name: "duplicate field",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "note", "type": "string"},
  {"name": "id", "type": "long"}
]}`,
			at:   `"id", "type": "long"`,
			want: `duplicate field name "id" (first at 2:12)`,
		},
		{
			name: "default of wrong type",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "days", "type": "int", "default": "30"}
]}`,
			at:   `"30"`,
			want: `default of field "days" does not match its type: got string "30", want a 32-bit integer`,
		},
		{
			name: "int default out of range",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "days", "type": "int", "default": 3000000000}
]}`,
			at:   `3000000000`,
			want: `want a 32-bit integer`,
		},
		{
			name: "union default must match first branch",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "note", "type": ["string", "null"], "default": null}
]}`,
			at:   `null}`,
			want: `first branch, "string"`,
		},
		{
			name: "enum default of a referenced enum",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "cur", "type": "shop.common.Currency", "default": "USD"}
]}`,
			at:   `"USD"`,
			want: `want one of the enum symbols XXX, EUR`,
		},
		{
			name: "record default missing a field",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "total", "type": "shop.common.Money", "default": {"currency": "EUR"}}
]}`,
			at:   `{"currency"`,
			want: `missing field "amount", which has no default`,
		},
		{
			name: "undefined named reference",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "total", "type": "shop.common.Mony"}
]}`,
			at:   `"shop.common.Mony"`,
			want: `undefined named reference "shop.common.Mony": no .avsc file defines it (expected shop/common/Mony.avsc); did you mean "shop.common.Money"?`,
		},
		{
			name: "inline named type",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"},
  {"name": "s", "type": {"type": "enum", "name": "State", "symbols": ["A"]}}
]}`,
			at:   `{"type": "enum"`,
			want: `shop.orders.State is defined inline: define it in its own file shop/orders/State.avsc`,
		},
		{
			name: "file in the wrong place",
			text: `{"type": "record", "name": "Placd", "namespace": "shop.orders", "fields": [{"name": "id", "type": "string"}]}`,
			at:   `"Placd"`,
			want: `shop.orders.Placd must live in shop/orders/Placd.avsc`,
		},
		{
			name: "duplicate union branch",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"}, {"name": "u", "type": ["null", "string", "null"]}
]}`,
			at:   `"null"]`,
			want: `union lists null twice`,
		},
		{
			name: "duplicate enum symbol",
			file: "shop/common/Currency.avsc",
			text: `{"type": "enum", "name": "Currency", "namespace": "shop.common", "symbols": ["XXX", "EUR", "XXX"]}`,
			at:   `"XXX"]`,
			want: `duplicate enum symbol "XXX"`,
		},
		{
			name: "enum without symbols",
			file: "shop/common/Currency.avsc",
			text: `{"type": "enum", "name": "Currency", "namespace": "shop.common", "symbols": []}`,
			at:   `[]`,
			want: `an enum needs at least one symbol`,
		},
		{
			name: "invalid field order",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string", "order": "sideways"}
]}`,
			at:   `"sideways"`,
			want: `field "id" has an invalid "order"`,
		},
		{
			name: "invalid alias",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "aliases": ["1bad"], "fields": [
  {"name": "id", "type": "string"}
]}`,
			at:   `"1bad"`,
			want: `invalid alias`,
		},
		{
			name: "top level is not a named type",
			text: `["null", "string"]`,
			at:   `[`,
			want: `must hold one named type`,
		},
		{
			name: "decimal scale above precision",
			text: `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [
  {"name": "id", "type": "string"}, {"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 6}}
]}`,
			at:   `6}`,
			want: `decimal scale must be an integer from 0 to the precision (4)`,
		},
		{
			name:     "reference cycle across files",
			file:     "shop/common/Currency.avsc",
			text:     `{"type": "record", "name": "Currency", "namespace": "shop.common", "fields": [{"name": "m", "type": "shop.common.Money"}]}`,
			wantFile: "shop/common/Money.avsc",
			at:       `"shop.common.Currency"`,
			want:     `reference cycle shop.common.Currency -> shop.common.Money -> shop.common.Currency`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = placedPath
			}
			_, err := schemas.LoadFS(baseFS(t, map[string]string{file: tt.text}))
			if err == nil {
				t.Fatal("LoadFS succeeded, want an error")
			}
			var se *schemas.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *schemas.Error", err)
			}
			wantFile := tt.wantFile
			if wantFile == "" {
				wantFile, tt.wantFile = file, file
			}
			text := tt.text
			if wantFile != file {
				text = string(baseFS(t, nil)[wantFile].Data)
			}
			pos := posOf(t, wantFile, text, tt.at)
			var list schemas.ErrorList
			errors.As(err, &list)
			for _, e := range list {
				if e.Location() == pos && strings.Contains(e.Msg, tt.want) {
					if len(list) > 1 && tt.name != "reference cycle across files" {
						t.Errorf("want one problem, got:\n%v", err)
					}
					return
				}
			}
			t.Errorf("error:\n%v\nwant a problem at %s containing:\n%s", err, pos, tt.want)
		})
	}
}

func TestLoadValidExtras(t *testing.T) {
	// Self-recursive records, unqualified names in the same namespace,
	// arrays and maps with defaults all load.
	set, err := schemas.LoadFS(baseFS(t, map[string]string{
		"shop/orders/Node.avsc": `{"type": "record", "name": "Node", "namespace": "shop.orders", "fields": [
  {"name": "children", "type": {"type": "array", "items": "Node"}, "default": []},
  {"name": "next", "type": ["null", "Node"], "default": null},
  {"name": "weights", "type": {"type": "map", "values": "double"}, "default": {"a": 1.5}},
  {"name": "cur", "type": "shop.common.Currency", "default": "EUR"},
  {"name": "fx", "type": "shop.common.Money", "default": {"amount": "\u0001"}}
]}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if refs := set.Types["shop.orders.Node"].References; strings.Join(refs, ",") != "shop.common.Currency,shop.common.Money" {
		t.Errorf("Node references = %v (must not list itself)", refs)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := schemas.LoadFS(baseFS(t, map[string]string{
		placedPath:                   `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [{"name": "id", "type": "strin"}]}`,
		"shop/orders/Cancelled.avsc": `{"type": "record"`,
	}))
	var list schemas.ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	if list[0].File != "shop/orders/Cancelled.avsc" || list[1].File != placedPath {
		t.Errorf("problems not sorted by file: %v", err)
	}
}

func TestLoadNoManifest(t *testing.T) {
	_, err := schemas.LoadFS(baseFS(t, map[string]string{"manifest.yaml": ""}))
	if !errors.Is(err, schemas.ErrNoManifest) {
		t.Fatalf("err = %v, want ErrNoManifest", err)
	}
	dir := t.TempDir()
	_, err = schemas.Load(dir)
	if !errors.Is(err, schemas.ErrNoManifest) || !strings.Contains(err.Error(), "schemas: no manifest.yaml in "+dir+": create it") {
		t.Errorf("Load of an empty dir: %v", err)
	}
	_, err = schemas.Load(filepath.Join(dir, "nope"))
	if err == nil || !strings.Contains(err.Error(), "schemas: load "+filepath.Join(dir, "nope")+": ") {
		t.Errorf("Load of a missing dir: %v", err)
	}
}

// TestLoadWritesNothing loads a directory with an error and checks that
// nothing in it changed.
func TestLoadWritesNothing(t *testing.T) {
	dir := t.TempDir()
	for name, f := range baseFS(t, map[string]string{placedPath: `{"type": "record"`}) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every file and directory is dated an hour back, so a write by Load
	// (or a file created or removed in a directory) changes a modification
	// time in the snapshot however coarse the file system's clock.
	past := time.Now().Add(-time.Hour)
	if err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, past, past)
	}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	_, err := schemas.Load(dir)
	var se *schemas.Error
	if !errors.As(err, &se) || se.File != filepath.ToSlash(filepath.Join(dir, placedPath)) {
		t.Fatalf("err = %v, want a *schemas.Error naming %s under the dir", err, placedPath)
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("Load changed the directory:\nbefore %s\nafter  %s", before, after)
	}
}

func snapshot(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		fmt.Fprintf(&b, "%s %d %v;", p, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return b.String()
}

func TestDefault(t *testing.T) {
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := schemas.Default()
	if again != set {
		t.Error("Default does not return the same set")
	}
	if len(set.Events) != 10 {
		t.Errorf("events = %d, want the 10 order-flow events", len(set.Events))
	}
	op := set.Event("contrail.orders.OrderPlaced")
	if op == nil || op.Subject != "orders-contrail.orders.OrderPlaced" {
		t.Fatalf("OrderPlaced event = %+v", op)
	}
	if shipped := set.Event("contrail.shipping.OrderShipped"); shipped.Subject != "shipments-value" {
		t.Errorf("OrderShipped subject = %s", shipped.Subject)
	}
}

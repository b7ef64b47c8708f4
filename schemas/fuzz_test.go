package schemas_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// FuzzLoadFS feeds arbitrary text as one .avsc file (and as the manifest)
// through the whole front end: it must never panic, and every failure must
// be an ErrorList whose problems carry a file.
func FuzzLoadFS(f *testing.F) {
	base := baseFS(f, nil)
	for _, file := range []string{placedPath, "shop/common/Money.avsc", "shop/common/Currency.avsc"} {
		f.Add(string(base[file].Data), false)
	}
	f.Add(`{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [{"name": "id", "type": "string", "default": 1}]}`, false)
	f.Add(`{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [{"name": "id", "type": ["null", {"type": "fixed", "name": "F", "size": 2}]}]}`, false)
	f.Add(string(base["manifest.yaml"].Data), true)
	f.Fuzz(func(t *testing.T, text string, asManifest bool) {
		file := placedPath
		if asManifest {
			file = "manifest.yaml"
		}
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		fsys[file] = &fstest.MapFile{Data: []byte(text)}
		set, err := schemas.LoadFS(fsys)
		if err != nil {
			var list schemas.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %v", err)
			}
			for _, e := range list {
				if e.File == "" || e.Msg == "" {
					t.Fatalf("problem without file or message: %+v", e)
				}
			}
			return
		}
		for _, ty := range set.Order() {
			if ty.Schema == nil {
				t.Fatalf("%s loaded without a parsed schema", ty.FullName)
			}
		}
	})
}

// FuzzLoadSidecar feeds arbitrary text as a data-contract sidecar (of major
// 1 or of major 2) through the whole loader: it must never panic, every
// failure must be an ErrorList whose problems carry a file, and a sidecar
// that loads must leave every rule with a name, kind and mode.
func FuzzLoadSidecar(f *testing.F) {
	f.Add(placedV2Sidecar, true)
	f.Add(placedV1Sidecar, false)
	f.Add("metadata:\n  properties: {major_version: \"2\"}\n  sensitive: [x]\n", true)
	f.Add("ruleSet:\n  domainRules:\n    - {name: a, kind: CONDITION, mode: WRITEREAD, type: CEL, expr: 'true', onFailure: 'ERROR,DLQ'}\n", false)
	f.Add("metadata:\n  tags:\n    '**.id': [PII]\n    shop.orders.Placed.*: [X]\n", true)
	f.Add("ruleSet: &a\n  migrationRules: *a\n", true)
	f.Fuzz(func(t *testing.T, text string, later bool) {
		file := placedV1Contract
		if later {
			file = placedV2Contract
		}
		fsys := majorsFS(t, map[string]string{file: text})
		if text == "" {
			fsys[file] = &fstest.MapFile{Data: nil}
		}
		set, err := schemas.LoadFS(fsys)
		if err != nil {
			var list schemas.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %v", err)
			}
			for _, e := range list {
				if e.File == "" || e.Msg == "" {
					t.Fatalf("problem without file or message: %+v", e)
				}
			}
			return
		}
		for _, m := range set.Event("shop.orders.Placed").Majors {
			if m.RuleSet == nil {
				continue
			}
			for _, r := range append(append([]wire.Rule(nil), m.RuleSet.MigrationRules...), m.RuleSet.DomainRules...) {
				if r.Name == "" || r.Kind == "" || r.Mode == "" {
					t.Fatalf("rule loaded incomplete: %+v", r)
				}
			}
		}
	})
}

// FuzzMatchTagPath: the tag matcher never panics, a pattern without
// wildcards matches exactly itself, and "**" matches everything.
func FuzzMatchTagPath(f *testing.F) {
	f.Add("a*.bob.e*", "alice.bob.eve")
	f.Add(`**.s\*n`, "x.s*n")
	f.Add("?", ".")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		got := schemas.MatchTagPath(pattern, path)
		if !strings.ContainsAny(pattern, `*?\`) && got != (pattern == path) {
			t.Fatalf("MatchTagPath(%q, %q) = %v", pattern, path, got)
		}
		if !schemas.MatchTagPath("**", path) {
			t.Fatalf("** does not match %q", path)
		}
	})
}

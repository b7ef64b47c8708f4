package schemas_test

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/contrail-events/contrail/schemas"
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

package codegen_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/contrail-events/contrail/codegen"
	"github.com/contrail-events/contrail/schemas"
)

// FuzzGenerate runs arbitrary text, as the fixture Sink.avsc, through Load
// and Generate: whatever loads must either generate Go that parses (Generate
// runs imports.Process, which fails on unparsable code) or fail with a
// positioned schemas.ErrorList, never panic.
func FuzzGenerate(f *testing.F) {
	base := fstest.MapFS{}
	root := os.DirFS(fixtureDir)
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, p)
		base[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	const sink = "fixture/kitchen/Sink.avsc"
	f.Add(string(base[sink].Data))
	f.Add(`{"type": "record", "name": "Sink", "namespace": "fixture.kitchen", "fields": [{"name": "id", "type": "string"}, {"name": "u", "type": ["int", "boolean", "bytes", "float", "double"]}]}`)
	f.Add(`{"type": "record", "name": "Sink", "namespace": "fixture.kitchen", "fields": [{"name": "id", "type": "string"}, {"name": "ID", "type": "Sink"}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		fsys[sink] = &fstest.MapFile{Data: []byte(text)}
		set, err := schemas.LoadFS(fsys)
		if err != nil {
			return
		}
		files, err := codegen.Generate(set, codegen.Config{ImportPath: goldenImport, SourceDir: "in"})
		if err != nil {
			var list schemas.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Generate failed without positions: %v", err)
			}
			for _, e := range list {
				if e.File == "" || e.Msg == "" {
					t.Fatalf("problem without file or message: %+v", e)
				}
			}
			return
		}
		if len(files) == 0 {
			t.Fatal("no files")
		}
	})
}

package contract_test

import (
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/codegen"
	"github.com/contrail-events/contrail/schemas"
)

// TestEvolutionFixturesGenerated checks that the v1 and v2 fixture packages
// of the evolution test are exactly what `contrail gen` makes of their
// schema trees (make gen-check covers events/ only). To regenerate:
// contrail gen --schemas contract/testdata/evolution/vN/schemas --out contract/testdata/evolution/vN/events
func TestEvolutionFixturesGenerated(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			root := filepath.Join("testdata", "evolution", v)
			set, err := schemas.Load(filepath.Join(root, "schemas"))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(root, "events")
			ip, _, err := codegen.ImportPathOf(out)
			if err != nil {
				t.Fatal(err)
			}
			files, err := codegen.Generate(set, codegen.Config{ImportPath: ip, SourceDir: "contract/testdata/evolution/" + v + "/schemas"})
			if err != nil {
				t.Fatal(err)
			}
			d, err := codegen.Compare(out, files)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Empty() {
				t.Fatalf("fixture %s is stale: %s", out, d)
			}
		})
	}
}

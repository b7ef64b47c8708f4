package eventing_test

import (
	"os"
	"strings"
	"testing"
)

// servicePage is the docs page that shows the runtime example.
const servicePage = "../docs/writing-a-service.md"

// TestReadmeExampleIsTheCompiledOne keeps the example in the docs' "Writing
// a service" page identical to example_test.go, which the compiler checks.
func TestReadmeExampleIsTheCompiledOne(t *testing.T) {
	page, err := os.ReadFile(servicePage)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	code := string(src)
	i := strings.Index(code, "import (")
	if i < 0 {
		t.Fatal("example_test.go has no import block")
	}
	code = strings.TrimSpace(code[i:])

	// The example is the page's go block that starts with the import block.
	var blocks []string
	rest := string(page)
	for {
		start := strings.Index(rest, "```go\n")
		if start < 0 {
			break
		}
		rest = rest[start+len("```go\n"):]
		end := strings.Index(rest, "\n```")
		if end < 0 {
			t.Fatalf("%s: a go code block is not closed", servicePage)
		}
		blocks = append(blocks, rest[:end])
		rest = rest[end+len("\n```"):]
	}
	for _, b := range blocks {
		if strings.HasPrefix(strings.TrimSpace(b), "import (") {
			if strings.TrimSpace(b) != code {
				t.Fatalf("%s: the example differs from eventing/example_test.go: copy the file (from `import (`) into the page", servicePage)
			}
			return
		}
	}
	t.Fatalf("%s has no go code block starting with `import (`: copy eventing/example_test.go (from `import (`) into it", servicePage)
}

package eventing_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExampleIsTheCompiledOne keeps the README's "Writing a service"
// example identical to example_test.go, which the compiler checks.
func TestReadmeExampleIsTheCompiledOne(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "## Writing a service")
	if i < 0 {
		t.Fatal("README has no \"Writing a service\" section")
	}
	s = s[i:]
	start := strings.Index(s, "```go\n")
	if start < 0 {
		t.Fatal("the section has no go code block")
	}
	s = s[start+len("```go\n"):]
	block := s[:strings.Index(s, "```")]
	code := string(src)
	code = code[strings.Index(code, "import ("):]
	if strings.TrimSpace(block) != strings.TrimSpace(code) {
		t.Fatal("README example differs from eventing/example_test.go: copy the file (from `import (`) into the README")
	}
}

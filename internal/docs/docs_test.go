// Package docs holds the tests that keep README.md and docs/ true: every
// relative link resolves (file and heading anchor), every docs page is linked
// from the README, the README stays a short front door with the two setup
// commands, every `contrail <command>` the docs show exists, and the
// compatibility page lists every rule ID. It uses the standard library only
// and reads the CLI's commands from cmd/contrail's source, so it needs no
// build of the module.
package docs

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository root, relative to this package.
const root = "../.."

// readmeMaxLines is the README's budget: what a newcomer reads in five
// minutes. Topics go to docs/.
const readmeMaxLines = 300

// setupCommands are the two commands a fresh machine needs; the README must
// show both in a code block, exactly so.
var setupCommands = []string{
	"go run ./cmd/contrail up",
	"make test",
}

// page is one markdown file: its path from the repository root, its text and
// its text with code (fenced blocks and inline spans) blanked out.
type page struct {
	path  string
	text  string
	prose string
}

// pages returns README.md and every docs/*.md.
func pages(t *testing.T) []page {
	t.Helper()
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	var out []page
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page{path: f, text: string(b), prose: stripCode(string(b))})
	}
	return out
}

var (
	fenceRE      = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```[ \t]*$")
	inlineCodeRE = regexp.MustCompile("`[^`\n]*`")
	linkRE       = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	headingRE    = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
)

// stripCode blanks fenced code blocks and inline code spans, so that links
// and headings are read from prose only.
func stripCode(s string) string {
	s = fenceRE.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat("\n", strings.Count(m, "\n")) })
	return inlineCodeRE.ReplaceAllString(s, "``")
}

// codeBlocks returns the contents of the fenced code blocks of s.
func codeBlocks(s string) []string {
	var out []string
	for _, m := range fenceRE.FindAllString(s, -1) {
		lines := strings.Split(m, "\n")
		if len(lines) >= 2 {
			out = append(out, strings.Join(lines[1:len(lines)-1], "\n"))
		}
	}
	return out
}

// anchor is GitHub's heading anchor: lower case, punctuation other than
// hyphens and underscores dropped, spaces to hyphens.
func anchor(heading string) string {
	heading = strings.ReplaceAll(heading, "`", "")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors returns the heading anchors of a markdown text.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range headingRE.FindAllStringSubmatch(stripFences(text), -1) {
		a := anchor(m[1])
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// stripFences blanks fenced code blocks only (a "# comment" in a shell block
// is not a heading; inline code in a heading is part of its anchor).
func stripFences(s string) string {
	return fenceRE.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat("\n", strings.Count(m, "\n")) })
}

// link is one relative link of a page, resolved against the repository root.
type link struct {
	from, target, file, anchor string
}

// relativeLinks returns the links of p that point into the repository.
func relativeLinks(p page) []link {
	var out []link
	for _, m := range linkRE.FindAllStringSubmatch(p.prose, -1) {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		file, frag, _ := strings.Cut(target, "#")
		resolved := p.path
		if file != "" {
			resolved = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(p.path), file)))
		}
		out = append(out, link{from: p.path, target: target, file: resolved, anchor: frag})
	}
	return out
}

func TestDocsLinksResolve(t *testing.T) {
	texts := map[string]string{}
	for _, p := range pages(t) {
		texts[p.path] = p.text
	}
	for _, p := range pages(t) {
		for _, l := range relativeLinks(p) {
			full := filepath.Join(root, filepath.FromSlash(l.file))
			if _, err := os.Stat(full); err != nil {
				t.Errorf("%s links to %s: %s does not exist", l.from, l.target, l.file)
				continue
			}
			if l.anchor == "" || !strings.HasSuffix(l.file, ".md") {
				continue
			}
			text, ok := texts[l.file]
			if !ok {
				b, err := os.ReadFile(full)
				if err != nil {
					t.Errorf("%s links to %s: %v", l.from, l.target, err)
					continue
				}
				text = string(b)
			}
			if !anchors(text)[l.anchor] {
				t.Errorf("%s links to %s: %s has no heading with anchor #%s", l.from, l.target, l.file, l.anchor)
			}
		}
	}
}

func TestDocsPagesLinkedFromReadme(t *testing.T) {
	all := pages(t)
	linked := map[string]bool{}
	for _, l := range relativeLinks(all[0]) {
		linked[l.file] = true
	}
	for _, p := range all[1:] {
		if !linked[p.path] {
			t.Errorf("README.md does not link to %s: add it to the README's Docs table", p.path)
		}
	}
	if len(all) < 2 {
		t.Error("docs/ holds no pages")
	}
}

func TestReadmeIsShort(t *testing.T) {
	readme := pages(t)[0].text
	n := strings.Count(readme, "\n")
	if !strings.HasSuffix(readme, "\n") {
		n++
	}
	if n >= readmeMaxLines {
		t.Errorf("README.md has %d lines; keep it under %d and move topics to docs/", n, readmeMaxLines)
	}
}

func TestReadmeHasSetupCommands(t *testing.T) {
	blocks := codeBlocks(pages(t)[0].text)
	for _, cmd := range setupCommands {
		found := false
		for _, b := range blocks {
			for _, line := range strings.Split(b, "\n") {
				line = strings.TrimSpace(line)
				if line == cmd || strings.HasPrefix(line, cmd+" ") || strings.HasPrefix(line, cmd+"\t") {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("README.md has no code block line running %q (one of the two setup commands)", cmd)
		}
	}
}

// command is one CLI command as cmd/contrail's source declares it.
type command struct {
	name     string
	children map[string]bool
}

// cliCommands reads cmd/contrail's sources: the constructors passed to
// register(...) are the top-level commands, each constructor's cobra.Command
// literal gives its name (the first word of Use), and the constructors passed
// to its AddCommand(...) calls are its subcommands.
func cliCommands(t *testing.T) map[string]*command {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(root, "cmd", "contrail", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	use := map[string]string{}    // constructor -> command name
	adds := map[string][]string{} // constructor -> subcommand constructors
	var registered []string       // top-level constructors
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, d := range af.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.KeyValueExpr:
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Use" {
						if s, ok := firstString(n.Value); ok && use[fn.Name.Name] == "" {
							if fields := strings.Fields(s); len(fields) > 0 {
								use[fn.Name.Name] = fields[0]
							}
						}
					}
				case *ast.CallExpr:
					switch name := callName(n.Fun); name {
					case "register":
						for _, a := range n.Args {
							if id, ok := a.(*ast.Ident); ok {
								registered = append(registered, id.Name)
							}
						}
					case "AddCommand":
						for _, a := range n.Args {
							if c, ok := a.(*ast.CallExpr); ok {
								if id, ok := c.Fun.(*ast.Ident); ok {
									adds[fn.Name.Name] = append(adds[fn.Name.Name], id.Name)
								}
							}
						}
					}
				}
				return true
			})
		}
	}
	cmds := map[string]*command{
		// cobra adds these two itself.
		"help":       {name: "help", children: map[string]bool{}},
		"completion": {name: "completion", children: map[string]bool{}},
	}
	for _, ctor := range registered {
		name := use[ctor]
		if name == "" {
			t.Errorf("cmd/contrail: register(%s): found no Use: in %s", ctor, ctor)
			continue
		}
		c := &command{name: name, children: map[string]bool{}}
		for _, sub := range adds[ctor] {
			if use[sub] == "" {
				t.Errorf("cmd/contrail: %s adds %s, which has no Use:", ctor, sub)
				continue
			}
			c.children[use[sub]] = true
		}
		cmds[name] = c
	}
	if len(registered) < 5 {
		t.Fatalf("cmd/contrail: found only %d registered commands (%v); has register(...) changed?", len(registered), registered)
	}
	return cmds
}

// firstString returns the leading string literal of e: "x" or "x" + ...
func firstString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.BinaryExpr:
		return firstString(e.X)
	}
	return "", false
}

// callName is the function or method name of a call's Fun.
func callName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// invocationRE finds `contrail <word> [<word>]` as a command line writes it:
// "contrail" as a word of its own or as `go run ./cmd/contrail`, followed by
// a command word. (The tree's "cmd/contrail  one thin CLI" is neither.)
var invocationRE = regexp.MustCompile(`(?:^|[\s(;|&` + "`" + `]|go run \./cmd/)contrail[ \t]+([a-z][a-z0-9-]*)(?:[ \t]+([a-z][a-z0-9-]*))?`)

func TestDocsCommandsExist(t *testing.T) {
	cmds := cliCommands(t)
	var names []string
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, p := range pages(t) {
		var snippets []string
		snippets = append(snippets, codeBlocks(p.text)...)
		for _, m := range inlineCodeRE.FindAllString(stripFences(p.text), -1) {
			snippets = append(snippets, strings.Trim(m, "`"))
		}
		for _, s := range snippets {
			sc := bufio.NewScanner(strings.NewReader(s))
			for sc.Scan() {
				line := sc.Text()
				for _, m := range invocationRE.FindAllStringSubmatch(line, -1) {
					c, ok := cmds[m[1]]
					if !ok {
						t.Errorf("%s: %q: contrail has no command %q (it has %s)", p.path, strings.TrimSpace(line), m[1], strings.Join(names, ", "))
						continue
					}
					if len(c.children) > 0 && m[2] != "" && !c.children[m[2]] {
						var kids []string
						for k := range c.children {
							kids = append(kids, k)
						}
						slices.Sort(kids)
						t.Errorf("%s: %q: contrail %s has no subcommand %q (it has %s)", p.path, strings.TrimSpace(line), m[1], m[2], strings.Join(kids, ", "))
					}
				}
			}
		}
	}
}

// ruleIDRE finds rule definitions: Rule{"ID", ...} or Rule{ID: "ID", ...}.
var ruleIDRE = regexp.MustCompile(`Rule\{\s*(?:ID:\s*)?"([A-Z][A-Z0-9_]+)"`)

func TestDocsListEveryRule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "checking-compatibility.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var ids []string
	for _, dir := range []string{"compat", "contract"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ruleIDRE.FindAllStringSubmatch(string(src), -1) {
				ids = append(ids, m[1])
			}
		}
	}
	if len(ids) < 10 {
		t.Fatalf("found only %d rule definitions in compat/ and contract/ (%v); has the Rule literal changed?", len(ids), ids)
	}
	for _, id := range ids {
		if !strings.Contains(doc, "`"+id+"`") {
			t.Errorf("docs/checking-compatibility.md does not list rule %s", id)
		}
	}
}

package schemas

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/contrail-events/contrail/events"
	"github.com/hamba/avro/v2"
)

// ManifestFile is the manifest's file name at the root of a schema tree.
const ManifestFile = "manifest.yaml"

// Set is a loaded schema tree: every named type and every manifest event.
// It is immutable and safe for concurrent use.
type Set struct {
	// Types holds every named type by full name. For an event with several
	// live majors it holds the lowest one (Event.Majors has them all): the
	// type a reference by full name would mean, which the loader allows only
	// for names with one major.
	Types map[string]*Type
	// Events are the manifest's events in manifest order.
	Events []*Event
	// Topics are the manifest's topics in manifest order.
	Topics []Topic
	// TypesCompatibility is the compatibility level for the subjects of
	// shared (non-event) named types, registered under RecordName.
	TypesCompatibility string

	order []*Type
}

// Order returns every type in dependency order: each type comes after the
// types it refers to; ties are broken by full name. It holds every schema
// file once, so the later majors of an event (Type.Major > 1) are in it too,
// after every type of Types, ordered by full name and major: a full name
// repeats only for them.
func (s *Set) Order() []*Type { return slices.Clone(s.order) }

// Event returns the manifest event whose schema is fullName, or nil.
func (s *Set) Event(fullName string) *Event {
	for _, e := range s.Events {
		if e.Type.FullName == fullName {
			return e
		}
	}
	return nil
}

// Type is one named Avro type, defined by one .avsc file.
type Type struct {
	// Major is the major version the file defines: 1 for <Name>.avsc, N for
	// <Name>.v<N>.avsc (only manifest events have majors above 1).
	Major int
	// FullName is the fully qualified name, e.g. "contrail.common.Money".
	FullName string
	// Name is the last part of FullName, e.g. "Money".
	Name string
	// Namespace is FullName without Name, e.g. "contrail.common".
	Namespace string
	// File is the slash path of the .avsc file relative to the root.
	File string
	// Text is the file's text, exactly as on disk: the schema as registered.
	Text string
	// Schema is the parsed schema (a *avro.RecordSchema, *avro.EnumSchema or
	// *avro.FixedSchema) with every reference resolved.
	Schema avro.Schema
	// References are the full names of the named types this type uses,
	// directly or not, in dependency order (a type's references precede it).
	// The type itself is not included, even when it is recursive.
	References []string

	root *jsonNode
	pos  map[string][2]int
}

// Pos returns the 1-based line and byte column in File of the JSON value at
// jsonPointer (RFC 6901, e.g. "/fields/2/type"; "" is the whole document).
// ok is false when the pointer names no value.
func (t *Type) Pos(jsonPointer string) (line, col int, ok bool) {
	p, ok := t.pos[jsonPointer]
	return p[0], p[1], ok
}

// Load loads the schema tree rooted at dir (the manifest and every .avsc
// file below it). Error positions name files as dir joined with their path.
// The error is an ErrorList of *Error, or wraps ErrNoManifest or an I/O
// error.
func Load(dir string) (*Set, error) {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return nil, fmt.Errorf("schemas: load %s: %w", dir, err)
	}
	set, err := LoadFS(os.DirFS(dir))
	var list ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			e.File = filepath.ToSlash(filepath.Join(dir, filepath.FromSlash(e.File)))
		}
		return nil, list
	}
	if errors.Is(err, ErrNoManifest) {
		return nil, fmt.Errorf("%w in %s: create it, listing topics and events (see the repository's schemas/manifest.yaml)", ErrNoManifest, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("schemas: load %s: %w", dir, err)
	}
	return set, nil
}

// LoadFS is Load over an fs.FS; positions name files by their path in fsys.
func LoadFS(fsys fs.FS) (*Set, error) {
	l := &loader{fsys: fsys, defs: map[string]*def{}, majors: map[string][]*def{}, listed: map[string]bool{}}
	return l.load()
}

// def is a named type found while loading.
type def struct {
	t    *Type
	kind string // record, error, enum or fixed
	node *jsonNode
	refs []ref // direct references in order of appearance, deduplicated
	// sidecar is the data contract beside the file, nil when none.
	sidecar *sidecar
}

// ref is one use of a named type by full name.
type ref struct {
	name      string
	line, col int
}

type loader struct {
	fsys  fs.FS
	probs problems
	// defs holds, by full name, the definition a reference by that name
	// resolves to: the only one, or the lowest major of an event.
	defs map[string]*def
	// majors holds every definition of a full name, in major order.
	majors   map[string][]*def
	files    []string
	sidecars []string
	// listed holds the full names the manifest lists as events.
	listed map[string]bool
}

// all returns every definition, by full name and major.
func (l *loader) all() []*def {
	var out []*def
	for _, n := range slices.Sorted(maps.Keys(l.majors)) {
		out = append(out, l.majors[n]...)
	}
	return out
}

func skipDir(name string) bool {
	return name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

func (l *loader) load() (*Set, error) {
	manifestData, err := fs.ReadFile(l.fsys, ManifestFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at the root: create it, listing topics and events", ErrNoManifest)
	}
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(l.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && skipDir(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(p, ".avsc"):
			l.files = append(l.files, p)
		case strings.HasSuffix(p, SidecarSuffix), strings.HasSuffix(p, ".contract.yml"):
			l.sidecars = append(l.sidecars, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(l.files)

	// Phase 1: syntax and the top-level definition of every file.
	for _, f := range l.files {
		data, err := fs.ReadFile(l.fsys, f)
		if err != nil {
			return nil, err
		}
		l.readFile(f, data)
	}
	l.sortMajors()
	slices.Sort(l.sidecars)
	for _, f := range l.sidecars {
		data, err := fs.ReadFile(l.fsys, f)
		if err != nil {
			return nil, err
		}
		l.readSidecar(f, data)
	}
	// Phase 2: every type expression, now that all names are known.
	names := slices.Sorted(maps.Keys(l.defs))
	for _, d := range l.all() {
		v := &validator{l: l, d: d, file: d.t.File, ns: d.t.Namespace}
		v.topLevel(d.node)
		d.refs = v.refs
	}
	order := l.order(names)

	set := &Set{Types: map[string]*Type{}, order: order}
	for _, n := range names {
		set.Types[n] = l.defs[n].t
	}
	if l.manifest(manifestData, set) != nil {
		// Without a manifest that parses, no type is known to be an event.
		l.checkMajors(set)
	}
	if err := l.probs.err(); err != nil {
		return nil, err
	}

	// Phase 3: hamba parses in dependency order into one cache. The checks
	// above should leave nothing for it to reject; if it does, the error
	// still points at the file. A later major shares its full name with the
	// lowest one, so each parses into a cache of its own holding only the
	// types it refers to.
	cache := &avro.SchemaCache{}
	for _, t := range order {
		c := cache
		if t != set.Types[t.FullName] {
			c = &avro.SchemaCache{}
			for _, r := range t.References {
				if rt := set.Types[r]; rt != nil && rt.Schema != nil {
					c.Add(r, rt.Schema)
				}
			}
		}
		s, err := events.Parse(t.Text, c)
		if err != nil {
			l.probs.add(t.File, t.root.line, t.root.col, "%v", err)
			continue
		}
		t.Schema = s
	}
	if err := l.probs.err(); err != nil {
		return nil, err
	}
	// Phase 4: the data contracts, whose tags name fields of the parsed
	// schemas.
	l.contracts(set)
	if err := l.probs.err(); err != nil {
		return nil, err
	}
	return set, nil
}

var namedKinds = map[string]bool{"record": true, "error": true, "enum": true, "fixed": true}

// readFile checks a file's JSON and its top-level definition and records it.
func (l *loader) readFile(file string, data []byte) {
	root, err := parseJSON(data)
	if err != nil {
		var se *jsonSyntaxError
		if errors.As(err, &se) {
			l.probs.add(file, se.line, se.col, "invalid JSON: %s", se.msg)
		} else {
			l.probs.add(file, 1, 1, "invalid JSON: %v", err)
		}
		return
	}
	if root.kind != jsonObject {
		l.probs.add(file, root.line, root.col, "the file must hold one named type as a JSON object (a record, enum or fixed), not a %s", root.kind)
		return
	}
	typ := root.get("type")
	if typ == nil {
		l.probs.add(file, root.line, root.col, `missing "type": a schema file defines a record, enum or fixed`)
		return
	}
	if typ.kind != jsonString || !namedKinds[typ.str] {
		l.probs.add(file, typ.line, typ.col, `the file must define a named type ("type": "record", "enum" or "fixed"); put other types inside a record field`)
		return
	}
	name, ns, ok := l.declaredName(file, root, "")
	if !ok {
		return
	}
	full := qualify(ns, name)
	major, msg := fileMajor(path.Base(file))
	if msg != "" {
		l.probs.add(file, 1, 1, "%s", msg)
		return
	}
	want := strings.ReplaceAll(full, ".", "/") + majorSuffix(major) + ".avsc"
	if file != want && !strings.HasSuffix(file, "/"+want) {
		n := root.get("name")
		l.probs.add(file, n.line, n.col, "%s must live in %s (one named type per file, folders by namespace): rename the file or fix name/namespace", full, want)
		return
	}
	for _, prev := range l.majors[full] {
		if prev.t.Major == major {
			n := root.get("name")
			l.probs.add(file, n.line, n.col, "%s is also defined in %s: define each named type once", full, prev.t.File)
			return
		}
	}
	i := strings.LastIndexByte(full, '.')
	t := &Type{FullName: full, Name: full[i+1:], Major: major, File: file, Text: string(data), root: root, pos: positions(root)}
	if i > 0 {
		t.Namespace = full[:i]
	}
	l.majors[full] = append(l.majors[full], &def{t: t, kind: typ.str, node: root})
}

// fileMajor returns the major version a schema file's base name declares:
// 1 for <Name>.avsc, N for <Name>.v<N>.avsc (N >= 2, no leading zero). msg
// says what is wrong with a name that looks like a major but is not one.
func fileMajor(base string) (major int, msg string) {
	stem := strings.TrimSuffix(base, ".avsc")
	i := strings.LastIndexByte(stem, '.')
	if i < 0 || i+1 >= len(stem) || stem[i+1] != 'v' {
		return 1, ""
	}
	digits := stem[i+2:]
	n, err := strconv.Atoi(digits)
	switch {
	case err != nil || digits == "" || digits[0] == '+' || digits[0] == '-':
		return 1, "" // not a major suffix; the name check explains the file name
	case n < 2 || digits[0] == '0':
		return 0, fmt.Sprintf("%s: a major version file is <Name>.v<N>.avsc with N >= 2 written without leading zeros; major 1 is %s.avsc", base, stem[:i])
	}
	return n, ""
}

// majorSuffix is what a file of major adds before ".avsc": "" for major 1,
// ".v<N>" after.
func majorSuffix(major int) string {
	if major <= 1 {
		return ""
	}
	return ".v" + strconv.Itoa(major)
}

// sortMajors orders every name's definitions by major and makes the lowest
// the one references resolve to. Only records have majors above 1, and the
// live majors of a name must be consecutive.
func (l *loader) sortMajors() {
	for full, ds := range l.majors {
		slices.SortFunc(ds, func(a, b *def) int { return a.t.Major - b.t.Major })
		l.defs[full] = ds[0]
		for i, d := range ds {
			if d.t.Major > 1 && d.kind != "record" {
				l.probs.add(d.t.File, d.node.line, d.node.col, "%s is a %s: only records (manifest events) have major versions; give the changed type a new name in its own file instead", full, d.kind)
			}
			if i > 0 && d.t.Major != ds[i-1].t.Major+1 {
				l.probs.add(d.t.File, d.node.line, d.node.col, "%s has majors %d and %d but not the ones between: majors are consecutive and retire oldest first; restore %s or renumber this file",
					full, ds[i-1].t.Major, d.t.Major, strings.ReplaceAll(full, ".", "/")+majorSuffix(ds[i-1].t.Major+1)+".avsc")
			}
		}
	}
}

// declaredName returns the name and effective namespace a named type
// definition declares, reporting problems.
func (l *loader) declaredName(file string, n *jsonNode, enclosingNS string) (name, ns string, ok bool) {
	nameNode := n.get("name")
	if nameNode == nil {
		l.probs.add(file, n.line, n.col, `missing "name": every record, enum and fixed needs one`)
		return "", "", false
	}
	if nameNode.kind != jsonString {
		l.probs.add(file, nameNode.line, nameNode.col, `"name" must be a string, not a %s`, nameNode.kind)
		return "", "", false
	}
	name = nameNode.str
	ns = enclosingNS
	if nsNode := n.get("namespace"); nsNode != nil {
		if nsNode.kind != jsonString && nsNode.kind != jsonNull {
			l.probs.add(file, nsNode.line, nsNode.col, `"namespace" must be a string, not a %s`, nsNode.kind)
			return "", "", false
		}
		ns = nsNode.str
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ns, name = name[:i], name[i+1:]
	}
	if !validName(name) {
		l.probs.add(file, nameNode.line, nameNode.col, "invalid name %q: names start with [A-Za-z_] and continue with [A-Za-z0-9_]", nameNode.str)
		return "", "", false
	}
	if ns != "" {
		for _, part := range strings.Split(ns, ".") {
			if !validName(part) {
				l.probs.add(file, nameNode.line, nameNode.col, "invalid namespace %q: use dot-separated names like contrail.orders", ns)
				return "", "", false
			}
		}
	}
	return name, ns, true
}

func qualify(ns, name string) string {
	if ns == "" || strings.Contains(name, ".") {
		return name
	}
	return ns + "." + name
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// order sorts the definitions topologically, reports reference cycles
// between files, and fills each type's References.
func (l *loader) order(names []string) []*Type {
	const (
		white = iota
		gray
		black
	)
	color := map[string]int{}
	var out []*Type
	var stack []string
	var visit func(n string)
	visit = func(n string) {
		color[n] = gray
		stack = append(stack, n)
		d := l.defs[n]
		for _, r := range d.refs {
			if r.name == n || l.defs[r.name] == nil {
				continue
			}
			switch color[r.name] {
			case white:
				visit(r.name)
			case gray:
				i := slices.Index(stack, r.name)
				cycle := append(slices.Clone(stack[i:]), r.name)
				l.probs.add(d.t.File, r.line, r.col, "reference cycle %s: types in different files cannot refer to each other in a cycle (only a record may refer to itself); break the cycle", strings.Join(cycle, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		out = append(out, d.t)
	}
	for _, n := range names {
		if color[n] == white {
			visit(n)
		}
	}
	// The later majors of events: nothing refers to them, so they come
	// after everything they may refer to.
	for _, d := range l.all() {
		if d != l.defs[d.t.FullName] {
			out = append(out, d.t)
		}
	}
	// Transitive references in dependency order.
	for _, t := range out {
		seen := map[string]bool{t.FullName: true}
		var refs []string
		var walk func(rs []ref)
		walk = func(rs []ref) {
			for _, r := range rs {
				if seen[r.name] || l.defs[r.name] == nil {
					continue
				}
				seen[r.name] = true
				walk(l.defs[r.name].refs)
				refs = append(refs, r.name)
			}
		}
		walk(l.defOf(t).refs)
		t.References = refs
	}
	return out
}

// defOf returns the definition of t.
func (l *loader) defOf(t *Type) *def {
	for _, d := range l.majors[t.FullName] {
		if d.t == t {
			return d
		}
	}
	return l.defs[t.FullName]
}

// filePathFor is where the loader expects fullName's file.
func filePathFor(fullName string) string {
	return path.Join(strings.Split(fullName, ".")...) + ".avsc"
}

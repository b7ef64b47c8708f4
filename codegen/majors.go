package codegen

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// Majors: major N >= 2 of an event is the Go type <Name>V<N> with binding
// <Name>V<N>Binding; its contract's CONTRAIL_GO migration rules make
// generated init code register Go functions between it and major N-1,
// which live in <name>_v<N>_migrations.go, written once with stubs.

// migration is one direction between two neighbouring majors.
type migration struct {
	fn                   string // upgradeOrderPlacedV1ToV2
	fromVar, toVar       string // binding variables
	fromType, toType     string // Go types (major 1 by its V1 alias)
	fromMajor, toMajor   int
	rule, mode, fullName string
	contract             string
}

// bindingVar is the binding variable of major n of the event whose Go
// type of major 1 is name.
func bindingVar(name string, n int) string {
	if n <= 1 {
		return name + "Binding"
	}
	return name + "V" + strconv.Itoa(n) + "Binding"
}

// migrations returns the migrations major m's contract declares between
// it and the major before it: upgrade first, then downgrade. None when m
// is major 1, declares none, or the major before it is retired.
func (g *generator) migrations(ev *schemas.Event, m *schemas.Major) []migration {
	if m == nil || m.Version < 2 || ev.Major(m.Version-1) == nil {
		return nil
	}
	up, down := m.Migrates()
	if !up && !down {
		return nil
	}
	name := exportName(m.Type.Name)
	prev, cur := m.Version-1, m.Version
	typeOf := func(n int) string { return name + "V" + strconv.Itoa(n) }
	var rules []string
	for _, r := range m.Migrations() {
		rules = append(rules, fmt.Sprintf("%s, mode %s", r.Name, r.Mode))
	}
	base := migration{fullName: m.Type.FullName, rule: strings.Join(rules, "; "), contract: path.Join(g.cfg.SourceDir, m.Contract)}
	var out []migration
	if up {
		mg := base
		mg.fn = fmt.Sprintf("upgrade%sV%dToV%d", name, prev, cur)
		mg.fromVar, mg.toVar, mg.fromType, mg.toType, mg.fromMajor, mg.toMajor = bindingVar(name, prev), bindingVar(name, cur), typeOf(prev), typeOf(cur), prev, cur
		mg.mode = "upgrade"
		out = append(out, mg)
	}
	if down {
		mg := base
		mg.fn = fmt.Sprintf("downgrade%sV%dToV%d", name, cur, prev)
		mg.fromVar, mg.toVar, mg.fromType, mg.toType, mg.fromMajor, mg.toMajor = bindingVar(name, cur), bindingVar(name, prev), typeOf(cur), typeOf(prev), cur, prev
		mg.mode = "downgrade"
		out = append(out, mg)
	}
	return out
}

// migrationsFile is the hand-edited file of the migrations into major t
// declares (nil when none): stubs returning
// events.ErrMigrationNotImplemented, which Write creates once.
func (g *generator) migrationsFile(t *schemas.Type) *File {
	pkg := g.pkgs[t.Namespace]
	ev := g.set.Event(t.FullName)
	m := majorOf(ev, t)
	migs := g.migrations(ev, m)
	if pkg == nil || len(migs) == 0 {
		return nil
	}
	type stub struct {
		Func, FromType, ToType, Mode, Rule string
		FromMajor, ToMajor                 int
	}
	data := struct {
		Package, FullName, Contract, Events, GoType string
		From, To                                    int
		Stubs                                       []stub
	}{Package: pkg.leaf, FullName: t.FullName, Contract: migs[0].contract, Events: g.cfg.EventsImportPath, GoType: goTypeName(t), From: m.Version - 1, To: m.Version}
	for _, mg := range migs {
		data.Stubs = append(data.Stubs, stub{Func: mg.fn, FromType: mg.fromType, ToType: mg.toType, Mode: mg.mode, Rule: mg.rule, FromMajor: mg.fromMajor, ToMajor: mg.toMajor})
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "migrations.go.tmpl", data); err != nil {
		g.errAt(t, "", "codegen: template: %v", err)
		return nil
	}
	return &File{Path: pkg.leaf + "/" + snake(goTypeName(t)) + "_migrations.go", Data: buf.Bytes(), Once: true}
}

// metadataLit is a Go expression of md, "" for nil.
func metadataLit(md *wire.Metadata) string {
	if md.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteString("&wire.Metadata{\n")
	if len(md.Tags) > 0 {
		b.WriteString("Tags: map[string][]string{\n")
		for _, k := range slices.Sorted(maps.Keys(md.Tags)) {
			fmt.Fprintf(&b, "%s: %s,\n", strconv.Quote(k), stringsLit(md.Tags[k], true))
		}
		b.WriteString("},\n")
	}
	if len(md.Properties) > 0 {
		b.WriteString("Properties: " + mapLit(md.Properties) + ",\n")
	}
	if len(md.Sensitive) > 0 {
		b.WriteString("Sensitive: " + stringsLit(md.Sensitive, false) + ",\n")
	}
	b.WriteString("}")
	return b.String()
}

// ruleSetLit is a Go expression of rs, "" for nil.
func ruleSetLit(rs *wire.RuleSet) string {
	if rs.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteString("&wire.RuleSet{\n")
	for _, list := range []struct {
		name  string
		rules []wire.Rule
	}{{"MigrationRules", rs.MigrationRules}, {"DomainRules", rs.DomainRules}} {
		if len(list.rules) == 0 {
			continue
		}
		b.WriteString(list.name + ": []wire.Rule{\n")
		for _, r := range list.rules {
			b.WriteString("{" + ruleFields(r) + "},\n")
		}
		b.WriteString("},\n")
	}
	b.WriteString("}")
	return b.String()
}

var (
	kindConsts = map[wire.RuleKind]string{wire.RuleKindCondition: "wire.RuleKindCondition", wire.RuleKindTransform: "wire.RuleKindTransform"}
	modeConsts = map[wire.RuleMode]string{
		wire.RuleModeWrite: "wire.RuleModeWrite", wire.RuleModeRead: "wire.RuleModeRead", wire.RuleModeWriteRead: "wire.RuleModeWriteRead",
		wire.RuleModeUpgrade: "wire.RuleModeUpgrade", wire.RuleModeDowngrade: "wire.RuleModeDowngrade", wire.RuleModeUpDown: "wire.RuleModeUpDown",
	}
	stringConsts = map[string]string{
		wire.RuleTypeCEL: "wire.RuleTypeCEL", wire.RuleTypeGoMigration: "wire.RuleTypeGoMigration",
		wire.RuleActionError: "wire.RuleActionError", wire.RuleActionDLQ: "wire.RuleActionDLQ", wire.RuleActionNone: "wire.RuleActionNone",
	}
)

// ruleFields are the fields of a wire.Rule literal, zero values left out.
func ruleFields(r wire.Rule) string {
	var parts []string
	str := func(field, v string) {
		if v == "" {
			return
		}
		if c, ok := stringConsts[v]; ok && field != "Name" && field != "Doc" && field != "Expr" {
			parts = append(parts, field+": "+c)
			return
		}
		parts = append(parts, field+": "+strconv.Quote(v))
	}
	str("Name", r.Name)
	str("Doc", r.Doc)
	if c, ok := kindConsts[r.Kind]; ok {
		parts = append(parts, "Kind: "+c)
	} else if r.Kind != "" {
		parts = append(parts, fmt.Sprintf("Kind: wire.RuleKind(%q)", string(r.Kind)))
	}
	if c, ok := modeConsts[r.Mode]; ok {
		parts = append(parts, "Mode: "+c)
	} else if r.Mode != "" {
		parts = append(parts, fmt.Sprintf("Mode: wire.RuleMode(%q)", string(r.Mode)))
	}
	str("Type", r.Type)
	if len(r.Tags) > 0 {
		parts = append(parts, "Tags: "+stringsLit(r.Tags, false))
	}
	if len(r.Params) > 0 {
		parts = append(parts, "Params: "+mapLit(r.Params))
	}
	str("Expr", r.Expr)
	str("OnSuccess", r.OnSuccess)
	str("OnFailure", r.OnFailure)
	if r.Disabled {
		parts = append(parts, "Disabled: true")
	}
	return strings.Join(parts, ", ")
}

// stringsLit is a []string literal; elided drops the type (inside a map
// literal).
func stringsLit(ss []string, elided bool) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	if elided {
		return "{" + strings.Join(q, ", ") + "}"
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

// mapLit is a map[string]string literal with sorted keys.
func mapLit(m map[string]string) string {
	var b strings.Builder
	b.WriteString("map[string]string{\n")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s: %s,\n", strconv.Quote(k), strconv.Quote(m[k]))
	}
	b.WriteString("}")
	return b.String()
}

package registry

import (
	"context"
	"net/http"
	"sort"
	"strings"
)

// Schema contexts, as Confluent defines them (QualifiedSubject): a subject
// may be qualified with a context, ":.ctx:subject", and every context has
// its own subjects, its own schema IDs, and its own top-level config and mode
// (the subject ":.ctx:"). Unqualified subjects live in the default context
// ("." on the wire, "" here). The context ".__GLOBAL" holds settings that
// apply to every context; it holds no subjects.
const (
	// DefaultContext is the name GET /contexts gives the default context.
	DefaultContext = "."
	// GlobalContext is the context whose config and mode apply to every
	// context (Confluent's ":.__GLOBAL:").
	GlobalContext = ".__GLOBAL"
	// contextWildcard as a subject prefix matches subjects of every context.
	contextWildcard = ":*:"
)

// splitSubject splits a (possibly qualified) subject into its context (""
// for the default one, else ".name") and its unqualified name.
func splitSubject(subject string) (ctx, name string) {
	if !strings.HasPrefix(subject, ":.") {
		return "", subject
	}
	rest := subject[1:]
	i := strings.IndexByte(rest, ':')
	if i < 0 {
		ctx, name = rest, ""
	} else {
		ctx, name = rest[:i], rest[i+1:]
	}
	if ctx == DefaultContext {
		ctx = ""
	}
	return ctx, name
}

// qualify is the subject name of name in ctx.
func qualify(ctx, name string) string {
	if ctx == "" {
		return name
	}
	return ":" + ctx + ":" + name
}

// normalizeSubject spells a subject the one way the registry keys it:
// ":.:x" (the default context, spelled out) is "x".
func normalizeSubject(subject string) string {
	ctx, name := splitSubject(subject)
	return qualify(ctx, name)
}

// contextOf is the context of a subject.
func contextOf(subject string) string {
	ctx, _ := splitSubject(subject)
	return ctx
}

// contextTop is the subject holding ctx's own config and mode: "" (the
// global one) for the default context, ":.ctx:" otherwise.
func contextTop(ctx string) string { return qualify(ctx, "") }

// qualifyWithParent resolves a subject named relative to parent's context,
// as Confluent resolves references and aliases: an unqualified name lives in
// parent's context.
func qualifyWithParent(subject, parentCtx string) string {
	ctx, name := splitSubject(subject)
	if ctx == "" && !strings.HasPrefix(subject, ":.:") {
		ctx = parentCtx
	}
	return qualify(ctx, name)
}

// normalizeContextName turns a context as clients write it (".ctx", "ctx",
// ":.ctx:", ".", ":.:") into "" for the default context or ".name". It
// returns false for a name with a colon inside, which Confluent refuses.
func normalizeContextName(s string) (string, bool) {
	s = strings.TrimPrefix(s, ":")
	s = strings.TrimSuffix(s, ":")
	if strings.Contains(s, ":") {
		return "", false
	}
	if !strings.HasPrefix(s, ".") {
		s = "." + s
	}
	if s == DefaultContext {
		return "", true
	}
	return s, true
}

// subjectMatcher selects subjects by a subjectPrefix parameter as Confluent
// reads it: absent matches every context; ":*:" then a prefix matches that
// unqualified prefix in any context; "" and unqualified prefixes stay in the
// default context; ":.ctx:prefix" stays in ctx.
func subjectMatcher(prefix string, given bool) func(string) bool {
	if !given {
		return func(string) bool { return true }
	}
	if rest, ok := strings.CutPrefix(prefix, contextWildcard); ok {
		return func(s string) bool {
			_, name := splitSubject(s)
			return strings.HasPrefix(name, rest)
		}
	}
	pctx, pname := splitSubject(prefix)
	return func(s string) bool {
		ctx, name := splitSubject(s)
		return ctx == pctx && strings.HasPrefix(name, pname)
	}
}

// noteContext adds subject's context to b if it is new. Callers hold the
// write lock.
func (r *Registry) noteContext(b *Batch, subject string) {
	if ctx := contextOf(subject); ctx != "" && !r.contexts[ctx] {
		b.Contexts = append(b.Contexts, ctx)
	}
}

// ContextsOpts selects what Contexts lists. The zero value lists every
// context.
type ContextsOpts struct {
	// Prefix keeps contexts whose name (".ctx") starts with it. Default "".
	Prefix string
}

// Contexts lists the default context "." and every context a schema was
// registered in (and not deleted since), sorted, as GET /contexts does.
func (r *Registry) Contexts(opts ContextsOpts) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []string{}
	if strings.HasPrefix(DefaultContext, opts.Prefix) {
		out = append(out, DefaultContext)
	}
	var names []string
	for c := range r.contexts {
		if strings.HasPrefix(c, opts.Prefix) {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	return append(out, names...)
}

// DeleteContext removes a context from the list Contexts answers, as
// Confluent's DELETE /contexts/{context} does: its subjects, schemas and
// settings stay, and registering in it lists it again. The default context
// cannot be deleted (42205). Errors: 42205, 42208 (bad name), 50001.
func (r *Registry) DeleteContext(ctx context.Context, name string) error {
	c, ok := normalizeContextName(name)
	if !ok {
		return errf(http.StatusUnprocessableEntity, CodeInvalidSubject, "Invalid context %q: context names cannot contain a colon.", name)
	}
	if c == "" {
		return errNotPermitted("The default context cannot be deleted.")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.contexts[c] {
		return nil
	}
	return r.apply(ctx, Batch{DeleteContexts: []string{c}})
}

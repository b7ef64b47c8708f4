package registry

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// GET /contexts?contextPrefix=&offset=&limit= lists "." and every context.
func (s *Server) listContexts(c *gin.Context) {
	all := s.reg.Contexts(ContextsOpts{Prefix: c.Query("contextPrefix")})
	if lo, hi, ok := s.page(c, len(all), ListPageLimit); ok {
		s.ok(c, all[lo:hi])
	}
}

// DELETE /contexts/{context} removes a context from GET /contexts and
// answers 204 with no body, as Confluent does.
func (s *Server) deleteContext(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	if err := s.reg.DeleteContext(c.Request.Context(), c.Param("context")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rewrite applies the context and alias rewrites to r before routing (see
// ServeHTTP). The error is a 400 *Error for a context name with a colon.
func (s *Server) rewrite(r *http.Request) error {
	path, q := r.URL.EscapedPath(), r.URL.Query()
	changed := false
	if strings.HasPrefix(path, "/contexts/") {
		p, nq, err := contextRewrite(path, q)
		if err != nil {
			return err
		}
		path, q, changed = p, nq, true
	}
	if p, nq, ok := s.aliasRewrite(path, q); ok {
		path, q, changed = p, nq, true
	}
	if !changed {
		return nil
	}
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return errf(http.StatusBadRequest, CodeBadRequest, "Invalid path %q: %v", path, err)
	}
	r.URL.Path, r.URL.RawPath, r.URL.RawQuery = unescaped, path, q.Encode()
	r.RequestURI = r.URL.RequestURI()
	return nil
}

// startsWithContext reports whether an escaped subject segment or parameter
// names its context already.
func startsWithContext(s string) bool {
	if d, err := url.PathUnescape(s); err == nil {
		s = d
	}
	return strings.HasPrefix(s, ":.") || strings.HasPrefix(s, contextWildcard)
}

// contextRewrite turns /contexts/{context}/rest into rest with every subject
// qualified by the context, as Confluent's ContextFilter does: the segment
// after "subjects" (and after a leading "config" or "mode", which without a
// subject becomes the context's own ":.ctx:"), the subject query parameter
// of /schemas/ids/..., and subjectPrefix of /subjects and /schemas (absent,
// it becomes the context, so those lists stay in it). A subject already
// qualified is left alone. path is escaped; so is the result.
func contextRewrite(path string, q url.Values) (string, url.Values, error) {
	segs := strings.Split(strings.TrimPrefix(path, "/contexts/"), "/")
	raw, err := url.PathUnescape(segs[0])
	if err != nil {
		return "", nil, errf(http.StatusBadRequest, CodeBadRequest, "Invalid context %q: %v", segs[0], err)
	}
	ctx, ok := normalizeContextName(raw)
	if !ok {
		return "", nil, errf(http.StatusBadRequest, CodeBadRequest, "Context name cannot contain a colon: %q.", raw)
	}
	prefix := url.PathEscape(contextTop(ctx))
	var out []string
	subjectNext, configOrMode, first := false, false, true
	for _, seg := range segs[1:] {
		if subjectNext {
			if !startsWithContext(seg) {
				seg = prefix + seg
			}
			subjectNext = false
		} else if seg == "subjects" || (first && (seg == "config" || seg == "mode")) {
			subjectNext = true
			configOrMode = seg != "subjects"
		}
		out = append(out, seg)
		if seg != "" {
			first = false
		}
	}
	if configOrMode && subjectNext && ctx != "" {
		out = append(out, prefix)
	}
	rest := strings.Trim(strings.Join(out, "/"), "/")
	if rest == "" {
		// /contexts/{context} itself: Confluent's DELETE /contexts/{context}.
		return "/contexts/" + prefix, q, nil
	}
	switch {
	case strings.HasPrefix(rest, "schemas/ids"):
		if sub := q.Get("subject"); !startsWithContext(sub) {
			q.Set("subject", contextTop(ctx)+sub)
		}
	case rest == "schemas" || rest == "subjects":
		prefixes := q["subjectPrefix"]
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for i, p := range prefixes {
			if !startsWithContext(p) {
				prefixes[i] = contextTop(ctx) + p
			}
		}
		q["subjectPrefix"] = prefixes
	}
	return "/" + rest, q, nil
}

// aliasRewrite replaces a subject that has an alias with the aliased one, as
// Confluent's AliasFilter does: the segment after "subjects" (so
// /subjects/{s}/... and /compatibility/subjects/{s}/..., not /config/{s}
// or /mode/{s}, where the alias itself is managed) and the subject query
// parameter of /schemas/ids/.... It reports whether anything changed.
func (s *Server) aliasRewrite(path string, q url.Values) (string, url.Values, bool) {
	changed := false
	segs := strings.Split(path, "/")
	for i := 1; i < len(segs); i++ {
		if segs[i-1] != "subjects" || segs[i] == "" {
			continue
		}
		subject, err := url.PathUnescape(segs[i])
		if err != nil {
			continue
		}
		if target, ok := s.reg.aliasOf(subject); ok {
			segs[i], changed = url.PathEscape(target), true
		}
	}
	if strings.HasPrefix(path, "/schemas/ids") {
		if sub := q.Get("subject"); sub != "" {
			if target, ok := s.reg.aliasOf(sub); ok {
				q.Set("subject", target)
				changed = true
			}
		}
	}
	return strings.Join(segs, "/"), q, changed
}

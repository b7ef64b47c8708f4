package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageError is an error page with its HTTP status: 4xx for bad input or
// something that does not exist, 502/504 for a backend that failed.
type pageError struct {
	Status int
	Title  string
	Msg    string
}

func (e *pageError) Error() string { return e.Msg }

func badRequest(format string, args ...any) error {
	return &pageError{Status: http.StatusBadRequest, Title: "Bad request", Msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &pageError{Status: http.StatusNotFound, Title: "Not found", Msg: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &pageError{Status: http.StatusConflict, Title: "Conflict", Msg: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &pageError{Status: http.StatusForbidden, Title: "Forbidden", Msg: fmt.Sprintf(format, args...)}
}

// backendError is a failed call to a backend (Kafka, the registry, Jaeger,
// the order service): 504 when it timed out, 502 otherwise. what names the
// backend and what to check.
func backendError(what string, err error) error {
	status := http.StatusBadGateway
	if errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusGatewayTimeout
	}
	return &pageError{Status: status, Title: "Backend error", Msg: what + ": " + err.Error()}
}

// page is what every template gets.
type page struct {
	Title    string
	Nav      string // the section to highlight
	ReadOnly bool
	CSRF     string
	Elapsed  string
	Data     any
}

// handlerFunc renders one page: it returns the template name and its data,
// or an error (a *pageError, or any error for a 500).
type handlerFunc func(w http.ResponseWriter, r *http.Request) (tmpl string, p *page, err error)

// templates holds one template set per page: the layout plus the page.
type templates map[string]*template.Template

func parseTemplates() (templates, error) {
	funcs := template.FuncMap{
		"pathEscape":  url.PathEscape,
		"queryEscape": url.QueryEscape,
		"ago":         ago,
		"fmtTime":     fmtTime,
		"fmtDur":      fmtDuration,
		"add":         func(a, b int) int { return a + b },
		"add64":       func(a, b int64) int64 { return a + b },
		"pct":         func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
		"rfc3339":     func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"list":        func(s ...string) []string { return s },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := templates{}
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[strings.TrimSuffix(name, ".html")] = t
	}
	return out, nil
}

// pageTemplates are parsed once at init: a broken template fails every
// test, not a page at run time.
var pageTemplates = func() templates {
	t, err := parseTemplates()
	if err != nil {
		panic(err)
	}
	return t
}()

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(nav string, f handlerFunc) http.Handler { return c.render(nav, f) }
	mux.Handle("GET /{$}", h("home", c.home))
	mux.Handle("GET /search", h("", c.search))
	mux.Handle("GET /schemas", h("schemas", c.schemasPage))
	mux.Handle("GET /schemas/{subject}", h("schemas", c.subjectPage))
	mux.Handle("GET /schemas/{subject}/diff", h("schemas", c.diffPage))
	mux.Handle("GET /topics", h("topics", c.topicsPage))
	mux.Handle("GET /topics/{topic}", h("topics", c.topicPage))
	mux.Handle("GET /topics/{topic}/messages", h("topics", c.messagesPage))
	mux.Handle("GET /dlq", h("dlq", c.dlqPage))
	mux.Handle("GET /dlq/{topic}", h("dlq", c.dlqTopicPage))
	mux.Handle("GET /dlq/{topic}/replay", h("dlq", c.replayConfirmPage))
	mux.Handle("POST /dlq/{topic}/replay", h("dlq", c.replayPost))
	mux.Handle("GET /orders", h("orders", c.ordersPage))
	mux.Handle("GET /orders/{id}", h("orders", c.orderPage))
	mux.Handle("GET /traces", h("orders", c.traceSearch))
	mux.Handle("GET /traces/{ref}", h("orders", c.tracePage))
	sub, _ := fs.Sub(assetFS, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assets(http.FileServerFS(sub))))
	mux.Handle("/", h("", func(http.ResponseWriter, *http.Request) (string, *page, error) {
		return "", nil, notFound("No such page. Start from the home page.")
	}))
	return secure(mux)
}

// assets serves the embedded stylesheet with a day of caching.
func assets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}

// secure sets headers every answer carries: no script may run (the console
// has none), nothing may frame it, forms post only to itself.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// render runs f with the console's timeout and renders its page, or an
// error page. A panic in f is logged and answered 500: one bad page must
// not take the console down.
func (c *Console) render(nav string, f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), c.cfg.timeout)
		defer cancel()
		r = r.WithContext(ctx)
		var (
			name string
			p    *page
			err  error
		)
		func() {
			defer func() {
				if v := recover(); v != nil {
					c.cfg.logger.Error("console: page panicked", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
					err = fmt.Errorf("internal error: %v", v)
				}
			}()
			name, p, err = f(w, r)
		}()
		if err == nil && name == "" {
			return // f answered itself (a redirect)
		}
		status := http.StatusOK
		if err != nil {
			var pe *pageError
			if !errors.As(err, &pe) {
				pe = &pageError{Status: http.StatusInternalServerError, Title: "Internal error", Msg: err.Error()}
			}
			if pe.Status >= 500 {
				c.cfg.logger.Warn("console: page failed", "path", r.URL.Path, "status", pe.Status, "err", pe.Msg)
			}
			status, name, p = pe.Status, "error", &page{Title: pe.Title, Data: pe}
		}
		p.Nav = nav
		p.ReadOnly = c.cfg.readOnly
		p.CSRF = c.csrf
		p.Elapsed = fmtDuration(time.Since(began))
		var buf bytes.Buffer
		if terr := pageTemplates[name].Execute(&buf, p); terr != nil {
			c.cfg.logger.Error("console: template failed", "template", name, "err", terr)
			http.Error(w, "console: template "+name+" failed: "+terr.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	})
}

// redirect answers 303 See Other to target (a path of the console).
func redirect(w http.ResponseWriter, r *http.Request, target string) (string, *page, error) {
	http.Redirect(w, r, target, http.StatusSeeOther)
	return "", nil, nil
}

// ago renders how long ago t was, coarsely: "42s", "5m", "3h", "2d".
func ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000Z")
}

// fmtDuration formats d compactly: 850µs, 12.3ms, 1.20s.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1e3)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

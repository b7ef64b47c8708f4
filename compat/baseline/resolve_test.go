package baseline_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/baseline"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/schemas"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name   string
		spec   string
		opts   []baseline.Opt
		kind   baseline.Kind
		shown  string
		prefix string // FilePrefix("schemas/")
		err    string
		is     error
	}{
		{name: "git ref", spec: "git:origin/main", kind: baseline.KindGit, shown: "git:origin/main", prefix: "schemas/"},
		{name: "git history", spec: "git:main", opts: []baseline.Opt{baseline.Transitive(true)}, kind: baseline.KindGit, shown: "git:main", prefix: "schemas/"},
		{name: "registry", spec: "http://127.0.0.1:8081", kind: baseline.KindRegistry, shown: "http://127.0.0.1:8081", prefix: ""},
		{name: "registry credentials are not shown", spec: "https://ci:s3cret@registry.example.com", kind: baseline.KindRegistry, shown: "https://registry.example.com", prefix: ""},
		{name: "directory", spec: "../base/", kind: baseline.KindDir, shown: "../base/", prefix: "../base/"},
		{name: "dir: prefix", spec: "dir:./base", kind: baseline.KindDir, shown: "dir:./base", prefix: "base/"},
		{name: "a missing directory resolves", spec: "no/such/dir", kind: baseline.KindDir, shown: "no/such/dir", prefix: "no/such/dir/"},
		{name: "empty", spec: "", err: "--against is required"},
		{name: "registry URL that does not parse", spec: "http://ci:s3cret@[::1:bad/", err: "--against: regclient: ", is: regclient.ErrURL},
		{name: "transitive registry", spec: "http://127.0.0.1:8081", opts: []baseline.Opt{baseline.Transitive(true)}, err: "--transitive works with --against git:REF only"},
		{name: "transitive directory", spec: "base", opts: []baseline.Opt{baseline.Transitive(true)}, err: "--transitive works with --against git:REF only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := baseline.Resolve(tt.spec, tt.opts...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "s3cret") || (tt.is != nil && !errors.Is(err, tt.is)) {
					t.Fatalf("err %v, want one containing %q (wrapping %v) and no password", err, tt.err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Kind() != tt.kind || b.String() != tt.shown || b.FilePrefix("schemas/") != tt.prefix {
				t.Fatalf("kind %q, shown %q, prefix %q; want %q, %q, %q", b.Kind(), b.String(), b.FilePrefix("schemas/"), tt.kind, tt.shown, tt.prefix)
			}
		})
	}
}

// TestHistoryDir reads directory baselines: one snapshot labelled with the
// directory, or an error that says what is wrong.
func TestHistoryDir(t *testing.T) {
	good := filepath.Join("..", "testdata", "SUBJECT_DELETED", "previous")
	broken := t.TempDir()
	write(t, filepath.Join(broken, "manifest.yaml"), "version: 1\ntopics: [\n")
	tests := []struct {
		name    string
		spec    string
		entries int
		err     string
		is      error
	}{
		{name: "tree", spec: good, entries: 2},
		{name: "dir: prefix", spec: "dir:" + good, entries: 2},
		{name: "missing", spec: filepath.Join(good, "nope"), err: "is not git:REF, an http(s) registry URL or a directory"},
		{name: "not a directory", spec: filepath.Join(good, "manifest.yaml"), err: "is not git:REF"},
		{name: "no manifest", spec: t.TempDir(), err: "baseline ", is: schemas.ErrNoManifest},
		{name: "broken manifest", spec: broken, err: "baseline " + broken + ": schemas: "},
	}
	tree, next := loadTree(t, good)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := baseline.Resolve(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			h, err := b.History(context.Background(), tree, next)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || (tt.is != nil && !errors.Is(err, tt.is)) {
					t.Fatalf("err %v, want %q (wrapping %v)", err, tt.err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimPrefix(tt.spec, "dir:")
			if len(h) != 1 || len(h[0].Entries) != tt.entries || h[0].Label != want || !h[0].Complete {
				t.Fatalf("history %+v, want one complete snapshot of %d entries labelled %q", h, tt.entries, want)
			}
		})
	}
}

func loadTree(t *testing.T, dir string) (*schemas.Set, compat.Snapshot) {
	t.Helper()
	set, err := schemas.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := compat.SnapshotOf(set, compat.WorkingTree)
	if err != nil {
		t.Fatal(err)
	}
	return set, snap
}

// TestHistoryGit reads git baselines through Resolve: a ref, its history,
// a ref from before the schema directory (a note, no versions), an older
// version that does not load (skipped with a note) and a newest one that
// does not load (an error).
func TestHistoryGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	dir := filepath.Join(repo, "schemas")
	src := filepath.Join("..", "testdata", "SUBJECT_DELETED", "previous")
	write(t, filepath.Join(repo, "README"), "before schemas")
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "0: no schemas")
	write(t, filepath.Join(dir, "manifest.yaml"), "version: 1\ntopics: [\n")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "1: broken manifest")
	if err := os.CopyFS(filepath.Join(repo, "good"), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(repo, "good"), dir); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-q", "-m", "2: good")
	tree, next := loadTree(t, dir)

	tests := []struct {
		name     string
		spec     string
		opts     []baseline.Opt
		versions int
		notes    []string // each in the note of the same index
		progress int      // OnProgress calls
		err      string
		is       error // the error wraps it
		invalid  bool  // the error wraps a *schemas.Error
	}{
		{name: "ref", spec: "git:main", versions: 1},
		{name: "history skips a version that does not load", spec: "git:main", opts: []baseline.Opt{baseline.Transitive(true)},
			versions: 1, notes: []string{"skipping git:main@"}, progress: 2},
		{name: "before the schema directory", spec: "git:main~2", notes: []string{"has no schemas/: every subject is new"}},
		{name: "newest version does not load", spec: "git:main~1", err: "git:main~1@", invalid: true},
		{name: "unknown ref", spec: "git:nope", err: "fetch it first", is: baseline.ErrGit},
		{name: "not in a repository", spec: "git:main", opts: []baseline.Opt{baseline.SchemaDir(t.TempDir())}, err: "--against git:main: ", is: baseline.ErrGit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var notes []string
			progress := 0
			opts := append([]baseline.Opt{
				baseline.SchemaDir(dir),
				baseline.OnNote(func(msg string) { notes = append(notes, msg) }),
				baseline.OnProgress(func(done, total int) {
					progress++
					if done != progress || total != tt.progress {
						t.Errorf("progress %d/%d, want %d/%d", done, total, progress, tt.progress)
					}
				}),
			}, tt.opts...)
			b, err := baseline.Resolve(tt.spec, opts...)
			if err != nil {
				t.Fatal(err)
			}
			h, err := b.History(context.Background(), tree, next)
			if tt.err != "" {
				var se *schemas.Error
				if err == nil || !strings.Contains(err.Error(), tt.err) || (tt.is != nil && !errors.Is(err, tt.is)) || errors.As(err, &se) != tt.invalid {
					t.Fatalf("err %v, want %q wrapping %v (a *schemas.Error: %v)", err, tt.err, tt.is, tt.invalid)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != tt.versions || progress != tt.progress || len(notes) != len(tt.notes) {
				t.Fatalf("%d versions, %d progress calls, notes %q; want %d, %d, %q", len(h), progress, notes, tt.versions, tt.progress, tt.notes)
			}
			for i, n := range tt.notes {
				if !strings.Contains(notes[i], n) {
					t.Errorf("note %q, want %q", notes[i], n)
				}
			}
		})
	}
}

// TestHistoryRegistry reads a registry baseline through Resolve, with
// credentials that may or may not list subjects: a subject the tree owns
// but lacks is read unless DeletedSubjects(false), and a refused listing
// is an error that names the way out.
func TestHistoryRegistry(t *testing.T) {
	srvURL, cl := startRegistry(t)
	ctx := context.Background()
	for subj, text := range map[string]string{
		"orders-shop.orders.Placed":    record("shop.orders", "Placed"),
		"orders-shop.orders.Cancelled": record("shop.orders", "Cancelled"),
	} {
		if _, err := cl.CreateSchema(ctx, subj, sr.Schema{Schema: text}); err != nil {
			t.Fatal(err)
		}
	}
	target, err := url.Parse(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var listed atomic.Int64
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimSuffix(r.URL.Path, "/") == "/subjects" {
			listed.Add(1)
			w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error_code":40301,"message":"denied"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(refusing.Close)

	tree := ownedTree(t)
	next, err := compat.SnapshotOf(tree, compat.WorkingTree)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		url      string
		opts     []baseline.Opt
		subjects []string // in the newest snapshot
		complete bool
		listings int64
		err      string
	}{
		{name: "deleted subjects listed", url: srvURL, subjects: []string{"orders-shop.orders.Placed", "orders-shop.orders.Cancelled"}, complete: true},
		{name: "deleted subjects skipped", url: srvURL, opts: []baseline.Opt{baseline.DeletedSubjects(false)}, subjects: []string{"orders-shop.orders.Placed"}},
		{name: "listing refused", url: refusing.URL, listings: 1, err: "pass --deleted-subjects=false"},
		{name: "listing refused, not needed", url: refusing.URL, opts: []baseline.Opt{baseline.DeletedSubjects(false)}, subjects: []string{"orders-shop.orders.Placed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := listed.Load()
			b, err := baseline.Resolve(tt.url, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			h, err := b.History(ctx, tree, next)
			if got := listed.Load() - before; got != tt.listings {
				t.Errorf("%d refused listings, want %d", got, tt.listings)
			}
			if tt.err != "" {
				if !errors.Is(err, baseline.ErrListSubjects) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want ErrListSubjects and %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range h[len(h)-1].Entries {
				got = append(got, e.Subject)
			}
			if !slices.Equal(got, tt.subjects) || h[len(h)-1].Complete != tt.complete {
				t.Fatalf("subjects %v (complete %v), want %v (%v)", got, h[len(h)-1].Complete, tt.subjects, tt.complete)
			}
		})
	}
}

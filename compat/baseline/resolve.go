package baseline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/schemas"
)

// Kind says where a baseline's versions come from.
type Kind string

// The kinds of baseline Resolve understands.
const (
	// KindGit is "git:REF": the schema directory at a git ref, or every
	// version of it in the ref's history (Transitive).
	KindGit Kind = "git"
	// KindRegistry is "http(s)://URL": every version registered at a
	// Confluent-compatible schema registry.
	KindRegistry Kind = "registry"
	// KindDir is any other spec (optionally "dir:DIR"): another schema tree
	// on disk.
	KindDir Kind = "dir"
)

// Opt tunes Resolve. Each option's doc names the default it overrides.
type Opt interface{ apply(*config) }

type optFunc func(*config)

func (f optFunc) apply(c *config) { f(c) }

type config struct {
	schemaDir  string
	transitive bool
	noDeleted  bool
	registry   []regclient.Opt
	onNote     func(string)
	onProgress func(done, total int)
}

// defaults returns the configuration every option starts from.
func defaults() config { return config{schemaDir: "schemas"} }

// SchemaDir names the working tree's schema directory (the one holding
// manifest.yaml). A git baseline reads the same directory of the repository
// that holds it. Default "schemas".
func SchemaDir(dir string) Opt {
	return optFunc(func(c *config) {
		if dir != "" {
			c.schemaDir = dir
		}
	})
}

// Transitive, with a git baseline, reads every version of the schema
// directory in REF's history (each commit that changed it), not REF alone:
// *_TRANSITIVE levels need it. Default false. Resolve rejects it for the
// other kinds: a registry baseline always has every version, a directory
// has one.
func Transitive(on bool) Opt { return optFunc(func(c *config) { c.transitive = on }) }

// DeletedSubjects, with a registry baseline, says whether History lists the
// registry's subjects to report the ones the tree owns but no longer has
// (see RegistryOwned). Default true; false checks only the tree's subjects,
// for credentials that may not list subjects, and deleted subjects then go
// unreported.
func DeletedSubjects(on bool) Opt { return optFunc(func(c *config) { c.noDeleted = !on }) }

// RegistryOpts adds to how a registry baseline's client is built
// (credentials, environment, TLS; see regclient.New). Default none: the URL's
// userinfo, else $CONTRAIL_REGISTRY_USER and $CONTRAIL_REGISTRY_PASSWORD.
func RegistryOpts(opts ...regclient.Opt) Opt {
	return optFunc(func(c *config) { c.registry = append(c.registry, opts...) })
}

// OnNote sets a hook History calls, synchronously, with one line (no
// trailing newline, no program name) for each thing a reader of the result
// should know that is not a finding: an older git version that does not load
// and is skipped, and a git baseline without the schema directory (every
// subject is new). Default: notes are dropped. nil keeps the default.
func OnNote(f func(msg string)) Opt { return optFunc(func(c *config) { c.onNote = f }) }

// OnProgress sets a hook History calls, synchronously, after reading each
// version of a git baseline that has more than one (Transitive), with the
// versions read so far and the total; done == total on the last call. It is
// never called for a single version. Default: none. nil keeps the default.
func OnProgress(f func(done, total int)) Opt {
	return optFunc(func(c *config) { c.onProgress = f })
}

// Baseline is a resolved baseline spec: where the versions a schema tree is
// checked against come from. Build one with Resolve; read its versions with
// History. A Baseline is immutable; History is safe for concurrent use when
// the hooks are.
type Baseline struct {
	kind  Kind
	shown string // the spec as labels and messages show it: no password
	ref   string // KindGit: the ref
	dir   string // KindDir: the directory
	url   string // KindRegistry: the URL as given, credentials included
	cfg   config
}

// Resolve parses spec, which is what `contrail check --against` takes:
//
//	git:REF         the schema directory at a git ref (Transitive: its history)
//	http(s)://URL   a Confluent-compatible registry; credentials from the
//	                URL's userinfo or as RegistryOpts and regclient say
//	DIR, dir:DIR    another schema tree on disk
//
// Resolve touches neither git, the network nor the disk, so a spec is
// rejected only for its form: it is empty, a registry URL that does not
// parse, or Transitive with a kind other than git. History reports a ref
// git does not know, an unreachable registry or a missing directory. Error
// messages name the `contrail check` flags (--against, --transitive) that
// set spec and the options, and never contain a password.
func Resolve(spec string, opts ...Opt) (*Baseline, error) {
	cfg := defaults()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	b := &Baseline{shown: spec, cfg: cfg}
	switch {
	case spec == "":
		return nil, errors.New("--against is required: git:REF, a registry URL or a directory")
	case strings.HasPrefix(spec, "git:"):
		b.kind, b.ref = KindGit, strings.TrimPrefix(spec, "git:")
	case strings.HasPrefix(spec, "http://"), strings.HasPrefix(spec, "https://"):
		// Labels and errors show the URL without its credentials.
		shown, _, err := regclient.Parse(spec, cfg.registry...)
		if err != nil {
			return nil, fmt.Errorf("--against: %w", err)
		}
		b.kind, b.url, b.shown = KindRegistry, spec, shown
	default:
		b.kind, b.dir = KindDir, strings.TrimPrefix(spec, "dir:")
	}
	if cfg.transitive && b.kind != KindGit {
		return nil, errors.New("--transitive works with --against git:REF only (a registry baseline always has every version)")
	}
	return b, nil
}

// Kind says where the baseline's versions come from.
func (b *Baseline) Kind() Kind { return b.kind }

// String is the spec as labels and messages show it: as given, except that
// a registry URL loses its userinfo.
func (b *Baseline) String() string { return b.shown }

// FilePrefix is what a report puts before the file names of findings in
// baseline versions (see report.Result.BaselinePrefix), given treePrefix,
// the one it puts before the working tree's: treePrefix for git (the same
// directory at another commit), the directory for a directory baseline, and
// "" for a registry, whose schemas have no files.
func (b *Baseline) FilePrefix(treePrefix string) string {
	switch b.kind {
	case KindGit:
		return treePrefix
	case KindDir:
		return filepath.ToSlash(filepath.Clean(b.dir)) + "/"
	}
	return ""
}

// History reads the baseline's versions of the schema tree tree, whose
// snapshot is next, as compat.CheckTree takes them: oldest first, the last
// is the baseline proper.
//
// A git baseline reads the ref (every version in its history with
// Transitive) from the repository holding the SchemaDir; a version without
// the schema directory is skipped with a note (nothing to be compatible
// with), and so is an older version that does not load; the ref itself
// must load. A registry baseline reads every version of next's subjects
// and, unless DeletedSubjects(false), of the subjects the tree owns there
// (OwnershipOf), so that deleted ones are reported. A directory baseline
// loads the directory.
//
// Errors name what failed and what to do. Those about baseline contents
// that do not load wrap the cause: *schemas.Error (via schemas.ErrorList),
// schemas.ErrNoManifest or ErrInvalidSchema. A git failure wraps ErrGit, a
// registry failure ErrRegistry (and ErrListSubjects when listing the
// subjects was refused).
func (b *Baseline) History(ctx context.Context, tree *schemas.Set, next compat.Snapshot) ([]compat.Snapshot, error) {
	switch b.kind {
	case KindGit:
		return b.gitHistory(ctx)
	case KindRegistry:
		return b.registryHistory(ctx, tree, next)
	}
	return b.dirHistory()
}

func (b *Baseline) gitHistory(ctx context.Context) ([]compat.Snapshot, error) {
	repo, err := OpenRepo(ctx, b.cfg.schemaDir)
	if err != nil {
		return nil, fmt.Errorf("--against %s: %w", b.shown, err)
	}
	var versions []Version
	if b.cfg.transitive {
		if versions, err = repo.History(ctx, b.ref); err != nil {
			return nil, err
		}
	} else {
		v, err := repo.Tree(ctx, b.ref)
		if err != nil {
			return nil, err
		}
		versions = []Version{v}
	}
	var history []compat.Snapshot
	for i, v := range versions {
		last := i == len(versions)-1
		if b.cfg.onProgress != nil && len(versions) > 1 {
			b.cfg.onProgress(i+1, len(versions))
		}
		label := v.Label(b.ref)
		if entries, err := fs.ReadDir(v.FS, "."); err == nil && len(entries) == 0 {
			// The schema directory does not exist at this commit (the
			// change that adopts Contrail, or one before it): there is
			// nothing to be compatible with, which is not invalid input.
			if last {
				b.note("%s has no %s: every subject is new, nothing to compare with", label, schemaDirName(repo, b.cfg.schemaDir))
			}
			continue
		}
		snap, err := snapshotFS(v.FS, label)
		if err == nil {
			history = append(history, snap)
			continue
		}
		if last {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		// An old commit that did not load is skipped, visibly.
		b.note("skipping %s: it does not load: %v", label, firstLine(err))
	}
	return history, nil
}

// snapshotFS loads the schema tree in fsys as a snapshot labelled label.
func snapshotFS(fsys fs.FS, label string) (compat.Snapshot, error) {
	set, err := schemas.LoadFS(fsys)
	if err != nil {
		return compat.Snapshot{}, err
	}
	return compat.SnapshotOf(set, label)
}

func (b *Baseline) registryHistory(ctx context.Context, tree *schemas.Set, next compat.Snapshot) ([]compat.Snapshot, error) {
	var subjects []string
	levels := map[string]compat.Level{}
	for _, e := range next.Entries {
		subjects = append(subjects, e.Subject)
		levels[e.Subject] = e.Level
	}
	// Registry subjects the tree owns but no longer has are reported as
	// deleted; other teams' subjects in a shared registry are not.
	var own Ownership // owns nothing: deleted subjects go unreported
	if !b.cfg.noDeleted {
		own = OwnershipOf(tree)
	}
	h, err := RegistryOwned(ctx, b.url, subjects, levels, own, b.cfg.registry...)
	if errors.Is(err, ErrListSubjects) {
		return nil, fmt.Errorf("%w; grant the credentials read on the subject list, or pass --deleted-subjects=false to check only the tree's subjects (deleted subjects then go unreported)", err)
	}
	return h, err
}

func (b *Baseline) dirHistory() ([]compat.Snapshot, error) {
	if st, err := os.Stat(b.dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--against %q is not git:REF, an http(s) registry URL or a directory", b.shown)
	}
	set, err := schemas.Load(b.dir)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", b.dir, err)
	}
	snap, err := compat.SnapshotOf(set, b.dir)
	if err != nil {
		return nil, err
	}
	return []compat.Snapshot{snap}, nil
}

func (b *Baseline) note(format string, args ...any) {
	if b.cfg.onNote != nil {
		b.cfg.onNote(fmt.Sprintf(format, args...))
	}
}

// schemaDirName names the schema directory as the repository knows it
// ("schemas/"), for messages.
func schemaDirName(repo *Repo, dir string) string {
	if p := repo.Prefix(); p != "" {
		return p
	}
	return filepath.ToSlash(filepath.Clean(dir)) + "/"
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

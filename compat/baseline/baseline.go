// Package baseline reads the earlier versions a schema tree is checked
// against: a git ref (read with git itself, never checking anything out),
// every version in that ref's history, a Confluent-compatible schema
// registry, or another schema tree on disk. Resolve turns what
// `contrail check --against` takes into a Baseline, whose History reads
// them; OpenRepo, Registry and RegistryOwned are the parts it uses.
package baseline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing/fstest"
	"time"
)

// ErrGit is wrapped by every error from running git.
var ErrGit = errors.New("baseline: git")

// Repo is a schema directory inside a git working tree.
type Repo struct {
	top    string // the working tree's top directory
	prefix string // the schema directory relative to top, slash-separated, with a trailing slash ("" at the top)
}

// OpenRepo finds the git repository that holds schemaDir. It returns an
// error wrapping ErrGit when schemaDir is not inside a git working tree or
// git is not installed.
func OpenRepo(ctx context.Context, schemaDir string) (*Repo, error) {
	top, err := git(ctx, schemaDir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	prefix, err := git(ctx, schemaDir, nil, "rev-parse", "--show-prefix")
	if err != nil {
		return nil, err
	}
	return &Repo{top: strings.TrimSpace(string(top)), prefix: strings.TrimSpace(string(prefix))}, nil
}

// Prefix is the schema directory relative to the repository's top,
// slash-separated with a trailing slash ("" when it is the top itself).
// Annotations use it to name files as the pull request shows them.
func (r *Repo) Prefix() string { return r.prefix }

// PathPrefix is the schema directory dir as the top of the git working tree
// holding it sees it, slash-separated with a trailing slash ("schemas/"):
// what reports put before the tree's file names so that annotations land on
// the files a pull request shows. Outside a git working tree (or without
// git) it is dir itself, cleaned ("/tmp/x/schemas/").
func PathPrefix(ctx context.Context, dir string) string {
	if repo, err := OpenRepo(ctx, dir); err == nil {
		return repo.Prefix()
	}
	return filepath.ToSlash(filepath.Clean(dir)) + "/"
}

// Version is the schema tree at one commit.
type Version struct {
	Commit string    // full hash
	Time   time.Time // commit time
	FS     fs.FS     // the schema directory at that commit
}

// Label names the version in findings, e.g. "git:main@1a2b3c4".
func (v Version) Label(ref string) string {
	if len(v.Commit) >= 7 {
		return "git:" + ref + "@" + v.Commit[:7]
	}
	return "git:" + ref
}

// Tree returns the schema directory as it is at ref. It returns an error
// wrapping ErrGit that names the ref when git cannot resolve it.
func (r *Repo) Tree(ctx context.Context, ref string) (Version, error) {
	out, err := git(ctx, r.top, nil, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return Version{}, fmt.Errorf("%w: unknown ref %q: fetch it first (in CI: actions/checkout with fetch-depth: 0, or git fetch origin %s)", ErrGit, ref, ref)
	}
	commit := strings.TrimSpace(string(out))
	ct, err := git(ctx, r.top, nil, "show", "-s", "--format=%ct", commit)
	if err != nil {
		return Version{}, err
	}
	return r.at(ctx, commit, string(ct))
}

// History returns the schema directory at every commit reachable from ref
// that changed it, oldest first, ending with ref itself.
func (r *Repo) History(ctx context.Context, ref string) ([]Version, error) {
	tip, err := r.Tree(ctx, ref)
	if err != nil {
		return nil, err
	}
	args := []string{"log", "--format=%H %ct", "--reverse", tip.Commit, "--"}
	if r.prefix != "" {
		args = append(args, r.prefix)
	}
	out, err := git(ctx, r.top, nil, args...)
	if err != nil {
		return nil, err
	}
	var vs []Version
	for line := range strings.Lines(string(out)) {
		c, ct, _ := strings.Cut(strings.TrimSpace(line), " ")
		if c == "" || c == tip.Commit {
			continue
		}
		v, err := r.at(ctx, c, ct)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return append(vs, tip), nil
}

// at reads the schema directory at commit, whose commit time is ct (Unix
// seconds, as git prints %ct).
func (r *Repo) at(ctx context.Context, commit, ct string) (Version, error) {
	secs, _ := strconv.ParseInt(strings.TrimSpace(ct), 10, 64)
	args := []string{"ls-tree", "-r", "-z", "--full-tree", commit}
	if r.prefix != "" {
		args = append(args, "--", r.prefix)
	}
	out, err := git(ctx, r.top, nil, args...)
	if err != nil {
		return Version{}, err
	}
	// Entries: "<mode> <type> <hash>\t<path>\0".
	var names, hashes []string
	for _, ent := range strings.Split(string(out), "\x00") {
		meta, p, ok := strings.Cut(ent, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if len(f) != 3 || f[1] != "blob" {
			continue
		}
		rel := strings.TrimPrefix(p, r.prefix)
		if rel == p && r.prefix != "" {
			continue
		}
		base := path.Base(rel)
		if !strings.HasSuffix(base, ".avsc") && !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") {
			continue
		}
		names = append(names, rel)
		hashes = append(hashes, f[2])
	}
	blobs, err := catFiles(ctx, r.top, hashes)
	if err != nil {
		return Version{}, err
	}
	m := fstest.MapFS{}
	for i, n := range names {
		m[n] = &fstest.MapFile{Data: blobs[i], Mode: 0o644}
	}
	return Version{Commit: commit, Time: time.Unix(secs, 0).UTC(), FS: m}, nil
}

// catFiles reads blobs with one `git cat-file --batch`.
func catFiles(ctx context.Context, dir string, hashes []string) ([][]byte, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	in := strings.Join(hashes, "\n") + "\n"
	out, err := git(ctx, dir, strings.NewReader(in), "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(bytes.NewReader(out))
	blobs := make([][]byte, 0, len(hashes))
	for range hashes {
		hdr, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("%w: cat-file: %v", ErrGit, err)
		}
		f := strings.Fields(hdr)
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: cat-file: unexpected %q", ErrGit, hdr)
		}
		n, _ := strconv.Atoi(f[2])
		b := make([]byte, n+1) // content + trailing newline
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, fmt.Errorf("%w: cat-file: %v", ErrGit, err)
		}
		blobs = append(blobs, b[:n])
	}
	return blobs, nil
}

func git(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("%w %s: %s", ErrGit, args[0], msg)
	}
	return out, nil
}

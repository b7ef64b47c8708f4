package baseline_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/compat/baseline"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHistory builds a repository whose schema dir changes in commits 1 and
// 3 (commit 2 touches only other files), and reads it back from git.
func TestHistory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	repo := t.TempDir()
	git(t, repo, "init", "-q", "-b", "main")
	write(t, filepath.Join(repo, "schemas", "a", "A.avsc"), "v1")
	write(t, filepath.Join(repo, "schemas", "manifest.yaml"), "m1")
	write(t, filepath.Join(repo, "schemas", "notes.txt"), "ignored")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "1")
	write(t, filepath.Join(repo, "README"), "x")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "2")
	write(t, filepath.Join(repo, "schemas", "a", "A.avsc"), "v3")
	git(t, repo, "commit", "-q", "-am", "3")
	// The working tree differs from every commit: Tree must read git, not disk.
	write(t, filepath.Join(repo, "schemas", "a", "A.avsc"), "dirty")

	r, err := baseline.OpenRepo(ctx, filepath.Join(repo, "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Prefix() != "schemas/" {
		t.Fatalf("prefix %q", r.Prefix())
	}
	tip, err := r.Tree(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := fs.ReadFile(tip.FS, "a/A.avsc"); string(b) != "v3" {
		t.Fatalf("tip A.avsc = %q", b)
	}
	if _, err := fs.ReadFile(tip.FS, "notes.txt"); err == nil {
		t.Fatal("non-schema files should be left out")
	}
	hist, err := r.History(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range hist {
		b, _ := fs.ReadFile(v.FS, "a/A.avsc")
		got = append(got, string(b))
	}
	if len(got) != 2 || got[0] != "v1" || got[1] != "v3" || hist[1].Commit != tip.Commit {
		t.Fatalf("history %v", got)
	}
	for _, v := range append(hist, tip) {
		out, err := exec.Command("git", "-C", repo, "show", "-s", "--format=%ct", v.Commit).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSpace(string(out)); strconv.FormatInt(v.Time.Unix(), 10) != want || v.Time.Location() != time.UTC {
			t.Errorf("commit %s: Time %v, want %s seconds in UTC", v.Commit, v.Time, want)
		}
	}
	if _, err := r.Tree(ctx, "nope"); !errors.Is(err, baseline.ErrGit) {
		t.Fatalf("unknown ref: %v", err)
	}
	if _, err := baseline.OpenRepo(ctx, t.TempDir()); !errors.Is(err, baseline.ErrGit) {
		t.Fatalf("not a repo: %v", err)
	}
}

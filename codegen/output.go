package codegen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Diff is how an output directory differs from generated files. Paths are
// slash paths relative to the output directory.
type Diff struct {
	// Stale files exist with different content.
	Stale []string
	// Missing files do not exist.
	Missing []string
	// Extra files are generated files (they start with GeneratedHeader) in a
	// package directory that the schemas no longer produce.
	Extra []string
}

// Empty reports whether the directory matches.
func (d Diff) Empty() bool { return len(d.Stale)+len(d.Missing)+len(d.Extra) == 0 }

// String lists the differences, one per line.
func (d Diff) String() string {
	var b strings.Builder
	for _, p := range d.Stale {
		fmt.Fprintf(&b, "stale:   %s\n", p)
	}
	for _, p := range d.Missing {
		fmt.Fprintf(&b, "missing: %s\n", p)
	}
	for _, p := range d.Extra {
		fmt.Fprintf(&b, "extra:   %s\n", p)
	}
	return b.String()
}

// Compare reports how outDir differs from files. It only reads.
func Compare(outDir string, files []File) (Diff, error) {
	var d Diff
	want := map[string]bool{}
	for _, f := range files {
		want[f.Path] = true
		got, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			d.Missing = append(d.Missing, f.Path)
		case err != nil:
			return Diff{}, fmt.Errorf("codegen: compare: %w", err)
		case f.Once:
			// The user's file now: whatever it holds is current.
		case !bytes.Equal(got, f.Data):
			d.Stale = append(d.Stale, f.Path)
		}
	}
	extra, err := extraFiles(outDir, want)
	if err != nil {
		return Diff{}, err
	}
	d.Extra = extra
	sort.Strings(d.Stale)
	sort.Strings(d.Missing)
	sort.Strings(d.Extra)
	return d, nil
}

// extraFiles lists the Go files directly inside outDir's subdirectories
// that start with GeneratedHeader and are not in want (which Compare has
// read already).
func extraFiles(outDir string, want map[string]bool) ([]string, error) {
	dirs, err := os.ReadDir(outDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	var out []string
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(outDir, d.Name()))
		if err != nil {
			return nil, fmt.Errorf("codegen: %w", err)
		}
		for _, e := range entries {
			p := d.Name() + "/" + e.Name()
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || want[p] {
				continue
			}
			ok, err := isGenerated(filepath.Join(outDir, d.Name(), e.Name()))
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func isGenerated(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, fmt.Errorf("codegen: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	return strings.HasPrefix(line, GeneratedHeader), nil
}

// Write makes outDir match files: it writes stale and missing files (each
// to a temporary file in the same directory, then renamed over the target;
// a File with Once only when missing) and removes extra generated files. It returns what it changed. Callers
// generate everything first, so a schema error never leaves partial output.
func Write(outDir string, files []File) (Diff, error) {
	d, err := Compare(outDir, files)
	if err != nil {
		return Diff{}, err
	}
	change := map[string]bool{}
	for _, p := range append(append([]string(nil), d.Stale...), d.Missing...) {
		change[p] = true
	}
	for _, f := range files {
		if !change[f.Path] {
			continue
		}
		target := filepath.Join(outDir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return Diff{}, fmt.Errorf("codegen: write: %w", err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(target), ".contrail-gen-*")
		if err != nil {
			return Diff{}, fmt.Errorf("codegen: write: %w", err)
		}
		_, werr := tmp.Write(f.Data)
		cerr := tmp.Close()
		if werr == nil && cerr == nil {
			if err := os.Chmod(tmp.Name(), 0o644); err != nil {
				werr = err
			}
		}
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), target)
		}
		if werr != nil {
			os.Remove(tmp.Name())
			return Diff{}, fmt.Errorf("codegen: write %s: %w", f.Path, werr)
		}
	}
	for _, p := range d.Extra {
		if err := os.Remove(filepath.Join(outDir, filepath.FromSlash(p))); err != nil {
			return Diff{}, fmt.Errorf("codegen: remove %s: %w", p, err)
		}
	}
	return d, nil
}

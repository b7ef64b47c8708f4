package codegen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// ImportPathOf returns the Go import path of dir and the root of the module
// holding it, found by walking up to the nearest go.mod. dir need not exist
// yet.
func ImportPathOf(dir string) (importPath, moduleRoot string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", fmt.Errorf("codegen: %w", err)
	}
	for root := abs; ; {
		data, err := os.ReadFile(filepath.Join(root, "go.mod"))
		if err == nil {
			mod := modfile.ModulePath(data)
			if mod == "" {
				return "", "", fmt.Errorf("codegen: %s has no module line", filepath.Join(root, "go.mod"))
			}
			rel, err := filepath.Rel(root, abs)
			if err != nil {
				return "", "", fmt.Errorf("codegen: %w", err)
			}
			if rel == "." {
				return mod, root, nil
			}
			return mod + "/" + filepath.ToSlash(rel), root, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("codegen: %w", err)
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", "", fmt.Errorf("codegen: no go.mod above %s: the output directory must be inside a Go module", abs)
		}
		root = parent
	}
}

// RelSlash returns target relative to root as a slash path, or target
// as given when it is not below root.
func RelSlash(root, target string) string {
	abs, err := filepath.Abs(target)
	if err != nil {
		return filepath.ToSlash(target)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(target)
	}
	return filepath.ToSlash(rel)
}

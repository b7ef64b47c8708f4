package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultDir is where contract files live in a repository, relative to its
// top: contracts/<consumer>/<subject>.json.
const DefaultDir = "contracts"

// FileName returns c's file name relative to a contracts directory:
// "<consumer>/<subject>.json" (the subject path-escaped should it hold a '/').
func FileName(c *Contract) string {
	return c.Consumer + "/" + url.PathEscape(c.Subject) + ".json"
}

// Marshal returns c as an indented JSON document, as Write writes it. The
// reader schema is indented too, so diffs of committed contracts are readable.
func Marshal(c *Contract) ([]byte, error) {
	var schema bytes.Buffer
	if err := json.Indent(&schema, c.Schema, "  ", "  "); err != nil {
		return nil, fmt.Errorf("%w: %s: reader schema is not JSON: %v", ErrInvalid, c.Label(), err)
	}
	cc := *c
	cc.Schema = schema.Bytes()
	if cc.Fields == nil {
		cc.Fields = []string{}
	}
	b, err := json.MarshalIndent(&cc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("contract: marshal %s: %w", c.Label(), err)
	}
	return append(b, '\n'), nil
}

// Unmarshal parses and validates one contract document. name is used in
// errors. Unknown keys are an error, so a misspelt "fields" is never ignored.
func Unmarshal(name string, data []byte) (*Contract, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Contract
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s: %v (a contract is a JSON object with format, consumer, subject, event, fields and schema)", ErrInvalid, name, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &c, nil
}

// Write writes each contract to dir/<consumer>/<subject>.json, creating
// directories as needed, and returns the files written (slash paths relative
// to dir), sorted. Files of other contracts are left alone. It returns an
// error when two contracts map to one file or a write fails.
func Write(dir string, cs []*Contract) ([]string, error) {
	seen := map[string]string{}
	var files []string
	for _, c := range cs {
		name := FileName(c)
		if other, dup := seen[name]; dup {
			return files, fmt.Errorf("contract: %s and %s would both be written to %s: give the events distinct subjects", other, c.Key(), name)
		}
		seen[name] = c.Key()
		b, err := Marshal(c)
		if err != nil {
			return files, err
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return files, fmt.Errorf("contract: %w", err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return files, fmt.Errorf("contract: %w", err)
		}
		files = append(files, name)
	}
	slices.Sort(files)
	return files, nil
}

// Load reads every contract file (*.json) under dir. A missing dir is
// no contracts, not an error. Every malformed file is reported (errors wrap
// ErrInvalid and name the file), not just the first. Contracts come sorted.
func Load(dir string) ([]*Contract, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS is Load over fsys; prefix is put before file names in errors.
func LoadFS(fsys fs.FS, prefix string) ([]*Contract, error) {
	var out []*Contract
	var errs []error
	seen := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(p) != ".json" {
			return nil
		}
		name := p
		if prefix != "" {
			name = strings.TrimSuffix(filepath.ToSlash(prefix), "/") + "/" + p
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		c, err := Unmarshal(name, data)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if other, dup := seen[c.Key()]; dup {
			errs = append(errs, fmt.Errorf("%w: %s and %s hold the same contract %s: delete one", ErrInvalid, other, name, c.Key()))
			return nil
		}
		seen[c.Key()] = name
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("contract: read %s: %w", prefix, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	SortContracts(out)
	return out, nil
}

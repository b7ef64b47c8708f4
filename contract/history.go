package contract

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/schemas"
)

// HistoryDir is where golden payloads live, relative to the repository:
// schemas/history/<event full name>/<fingerprint>/{schema.json,<example>.avro}.
// The fingerprint is the first 12 hex digits of the SHA-256 of the writer
// schema's Parsing Canonical Form, so a version that only changes docs or
// defaults (same bytes on the wire) shares its predecessor's directory.
const HistoryDir = "schemas/history"

// WriterFile is the name of the writer schema file in a history directory.
const WriterFile = "schema.json"

// Version is one historical writer schema of an event and the examples it
// encoded: golden payloads every current reader must still decode.
type Version struct {
	// Event is the event's full name; Fingerprint names the version.
	Event, Fingerprint string
	// Dir is the version's directory (slash path as given to LoadHistory).
	Dir string
	// Writer is the schema the payloads were written with.
	Writer avro.Schema
	// Payloads maps example name to its Avro binary encoding (no wire header).
	Payloads map[string][]byte
}

// Fingerprint returns the short fingerprint naming s's history directory.
func Fingerprint(s avro.Schema) string {
	fp := s.Fingerprint()
	return hex.EncodeToString(fp[:6])
}

// Snapshot encodes every example with its event's current schema in set and
// writes them under dir/<event>/<fingerprint>/ with the writer schema,
// leaving other versions' directories alone: that is the history. It
// returns the directories written, sorted. An unchanged schema rewrites the
// same bytes, so snapshotting on every schema change is safe.
func Snapshot(dir string, set *schemas.Set, examples []*Example) ([]string, error) {
	byEvent := map[string][]*Example{}
	for _, ex := range examples {
		byEvent[ex.Event] = append(byEvent[ex.Event], ex)
	}
	var written []string
	events := make([]string, 0, len(byEvent))
	for ev := range byEvent {
		events = append(events, ev)
	}
	sort.Strings(events)
	for _, ev := range events {
		t := set.Types[ev]
		if t == nil {
			return written, fmt.Errorf("%w: examples for %s, which the schema tree does not define", ErrBadExample, ev)
		}
		fp := Fingerprint(t.Schema)
		vdir := filepath.Join(dir, ev, fp)
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return written, fmt.Errorf("contract: %w", err)
		}
		text, err := SelfContained(t.Schema)
		if err != nil {
			return written, err
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, text, "", "  "); err != nil {
			return written, fmt.Errorf("contract: %w", err)
		}
		pretty.WriteByte('\n')
		if err := os.WriteFile(filepath.Join(vdir, WriterFile), pretty.Bytes(), 0o644); err != nil {
			return written, fmt.Errorf("contract: %w", err)
		}
		for _, ex := range byEvent[ev] {
			data, err := ex.Encode(t.Schema)
			if err != nil {
				return written, err
			}
			if err := os.WriteFile(filepath.Join(vdir, ex.Name+".avro"), data, 0o644); err != nil {
				return written, fmt.Errorf("contract: %w", err)
			}
		}
		written = append(written, filepath.ToSlash(vdir))
	}
	return written, nil
}

// LoadHistory reads every version under dir. A missing dir is no history.
// Versions come sorted by event and fingerprint.
func LoadHistory(dir string) ([]*Version, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	fsys := os.DirFS(dir)
	writers, err := fs.Glob(fsys, "*/*/"+WriterFile)
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	var out []*Version
	for _, w := range writers {
		vdir := path.Dir(w)
		ev, fp := path.Dir(vdir), path.Base(vdir)
		name := filepath.ToSlash(dir) + "/" + vdir
		text, err := fs.ReadFile(fsys, w)
		if err != nil {
			return nil, fmt.Errorf("contract: %w", err)
		}
		s, err := events.Parse(string(text), &avro.SchemaCache{})
		if err != nil {
			return nil, fmt.Errorf("%w: %s/%s: writer schema does not parse: %v", ErrBadExample, name, WriterFile, err)
		}
		if got := Fingerprint(s); got != fp {
			return nil, fmt.Errorf("%w: %s: the writer schema's fingerprint is %s: the directory was edited by hand; re-run `contrail contract snapshot` and restore the old version from git", ErrBadExample, name, got)
		}
		v := &Version{Event: ev, Fingerprint: fp, Dir: name, Writer: s, Payloads: map[string][]byte{}}
		files, err := fs.Glob(fsys, vdir+"/*.avro")
		if err != nil {
			return nil, fmt.Errorf("contract: %w", err)
		}
		for _, f := range files {
			data, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, fmt.Errorf("contract: %w", err)
			}
			v.Payloads[strings.TrimSuffix(path.Base(f), ".avro")] = data
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Event != out[j].Event {
			return out[i].Event < out[j].Event
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out, nil
}

package registry

import (
	"context"
	"errors"
	"sort"
	"sync"
)

// ErrStore marks a failure of the backing store; the server answers it with
// HTTP 500 and error code 50001.
var ErrStore = errors.New("registry: store")

// Reference is one entry of a schema's `references` array: the named type
// Name is defined by version Version of subject Subject.
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// SchemaRecord is one schema, stored once under its global ID however many
// subjects use it. Records are never deleted, so an ID is never reused.
type SchemaRecord struct {
	ID int `json:"id"`
	// Type is the schema type; empty means AVRO.
	Type string `json:"schemaType,omitempty"`
	// Text is the schema as first registered.
	Text       string      `json:"schema"`
	References []Reference `json:"references,omitempty"`
}

// VersionRecord binds version Version of Subject to schema ID.
type VersionRecord struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	// Deleted marks a soft-deleted version.
	Deleted bool `json:"deleted,omitempty"`
}

// VersionKey names one version of a subject.
type VersionKey struct {
	Subject string
	Version int
}

// SettingRecord is a compatibility level or mode for Subject ("" is the
// global setting). An empty Value in a Batch removes the setting.
type SettingRecord struct {
	Subject string `json:"subject"`
	Value   string `json:"value"`
}

// Batch is one atomic change to the store.
type Batch struct {
	Schemas        []SchemaRecord
	Versions       []VersionRecord // inserted or replaced
	DeleteVersions []VersionKey    // permanently removed
	Configs        []SettingRecord
	Modes          []SettingRecord
}

// State is everything a store holds.
type State struct {
	Schemas  []SchemaRecord
	Versions []VersionRecord
	Configs  []SettingRecord
	Modes    []SettingRecord
}

// Store persists the registry. The registry keeps its working set in memory
// and calls Load once at start, then Apply for every change; it never calls
// Apply concurrently. Apply must be atomic and, for a durable store, on disk
// (fsynced) before it returns: the registry acknowledges a write only after
// Apply succeeds. Errors should wrap ErrStore.
type Store interface {
	// Load returns the whole persisted state.
	Load(ctx context.Context) (State, error)
	// Apply applies b atomically.
	Apply(ctx context.Context, b Batch) error
	// Close releases the store; the registry does not call it.
	Close() error
}

// MemoryStore is a Store that keeps everything in memory: for tests and
// throwaway registries. Two registries built on the same MemoryStore one after
// the other see the same data, which mimics a restart. Safe for concurrent use.
type MemoryStore struct {
	mu       sync.Mutex
	schemas  map[int]SchemaRecord
	versions map[VersionKey]VersionRecord
	configs  map[string]string
	modes    map[string]string
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		schemas:  map[int]SchemaRecord{},
		versions: map[VersionKey]VersionRecord{},
		configs:  map[string]string{},
		modes:    map[string]string{},
	}
}

// Load implements Store.
func (m *MemoryStore) Load(context.Context) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st State
	for _, s := range m.schemas {
		st.Schemas = append(st.Schemas, s)
	}
	for _, v := range m.versions {
		st.Versions = append(st.Versions, v)
	}
	for k, v := range m.configs {
		st.Configs = append(st.Configs, SettingRecord{Subject: k, Value: v})
	}
	for k, v := range m.modes {
		st.Modes = append(st.Modes, SettingRecord{Subject: k, Value: v})
	}
	sortState(&st)
	return st, nil
}

// Apply implements Store.
func (m *MemoryStore) Apply(_ context.Context, b Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range b.Schemas {
		s.References = append([]Reference(nil), s.References...)
		m.schemas[s.ID] = s
	}
	for _, v := range b.Versions {
		m.versions[VersionKey{v.Subject, v.Version}] = v
	}
	for _, k := range b.DeleteVersions {
		delete(m.versions, k)
	}
	applySettings(m.configs, b.Configs)
	applySettings(m.modes, b.Modes)
	return nil
}

// Close implements Store; it keeps the data.
func (m *MemoryStore) Close() error { return nil }

func applySettings(dst map[string]string, recs []SettingRecord) {
	for _, r := range recs {
		if r.Value == "" {
			delete(dst, r.Subject)
		} else {
			dst[r.Subject] = r.Value
		}
	}
}

func sortState(st *State) {
	sort.Slice(st.Schemas, func(i, j int) bool { return st.Schemas[i].ID < st.Schemas[j].ID })
	sort.Slice(st.Versions, func(i, j int) bool {
		a, b := st.Versions[i], st.Versions[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Version < b.Version
	})
	sort.Slice(st.Configs, func(i, j int) bool { return st.Configs[i].Subject < st.Configs[j].Subject })
	sort.Slice(st.Modes, func(i, j int) bool { return st.Modes[i].Subject < st.Modes[j].Subject })
}

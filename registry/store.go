package registry

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/contrail-events/contrail/wire"
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

// SchemaRecord is one schema, stored once under its ID in its context however
// many subjects of that context use it. Records are never deleted, so an ID
// is never reused within its context.
type SchemaRecord struct {
	ID int `json:"id"`
	// Context is the schema context the ID belongs to ("" for the default
	// context, else ".name"): as on Confluent, every context numbers its
	// schemas on its own.
	Context string `json:"context,omitempty"`
	// Type is the schema type; empty means AVRO.
	Type string `json:"schemaType,omitempty"`
	// Text is the schema as first registered.
	Text       string      `json:"schema"`
	References []Reference `json:"references,omitempty"`
	// Metadata and RuleSet are the schema's data contract, normalized
	// (see normMetadata, normRuleSet); nil is absent. Records written
	// before data contracts have neither.
	Metadata *wire.Metadata `json:"metadata,omitempty"`
	RuleSet  *wire.RuleSet  `json:"ruleSet,omitempty"`
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

// SettingRecord is a mode for Subject ("" is the global setting, ":.ctx:" a
// context's). An empty Value in a Batch removes the setting.
type SettingRecord struct {
	Subject string `json:"subject"`
	Value   string `json:"value"`
}

// ConfigRecord is the config of Subject ("" is the global config, ":.ctx:" a
// context's): Confluent's Config, each field unset when empty (nil). A
// record with nothing set in a Batch removes the config.
type ConfigRecord struct {
	Subject       string `json:"subject"`
	Compatibility string `json:"compatibilityLevel,omitempty"`
	// Alias is the subject this one stands for: requests naming this subject
	// under /subjects are served by the alias (Confluent's config "alias").
	Alias     string `json:"alias,omitempty"`
	Normalize *bool  `json:"normalize,omitempty"`
	// ValidateFields is stored and answered for Confluent clients; field
	// names are always validated (the Avro parser refuses bad ones).
	ValidateFields *bool `json:"validateFields,omitempty"`
	// CompatibilityGroup names a metadata property: compatibility is
	// checked only against versions with the new schema's value of it
	// (e.g. wire.CompatibilityGroupMajorVersion).
	CompatibilityGroup string `json:"compatibilityGroup,omitempty"`
	// DefaultMetadata and DefaultRuleSet are merged under, OverrideMetadata
	// and OverrideRuleSet over, the metadata and rule set of every schema
	// registered in scope (Confluent's mergeMetadata, mergeRuleSets).
	DefaultMetadata  *wire.Metadata `json:"defaultMetadata,omitempty"`
	OverrideMetadata *wire.Metadata `json:"overrideMetadata,omitempty"`
	DefaultRuleSet   *wire.RuleSet  `json:"defaultRuleSet,omitempty"`
	OverrideRuleSet  *wire.RuleSet  `json:"overrideRuleSet,omitempty"`
}

// IsEmpty reports whether c sets nothing.
func (c ConfigRecord) IsEmpty() bool {
	return c.Compatibility == "" && c.Alias == "" && c.Normalize == nil && c.ValidateFields == nil &&
		c.CompatibilityGroup == "" && c.DefaultMetadata == nil && c.OverrideMetadata == nil &&
		c.DefaultRuleSet == nil && c.OverrideRuleSet == nil
}

// Batch is one atomic change to the store.
type Batch struct {
	Schemas        []SchemaRecord
	Versions       []VersionRecord // inserted or replaced
	DeleteVersions []VersionKey    // permanently removed
	Configs        []ConfigRecord
	Modes          []SettingRecord
	// Contexts are schema contexts (".name") created; DeleteContexts are
	// removed from the list GET /contexts answers.
	Contexts       []string
	DeleteContexts []string
}

// State is everything a store holds.
type State struct {
	Schemas  []SchemaRecord
	Versions []VersionRecord
	Configs  []ConfigRecord
	Modes    []SettingRecord
	Contexts []string
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
	schemas  map[schemaKey]SchemaRecord
	versions map[VersionKey]VersionRecord
	configs  map[string]ConfigRecord
	modes    map[string]string
	contexts map[string]bool
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		schemas:  map[schemaKey]SchemaRecord{},
		versions: map[VersionKey]VersionRecord{},
		configs:  map[string]ConfigRecord{},
		modes:    map[string]string{},
		contexts: map[string]bool{},
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
	for _, c := range m.configs {
		st.Configs = append(st.Configs, c)
	}
	for c := range m.contexts {
		st.Contexts = append(st.Contexts, c)
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
		m.schemas[schemaKey{s.Context, s.ID}] = s
	}
	for _, v := range b.Versions {
		m.versions[VersionKey{v.Subject, v.Version}] = v
	}
	for _, k := range b.DeleteVersions {
		delete(m.versions, k)
	}
	for _, c := range b.Configs {
		if c.IsEmpty() {
			delete(m.configs, c.Subject)
		} else {
			m.configs[c.Subject] = c
		}
	}
	applySettings(m.modes, b.Modes)
	for _, c := range b.Contexts {
		m.contexts[c] = true
	}
	for _, c := range b.DeleteContexts {
		delete(m.contexts, c)
	}
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
	sort.Slice(st.Schemas, func(i, j int) bool {
		a, b := st.Schemas[i], st.Schemas[j]
		if a.Context != b.Context {
			return a.Context < b.Context
		}
		return a.ID < b.ID
	})
	sort.Slice(st.Versions, func(i, j int) bool {
		a, b := st.Versions[i], st.Versions[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Version < b.Version
	})
	sort.Slice(st.Configs, func(i, j int) bool { return st.Configs[i].Subject < st.Configs[j].Subject })
	sort.Slice(st.Modes, func(i, j int) bool { return st.Modes[i].Subject < st.Modes[j].Subject })
	sort.Strings(st.Contexts)
}

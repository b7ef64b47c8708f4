// Package registry is Contrail's Confluent-compatible schema registry: the
// registry logic (Registry), its persistence (Store: BoltStore on disk,
// MemoryStore for tests) and the HTTP server on gin (NewServer). Subpackage
// serde frames Avro in the Confluent wire format and registrytest is the
// conformance suite any registry URL can be checked with.
//
// Compatibility is decided by the compat package, the engine the CLI and CI
// use too, so the registry can never disagree with `contrail check`.
//
// Schemas carry Confluent's data contracts (wire.Metadata, wire.RuleSet):
// stored, replicated and answered as Confluent does, part of a schema's
// identity, inherited and merged with the config's defaults and overrides
// on registration, and grouped by a compatibilityGroup property for the
// compatibility check (see contract.go).
package registry

import (
	"context"
	"fmt"
	"sync"
)

// Registry is the registry logic over a Store: schemas by ID within their
// context, subjects and their versions, configs (levels, aliases) and modes. The working
// set is kept in memory; writes go to the store first and are acknowledged
// only after the store accepted them. Safe for concurrent use: reads share a
// lock, writes are serialised.
type Registry struct {
	store Store

	mu       sync.RWMutex
	schemas  map[schemaKey]*schemaEntry
	byExact  map[string]int // context + "\x00" + exact key -> lowest ID
	subjects map[string]*subjectEntry
	configs  map[string]ConfigRecord
	modes    map[string]Mode
	contexts map[string]bool // non-default contexts listed by GET /contexts
	nextID   map[string]int  // per context: one above the highest ID ever used
	// gen is bumped by every write. It guards hot, and tells a
	// registration checked without the lock whether anything changed
	// before it took the write lock to commit.
	gen uint64

	hotMu sync.RWMutex
	hot   map[hotKey]hotEntry // digest of subject and request body -> answer

	// testHookCheck, when set, is called with no lock held just before a
	// compatibility check runs (register and /compatibility); tests only.
	testHookCheck func()
}

// Open loads the registry from store. It fails when the store cannot be read.
func Open(ctx context.Context, store Store) (*Registry, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store: use NewMemoryStore or OpenBoltStore", ErrStore)
	}
	st, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	r := &Registry{
		store:    store,
		schemas:  map[schemaKey]*schemaEntry{},
		byExact:  map[string]int{},
		subjects: map[string]*subjectEntry{},
		configs:  map[string]ConfigRecord{},
		modes:    map[string]Mode{},
		contexts: map[string]bool{},
		nextID:   map[string]int{},
	}
	r.mirror(Batch{Schemas: st.Schemas, Versions: st.Versions, Configs: st.Configs, Modes: st.Modes, Contexts: st.Contexts}, nil)
	if f, ok := store.(Follower); ok {
		f.Follow(r.applyRemote)
	}
	return r, nil
}

// Stats is a snapshot of the registry's size, for metrics.
type Stats struct{ Schemas, Subjects int }

// Stats returns the current counts.
func (r *Registry) Stats() Stats {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return Stats{Schemas: len(r.schemas), Subjects: len(r.subjects)}
}

// apply writes b to the store and, once the store accepted it, counts a
// write and mirrors b in memory, so memory never shows a write the store
// refused. Callers hold the write lock. The error is a 50001 *Error.
func (r *Registry) apply(ctx context.Context, b Batch) error {
	return r.applyPrepared(ctx, b, nil)
}

// applyPrepared is apply with the in-memory entry of a new schema in b
// built beforehand (see newSchemaEntry), so the write lock is not held
// while a large schema is keyed and encoded. prepared may be nil.
func (r *Registry) applyPrepared(ctx context.Context, b Batch, prepared *schemaEntry) error {
	if err := r.store.Apply(ctx, b); err != nil {
		return errStore(err)
	}
	r.gen++
	r.mirror(b, prepared)
	return nil
}

// mirror applies b to the in-memory working set, the way Store.Apply applies
// it to the store: an empty setting Value removes the setting. prepared, if
// not nil, is the entry of the schema in b with its ID.
func (r *Registry) mirror(b Batch, prepared *schemaEntry) {
	for _, s := range b.Schemas {
		if prepared != nil && prepared.rec.ID == s.ID && prepared.rec.Context == s.Context {
			r.addSchema(prepared)
			continue
		}
		r.addSchema(newSchemaEntry(s, ""))
	}
	for _, v := range b.Versions {
		r.putVersion(v)
	}
	for _, k := range b.DeleteVersions {
		r.removeVersion(k.Subject, k.Version)
	}
	for _, c := range b.Configs {
		if c.IsEmpty() {
			delete(r.configs, c.Subject)
		} else {
			r.configs[c.Subject] = c
		}
	}
	for _, c := range b.Contexts {
		r.contexts[c] = true
	}
	for _, c := range b.DeleteContexts {
		delete(r.contexts, c)
	}
	for _, m := range b.Modes {
		if m.Value == "" {
			delete(r.modes, m.Subject)
		} else {
			r.modes[m.Subject] = Mode(m.Value)
		}
	}
}

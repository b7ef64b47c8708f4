package events

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Majors of one event and the typed migrations between them.
//
// A breaking change to an event is a new major version: the same full name
// and subject, a new Go type (OrderPlacedV2 beside OrderPlaced), and Go
// migrations between neighbouring majors that generated code registers here
// from its init functions. The serde uses them to hand a consumer that reads
// major M a record written in another major: it decodes the record into the
// writer's Go type and walks the migrations, one major at a time.

// ErrMigrationNotImplemented is what a generated migration stub returns until
// the developer writes it.
var ErrMigrationNotImplemented = errors.New("migration not implemented: fill in the stub `contrail gen` wrote")

// Migration turns a value of one major of an event into the neighbouring
// major (From.Major()±1). Build one with NewMigration.
type Migration struct {
	// From and To are the bindings of the two majors.
	From, To Type
	// Apply takes a pointer of From's Go type and returns a pointer of To's.
	Apply func(any) (any, error)
}

// NewMigration returns the migration from major binding from to binding to
// done by fn. It panics when the two are not neighbouring majors of one
// event, which only a broken generator can cause.
func NewMigration[A, B any](from *Binding[A], to *Binding[B], fn func(*A) (*B, error)) Migration {
	if from.FullName() != to.FullName() || (to.Major() != from.Major()+1 && to.Major() != from.Major()-1) {
		panic(fmt.Sprintf("events: NewMigration %s v%d -> %s v%d: want neighbouring majors of one event",
			from.FullName(), from.Major(), to.FullName(), to.Major()))
	}
	return Migration{From: from, To: to, Apply: func(v any) (any, error) {
		a, ok := v.(*A)
		if !ok {
			return nil, fmt.Errorf("events: migration %s v%d -> v%d got %T, want %T", from.FullName(), from.Major(), to.Major(), v, (*A)(nil))
		}
		b, err := fn(a)
		if err != nil {
			return nil, fmt.Errorf("migrate %s v%d -> v%d: %w", from.FullName(), from.Major(), to.Major(), err)
		}
		if b == nil {
			return nil, fmt.Errorf("migrate %s v%d -> v%d: the migration returned nil and no error", from.FullName(), from.Major(), to.Major())
		}
		return b, nil
	}}
}

type majorKey struct {
	name  string
	major int
}

type migrationKey struct {
	name     string
	from, to int
}

var majors = struct {
	sync.RWMutex
	types      map[majorKey]Type
	migrations map[migrationKey]Migration
}{types: map[majorKey]Type{}, migrations: map[migrationKey]Migration{}}

// RegisterMajor records t as the Go type of its event's major t.Major().
// Generated code calls it from init for every event binding; registering a
// second, different binding for the same major panics.
func RegisterMajor(t Type) {
	majors.Lock()
	defer majors.Unlock()
	k := majorKey{t.FullName(), t.Major()}
	if old, ok := majors.types[k]; ok && old != t {
		panic(fmt.Sprintf("events: two Go types for %s major %d", t.FullName(), t.Major()))
	}
	majors.types[k] = t
}

// RegisterMigration records m. Generated code calls it from init, once per
// direction between neighbouring majors; registering one twice panics.
func RegisterMigration(m Migration) {
	RegisterMajor(m.From)
	RegisterMajor(m.To)
	majors.Lock()
	defer majors.Unlock()
	k := migrationKey{m.From.FullName(), m.From.Major(), m.To.Major()}
	if _, ok := majors.migrations[k]; ok {
		panic(fmt.Sprintf("events: migration %s v%d -> v%d registered twice", k.name, k.from, k.to))
	}
	majors.migrations[k] = m
}

// MajorOf returns the registered Go type of major of the event fullName.
func MajorOf(fullName string, major int) (Type, bool) {
	majors.RLock()
	defer majors.RUnlock()
	t, ok := majors.types[majorKey{fullName, max(major, 1)}]
	return t, ok
}

// Majors returns the registered majors of fullName in ascending order.
func Majors(fullName string) []int {
	majors.RLock()
	defer majors.RUnlock()
	var out []int
	for k := range majors.types {
		if k.name == fullName {
			out = append(out, k.major)
		}
	}
	slices.Sort(out)
	return out
}

// MigrationPath returns the migrations that take a value of major from of
// fullName to major to, one major at a time; none when from == to. The
// error names the first missing step and how to add it.
func MigrationPath(fullName string, from, to int) ([]Migration, error) {
	from, to = max(from, 1), max(to, 1)
	step := 1
	if to < from {
		step = -1
	}
	majors.RLock()
	defer majors.RUnlock()
	var path []Migration
	for m := from; m != to; m += step {
		mig, ok := majors.migrations[migrationKey{fullName, m, m + step}]
		if !ok {
			return nil, fmt.Errorf("%w: %s v%d -> v%d: no Go migration is registered; declare the majors in schemas/ and run `contrail gen`, which writes the stub to fill in",
				ErrNoMigration, fullName, m, m+step)
		}
		path = append(path, mig)
	}
	return path, nil
}

// ErrNoMigration is wrapped by MigrationPath's error.
var ErrNoMigration = errors.New("no migration")

// Migrate takes v, a pointer of the Go type of major from of fullName,
// through MigrationPath to major to.
func Migrate(fullName string, from, to int, v any) (any, error) {
	path, err := MigrationPath(fullName, from, to)
	if err != nil {
		return nil, err
	}
	for _, m := range path {
		if v, err = m.Apply(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

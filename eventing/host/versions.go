package host

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/sr"
)

// SchemaVersions maps registry schema ids to the subject and version they
// were registered as, asking the registry once per id. Safe for concurrent
// use; a failed lookup is not cached.
type SchemaVersions struct {
	cl *sr.Client
	mu sync.Mutex
	m  map[int]sr.SubjectVersion
}

// NewSchemaVersions returns a cache over cl.
func NewSchemaVersions(cl *sr.Client) *SchemaVersions {
	return &SchemaVersions{cl: cl, m: map[int]sr.SubjectVersion{}}
}

// Lookup returns the first subject and version schema id is registered
// under; ok is false when the registry does not know it or is unreachable.
func (v *SchemaVersions) Lookup(ctx context.Context, id int) (subject string, version int, ok bool) {
	if v == nil || id <= 0 {
		return "", 0, false
	}
	v.mu.Lock()
	sv, hit := v.m[id]
	v.mu.Unlock()
	if hit {
		return sv.Subject, sv.Version, true
	}
	list, err := v.cl.SchemaVersionsByID(ctx, id)
	if err != nil || len(list) == 0 {
		return "", 0, false
	}
	v.mu.Lock()
	v.m[id] = list[0]
	v.mu.Unlock()
	return list[0].Subject, list[0].Version, true
}

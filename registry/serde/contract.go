package serde

import (
	"context"
	"errors"
	"fmt"
	"github.com/contrail-events/contrail/registry/regclient"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/events"
)

// CheckReaders checks, before a consumer starts, that it can read every
// record its subjects may hold: for each type t it lists the live majors of
// t.Subject() in the registry (the major_version metadata of its versions
// that are not deleted; absent means 1) and fails when one of them has no
// registered Go type or no migration path to t.Major() (events.MigrationPath).
// The error lists every such gap and how to close it. A subject the
// registry does not have is fine (nothing was written yet). An unreachable
// registry returns an error wrapping ErrRegistryUnavailable, which the
// event runtime logs and starts anyway: decoding checks each record again.
// The event runtime's router calls it from Run (eventing.ReaderChecker).
func (s *Serde) CheckReaders(ctx context.Context, ts []events.Type) error {
	var errs []error
	for _, t := range ts {
		live, err := s.liveMajors(ctx, t.Subject())
		if err != nil {
			return fmt.Errorf("serde: list the majors of subject %q: %w", t.Subject(), err)
		}
		for _, m := range live {
			if m == t.Major() {
				continue
			}
			if _, ok := events.MajorOf(t.FullName(), m); !ok {
				errs = append(errs, fmt.Errorf("serde: %s is read as major %d, but subject %q has live major %d and no Go type is registered for it: import the package `contrail gen` generated for major %d (keep its schema file until no topic holds its records)",
					t.FullName(), t.Major(), t.Subject(), m, m))
				continue
			}
			if _, err := events.MigrationPath(t.FullName(), m, t.Major()); err != nil {
				errs = append(errs, fmt.Errorf("serde: %s is read as major %d, but subject %q has live major %d that cannot be migrated to it: %w",
					t.FullName(), t.Major(), t.Subject(), m, err))
			}
		}
	}
	return errors.Join(errs...)
}

// liveMajors returns the sorted majors of subject's live versions; none for
// a subject the registry does not have.
func (s *Serde) liveMajors(ctx context.Context, subject string) ([]int, error) {
	ss, err := s.cl.Schemas(ctx, subject)
	if err != nil {
		err = classify(err)
		var re *sr.ResponseError
		if errors.As(err, &re) && (re.ErrorCode == sr.ErrSubjectNotFound.Code || re.StatusCode == 404) {
			return nil, nil
		}
		return nil, err
	}
	set := map[int]bool{}
	for _, v := range ss {
		md, _ := regclient.ContractFromSR(v.Schema)
		m, ok := md.Major()
		if !ok {
			m = 1
		}
		set[m] = true
	}
	return slices.Sorted(maps.Keys(set)), nil
}

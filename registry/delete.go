package registry

import (
	"context"
	"net/http"
)

// DeleteOpts tunes DeleteSubject and DeleteVersion. The zero value soft
// deletes: the versions disappear from reads but keep their schemas, and
// can be found again with the Deleted options of the readers.
type DeleteOpts struct {
	// Permanent removes versions that were soft-deleted before; schema IDs
	// stay reserved. Default false.
	Permanent bool
}

// DeleteSubject deletes every version of subject, softly or, with
// Permanent, for good after a soft delete. It returns the deleted versions.
// Errors: 40401, 40404 (already soft-deleted), 40405 (permanent before
// soft), 42205 (read-only), 42206 (referenced by a live version; a
// soft-deleted referrer does not count, as on Confluent), 50001.
func (r *Registry) DeleteSubject(ctx context.Context, subject string, opts DeleteOpts) ([]int, error) {
	subject = normalizeSubject(subject)
	r.mu.Lock()
	defer r.mu.Unlock()
	subj := r.subjects[subject]
	if subj == nil {
		return nil, errSubjectNotFound(subject)
	}
	if r.modeOf(subject).readOnly() {
		return nil, errNotPermitted("Subject '%s' is in read-only mode.", subject)
	}
	var batch Batch
	out := []int{}
	if !opts.Permanent {
		live := subj.live()
		if len(live) == 0 {
			return nil, errf(http.StatusNotFound, CodeSubjectSoftDeleted,
				"Subject '%s' was soft deleted. Set permanent=true to delete permanently", subject)
		}
		for _, v := range live {
			if ids := r.referrers(subject, v.Version); len(ids) > 0 {
				return nil, errReferenced(subject, v.Version, ids)
			}
			rec := v.VersionRecord
			rec.Deleted = true
			batch.Versions = append(batch.Versions, rec)
			out = append(out, v.Version)
		}
	} else {
		if len(subj.live()) > 0 {
			return nil, errf(http.StatusNotFound, CodeSubjectNotSoftDeleted,
				"Subject '%s' was not deleted first before being permanently deleted; delete it without permanent=true first.", subject)
		}
		for _, v := range subj.versions {
			if ids := r.referrers(subject, v.Version); len(ids) > 0 {
				return nil, errReferenced(subject, v.Version, ids)
			}
			batch.DeleteVersions = append(batch.DeleteVersions, VersionKey{subject, v.Version})
			out = append(out, v.Version)
		}
		// A subject deleted for good leaves no settings behind, so a new
		// subject of that name starts from the global ones.
		if _, ok := r.configs[subject]; ok {
			batch.Configs = []ConfigRecord{{Subject: subject}}
		}
		if _, ok := r.modes[subject]; ok {
			batch.Modes = []SettingRecord{{Subject: subject}}
		}
	}
	if err := r.apply(ctx, batch); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteVersion deletes one version (-1 is the latest), softly or, with
// Permanent, for good after a soft delete. It returns the version deleted.
// Errors: 40401, 40402, 40406 (already soft-deleted), 40407 (permanent
// before soft), 42205, 42206, 50001.
func (r *Registry) DeleteVersion(ctx context.Context, subject string, version int, opts DeleteOpts) (int, error) {
	subject = normalizeSubject(subject)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subjects[subject] == nil {
		return 0, errSubjectNotFound(subject)
	}
	if r.modeOf(subject).readOnly() {
		return 0, errNotPermitted("Subject '%s' is in read-only mode.", subject)
	}
	v := r.version(subject, version, opts.Permanent)
	if v == nil {
		if version != -1 && r.version(subject, version, true) != nil {
			return 0, errf(http.StatusNotFound, CodeVersionSoftDeleted,
				"Subject '%s' Version %d was soft deleted. Set permanent=true to delete permanently", subject, version)
		}
		return 0, errVersionNotFound(subject, version)
	}
	var batch Batch
	if !opts.Permanent {
		if ids := r.referrers(subject, v.Version); len(ids) > 0 {
			return 0, errReferenced(subject, v.Version, ids)
		}
		rec := v.VersionRecord
		rec.Deleted = true
		batch.Versions = []VersionRecord{rec}
	} else {
		if !v.Deleted {
			return 0, errf(http.StatusNotFound, CodeVersionNotSoftDeleted,
				"Subject '%s' Version %d was not deleted first before being permanently deleted; delete it without permanent=true first.", subject, v.Version)
		}
		if ids := r.referrers(subject, v.Version); len(ids) > 0 {
			return 0, errReferenced(subject, v.Version, ids)
		}
		batch.DeleteVersions = []VersionKey{{subject, v.Version}}
	}
	if err := r.apply(ctx, batch); err != nil {
		return 0, err
	}
	return v.Version, nil
}

package baseline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat"
)

// ErrRegistry is wrapped by every error from talking to the registry.
var ErrRegistry = errors.New("baseline: registry")

// ErrInvalidSchema is wrapped (with ErrRegistry) when a registered schema
// or one it references does not parse.
var ErrInvalidSchema = errors.New("invalid schema")

// Registry reads, for each of subjects, every version registered at the
// Confluent-compatible registry at url (GET /subjects/{s}/versions and
// /subjects/{s}/versions/{v}), resolving schema references, and returns them
// as history for compat.CheckTree: snapshot k holds the k-th newest-aligned
// version of each subject, the last holds each subject's latest. A subject
// the registry does not know is new and gets no versions. levels gives each
// subject's level for the entries. Errors wrap ErrRegistry.
func Registry(ctx context.Context, url string, subjects []string, levels map[string]compat.Level, opts ...sr.ClientOpt) ([]compat.Snapshot, error) {
	cl, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs(url)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRegistry, err)
	}
	perSubject := map[string][]compat.Entry{}
	most := 0
	for _, subj := range subjects {
		ss, err := cl.Schemas(ctx, subj)
		if err != nil {
			var re *sr.ResponseError
			if errors.As(err, &re) && (re.StatusCode == http.StatusNotFound || re.ErrorCode == 40401) {
				continue
			}
			return nil, fmt.Errorf("%w: %s: subject %s: %v (is --against the registry's base URL?)", ErrRegistry, url, subj, err)
		}
		var entries []compat.Entry
		for _, s := range ss {
			if s.Type != sr.TypeAvro {
				continue
			}
			label := fmt.Sprintf("registry %s v%d", subj, s.Version)
			parsed, err := parseWithRefs(ctx, cl, s.Schema, map[string]bool{})
			if err != nil {
				return nil, fmt.Errorf("%w: %w: %s version %d does not parse: %v", ErrRegistry, ErrInvalidSchema, subj, s.Version, err)
			}
			name := ""
			if n, ok := parsed.(avro.NamedSchema); ok {
				name = n.FullName()
			}
			entries = append(entries, compat.Entry{
				Subject: subj, FullName: name, Level: levels[subj], Text: s.Schema.Schema,
				Schema: compat.Schema{Schema: parsed, Label: label},
			})
		}
		perSubject[subj] = entries
		most = max(most, len(entries))
	}
	snaps := make([]compat.Snapshot, most)
	for i := range snaps {
		snaps[i].Label = "registry " + url
	}
	for _, subj := range subjects {
		es := perSubject[subj]
		for i, e := range es {
			k := most - len(es) + i
			snaps[k].Entries = append(snaps[k].Entries, e)
		}
	}
	return snaps, nil
}

// parseWithRefs parses s after parsing the schemas it references (depth
// first) into the same cache.
func parseWithRefs(ctx context.Context, cl *sr.Client, s sr.Schema, seen map[string]bool) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	if err := loadRefs(ctx, cl, s.References, cache, seen); err != nil {
		return nil, err
	}
	return avro.ParseWithCache(s.Schema, "", cache)
}

func loadRefs(ctx context.Context, cl *sr.Client, refs []sr.SchemaReference, cache *avro.SchemaCache, seen map[string]bool) error {
	for _, ref := range refs {
		key := fmt.Sprintf("%s/%d", ref.Subject, ref.Version)
		if seen[key] {
			continue
		}
		seen[key] = true
		rs, err := cl.SchemaByVersion(ctx, ref.Subject, ref.Version)
		if err != nil {
			return fmt.Errorf("reference %s (subject %s version %d): %v", ref.Name, ref.Subject, ref.Version, err)
		}
		if err := loadRefs(ctx, cl, rs.References, cache, seen); err != nil {
			return err
		}
		if _, err := avro.ParseWithCache(rs.Schema.Schema, "", cache); err != nil {
			return fmt.Errorf("reference %s: %v", ref.Name, err)
		}
	}
	return nil
}

// RegistryURL parses rawURL, the http(s) URL of a Confluent-compatible
// registry that may carry basic-auth credentials as userinfo
// (https://user:password@host), and returns it without the userinfo (safe
// to print and to pass to sr.URLs) and the client options for the
// credentials: sr.BasicAuth from the userinfo when rawURL has one, else from
// user and pass, none when the user is empty. `contrail check`, `contrail
// contract` and `contrail registry push` all take credentials this way. Its
// errors are unprefixed (callers add theirs) and never hold the password.
func RegistryURL(rawURL, user, pass string) (shown string, auth []sr.ClientOpt, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// *url.Error quotes the whole URL, password included: keep only the
		// reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", nil, fmt.Errorf("registry URL does not parse: %w: want http(s)://[user:password@]host[:port]", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("registry URL %q: want http(s)://[user:password@]host[:port]", u.Redacted())
	}
	if u.User != nil {
		user, pass = u.User.Username(), ""
		if p, ok := u.User.Password(); ok {
			pass = p
		}
		u.User = nil
	}
	if user != "" {
		auth = []sr.ClientOpt{sr.BasicAuth(user, pass)}
	}
	return u.String(), auth, nil
}

package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/twmb/franz-go/pkg/sr"
)

// SubjectPrefix is the reserved registry subject prefix for published
// contracts: a contract is registered as an Avro schema under
// "_contracts.<consumer>.<subject>". Producers' tools list the subjects with
// this prefix to find every consumer's contracts. Nothing else may register
// under it.
const SubjectPrefix = "_contracts."

// MetaProp is the top-level schema property that carries a published
// contract's metadata (format, consumer, subject, topic, event, fields,
// source) inside the registered reader schema. Avro ignores properties it
// does not know, so the schema stays a valid reader schema.
const MetaProp = "contrail.contract"

// ErrRegistry is wrapped by every RegistryClient error and every Publish and
// Fetch error that comes from talking to the registry.
var ErrRegistry = errors.New("contract: registry")

// ErrUnauthorized is wrapped (with ErrRegistry) when the registry answers
// 401 or 403: the request carried no credentials or ones it does not accept.
var ErrUnauthorized = errors.New("registry rejected the credentials")

// RegistryClient returns a client for the Confluent-compatible registry at
// rawURL (http or https) and rawURL without its userinfo, which is safe to
// print. Credentials come as regclient.New takes them: the URL's userinfo
// (https://user:password@host), else opts (the CLI's flags), else the
// environment. No error it returns holds the password.
func RegistryClient(rawURL string, opts ...regclient.Opt) (*sr.Client, string, error) {
	cl, shown, err := regclient.New(rawURL, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrRegistry, err)
	}
	return cl, shown, nil
}

// registryErr wraps err from the registry call what: always ErrRegistry,
// and ErrUnauthorized as well on HTTP 401 or 403.
func registryErr(what string, err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) && (re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%w: %s: HTTP %d: %w: %v", ErrRegistry, what, re.StatusCode, ErrUnauthorized, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrRegistry, what, err)
}

// RegistrySubject returns the reserved subject c is published under.
func RegistrySubject(c *Contract) string { return SubjectPrefix + c.Consumer + "." + c.Subject }

type meta struct {
	Format   int      `json:"format"`
	Consumer string   `json:"consumer"`
	Subject  string   `json:"subject"`
	Topic    string   `json:"topic,omitempty"`
	Event    string   `json:"event"`
	Fields   []string `json:"fields"`
	Source   string   `json:"source,omitempty"`
}

// registryText is c's reader schema with MetaProp added at the top level.
func registryText(c *Contract) (string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(c.Schema, &obj); err != nil {
		return "", fmt.Errorf("%w: %s: reader schema is not a JSON object: %v", ErrInvalid, c.Label(), err)
	}
	m, err := json.Marshal(meta{c.Format, c.Consumer, c.Subject, c.Topic, c.Event, c.Fields, c.Source})
	if err != nil {
		return "", fmt.Errorf("contract: %w", err)
	}
	obj[MetaProp] = m
	b, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("contract: %w", err)
	}
	return string(b), nil
}

// Published is one contract Publish registered.
type Published struct {
	// Subject is the reserved subject, ID and Version what the registry
	// assigned (an unchanged contract keeps its ID and version).
	Subject     string
	ID, Version int
}

// Publish registers each contract under its reserved subject (see
// SubjectPrefix) at the registry behind cl, setting the subject's
// compatibility to NONE first: a consumer may change what it reads at will,
// the contract's job is to constrain producers. Publishing an unchanged
// contract again is a no-op. It stops at the first error, which wraps
// ErrRegistry (and ErrUnauthorized on HTTP 401/403) and names the subject.
func Publish(ctx context.Context, cl *sr.Client, cs []*Contract) ([]Published, error) {
	var out []Published
	for _, c := range cs {
		if err := c.Validate(); err != nil {
			return out, err
		}
		subject := RegistrySubject(c)
		text, err := registryText(c)
		if err != nil {
			return out, err
		}
		for _, r := range cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, subject) {
			if r.Err != nil {
				return out, registryErr(fmt.Sprintf("set compatibility NONE on %q", subject), r.Err)
			}
		}
		sch := sr.Schema{Schema: text, Type: sr.TypeAvro}
		id, err := cl.RegisterSchema(ctx, subject, sch, -1, -1)
		if err != nil {
			return out, registryErr(fmt.Sprintf("register contract under %q", subject), err)
		}
		ss, err := cl.LookupSchema(ctx, subject, sch)
		if err != nil {
			return out, registryErr(fmt.Sprintf("look up contract under %q", subject), err)
		}
		out = append(out, Published{Subject: subject, ID: id, Version: ss.Version})
	}
	return out, nil
}

// Fetch returns the latest version of every contract published at the
// registry behind cl (every subject with SubjectPrefix), sorted. A subject
// under the prefix whose schema is not a contract is an error wrapping
// ErrInvalid; registry failures wrap ErrRegistry (and ErrUnauthorized on
// HTTP 401/403).
func Fetch(ctx context.Context, cl *sr.Client) ([]*Contract, error) {
	subjects, err := cl.Subjects(ctx)
	if err != nil {
		return nil, registryErr("list subjects", err)
	}
	var out []*Contract
	for _, s := range subjects {
		if !strings.HasPrefix(s, SubjectPrefix) {
			continue
		}
		ss, err := cl.SchemaByVersion(ctx, s, -1)
		if err != nil {
			return nil, registryErr(fmt.Sprintf("fetch %q", s), err)
		}
		c, err := fromRegistryText(s, ss.Schema.Schema)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	SortContracts(out)
	return out, nil
}

func fromRegistryText(subject, text string) (*Contract, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		return nil, fmt.Errorf("%w: registry subject %q: schema is not a JSON object: %v", ErrInvalid, subject, err)
	}
	raw, ok := obj[MetaProp]
	if !ok {
		return nil, fmt.Errorf("%w: registry subject %q has no %q property: only `contrail contract publish` may register under %q", ErrInvalid, subject, MetaProp, SubjectPrefix)
	}
	var m meta
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: registry subject %q: bad %q property: %v", ErrInvalid, subject, MetaProp, err)
	}
	delete(obj, MetaProp)
	schema, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	c := &Contract{Format: m.Format, Consumer: m.Consumer, Subject: m.Subject, Topic: m.Topic, Event: m.Event, Fields: m.Fields, Source: m.Source, Schema: schema}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("registry subject %q: %w", subject, err)
	}
	return c, nil
}

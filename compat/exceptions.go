package compat

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ErrBadExceptions is wrapped by ParseExceptions for every problem it finds.
var ErrBadExceptions = errors.New("compat: bad exceptions file")

// Exception silences one rule for one subject or schema path. Exceptions
// are reviewed like code: each needs a reason, and may expire.
type Exception struct {
	// Rule is the rule ID to silence. Required.
	Rule RuleID `yaml:"rule" json:"rule"`
	// Subject is the subject it applies to (a path.Match pattern). One of
	// Subject and Path is required.
	Subject string `yaml:"subject,omitempty" json:"subject,omitempty"`
	// Path is the schema file it applies to, relative to the schema root (a
	// path.Match pattern).
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// Reason says why the break is acceptable. Required.
	Reason string `yaml:"reason" json:"reason"`
	// Expires is the last day (YYYY-MM-DD, UTC) the exception applies;
	// empty means never.
	Expires string `yaml:"expires,omitempty" json:"expires,omitempty"`

	// Line is the entry's line in the file.
	Line    int       `yaml:"-" json:"line"`
	expires time.Time // the day after Expires, 00:00 UTC
}

// Exceptions is a parsed exceptions file.
type Exceptions struct {
	// File is the file's name as given to ParseExceptions; findings about
	// the exceptions themselves point into it.
	File string
	// Entries are the exceptions in file order.
	Entries []Exception
}

// exceptionKeys are the keys an exception entry may have.
var exceptionKeys = map[string]bool{"rule": true, "subject": true, "path": true, "reason": true, "expires": true}

type exceptionsFile struct {
	Exceptions []yaml.Node `yaml:"exceptions"`
}

// ParseExceptions parses an exceptions file:
//
//	exceptions:
//	  - rule: READER_FIELD_MISSING_DEFAULT
//	    subject: orders-contrail.orders.OrderPlaced
//	    reason: "no consumer has read v1 since 2026-01; see ADR 12"
//	    expires: 2026-12-31
//
// It returns an error wrapping ErrBadExceptions, naming file:line and what
// to fix, for unknown rules, a missing reason, neither subject nor path, or a
// bad date, an unknown key; every problem is listed, not just the first.
func ParseExceptions(file string, data []byte) (*Exceptions, error) {
	var raw exceptionsFile
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadExceptions, file, err)
	}
	ex := &Exceptions{File: file}
	var problems []string
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		top := doc.Content[0].Content
		for i := 0; i+1 < len(top); i += 2 {
			if top[i].Value != "exceptions" {
				// A misspelt "exceptions:" must not silently mean none.
				problems = append(problems, fmt.Sprintf("%s:%d: unknown key %q: the file holds one key, exceptions, a list of {rule, subject or path, reason, expires}", file, top[i].Line, top[i].Value))
			}
		}
	}
	for _, n := range raw.Exceptions {
		var e Exception
		if err := n.Decode(&e); err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %v", file, n.Line, err))
			continue
		}
		e.Line = n.Line
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !exceptionKeys[k.Value] {
				// A misspelt "expires" would make a temporary exception permanent.
				problems = append(problems, fmt.Sprintf("%s:%d: unknown key %q in an exception: use rule, subject, path, reason and expires", file, k.Line, k.Value))
			}
		}
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("%s:%d: ", file, n.Line)+fmt.Sprintf(format, args...))
		}
		if r, ok := RuleByID(e.Rule); !ok || r.Scope == ScopeContract {
			// Contract rules are in the table too, but `contrail check`,
			// which reads this file, never reports them.
			bad("unknown rule %q: use a rule ID from `contrail check --help` or the README", e.Rule)
		}
		if strings.TrimSpace(e.Reason) == "" {
			bad("exception for %s has no reason: say why this break is acceptable", e.Rule)
		}
		if e.Subject == "" && e.Path == "" {
			bad("exception for %s names neither subject nor path: add one", e.Rule)
		}
		if e.Expires != "" {
			d, err := time.Parse(time.DateOnly, e.Expires)
			if err != nil {
				bad("expires %q is not a date: use YYYY-MM-DD", e.Expires)
			}
			e.expires = d.AddDate(0, 0, 1)
		}
		ex.Entries = append(ex.Entries, e)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w:\n  %s", ErrBadExceptions, strings.Join(problems, "\n  "))
	}
	return ex, nil
}

// expired reports whether now is past the last day e applies.
func (e *Exception) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

func (e *Exception) matches(f Finding) bool {
	if f.Rule != e.Rule {
		return false
	}
	if e.Subject != "" {
		if ok, _ := path.Match(e.Subject, f.Subject); !ok {
			return false
		}
	}
	if e.Path != "" {
		r, _ := path.Match(e.Path, f.Reader.File)
		w, _ := path.Match(e.Path, f.Writer.File)
		if !r && !w {
			return false
		}
	}
	return true
}

// Apply splits findings into those still reported and those an exception
// silences, and adds findings about the exceptions themselves: EXCEPTION_EXPIRED
// for an entry past its date (it silences nothing) and EXCEPTION_UNUSED for
// one that matched nothing. A nil *Exceptions keeps every finding.
func (x *Exceptions) Apply(fs []Finding, now time.Time) (kept, silenced []Finding) {
	if x == nil {
		return fs, nil
	}
	used := make([]bool, len(x.Entries))
	for _, f := range fs {
		hit := false
		for i := range x.Entries {
			e := &x.Entries[i]
			if e.expired(now) {
				continue
			}
			if e.matches(f) {
				used[i], hit = true, true
				break
			}
		}
		if hit {
			silenced = append(silenced, f)
		} else {
			kept = append(kept, f)
		}
	}
	for i, e := range x.Entries {
		loc := Location{File: x.File, Line: e.Line, Col: 1}
		target := e.Subject
		if target == "" {
			target = e.Path
		}
		switch {
		case e.expired(now):
			kept = append(kept, Finding{Rule: ExceptionExpired.ID, Subject: e.Subject, Reader: loc,
				Message: fmt.Sprintf("exception for %s on %s expired on %s; fix the change, or renew the exception with a new date and reason", e.Rule, target, e.Expires)})
		case !used[i]:
			kept = append(kept, Finding{Rule: ExceptionUnused.ID, Subject: e.Subject, Reader: loc,
				Message: fmt.Sprintf("exception for %s on %s matches no finding; delete it", e.Rule, target)})
		}
	}
	return kept, silenced
}

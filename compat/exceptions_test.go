package compat_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/compat"
)

func TestParseExceptions(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		entries int    // when valid
		wantErr string // substring of the error, "" when valid
	}{
		{name: "valid", entries: 2, data: "exceptions:\n" +
			"  - rule: TYPE_CHANGED\n    subject: s\n    reason: r\n    expires: 2030-01-01\n" +
			"  - rule: NAME_MISMATCH\n    path: a/*.avsc\n    reason: r\n"},
		{name: "empty file", entries: 0, data: ""},
		{name: "no reason", wantErr: "x.yaml:2: exception for TYPE_CHANGED has no reason",
			data: "exceptions:\n  - rule: TYPE_CHANGED\n    subject: s\n"},
		{name: "unknown rule", wantErr: `x.yaml:2: unknown rule "NOPE"`,
			data: "exceptions:\n  - rule: NOPE\n    subject: s\n    reason: r\n"},
		{name: "neither subject nor path", wantErr: "names neither subject nor path",
			data: "exceptions:\n  - rule: TYPE_CHANGED\n    reason: r\n"},
		{name: "bad date", wantErr: `expires "2026-13-01" is not a date`,
			data: "exceptions:\n  - rule: TYPE_CHANGED\n    subject: s\n    reason: r\n    expires: 2026-13-01\n"},
		// A misspelt key must not be ignored: "expire" would make a
		// temporary exception permanent without anyone noticing.
		{name: "misspelt expires", wantErr: `x.yaml:5: unknown key "expire" in an exception`,
			data: "exceptions:\n  - rule: TYPE_CHANGED\n    subject: s\n    reason: r\n    expire: 2020-01-01\n"},
		{name: "misspelt top-level key", wantErr: `x.yaml:1: unknown key "exception": the file holds one key, exceptions`,
			data: "exception:\n  - rule: TYPE_CHANGED\n    subject: s\n    reason: r\n"},
		{name: "entry is not a mapping", wantErr: "x.yaml:2:",
			data: "exceptions:\n  - TYPE_CHANGED\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := compat.ParseExceptions("x.yaml", []byte(tt.data))
			if tt.wantErr != "" {
				if !errors.Is(err, compat.ErrBadExceptions) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBadExceptions containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ex.Entries) != tt.entries {
				t.Fatalf("%d entries, want %d", len(ex.Entries), tt.entries)
			}
		})
	}
}

// TestExceptionExpiry: an exception applies through its expires day and is
// reported as expired (silencing nothing) from the next day on.
func TestExceptionExpiry(t *testing.T) {
	ex, err := compat.ParseExceptions("x.yaml", []byte("exceptions:\n  - rule: TYPE_CHANGED\n    subject: s\n    reason: r\n    expires: 2026-06-30\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := compat.Finding{Rule: "TYPE_CHANGED", Subject: "s"}
	tests := []struct {
		name     string
		now      time.Time
		silenced int
		kept     []compat.RuleID
	}{
		{name: "before", now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), silenced: 1},
		{name: "last day", now: time.Date(2026, 6, 30, 23, 59, 0, 0, time.UTC), silenced: 1},
		{name: "day after", now: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), kept: []compat.RuleID{"TYPE_CHANGED", "EXCEPTION_EXPIRED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, silenced := ex.Apply([]compat.Finding{f}, tt.now)
			var rules []compat.RuleID
			for _, k := range kept {
				rules = append(rules, k.Rule)
			}
			if len(silenced) != tt.silenced || strings.Join(toStrings(rules), ",") != strings.Join(toStrings(tt.kept), ",") {
				t.Fatalf("kept %v, silenced %d; want kept %v, silenced %d", rules, len(silenced), tt.kept, tt.silenced)
			}
		})
	}
}

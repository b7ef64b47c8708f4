package compat_test

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/schemas"
)

// TestRuleTable: one table holds every rule, contract rules included, each
// with a scope, so SeverityOf (and so every printer) knows them all.
func TestRuleTable(t *testing.T) {
	tests := []struct {
		name     string
		scopes   []compat.Scope
		want     []compat.RuleID // in this order
		severity compat.Severity // of every rule in want
	}{
		{name: "contract rules", scopes: []compat.Scope{compat.ScopeContract}, severity: compat.Error,
			want: []compat.RuleID{"CONTRACT_FIELD_NOT_WRITTEN", "CONTRACT_EVENT_MISSING", "CONTRACT_SUBJECT_MOVED"}},
		{name: "exceptions rules", scopes: []compat.Scope{compat.ScopeExceptions},
			want: []compat.RuleID{"EXCEPTION_UNUSED", "EXCEPTION_EXPIRED"}},
		{name: "documentation order, not argument order", scopes: []compat.Scope{compat.ScopeContract, compat.ScopeExceptions},
			want: []compat.RuleID{"EXCEPTION_UNUSED", "EXCEPTION_EXPIRED", "CONTRACT_FIELD_NOT_WRITTEN", "CONTRACT_EVENT_MISSING", "CONTRACT_SUBJECT_MOVED"}},
		{name: "no scopes", scopes: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []compat.RuleID
			for _, r := range compat.RulesIn(tt.scopes...) {
				got = append(got, r.ID)
				if tt.severity != "" && compat.SeverityOf(r.ID) != tt.severity {
					t.Errorf("%s: severity %s, want %s", r.ID, compat.SeverityOf(r.ID), tt.severity)
				}
				if r2, ok := compat.RuleByID(r.ID); !ok || r2 != r {
					t.Errorf("RuleByID(%s) = %+v, %v", r.ID, r2, ok)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("RulesIn(%v) = %v, want %v", tt.scopes, got, tt.want)
			}
		})
	}
	var total int
	for _, s := range []compat.Scope{compat.ScopeResolution, compat.ScopeTree, compat.ScopeExceptions, compat.ScopeContract} {
		total += len(compat.RulesIn(s))
	}
	if total != len(compat.Rules()) {
		t.Fatalf("%d rules in the four scopes, %d in the table: every rule needs a scope", total, len(compat.Rules()))
	}
	if compat.SeverityOf("NO_SUCH_RULE") != compat.Error || compat.SeverityOf(compat.ExceptionUnused.ID) != compat.Warning {
		t.Fatal("SeverityOf: unknown IDs count as errors, EXCEPTION_UNUSED warns")
	}
}

// TestExceptionsRejectContractRules: the exceptions file belongs to
// `contrail check`, which never reports contract rules, so an exception for
// one could never match: it is rejected like an unknown rule.
func TestExceptionsRejectContractRules(t *testing.T) {
	tests := []struct {
		name string
		rule compat.RuleID
		ok   bool
	}{
		{name: "resolution rule", rule: compat.TypeChanged.ID, ok: true},
		{name: "tree rule", rule: compat.SubjectDeleted.ID, ok: true},
		{name: "contract rule", rule: compat.ContractFieldNotWritten.ID},
		{name: "unknown rule", rule: "NOT_A_RULE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compat.ParseExceptions("x.yaml", []byte(fmt.Sprintf("exceptions:\n  - rule: %s\n    subject: s\n    reason: r\n", tt.rule)))
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok %v", err, tt.ok)
			}
			if err != nil && (!errors.Is(err, compat.ErrBadExceptions) || !strings.Contains(err.Error(), "contrail check --help")) {
				t.Fatalf("err %v should wrap ErrBadExceptions and say where the rule IDs are", err)
			}
		})
	}
}

func TestInvalidInput(t *testing.T) {
	io := fmt.Errorf("read: %w", fs.ErrPermission)
	parse := fmt.Errorf("load: %w", schemas.ErrorList{{File: "a.avsc", Line: 1, Col: 2, Msg: "bad"}})
	tests := []struct {
		name    string
		err     error
		invalid bool
		is      error // still in the chain
	}{
		{name: "nil stays nil", err: nil},
		{name: "marked", err: compat.InvalidInput(io), invalid: true, is: fs.ErrPermission},
		{name: "schema tree that does not parse", err: compat.SchemaLoadErr(parse), invalid: true},
		{name: "no manifest", err: compat.SchemaLoadErr(fmt.Errorf("x: %w", schemas.ErrNoManifest)), invalid: true, is: schemas.ErrNoManifest},
		{name: "I/O is not invalid input", err: compat.SchemaLoadErr(io), is: fs.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "nil stays nil" {
				if compat.InvalidInput(nil) != nil || compat.SchemaLoadErr(nil) != nil {
					t.Fatal("nil marked")
				}
				return
			}
			if errors.Is(tt.err, compat.ErrInvalidInput) != tt.invalid || (tt.is != nil && !errors.Is(tt.err, tt.is)) {
				t.Fatalf("%v: invalid %v (want %v), wraps %v: %v", tt.err, errors.Is(tt.err, compat.ErrInvalidInput), tt.invalid, tt.is, errors.Is(tt.err, tt.is))
			}
			if strings.Contains(tt.err.Error(), compat.ErrInvalidInput.Error()) {
				t.Fatalf("the mark changed the message: %q", tt.err)
			}
		})
	}
}

package baseline_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/baseline"
	"github.com/contrail-events/contrail/schemas"
)

// contractPrefix is contractPrefix: published consumer contracts.
// (contract sits above compat, so its tests cannot import it.)
const contractPrefix = "_contracts."

// ownedTree is a working tree with one event, shop.orders.Placed, on topic
// orders (TopicRecordName), and a second declared topic, refunds, that no
// event uses any more.
func ownedTree(t *testing.T) *schemas.Set {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "manifest.yaml"), `version: 1
defaults:
  strategy: TopicRecordName
  compatibility: BACKWARD
topics:
  - name: orders
  - name: refunds
events:
  - schema: shop.orders.Placed
    topic: orders
    key: id
    producers: [order]
    consumers: [billing]
`)
	write(t, filepath.Join(dir, "shop/orders/Placed.avsc"), record("shop.orders", "Placed"))
	set, err := schemas.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func record(namespace, name string, extra ...string) string {
	fields := append([]string{`{"name":"id","type":"string"}`}, extra...)
	return fmt.Sprintf(`{"type":"record","name":%q,"namespace":%q,"fields":[%s]}`, name, namespace, strings.Join(fields, ","))
}

// registered is one subject put in the registry before the check.
type registered struct {
	subject string
	schema  string
	soft    bool // soft-delete the subject afterwards
}

type found struct {
	rule    compat.RuleID
	subject string
}

// TestRegistryOwnedDeletedSubjects registers the tree's own subject plus
// one more subject per case in Contrail's registry over HTTP, and checks
// which of the extra subjects the working tree is blamed for deleting.
func TestRegistryOwnedDeletedSubjects(t *testing.T) {
	placed := record("shop.orders", "Placed")
	tests := []struct {
		name  string
		extra []registered
		want  []found
	}{
		{
			name:  "event dropped from the manifest, same namespace and topic",
			extra: []registered{{subject: "orders-shop.orders.Cancelled", schema: record("shop.orders", "Cancelled")}},
			want:  []found{{compat.SubjectDeleted.ID, "orders-shop.orders.Cancelled"}},
		},
		{
			name:  "RecordName subject in a namespace the tree defines",
			extra: []registered{{subject: "shop.orders.Archived", schema: record("shop.orders", "Archived")}},
			want:  []found{{compat.SubjectDeleted.ID, "shop.orders.Archived"}},
		},
		{
			name:  "TopicName subject of a manifest topic, whatever its namespace",
			extra: []registered{{subject: "refunds-value", schema: record("legacy", "Refund")}},
			want:  []found{{compat.SubjectDeleted.ID, "refunds-value"}},
		},
		{
			name:  "the tree's type under another subject",
			extra: []registered{{subject: "shop.orders.Placed", schema: placed}},
			want:  []found{{compat.SubjectMoved.ID, "orders-shop.orders.Placed"}},
		},
		{
			name: "another team's subjects",
			extra: []registered{
				{subject: "payments-value", schema: record("billing.payments", "Charged")},
				{subject: "billing.payments.Refunded", schema: record("billing.payments", "Refunded")},
				{subject: "shipments-shop.shipping.Sent", schema: record("shop.shipping", "Sent")},
				{subject: "audit-value", schema: `"string"`},
			},
		},
		{
			name:  "a sub-namespace is not the tree's namespace",
			extra: []registered{{subject: "v2-value", schema: record("shop.orders.v2", "Placed")}},
		},
		{
			name:  "a published contract",
			extra: []registered{{subject: contractPrefix + "billing.orders-shop.orders.Cancelled", schema: record("shop.orders", "Cancelled")}},
		},
		{
			name:  "a soft-deleted subject",
			extra: []registered{{subject: "orders-shop.orders.Refused", schema: record("shop.orders", "Refused"), soft: true}},
		},
	}
	set := ownedTree(t)
	next, err := compat.SnapshotOf(set, "working tree")
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	levels := map[string]compat.Level{}
	for _, e := range next.Entries {
		subjects = append(subjects, e.Subject)
		levels[e.Subject] = e.Level
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			url, cl := startRegistry(t)
			all := append([]registered{{subject: "orders-shop.orders.Placed", schema: placed}}, tt.extra...)
			for _, r := range all {
				if _, err := cl.CreateSchema(ctx, r.subject, sr.Schema{Schema: r.schema}); err != nil {
					t.Fatalf("register %s: %v", r.subject, err)
				}
				if r.soft {
					if _, err := cl.DeleteSubject(ctx, r.subject, sr.SoftDelete); err != nil {
						t.Fatalf("soft-delete %s: %v", r.subject, err)
					}
				}
			}
			history, err := baseline.RegistryOwned(ctx, url, subjects, levels, baseline.OwnershipOf(set))
			if err != nil {
				t.Fatal(err)
			}
			fs, err := compat.CheckTree(next, history, compat.TreeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []found
			for _, f := range fs {
				got = append(got, found{f.Rule, f.Subject})
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %v, want %v\n%v", got, tt.want, fs)
			}

			// Registry, asked only about the tree's subjects, sees none of it.
			old, err := baseline.Registry(ctx, url, subjects, levels)
			if err != nil {
				t.Fatal(err)
			}
			if fs, _ := compat.CheckTree(next, old, compat.TreeOptions{}); len(fs) != 0 {
				t.Fatalf("Registry (tree subjects only) findings = %v, want none", fs)
			}
		})
	}
}

// TestRegistryOwnedDeletedMessage: the finding for a deleted registry
// subject names the subject, its type and latest version, points at the
// manifest (where the event would be restored) and at the subject's REST
// path, says what to do, and two of them are not merged by Dedupe.
func TestRegistryOwnedDeletedMessage(t *testing.T) {
	ctx := context.Background()
	url, cl := startRegistry(t)
	set := ownedTree(t)
	next, err := compat.SnapshotOf(set, "working tree")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []registered{
		{subject: "orders-shop.orders.Placed", schema: record("shop.orders", "Placed")},
		{subject: "orders-shop.orders.Cancelled", schema: record("shop.orders", "Cancelled")},
		{subject: "orders-shop.orders.Cancelled", schema: record("shop.orders", "Cancelled", `{"name":"why","type":["null","string"],"default":null}`)},
		{subject: "shop.orders.Archived", schema: record("shop.orders", "Archived")},
	} {
		if _, err := cl.CreateSchema(ctx, r.subject, sr.Schema{Schema: r.schema}); err != nil {
			t.Fatalf("register %s: %v", r.subject, err)
		}
	}
	history, err := baseline.RegistryOwned(ctx, url, []string{"orders-shop.orders.Placed"}, nil, baseline.OwnershipOf(set))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := compat.CheckTree(next, history, compat.TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fs = compat.Dedupe(fs)
	if len(fs) != 2 {
		t.Fatalf("findings after Dedupe = %v, want 2 SUBJECT_DELETED", fs)
	}
	f := fs[0]
	if f.Subject != "orders-shop.orders.Cancelled" {
		f = fs[1]
	}
	for _, want := range []string{"orders-shop.orders.Cancelled", "(shop.orders.Cancelled)", "registry orders-shop.orders.Cancelled v2", "restore the event in the manifest", "delete the subject in the registry", "exceptions file"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	if f.Reader.File != schemas.ManifestFile || f.Writer.Path != "/subjects/orders-shop.orders.Cancelled/versions/latest" || f.Direction.Writer != "registry "+url {
		t.Errorf("finding locations: reader %+v, writer %+v (%s)", f.Reader, f.Writer, f.Direction.Writer)
	}

	// The exceptions file silences it like any other finding.
	ex, err := compat.ParseExceptions("compat-exceptions.yaml", []byte(`exceptions:
  - rule: SUBJECT_DELETED
    subject: "orders-shop.orders.Cancelled"
    reason: "consumers moved to OrderVoided in 2026-10; subject deleted next sprint"
`))
	if err != nil {
		t.Fatal(err)
	}
	kept, silenced := ex.Apply(fs, time.Now().UTC())
	if len(kept) != 1 || len(silenced) != 1 || silenced[0].Subject != "orders-shop.orders.Cancelled" {
		t.Fatalf("with the exception: kept %v, silenced %v", kept, silenced)
	}
}

// TestRegistryOwnedUnreachable: listing subjects fails with ErrRegistry.
func TestRegistryOwnedUnreachable(t *testing.T) {
	own := baseline.Ownership{Namespaces: []string{"shop.orders"}}
	_, err := baseline.RegistryOwned(context.Background(), "http://127.0.0.1:1", nil, nil, own)
	if !errors.Is(err, baseline.ErrRegistry) || !strings.Contains(err.Error(), "list subjects") {
		t.Fatalf("err = %v, want ErrRegistry naming the listing", err)
	}
}

func TestOwns(t *testing.T) {
	own := baseline.Ownership{Namespaces: []string{"shop.common", "shop.orders"}, Topics: []string{"orders"}}
	tests := []struct {
		name, subject, fullName string
		want                    bool
	}{
		{"TopicRecordName of a topic", "orders-legacy.Old", "legacy.Old", true},
		{"TopicName of a topic", "orders-value", "", true},
		{"key subject of a topic", "orders-key", "", false},
		{"namespace", "anything", "shop.orders.X", true},
		{"other namespace", "payments-value", "billing.payments.Charged", false},
		{"sub-namespace", "x", "shop.orders.v2.X", false},
		{"namespace prefix", "x", "shop.ordersarchive.X", false},
		{"not a named type", "audit-value", "", false},
		{"contract", contractPrefix + "billing.orders-value", "shop.orders.Placed", false},
		{"registry context", ":.dr:orders-value", "shop.orders.Placed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := own.Owns(tt.subject, tt.fullName); got != tt.want {
				t.Fatalf("Owns(%q, %q) = %v, want %v", tt.subject, tt.fullName, got, tt.want)
			}
		})
	}
	if (baseline.Ownership{}).Owns("orders-value", "shop.orders.X") {
		t.Fatal("the zero Ownership owns a subject")
	}
}

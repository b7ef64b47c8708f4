package schemas_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/schemas"
)

func TestManifestValidation(t *testing.T) {
	const head = "version: 1\ntopics:\n  - name: orders\n  - name: audit\nevents:\n"
	tests := []struct {
		name     string
		manifest string
		want     string // "line:col: message substring"
	}{
		{
			name:     "unknown schema",
			manifest: head + "  - schema: shop.orders.Placd\n    topic: orders\n    key: id\n",
			want:     `6:13: unknown schema "shop.orders.Placd": no .avsc defines it (expected shop/orders/Placd.avsc); did you mean "shop.orders.Placed"?`,
		},
		{
			name:     "schema is not a record",
			manifest: head + "  - schema: shop.common.Currency\n    topic: orders\n    key: id\n",
			want:     `6:13: schema "shop.common.Currency" is a enum: an event must be a record`,
		},
		{
			name:     "unknown strategy",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n    strategy: TopicNames\n    key: id\n",
			want:     `8:15: unknown subject naming strategy "TopicNames": use TopicName, RecordName or TopicRecordName`,
		},
		{
			name:     "unknown default strategy",
			manifest: "version: 1\ndefaults:\n  strategy: Topic\ntopics: [{name: orders}]\nevents:\n  - {schema: shop.orders.Placed, topic: orders, key: id}\n",
			want:     `3:13: unknown subject naming strategy "Topic"`,
		},
		{
			name:     "unknown compatibility level",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n    compatibility: BACKWARDS\n    key: id\n",
			want:     `8:20: unknown compatibility level "BACKWARDS": use one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE`,
		},
		{
			name:     "unknown types compatibility level",
			manifest: "version: 1\ndefaults:\n  types_compatibility: STRICT\ntopics: [{name: orders}]\nevents: []\n",
			want:     `3:24: unknown compatibility level "STRICT"`,
		},
		{
			name: "two events collide on one subject",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n    strategy: TopicName\n    key: id\n" +
				"  - schema: shop.orders.Cancelled\n    topic: orders\n    strategy: TopicName\n    key: id\n",
			want: `10:13: subject "orders-value" of shop.orders.Cancelled collides with shop.orders.Placed (line 6): one subject holds one event type; use RecordName or TopicRecordName`,
		},
		{
			name:     "key field missing from the record",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n    key: orderId\n",
			want:     `8:10: key field "orderId" is not a field of shop.orders.Placed: use one of its top-level fields (id, total, note, tags)`,
		},
		{
			name:     "key field of a complex type",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n    key: total\n",
			want:     `8:10: key field "total" of shop.orders.Placed cannot be a partition key`,
		},
		{
			name:     "topic not declared",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: order\n    key: id\n",
			want:     `7:12: topic "order" is not declared: add it under topics (declared: audit, orders)`,
		},
		{
			name:     "event listed twice",
			manifest: head + "  - {schema: shop.orders.Placed, topic: orders, key: id}\n  - {schema: shop.orders.Placed, topic: audit, key: id}\n",
			want:     `7:14: event shop.orders.Placed is listed twice (first at line 6)`,
		},
		{
			name:     "missing key",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n",
			want:     `6:5: event shop.orders.Placed needs "key"`,
		},
		{
			name:     "topic declared twice",
			manifest: "version: 1\ntopics:\n  - name: orders\n  - name: orders\nevents: []\n",
			want:     `4:11: topic "orders" is declared twice`,
		},
		{
			name:     "unknown manifest field",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n    key: id\n    partitionKey: id\n",
			want:     `9:5: unknown key "partitionKey": remove it or use one of schema, topic, strategy, compatibility, compatibility_group, key, producers, consumers`,
		},
		{
			name:     "topic written as a bare name",
			manifest: "version: 1\ntopics: [orders]\nevents: []\n",
			want:     `2:10: topics entry: want a mapping with keys name, partitions, got "orders"`,
		},
		{
			name:     "event written as a bare name",
			manifest: head + "  - shop.orders.Placed\n",
			want:     `6:5: events entry: want a mapping with keys schema, topic, strategy, compatibility, compatibility_group, key, producers, consumers, got "shop.orders.Placed"`,
		},
		{
			name:     "producers not a list",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n    key: id\n    producers: order\n",
			want:     `9:16: producers: want a list, e.g. [order], got "order"`,
		},
		{
			name:     "version not a number",
			manifest: "version: one\ntopics: []\nevents: []\n",
			want:     `1:10: version: want a whole number, got "one"`,
		},
		{
			name:     "misspelt event key",
			manifest: head + "  - schema: shop.orders.Placed\n    topic: orders\n    key: id\n    stratgy: RecordName\n",
			want:     `9:5: unknown key "stratgy" (did you mean "strategy"?)`,
		},
		{
			name:     "misspelt defaults key",
			manifest: "version: 1\ndefaults:\n  compatibilty: FULL\ntopics: []\nevents: []\n",
			want:     `3:3: unknown key "compatibilty" (did you mean "compatibility"?): remove it or use one of strategy, compatibility, partitions, types_compatibility`,
		},
		{
			name:     "unsupported version",
			manifest: "version: 2\ntopics: []\nevents: []\n",
			want:     `1:10: unsupported manifest version 2`,
		},
		{
			name:     "invalid YAML",
			manifest: "version: 1\ntopics: [\n",
			want:     `invalid YAML`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schemas.LoadFS(baseFS(t, map[string]string{"manifest.yaml": tt.manifest}))
			var list schemas.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			if len(list) != 1 {
				t.Errorf("want exactly one problem, got:\n%v", err)
			}
			for _, e := range list {
				if e.File == "manifest.yaml" && strings.Contains(e.Location()+": "+e.Msg, tt.want) {
					return
				}
			}
			t.Errorf("error:\n%v\nwant manifest.yaml:%s", err, tt.want)
		})
	}
}

func TestManifestDefaults(t *testing.T) {
	set, err := schemas.LoadFS(baseFS(t, map[string]string{
		"manifest.yaml": "version: 1\ntopics: [{name: orders, partitions: 6}, {name: audit}]\nevents:\n  - {schema: shop.orders.Placed, topic: orders, key: id, producers: [a], consumers: [b, c]}\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	e := set.Events[0]
	if e.Strategy != schemas.DefaultStrategy || e.Subject != "orders-value" || e.Compatibility != "BACKWARD" {
		t.Errorf("defaults not applied: %+v", e)
	}
	if strings.Join(e.Consumers, ",") != "b,c" || e.Producers[0] != "a" || e.Line != 4 {
		t.Errorf("event = %+v", e)
	}
	if set.Topics[0].Partitions != 6 || set.Topics[1].Partitions != schemas.DefaultPartitions || set.TypesCompatibility != "BACKWARD" {
		t.Errorf("topics = %+v, types compat %s", set.Topics, set.TypesCompatibility)
	}
}

package registry

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
)

// FuzzDecodeKafkaRecord feeds arbitrary keys and values, seeded with the
// Confluent fixture, to the `_schemas` record decoder: it must never
// panic, and what it decodes must apply to a store and encode again.
func FuzzDecodeKafkaRecord(f *testing.F) {
	fh, err := os.Open("testdata/kafka/confluent_schemas.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		if ok && !strings.HasPrefix(k, "#") {
			f.Add([]byte(k), []byte(v), v == "null")
		}
	}
	f.Fuzz(func(t *testing.T, key, value []byte, tombstone bool) {
		if tombstone {
			value = nil
		}
		view := NewMemoryStore()
		b, err := decodeRecord(key, value, view)
		if err != nil {
			return
		}
		if err := view.Apply(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		lookup := func(c string, id int) (SchemaRecord, bool) {
			r, ok := view.schemas[schemaKey{c, id}]
			return r, ok
		}
		if _, err := encodeBatch(b, lookup); err != nil {
			t.Fatalf("decoded batch %+v does not encode: %v", b, err)
		}
	})
}

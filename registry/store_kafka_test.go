package registry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
)

// openKafkaStore opens a KafkaStore on addr and topic, closed when t ends.
func openKafkaStore(t *testing.T, addr, topic string) *registry.KafkaStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := registry.OpenKafkaStore(ctx, registry.KafkaBrokers(addr), registry.KafkaTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKafkaConformance(t *testing.T) {
	b := brokertest.Start(t)
	base := registrytest.ServeStore(t, openKafkaStore(t, b.Addr(), registry.DefaultKafkaTopic))
	registrytest.Run(t, base)
}

// httpGet answers path on base: the status and the body.
func httpGet(t testing.TB, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// jsonEqual reports whether a and b are the same JSON value.
func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// produceFixture writes testdata/kafka/confluent_schemas.txt to topic on
// addr, each record's key and value byte for byte.
func produceFixture(t *testing.T, addr, topic string) {
	t.Helper()
	produceFixtureFile(t, addr, topic, "testdata/kafka/confluent_schemas.txt")
}

// produceFixtureFile writes the fixture file (a key, a tab and a value per
// line) to topic on addr, each record's key and value byte for byte.
func produceFixtureFile(t *testing.T, addr, topic, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	compact := "compact"
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, -1, map[string]*string{"cleanup.policy": &compact}, topic); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("fixture line without a tab: %q", line)
		}
		r := &kgo.Record{Topic: topic, Key: []byte(k)}
		if v != "null" {
			r.Value = []byte(v)
		}
		recs = append(recs, r)
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// confluentFixtureWant is what a registry loaded from the fixture answers.
var confluentFixtureWant = []struct {
	name, path string
	status     int
	body       string // JSON, compared as a value; "" checks the status only
}{
	{name: "global config", path: "/config", status: 200, body: `{"compatibilityLevel":"FULL"}`},
	{name: "global mode", path: "/mode", status: 200, body: `{"mode":"READWRITE"}`},
	{name: "live subjects", path: "/subjects", status: 200, body: `[":.staging:orders-value","money","orders-value","payments-value","soft-value"]`},
	{name: "versions", path: "/subjects/orders-value/versions", status: 200, body: `[1,2]`},
	{name: "soft-deleted version hidden", path: "/subjects/soft-value/versions", status: 200, body: `[2]`},
	{name: "soft-deleted version kept", path: "/subjects/soft-value/versions?deleted=true", status: 200, body: `[1,2]`},
	{name: "DELETE_SUBJECT soft-deletes", path: "/subjects/gone-value/versions?deleted=true", status: 200, body: `[1,2]`},
	{name: "DELETE_SUBJECT hides", path: "/subjects/gone-value/versions", status: 404},
	{name: "tombstone deletes for good", path: "/subjects/hard-value/versions?deleted=true", status: 404},
	{name: "CLEAR_SUBJECT deletes for good", path: "/subjects/cleared-value/versions?deleted=true", status: 404},
	{name: "references", path: "/schemas/ids/4", status: 200,
		body: `{"schema":"{\"type\":\"record\",\"name\":\"Payment\",\"namespace\":\"demo\",\"fields\":[{\"name\":\"amount\",\"type\":\"demo.Money\"}]}","schemaType":"AVRO","references":[{"name":"demo.Money","subject":"money","version":1}]}`},
	{name: "version id", path: "/subjects/orders-value/versions/2", status: 200,
		body: `{"subject":"orders-value","version":2,"id":2,"schemaType":"AVRO","schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"int\",\"default\":0}]}"}`},
	{name: "subject config", path: "/config/orders-value", status: 200, body: `{"compatibilityLevel":"FORWARD","normalize":true}`},
	{name: "config tombstone then set", path: "/config/payments-value", status: 200, body: `{"compatibilityLevel":"NONE"}`},
	{name: "subject mode", path: "/mode/money", status: 200, body: `{"mode":"READONLY"}`},
	{name: "contexts", path: "/contexts", status: 200, body: `[".",".staging"]`},
	{name: "context schema", path: "/schemas/ids/1?subject=:.staging:", status: 200, body: `{"schemaType":"JSON","schema":"{\"type\":\"object\"}"}`},
}

func TestKafkaStoreLoadsConfluentTopic(t *testing.T) {
	b := brokertest.Start(t)
	produceFixture(t, b.Addr(), "_schemas")
	store := openKafkaStore(t, b.Addr(), "_schemas")
	base := registrytest.ServeStore(t, store)
	for _, tt := range confluentFixtureWant {
		t.Run(tt.name, func(t *testing.T) {
			status, body := httpGet(t, base, tt.path)
			if status != tt.status || (tt.body != "" && !jsonEqual(body, tt.body)) {
				t.Errorf("GET %s = %d %s, want %d %s", tt.path, status, body, tt.status, tt.body)
			}
		})
	}
	if n := store.Skipped(); n != 0 {
		t.Errorf("Skipped = %d, want 0", n)
	}
}

// TestKafkaStoreReadsBackWhatItWrites loads the fixture, writes more
// through the registry (every kind of record), and checks that a second
// store reading the topic from scratch answers every request the same.
func TestKafkaStoreReadsBackWhatItWrites(t *testing.T) {
	b := brokertest.Start(t)
	produceFixture(t, b.Addr(), "_schemas")
	first := registrytest.ServeStore(t, openKafkaStore(t, b.Addr(), "_schemas"))
	send := func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, first+path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 && resp.StatusCode != 204 {
			t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, out)
		}
	}
	send("POST", "/subjects/new-value/versions", `{"schema":"{\"type\":\"record\",\"name\":\"New\",\"fields\":[]}"}`)
	send("POST", "/subjects/also-money/versions", `{"schema":"{\"type\":\"record\",\"name\":\"Money\",\"namespace\":\"demo\",\"fields\":[{\"name\":\"cents\",\"type\":\"long\"}]}"}`)
	send("POST", "/subjects/ref-value/versions", `{"schema":"{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"demo\",\"fields\":[{\"name\":\"m\",\"type\":\"demo.Money\"}]}","references":[{"name":"demo.Money","subject":"money","version":1}]}`)
	send("POST", "/subjects/:.prod:x-value/versions", `{"schema":"\"string\""}`)
	send("PUT", "/config", `{"compatibility":"BACKWARD_TRANSITIVE"}`)
	send("PUT", "/config/new-value", `{"compatibility":"NONE","normalize":false}`)
	send("DELETE", "/config/payments-value", "")
	send("PUT", "/mode/new-value", `{"mode":"READONLY"}`)
	send("DELETE", "/mode/money", "")
	send("DELETE", "/subjects/orders-value/versions/1", "")
	send("DELETE", "/subjects/soft-value", "")
	send("DELETE", "/subjects/soft-value?permanent=true", "")
	send("DELETE", "/contexts/.staging", "")

	second := registrytest.ServeStore(t, openKafkaStore(t, b.Addr(), "_schemas"))
	paths := []string{
		"/config", "/mode", "/subjects", "/subjects?deleted=true", "/contexts", "/schemas",
		"/subjects/new-value/versions/1", "/subjects/also-money/versions/1", "/subjects/ref-value/versions/1",
		"/subjects/:.prod:x-value/versions/1", "/config/new-value", "/config/payments-value",
		"/mode/new-value", "/mode/money", "/subjects/orders-value/versions?deleted=true",
		"/subjects/soft-value/versions?deleted=true", "/schemas/ids/8", "/schemas/ids/9",
	}
	for _, p := range paths {
		s1, b1 := httpGet(t, first, p)
		s2, b2 := httpGet(t, second, p)
		if s1 != s2 || b1 != b2 {
			t.Errorf("GET %s: writer %d %s, reader %d %s", p, s1, b1, s2, b2)
		}
		if strings.Contains(p, "/versions/1") && s1 != 200 {
			t.Errorf("GET %s = %d %s, want 200", p, s1, b1)
		}
	}
}

// TestKafkaStoreWritesConfluentRecords checks the bytes of the records a
// KafkaStore writes against what Confluent writes for the same change.
func TestKafkaStoreWritesConfluentRecords(t *testing.T) {
	b := brokertest.Start(t)
	base := registrytest.ServeStore(t, openKafkaStore(t, b.Addr(), "_schemas"))
	for _, w := range []struct{ method, path, body string }{
		{"PUT", "/config", `{"compatibility":"FULL"}`},
		{"POST", "/subjects/s/versions", `{"schema":"\"string\""}`},
		{"PUT", "/mode/s", `{"mode":"READONLY"}`},
		{"DELETE", "/mode/s", ""},
		{"DELETE", "/subjects/s/versions/1", ""},
		{"DELETE", "/subjects/s/versions/1?permanent=true", ""},
	} {
		req, _ := http.NewRequest(w.method, base+w.path, strings.NewReader(w.body))
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s = %d", w.method, w.path, resp.StatusCode)
		}
	}
	want := []string{
		`{"keytype":"CONFIG","subject":null,"magic":0}	{"compatibilityLevel":"FULL"}`,
		`{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}	{"subject":"s","version":1,"id":1,"schema":"\"string\"","deleted":false}`,
		`{"keytype":"MODE","subject":"s","magic":0}	{"mode":"READONLY"}`,
		`{"keytype":"MODE","subject":"s","magic":0}	null`,
		`{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}	{"subject":"s","version":1,"id":1,"schema":"\"string\"","deleted":true}`,
		`{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}	null`,
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("_schemas"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for len(got) < len(want) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			v := "null"
			if r.Value != nil {
				v = string(r.Value)
			}
			got = append(got, string(r.Key)+"\t"+v)
		})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

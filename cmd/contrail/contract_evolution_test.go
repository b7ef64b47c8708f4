package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/wire"
)

// The evolution fixtures: three versions of the OrderPlaced slice of the
// schema tree, and for v1 and v2 the generated Go packages and a producer/
// consumer program built from them (contract/testdata/evolution/vN).
var evolutionDir = filepath.Join("..", "..", "contract", "testdata", "evolution")

func evoSchemas(v string) string { return filepath.Join(evolutionDir, v, "schemas") }

// buildEvolutionApp compiles version v's program; each version is its own
// binary, as two deployed versions of a service are.
func buildEvolutionApp(t *testing.T, v string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), v+"-app")
	cmd := exec.Command("go", "build", "-o", out, "./contract/testdata/evolution/"+v+"/app")
	cmd.Dir = filepath.Join("..", "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s app: %v\n%s", v, err, b)
	}
	return out
}

// runApp runs a version's program and returns its stdout lines; it fails
// the test on a non-zero exit or any warning or error it logs.
func runApp(t *testing.T, bin string, args ...string) []map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr: %s", filepath.Base(bin), args[0], err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Fatalf("%s %s logged problems:\n%s", filepath.Base(bin), args[0], stderr.String())
	}
	var out []map[string]any
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad output line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func byOrder(events []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, e := range events {
		out[e["orderId"].(string)] = e
	}
	return out
}

// TestEvolveOrderPlaced is the README's "Evolving an event" tutorial as a
// test, on the embedded broker and our registry over real HTTP:
//
//  1. v1 of OrderPlaced is in production (pushed, events in the topic).
//  2. v2 adds a field with a default and an enum symbol covered by the
//     enum's default: check and contract verify pass, the registry accepts.
//  3. Rolling upgrade both ways: v1 consumers read v2 events, v2 consumers
//     read v1 events (defaults filled); no error, no dead letter.
//  4. v3 removes a field consumers read: check exits 100 with the rule and
//     line, contract verify names the consumers, the registry answers 409.
func TestEvolveOrderPlaced(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs and runs a broker: skipped with -short")
	}
	const n = 5
	ctx := context.Background()
	url := registrytest.Serve(t)
	b, err := broker.New(broker.Addr("127.0.0.1:0"), broker.Topics(broker.Topic{Name: "orders", Partitions: 3}), broker.DeadLetterTopics(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	brokers := b.Addr()
	v1app, v2app := buildEvolutionApp(t, "v1"), buildEvolutionApp(t, "v2")
	common := []string{"-brokers", brokers, "-registry", url}

	// 1. v1 in production: schemas pushed, consumers' contracts exported, events written.
	if code, out, errOut := runCLI(t, "registry", "push", "--registry", url, "--schemas", evoSchemas("v1")); code != exitOK {
		t.Fatalf("push v1: %d\n%s%s", code, out, errOut)
	}
	v1contracts := filepath.Join(t.TempDir(), "contracts")
	if code, out, errOut := runCLI(t, "contract", "export", "--schemas", evoSchemas("v1"), "--contracts", v1contracts); code != exitOK {
		t.Fatalf("export v1 contracts: %d\n%s%s", code, out, errOut)
	}
	runApp(t, v1app, append([]string{"produce", "-n", itoa(n)}, common...)...)

	// 2. v2: compatible with v1 and with the v1 consumers' contracts; the registry accepts it.
	if code, out, errOut := runCLI(t, "check", "--schemas", evoSchemas("v2"), "--against", url); code != exitOK {
		t.Fatalf("check v2 against the registry: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "contract", "verify", "--schemas", evoSchemas("v2"), "--contracts", v1contracts); code != exitOK {
		t.Fatalf("contract verify v2: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "registry", "push", "--registry", url, "--schemas", evoSchemas("v2")); code != exitOK {
		t.Fatalf("push v2: %d\n%s%s", code, out, errOut)
	}
	runApp(t, v2app, append([]string{"produce", "-n", itoa(n)}, common...)...)

	// 3. Rolling upgrade: both consumer versions read all 2n events.
	v1read := byOrder(runApp(t, v1app, append([]string{"consume", "-n", itoa(2 * n), "-group", "inventory-v1"}, common...)...))
	v2read := byOrder(runApp(t, v2app, append([]string{"consume", "-n", itoa(2 * n), "-group", "inventory-v2"}, common...)...))
	if len(v1read) != 2*n || len(v2read) != 2*n {
		t.Fatalf("v1 consumer read %d distinct orders, v2 consumer %d; want %d each", len(v1read), len(v2read), 2*n)
	}
	for id, e := range v1read {
		if _, has := e["giftWrap"]; has {
			t.Fatalf("v1 consumer's type has giftWrap: %v", e)
		}
		// v2 wrote MARKETPLACE, which v1 does not know: the enum default applies.
		want := "WEB"
		if strings.HasPrefix(id, "2") {
			want = "UNKNOWN"
		}
		if e["channel"] != want {
			t.Errorf("v1 consumer read %s with channel %v, want %s", id, e["channel"], want)
		}
	}
	for id, e := range v2read {
		v1event := strings.HasPrefix(id, "1")
		// v1 events lack giftWrap: the v2 reader fills the default, false.
		if e["giftWrap"] != !v1event {
			t.Errorf("v2 consumer read %s with giftWrap %v, want %v", id, e["giftWrap"], !v1event)
		}
		want := map[bool]string{true: "WEB", false: "MARKETPLACE"}[v1event]
		if e["channel"] != want {
			t.Errorf("v2 consumer read %s with channel %v, want %s", id, e["channel"], want)
		}
	}
	assertNoDeadLetters(ctx, t, brokers, "orders"+wire.DLQSuffix)

	// 4. v3 removes `total`, which the v2 consumers read.
	v2contracts := filepath.Join(t.TempDir(), "contracts")
	if code, out, errOut := runCLI(t, "contract", "export", "--schemas", evoSchemas("v2"), "--contracts", v2contracts); code != exitOK {
		t.Fatalf("export v2 contracts: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "check", "--schemas", evoSchemas("v3"), "--against", url)
	if code != exitBreaking || !strings.Contains(out, "READER_FIELD_MISSING_DEFAULT") || !strings.Contains(out, `"total"`) {
		t.Fatalf("check v3: code %d, want %d\n%s%s", code, exitBreaking, out, errOut)
	}
	// The finding points at the v3 file's fields array, where `total` was.
	v3text, err := os.ReadFile(filepath.Join(evoSchemas("v3"), "contrail", "orders", "OrderPlaced.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	line, col := 0, 0
	for i, l := range strings.Split(string(v3text), "\n") {
		if j := strings.Index(l, `"fields": [`); j >= 0 {
			line, col = i+1, j+len(`"fields": [`)
		}
	}
	if want := "contract/testdata/evolution/v3/schemas/contrail/orders/OrderPlaced.avsc:" + itoa(line) + ":" + itoa(col) + ": error READER_FIELD_MISSING_DEFAULT"; !strings.Contains(out, want) {
		t.Fatalf("check v3 does not report %q:\n%s", want, out)
	}
	code, out, errOut = runCLI(t, "contract", "verify", "--schemas", evoSchemas("v3"), "--contracts", v2contracts)
	if code != exitBreaking || !strings.Contains(out, "consumer payment") || !strings.Contains(out, "consumer inventory") || !strings.Contains(out, `"total"`) {
		t.Fatalf("contract verify v3: code %d, want %d\n%s%s", code, exitBreaking, out, errOut)
	}
	// At BACKWARD_TRANSITIVE, the level many teams start with (the repository
	// uses FULL_TRANSITIVE for OrderPlaced), the removal passes `contrail
	// check`: only the contracts catch it.
	if code, out, errOut := runCLI(t, "check", "--schemas", evoSchemas("v3"), "--against", url, "--level", "BACKWARD_TRANSITIVE"); code != exitOK {
		t.Fatalf("check v3 at BACKWARD_TRANSITIVE: %d\n%s%s", code, out, errOut)
	}
	status, body := registerV3(t, url)
	if status != http.StatusConflict {
		t.Fatalf("registry accepted v3: %d %s", status, body)
	}
	if code, _, errOut := runCLI(t, "registry", "push", "--registry", url, "--schemas", evoSchemas("v3")); code == exitOK {
		t.Fatalf("registry push v3 succeeded\n%s", errOut)
	}
}

// registerV3 posts v3's OrderPlaced to its subject, with the references the
// registered v2 uses, and returns the HTTP status and body.
func registerV3(t *testing.T, url string) (int, string) {
	t.Helper()
	const subject = "orders-contrail.orders.OrderPlaced"
	resp, err := http.Get(url + "/subjects/" + subject + "/versions/latest")
	if err != nil {
		t.Fatal(err)
	}
	var latest struct {
		References json.RawMessage `json:"references"`
	}
	err = json.NewDecoder(resp.Body).Decode(&latest)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(evoSchemas("v3"), "contrail", "orders", "OrderPlaced.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"schema": string(text), "references": latest.References})
	resp, err = http.Post(url+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func assertNoDeadLetters(ctx context.Context, t *testing.T, brokers, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	found := false
	ends.Each(func(o kadm.ListedOffset) {
		found = true
		total += o.Offset
	})
	if !found {
		t.Fatalf("dead-letter topic %s does not exist", topic)
	}
	if total != 0 {
		t.Fatalf("%d records were dead-lettered to %s", total, topic)
	}
}

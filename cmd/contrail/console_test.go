package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/console"
	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/platform/loadgen"
	"github.com/contrail-events/contrail/platform/platformtest"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/tracing/tracingtest"
	"github.com/contrail-events/contrail/wire"
)

func TestConsoleRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "broker without port", args: []string{"--brokers", "kafka"}, want: "not host:port"},
		{name: "bad registry URL", args: []string{"--registry", "sr.example.com"}, want: "registry"},
		{name: "bad Jaeger URL", args: []string{"--jaeger", "jaeger:16686"}, want: "Jaeger URL"},
		{name: "missing schema tree", args: []string{"--schemas", "/no/such/dir"}, want: "--schemas"},
		{name: "empty mask path", args: []string{"--mask", ""}, want: "masked field path"},
		{name: "unknown SASL mechanism", env: map[string]string{"KAFKA_SASL_MECHANISM": "GSSAPI"}, want: "KAFKA_SASL_MECHANISM"},
		{name: "port taken", args: []string{"--addr", "taken"}, want: "listen on"},
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"console", "--contracts", t.TempDir()}, tt.args...)
			if i := slices.Index(args, "taken"); i >= 0 {
				args[i] = busy.Addr().String()
			}
			code, _, errOut := runCLI(t, args...)
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Fatalf("code %d, stderr %q; want exit %d naming %q", code, errOut, exitError, tt.want)
			}
		})
	}
}

// TestConsoleServes runs `contrail console` on a free port, fetches a page
// and the stylesheet, and stops it with the context.
func TestConsoleServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"console", "--addr", "127.0.0.1:0", "--read-only", "--brokers", "127.0.0.1:1", "--contracts", "../../contracts"}, &out, &errOut)
	}()
	re := regexp.MustCompile(`console +(http://[0-9.:]+) \(read-only\)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no address printed: %q %q", out.String(), errOut.String())
	}
	for path, want := range map[string]string{"/assets/console.css": "focus-visible", "/": "Connected to", "/nowhere": "No such page"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %s\n%s", path, resp.Status, b)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("console did not stop with its context")
	}
}

// consoleStack is `contrail up` in-process (broker, registry, the four
// services as subprocesses exporting to a real Jaeger) plus a console on a
// loopback port, as a user would run both.
type consoleStack struct {
	p       *platform.Platform
	jaeger  *tracingtest.Jaeger
	console string
	order   string
	sr      *sr.Client
	kcl     *kgo.Client
}

// buildContrail builds the contrail binary the platform runs its services
// with.
func buildContrail(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "contrail")
	out, err := exec.Command("go", "build", "-o", bin, platformtest.Package).CombinedOutput()
	if err != nil {
		t.Fatalf("build the contrail binary: %v\n%s", err, out)
	}
	return bin
}

func startConsoleStack(t *testing.T) *consoleStack {
	t.Helper()
	j := tracingtest.StartJaeger(t)
	dir := t.TempDir()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg := platformtest.Config(buildContrail(t), dir, "OTEL_EXPORTER_OTLP_ENDPOINT="+j.OTLPHTTP, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	cfg.Out = &out
	p, err := platform.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start the platform: %v\n%s", err, out.String())
	}
	t.Cleanup(func() { p.Close() })
	c, err := console.New(console.Brokers(p.BrokerAddr), console.Registry(p.RegistryURL), console.Jaeger(j.QueryURL),
		console.OrderService(p.ServiceURLs["order"]), console.OrderServiceToken(p.AdminToken),
		console.ContractsDir("../../contracts"), console.MaskFields("payment.cardToken"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { _ = c.Serve(sctx, ln); close(served) }()
	t.Cleanup(func() { stop(); <-served })
	cl, _, err := regclient.New(p.RegistryURL, regclient.WithCredentials("", ""))
	if err != nil {
		t.Fatal(err)
	}
	kcl, err := kgo.NewClient(kgo.SeedBrokers(p.BrokerAddr), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kcl.Close)
	return &consoleStack{p: p, jaeger: j, console: "http://" + ln.Addr().String(), order: p.ServiceURLs["order"], sr: cl, kcl: kcl}
}

// chromium finds a Chromium for the browser tests: $CONTRAIL_CHROMIUM (""
// when it names no executable), else chromium, chromium-browser,
// google-chrome or headless-shell on $PATH.
func chromium() string {
	if p := os.Getenv("CONTRAIL_CHROMIUM"); p != "" {
		p, _ = exec.LookPath(p)
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChromium returns the Chromium to test with; without one it skips t,
// or fails it when CI=true (a CI image must have it).
func needChromium(t *testing.T) string {
	t.Helper()
	exe := chromium()
	if exe == "" {
		msg := "browser test: no Chromium found (set CONTRAIL_CHROMIUM, or install chromium: apt-get install chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires it")
		}
		t.Skip(msg)
	}
	return exe
}

// browser starts headless Chromium exe for t, in a fresh profile.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return ctx
}

// screenshots is where the browser tests write their screenshots:
// $CONTRAIL_SCREENSHOTS, else a temporary directory of the test.
func screenshots(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("CONTRAIL_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", filepath.Join(dir, name))
}

// mainText returns the text of the page's <main>.
func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return s
}

// open navigates to url and fails t unless the answer is 200.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("open %s: HTTP %d: %s", url, resp.Status, mainText(t, ctx))
	}
}

// follow clicks the element sel (a link or a submit button) and fails t
// unless the page it loads answers 200.
func follow(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("click %s: HTTP %d: %s", sel, resp.Status, mainText(t, ctx))
	}
}

// eventually reloads url until its text has every want, or fails t.
func eventually(t *testing.T, ctx context.Context, url string, timeout time.Duration, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		open(t, ctx, url)
		text := mainText(t, ctx)
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q within %v; it shows:\n%s", url, missing, timeout, text)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestConsoleInBrowser drives the console in headless Chromium against the
// whole platform: an order found on the Orders page with its trace across
// all four services; a breaking schema version labelled with its rule;
// a poison record dead-lettered, fixed and replayed until none waits; and
// lag for a stopped consumer group. Screenshots go to $CONTRAIL_SCREENSHOTS.
func TestConsoleInBrowser(t *testing.T) {
	exe := needChromium(t)
	if testing.Short() {
		t.Skip("browser test against the whole platform and Jaeger: slow, runs in make test")
	}
	ctx := browser(t, exe)
	s := startConsoleStack(t)
	shots := screenshots(t)

	placed := platformtest.Place(t, s.order, platform.SampleOrder)
	platformtest.WaitOrder(t, s.order, placed.OrderID, 60*time.Second, "SHIPPED", func(o platformtest.Order) bool {
		return o.Status == "SHIPPED" && len(o.History) == 5
	})

	t.Run("an order, its status, history and trace", func(t *testing.T) {
		open(t, ctx, s.console+"/orders?within=15m")
		if text := mainText(t, ctx); !strings.Contains(text, placed.OrderID) || !strings.Contains(text, "SHIPPED") {
			t.Fatalf("orders page lacks %s SHIPPED:\n%s", placed.OrderID, text)
		}
		shoot(t, ctx, shots, "console-orders.png")
		// From the keyboard: type the id into the find form and press Enter.
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#id"), placed.OrderID+"\r")); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("dl.facts"))); err != nil {
			t.Fatal(err)
		}
		text := mainText(t, ctx)
		for _, w := range []string{"SHIPPED", "contrail.orders.OrderPlaced", "contrail.shipping.OrderShipped", placed.TraceID} {
			if !strings.Contains(text, w) {
				t.Fatalf("order page lacks %q:\n%s", w, text)
			}
		}
		// The services export spans in batches: wait until Jaeger has the
		// order's 13 (the request, 5 sends, 7 receptions), then follow the link.
		s.jaeger.WaitTrace(t, placed.TraceID, 13, 30*time.Second)
		follow(t, ctx, `a[href^="/traces/`+placed.TraceID+`"]`)
		trace := mainText(t, ctx)
		for _, w := range []string{"13 spans from 4 services", "POST /orders", "send orders", "process orders", "send shipments"} {
			if !strings.Contains(trace, w) {
				t.Errorf("trace page lacks %q:\n%s", w, trace)
			}
		}
		for _, svc := range platform.Services {
			if !strings.Contains(trace, svc) {
				t.Errorf("trace lacks service %s", svc)
			}
		}
		shoot(t, ctx, shots, "console-trace.png")
	})

	t.Run("a breaking version labelled with its rule", func(t *testing.T) {
		registerBreakingShipped(t, s.sr)
		open(t, ctx, s.console+"/schemas")
		follow(t, ctx, `a[href="/schemas/shipments-value"]`)
		follow(t, ctx, `a[href="/schemas/shipments-value/diff?from=1&to=2"]`)
		text := mainText(t, ctx)
		for _, w := range []string{"1 breaking", "READER_FIELD_MISSING_DEFAULT", "breaking", "field added", `"deliveryWindow"`} {
			if !strings.Contains(text, w) {
				t.Fatalf("diff page lacks %q:\n%s", w, text)
			}
		}
		shoot(t, ctx, shots, "console-diff.png")
	})

	t.Run("a poison record dead-lettered, fixed and replayed", func(t *testing.T) {
		// The scenario: after a regional failover, the other region's order
		// service re-publishes OrderPlaced of our order (a new event id)
		// framed with its own registry's schema id, 9001, which this
		// registry does not know: inventory and payment dead-letter it as
		// poison. The fix is to import the schema under that id, as a
		// registry migration does; replayed, the event is then handled (the
		// order was decided already, so neither reserves nor charges again).
		const foreignID = 9001
		rec := findRecord(t, s.p.BrokerAddr, "orders", placed.OrderID, "contrail.orders.OrderPlaced")
		poison := &kgo.Record{Topic: "orders", Key: rec.Key,
			Value: append(wire.AppendFrame(nil, foreignID), rec.Value[wire.FrameSize:]...)}
		for _, h := range rec.Headers {
			if h.Key == wire.HeaderEventID {
				h.Value = []byte(uuid.NewString())
			}
			poison.Headers = append(poison.Headers, h)
		}
		if err := s.kcl.ProduceSync(context.Background(), poison).FirstErr(); err != nil {
			t.Fatal(err)
		}
		text := eventually(t, ctx, s.console+"/dlq/orders.dlq", 30*time.Second, "2 waiting", "poison", "9001")
		if !strings.Contains(text, "orders") {
			t.Fatalf("dead letters page:\n%s", text)
		}
		shoot(t, ctx, shots, "console-dead-letters.png")

		// The fix: import the schema under the id the other cluster gave it.
		importSchema(t, s.sr, "orders-contrail.orders.OrderPlaced", "orders-value", foreignID)
		follow(t, ctx, `a[href="/dlq/orders.dlq/replay"]`)
		if text := mainText(t, ctx); !strings.Contains(text, "Replay all 2 waiting dead letters") {
			t.Fatalf("confirmation page:\n%s", text)
		}
		follow(t, ctx, `button[type="submit"].danger`)
		text = mainText(t, ctx)
		if !strings.Contains(text, "Replayed 2 dead letter") || !strings.Contains(text, "No dead letters wait") {
			t.Fatalf("after replay:\n%s", text)
		}
		// Handled this time: the consumers catch up and nothing new is
		// dead-lettered.
		waitNoLag(t, s.kcl, "orders", "contrail-inventory", "contrail-payment")
		text = eventually(t, ctx, s.console+"/dlq", 5*time.Second, "orders.dlq")
		if !regexp.MustCompile(`orders\.dlq\s+orders\s+0\s+2`).MatchString(text) {
			t.Fatalf("orders.dlq should have 0 waiting of 2 in all:\n%s", text)
		}
		shoot(t, ctx, shots, "console-dead-letters-replayed.png")
	})

	t.Run("lag of a stopped consumer group", func(t *testing.T) {
		lagRE := regexp.MustCompile(`contrail-shipping \(([0-9]+)\)`)
		shippingLag := func() (int, string) {
			open(t, ctx, s.console+"/topics")
			text := mainText(t, ctx)
			m := lagRE.FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("topics page shows no lag for contrail-shipping:\n%s", text)
			}
			n, _ := strconv.Atoi(m[1])
			return n, text
		}
		before, _ := shippingLag()
		s.p.Process("shipping").Stop(10 * time.Second)
		next := platformtest.Place(t, s.order, platform.SampleOrder)
		platformtest.WaitOrder(t, s.order, next.OrderID, 60*time.Second, "CONFIRMED", func(o platformtest.Order) bool { return o.Status == "CONFIRMED" })
		// The order's OrderReady waits for shipping, which is stopped.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			after, text := shippingLag()
			if after > before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the stopped group's lag stayed %d (was %d before it stopped):\n%s", after, before, text)
			}
		}
		// The running groups catch up; the stopped one keeps its lag.
		waitNoLag(t, s.kcl, "orders", "contrail-inventory", "contrail-payment")
		if after, text := shippingLag(); after <= before || !strings.Contains(text, "contrail-inventory (0)") || !strings.Contains(text, "contrail-payment (0)") {
			t.Errorf("want contrail-shipping lagging (was %d) and the running groups at 0:\n%s", before, text)
		}
		follow(t, ctx, `a[href="/topics/orders"]`)
		text := mainText(t, ctx)
		if !regexp.MustCompile(`Consumer group contrail-shipping: \w+, \d+ members?, lag [1-9]`).MatchString(text) {
			t.Fatalf("topic page should show the stopped group's lag:\n%s", text)
		}
		shoot(t, ctx, shots, "console-topics-lag.png")
	})
}

// registerBreakingShipped forces a breaking version 2 of shipments-value:
// version 1 plus a field without a default, registered at level NONE, then
// BACKWARD again.
func registerBreakingShipped(t *testing.T, cl *sr.Client) {
	t.Helper()
	ctx := context.Background()
	v1, err := cl.SchemaByVersion(ctx, "shipments-value", 1)
	if err != nil {
		t.Fatal(err)
	}
	// The registered text with one more field at the end of "fields".
	text := v1.Schema.Schema
	end := strings.LastIndex(text, "]")
	if end < 0 || !json.Valid([]byte(text)) {
		t.Fatalf("version 1 of shipments-value: %s", text)
	}
	v2 := text[:end] + `,
    {"name": "deliveryWindow", "type": "string"}
  ` + text[end:]
	for _, lv := range []sr.CompatibilityLevel{sr.CompatNone, sr.CompatBackward} {
		for _, r := range cl.SetCompatibility(ctx, sr.SetCompatibility{Level: lv}, "shipments-value") {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		if lv == sr.CompatNone {
			if _, err := cl.CreateSchema(ctx, "shipments-value", sr.Schema{Schema: string(v2), References: v1.References}); err != nil {
				t.Fatalf("register v2: %v", err)
			}
		}
	}
}

// importSchema registers the latest schema of subject under into with id,
// as a migration from another registry does (IMPORT mode).
func importSchema(t *testing.T, cl *sr.Client, from, into string, id int) {
	t.Helper()
	ctx := context.Background()
	latest, err := cl.SchemaByVersion(ctx, from, -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cl.SetMode(ctx, sr.ModeImport, into) {
		if r.Err != nil {
			t.Fatalf("IMPORT mode: %v", r.Err)
		}
	}
	if _, err := cl.RegisterSchema(ctx, into, latest.Schema, id, 1); err != nil {
		t.Fatalf("import under id %d: %v", id, err)
	}
	for _, r := range cl.SetMode(ctx, sr.ModeReadWrite, into) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// findRecord reads topic from the start for the record with key and event
// type.
func findRecord(t *testing.T, brokers, topic, key, eventType string) *kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		var found *kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) != key {
				return
			}
			for _, h := range r.Headers {
				if h.Key == wire.HeaderEventType && string(h.Value) == eventType {
					found = r
				}
			}
		})
		if found != nil {
			return found
		}
	}
	t.Fatalf("no %s record with key %s on %s", eventType, key, topic)
	return nil
}

// waitNoLag waits until every group has committed up to the end of topic.
func waitNoLag(t *testing.T, kcl *kgo.Client, topic string, groups ...string) {
	t.Helper()
	adm := kadm.NewClient(kcl)
	deadline := time.Now().Add(30 * time.Second)
	for {
		lags, err := adm.Lag(context.Background(), groups...)
		total := int64(0)
		if err == nil {
			for _, l := range lags {
				total += l.Lag.TotalByTopic()[topic].Lag
			}
		}
		if err == nil && total == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("groups %v still lag on %s by %d (%v)", groups, topic, total, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestConsoleMeasure prints how long each console page takes to render on
// the platform after a load of $CONTRAIL_CONSOLE_MEASURE orders (e.g.
// 10000). It asserts nothing about time; it skips unless the variable is
// set.
func TestConsoleMeasure(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CONTRAIL_CONSOLE_MEASURE"))
	if n <= 0 {
		t.Skip("set CONTRAIL_CONSOLE_MEASURE=10000 to measure the console's pages after that many orders")
	}
	s := startConsoleStack(t)
	began := time.Now()
	_, err := loadgen.Run(context.Background(), loadgen.Config{
		OrderURL: s.order, InventoryURL: s.p.ServiceURLs["inventory"], PaymentURL: s.p.ServiceURLs["payment"], AdminToken: s.p.AdminToken,
		Orders: n, Concurrency: 32, Timeout: 30 * time.Minute, Seed: 1,
	})
	if err != nil {
		t.Fatalf("load %d orders: %v", n, err)
	}
	t.Logf("placed %d orders in %v", n, time.Since(began).Round(time.Second))
	registerBreakingShipped(t, s.sr)
	last := platformtest.Place(t, s.order, platform.SampleOrder)
	o := platformtest.WaitOrder(t, s.order, last.OrderID, time.Minute, "SHIPPED", func(o platformtest.Order) bool { return o.Status == "SHIPPED" })
	s.jaeger.WaitTrace(t, last.TraceID, 10, 30*time.Second)
	pages := []string{
		"/", "/schemas", "/schemas/orders-contrail.orders.OrderPlaced", "/schemas/shipments-value/diff?from=1&to=2",
		"/topics", "/topics/orders", "/topics/orders/messages", "/topics/orders/messages?partition=0&offset=0",
		fmt.Sprintf("/topics/orders/messages?partition=%d&offset=%d&limit=1", o.History[0].Partition, o.History[0].Offset),
		"/dlq", "/dlq/orders.dlq", "/orders", "/orders?within=15m&open=true", "/orders/" + last.OrderID,
		"/traces/" + last.TraceID, "/traces/" + last.OrderID,
	}
	const rounds = 20
	var report strings.Builder
	fmt.Fprintf(&report, "console page load after %d orders (%d requests each, server-side render incl. backend calls)\n", n, rounds)
	fmt.Fprintf(&report, "%-72s %8s %8s %8s %8s\n", "page", "median", "p95", "max", "KiB")
	for _, p := range pages {
		var ds []time.Duration
		size := 0
		for i := range rounds + 1 {
			start := time.Now()
			resp, err := http.Get(s.console + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			d := time.Since(start)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s\n%s", p, resp.Status, b)
			}
			if i > 0 { // the first request warms caches
				ds = append(ds, d)
			}
			size = len(b)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Fprintf(&report, "%-72s %8s %8s %8s %8d\n", p, ms(ds[len(ds)/2]), ms(ds[len(ds)*95/100]), ms(ds[len(ds)-1]), size/1024)
	}
	fmt.Print(report.String())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

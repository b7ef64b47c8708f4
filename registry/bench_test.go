package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/internal/benchpair"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/wire"
)

// benchSchema is an OrderPlaced-sized record (about 1 KiB of schema text).
const benchSchema = `{"type":"record","name":"OrderPlaced","namespace":"bench.orders","doc":"A customer placed an order.","fields":[
{"name":"orderId","type":{"type":"string","logicalType":"uuid"}},{"name":"customerId","type":"string"},
{"name":"items","type":{"type":"array","items":{"type":"record","name":"LineItem","fields":[{"name":"sku","type":"string"},{"name":"quantity","type":"int"},
{"name":"unitPrice","type":{"type":"record","name":"Money","fields":[{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}},{"name":"currency","type":{"type":"enum","name":"Currency","symbols":["EUR","USD","GBP"]}}]}}]}}},
{"name":"total","type":"Money"},{"name":"shippingAddress","type":{"type":"record","name":"Address","fields":[{"name":"street","type":"string"},{"name":"city","type":"string"},{"name":"postalCode","type":"string"},{"name":"country","type":"string"}]}},
{"name":"channel","type":{"type":"enum","name":"SalesChannel","symbols":["WEB","APP","STORE","UNKNOWN"]},"default":"UNKNOWN"},
{"name":"couponCode","type":["null","string"],"default":null}]}`

// loadRun is the load tool both servers get: conc workers on keep-alive
// connections send total requests and the run's wall time is returned.
func loadRun(b *testing.B, hc *http.Client, method, url string, body []byte, total, conc int) time.Duration {
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) {
				req, _ := http.NewRequest(method, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", wire.ContentTypeRegistry)
				resp, err := hc.Do(req)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Store(fmt.Sprintf("%s %s: HTTP %d", method, url, resp.StatusCode))
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
	return d
}

// bareGin is the baseline: gin with no middleware answering constants, the
// same bytes our registry answers (so both sides move the same payload).
func bareGin(byID, id []byte) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/schemas/ids/:id", func(c *gin.Context) { c.Data(200, wire.ContentTypeRegistry, byID) })
	e.POST("/subjects/:subject/versions", func(c *gin.Context) { c.Data(200, wire.ContentTypeRegistry, id) })
	return e
}

// BenchmarkHTTPVsBareGin prints our registry's throughput relative to a
// bare gin handler returning a constant, for GET /schemas/ids/{id} and for
// re-registering an existing schema: the median of 11 back-to-back pairs
// with min and max (target >= 0.7), same load tool, same run. Our registry
// runs on the durable bbolt store. Run it with -benchtime=1x.
func BenchmarkHTTPVsBareGin(b *testing.B) {
	store, err := registry.OpenBoltStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	ours := registrytest.ServeStore(b, store)
	body, _ := json.Marshal(map[string]string{"schema": benchSchema})
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxIdleConns: 64}}
	resp, err := hc.Post(ours+"/subjects/orders-value/versions", wire.ContentTypeRegistry, bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("register: %v %v", resp, err)
	}
	idBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var reg struct{ ID int }
	json.Unmarshal(idBody, &reg)
	resp, err = hc.Get(fmt.Sprintf("%s/schemas/ids/%d", ours, reg.ID))
	if err != nil {
		b.Fatal(err)
	}
	byIDBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	bare := httptest.NewServer(bareGin(byIDBody, idBody))
	defer bare.Close()

	const total, conc, pairs = 3000, 8, 11
	cases := []struct {
		name, method, ours, bare string
		body                     []byte
	}{
		{"GET /schemas/ids/{id}", "GET", fmt.Sprintf("%s/schemas/ids/%d", ours, reg.ID), bare.URL + "/schemas/ids/1", nil},
		{"POST register-existing", "POST", ours + "/subjects/orders-value/versions", bare.URL + "/subjects/orders-value/versions", body},
	}
	for range b.N {
		for _, c := range cases {
			loadRun(b, hc, c.method, c.ours, c.body, 500, conc) // warm connections
			loadRun(b, hc, c.method, c.bare, c.body, 500, conc)
			r := benchpair.Ratios(pairs,
				func() time.Duration { return loadRun(b, hc, c.method, c.ours, c.body, total, conc) },
				func() time.Duration { return loadRun(b, hc, c.method, c.bare, c.body, total, conc) })
			sum := benchpair.Summarize(benchpair.Invert(r))
			b.Logf("%s: registry/bare-gin throughput %s", c.name, sum)
			b.ReportMetric(sum.Median, "ratio-"+map[string]string{"GET": "get-by-id", "POST": "register-existing"}[c.method])
		}
	}
	_ = context.Background
}

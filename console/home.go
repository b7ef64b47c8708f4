package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// backend is one system the console reads, and whether it answered.
type backend struct {
	Name, Where, Status string
	OK                  bool
	Link                string
}

type homeData struct {
	Backends []backend
	ReadOnly bool
	Masked   []string
	Schemas  string
	Contract int
	Group    string
}

// homeProbe bounds each backend check of the home page.
const homeProbe = 3 * time.Second

// home says what the console is connected to, checking each backend at
// once (a backend that is down does not fail the page).
func (c *Console) home(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	ctx, cancel := context.WithTimeout(r.Context(), homeProbe)
	defer cancel()
	d := homeData{ReadOnly: c.cfg.readOnly, Masked: c.mask.Masked(), Schemas: c.schemaSource(), Contract: len(c.contracts), Group: c.cfg.replayGroup}
	d.Backends = []backend{
		{Name: "Kafka", Where: strings.Join(c.cfg.brokers, ","), Link: "/topics"},
		{Name: "Schema registry", Where: c.regShown, Link: "/schemas"},
		{Name: "Jaeger", Where: c.cfg.jaegerURL},
		{Name: "Order service", Where: c.cfg.orderURL, Link: "/orders"},
	}
	probes := []func() (string, error){
		func() (string, error) {
			td, err := c.adm.ListTopics(ctx)
			return fmt.Sprintf("%d topics", len(td)), err
		},
		func() (string, error) {
			ss, err := c.reg.Subjects(ctx)
			return fmt.Sprintf("%d subjects", len(ss)), err
		},
		func() (string, error) {
			ss, err := c.jaeger.Services(ctx)
			return fmt.Sprintf("%d services report spans", len(ss)), err
		},
		func() (string, error) {
			var n struct {
				Count int `json:"count"`
			}
			err := c.orderGet(ctx, "/orders/count", nil, &n)
			if errors.Is(err, errOrderAuth) {
				return "reachable; listing orders needs its admin token (--admin-token)", nil
			}
			return fmt.Sprintf("%d orders", n.Count), err
		},
	}
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			s, err := p()
			if err != nil {
				d.Backends[i].Status = err.Error()
				return
			}
			d.Backends[i].OK, d.Backends[i].Status = true, s
		})
	}
	wg.Wait()
	return "home", &page{Title: "Contrail console", Data: d}, nil
}

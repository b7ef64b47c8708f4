package host_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events/orders"
)

const testAdminToken = "host-admin-token-0123456789"

// TestAdminAPI checks the admin surface NewHost sets up: /debug/pprof and
// whatever is registered on Host.Admin need the bearer token, are 403 with
// the admin API off, and the health and metrics endpoints stay open.
func TestAdminAPI(t *testing.T) {
	tests := []struct {
		name   string
		token  string // the service's CONTRAIL_ADMIN_TOKEN
		path   string
		header string // Authorization
		code   int
		want   string // substring of the body
	}{
		{name: "pprof with the token", token: testAdminToken, path: "/debug/pprof/", header: "Bearer " + testAdminToken, code: 200, want: "goroutine"},
		{name: "named profile with the token", token: testAdminToken, path: "/debug/pprof/heap?debug=1", header: "Bearer " + testAdminToken, code: 200, want: "heap profile"},
		{name: "admin route with the token", token: testAdminToken, path: "/admin/ping", header: "Bearer " + testAdminToken, code: 200, want: "pong"},
		{name: "scheme in any case", token: testAdminToken, path: "/admin/ping", header: "BEARER " + testAdminToken, code: 200, want: "pong"},
		{name: "pprof without the token", token: testAdminToken, path: "/debug/pprof/", code: 401, want: "CONTRAIL_ADMIN_TOKEN"},
		{name: "pprof with a wrong token", token: testAdminToken, path: "/debug/pprof/profile?seconds=1", header: "Bearer nope", code: 401},
		{name: "pprof with a longer token", token: testAdminToken, path: "/debug/pprof/", header: "Bearer " + testAdminToken + "0", code: 401},
		{name: "admin route with basic auth", token: testAdminToken, path: "/admin/ping", header: "Basic " + testAdminToken, code: 401},
		{name: "pprof with the admin API off", path: "/debug/pprof/", header: "Bearer " + testAdminToken, code: 403, want: "CONTRAIL_ADMIN_TOKEN"},
		{name: "admin route with the admin API off", path: "/admin/ping", code: 403, want: "is off"},
		{name: "metrics stay open", token: testAdminToken, path: "/metrics", code: 200, want: "go_goroutines"},
		{name: "service route stays open", token: testAdminToken, path: "/ping", code: 200, want: "pong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := hostEnv(t)
			cfg.Service, cfg.AdminToken = "kv", tt.token
			cfg.SetDefaults()
			h, err := host.NewHost(context.Background(), cfg, host.HostOpts{DDL: kvDDL, LogOutput: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			pong := func(c *gin.Context) { c.String(http.StatusOK, "pong") }
			h.Engine.GET("/ping", pong)
			h.Admin.GET("/admin/ping", pong)
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			h.Engine.ServeHTTP(w, req)
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) {
				t.Fatalf("GET %s: %d %.300s; want %d containing %q", tt.path, w.Code, w.Body, tt.code, tt.want)
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without a WWW-Authenticate challenge")
			}
		})
	}
}

// TestHTTPServerLimits runs a service with its limits and admin token
// from the environment, as `contrail service` does, and checks over TCP
// that a client that never finishes its headers, and one that trickles
// its body, are cut off, and that the service's AdminRoutes are behind
// the token. The timeouts are 200ms and 500ms; the checks wait 4s, twenty
// times longer (a slow machine does not fail them) but shorter than the
// defaults (5s, 30s), so a limit that did not reach the server fails.
func TestHTTPServerLimits(t *testing.T) {
	t.Setenv("OTEL_SDK_DISABLED", "true")
	t.Setenv("CONTRAIL_REGISTER_SCHEMAS", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the service listens there next
	env := map[string]string{
		"KAFKA_BROKERS": "127.0.0.1:1", "SCHEMA_REGISTRY_URL": "http://127.0.0.1:1", "CONTRAIL_INSTANCE_ID": "none",
		"CONTRAIL_DATA_DIR": t.TempDir(), "CONTRAIL_HTTP_ADDR": addr, "CONTRAIL_ADMIN_TOKEN": testAdminToken,
		"CONTRAIL_HTTP_READ_HEADER_TIMEOUT": "200ms", "CONTRAIL_HTTP_READ_TIMEOUT": "500ms",
	}
	cfg := host.FromEnv("kv", func(k string) string { return env[k] })
	if cfg.HTTP.ReadHeaderTimeout != 200*time.Millisecond || cfg.HTTP.ReadTimeout != 500*time.Millisecond || cfg.HTTP.WriteTimeout != 60*time.Second {
		t.Fatalf("limits from the environment: %+v", cfg.HTTP)
	}
	bodyErr := make(chan error, 1)
	svc := host.Service[*kvStore]{Name: "kv", DDL: kvDDL, Events: noEvents,
		Open: func(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*kvStore, error) {
			return newKV(ctx, db, emit)
		},
		// A router runs only with a handler; the broker is unreachable on
		// purpose, so it never gets an event.
		Handlers: func(r *eventing.Router, _ *kvStore) {
			eventing.Handle(r, orders.OrderPlacedBinding, func(context.Context, *orders.OrderPlaced) error { return nil })
		},
		Routes: func(r gin.IRouter, _ *kvStore) {
			r.POST("/echo", func(c *gin.Context) {
				b, err := io.ReadAll(c.Request.Body)
				select {
				case bodyErr <- err:
				default:
				}
				if err != nil {
					c.String(http.StatusBadRequest, "body: %v", err)
					return
				}
				c.Data(http.StatusOK, "text/plain", b)
			})
		},
		AdminRoutes: func(r gin.IRouter, _ *kvStore) {
			r.GET("/admin/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan struct{})
	var runErr error
	go func() { runErr = svc.Run(ctx, cfg, host.HostOpts{LogOutput: &logs}); close(done) }()
	defer func() {
		cancel()
		<-done
	}()
	base := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + "/healthz") // any answer: the router may not be ready
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("the service stopped: %v\n%s", runErr, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service does not serve on %s: %v", addr, err)
		}
	}

	// closedWithin reports whether the server ends the connection before
	// wait: it reads until EOF (or a reset), whatever it answers first.
	closedWithin := func(c net.Conn, wait time.Duration) error {
		c.SetReadDeadline(time.Now().Add(wait))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("the server still held the connection after %s", wait)
		}
		return nil
	}
	t.Run("slow header", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ") // and never the rest
		if err := closedWithin(c, 4*time.Second); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("slow body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789") // 10 of 1000 bytes
		if err := closedWithin(c, 4*time.Second); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-bodyErr:
			if err == nil {
				t.Fatal("the handler read a complete body")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the handler never saw the body end")
		}
	})
	t.Run("a prompt client is served", func(t *testing.T) {
		resp, err := http.Post(base+"/echo", "text/plain", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hello" {
			t.Fatalf("%d %q", resp.StatusCode, b)
		}
	})
	t.Run("headers over the limit", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("64 KiB of headers: %s, want 431", resp.Status)
		}
	})
	t.Run("admin routes need the token", func(t *testing.T) {
		for _, tc := range []struct {
			auth string
			code int
		}{{"", 401}, {"Bearer wrong", 401}, {"Bearer " + testAdminToken, 200}} {
			req, _ := http.NewRequest(http.MethodGet, base+"/admin/ping", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Errorf("Authorization %q: %s, want %d", tc.auth, resp.Status, tc.code)
			}
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the service's log writes and the
// test's read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

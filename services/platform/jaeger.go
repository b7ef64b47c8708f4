package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// JaegerBinary returns a Jaeger binary: explicit (from Config.JaegerBin or
// $CONTRAIL_JAEGER_BIN), else tools/bin/jaeger of the checkout above the
// working directory, built with `go -C tools build` when missing. The first
// build downloads and compiles Jaeger and takes minutes; say is told first.
// Cancelling ctx stops the build.
func JaegerBinary(ctx context.Context, explicit string, say func(string, ...any)) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("platform: Jaeger binary %s: %w", explicit, err)
		}
		return explicit, nil
	}
	tools, err := findTools()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tools, "bin", "jaeger")
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	say("jaeger     building from %s (the first build downloads and compiles Jaeger: expect a few minutes)...", tools)
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "-C", tools, "build", "-o", tmp, "github.com/jaegertracing/jaeger/cmd/jaeger")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("platform: build Jaeger (go -C %s build): %w\n%s\nuse --no-jaeger to run without it", tools, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("platform: install Jaeger binary: %w", err)
	}
	return bin, nil
}

func findTools() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "tools", "go.mod")); err == nil && bytes.Contains(b, []byte("jaegertracing/jaeger")) {
			return filepath.Join(dir, "tools"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("platform: cannot find Jaeger: run `contrail up` inside a contrail checkout (it builds tools/), set CONTRAIL_JAEGER_BIN to a Jaeger v2 binary, or pass --no-jaeger")
		}
		dir = parent
	}
}

func (p *Platform) startJaeger(ctx, runCtx context.Context) error {
	cfg := p.cfg
	bin, err := JaegerBinary(ctx, cfg.JaegerBin, p.say)
	if err != nil {
		return err
	}
	health, err := freePort()
	if err != nil {
		return err
	}
	qgrpc, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(cfg.DataDir, "jaeger.yaml")
	text := fmt.Sprintf(jaegerConfig, health, cfg.JaegerUIAddr, qgrpc, cfg.JaegerOTLPGRPCAddr, cfg.JaegerOTLPHTTPAddr)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return fmt.Errorf("platform: write Jaeger config: %w", err)
	}
	j := &Process{Name: "jaeger", Path: bin, Args: []string{"--config", conf},
		Env:     []string{"OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true"},
		LogFile: filepath.Join(cfg.DataDir, "logs", "jaeger.log"), Logger: cfg.Logger}
	if err := j.Start(runCtx); err != nil {
		return err
	}
	p.jaeger = j
	if err := waitReady(ctx, fmt.Sprintf("http://127.0.0.1:%d/status", health), j); err != nil {
		return fmt.Errorf("platform: Jaeger not healthy (log %s; ports in use? see --jaeger-addr, --otlp-http-addr, or --no-jaeger): %w", j.LogFile, err)
	}
	p.JaegerURL = "http://" + cfg.JaegerUIAddr
	p.OTLPHTTP = "http://" + cfg.JaegerOTLPHTTPAddr
	p.jaegerPlaceholderUI = placeholderUI(ctx, p.JaegerURL)
	ui := "UI and API"
	if p.jaegerPlaceholderUI {
		ui = "API; the UI is a placeholder in this build"
	}
	p.say("jaeger     %s  (%s; OTLP %s)", p.JaegerURL, ui, p.OTLPHTTP)
	return nil
}

// placeholderUI reports whether the Jaeger at url serves the placeholder
// page a binary built without UI assets shows instead of its UI.
func placeholderUI(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return bytes.Contains(b, []byte("placeholder for the Jaeger UI"))
}

// Jaeger v2 all-in-one with in-memory storage: traces last until Jaeger
// stops. Placeholders: health port, query HTTP, query gRPC port, OTLP gRPC,
// OTLP HTTP.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:%d
  jaeger_query:
    # Otherwise the query service traces itself and exports to
    # 127.0.0.1:4317: its own OTLP port, or someone else's.
    enable_tracing: false
    storage:
      traces: mem
    http:
      endpoint: %s
    grpc:
      endpoint: 127.0.0.1:%d
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("platform: find a free port: %w", err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return strconv.Atoi(port)
}

package platform

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/contrail-events/contrail/tracing/jaegerrun"
)

// JaegerBinary returns a Jaeger binary: explicit (from Config.JaegerBin or
// $CONTRAIL_JAEGER_BIN), else tools/bin/jaeger of the checkout above the
// working directory, built with `go -C tools build` when missing or older
// than tools/go.mod or go.sum (see jaegerrun.Binary). The first build
// downloads and compiles Jaeger and takes minutes; say is told first.
// Cancelling ctx stops the build. Errors say how to run without Jaeger.
func JaegerBinary(ctx context.Context, explicit string, say func(string, ...any)) (string, error) {
	bin, err := jaegerrun.Binary(ctx, jaegerrun.WithPath(explicit), jaegerrun.WithProgress(say))
	if err != nil {
		return "", fmt.Errorf("platform: %w\nuse --no-jaeger to run without Jaeger", err)
	}
	return bin, nil
}

func (p *Platform) startJaeger(ctx, runCtx context.Context) error {
	cfg := p.cfg
	bin, err := JaegerBinary(ctx, cfg.JaegerBin, p.say)
	if err != nil {
		return err
	}
	jc, err := jaegerrun.Config{
		QueryHTTPAddr: cfg.JaegerUIAddr,
		OTLPGRPCAddr:  cfg.JaegerOTLPGRPCAddr,
		OTLPHTTPAddr:  cfg.JaegerOTLPHTTPAddr,
	}.Resolve()
	if err != nil {
		return fmt.Errorf("platform: Jaeger config: %w", err)
	}
	text, err := jc.YAML()
	if err != nil {
		return fmt.Errorf("platform: Jaeger config: %w", err)
	}
	conf := filepath.Join(cfg.DataDir, "jaeger.yaml")
	if err := os.WriteFile(conf, text, 0o644); err != nil {
		return fmt.Errorf("platform: write Jaeger config: %w", err)
	}
	j := &Process{Name: "jaeger", Path: bin, Args: []string{"--config", conf},
		Env:     jaegerrun.Env,
		LogFile: filepath.Join(cfg.DataDir, "logs", "jaeger.log"), Logger: cfg.Logger}
	if err := j.Start(runCtx); err != nil {
		return err
	}
	p.jaeger = j
	if err := waitReady(ctx, jc.HealthURL(), j); err != nil {
		return fmt.Errorf("platform: Jaeger not healthy (log %s; ports in use? see --jaeger-addr, --otlp-http-addr, or --no-jaeger): %w", j.LogFile, err)
	}
	p.JaegerURL = "http://" + jc.QueryHTTPAddr
	p.OTLPHTTP = "http://" + jc.OTLPHTTPAddr
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

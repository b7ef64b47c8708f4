package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/wire"
)

// TestRegistryServeHelperProcess is not a test: TestRegistryRestartAfterKill
// re-executes the test binary with it to run `contrail registry serve` in a
// real child process it can SIGKILL.
func TestRegistryServeHelperProcess(t *testing.T) {
	args := os.Getenv("CONTRAIL_REGISTRY_HELPER_ARGS")
	if args == "" {
		t.Skip("helper process for TestRegistryRestartAfterKill")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
}

// startRegistryProcess runs `contrail registry serve` in a child process and
// returns its base URL.
func startRegistryProcess(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	return startRegistryProcessEnv(t, nil, args...)
}

func startRegistryProcessEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRegistryServeHelperProcess$")
	cmd.Env = append(os.Environ(), "CONTRAIL_REGISTRY_HELPER_ARGS="+strings.Join(append([]string{"registry", "serve"}, args...), "\x1f"))
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "registry listening on ") {
				lines <- strings.TrimPrefix(l, "registry listening on ")
			}
		}
	}()
	select {
	case url := <-lines:
		return cmd, url
	case <-time.After(20 * time.Second):
		t.Fatal("registry process did not report its address within 20s")
	}
	return nil, ""
}

func httpDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", wire.ContentTypeRegistry)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// registrySnapshot reads everything a client can see: every schema and
// version (deleted ones too), every config and mode.
func registrySnapshot(t *testing.T, url string) string {
	t.Helper()
	var b strings.Builder
	_, subjects := httpDo(t, "GET", url+"/subjects?deleted=true", "")
	var names []string
	if err := json.Unmarshal([]byte(subjects), &names); err != nil {
		t.Fatalf("GET /subjects: %s", subjects)
	}
	paths := []string{"/subjects", "/subjects?deleted=true", "/schemas?deleted=true", "/config", "/mode"}
	for _, n := range names {
		paths = append(paths, "/config/"+n, "/mode/"+n, "/subjects/"+n+"/versions?deleted=true")
	}
	for id := 1; id <= 40; id++ {
		paths = append(paths, fmt.Sprintf("/schemas/ids/%d", id))
	}
	for _, p := range paths {
		code, body := httpDo(t, "GET", url+p, "")
		fmt.Fprintf(&b, "%s -> %d %s\n", p, code, body)
	}
	return b.String()
}

func TestRegistryRestartAfterKill(t *testing.T) {
	dir := t.TempDir()
	proc, url := startRegistryProcess(t, "--addr", "127.0.0.1:0", "--data-dir", dir)

	code, out, errOut := runCLI(t, "registry", "push", "--registry", url)
	if code != exitOK || !strings.Contains(out, "registered") {
		t.Fatalf("push: code %d\n%s\n%s", code, out, errOut)
	}
	// Settings and deletes must survive too.
	for _, r := range []struct{ method, path, body string }{
		{"PUT", "/config", `{"compatibility":"FULL"}`},
		{"PUT", "/mode/shipments-value", `{"mode":"READONLY"}`},
		{"POST", "/subjects/scratch/versions", `{"schema":"{\"type\":\"record\",\"name\":\"S\",\"fields\":[]}"}`},
		{"DELETE", "/subjects/scratch/versions/1", ""},
	} {
		if c, body := httpDo(t, r.method, url+r.path, r.body); c != 200 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, c, body)
		}
	}
	before := registrySnapshot(t, url)
	if !strings.Contains(before, "orders-contrail.orders.OrderPlaced") || !strings.Contains(before, `"mode":"READONLY"`) {
		t.Fatalf("snapshot misses pushed data:\n%s", before)
	}

	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()

	_, url2 := startRegistryProcess(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	after := registrySnapshot(t, url2)
	if before != after {
		t.Fatalf("state changed across kill -9 and restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Push is idempotent: nothing new after the restart.
	code, out, errOut = runCLI(t, "registry", "push", "--registry", url2)
	if code != exitOK || strings.Contains(out, "registered") || !strings.Contains(out, "unchanged") {
		t.Fatalf("second push: code %d\n%s\n%s", code, out, errOut)
	}
	// New IDs continue after the old ones.
	_, body := httpDo(t, "POST", url2+"/subjects/fresh/versions", `{"schema":"{\"type\":\"record\",\"name\":\"Fresh\",\"fields\":[]}"}`)
	var got struct{ ID int }
	json.Unmarshal([]byte(body), &got)
	if got.ID <= 23 {
		t.Fatalf("new schema after restart got id %d (%s), want a fresh id above the pushed ones", got.ID, body)
	}
}

func TestRegistryPushDryRun(t *testing.T) {
	url := registrytest.Serve(t)
	code, out, errOut := runCLI(t, "registry", "push", "--registry", url, "--dry-run")
	if code != exitOK || !strings.Contains(out, "would register  orders-contrail.orders.OrderPlaced") ||
		!strings.Contains(out, "would set compatibility FULL_TRANSITIVE") {
		t.Fatalf("dry run: code %d\n%s\n%s", code, out, errOut)
	}
	if _, body := httpDo(t, "GET", url+"/subjects", ""); body != "[]" {
		t.Fatalf("dry run wrote subjects: %s", body)
	}
	if code, _, _ := runCLI(t, "registry", "push", "--registry", url); code != exitOK {
		t.Fatal("push failed")
	}
	code, out, _ = runCLI(t, "registry", "push", "--registry", url, "--dry-run")
	if code != exitOK || strings.Contains(out, "would") {
		t.Fatalf("dry run after push should show everything unchanged:\n%s", out)
	}
}

func TestRegistryPushIncompatible(t *testing.T) {
	url := registrytest.Serve(t)
	// An earlier OrderShipped without the repo's required fields: the repo's
	// schema cannot read its data, so BACKWARD refuses it.
	old := `{"type":"record","name":"OrderShipped","namespace":"contrail.shipping","fields":[{"name":"legacy","type":"string"}]}`
	body, _ := json.Marshal(map[string]string{"schema": old})
	if c, b := httpDo(t, "POST", url+"/subjects/shipments-value/versions", string(body)); c != 200 {
		t.Fatalf("seed: %d %s", c, b)
	}
	code, _, errOut := runCLI(t, "registry", "push", "--registry", url)
	if code != exitBreaking || !strings.Contains(errOut, "shipments-value") || !strings.Contains(errOut, "OrderShipped.avsc") {
		t.Fatalf("push over an incompatible version: code %d, stderr %s", code, errOut)
	}
}

func TestRegistryCLIErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing users file", []string{"registry", "serve", "--users-file", "/nonexistent/users", "--addr", "127.0.0.1:0"}, "users file"},
		{"bad schemas dir", []string{"registry", "push", "--schemas", "/nonexistent/schemas", "--registry", "http://127.0.0.1:1"}, "nonexistent"},
		{"registry unreachable", []string{"registry", "push", "--registry", "http://127.0.0.1:1"}, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code == exitOK || !strings.Contains(errOut, tt.want) {
				t.Fatalf("code %d, stderr %q; want failure mentioning %q", code, errOut, tt.want)
			}
		})
	}
}

func TestRegistryServeAuthReadOnlyAndSIGTERM(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte("# ci user\nci:file-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(url, user, pass string) int {
		req, _ := http.NewRequest("GET", url+"/subjects", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Users from the environment.
	proc, url := startRegistryProcessEnv(t, []string{registry.UsersEnv + "=env:env-pw"}, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "a"))
	if c := get(url, "", ""); c != 401 {
		t.Fatalf("no credentials: HTTP %d, want 401", c)
	}
	if c := get(url, "env", "env-pw"); c != 200 {
		t.Fatalf("env user: HTTP %d, want 200", c)
	}
	// SIGTERM shuts down cleanly with exit code 0.
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proc.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	// Users from a file take precedence; --read-only refuses writes.
	_, url = startRegistryProcessEnv(t, []string{registry.UsersEnv + "=env:env-pw"}, "--addr", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "b"), "--users-file", users, "--read-only")
	if c := get(url, "env", "env-pw"); c != 401 {
		t.Fatalf("env user with --users-file: HTTP %d, want 401", c)
	}
	if c := get(url, "ci", "file-pw"); c != 200 {
		t.Fatalf("file user: HTTP %d, want 200", c)
	}
	req, _ := http.NewRequest("PUT", url+"/config", strings.NewReader(`{"compatibility":"NONE"}`))
	req.SetBasicAuth("ci", "file-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || !strings.Contains(string(b), "42205") {
		t.Fatalf("write to a --read-only registry: HTTP %d %s", resp.StatusCode, b)
	}
	// GET /mode answers the mode a write meets.
	req, _ = http.NewRequest("GET", url+"/mode", nil)
	req.SetBasicAuth("ci", "file-pw")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `{"mode":"READONLY"}` {
		t.Fatalf("GET /mode on a --read-only registry: HTTP %d %s", resp.StatusCode, b)
	}
}

// TestRegistryServeUsersFile: the users file holds one user per line and a
// password is the rest of its line, commas and colons included; a bad file
// stops serve with an error that names the line and prints no password.
func TestRegistryServeUsersFile(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	content := "# team\r\nalice:abc,evil:pw\r\n\n  # ops\nbob:pa:ss word#1\n"
	if err := os.WriteFile(users, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, url := startRegistryProcess(t, "--addr", "127.0.0.1:0", "--users-file", users)
	for _, tt := range []struct {
		user, pass string
		want       int
	}{
		{"alice", "abc,evil:pw", 200},
		{"alice", "abc", 401},
		{"evil", "pw", 401},
		{"bob", "pa:ss word#1", 200},
	} {
		req, _ := http.NewRequest("GET", url+"/subjects", nil)
		req.SetBasicAuth(tt.user, tt.pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s:%s: HTTP %d, want %d", tt.user, tt.pass, resp.StatusCode, tt.want)
		}
	}

	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("alice:ok\n\ncorrect-horse-battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "registry", "serve", "--addr", "127.0.0.1:0", "--users-file", bad)
	if code == exitOK || !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, bad) {
		t.Fatalf("malformed users file: code %d, stderr %q; want an error naming line 3 of %s", code, errOut, bad)
	}
	if strings.Contains(errOut, "horse") || strings.Contains(errOut, "ok") {
		t.Fatalf("the error prints a secret: %q", errOut)
	}

	// The variable takes the same format; a one-line value with a comma
	// (the old separator) is warned about without printing it.
	t.Setenv(registry.UsersEnv, "alice:abc,evil:pw")
	code, _, errOut = runCLI(t, "registry", "serve", "--addr", "127.0.0.1:-1")
	if code == exitOK || !strings.Contains(errOut, "one per line") || strings.Contains(errOut, "abc") || strings.Contains(errOut, "evil") {
		t.Fatalf("comma in $%s: code %d, stderr %q; want a warning naming no secret", registry.UsersEnv, code, errOut)
	}
}

// TestRegistryServeTimeouts: the timeout flags reach the server: a client
// sending its headers a byte at a time is cut off.
func TestRegistryServeTimeouts(t *testing.T) {
	_, url := startRegistryProcess(t, "--addr", "127.0.0.1:0", "--read-header-timeout", "300ms", "--read-timeout", "1s")
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const guard = 30 * time.Second // a hang detector, far beyond the timeout
	conn.SetDeadline(time.Now().Add(guard))
	msg := "GET /subjects HTTP/1.1\r\nHost: r\r\nX-Slow: " + strings.Repeat("a", 3000) + "\r\n\r\n"
	var sent atomic.Bool
	go func() {
		for i := range len(msg) {
			if _, err := conn.Write([]byte{msg[i]}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		sent.Store(true)
	}()
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || sent.Load() || strings.Contains(string(got), " 200 ") {
		t.Fatalf("a client sending headers a byte at a time was not cut off: %q, %v", got, err)
	}

	for _, flag := range []string{"--read-timeout", "--write-timeout", "--idle-timeout", "--read-header-timeout"} {
		code, _, errOut := runCLI(t, "registry", "serve", "--addr", "127.0.0.1:0", flag, "-1s")
		if code == exitOK || !strings.Contains(errOut, "negative") {
			t.Errorf("%s -1s: code %d, stderr %q", flag, code, errOut)
		}
	}
}

// TestRegistryKafkaStoreRestartAfterKill runs registry serve on the Kafka
// store (the embedded broker), kills it, and checks that a new process,
// configured through the environment this time, reads the same state back
// from the topic and continues the ids.
func TestRegistryKafkaStoreRestartAfterKill(t *testing.T) {
	b := brokertest.Start(t)
	proc, url := startRegistryProcess(t, "--addr", "127.0.0.1:0", "--store", "kafka", "--brokers", b.Addr(), "--topic", "_contrail_schemas")
	code, out, errOut := runCLI(t, "registry", "push", "--registry", url)
	if code != exitOK || !strings.Contains(out, "registered") {
		t.Fatalf("push: code %d\n%s\n%s", code, out, errOut)
	}
	for _, r := range []struct{ method, path, body string }{
		{"PUT", "/config", `{"compatibility":"FULL"}`},
		{"PUT", "/mode/shipments-value", `{"mode":"READONLY"}`},
		{"POST", "/subjects/scratch/versions", `{"schema":"{\"type\":\"record\",\"name\":\"S\",\"fields\":[]}"}`},
		{"DELETE", "/subjects/scratch/versions/1", ""},
	} {
		if c, body := httpDo(t, r.method, url+r.path, r.body); c != 200 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, c, body)
		}
	}
	before := registrySnapshot(t, url)
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()

	_, url2 := startRegistryProcessEnv(t, []string{"CONTRAIL_REGISTRY_STORE=kafka", "KAFKA_BROKERS=" + b.Addr(), "CONTRAIL_REGISTRY_TOPIC=_contrail_schemas"},
		"--addr", "127.0.0.1:0")
	if after := registrySnapshot(t, url2); before != after {
		t.Fatalf("state changed across kill -9 and restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	_, body := httpDo(t, "POST", url2+"/subjects/fresh/versions", `{"schema":"{\"type\":\"record\",\"name\":\"Fresh\",\"fields\":[]}"}`)
	var got struct{ ID int }
	json.Unmarshal([]byte(body), &got)
	if got.ID <= 23 {
		t.Fatalf("new schema after restart got id %d (%s), want a fresh id above the pushed ones", got.ID, body)
	}
}

func TestRegistryServeStoreErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "bolt without data dir", args: []string{"--store", "bolt"}, want: "--data-dir"},
		{name: "unknown store", args: []string{"--store", "etcd"}, want: "unknown --store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, append([]string{"registry", "serve", "--addr", "127.0.0.1:0"}, tt.args...)...)
			if code == exitOK || !strings.Contains(errOut, tt.want) {
				t.Errorf("code %d, stderr %q, want it to name %q", code, errOut, tt.want)
			}
		})
	}
}

// TestRegistryKafkaReplicas runs two `registry serve --store kafka`
// processes on one topic: writes through either are readable on both with
// the same id, and when the leader is killed -9 the other takes over.
func TestRegistryKafkaReplicas(t *testing.T) {
	b := brokertest.Start(t)
	procA, urlA := startRegistryProcess(t, "--addr", "127.0.0.1:0", "--store", "kafka", "--brokers", b.Addr())
	procB, urlB := startRegistryProcess(t, "--addr", "127.0.0.1:0", "--store", "kafka", "--brokers", b.Addr())
	// B printed its address once it knew the leader, so both agree now.
	ids := map[string]string{}
	for i, url := range []string{urlA, urlB, urlA, urlB} {
		subject := fmt.Sprintf("r-%d", i)
		c, body := httpDo(t, "POST", url+"/subjects/"+subject+"/versions", fmt.Sprintf(`{"schema":"{\"type\":\"record\",\"name\":\"R%d\",\"fields\":[]}"}`, i))
		if c != 200 {
			t.Fatalf("register through %s: %d %s", url, c, body)
		}
		ids[subject] = body
	}
	for subject, idBody := range ids {
		var want struct{ ID int }
		json.Unmarshal([]byte(idBody), &want)
		for _, url := range []string{urlA, urlB} {
			c, body := httpDo(t, "GET", url+"/subjects/"+subject+"/versions/1", "")
			if c != 200 || !strings.Contains(body, fmt.Sprintf(`"id":%d`, want.ID)) {
				t.Errorf("GET %s on %s = %d %s, want id %d", subject, url, c, body, want.ID)
			}
		}
	}
	// Kill the leader; the survivor must take writes again.
	_, health := httpDo(t, "GET", urlA+"/healthz", "")
	leader, survivor, survivorURL := procA, procB, urlB
	if !strings.Contains(health, `"role":"leader"`) {
		leader, survivor, survivorURL = procB, procA, urlA
	}
	_ = survivor
	if err := leader.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	leader.Wait()
	start := time.Now()
	for {
		c, body := httpDo(t, "POST", survivorURL+"/subjects/after/versions", `{"schema":"{\"type\":\"record\",\"name\":\"After\",\"fields\":[]}"}`)
		if c == 200 {
			if !strings.Contains(body, `"id":5`) {
				t.Errorf("first id after takeover: %s, want 5", body)
			}
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no write accepted 30s after the leader was killed: %d %s", c, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("survivor took writes %v after the leader was killed", time.Since(start).Round(time.Millisecond))
}

package regclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/registry/regclient"
)

// New strips the userinfo from the URL it shows, sends it (or else the
// given credentials, or else the environment) as basic auth, and never
// shows the password.
func TestNew(t *testing.T) {
	type seen struct {
		user, pass string
		ok         bool
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		got <- seen{u, p, ok}
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		_, _ = w.Write([]byte("[]"))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	const pw = "s3cret-pw"

	tests := []struct {
		name       string
		url        string
		user, pass string
		env        map[string]string
		want       seen
	}{
		{name: "userinfo", url: "http://ci:" + pw + "@" + host, want: seen{"ci", pw, true}},
		{name: "userinfo beats user and pass", url: "http://ci:" + pw + "@" + host, user: "env", pass: "envpw", want: seen{"ci", pw, true}},
		{name: "user without password", url: "http://ci@" + host, user: "env", pass: "envpw", want: seen{"ci", "", true}},
		{name: "user and pass", url: srv.URL, user: "env", pass: "envpw", want: seen{"env", "envpw", true}},
		{name: "no credentials", url: srv.URL, pass: "ignored", want: seen{}},
		{name: "environment", url: srv.URL, env: map[string]string{"CONTRAIL_REGISTRY_USER": "ci", "CONTRAIL_REGISTRY_PASSWORD": pw}, want: seen{"ci", pw, true}},
		{name: "confluent alias", url: srv.URL, env: map[string]string{"SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "ci:" + pw + ":colon"}, want: seen{"ci", pw + ":colon", true}},
		{name: "contrail names beat the alias", url: srv.URL, env: map[string]string{"CONTRAIL_REGISTRY_USER": "a", "CONTRAIL_REGISTRY_PASSWORD": "b", "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "c:d"}, want: seen{"a", "b", true}},
		{name: "flags beat the environment", url: srv.URL, user: "flag", pass: "fpw", env: map[string]string{"CONTRAIL_REGISTRY_USER": "ci"}, want: seen{"flag", "fpw", true}},
		{name: "userinfo beats the environment", url: "http://u:p@" + host, env: map[string]string{"CONTRAIL_REGISTRY_USER": "ci"}, want: seen{"u", "p", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []regclient.Opt{regclient.WithGetenv(func(k string) string { return tt.env[k] })}
			if tt.user != "" {
				opts = append(opts, regclient.WithCredentials(tt.user, tt.pass))
			}
			cl, shown, err := regclient.New(tt.url, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if shown != srv.URL {
				t.Errorf("shown = %q, want %q", shown, srv.URL)
			}
			if _, err := cl.Subjects(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s := <-got; s != tt.want {
				t.Errorf("server saw basic auth %+v, want %+v", s, tt.want)
			}
		})
	}

	bad := []struct{ name, url, want string }{
		{name: "does not parse", url: "http://ci:" + pw + "@127.0.0.1:port", want: "registry URL does not parse"},
		{name: "not http", url: "ftp://ci:" + pw + "@127.0.0.1", want: `registry URL "ftp://ci:xxxxx@127.0.0.1": want http(s)://`},
		{name: "no host", url: "http://", want: "want http(s)://"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := regclient.New(tt.url)
			if !errors.Is(err, regclient.ErrURL) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestURLFromEnv(t *testing.T) {
	if got := regclient.URLFromEnv(func(string) string { return "" }); got != "http://127.0.0.1:8081" {
		t.Errorf("default = %q", got)
	}
	if got := regclient.URLFromEnv(func(k string) string { return map[string]string{"SCHEMA_REGISTRY_URL": "https://r"}[k] }); got != "https://r" {
		t.Errorf("from env = %q", got)
	}
	if got := regclient.Redact("https://u:secret@r:1/x"); strings.Contains(got, "secret") {
		t.Errorf("Redact shows the password: %q", got)
	}
}

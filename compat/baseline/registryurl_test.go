package baseline_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat/baseline"
)

// RegistryURL strips the userinfo from what it returns, sends it (or else
// the given user and password) as basic auth, and never shows the password.
func TestRegistryURL(t *testing.T) {
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
		want       seen
	}{
		{name: "userinfo", url: "http://ci:" + pw + "@" + host, want: seen{"ci", pw, true}},
		{name: "userinfo beats user and pass", url: "http://ci:" + pw + "@" + host, user: "env", pass: "envpw", want: seen{"ci", pw, true}},
		{name: "user without password", url: "http://ci@" + host, user: "env", pass: "envpw", want: seen{"ci", "", true}},
		{name: "user and pass", url: srv.URL, user: "env", pass: "envpw", want: seen{"env", "envpw", true}},
		{name: "no credentials", url: srv.URL, pass: "ignored", want: seen{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shown, auth, err := baseline.RegistryURL(tt.url, tt.user, tt.pass)
			if err != nil {
				t.Fatal(err)
			}
			if shown != srv.URL {
				t.Errorf("shown = %q, want %q", shown, srv.URL)
			}
			cl, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs(shown)}, auth...)...)
			if err != nil {
				t.Fatal(err)
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
			_, _, err := baseline.RegistryURL(tt.url, "", "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

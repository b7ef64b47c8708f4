package contract_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/schemas"
)

// TestRegistryClientBasicAuth publishes and fetches contracts at our
// registry over HTTP with basic auth required, with and without
// credentials, and checks that no error holds the password.
func TestRegistryClientBasicAuth(t *testing.T) {
	const pw = "s3cret-pw"
	srvURL := registrytest.Serve(t, registry.WithBasicAuth(map[string]string{"ci": pw}))
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := contract.FromSet(set, nil)
	if err != nil || len(cs) == 0 {
		t.Fatalf("FromSet: %d contracts, %v", len(cs), err)
	}
	userURL := strings.Replace(srvURL, "http://", "http://ci:"+pw+"@", 1)
	tests := []struct {
		name       string
		url        string
		user, pass string
		wantErr    error // from Publish and Fetch; nil: both succeed
	}{
		{name: "none", url: srvURL, wantErr: contract.ErrUnauthorized},
		{name: "wrong password", url: srvURL, user: "ci", pass: "wrong-pw", wantErr: contract.ErrUnauthorized},
		{name: "unknown user in the URL", url: strings.Replace(userURL, "ci:", "eve:", 1), wantErr: contract.ErrUnauthorized},
		{name: "arguments", url: srvURL, user: "ci", pass: pw},
		{name: "URL userinfo", url: userURL},
		{name: "URL userinfo wins", url: userURL, user: "ci", pass: "wrong-pw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []regclient.Opt{regclient.WithGetenv(func(string) string { return "" })}
			if tt.user != "" {
				opts = append(opts, regclient.WithCredentials(tt.user, tt.pass))
			}
			cl, shown, err := contract.RegistryClient(tt.url, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if shown != srvURL {
				t.Fatalf("shown URL %q, want %q", shown, srvURL)
			}
			pubs, err := contract.Publish(context.Background(), cl, cs)
			if !errors.Is(err, tt.wantErr) || (err != nil && !errors.Is(err, contract.ErrRegistry)) {
				t.Fatalf("Publish: %v, want %v", err, tt.wantErr)
			}
			got, ferr := contract.Fetch(context.Background(), cl)
			if !errors.Is(ferr, tt.wantErr) {
				t.Fatalf("Fetch: %v, want %v", ferr, tt.wantErr)
			}
			for _, e := range []error{err, ferr} {
				if e != nil && (strings.Contains(e.Error(), pw) || !strings.Contains(e.Error(), "HTTP 401")) {
					t.Fatalf("error holds the password or lacks the status: %v", e)
				}
			}
			if tt.wantErr == nil && (len(pubs) != len(cs) || len(got) != len(cs)) {
				t.Fatalf("published %d, fetched %d, want %d", len(pubs), len(got), len(cs))
			}
		})
	}
}

func TestRegistryClientBadURL(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{name: "does not parse", url: "http://ci:s3cret-pw@127.0.0.1:port", want: "does not parse"},
		{name: "control character", url: "http://ci:s3cret-pw@127.0.0.1/\x7f", want: "does not parse"},
		{name: "not http", url: "ftp://ci:s3cret-pw@127.0.0.1", want: "ftp://ci:xxxxx@127.0.0.1"},
		{name: "no host", url: "http://", want: "want http(s)://"},
		{name: "empty", url: "", want: "want http(s)://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := contract.RegistryClient(tt.url)
			if !errors.Is(err, contract.ErrRegistry) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret-pw") {
				t.Fatalf("error %v: want ErrRegistry with %q and no password", err, tt.want)
			}
		})
	}
}

// Package regclient is the one way Contrail's CLI, services, platform and
// libraries reach a schema registry: New takes a URL with optional
// credentials and reads one environment convention.
//
// Credentials come from, in order: the URL's userinfo
// (https://user:password@host), WithCredentials (the CLI's --user and
// --password flags), then the environment: CONTRAIL_REGISTRY_USER and
// CONTRAIL_REGISTRY_PASSWORD, or, when those are unset, Confluent's
// SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO ("user:password"), kept as an alias
// because Confluent's own tools and many deployments already set it.
//
// No error or printed URL carries a password: use Redact to show a URL.
package regclient

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/wire"
)

// Environment variables New reads (through WithGetenv's function).
const (
	// EnvURL is the registry URL services and the CLI default to.
	EnvURL = "SCHEMA_REGISTRY_URL"
	// EnvUser and EnvPassword are the basic-auth credentials.
	EnvUser     = "CONTRAIL_REGISTRY_USER"
	EnvPassword = "CONTRAIL_REGISTRY_PASSWORD"
	// EnvUserInfo is Confluent's "user:password" form, read only when
	// EnvUser is unset.
	EnvUserInfo = "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"
)

// ErrURL is wrapped by every error about the registry URL itself.
var ErrURL = errors.New("regclient: registry URL")

// Credentials are HTTP basic-auth credentials; a zero value means none.
type Credentials struct {
	User, Password string
}

// CredentialsFromEnv reads EnvUser and EnvPassword, else EnvUserInfo.
// getenv nil means os.Getenv.
func CredentialsFromEnv(getenv func(string) string) Credentials {
	if getenv == nil {
		getenv = os.Getenv
	}
	if u := getenv(EnvUser); u != "" {
		return Credentials{User: u, Password: getenv(EnvPassword)}
	}
	if ui := getenv(EnvUserInfo); ui != "" {
		u, p, _ := strings.Cut(ui, ":")
		return Credentials{User: u, Password: p}
	}
	return Credentials{}
}

// URLFromEnv returns EnvURL, or wire.DefaultRegistryURL when it is unset.
// getenv nil means os.Getenv.
func URLFromEnv(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if u := getenv(EnvURL); u != "" {
		return u
	}
	return wire.DefaultRegistryURL
}

// Opt configures New.
type Opt interface{ apply(*config) }

type optFunc func(*config)

func (f optFunc) apply(c *config) { f(c) }

type config struct {
	creds    *Credentials
	getenv   func(string) string
	clientFn []sr.ClientOpt
}

// WithCredentials sets the credentials used when the URL has no userinfo,
// overriding the environment. An empty User means no credentials, and the
// environment is then not read.
func WithCredentials(user, password string) Opt {
	return optFunc(func(c *config) { c.creds = &Credentials{User: user, Password: password} })
}

// WithGetenv sets how the environment is read. Default os.Getenv; a
// function returning "" for every name ignores the environment.
func WithGetenv(getenv func(string) string) Opt {
	return optFunc(func(c *config) {
		if getenv != nil {
			c.getenv = getenv
		}
	})
}

// WithClientOpts adds franz-go sr.Client options (TLS, user agent, ...).
// URLs and BasicAuth are New's own: do not pass them here.
func WithClientOpts(opts ...sr.ClientOpt) Opt {
	return optFunc(func(c *config) { c.clientFn = append(c.clientFn, opts...) })
}

// Parse splits rawURL into the URL without its userinfo, which is safe to
// print, and the credentials New would use for it (see the package doc for
// the order). It returns an error wrapping ErrURL, without the password,
// when rawURL is not an absolute http(s) URL.
func Parse(rawURL string, opts ...Opt) (shown string, creds Credentials, err error) {
	c := config{getenv: os.Getenv}
	for _, o := range opts {
		o.apply(&c)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// *url.Error quotes the whole URL, password included: keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", Credentials{}, fmt.Errorf("%w does not parse: %v: want http(s)://[user:password@]host[:port]", ErrURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", Credentials{}, fmt.Errorf("%w %q: want http(s)://[user:password@]host[:port]", ErrURL, u.Redacted())
	}
	switch {
	case u.User != nil:
		creds.User = u.User.Username()
		creds.Password, _ = u.User.Password()
		u.User = nil
	case c.creds != nil:
		creds = *c.creds
	default:
		creds = CredentialsFromEnv(c.getenv)
	}
	return u.String(), creds, nil
}

// Redact returns rawURL without its password, for messages. An unparsable
// URL is shown as "<unparsable URL>".
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}

// New returns a franz-go registry client for rawURL and the URL safe to
// print. Errors wrap ErrURL for a bad URL and never contain the password.
func New(rawURL string, opts ...Opt) (*sr.Client, string, error) {
	shown, creds, err := Parse(rawURL, opts...)
	if err != nil {
		return nil, "", err
	}
	c := config{}
	for _, o := range opts {
		o.apply(&c)
	}
	all := append([]sr.ClientOpt{sr.URLs(shown)}, c.clientFn...)
	if creds.User != "" {
		all = append(all, sr.BasicAuth(creds.User, creds.Password))
	}
	cl, err := sr.NewClient(all...)
	if err != nil {
		return nil, "", fmt.Errorf("regclient: client for %s: %w", shown, err)
	}
	return cl, shown, nil
}

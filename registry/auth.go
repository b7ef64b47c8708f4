package registry

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
)

// UsersEnv is the environment variable `contrail registry serve` reads basic
// auth users from when no users file is given, in ParseUsers' format: one
// "name:password" entry per line.
const UsersEnv = "CONTRAIL_REGISTRY_USERS"

// ParseUsers parses basic-auth users, one "name:password" entry per line.
// The name ends at the first colon; the password is the rest of the line,
// kept as written (colons, commas, spaces and # included), except that a
// password starting with "$2" is a bcrypt hash ("$2a$10$...") and must be
// a well-formed one. Blank lines and lines starting with # are skipped; a
// trailing \r is dropped. Errors name the line, and never quote it: the
// line may hold a password.
func ParseUsers(s string) (map[string]string, error) {
	users := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, pass, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		switch {
		case !ok:
			return nil, fmt.Errorf("registry: users line %d: no colon; want name:password (one user per line)", n)
		case name == "":
			return nil, fmt.Errorf("registry: users line %d: empty user name; want name:password", n)
		case pass == "":
			return nil, fmt.Errorf("registry: users line %d: user %q has an empty password", n, name)
		}
		if _, dup := users[name]; dup {
			return nil, fmt.Errorf("registry: users line %d: user %q is listed twice", n, name)
		}
		if isBcrypt(pass) {
			pass = strings.TrimSpace(pass)
			if _, err := bcrypt.Cost([]byte(pass)); err != nil {
				return nil, fmt.Errorf("registry: users line %d: user %q has a password starting with $2, which marks a bcrypt hash, but it is not a valid one (generate one with htpasswd -nbB)", n, name)
			}
		}
		users[name] = pass
	}
	return users, nil
}

// LoadUsersFile reads basic-auth users from a file in ParseUsers' format.
func LoadUsersFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: read users file: %w", err)
	}
	users, err := ParseUsers(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return users, nil
}

func isBcrypt(pw string) bool { return strings.HasPrefix(pw, "$2") }

// bcryptCompare is bcrypt.CompareHashAndPassword; tests count its calls.
var bcryptCompare = bcrypt.CompareHashAndPassword

// authenticator checks basic-auth credentials and limits how often one
// client address may fail. Safe for concurrent use.
type authenticator struct {
	users map[string]string
	// dummy is compared against for unknown users, so that they cost what
	// a known user costs and timing does not reveal who exists: a bcrypt
	// hash at the highest cost configured, made on first use, or "" when
	// every password is plain.
	dummyOnce sync.Once
	dummyCost int
	dummy     []byte
	failures  *failureLimiter
}

func newAuthenticator(users map[string]string, limit rateLimit) *authenticator {
	a := &authenticator{users: users}
	for _, pw := range users {
		if isBcrypt(pw) {
			if cost, err := bcrypt.Cost([]byte(pw)); err == nil {
				a.dummyCost = max(a.dummyCost, cost)
			}
		}
	}
	if limit.perSecond > 0 {
		a.failures = newFailureLimiter(limit)
	}
	return a
}

// check reports whether user and pass are a configured user's
// credentials. An unknown user costs what a known one does: a bcrypt
// comparison against a dummy hash when any password is a bcrypt hash.
func (a *authenticator) check(user, pass string) bool {
	if want, known := a.users[user]; known {
		return passwordOK(want, pass)
	}
	if a.dummyCost > 0 {
		a.dummyOnce.Do(func() {
			secret := make([]byte, 16)
			rand.Read(secret)
			a.dummy, _ = bcrypt.GenerateFromPassword(secret, a.dummyCost)
		})
		bcryptCompare(a.dummy, []byte(pass)) // never matches: the secret is thrown away
	}
	return false
}

// passwordOK compares in constant time, so response timing does not leak
// how much of a plain password matched.
func passwordOK(want, got string) bool {
	if isBcrypt(want) {
		return bcryptCompare([]byte(want), []byte(got)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// auth is the basic-auth middleware; it lets everything through when no
// users are configured (WithBasicAuth). A client address that has used up
// its failure budget (WithAuthFailureLimit) gets 429 before its
// credentials are checked, so failing costs it no bcrypt time.
func (s *Server) auth(c *gin.Context) {
	a := s.authn
	if a == nil {
		return
	}
	client := clientKey(c.Request.RemoteAddr)
	if a.failures != nil {
		if wait, limited := a.failures.limited(client, time.Now()); limited {
			secs := int(math.Ceil(wait.Seconds()))
			c.Header("Retry-After", strconv.Itoa(secs))
			s.fail(c, errf(http.StatusTooManyRequests, CodeTooManyRequests,
				"Too many failed authentication attempts from this address; retry after %d s with the right credentials.", secs))
			return
		}
	}
	user, pass, ok := c.Request.BasicAuth()
	if ok {
		if a.check(user, pass) {
			return
		}
		// Only a wrong guess costs a token: a request without credentials
		// (a browser's first try, a scraper) costs no bcrypt time.
		if a.failures != nil {
			a.failures.fail(client, time.Now())
		}
	}
	c.Header("WWW-Authenticate", `Basic realm="contrail-registry"`)
	s.fail(c, errf(http.StatusUnauthorized, CodeUnauthorized, "Unauthorized: send HTTP basic auth credentials of a configured user."))
}

// clientKey is the address failures are counted against: the peer's IP
// (never a forwarded-for header, which the client writes), IPv6 by /64, the
// block one host usually holds.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() != nil {
		return ip.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// rateLimit is a token bucket's refill rate and size.
type rateLimit struct {
	perSecond float64
	burst     int
}

func (l rateLimit) validate() error {
	if l.perSecond < 0 || math.IsNaN(l.perSecond) || math.IsInf(l.perSecond, 0) || (l.perSecond > 0 && l.burst < 1) {
		return errors.New("registry: auth failure limit: want a rate >= 0 (0 turns it off) and a burst >= 1")
	}
	return nil
}

// maxTrackedClients bounds the failure limiter's memory: past it, buckets
// that have refilled are dropped, then arbitrary ones.
const maxTrackedClients = 10_000

// failureLimiter is a token bucket per client address; each failed login
// takes a token. Safe for concurrent use.
type failureLimiter struct {
	limit   rateLimit
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newFailureLimiter(l rateLimit) *failureLimiter {
	return &failureLimiter{limit: l, buckets: map[string]*bucket{}}
}

// refill brings b's tokens up to now.
func (f *failureLimiter) refill(b *bucket, now time.Time) {
	b.tokens = min(float64(f.limit.burst), b.tokens+now.Sub(b.at).Seconds()*f.limit.perSecond)
	b.at = now
}

// limited reports whether client has no failures left, and how long until
// it has one.
func (f *failureLimiter) limited(client string, now time.Time) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[client]
	if b == nil {
		return 0, false
	}
	f.refill(b, now)
	if b.tokens >= 1 {
		return 0, false
	}
	return time.Duration((1 - b.tokens) / f.limit.perSecond * float64(time.Second)), true
}

// fail takes a token from client's bucket.
func (f *failureLimiter) fail(client string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[client]
	if b == nil {
		if len(f.buckets) >= maxTrackedClients {
			f.evict(now)
		}
		b = &bucket{tokens: float64(f.limit.burst), at: now}
		f.buckets[client] = b
	}
	f.refill(b, now)
	b.tokens = max(0, b.tokens-1)
}

// evict drops the buckets that have refilled, or, when none has, one
// arbitrary bucket. Callers hold f.mu.
func (f *failureLimiter) evict(now time.Time) {
	for k, b := range f.buckets {
		if f.refill(b, now); b.tokens >= float64(f.limit.burst) {
			delete(f.buckets, k)
		}
	}
	if len(f.buckets) >= maxTrackedClients {
		for k := range f.buckets {
			delete(f.buckets, k)
			break
		}
	}
}

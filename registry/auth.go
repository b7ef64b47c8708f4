package registry

import (
	"bufio"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
)

// UsersEnv is the environment variable `contrail registry serve` reads basic
// auth users from: "alice:secret,bob:$2a$10$..." (bcrypt hashes allowed).
const UsersEnv = "CONTRAIL_REGISTRY_USERS"

// ParseUsers parses basic-auth users from "name:password" entries separated
// by commas or newlines; blank lines and lines starting with # are skipped.
func ParseUsers(s string) (map[string]string, error) {
	users := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(s, ",", "\n")))
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, pass, ok := strings.Cut(t, ":")
		if !ok || name == "" || pass == "" {
			return nil, fmt.Errorf("registry: users entry %d: want name:password, got %q", line, t)
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

// auth is the basic-auth middleware; it lets everything through when no
// users are configured (WithBasicAuth).
func (s *Server) auth(c *gin.Context) {
	if len(s.cfg.users) == 0 {
		return
	}
	user, pass, ok := c.Request.BasicAuth()
	if ok {
		if want, known := s.cfg.users[user]; known && passwordOK(want, pass) {
			return
		}
	}
	c.Header("WWW-Authenticate", `Basic realm="contrail-registry"`)
	s.fail(c, errf(http.StatusUnauthorized, CodeUnauthorized, "Unauthorized: send HTTP basic auth credentials of a configured user."))
}

// passwordOK compares in constant time, so response timing does not leak
// how much of a plain password matched.
func passwordOK(want, got string) bool {
	if strings.HasPrefix(want, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(want), []byte(got)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

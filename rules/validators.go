package rules

import (
	"net"
	"net/mail"
	"net/url"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/uuid"
)

// The string checks Confluent's CEL executor declares, with the same names,
// so rules such as `message.email.isEmail()` work unchanged: isEmail,
// isHostname, isIpv4, isIpv6, isUri (absolute), isUriRef and isUuid.
func validatorOptions() []cel.EnvOption {
	check := func(name string, fn func(string) bool) cel.EnvOption {
		return cel.Function(name, cel.MemberOverload("string_"+name+"_bool", []*cel.Type{cel.StringType}, cel.BoolType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				s, ok := v.(types.String)
				return types.Bool(ok && fn(string(s)))
			})))
	}
	return []cel.EnvOption{
		check("isEmail", isEmail),
		check("isHostname", isHostname),
		check("isIpv4", func(s string) bool {
			ip := net.ParseIP(s)
			return ip != nil && ip.To4() != nil && !strings.Contains(s, ":")
		}),
		check("isIpv6", func(s string) bool { ip := net.ParseIP(s); return ip != nil && strings.Contains(s, ":") }),
		check("isUri", func(s string) bool { u, err := url.Parse(s); return err == nil && u.IsAbs() }),
		check("isUriRef", func(s string) bool { _, err := url.Parse(s); return err == nil }),
		check("isUuid", func(s string) bool { _, err := uuid.Parse(s); return err == nil }),
	}
}

// isEmail accepts a bare address (no display name, no angle brackets)
// whose local part is at most 64 bytes and whose domain is a hostname.
func isEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, "<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && len(local) <= 64 && isHostname(domain)
}

// isHostname accepts dot-separated labels of letters, digits and inner
// hyphens, each at most 63 bytes, at most 253 in all, the last not all
// digits; one trailing dot is allowed.
func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(strings.ToLower(s), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

package registry

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/contrail-events/contrail/wire"
)

// configResponse is the body PUT /config answers: Confluent's
// ConfigUpdateRequest, where the level is "compatibility".
type configResponse struct {
	Alias              string         `json:"alias,omitempty"`
	Normalize          *bool          `json:"normalize,omitempty"`
	ValidateFields     *bool          `json:"validateFields,omitempty"`
	Compatibility      string         `json:"compatibility,omitempty"`
	CompatibilityGroup string         `json:"compatibilityGroup,omitempty"`
	DefaultMetadata    *wire.Metadata `json:"defaultMetadata,omitempty"`
	OverrideMetadata   *wire.Metadata `json:"overrideMetadata,omitempty"`
	DefaultRuleSet     *ruleSetOut    `json:"defaultRuleSet,omitempty"`
	OverrideRuleSet    *ruleSetOut    `json:"overrideRuleSet,omitempty"`
}

// GET /config[/{subject}]?defaultToGlobal= answers Confluent's Config:
// {"compatibilityLevel": L} with every other field that is set.
func (s *Server) getConfig(c *gin.Context) {
	cfg, err := s.reg.Config(c.Param("subject"), ConfigOpts{DefaultToGlobal: qbool(c, "defaultToGlobal")})
	s.reply(c, cfg, err)
}

// configHint is the body PUT /config wants.
const configHint = `{"compatibility": "BACKWARD", "compatibilityGroup": "major_version", "defaultMetadata": {...}, "overrideRuleSet": {...}}`

// PUT /config[/{subject}] takes Confluent's ConfigUpdateRequest
// ({"compatibility", "alias", "normalize", "validateFields",
// "compatibilityGroup", "defaultMetadata", "overrideMetadata",
// "defaultRuleSet", "overrideRuleSet"}), changes the fields sent (null
// clears one) and answers the config as stored, in the request's shape;
// {} changes nothing.
func (s *Server) putConfig(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	var req map[string]json.RawMessage
	if !s.bind(c, &req, configHint) {
		return
	}
	u, err := parseConfigUpdate(req)
	if err != nil {
		s.fail(c, err)
		return
	}
	cfg, err := s.reg.SetConfig(c.Request.Context(), c.Param("subject"), u)
	s.reply(c, configResponse{Alias: cfg.Alias, Normalize: cfg.Normalize, ValidateFields: cfg.ValidateFields,
		Compatibility: string(cfg.Compatibility), CompatibilityGroup: cfg.CompatibilityGroup,
		DefaultMetadata: cfg.DefaultMetadata, OverrideMetadata: cfg.OverrideMetadata,
		DefaultRuleSet: outRules(cfg.DefaultRuleSet), OverrideRuleSet: outRules(cfg.OverrideRuleSet)}, err)
}

// parseConfigUpdate reads a PUT /config body: unknown fields are ignored,
// null clears a field. The error is a 400 *Error for a field of the wrong
// shape, a 42210 one for encodingRules.
func parseConfigUpdate(req map[string]json.RawMessage) (ConfigUpdate, error) {
	var u ConfigUpdate
	bad := func(name string, err error) error {
		return errf(http.StatusBadRequest, CodeBadRequest, "Invalid JSON body: field %q: %v; send %s.", name, err, configHint)
	}
	for _, f := range []struct {
		name  string
		into  any
		clear *bool
	}{
		{"compatibility", &u.Compatibility, &u.ClearCompatibility},
		{"alias", &u.Alias, nil},
		{"normalize", &u.Normalize, &u.ClearNormalize},
		{"validateFields", &u.ValidateFields, &u.ClearValidateFields},
		{"compatibilityGroup", &u.CompatibilityGroup, nil},
	} {
		raw, ok := req[f.name]
		if !ok {
			continue
		}
		if isNull(raw) {
			if f.clear != nil {
				*f.clear = true
			} else {
				empty := ""
				*(f.into.(**string)) = &empty
			}
			continue
		}
		if err := json.Unmarshal(raw, f.into); err != nil {
			return u, bad(f.name, err)
		}
	}
	for _, f := range []struct {
		name  string
		into  **wire.Metadata
		clear *bool
	}{
		{"defaultMetadata", &u.DefaultMetadata, &u.ClearDefaultMetadata},
		{"overrideMetadata", &u.OverrideMetadata, &u.ClearOverrideMetadata},
	} {
		raw, ok := req[f.name]
		switch {
		case !ok:
		case isNull(raw):
			*f.clear = true
		default:
			md, err := parseMetadata(raw, f.name)
			if err != nil {
				return u, bad(f.name, err)
			}
			*f.into = md
		}
	}
	for _, f := range []struct {
		name  string
		into  **wire.RuleSet
		clear *bool
	}{
		{"defaultRuleSet", &u.DefaultRuleSet, &u.ClearDefaultRuleSet},
		{"overrideRuleSet", &u.OverrideRuleSet, &u.ClearOverrideRuleSet},
	} {
		raw, ok := req[f.name]
		switch {
		case !ok:
		case isNull(raw):
			*f.clear = true
		default:
			rs, err := parseRuleSet(raw, f.name)
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					return u, e
				}
				return u, bad(f.name, err)
			}
			*f.into = rs
		}
	}
	return u, nil
}

// DELETE /config[/{subject}] answers the config removed, as GET does
// ({"compatibilityLevel": L}).
func (s *Server) deleteConfig(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	cfg, err := s.reg.DeleteConfig(c.Request.Context(), c.Param("subject"))
	s.reply(c, cfg, err)
}

package registry

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
)

// configResponse is the body PUT /config answers: Confluent's
// ConfigUpdateRequest, where the level is "compatibility".
type configResponse struct {
	Compatibility string `json:"compatibility,omitempty"`
	Alias         string `json:"alias,omitempty"`
	Normalize     *bool  `json:"normalize,omitempty"`
}

// GET /config[/{subject}]?defaultToGlobal= answers Confluent's Config:
// {"compatibilityLevel": L} with "alias" and "normalize" when set.
func (s *Server) getConfig(c *gin.Context) {
	cfg, err := s.reg.Config(c.Param("subject"), ConfigOpts{DefaultToGlobal: qbool(c, "defaultToGlobal")})
	s.reply(c, cfg, err)
}

// PUT /config[/{subject}] {"compatibility": L, "alias": A, "normalize": B}
// changes the fields sent (null clears one) and answers the config as
// stored, in the request's shape; {} changes nothing.
func (s *Server) putConfig(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	var req map[string]json.RawMessage
	const hint = `{"compatibility": "BACKWARD"}`
	if !s.bind(c, &req, hint) {
		return
	}
	var u ConfigUpdate
	for _, f := range []struct {
		name  string
		into  any
		clear *bool
	}{
		{"compatibility", &u.Compatibility, &u.ClearCompatibility},
		{"alias", &u.Alias, nil},
		{"normalize", &u.Normalize, &u.ClearNormalize},
	} {
		raw, ok := req[f.name]
		if !ok {
			continue
		}
		if string(raw) == "null" {
			if f.clear != nil {
				*f.clear = true
			} else {
				empty := ""
				u.Alias = &empty
			}
			continue
		}
		if err := json.Unmarshal(raw, f.into); err != nil {
			s.fail(c, errf(http.StatusBadRequest, CodeBadRequest, "Invalid JSON body: field %q: %v; send %s.", f.name, err, hint))
			return
		}
	}
	cfg, err := s.reg.SetConfig(c.Request.Context(), c.Param("subject"), u)
	s.reply(c, configResponse{Compatibility: string(cfg.Compatibility), Alias: cfg.Alias, Normalize: cfg.Normalize}, err)
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

package registry

import (
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"
)

// POST /compatibility/subjects/{subject}/versions/{version}?normalize=&verbose=
func (s *Server) checkVersion(c *gin.Context) {
	if v, ok := s.versionParam(c); ok {
		s.compatibility(c, v, false)
	}
}

// POST /compatibility/subjects/{subject}/versions?normalize=&verbose=
// checks against every version the subject's level requires.
func (s *Server) checkAllVersions(c *gin.Context) { s.compatibility(c, 0, true) }

func (s *Server) compatibility(c *gin.Context, version int, all bool) {
	var req SchemaRequest
	if !s.bindSchema(c, &req) {
		return
	}
	res, err := s.reg.CheckCompatibility(c.Param("subject"), version, req, CompatOpts{All: all, Normalize: qbool(c, "normalize")})
	var e *Error
	if err != nil && errors.As(err, &e) && e.Code == CodeInvalidSchema && qbool(c, "verbose") {
		// Confluent answers an invalid schema with verbose=true as an
		// incompatible one, the parse error its message.
		s.ok(c, struct {
			IsCompatible bool     `json:"is_compatible"`
			Messages     []string `json:"messages"`
		}{false, []string{e.Message}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if !qbool(c, "verbose") {
		s.ok(c, struct {
			IsCompatible bool `json:"is_compatible"`
		}{res.Compatible})
		return
	}
	// verbose always carries the array, even when empty.
	msgs := make([]string, 0, len(res.Findings))
	for _, f := range res.Findings {
		msgs = append(msgs, fmt.Sprintf("%s: %s", f.Rule, f.Message))
	}
	s.ok(c, struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages"`
	}{res.Compatible, msgs})
}

package registry

import "github.com/gin-gonic/gin"

// GET /config[/{subject}]?defaultToGlobal= answers {"compatibilityLevel": L}.
func (s *Server) getConfig(c *gin.Context) {
	l, err := s.reg.Config(c.Param("subject"), ConfigOpts{DefaultToGlobal: qbool(c, "defaultToGlobal")})
	s.reply(c, map[string]string{"compatibilityLevel": string(l)}, err)
}

// PUT /config[/{subject}] {"compatibility": L} answers {"compatibility": L}.
func (s *Server) putConfig(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	if !s.bind(c, &req, `{"compatibility": "BACKWARD"}`) {
		return
	}
	l, err := s.reg.SetConfig(c.Request.Context(), c.Param("subject"), req.Compatibility)
	s.reply(c, map[string]string{"compatibility": string(l)}, err)
}

// DELETE /config[/{subject}] answers the level removed.
func (s *Server) deleteConfig(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	l, err := s.reg.DeleteConfig(c.Request.Context(), c.Param("subject"))
	s.reply(c, map[string]string{"compatibility": string(l)}, err)
}

package registry

import "github.com/gin-gonic/gin"

// GET /mode[/{subject}]?defaultToGlobal= answers {"mode": M}. A server
// started read-only answers READONLY wherever a mode applies, since that is
// what a write would meet (a subject without its own mode still answers
// 40409 without defaultToGlobal).
func (s *Server) getMode(c *gin.Context) {
	m, err := s.reg.Mode(c.Param("subject"), ModeOpts{DefaultToGlobal: qbool(c, "defaultToGlobal")})
	if err == nil && s.cfg.readOnly {
		m = ModeReadOnly
	}
	s.reply(c, map[string]string{"mode": string(m)}, err)
}

// PUT /mode[/{subject}]?force= {"mode": M} answers the request as sent, as
// Confluent echoes it; the mode name is matched case-insensitively.
func (s *Server) putMode(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	var req struct {
		Mode string `json:"mode"`
	}
	if !s.bind(c, &req, `{"mode": "READWRITE"}`) {
		return
	}
	m, err := ParseMode(req.Mode)
	if err != nil {
		s.fail(c, err)
		return
	}
	_, err = s.reg.SetMode(c.Request.Context(), c.Param("subject"), m, SetModeOpts{Force: qbool(c, "force")})
	s.reply(c, map[string]string{"mode": req.Mode}, err)
}

// DELETE /mode[/{subject}] answers the mode removed.
func (s *Server) deleteMode(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	m, err := s.reg.DeleteMode(c.Request.Context(), c.Param("subject"))
	s.reply(c, map[string]string{"mode": string(m)}, err)
}

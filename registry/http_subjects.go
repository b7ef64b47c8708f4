package registry

import (
	"net/http"

	"github.com/contrail-events/contrail/wire"
	"github.com/gin-gonic/gin"
)

// GET /subjects?subjectPrefix=&deleted=&deletedOnly=&offset=&limit=
// (without subjectPrefix every context is listed, as on Confluent).
func (s *Server) listSubjects(c *gin.Context) {
	prefix, given := c.GetQuery("subjectPrefix")
	all := s.reg.Subjects(SubjectsOpts{
		Prefix:      prefix,
		HasPrefix:   given,
		Deleted:     qbool(c, "deleted"),
		DeletedOnly: qbool(c, "deletedOnly"),
	})
	if lo, hi, ok := s.page(c, len(all), ListPageLimit); ok {
		s.ok(c, all[lo:hi])
	}
}

// GET /subjects/{subject}/versions?deleted=&deletedOnly=&offset=&limit=
func (s *Server) listVersions(c *gin.Context) {
	vs, err := s.reg.Versions(c.Param("subject"), VersionsOpts{Deleted: qbool(c, "deleted"), DeletedOnly: qbool(c, "deletedOnly")})
	if err != nil {
		s.fail(c, err)
		return
	}
	if lo, hi, ok := s.page(c, len(vs), ListPageLimit); ok {
		s.ok(c, vs[lo:hi])
	}
}

// GET /subjects/{subject}/versions/{version}?deleted=
func (s *Server) getVersion(c *gin.Context) {
	if sv, ok := s.versionOf(c); ok {
		s.ok(c, sv)
	}
}

// GET /subjects/{subject}/versions/{version}/schema?deleted= answers the
// schema text alone.
func (s *Server) getVersionSchema(c *gin.Context) {
	if sv, ok := s.versionOf(c); ok {
		c.Data(http.StatusOK, wire.ContentTypeRegistry, []byte(sv.Schema))
	}
}

// versionOf reads the version the path names; on failure it answers and
// returns false.
func (s *Server) versionOf(c *gin.Context) (SubjectVersion, bool) {
	v, ok := s.versionParam(c)
	if !ok {
		return SubjectVersion{}, false
	}
	sv, err := s.reg.Version(c.Param("subject"), v, VersionOpts{Deleted: qbool(c, "deleted")})
	if err != nil {
		s.fail(c, err)
		return SubjectVersion{}, false
	}
	return sv, true
}

// GET /subjects/{subject}/metadata?key=&value=&deleted= answers the latest
// version whose metadata properties hold each key=value pair (Confluent's
// getLatestWithMetadata); keys and values pair up in order.
func (s *Server) latestWithMetadata(c *gin.Context) {
	keys, values := c.QueryArray("key"), c.QueryArray("value")
	if len(keys) != len(values) {
		s.fail(c, errf(http.StatusBadRequest, CodeBadRequest,
			"Got %d key and %d value query parameters: send them in pairs, e.g. ?key=major_version&value=2.", len(keys), len(values)))
		return
	}
	props := make(map[string]string, len(keys))
	for i, k := range keys {
		props[k] = values[i]
	}
	sv, err := s.reg.LatestWithMetadata(c.Param("subject"), props, VersionOpts{Deleted: qbool(c, "deleted")})
	s.reply(c, sv, err)
}

// GET /subjects/{subject}/versions/{version}/referencedby
func (s *Server) referencedBy(c *gin.Context) {
	v, ok := s.versionParam(c)
	if !ok {
		return
	}
	ids, err := s.reg.ReferencedBy(c.Param("subject"), v)
	s.reply(c, ids, err)
}

// POST /subjects/{subject}/versions?normalize= answers Confluent 8's
// RegisterSchemaResponse: {"id", "version", "schemaType", "schema"} (and
// "references"). A plain request (no query) that repeats earlier bytes is
// answered from the register cache without decoding, since clients
// re-register on every start.
func (s *Server) register(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	body, bp, ok := s.readBody(c)
	defer putBody(bp)
	if !ok {
		return
	}
	subject := c.Param("subject")
	plain := c.Request.URL.RawQuery == ""
	var key hotKey
	if plain {
		key = hotKeyOf(subject, body)
		if res, hit := s.reg.cachedRegister(key); hit {
			s.writeRegistered(c, subject, res)
			return
		}
	}
	var req SchemaRequest
	if !s.decodeSchema(c, body, &req) {
		return
	}
	res, gen, err := s.reg.register(c.Request.Context(), subject, req, RegisterOpts{Normalize: qbool(c, "normalize")})
	if err != nil {
		s.fail(c, err)
		return
	}
	if plain && req.ID == 0 && req.Version == 0 {
		s.reg.rememberRegister(key, res, gen)
	}
	s.writeRegistered(c, subject, res)
}

// writeRegistered answers a registration.
func (s *Server) writeRegistered(c *gin.Context, subject string, res registered) {
	body, err := s.reg.registeredBody(subject, res)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, wire.ContentTypeRegistry, body)
}

// POST /subjects/{subject}?normalize=&deleted=
func (s *Server) lookup(c *gin.Context) {
	var req SchemaRequest
	if !s.bindSchema(c, &req) {
		return
	}
	sv, err := s.reg.Lookup(c.Param("subject"), req, LookupOpts{Normalize: qbool(c, "normalize"), Deleted: qbool(c, "deleted")})
	s.reply(c, sv, err)
}

// DELETE /subjects/{subject}?permanent=
func (s *Server) deleteSubject(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	vs, err := s.reg.DeleteSubject(c.Request.Context(), c.Param("subject"), DeleteOpts{Permanent: qbool(c, "permanent")})
	s.reply(c, vs, err)
}

// DELETE /subjects/{subject}/versions/{version}?permanent=
func (s *Server) deleteVersion(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	v, ok := s.versionParam(c)
	if !ok {
		return
	}
	got, err := s.reg.DeleteVersion(c.Request.Context(), c.Param("subject"), v, DeleteOpts{Permanent: qbool(c, "permanent")})
	s.reply(c, got, err)
}

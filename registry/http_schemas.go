package registry

import (
	"net/http"

	"github.com/contrail-events/contrail/wire"
	"github.com/gin-gonic/gin"
)

// GET /schemas?subjectPrefix=&deleted=&latestOnly=&offset=&limit=
// (subjectPrefix defaults to "", the default context; ":*:" lists all).
func (s *Server) listSchemas(c *gin.Context) {
	all := s.reg.AllSchemas(SchemasOpts{
		Prefix:     c.Query("subjectPrefix"),
		Deleted:    qbool(c, "deleted"),
		LatestOnly: qbool(c, "latestOnly"),
	})
	if lo, hi, ok := s.page(c, len(all), SchemasPageLimit); ok {
		s.ok(c, all[lo:hi])
	}
}

// GET /schemas/types
func (s *Server) schemaTypes(c *gin.Context) { s.ok(c, []string{schemaTypeAvro}) }

// idOpts reads ?subject=, which picks the context an ID is read in.
func idOpts(c *gin.Context) IDOpts { return IDOpts{Subject: c.Query("subject")} }

// GET /schemas/ids/{id}?subject=&fetchMaxId= answers the pre-encoded body
// unless maxId is asked for, since every consumer calls it once per new ID.
func (s *Server) getSchema(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	if qbool(c, "fetchMaxId") {
		rec, maxID, err := s.reg.schemaWithMaxID(id, idOpts(c))
		if err != nil {
			s.fail(c, err)
			return
		}
		s.ok(c, schemaByIDResponse{Schema: rec.Text, SchemaType: typeOut(rec.Type), References: rec.References,
			Metadata: rec.Metadata, RuleSet: outRules(rec.RuleSet), MaxID: &maxID})
		return
	}
	body, found := s.reg.schemaBody(id, idOpts(c))
	if !found {
		s.fail(c, errSchemaNotFound("Schema %d not found", id))
		return
	}
	c.Data(http.StatusOK, wire.ContentTypeRegistry, body)
}

// GET /schemas/ids/{id}/schema?subject= answers the schema text alone.
func (s *Server) getSchemaText(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	rec, err := s.reg.SchemaByID(id, idOpts(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, wire.ContentTypeRegistry, []byte(rec.Text))
}

// GET /schemas/ids/{id}/subjects?subject=&deleted=&offset=&limit=
func (s *Server) getSchemaSubjects(c *gin.Context) {
	svs, ok := s.usesOf(c)
	if !ok {
		return
	}
	out := []string{}
	for _, sv := range svs {
		if len(out) == 0 || out[len(out)-1] != sv.Subject {
			out = append(out, sv.Subject)
		}
	}
	if lo, hi, ok := s.page(c, len(out), ListPageLimit); ok {
		s.ok(c, out[lo:hi])
	}
}

// GET /schemas/ids/{id}/versions?subject=&deleted=&offset=&limit=
func (s *Server) getSchemaVersions(c *gin.Context) {
	svs, ok := s.usesOf(c)
	if !ok {
		return
	}
	type pair struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	out := make([]pair, len(svs))
	for i, sv := range svs {
		out[i] = pair{sv.Subject, sv.Version}
	}
	if lo, hi, ok := s.page(c, len(out), ListPageLimit); ok {
		s.ok(c, out[lo:hi])
	}
}

// usesOf reads the versions using the schema the path names; on failure it
// answers and returns false.
func (s *Server) usesOf(c *gin.Context) ([]SubjectVersion, bool) {
	id, ok := s.idParam(c)
	if !ok {
		return nil, false
	}
	svs, err := s.reg.SubjectVersionsOf(id, SubjectVersionsOpts{IDOpts: idOpts(c), Deleted: qbool(c, "deleted")})
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return svs, true
}

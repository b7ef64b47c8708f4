package registry

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
)

// schemaHint is the body shape a schema request's error message suggests.
const schemaHint = `{"schema": "<Avro schema as a JSON string>", "references": [{"name", "subject", "version"}], "metadata": {...}, "ruleSet": {...}}`

// bind decodes the JSON body into v; on failure it answers and returns false.
func (s *Server) bind(c *gin.Context, v any, hint string) bool {
	body, bp, ok := s.readBody(c)
	defer putBody(bp)
	return ok && s.decode(c, body, v, hint)
}

// bindSchema decodes a schema request body (register, lookup,
// compatibility) into req, refusing one that decoding would change (see
// checkBody); on failure it answers and returns false.
func (s *Server) bindSchema(c *gin.Context, req *SchemaRequest) bool {
	body, bp, ok := s.readBody(c)
	defer putBody(bp)
	return ok && s.decodeSchema(c, body, req)
}

// decodeSchema is decode for a schema request body, after checkBody.
func (s *Server) decodeSchema(c *gin.Context, body []byte, req *SchemaRequest) bool {
	if err := checkBody(body); err != nil {
		s.fail(c, err)
		return false
	}
	return s.decode(c, body, req, schemaHint)
}

// bodyPool recycles request body buffers: handlers copy what they keep.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// readBody reads the request body into a pooled buffer; the caller passes
// the returned holder to putBody when done (handlers copy what they keep).
func (s *Server) readBody(c *gin.Context) ([]byte, *[]byte, bool) {
	bp := bodyPool.Get().(*[]byte)
	buf := (*bp)[:0]
	if n := c.Request.ContentLength; n > int64(cap(buf)) {
		buf = make([]byte, 0, n)
	}
	var err error
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		var n int
		n, err = c.Request.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	if err == io.EOF {
		err = nil
	}
	*bp = buf
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.tooLarge(c, -1)
			return nil, bp, false
		}
		s.fail(c, errf(http.StatusBadRequest, CodeBadRequest, "Cannot read request body: %v", err))
		return nil, bp, false
	}
	return buf, bp, true
}

// putBody recycles a buffer from readBody once the handler is done with it.
func putBody(bp *[]byte) {
	if cap(*bp) <= 1<<20 {
		*bp = (*bp)[:0]
		bodyPool.Put(bp)
	}
}

// decode unmarshals body into v; on failure it answers 400 with hint, the
// body the endpoint wants, and returns false.
func (s *Server) decode(c *gin.Context, body []byte, v any, hint string) bool {
	if err := json.Unmarshal(body, v); err != nil {
		var e *Error
		if errors.As(err, &e) {
			// A decoder that knows the Confluent code (42210) said so.
			s.fail(c, e)
			return false
		}
		s.fail(c, errf(http.StatusBadRequest, CodeBadRequest, "Invalid JSON body: %v; send %s.", err, hint))
		return false
	}
	return true
}

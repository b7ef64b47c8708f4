package registry

import (
	"runtime/debug"

	"github.com/gin-gonic/gin"
)

// SchemaRegistryClusterID is the schema-registry-cluster this registry
// names in GET /v1/metadata/id: Confluent answers its group id, whose
// default is "schema-registry".
const SchemaRegistryClusterID = "schema-registry"

// GET /v1/metadata/id answers Confluent's ServerClusterId. This registry
// keeps no Kafka topic, so kafka-cluster is empty.
func (s *Server) metadataID(c *gin.Context) {
	s.ok(c, map[string]any{"scope": map[string]any{
		"path":     []string{},
		"clusters": map[string]string{"kafka-cluster": "", "schema-registry-cluster": SchemaRegistryClusterID},
	}})
}

// GET /v1/metadata/version answers Confluent's SchemaRegistryServerVersion:
// the module version and VCS revision the binary was built from, each
// omitted when unknown.
func (s *Server) metadataVersion(c *gin.Context) {
	out := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			out["version"] = v
		}
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" && st.Value != "" {
				out["commitId"] = st.Value
			}
		}
	}
	s.ok(c, out)
}

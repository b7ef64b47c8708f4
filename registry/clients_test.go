package registry_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
)

const (
	clientV1 = `{"type":"record","name":"Client","namespace":"clients","fields":[{"name":"id","type":"string"}]}`
	// clientV2 adds an optional field: BACKWARD compatible.
	clientV2 = `{"type":"record","name":"Client","namespace":"clients","fields":[{"name":"id","type":"string"},{"name":"note","type":["null","string"],"default":null}]}`
	// clientBad adds a required field: not BACKWARD compatible.
	clientBad = `{"type":"record","name":"Client","namespace":"clients","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int"}]}`
)

func TestFranzGoClient(t *testing.T) {
	base := registrytest.ServeStore(t, registry.NewMemoryStore(), registry.WithBasicAuth(map[string]string{"alice": "s3cret"}))
	ctx := context.Background()

	anon, err := sr.NewClient(sr.URLs(base))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Subjects(ctx); err == nil {
		t.Fatal("request without credentials succeeded; want 401")
	}
	cl, err := sr.NewClient(sr.URLs(base), sr.BasicAuth("alice", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	const subject = "franz-value"

	ss, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: clientV1})
	if err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	if ss.Subject != subject || ss.Version != 1 || ss.ID <= 0 || ss.Schema.Schema != clientV1 {
		t.Fatalf("CreateSchema = %+v", ss)
	}
	id, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: clientV1}, -1, -1)
	if err != nil || id != ss.ID {
		t.Fatalf("RegisterSchema again = %d, %v; want %d", id, err, ss.ID)
	}
	got, err := cl.LookupSchema(ctx, subject, sr.Schema{Schema: clientV1})
	if err != nil || got.ID != ss.ID || got.Version != 1 {
		t.Fatalf("LookupSchema = %+v, %v", got, err)
	}
	byID, err := cl.SchemaByID(ctx, ss.ID)
	if err != nil || byID.Schema != clientV1 || byID.Type != sr.TypeAvro {
		t.Fatalf("SchemaByID = %+v, %v", byID, err)
	}
	text, err := cl.SchemaTextByID(ctx, ss.ID)
	if err != nil || text != clientV1 {
		t.Fatalf("SchemaTextByID = %q, %v", text, err)
	}
	latest, err := cl.SchemaByVersion(ctx, subject, -1)
	if err != nil || latest.ID != ss.ID {
		t.Fatalf("SchemaByVersion(-1) = %+v, %v", latest, err)
	}

	res, err := cl.CheckCompatibility(ctx, subject, -1, sr.Schema{Schema: clientV2})
	if err != nil || !res.Is {
		t.Fatalf("CheckCompatibility(v2) = %+v, %v; want compatible", res, err)
	}
	vctx := sr.WithParams(ctx, sr.Verbose)
	res, err = cl.CheckCompatibility(vctx, subject, -2, sr.Schema{Schema: clientBad})
	if err != nil || res.Is || len(res.Messages) == 0 {
		t.Fatalf("CheckCompatibility(bad, verbose) = %+v, %v; want incompatible with messages", res, err)
	}
	_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: clientBad}, -1, -1)
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.SchemaError() != sr.ErrIncompatibleSchema {
		t.Fatalf("registering an incompatible schema: %v; want sr.ErrIncompatibleSchema", err)
	}

	set := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatFull}, subject)
	if set[0].Err != nil || set[0].Level != sr.CompatFull {
		t.Fatalf("SetCompatibility = %+v", set[0])
	}
	cs := cl.Compatibility(ctx, subject, sr.GlobalSubject)
	if cs[0].Err != nil || cs[0].Level != sr.CompatFull || cs[1].Err != nil || cs[1].Level != sr.CompatBackward {
		t.Fatalf("Compatibility = %+v", cs)
	}
	// DELETE /config/{subject} answers {"compatibilityLevel": ...}, as
	// Confluent's ConfigResource does; franz-go decodes that answer into
	// its SetCompatibility ("compatibility"), so Level stays empty here as
	// against Confluent. The call itself must succeed.
	reset := cl.ResetCompatibility(ctx, subject)
	if reset[0].Err != nil {
		t.Fatalf("ResetCompatibility = %+v", reset[0])
	}
	cs = cl.Compatibility(ctx, subject)
	if !errors.As(cs[0].Err, &re) || re.SchemaError() != sr.ErrSubjectLevelCompatibilityNotConfigured {
		t.Fatalf("Compatibility after reset = %+v", cs[0])
	}
	modes := cl.SetMode(ctx, sr.ModeReadOnly, subject)
	if modes[0].Err != nil || modes[0].Mode != sr.ModeReadOnly {
		t.Fatalf("SetMode = %+v", modes[0])
	}
	if m := cl.Mode(ctx, subject); m[0].Err != nil || m[0].Mode != sr.ModeReadOnly {
		t.Fatalf("Mode = %+v", m[0])
	}
	cl.ResetMode(ctx, subject)

	v2, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: clientV2})
	if err != nil || v2.Version != 2 {
		t.Fatalf("CreateSchema(v2) = %+v, %v", v2, err)
	}
	versions, err := cl.SubjectVersions(ctx, subject)
	if err != nil || !slices.Equal(versions, []int{1, 2}) {
		t.Fatalf("SubjectVersions = %v, %v", versions, err)
	}
	paged, err := cl.SubjectVersions(sr.WithParams(ctx, sr.Offset(1), sr.Limit(1)), subject)
	if err != nil || !slices.Equal(paged, []int{2}) {
		t.Fatalf("SubjectVersions(offset 1, limit 1) = %v, %v", paged, err)
	}
	subjects, err := cl.Subjects(ctx)
	if err != nil || !slices.Equal(subjects, []string{subject}) {
		t.Fatalf("Subjects = %v, %v", subjects, err)
	}
	deleted, err := cl.DeleteSubject(ctx, subject, sr.SoftDelete)
	if err != nil || !slices.Equal(deleted, []int{1, 2}) {
		t.Fatalf("DeleteSubject = %v, %v", deleted, err)
	}
	if _, err := cl.DeleteSubject(ctx, subject, sr.HardDelete); err != nil {
		t.Fatalf("hard DeleteSubject: %v", err)
	}
	_, err = cl.SchemaByVersion(ctx, subject, 1)
	if !errors.As(err, &re) || re.SchemaError() != sr.ErrSubjectNotFound {
		t.Fatalf("SchemaByVersion after delete: %v; want ErrSubjectNotFound", err)
	}

	// Schema contexts: sr.InContext sends every request under
	// /contexts/{context}/, which the server reads as Confluent's
	// ContextFilter does.
	staging := sr.InContext(ctx, ".staging")
	inCtx, err := cl.CreateSchema(staging, subject, sr.Schema{Schema: clientV1})
	if err != nil || inCtx.ID != 1 || inCtx.Version != 1 || inCtx.Subject != ":.staging:"+subject {
		t.Fatalf("CreateSchema in .staging = %+v, %v; want id 1 (ids are per context), version 1", inCtx, err)
	}
	if got, err := cl.SchemaByID(staging, 1); err != nil || got.Schema != clientV1 {
		t.Fatalf("SchemaByID in .staging = %+v, %v", got, err)
	}
	if _, err := cl.SchemaByID(ctx, 1); !errors.As(err, &re) || re.SchemaError() != sr.ErrSchemaNotFound {
		t.Fatalf("SchemaByID(1) in the default context after its only use was deleted: %v; want ErrSchemaNotFound", err)
	}
	if got, err := cl.Subjects(staging); err != nil || !slices.Equal(got, []string{":.staging:" + subject}) {
		t.Fatalf("Subjects in .staging = %v, %v", got, err)
	}
	if got, err := cl.Contexts(ctx); err != nil || !slices.Equal(got, []string{".", ".staging"}) {
		t.Fatalf("Contexts = %v, %v", got, err)
	}
	if set := cl.SetCompatibility(staging, sr.SetCompatibility{Level: sr.CompatNone}); set[0].Err != nil {
		t.Fatalf("SetCompatibility for the context = %+v", set[0])
	}
	if cs := cl.Compatibility(sr.WithParams(staging, sr.DefaultToGlobal), subject); cs[0].Err != nil || cs[0].Level != sr.CompatNone {
		t.Fatalf("Compatibility of a subject in .staging = %+v, want the context's NONE", cs[0])
	}
	if _, err := cl.RegisterSchema(staging, subject, sr.Schema{Schema: clientBad}, -1, -1); err != nil {
		t.Fatalf("register a break under the context's NONE: %v", err)
	}
	if m := cl.SetMode(staging, sr.ModeReadOnly); m[0].Err != nil {
		t.Fatalf("SetMode for the context = %+v", m[0])
	}
	_, err = cl.RegisterSchema(staging, subject, sr.Schema{Schema: clientV2}, -1, -1)
	if !errors.As(err, &re) || re.ErrorCode != registry.CodeNotPermitted {
		t.Fatalf("register in a read-only context: %v; want error code %d", err, registry.CodeNotPermitted)
	}
}

func TestSrclient(t *testing.T) {
	base := registrytest.ServeStore(t, registry.NewMemoryStore(), registry.WithBasicAuth(map[string]string{"bob": "pw"}))
	cl := srclient.NewSchemaRegistryClient(base)
	cl.CachingEnabled(false)
	if _, err := cl.GetSubjects(); err == nil {
		t.Fatal("request without credentials succeeded; want 401")
	}
	cl.SetCredentials("bob", "pw")
	const subject = "srclient-value"

	created, err := cl.CreateSchema(subject, clientV1, srclient.Avro)
	if err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	if created.ID() <= 0 || created.Schema() != clientV1 || created.Codec() == nil {
		t.Fatalf("CreateSchema = id %d schema %q", created.ID(), created.Schema())
	}
	again, err := cl.CreateSchema(subject, clientV1, srclient.Avro)
	if err != nil || again.ID() != created.ID() {
		t.Fatalf("CreateSchema again = %v, %v", again, err)
	}
	looked, err := cl.LookupSchema(subject, clientV1, srclient.Avro)
	if err != nil || looked.ID() != created.ID() || looked.Version() != 1 {
		t.Fatalf("LookupSchema = %+v, %v", looked, err)
	}
	byID, err := cl.GetSchema(created.ID())
	if err != nil || byID.Schema() != clientV1 {
		t.Fatalf("GetSchema = %v, %v", byID, err)
	}
	latest, err := cl.GetLatestSchema(subject)
	if err != nil || latest.ID() != created.ID() || latest.Version() != 1 {
		t.Fatalf("GetLatestSchema = %v, %v", latest, err)
	}
	ok, err := cl.IsSchemaCompatible(subject, clientV2, "latest", srclient.Avro)
	if err != nil || !ok {
		t.Fatalf("IsSchemaCompatible(v2) = %v, %v", ok, err)
	}
	ok, err = cl.IsSchemaCompatible(subject, clientBad, "latest", srclient.Avro)
	if err != nil || ok {
		t.Fatalf("IsSchemaCompatible(bad) = %v, %v; want false", ok, err)
	}
	_, err = cl.CreateSchema(subject, clientBad, srclient.Avro)
	var se srclient.Error
	if !errors.As(err, &se) || se.Code != registry.CodeIncompatible {
		t.Fatalf("CreateSchema(bad): %v; want error_code %d", err, registry.CodeIncompatible)
	}

	level, err := cl.ChangeSubjectCompatibilityLevel(subject, srclient.Full)
	if err != nil || *level != srclient.Full {
		t.Fatalf("ChangeSubjectCompatibilityLevel = %v, %v", level, err)
	}
	level, err = cl.GetCompatibilityLevel(subject, true)
	if err != nil || *level != srclient.Full {
		t.Fatalf("GetCompatibilityLevel = %v, %v", level, err)
	}
	level, err = cl.GetGlobalCompatibilityLevel()
	if err != nil || *level != srclient.Backward {
		t.Fatalf("GetGlobalCompatibilityLevel = %v, %v", level, err)
	}
	// srclient fills CreateSchema's answer from GET /schemas/ids/{id}, which
	// (on Confluent too) carries no version, so ask for the latest instead.
	v2, err := cl.CreateSchema(subject, clientV2, srclient.Avro)
	if err != nil || v2.ID() == created.ID() {
		t.Fatalf("CreateSchema(v2) = %v, %v", v2, err)
	}
	if latest, err := cl.GetLatestSchema(subject); err != nil || latest.Version() != 2 || latest.ID() != v2.ID() {
		t.Fatalf("GetLatestSchema after v2 = %v, %v", latest, err)
	}
	versions, err := cl.GetSchemaVersions(subject)
	if err != nil || !slices.Equal(versions, []int{1, 2}) {
		t.Fatalf("GetSchemaVersions = %v, %v", versions, err)
	}
	pairs, err := cl.GetSubjectVersionsById(v2.ID())
	if err != nil || len(pairs) != 1 {
		t.Fatalf("GetSubjectVersionsById = %v, %v", pairs, err)
	}
	subjects, err := cl.GetSubjects()
	if err != nil || !slices.Equal(subjects, []string{subject}) {
		t.Fatalf("GetSubjects = %v, %v", subjects, err)
	}
	if err := cl.DeleteSubject(subject, true); err != nil {
		t.Fatalf("DeleteSubject(permanent): %v", err)
	}
	all, err := cl.GetSubjectsIncludingDeleted()
	if err != nil || len(all) != 0 {
		t.Fatalf("GetSubjectsIncludingDeleted after permanent delete = %v, %v", all, err)
	}
}

package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/baseline"
	"github.com/contrail-events/contrail/compat/report"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// The whole `contrail contract` subcommands as library calls: each loads
// what it needs from directories and the registry, does the work, and
// returns what the CLI prints. Errors whose cause is input that does not
// parse (schemas, contract files, examples) wrap compat.ErrInvalidInput;
// the rest are usage or tool errors. Messages start with the subcommand
// ("contract verify: ...") and say what to do next; none holds a password.

// Select returns the contracts of cs whose consumer is one of consumers, in
// cs's order; every contract when consumers is empty.
func Select(cs []*Contract, consumers []string) []*Contract {
	if len(consumers) == 0 {
		return cs
	}
	var out []*Contract
	for _, c := range cs {
		if slices.Contains(consumers, c.Consumer) {
			out = append(out, c)
		}
	}
	return out
}

// ExportTree derives the contracts of the schema tree in schemaDir
// (FromSet, keeping the relied-on fields of the contracts already in
// contractsDir), keeps those of consumers (all when empty) and writes them
// to contractsDir. It returns the files written (slash paths joined with
// contractsDir) and the contracts' consumers, sorted.
func ExportTree(schemaDir, contractsDir string, consumers []string) (files, exported []string, err error) {
	set, err := loadSchemas(schemaDir)
	if err != nil {
		return nil, nil, err
	}
	prev, err := Load(contractsDir)
	if err != nil {
		return nil, nil, compat.InvalidInput(err)
	}
	all, err := FromSet(set, prev)
	if err != nil {
		return nil, nil, compat.InvalidInput(err)
	}
	cs := Select(all, consumers)
	names, err := Write(contractsDir, cs)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		files = append(files, filepath.ToSlash(filepath.Join(contractsDir, name)))
	}
	return files, Consumers(cs), nil
}

// PublishOptions are the inputs of PublishDir, field for field the flags of
// `contrail contract publish`.
type PublishOptions struct {
	// Contracts is the contracts directory to publish (--contracts).
	// Default DefaultDir.
	Contracts string
	// Registry is the registry URL (--registry); credentials as
	// RegistryClient takes them. Default wire.DefaultRegistryURL.
	Registry string
	// RegistryOpts tune the registry client (see regclient.New). Default none.
	RegistryOpts []regclient.Opt
	// Consumers, when set, publishes only these consumers' contracts
	// (--consumer). Default: every consumer.
	Consumers []string
}

func (o *PublishOptions) setDefaults() {
	if o.Contracts == "" {
		o.Contracts = DefaultDir
	}
	if o.Registry == "" {
		o.Registry = wire.DefaultRegistryURL
	}
}

// Validate reports a Registry URL that does not parse; the error never
// holds the password.
func (o PublishOptions) Validate() error {
	o.setDefaults()
	return validateRegistry("contract publish", o.Registry, o.RegistryOpts)
}

// PublishDir publishes (Publish) the contracts in o.Contracts that
// o.Consumers selects. It returns what it registered, also when it stops at
// a registry error. It is an error when there is nothing to publish; a
// registry that rejects the credentials gets an error that says how to pass
// them.
func PublishDir(ctx context.Context, o PublishOptions) ([]Published, error) {
	o.setDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cs, err := Load(o.Contracts)
	if err != nil {
		return nil, compat.InvalidInput(err)
	}
	mine := Select(cs, o.Consumers)
	if len(mine) == 0 {
		return nil, fmt.Errorf("contract publish: no contracts in %s to publish: run `contrail contract export` first", o.Contracts)
	}
	cl, shown, err := RegistryClient(o.Registry, o.RegistryOpts...)
	if err != nil {
		return nil, fmt.Errorf("contract publish: %w", err)
	}
	pubs, err := Publish(ctx, cl, mine)
	if err != nil {
		return pubs, advise("contract publish", shown, err)
	}
	return pubs, nil
}

// VerifyOptions are the inputs of VerifyTree, field for field the flags of
// `contrail contract verify`.
type VerifyOptions struct {
	// Schemas is the producer schema tree, the directory holding
	// manifest.yaml (--schemas). Default "schemas".
	Schemas string
	// Contracts is the contracts directory (--contracts); a missing
	// directory holds no contracts. Default DefaultDir.
	Contracts string
	// NoFiles ignores Contracts: only the registry's contracts are verified
	// (--no-files). Default false.
	NoFiles bool
	// Registry, when set, is a registry URL whose published contracts
	// (Fetch) are verified too (--registry); credentials as RegistryClient
	// takes them. Default "": none.
	Registry string
	// RegistryOpts tune the registry client (see regclient.New). Default none.
	RegistryOpts []regclient.Opt
	// Consumers, when set, verifies only these consumers' contracts
	// (--consumer). Default: every consumer.
	Consumers []string
}

func (o *VerifyOptions) setDefaults() {
	if o.Schemas == "" {
		o.Schemas = "schemas"
	}
	if o.Contracts == "" {
		o.Contracts = DefaultDir
	}
}

// Validate reports a Registry URL that does not parse; the error never
// holds the password.
func (o VerifyOptions) Validate() error {
	if o.Registry == "" {
		return nil
	}
	return validateRegistry("contract verify", o.Registry, o.RegistryOpts)
}

// VerifyTree answers "can I deploy?": it verifies (Verify) every selected
// consumer contract, from the files in o.Contracts and, with o.Registry,
// those published there (the strictest answer: both are verified, an
// identical copy once), against the producer schemas in o.Schemas. It
// returns what a printer needs (report.Write): one checked entry per
// contract, the findings sorted, the working tree's path prefix from the
// repository top, and the sources as the baseline label. Result.Breaking
// says whether a contract breaks.
//
// It is an error when no contract is found. Errors whose cause is input
// that does not parse (the schemas, a contract file or a published
// contract) wrap compat.ErrInvalidInput; a registry that rejects the
// credentials gets an error that says how to pass them.
func VerifyTree(ctx context.Context, o VerifyOptions) (*report.Result, error) {
	o.setDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	set, err := loadSchemas(o.Schemas)
	if err != nil {
		return nil, err
	}
	var sources []string
	var all []*Contract
	if !o.NoFiles {
		cs, err := Load(o.Contracts)
		if err != nil {
			return nil, compat.InvalidInput(fmt.Errorf("contract verify: %w", err))
		}
		all = append(all, Select(cs, o.Consumers)...)
		sources = append(sources, o.Contracts)
	}
	if o.Registry != "" {
		cl, shown, err := RegistryClient(o.Registry, o.RegistryOpts...)
		if err != nil {
			return nil, fmt.Errorf("contract verify: %w", err)
		}
		cs, err := Fetch(ctx, cl)
		if errors.Is(err, ErrInvalid) {
			return nil, compat.InvalidInput(fmt.Errorf("contract verify: %w", err))
		}
		if err != nil {
			return nil, advise("contract verify", shown, err)
		}
		all = append(all, Select(cs, o.Consumers)...)
		sources = append(sources, shown)
	}
	cs := distinct(all)
	if len(cs) == 0 {
		return nil, fmt.Errorf("contract verify: no consumer contracts found in %s: run `contrail contract export`, or pass --registry", strings.Join(sources, " or "))
	}
	SortContracts(cs)
	res, err := Verify(WritersOf(set, compat.WorkingTree), cs)
	if err != nil {
		return nil, compat.InvalidInput(fmt.Errorf("contract verify: %w", err))
	}
	return res.Report(compat.WorkingTree, "consumer contracts ("+strings.Join(sources, ", ")+")", baseline.PathPrefix(ctx, o.Schemas)), nil
}

// distinct returns cs without later copies of an earlier contract: same
// key, same relied-on fields and the same reader schema, however its JSON
// is formatted. Copies that differ in any of those are all kept.
func distinct(cs []*Contract) []*Contract {
	seen := map[string]bool{}
	var out []*Contract
	for _, c := range cs {
		var schema any
		_ = json.Unmarshal(c.Schema, &schema)
		canon, _ := json.Marshal(schema) // sorted keys: formatting never counts
		id := c.Key() + "\x00" + strings.Join(c.Fields, ",") + "\x00" + string(canon)
		if !seen[id] {
			seen[id] = true
			out = append(out, c)
		}
	}
	return out
}

// SnapshotTree encodes the examples in examplesDir (default
// <schemaDir>/examples) with the schema tree in schemaDir and writes the
// golden payloads to historyDir (default <schemaDir>/history); see
// LoadExamples and Snapshot. It returns the directories written and the
// number of examples encoded. It is an error when there are no examples.
func SnapshotTree(schemaDir, examplesDir, historyDir string) (dirs []string, examples int, err error) {
	if examplesDir == "" {
		examplesDir = filepath.Join(schemaDir, "examples")
	}
	if historyDir == "" {
		historyDir = filepath.Join(schemaDir, "history")
	}
	set, err := loadSchemas(schemaDir)
	if err != nil {
		return nil, 0, err
	}
	exs, err := LoadExamples(examplesDir, set)
	if err != nil {
		return nil, 0, compat.InvalidInput(fmt.Errorf("contract snapshot: %w", err))
	}
	if len(exs) == 0 {
		return nil, 0, fmt.Errorf("contract snapshot: no examples in %s: add <event full name>/<name>.json files", examplesDir)
	}
	dirs, err = Snapshot(historyDir, set, exs)
	if errors.Is(err, ErrBadExample) {
		return nil, 0, compat.InvalidInput(fmt.Errorf("contract snapshot: %w", err))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("contract snapshot: %w", err)
	}
	return dirs, len(exs), nil
}

// loadSchemas loads the schema tree in dir; a tree that does not parse is
// invalid input.
func loadSchemas(dir string) (*schemas.Set, error) {
	set, err := schemas.Load(dir)
	if err != nil {
		return nil, compat.SchemaLoadErr(fmt.Errorf("contract: schemas: %w", err))
	}
	return set, nil
}

// validateRegistry reports, prefixed by cmd, a registry URL that does not
// parse, as RegistryClient would.
func validateRegistry(cmd, rawURL string, opts []regclient.Opt) error {
	if _, _, err := regclient.Parse(rawURL, opts...); err != nil {
		return fmt.Errorf("%s: %w: %w", cmd, ErrRegistry, err)
	}
	return nil
}

// advise prefixes the registry error err with cmd and, when the registry
// rejected the credentials, says how to pass them.
func advise(cmd, shown string, err error) error {
	if errors.Is(err, ErrUnauthorized) {
		return fmt.Errorf("%s: %w (registry %s): pass credentials as http(s)://user:password@host or set $%s and $%s", cmd, err, shown, regclient.EnvUser, regclient.EnvPassword)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

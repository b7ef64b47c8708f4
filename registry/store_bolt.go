package registry

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DataFileName is the bbolt file a BoltStore keeps in its data directory.
const DataFileName = "registry.db"

var (
	bucketSchemas  = []byte("schemas")
	bucketVersions = []byte("versions")
	bucketConfigs  = []byte("configs")
	bucketModes    = []byte("modes")
	bucketContexts = []byte("contexts")
)

// BoltStore is the durable Store: one bbolt file in a data directory. Every
// Apply is one bbolt transaction, fsynced before it returns, so an
// acknowledged write survives kill -9 and power loss. Only one process may
// open a directory at a time. Safe for concurrent use.
type BoltStore struct {
	db *bolt.DB
}

// OpenBoltStore opens (creating if needed) the store in dir. It fails with a
// clear error when dir cannot be created or another process holds the store.
func OpenBoltStore(dir string) (*BoltStore, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: empty data directory: pass --data-dir", ErrStore)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: create data directory: %w", ErrStore, err)
	}
	path := filepath.Join(dir, DataFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s is locked by another process (is another registry running on this --data-dir?)", ErrStore, path)
		}
		return nil, fmt.Errorf("%w: open %s: %w", ErrStore, path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSchemas, bucketVersions, bucketConfigs, bucketModes, bucketContexts} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: initialise %s: %w", ErrStore, path, err)
	}
	return &BoltStore{db: db}, nil
}

// schemaRecordKey is the 8-byte big-endian ID for the default context (the
// key earlier releases wrote), and the context name, a 0 byte and the ID for
// any other, so two contexts never share a key.
func schemaRecordKey(ctx string, id int) []byte {
	k := make([]byte, 0, len(ctx)+9)
	if ctx != "" {
		k = append(append(k, ctx...), 0)
	}
	return binary.BigEndian.AppendUint64(k, uint64(id))
}

func versionKey(subject string, version int) []byte {
	k := make([]byte, 0, len(subject)+5)
	k = append(k, subject...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, uint32(version))
}

// settingKey avoids bbolt's ban on empty keys: the global setting is "g",
// a subject's is "s" + subject.
func settingKey(subject string) []byte {
	if subject == "" {
		return []byte("g")
	}
	return append([]byte("s"), subject...)
}

func settingSubject(k []byte) string {
	if len(k) == 0 || k[0] == 'g' {
		return ""
	}
	return string(k[1:])
}

// Load implements Store.
func (s *BoltStore) Load(context.Context) (State, error) {
	var st State
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := loadRecords(tx.Bucket(bucketSchemas), "schema", &st.Schemas); err != nil {
			return err
		}
		if err := loadRecords(tx.Bucket(bucketVersions), "version", &st.Versions); err != nil {
			return err
		}
		if err := loadConfigs(tx.Bucket(bucketConfigs), &st.Configs); err != nil {
			return err
		}
		if err := tx.Bucket(bucketContexts).ForEach(func(k, _ []byte) error {
			st.Contexts = append(st.Contexts, string(k))
			return nil
		}); err != nil {
			return err
		}
		return loadSettings(tx.Bucket(bucketModes), &st.Modes)
	})
	if err != nil {
		return State{}, fmt.Errorf("%w: load: %w", ErrStore, err)
	}
	sortState(&st)
	return st, nil
}

// loadRecords appends the JSON record of every key in bk to out.
func loadRecords[T any](bk *bolt.Bucket, what string, out *[]T) error {
	return bk.ForEach(func(_, v []byte) error {
		var r T
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode %s record: %w", what, err)
		}
		*out = append(*out, r)
		return nil
	})
}

// loadConfigs reads configs: a JSON ConfigRecord (those written before
// data contracts have no contract fields), or (as earlier releases wrote)
// the bare compatibility level.
func loadConfigs(bk *bolt.Bucket, out *[]ConfigRecord) error {
	return bk.ForEach(func(k, v []byte) error {
		c := ConfigRecord{Compatibility: string(v)}
		if len(v) > 0 && v[0] == '{' {
			c = ConfigRecord{}
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode config record: %w", err)
			}
		}
		c.Subject = settingSubject(k)
		*out = append(*out, c)
		return nil
	})
}

func loadSettings(bk *bolt.Bucket, out *[]SettingRecord) error {
	return bk.ForEach(func(k, v []byte) error {
		*out = append(*out, SettingRecord{Subject: settingSubject(k), Value: string(v)})
		return nil
	})
}

// Apply implements Store: one fsynced bbolt transaction. It refuses a
// batch with text that is not valid UTF-8, which its JSON records could not
// keep as written (the registry refuses such requests before they get here).
func (s *BoltStore) Apply(_ context.Context, b Batch) error {
	if err := checkBatchText(b); err != nil {
		return fmt.Errorf("%w: write: %w", ErrStore, err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSchemas)
		for _, r := range b.Schemas {
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := sb.Put(schemaRecordKey(r.Context, r.ID), v); err != nil {
				return err
			}
		}
		vb := tx.Bucket(bucketVersions)
		for _, r := range b.Versions {
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := vb.Put(versionKey(r.Subject, r.Version), v); err != nil {
				return err
			}
		}
		for _, k := range b.DeleteVersions {
			if err := vb.Delete(versionKey(k.Subject, k.Version)); err != nil {
				return err
			}
		}
		if err := putConfigs(tx.Bucket(bucketConfigs), b.Configs); err != nil {
			return err
		}
		cb := tx.Bucket(bucketContexts)
		for _, c := range b.Contexts {
			if err := cb.Put([]byte(c), nil); err != nil {
				return err
			}
		}
		for _, c := range b.DeleteContexts {
			if err := cb.Delete([]byte(c)); err != nil {
				return err
			}
		}
		return putSettings(tx.Bucket(bucketModes), b.Modes)
	})
	if err != nil {
		return fmt.Errorf("%w: write: %w", ErrStore, err)
	}
	return nil
}

// checkBatchText finds a string in b that is not valid UTF-8.
func checkBatchText(b Batch) error {
	bad := func(what, s string) error {
		if invalidUTF8At(s) >= 0 {
			return fmt.Errorf("%s %q is not valid UTF-8 and would not read back as written", what, truncate(s, 64))
		}
		return nil
	}
	var errs []error
	for _, r := range b.Schemas {
		errs = append(errs, bad("schema text of id "+strconv.Itoa(r.ID), r.Text))
		for _, ref := range r.References {
			errs = append(errs, bad("reference name", ref.Name), bad("reference subject", ref.Subject))
		}
		if what, v := contractText(r.Metadata, r.RuleSet); what != "" {
			errs = append(errs, bad(what+" of schema id "+strconv.Itoa(r.ID), v))
		}
	}
	for _, v := range b.Versions {
		errs = append(errs, bad("subject", v.Subject))
	}
	for _, r := range b.Modes {
		errs = append(errs, bad("subject", r.Subject))
	}
	for _, r := range b.Configs {
		errs = append(errs, bad("subject", r.Subject), bad("alias", r.Alias), bad("compatibility group", r.CompatibilityGroup))
		for _, c := range []contract{{r.DefaultMetadata, r.DefaultRuleSet}, {r.OverrideMetadata, r.OverrideRuleSet}} {
			if what, v := contractText(c.md, c.rs); what != "" {
				errs = append(errs, bad(what+" in the config of "+strconv.Quote(r.Subject), v))
			}
		}
	}
	for _, c := range b.Contexts {
		errs = append(errs, bad("context", c))
	}
	return errors.Join(errs...)
}

func putConfigs(bk *bolt.Bucket, recs []ConfigRecord) error {
	for _, r := range recs {
		if r.IsEmpty() {
			if err := bk.Delete(settingKey(r.Subject)); err != nil {
				return err
			}
			continue
		}
		key := settingKey(r.Subject)
		r.Subject = "" // the key names it
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := bk.Put(key, v); err != nil {
			return err
		}
	}
	return nil
}

func putSettings(bk *bolt.Bucket, recs []SettingRecord) error {
	for _, r := range recs {
		var err error
		if r.Value == "" {
			err = bk.Delete(settingKey(r.Subject))
		} else {
			err = bk.Put(settingKey(r.Subject), []byte(r.Value))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Close implements Store.
func (s *BoltStore) Close() error { return s.db.Close() }

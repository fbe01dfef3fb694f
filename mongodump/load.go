package mongodump

import (
	"archive/tar"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrBadDump is returned (wrapped) for a stream that is not a valid dump.
var ErrBadDump = errors.New("mongodump: invalid dump")

// Insert batches stay well under the 48 MB message limit and the 100,000
// writes a command may carry.
const (
	batchBytes = 8 << 20
	batchDocs  = 10_000
	maxDoc     = 16 << 20
)

type nsKey struct{ db, coll string }

// Load reads a tar stream in Dump's layout from r and writes its
// collections, documents and indexes through c, which should reach an
// empty deployment (a restore loads into a fresh staging generation and
// swaps it in only when Load succeeds). It reads r to its end, so a
// checksum-verifying reader (flexd.VerifyBlob) reports corruption here, and
// it fails if the manifest is missing or does not match what was loaded.
func Load(ctx context.Context, c *mongo.Client, r io.Reader) (Manifest, error) {
	var m Manifest
	var haveManifest bool
	tr := tar.NewReader(r)
	indexes := map[nsKey][]bson.Raw{}
	var order []nsKey
	loaded := map[nsKey]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, fmt.Errorf("%w: %v", ErrBadDump, err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return m, fmt.Errorf("%w: entry %s is not a regular file", ErrBadDump, h.Name)
		}
		name := path.Clean(h.Name)
		if name == ManifestName {
			if err := json.NewDecoder(io.LimitReader(tr, 64<<20)).Decode(&m); err != nil {
				return m, fmt.Errorf("%w: manifest: %v", ErrBadDump, err)
			}
			if m.Format != Format {
				return m, fmt.Errorf("%w: manifest format %q, want %q", ErrBadDump, m.Format, Format)
			}
			haveManifest = true
			continue
		}
		dir, file := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" || strings.Contains(dir, "/") {
			continue // mongodump's prelude.json, oplog.bson: nothing to restore
		}
		ns := nsKey{db: unescapeName(dir)}
		switch {
		case strings.HasSuffix(file, ".metadata.json"):
			ns.coll = unescapeName(strings.TrimSuffix(file, ".metadata.json"))
			specs, err := loadMetadata(ctx, c, ns, tr)
			if err != nil {
				return m, err
			}
			if _, seen := indexes[ns]; !seen {
				order = append(order, ns)
			}
			indexes[ns] = specs
		case strings.HasSuffix(file, ".bson"):
			ns.coll = unescapeName(strings.TrimSuffix(file, ".bson"))
			n, err := loadDocuments(ctx, c.Database(ns.db).Collection(ns.coll), tr)
			if err != nil {
				return m, fmt.Errorf("mongodump: restore %s.%s: %w", ns.db, ns.coll, err)
			}
			loaded[ns] += n
		}
	}
	for _, ns := range order {
		if err := createIndexes(ctx, c.Database(ns.db), ns.coll, indexes[ns]); err != nil {
			return m, err
		}
	}
	// Read to the very end: a verifying reader checks the checksum there.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return m, err
	}
	if !haveManifest {
		return m, errTruncated
	}
	for _, db := range m.Databases {
		for _, cm := range db.Collections {
			if got := loaded[nsKey{db.Name, cm.Name}]; got != cm.Documents {
				return m, fmt.Errorf("%w: %s.%s holds %d documents, the manifest says %d", ErrBadDump, db.Name, cm.Name, got, cm.Documents)
			}
		}
	}
	return m, nil
}

// metadata is the part of a .metadata.json file Load uses.
type metadata struct {
	Options bson.Raw   `bson:"options"`
	Indexes []bson.Raw `bson:"indexes"`
}

// parseMetadata reads a .metadata.json file's extended JSON. The driver's
// reader (v2.10.0) can loop forever on malformed JSON (an object left open
// inside a field it skips), so only well-formed JSON reaches it: a corrupt
// artifact must fail a restore, not hang it.
func parseMetadata(b []byte) (metadata, error) {
	var md metadata
	if !json.Valid(b) {
		return md, errors.New("not well-formed JSON")
	}
	err := bson.UnmarshalExtJSON(b, true, &md)
	return md, err
}

func loadMetadata(ctx context.Context, c *mongo.Client, ns nsKey, r io.Reader) ([]bson.Raw, error) {
	b, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, err
	}
	md, err := parseMetadata(b)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata of %s.%s: %v", ErrBadDump, ns.db, ns.coll, err)
	}
	cmd := bson.D{{Key: "create", Value: ns.coll}}
	if md.Options != nil {
		elems, _ := md.Options.Elements()
		for _, e := range elems {
			cmd = append(cmd, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	err = c.Database(ns.db).RunCommand(ctx, cmd).Err()
	var ce mongo.CommandError
	if err != nil && !(errors.As(err, &ce) && ce.Code == 48) { // NamespaceExists: documents came first
		return nil, fmt.Errorf("mongodump: create %s.%s: %w", ns.db, ns.coll, err)
	}
	return md.Indexes, nil
}

func loadDocuments(ctx context.Context, coll *mongo.Collection, r io.Reader) (int64, error) {
	var n int64
	batch := make([]any, 0, 1024)
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := coll.InsertMany(ctx, batch, options.InsertMany().SetOrdered(true))
		n += int64(len(batch))
		batch, size = batch[:0], 0
		return err
	}
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
			break
		} else if err != nil {
			return n, fmt.Errorf("%w: %v", ErrBadDump, err)
		}
		l := int(int32(binary.LittleEndian.Uint32(hdr[:])))
		if l < 5 || l > maxDoc {
			return n, fmt.Errorf("%w: document length %d", ErrBadDump, l)
		}
		doc := make([]byte, l)
		copy(doc, hdr[:])
		if _, err := io.ReadFull(r, doc[4:]); err != nil {
			return n, fmt.Errorf("%w: %v", ErrBadDump, err)
		}
		if err := bson.Raw(doc).Validate(); err != nil {
			return n, fmt.Errorf("%w: %v", ErrBadDump, err)
		}
		batch = append(batch, bson.Raw(doc))
		size += l
		if size >= batchBytes || len(batch) >= batchDocs {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// createIndexes recreates a collection's secondary indexes, without the
// options FerretDB v1.24 rejects ("v", "ns").
func createIndexes(ctx context.Context, db *mongo.Database, coll string, specs []bson.Raw) error {
	var out bson.A
	for _, spec := range specs {
		if name, _ := spec.Lookup("name").StringValueOK(); name == "_id_" {
			continue
		}
		elems, err := spec.Elements()
		if err != nil {
			return fmt.Errorf("%w: index of %s.%s: %v", ErrBadDump, db.Name(), coll, err)
		}
		var d bson.D
		for _, e := range elems {
			if e.Key() != "v" && e.Key() != "ns" {
				d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil
	}
	err := db.RunCommand(ctx, bson.D{{Key: "createIndexes", Value: coll}, {Key: "indexes", Value: out}}).Err()
	if err != nil {
		return fmt.Errorf("mongodump: indexes of %s.%s: %w", db.Name(), coll, err)
	}
	return nil
}

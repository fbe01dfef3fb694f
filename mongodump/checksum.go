package mongodump

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd"
)

// ErrNoDump is returned (wrapped) by SumArchive for an archive that holds
// neither flexd's manifest nor any .bson file: not mongodump's layout (a
// real Atlas Flex snapshot download holds mongod's data files), so its
// documents cannot be counted.
var ErrNoDump = errors.New("not a mongodump archive")

// Summer counts documents and computes flexd.CollectionSum's checksum of
// them, in any order. It keeps 32 bytes per document until Sum.
type Summer struct {
	digests [][sha256.Size]byte
}

// Add takes one document's raw BSON bytes.
func (s *Summer) Add(doc []byte) { s.digests = append(s.digests, sha256.Sum256(doc)) }

// Documents is how many documents were added.
func (s *Summer) Documents() int64 { return int64(len(s.digests)) }

// Sum is the checksum of the documents added so far.
func (s *Summer) Sum() string {
	slices.SortFunc(s.digests, func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) })
	h := sha256.New()
	for _, d := range s.digests {
		h.Write(d[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SumArchive counts and checksums every collection of a tar stream in
// mongodump's layout (Dump's, or mongodump's own, uncompressed), reading
// one document at a time. Databases Dump leaves out (admin, local,
// config) and system.* collections are left out here too. When the
// stream has flexd's manifest, each collection's count must be the
// manifest's. An archive with neither a manifest nor a .bson file is
// ErrNoDump.
func SumArchive(r io.Reader) ([]flexd.CollectionSum, error) {
	tr := tar.NewReader(r)
	var sums []flexd.CollectionSum
	var m *Manifest
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadDump, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(h.Name)
		if name == ManifestName {
			m = &Manifest{}
			if err := json.NewDecoder(io.LimitReader(tr, 64<<20)).Decode(m); err != nil {
				return nil, fmt.Errorf("%w: manifest: %v", ErrBadDump, err)
			}
			continue
		}
		dir, file := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" || strings.Contains(dir, "/") || !strings.HasSuffix(file, ".bson") {
			continue
		}
		db, coll := unescapeName(dir), unescapeName(strings.TrimSuffix(file, ".bson"))
		if skipDatabases[db] || strings.HasPrefix(coll, "system.") {
			continue
		}
		var s Summer
		if err := sumDocuments(&s, tr); err != nil {
			return nil, fmt.Errorf("mongodump: %s.%s: %w", db, coll, err)
		}
		sums = append(sums, flexd.CollectionSum{Database: db, Collection: coll, Documents: s.Documents(), Checksum: s.Sum()})
	}
	if m == nil && len(sums) == 0 {
		return nil, ErrNoDump
	}
	if m != nil {
		counted := map[nsKey]int64{}
		for _, s := range sums {
			counted[nsKey{s.Database, s.Collection}] = s.Documents
		}
		for _, db := range m.Databases {
			for _, cm := range db.Collections {
				if got, ok := counted[nsKey{db.Name, cm.Name}]; !ok || got != cm.Documents {
					return nil, fmt.Errorf("%w: %s.%s holds %d documents, the manifest says %d", ErrBadDump, db.Name, cm.Name, got, cm.Documents)
				}
			}
		}
	}
	sortSums(sums)
	return sums, nil
}

func sumDocuments(s *Summer, r io.Reader) error {
	var hdr [4]byte
	var doc []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%w: %v", ErrBadDump, err)
		}
		l := int(int32(binary.LittleEndian.Uint32(hdr[:])))
		if l < 5 || l > maxDoc {
			return fmt.Errorf("%w: document length %d", ErrBadDump, l)
		}
		doc = slices.Grow(doc[:0], l)[:l]
		copy(doc, hdr[:])
		if _, err := io.ReadFull(r, doc[4:]); err != nil {
			return fmt.Errorf("%w: %v", ErrBadDump, err)
		}
		s.Add(doc)
	}
}

// SumDeployment counts and checksums every collection the client reaches,
// as SumArchive does a dump of it: the same databases and collections
// (Dump's), each document's bytes as the server returns them.
func SumDeployment(ctx context.Context, c *mongo.Client) ([]flexd.CollectionSum, error) {
	dbs, err := c.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	var sums []flexd.CollectionSum
	for _, dbName := range dbs {
		if skipDatabases[dbName] {
			continue
		}
		db := c.Database(dbName)
		cur, err := db.ListCollections(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("list collections of %s: %w", dbName, err)
		}
		var colls []collInfo
		if err := cur.All(ctx, &colls); err != nil {
			return nil, fmt.Errorf("list collections of %s: %w", dbName, err)
		}
		for _, ci := range colls {
			if ci.Type != "" && ci.Type != "collection" || strings.HasPrefix(ci.Name, "system.") {
				continue
			}
			var s Summer
			dc, err := db.Collection(ci.Name).Find(ctx, bson.D{}, options.Find().SetBatchSize(1000))
			if err != nil {
				return nil, fmt.Errorf("read %s.%s: %w", dbName, ci.Name, err)
			}
			for dc.Next(ctx) {
				s.Add(dc.Current)
			}
			err = dc.Err()
			_ = dc.Close(ctx)
			if err != nil {
				return nil, fmt.Errorf("read %s.%s: %w", dbName, ci.Name, err)
			}
			sums = append(sums, flexd.CollectionSum{Database: dbName, Collection: ci.Name, Documents: s.Documents(), Checksum: s.Sum()})
		}
	}
	sortSums(sums)
	return sums, nil
}

func sortSums(s []flexd.CollectionSum) {
	slices.SortFunc(s, func(a, b flexd.CollectionSum) int {
		return cmp.Or(strings.Compare(a.Database, b.Database), strings.Compare(a.Collection, b.Collection))
	})
}

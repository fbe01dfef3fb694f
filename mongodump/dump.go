// Package mongodump moves a deployment's data as a tar stream in
// mongodump's directory layout:
//
//	<db>/                          one directory per database
//	<db>/<coll>.metadata.json      options and index definitions, as mongodump 100.x writes them
//	<db>/<coll>.bson               the documents, concatenated BSON, byte for byte as stored
//	flexd-manifest.json            what the dump holds (last entry)
//
// Extracted, `mongorestore --dir <folder>` restores it into any MongoDB.
// Dump and Load stream: neither ever holds more than one batch of
// documents in memory (Dump spools each collection to a temporary file
// because a tar header needs the entry's size first).
package mongodump

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ManifestName is the manifest's entry name.
const ManifestName = "flexd-manifest.json"

// Format names the dump layout version in the manifest.
const Format = "flexd-mongodump/1"

// Manifest describes a dump; it is the tar's last entry, so a truncated
// stream is caught even without a checksum.
type Manifest struct {
	Format    string       `json:"format"`
	CreatedAt time.Time    `json:"createdAt"`
	Source    string       `json:"source,omitempty"`
	Databases []DBManifest `json:"databases"`
}

// DBManifest is one database of a dump.
type DBManifest struct {
	Name        string         `json:"name"`
	Collections []CollManifest `json:"collections"`
}

// CollManifest is one collection of a dump.
type CollManifest struct {
	Name      string `json:"name"`
	Documents int64  `json:"documents"`
	Bytes     int64  `json:"bytes"`
	Indexes   int    `json:"indexes"`
}

// Totals counts the collections, documents and bytes of BSON in m.
func (m Manifest) Totals() (collections int, documents, bytes int64) {
	for _, db := range m.Databases {
		for _, c := range db.Collections {
			collections++
			documents += c.Documents
			bytes += c.Bytes
		}
	}
	return
}

// DumpOptions tune Dump.
type DumpOptions struct {
	// TempDir holds the per-collection spool file; "" means os.TempDir.
	TempDir string
	// Source is recorded in the manifest (e.g. the cluster id).
	Source string
	// Now is the manifest's creation time; zero means time.Now.
	Now time.Time
}

// skipDatabases hold server state, not user data.
var skipDatabases = map[string]bool{"admin": true, "local": true, "config": true}

// Dump writes every database, collection, document and index the client
// reaches to w as a tar stream. It reads whatever is there while it runs:
// callers wanting one instant hold writes meanwhile
// (mongowire.Front.PauseWrites).
func Dump(ctx context.Context, c *mongo.Client, w io.Writer, opts DumpOptions) (Manifest, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	m := Manifest{Format: Format, CreatedAt: now.UTC(), Source: opts.Source, Databases: []DBManifest{}}
	tw := tar.NewWriter(w)
	spool, err := os.CreateTemp(opts.TempDir, "flexd-dump-*")
	if err != nil {
		return m, fmt.Errorf("mongodump: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()

	dbs, err := c.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		return m, fmt.Errorf("mongodump: list databases: %w", err)
	}
	for _, dbName := range sorted(dbs) {
		if skipDatabases[dbName] {
			continue
		}
		dbm, err := dumpDatabase(ctx, c.Database(dbName), tw, spool, now)
		if err != nil {
			return m, err
		}
		if len(dbm.Collections) > 0 {
			m.Databases = append(m.Databases, dbm)
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := writeEntry(tw, ManifestName, now, int64(len(b)), strings.NewReader(string(b))); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("mongodump: %w", err)
	}
	return m, nil
}

type collInfo struct {
	Name    string   `bson:"name"`
	Type    string   `bson:"type"`
	Options bson.Raw `bson:"options"`
	Info    struct {
		UUID *bson.Binary `bson:"uuid"`
	} `bson:"info"`
}

func dumpDatabase(ctx context.Context, db *mongo.Database, tw *tar.Writer, spool *os.File, now time.Time) (DBManifest, error) {
	dbm := DBManifest{Name: db.Name(), Collections: []CollManifest{}}
	cur, err := db.ListCollections(ctx, bson.D{})
	if err != nil {
		return dbm, fmt.Errorf("mongodump: list collections of %s: %w", db.Name(), err)
	}
	var colls []collInfo
	if err := cur.All(ctx, &colls); err != nil {
		return dbm, fmt.Errorf("mongodump: list collections of %s: %w", db.Name(), err)
	}
	slicesSortBy(colls, func(c collInfo) string { return c.Name })
	dirDone := false
	for _, ci := range colls {
		if ci.Type != "" && ci.Type != "collection" || strings.HasPrefix(ci.Name, "system.") {
			continue
		}
		if !dirDone {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: escapeName(db.Name()) + "/", Mode: 0o700, ModTime: now}); err != nil {
				return dbm, fmt.Errorf("mongodump: %w", err)
			}
			dirDone = true
		}
		cm, err := dumpCollection(ctx, db.Collection(ci.Name), ci, tw, spool, now)
		if err != nil {
			return dbm, err
		}
		dbm.Collections = append(dbm.Collections, cm)
	}
	return dbm, nil
}

func dumpCollection(ctx context.Context, coll *mongo.Collection, ci collInfo, tw *tar.Writer, spool *os.File, now time.Time) (CollManifest, error) {
	cm := CollManifest{Name: ci.Name}
	where := coll.Database().Name() + "." + ci.Name
	base := escapeName(coll.Database().Name()) + "/" + escapeName(ci.Name)

	icur, err := coll.Indexes().List(ctx)
	if err != nil {
		return cm, fmt.Errorf("mongodump: list indexes of %s: %w", where, err)
	}
	var indexes []bson.Raw
	for icur.Next(ctx) {
		indexes = append(indexes, append(bson.Raw(nil), icur.Current...))
	}
	if err := icur.Err(); err != nil {
		return cm, fmt.Errorf("mongodump: list indexes of %s: %w", where, err)
	}
	icur.Close(ctx)
	cm.Indexes = len(indexes)
	meta, err := metadataJSON(ci, indexes)
	if err != nil {
		return cm, fmt.Errorf("mongodump: metadata of %s: %w", where, err)
	}
	if err := writeEntry(tw, base+".metadata.json", now, int64(len(meta)), strings.NewReader(string(meta))); err != nil {
		return cm, err
	}

	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return cm, err
	}
	if err := spool.Truncate(0); err != nil {
		return cm, err
	}
	bw := bufio.NewWriterSize(spool, 1<<20)
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(1000))
	if err != nil {
		return cm, fmt.Errorf("mongodump: read %s: %w", where, err)
	}
	for cur.Next(ctx) {
		n, _ := bw.Write(cur.Current)
		cm.Bytes += int64(n)
		cm.Documents++
	}
	if err := cur.Err(); err != nil {
		return cm, fmt.Errorf("mongodump: read %s: %w", where, err)
	}
	cur.Close(ctx)
	if err := bw.Flush(); err != nil {
		return cm, fmt.Errorf("mongodump: spool %s: %w", where, err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return cm, err
	}
	if err := writeEntry(tw, base+".bson", now, cm.Bytes, spool); err != nil {
		return cm, err
	}
	return cm, nil
}

// metadataJSON renders a collection's metadata in mongodump 100.x's shape:
// {"indexes":[…],"uuid":"…","collectionName":"…","type":"collection"},
// with "options" first, in canonical Extended JSON.
func metadataJSON(ci collInfo, indexes []bson.Raw) ([]byte, error) {
	opts := ci.Options
	if opts == nil {
		opts, _ = bson.Marshal(bson.D{})
	}
	idx := bson.A{}
	for _, i := range indexes {
		idx = append(idx, i)
	}
	d := bson.D{{Key: "options", Value: opts}, {Key: "indexes", Value: idx}}
	if ci.Info.UUID != nil {
		d = append(d, bson.E{Key: "uuid", Value: fmt.Sprintf("%x", ci.Info.UUID.Data)})
	}
	d = append(d, bson.E{Key: "collectionName", Value: ci.Name}, bson.E{Key: "type", Value: "collection"})
	return bson.MarshalExtJSON(d, true, false)
}

func writeEntry(tw *tar.Writer, name string, now time.Time, size int64, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: now}); err != nil {
		return fmt.Errorf("mongodump: %s: %w", name, err)
	}
	n, err := io.Copy(tw, r)
	if err != nil {
		return fmt.Errorf("mongodump: %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("mongodump: %s: wrote %d bytes, want %d", name, n, size)
	}
	return nil
}

// escapeName makes a database or collection name a file name the way
// mongodump does: '%' and '/' percent-encoded.
func escapeName(s string) string {
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s)
}

func unescapeName(s string) string {
	return strings.NewReplacer("%2F", "/", "%2f", "/", "%25", "%").Replace(s)
}

var errTruncated = errors.New("mongodump: dump ends before its manifest")

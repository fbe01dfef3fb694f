package dataplane_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd/dataplane"
	"github.com/flexd/flexd/fsblob"
	"github.com/flexd/flexd/mongowire"
)

type harness struct {
	progress func(id, file string) // called between the files a snapshot copies
	dir      string
	ports    mongowire.PortRange
	plane    *dataplane.Plane
	blobs    *fsblob.Store
}

// freeRange picks a block of ports below the ephemeral range (where other

// processes' outgoing connections do not take them); the allocator skips

// any that are taken anyway.

func freeRange(t testing.TB) mongowire.PortRange {
	first := 20000 + rand.IntN(12000)
	return mongowire.PortRange{First: first, Last: first + 40}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{dir: dir, ports: freeRange(t), blobs: blobs}
	h.open(t)
	return h
}

func (h *harness) open(t *testing.T) {
	t.Helper()
	p, err := dataplane.Open(dataplane.Config{Dir: filepath.Join(h.dir, "clusters"), Ports: h.ports, TempDir: filepath.Join(h.dir, "tmp"), SnapshotProgress: func(id, file string) {
		if h.progress != nil {
			h.progress(id, file)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.plane = p
	t.Cleanup(func() { p.Close() })
}

// serve opens a cluster and returns a driver client on its connection string.

func (h *harness) serve(t *testing.T, id string, port int) (*mongo.Client, int) {
	t.Helper()
	got, err := h.plane.Serve(context.Background(), id, port)
	if err != nil {
		t.Fatal(err)
	}
	uri, err := h.plane.ConnectionString(id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri + "?serverSelectionTimeoutMS=5000")) // the connection string as given
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c, got
}

// everyType is one document per BSON type FerretDB v1.24 stores, plus

// nesting and awkward values; the field order is deliberate.

func everyType() []any {
	oid := bson.NewObjectIDFromTimestamp(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "double", Value: 3.25}, {Key: "negzero", Value: math.Copysign(0, -1)}, {Key: "big", Value: 1e300}},
		bson.D{{Key: "_id", Value: 2}, {Key: "string", Value: "héllo, wörld ✓"}, {Key: "empty", Value: ""}},
		bson.D{{Key: "_id", Value: 3}, {Key: "doc", Value: bson.D{{Key: "z", Value: 1}, {Key: "a", Value: bson.D{{Key: "deep", Value: true}}}}}},
		bson.D{{Key: "_id", Value: 4}, {Key: "array", Value: bson.A{1, "two", 3.0, bson.D{{Key: "five", Value: 5}}}}, {Key: "emptyArray", Value: bson.A{}}},
		bson.D{{Key: "_id", Value: 5}, {Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 2, 255}}}, {Key: "uuid", Value: bson.Binary{Subtype: 4, Data: bytes.Repeat([]byte{0xab}, 16)}}},
		bson.D{{Key: "_id", Value: oid}, {Key: "oid", Value: oid}},
		bson.D{{Key: "_id", Value: 7}, {Key: "t", Value: true}, {Key: "f", Value: false}},
		bson.D{{Key: "_id", Value: 8}, {Key: "date", Value: bson.NewDateTimeFromTime(time.Date(2026, 11, 30, 5, 0, 0, 123e6, time.UTC))}, {Key: "epoch", Value: bson.DateTime(0)}},
		bson.D{{Key: "_id", Value: 9}, {Key: "null", Value: nil}},
		bson.D{{Key: "_id", Value: 10}, {Key: "regex", Value: bson.Regex{Pattern: "^a.*z$", Options: "im"}}},
		bson.D{{Key: "_id", Value: 11}, {Key: "int32", Value: int32(-7)}, {Key: "int64", Value: int64(1) << 40}, {Key: "maxInt32", Value: int32(math.MaxInt32)}},
		bson.D{{Key: "_id", Value: 12}, {Key: "ts", Value: bson.Timestamp{T: 1700000000, I: 3}}},
		bson.D{{Key: "_id", Value: "string-id"}, {Key: "mixed", Value: bson.A{nil, bson.Regex{Pattern: "x"}, int64(2), bson.D{}}}},
	}
}

// state is every document (raw bytes, keyed by _id) and index of a cluster.

type state map[string]map[string]string

func snapshotState(t *testing.T, c *mongo.Client) state {
	t.Helper()
	ctx := context.Background()
	st := state{}
	dbs, err := c.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, dbName := range dbs {
		db := c.Database(dbName)
		colls, err := db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cn := range colls {
			ns := dbName + "." + cn
			docs := map[string]string{}
			cur, err := db.Collection(cn).Find(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			for cur.Next(ctx) {
				docs[cur.Current.Lookup("_id").String()] = string(cur.Current)
			}
			if err := cur.Err(); err != nil {
				t.Fatal(err)
			}
			st[ns] = docs
			specs, err := db.Collection(cn).Indexes().ListSpecifications(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var idx []string
			for _, s := range specs {
				idx = append(idx, fmt.Sprintf("%s %s unique=%v sparse=%v", s.Name, s.KeysDocument, s.Unique != nil && *s.Unique, s.Sparse != nil && *s.Sparse))
			}
			sort.Strings(idx)
			st["indexes of "+ns] = map[string]string{"all": strings.Join(idx, "\n")}
		}
	}
	return st
}

func assertSameState(t *testing.T, what string, got, want state) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d namespaces/index sets, want %d: got %v", what, len(got), len(want), keys(got))
	}
	for ns, wd := range want {
		gd, ok := got[ns]
		if !ok {
			t.Errorf("%s: %s missing", what, ns)
			continue
		}
		if len(gd) != len(wd) {
			t.Errorf("%s: %s holds %d entries, want %d", what, ns, len(gd), len(wd))
		}
		for id, w := range wd {
			if g := gd[id]; g != w {
				t.Errorf("%s: %s %s differs:\n got  %q\n want %q", what, ns, id, g, w)
			}
		}
	}
}

func keys(s state) []string {
	var k []string
	for n := range s {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func seed(t *testing.T, c *mongo.Client) {
	t.Helper()
	ctx := context.Background()
	app := c.Database("app")
	if _, err := app.Collection("types").InsertMany(ctx, everyType()); err != nil {
		t.Fatal(err)
	}
	var many []any
	for i := range 2000 {
		many = append(many, bson.D{{Key: "_id", Value: i}, {Key: "email", Value: fmt.Sprintf("u%d@example.com", i)}, {Key: "age", Value: i % 90}, {Key: "city", Value: []string{"Oslo", "Lima", "Pune"}[i%3]}, {Key: "pad", Value: strings.Repeat("x", i%200)}})
	}
	if _, err := app.Collection("users").InsertMany(ctx, many); err != nil {
		t.Fatal(err)
	}
	_, err := app.Collection("users").Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "city", Value: 1}, {Key: "age", Value: -1}}, Options: options.Index().SetName("city_age")},
		{Keys: bson.D{{Key: "pad", Value: -1}}, Options: options.Index().SetName("pad_desc")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Database("empty").CreateCollection(ctx, "nothing"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Database("logs").Collection("a/b%c").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "odd name", Value: true}}); err != nil {
		t.Fatal(err)
	}
}

// parseDump reads every .bson file of a dump with the driver's bson package.

func parseDump(t *testing.T, r io.Reader) (map[string]map[string]string, []string) {
	t.Helper()
	out := map[string]map[string]string{}
	tr := tar.NewReader(r)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		b, _ := io.ReadAll(tr)
		switch {
		case strings.HasSuffix(h.Name, ".metadata.json"):
			var md bson.D
			if err := bson.UnmarshalExtJSON(b, true, &md); err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			if md[0].Key != "options" || md[1].Key != "indexes" {
				t.Errorf("%s: keys %v, want options, indexes, … as mongodump writes", h.Name, md)
			}
		case strings.HasSuffix(h.Name, ".bson"):
			ns := strings.ReplaceAll(strings.ReplaceAll(strings.TrimSuffix(h.Name, ".bson"), "/", "."), "%2F", "/")
			ns = strings.ReplaceAll(ns, "%25", "%")
			docs := map[string]string{}
			for len(b) > 0 {
				doc, rest, ok := bsonNext(b)
				if !ok {
					t.Fatalf("%s: malformed BSON", h.Name)
				}
				if err := doc.Validate(); err != nil {
					t.Fatalf("%s: %v", h.Name, err)
				}
				docs[doc.Lookup("_id").String()] = string(doc)
				b = rest
			}
			out[ns] = docs
		}
	}
	return out, names
}

func bsonNext(b []byte) (bson.Raw, []byte, bool) {
	if len(b) < 5 {
		return nil, nil, false
	}
	n := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	if n < 5 || n > len(b) {
		return nil, nil, false
	}
	return bson.Raw(b[:n]), b[n:], true
}

// gatedReader yields head, then blocks until release is closed, then tail.

type gatedReader struct {
	head, tail io.Reader
	reached    chan struct{}
	release    chan struct{}
	once       sync.Once
}

func (g *gatedReader) Read(p []byte) (int, error) {
	n, err := g.head.Read(p)
	if n > 0 || err != io.EOF {
		return n, err
	}
	g.once.Do(func() { close(g.reached) })
	<-g.release
	return g.tail.Read(p)
}

func isCode20(err error) bool {
	var we mongo.WriteException
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 20 || errors.As(err, &we) && len(we.WriteErrors) > 0 && we.WriteErrors[0].Code == 20
}

// TestDownloadRestoresThroughTheFront replays an extracted download into

// another cluster the way mongorestore does, over its connection string:

// create with the metadata's options, insert the .bson documents, then

// createIndexes with the specs as dumped (mongorestore keeps "v" with

// --keepIndexVersion, and old dumps carry "ns").
func parseTGZ(t *testing.T, r io.Reader) map[string]map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := parseDump(t, zr)
	return docs
}

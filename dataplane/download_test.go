package dataplane_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dataplane"
)

func TestDownloadIsAGzippedDump(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	c, _ := h.serve(t, "c", 0)
	if _, err := c.Database("app").Collection("c").InsertMany(ctx, everyType()); err != nil {
		t.Fatal(err)
	}
	size, sum, _, err := dataplane.SnapshotToBlob(ctx, h.plane, h.blobs, "c", "s.tgz")
	if err != nil {
		t.Fatal(err)
	}
	var tgz bytes.Buffer
	if err := dataplane.WriteDownload(ctx, &tgz, h.blobs, "s.tgz", size, sum); err != nil {
		t.Fatal(err)
	}
	docs := parseTGZ(t, bytes.NewReader(tgz.Bytes()))
	if len(docs["app.c"]) != len(everyType()) {
		t.Fatalf("download holds %d documents, want %d", len(docs["app.c"]), len(everyType()))
	}
	if err := dataplane.WriteDownload(ctx, io.Discard, h.blobs, "s.tgz", size, strings.Repeat("0", 64)); !errors.Is(err, flexd.ErrBlobCorrupt) {
		t.Fatalf("download with a wrong checksum: %v, want ErrBlobCorrupt", err)
	}
	// The artifact is the .tgz itself, so Range requests are the file's.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, err := h.blobs.Get(r.Context(), "s.tgz")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rc.Close()
		http.ServeContent(w, r, "s.tgz", time.Time{}, rc.(io.ReadSeeker))
	}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, tgz.Bytes()[10:20]) {
		t.Fatalf("Range 10-19 = %d %x, want 206 %x", resp.StatusCode, part, tgz.Bytes()[10:20])
	}
}

func TestDownloadRestoresThroughTheFront(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	src, _ := h.serve(t, "src", 0)
	dst, _ := h.serve(t, "dst", 0)
	seed(t, src)
	want := snapshotState(t, src)
	size, sum, _, err := dataplane.SnapshotToBlob(ctx, h.plane, h.blobs, "src", "s.tgz")
	if err != nil {
		t.Fatal(err)
	}
	var tgz bytes.Buffer
	if err := dataplane.WriteDownload(ctx, &tgz, h.blobs, "s.tgz", size, sum); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&tgz)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		dir, file := filepath.Split(hd.Name)
		if hd.Typeflag != tar.TypeReg || dir == "" {
			continue
		}
		db := dst.Database(strings.TrimSuffix(dir, "/"))
		unescape := strings.NewReplacer("%2F", "/", "%25", "%")
		switch {
		case strings.HasSuffix(file, ".metadata.json"):
			coll := unescape.Replace(strings.TrimSuffix(file, ".metadata.json"))
			var md struct {
				Options bson.D   `bson:"options"`
				Indexes []bson.D `bson:"indexes"`
			}
			if err := bson.UnmarshalExtJSON(b, true, &md); err != nil {
				t.Fatal(err)
			}
			create := append(bson.D{{Key: "create", Value: coll}}, md.Options...)
			if err := db.RunCommand(ctx, create).Err(); err != nil && !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("create %s: %v", coll, err)
			}
			var specs bson.A
			for _, spec := range md.Indexes {
				if slices.ContainsFunc(spec, func(e bson.E) bool { return e.Key == "name" && e.Value == "_id_" }) {
					continue
				}
				specs = append(specs, append(spec, bson.E{Key: "ns", Value: db.Name() + "." + coll}))
			}
			if len(specs) > 0 {
				if err := db.RunCommand(ctx, bson.D{{Key: "createIndexes", Value: coll}, {Key: "indexes", Value: specs}}).Err(); err != nil {
					t.Fatalf("createIndexes %s (as mongorestore sends it): %v", coll, err)
				}
			}
		case strings.HasSuffix(file, ".bson"):
			coll := unescape.Replace(strings.TrimSuffix(file, ".bson"))
			var docs []any
			for len(b) > 0 {
				doc, rest, ok := bsonNext(b)
				if !ok {
					t.Fatalf("%s: malformed BSON", hd.Name)
				}
				docs = append(docs, doc)
				b = rest
			}
			if len(docs) > 0 {
				if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
					t.Fatalf("insert into %s: %v", coll, err)
				}
			}
		}
	}
	assertSameState(t, "download replayed through the front", snapshotState(t, dst), want)
}

package dataplane_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dataplane"
)

func TestRestoreFencesWritesAndFailureLeavesDataWhole(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	c, _ := h.serve(t, "c", 0)
	coll := c.Database("app").Collection("c")
	coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "snap"}})
	size, sum, _, err := dataplane.SnapshotToBlob(ctx, h.plane, h.blobs, "c", "s.tgz")
	if err != nil {
		t.Fatal(err)
	}
	coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "after"}})
	old := snapshotState(t, c)

	// While a restore runs, writes are refused and reads go on.
	tgz, _ := os.ReadFile(filepath.Join(h.dir, "blobs", "s.tgz"))
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := io.ReadAll(zr) // the tar
	g := &gatedReader{head: bytes.NewReader(dump[:len(dump)/2]), tail: bytes.NewReader(dump[len(dump)/2:]), reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := h.plane.Restore(ctx, "c", g)
		done <- err
	}()
	<-g.reached
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "during"}})
	if !isCode20(err) {
		t.Errorf("insert during restore: %v, want a MongoDB error with code 20", err)
	}
	assertSameState(t, "reads during a restore", snapshotState(t, c), old)
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := coll.CountDocuments(ctx, bson.D{}); n != 1 {
		t.Fatalf("after restore count = %d, want 1", n)
	}
	coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "after"}}) // writes allowed again
	old = snapshotState(t, c)

	// A corrupt artifact, one whose checksum does not match, a truncated
	// one and a missing one each fail and leave the data as it was.
	corrupt := slices.Clone(tgz)
	corrupt[len(corrupt)/3] ^= 0xff
	h.blobs.Put(ctx, "corrupt.tgz", bytes.NewReader(corrupt))
	if _, err := dataplane.RestoreFromBlob(ctx, h.plane, h.blobs, "c", "corrupt.tgz", size, sum); err == nil {
		t.Error("restore from a corrupt artifact succeeded")
	}
	if _, err := dataplane.RestoreFromBlob(ctx, h.plane, h.blobs, "c", "s.tgz", size, strings.Repeat("0", 64)); !errors.Is(err, flexd.ErrBlobCorrupt) {
		t.Errorf("restore from an artifact that does not match its checksum: %v, want ErrBlobCorrupt", err)
	}
	if _, err := h.plane.Restore(ctx, "c", bytes.NewReader(dump[:len(dump)-1500])); err == nil {
		t.Error("restore from a truncated dump succeeded")
	}
	if _, err := dataplane.RestoreFromBlob(ctx, h.plane, h.blobs, "c", "missing.tgz", size, sum); !errors.Is(err, flexd.ErrNotFound) {
		t.Errorf("restore from a missing artifact: %v, want ErrNotFound", err)
	}
	assertSameState(t, "after failed restores", snapshotState(t, c), old)
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "still writable"}}); err != nil {
		t.Errorf("write after a failed restore: %v", err)
	}
}

func TestDeleteClosesEndpointAndRemovesData(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	c, _ := h.serve(t, "gone", 0)
	c.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	uri, _ := h.plane.ConnectionString("gone")
	if err := h.plane.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "clusters", "gone")); !os.IsNotExist(err) {
		t.Fatalf("data still on disk: %v", err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatal("endpoint of a deleted cluster still accepts connections")
	}
	if _, err := h.plane.ConnectionString("gone"); !errors.Is(err, dataplane.ErrNotServing) {
		t.Fatalf("ConnectionString of a deleted cluster: %v", err)
	}
	// Sweep removes data no cluster owns.
	h.serve(t, "keep", 0)
	h.serve(t, "orphan", 0)
	if err := h.plane.Sweep(func(id string) bool { return id == "keep" }); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(h.dir, "clusters"))
	if len(ents) != 1 || ents[0].Name() != "keep" {
		t.Fatalf("after sweep clusters dir holds %v", ents)
	}
}

func TestFenceHoldersDoNotLiftEachOther(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	// A fence set before the cluster is served applies once it is.
	if err := h.plane.Fence("c", "job-1", "restore job job-1 is RUNNING"); err != nil {
		t.Fatal(err)
	}
	c, _ := h.serve(t, "c", 0)
	coll := c.Database("app").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); !isCode20(err) {
		t.Fatalf("insert into a cluster fenced before Serve: %v, want code 20", err)
	}
	var dump bytes.Buffer
	if _, err := h.plane.Snapshot(ctx, "c", &dump); err != nil {
		t.Fatal(err)
	}
	// Restore fences and unfences under its own holder: the job's fence stays.
	if _, err := h.plane.Restore(ctx, "c", &dump); err != nil {
		t.Fatal(err)
	}
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	if !isCode20(err) || !strings.Contains(err.Error(), "job-1") {
		t.Fatalf("insert after Restore while the job still fences: %v, want code 20 naming job-1", err)
	}
	h.plane.Unfence("c", "job-1")
	h.plane.Unfence("c", "job-1") // idempotent
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 3}}); err != nil {
		t.Fatalf("insert after Unfence: %v", err)
	}
}

func TestDeletedClusterGetsNoSnapshotOrRestore(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.serve(t, "c", 0)
	var dump bytes.Buffer
	if _, err := h.plane.Snapshot(ctx, "c", &dump); err != nil {
		t.Fatal(err)
	}
	h.plane.Delete("c")
	if _, err := h.plane.Snapshot(ctx, "c", io.Discard); !errors.Is(err, dataplane.ErrNotServing) {
		t.Errorf("Snapshot of a deleted cluster: %v, want ErrNotServing", err)
	}
	if _, err := h.plane.Restore(ctx, "c", &dump); !errors.Is(err, dataplane.ErrNotServing) {
		t.Errorf("Restore into a deleted cluster: %v, want ErrNotServing", err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "clusters", "c")); !os.IsNotExist(err) {
		t.Errorf("a deleted cluster's directory came back: %v", err)
	}
}

func TestTargetDeletedDuringRestore(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	c, _ := h.serve(t, "c", 0)
	c.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	var dump bytes.Buffer
	if _, err := h.plane.Snapshot(ctx, "c", &dump); err != nil {
		t.Fatal(err)
	}
	b := dump.Bytes()
	g := &gatedReader{head: bytes.NewReader(b[:len(b)/2]), tail: bytes.NewReader(b[len(b)/2:]), reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := h.plane.Restore(ctx, "c", g)
		done <- err
	}()
	<-g.reached
	if err := h.plane.Delete("c"); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	if err := <-done; err == nil {
		t.Fatal("restore into a target deleted meanwhile succeeded")
	}
	if _, err := os.Stat(filepath.Join(h.dir, "clusters", "c")); !os.IsNotExist(err) {
		t.Fatalf("the deleted target's directory exists after the restore: %v", err)
	}
}

// TestSnapshotDuringARestoreSwap: a restore that swaps a cluster's data
// while a snapshot of it is copying the data files (here: between the
// first file and the next, so the generation being copied is removed
// under it) does not fail the snapshot: the copy starts over from the
// swapped-in data, and the snapshot holds exactly that.
func TestSnapshotDuringARestoreSwap(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	src, _ := h.serve(t, "src", 0)
	dst, _ := h.serve(t, "dst", 0)
	seed(t, src)
	want := snapshotState(t, src)
	var old bytes.Buffer
	if err := h.plane.SnapshotFiles(ctx, "src", &old); err != nil {
		t.Fatal(err)
	}
	// Writes after it: a database more and a document more.
	if _, err := src.Database("later").Collection("x").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Database("app").Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: "late"}}); err != nil {
		t.Fatal(err)
	}
	swaps := 0
	var restoreErr error
	h.progress = func(id, file string) {
		if id != "src" || swaps > 0 {
			return
		}
		swaps++
		restoreErr = h.plane.RestoreFiles(ctx, "src", bytes.NewReader(old.Bytes()))
	}
	var snap bytes.Buffer
	if err := h.plane.SnapshotFiles(ctx, "src", &snap); err != nil {
		t.Fatalf("a snapshot across a restore's swap: %v", err)
	}
	h.progress = nil
	if swaps != 1 || restoreErr != nil {
		t.Fatalf("the restore in the middle of the snapshot: ran %d times, %v", swaps, restoreErr)
	}
	assertSameState(t, "src after the restore", snapshotState(t, src), want)
	if err := h.plane.RestoreFiles(ctx, "dst", bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	assertSameState(t, "the snapshot taken across the swap", snapshotState(t, dst), want)
}

// TestApplyNamesACorruptArtifact: the restore reads the artifact once,
// checking it as it extracts; an artifact damaged where the tar reader
// trips first (its first header) still fails as a checksum failure, and
// leaves the target's data whole.
func TestApplyNamesACorruptArtifact(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	src, _ := h.serve(t, "src", 0)
	dst, _ := h.serve(t, "dst", 0)
	seed(t, src)
	if _, err := dst.Database("old").Collection("x").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	before := snapshotState(t, dst)
	d := &dataplane.DataArtifacts{Plane: h.plane, Blobs: h.blobs}
	a, err := d.Capture(ctx, &flexd.FlexCluster{ID: "src"}, "snap")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.dir, "blobs", filepath.FromSlash(a.BlobKey))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[100:], "garbage!") // the first header's mode and owner fields
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = d.Apply(ctx, "job", a, &flexd.FlexCluster{ID: "dst"})
	d.Released("job", "dst")
	if !errors.Is(err, flexd.ErrBlobCorrupt) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("restore from an artifact with a damaged header: %v, want a checksum failure", err)
	}
	assertSameState(t, "dst after a failed restore", snapshotState(t, dst), before)
}

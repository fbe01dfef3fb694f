package mongodump

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func rawDoc(t *testing.T, d bson.D) []byte {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// archive is a tar stream of the given entries, in order.
func archive(t *testing.T, entries ...[2][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: string(e[0]), Mode: 0o600, Size: int64(len(e[1]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func entry(name string, docs ...[]byte) [2][]byte {
	return [2][]byte{[]byte(name), bytes.Join(docs, nil)}
}

// TestSumArchive: the checksum is the written definition (SHA-256 of the
// sorted SHA-256s of the documents' bytes), does not depend on document
// order, tells content apart at an equal count, leaves out admin and
// system.* collections, unescapes names, and checks the manifest's counts.
func TestSumArchive(t *testing.T) {
	a := rawDoc(t, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: "a"}})
	b := rawDoc(t, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: "b"}})
	c := rawDoc(t, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: "c"}})
	da, db := sha256.Sum256(a), sha256.Sum256(b)
	digests := [][]byte{da[:], db[:]}
	slices.SortFunc(digests, bytes.Compare)
	want := sha256.Sum256(bytes.Join(digests, nil))
	empty := sha256.Sum256(nil)

	m, _ := json.Marshal(Manifest{Format: Format, Databases: []DBManifest{
		{Name: "app", Collections: []CollManifest{{Name: "people", Documents: 2}, {Name: "empty"}}},
		{Name: "a/b", Collections: []CollManifest{{Name: "x", Documents: 1}}}}})
	sums, err := SumArchive(bytes.NewReader(archive(t,
		entry("app/people.bson", b, a), entry("app/empty.bson"), entry("app/people.metadata.json", []byte("{}")),
		entry("app/system.views.bson", a), entry("admin/system.users.bson", a), entry("a%2Fb/x.bson", c),
		entry(ManifestName, m))))
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 3 || sums[0].Database != "a/b" || sums[1].Collection != "empty" || sums[2].Collection != "people" {
		t.Fatalf("sums %+v", sums)
	}
	if sums[2].Documents != 2 || sums[2].Checksum != hex.EncodeToString(want[:]) {
		t.Errorf("people %+v, want checksum %x", sums[2], want)
	}
	if sums[1].Documents != 0 || sums[1].Checksum != hex.EncodeToString(empty[:]) {
		t.Errorf("empty %+v", sums[1])
	}
	// The other order, without a manifest: the same sum.
	again, err := SumArchive(bytes.NewReader(archive(t, entry("app/people.bson", a, b))))
	if err != nil || again[0].Checksum != sums[2].Checksum {
		t.Errorf("reordered: %+v %v", again, err)
	}
	// One document's content changed, the count the same: another sum.
	other, err := SumArchive(bytes.NewReader(archive(t, entry("app/people.bson", a, c))))
	if err != nil || other[0].Documents != 2 || other[0].Checksum == sums[2].Checksum {
		t.Errorf("changed content: %+v %v", other, err)
	}

	// A manifest that disagrees with the .bson files is a bad dump.
	if _, err := SumArchive(bytes.NewReader(archive(t, entry("app/people.bson", a), entry(ManifestName, m)))); !errors.Is(err, ErrBadDump) {
		t.Errorf("short collection: %v", err)
	}
	// A truncated document is a bad dump.
	if _, err := SumArchive(bytes.NewReader(archive(t, entry("app/people.bson", a[:len(a)-3])))); !errors.Is(err, ErrBadDump) {
		t.Errorf("truncated document: %v", err)
	}
	// mongod's data files (a real Atlas download): not a dump.
	if _, err := SumArchive(bytes.NewReader(archive(t, entry("WiredTiger", []byte("WiredTiger 11")), entry("collection-0-1.wt", []byte{1, 2})))); !errors.Is(err, ErrNoDump) {
		t.Errorf("mongod files: %v", err)
	}
}

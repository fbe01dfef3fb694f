package jobs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"
	"time"

	"github.com/flexd/flexd"
)

// TestArchiveFileTimesAreReal: a snapshot finished at a manual clock's
// time, days ahead of the real one, is archived with file times no later
// than the real clock (tar warns about times in the future). Before, the
// files carried the snapshot's finish time.
func TestArchiveFileTimesAreReal(t *testing.T) {
	future := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	sn := &flexd.Snapshot{ID: "s", FinishTime: future, ScheduledTime: future}
	a := &flexd.Artifact{Format: "json", Content: []byte("{}"), Checksum: "x"}
	body, err := archive(&flexd.RestoreJob{ID: "j"}, sn, a)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := 0
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		files++
		if hdr.ModTime.After(time.Now()) {
			t.Errorf("%s: file time %v is in the future", hdr.Name, hdr.ModTime)
		}
	}
	if files != 2 {
		t.Fatalf("%d files in the archive, want 2", files)
	}
	// A snapshot finished in the past keeps its finish time, so the same
	// download has the same bytes.
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	sn.FinishTime = past
	one, _ := archive(&flexd.RestoreJob{ID: "j"}, sn, a)
	two, _ := archive(&flexd.RestoreJob{ID: "j"}, sn, a)
	if !bytes.Equal(one, two) {
		t.Error("two archives of one past snapshot differ")
	}
}

package dataplane

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"

	"github.com/flexd/flexd"
)

// The artifact is the snapshot's tar gzipped: exactly the .tgz a download
// serves, so a download is the blob file itself and HTTP Range requests
// (http.ServeContent over the *os.File fsblob returns) cost nothing.

// SnapshotToBlob streams cluster id's Snapshot, gzipped, into store under
// key and returns what the snapshot row records: the artifact's size and
// SHA-256. On failure nothing new is left under key.
func SnapshotToBlob(ctx context.Context, p flexd.DataPlane, store flexd.BlobStore, id, key string) (size int64, sha256 string, st flexd.DataStats, err error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		var err error
		st, err = p.Snapshot(ctx, id, zw)
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	size, sha256, err = store.Put(ctx, key, pr)
	pr.CloseWithError(err) // unblocks Snapshot if Put gave up
	if serr := <-done; serr != nil {
		if err == nil {
			store.Delete(context.Background(), key)
		}
		return 0, "", st, fmt.Errorf("dataplane: snapshot %s: %w", id, serr)
	}
	if err != nil {
		return 0, "", st, err
	}
	return size, sha256, st, nil
}

// RestoreFromBlob restores cluster id from the artifact under key,
// verifying it against the size and SHA-256 recorded at SnapshotToBlob as
// it reads: a missing, corrupt or truncated artifact fails the restore
// before anything is swapped in, and the data stays whole.
func RestoreFromBlob(ctx context.Context, p flexd.DataPlane, store flexd.BlobStore, id, key string, size int64, sha256 string) (flexd.DataStats, error) {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return flexd.DataStats{}, fmt.Errorf("dataplane: restore %s: artifact %s: %w", id, key, err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(flexd.VerifyBlob(rc, size, sha256))
	if err != nil {
		return flexd.DataStats{}, fmt.Errorf("dataplane: restore %s: artifact %s: %w", id, key, err)
	}
	// mongodump.Load reads zr to its end, and gzip reads its input to the
	// end (looking for a next member), where VerifyBlob checks the checksum.
	return p.Restore(ctx, id, zr)
}

// WriteDownload streams the artifact under key to w (the .tgz behind a
// snapshot's download URL), verifying it as it goes; a checksum failure
// surfaces as the error, and the caller aborts the response rather than
// finishing it, so the client never gets a whole-looking file. For Range
// requests, serve the blob with http.ServeContent instead (Get of fsblob
// returns an *os.File, an io.ReadSeeker).
func WriteDownload(ctx context.Context, w io.Writer, store flexd.BlobStore, key string, size int64, sha256 string) error {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(w, flexd.VerifyBlob(rc, size, sha256))
	return err
}

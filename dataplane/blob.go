package dataplane

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"

	"github.com/flexd/flexd"
)

// SnapshotToBlob streams cluster id's Snapshot into store under key and
// returns what the snapshot row records: the artifact's size and SHA-256.
// On failure nothing is left under key.
func SnapshotToBlob(ctx context.Context, p flexd.DataPlane, store flexd.BlobStore, id, key string) (size int64, sha256 string, st flexd.DataStats, err error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		var err error
		st, err = p.Snapshot(ctx, id, pw)
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
// verifying it against the size and SHA-256 recorded at SnapshotToBlob: a
// missing or corrupt artifact fails the restore and leaves the data whole.
func RestoreFromBlob(ctx context.Context, p flexd.DataPlane, store flexd.BlobStore, id, key string, size int64, sha256 string) (flexd.DataStats, error) {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return flexd.DataStats{}, fmt.Errorf("dataplane: restore %s: artifact %s: %w", id, key, err)
	}
	defer rc.Close()
	return p.Restore(ctx, id, flexd.VerifyBlob(rc, size, sha256))
}

// WriteDownload streams the artifact under key to w as the .tgz behind a
// snapshot's download URL (the tar gzipped), verifying it as it goes; a
// checksum failure surfaces as the error (the caller aborts the response
// rather than finishing it, so the client never gets a whole-looking file).
func WriteDownload(ctx context.Context, w io.Writer, store flexd.BlobStore, key string, size int64, sha256 string) error {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	zw := gzip.NewWriter(w)
	if _, err := io.Copy(zw, flexd.VerifyBlob(rc, size, sha256)); err != nil {
		return err
	}
	return zw.Close()
}

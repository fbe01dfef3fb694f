package dataplane

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/mongodump"
)

// Data-plane artifact formats.
const (
	// FilesFormat is what snapshots take: the cluster's SQLite files, one
	// per database, as a tar (SnapshotFiles). Restoring it is an
	// extract and a swap; a download is built from it once, on demand.
	FilesFormat = "flexd.sqlite-files.v1+tar"
	// DataFormat is the cluster's data in mongodump's layout with flexd's
	// manifest, as a gzipped tar (Plane.Snapshot): restorable,
	// though no snapshot takes it now.
	DataFormat = "flexd.mongodump.v1+tar+gzip"
)

// DataArtifacts is the lifecycle's artifacts (jobs.Artifacts) on the data
// plane, so that jobs needs no data-plane import: every IDLE cluster is
// a MongoDB endpoint of Plane, a snapshot is a copy of its data files
// streamed into Blobs (the store keeps only the key, size and SHA-256), a
// restore extracts it into a staging generation and swaps it in once it
// has been checked against both, replacing all of the target's data or
// none of it.
type DataArtifacts struct {
	Plane *Plane
	Blobs flexd.BlobStore
	Log   *slog.Logger
	// Backend tells which clusters have an external deployment attached
	// (backend.go); nil: every cluster is embedded.
	Backend BackendLookup

	// building serializes building a snapshot's download, per snapshot.
	building sync.Map // snapshot id → *sync.Mutex
}

// BlobKey is where the artifact of a cluster's snapshot lives.
func BlobKey(clusterID, snapshotID string) string {
	return "snapshots/" + clusterID + "/" + snapshotID + ".tar"
}

// ClusterBlobPrefix is the prefix of every artifact of a cluster.
func ClusterBlobPrefix(clusterID string) string { return "snapshots/" + clusterID + "/" }

// Capture streams the cluster's data files into the blob store, or, for
// a cluster with an external deployment attached, a dump of it.
func (d *DataArtifacts) Capture(ctx context.Context, c *flexd.FlexCluster, snapshotID string) (*flexd.Artifact, error) {
	if b, err := d.backend(ctx, c.ID); err != nil {
		return nil, err
	} else if b != nil {
		return d.captureExternal(ctx, c, b, snapshotID)
	}
	key := BlobKey(c.ID, snapshotID)
	size, sum, err := SnapshotFilesToBlob(ctx, d.Plane, d.Blobs, c.ID, key)
	if err != nil {
		return nil, err
	}
	return &flexd.Artifact{SnapshotID: snapshotID, Format: FilesFormat, BlobKey: key, Size: size, Checksum: sum}, nil
}

// Apply fences target for job jobID (writes refused until Released) and
// restores the artifact into it. A configuration-only artifact (a snapshot
// from before the data plane) holds no data to restore: the restore fails
// rather than pretend.
func (d *DataArtifacts) Apply(ctx context.Context, jobID string, a *flexd.Artifact, target *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	if a.BlobKey == "" || (a.Format != DataFormat && a.Format != FilesFormat) {
		return nil, fmt.Errorf("snapshot %s was taken before the data plane and holds the cluster's configuration only, no data", a.SnapshotID)
	}
	b, err := d.backend(ctx, target.ID)
	if err != nil {
		return nil, err
	}
	if b != nil {
		// No fence: the deployment's clients do not go through flexd.
		if err := d.verify(ctx, a); err != nil {
			return nil, cleanErr(err)
		}
		if err := d.applyExternal(ctx, a, b); err != nil {
			return nil, err
		}
		return func(*flexd.FlexCluster) {}, nil
	}
	if err := d.Plane.Fence(target.ID, jobID, "restore job "+jobID+" is RUNNING into this cluster"); err != nil {
		return nil, err
	}
	if a.Format == FilesFormat {
		// One pass: the extract checks size and SHA-256 as it reads, and
		// nothing is swapped in unless all of it matched. A failure that
		// is the artifact's fault (a truncated or altered tar trips the
		// tar reader before the checksum is reached) is named as such.
		err = RestoreFilesFromBlob(ctx, d.Plane, d.Blobs, target.ID, a.BlobKey, a.Size, a.Checksum)
		if err != nil && !errors.Is(err, flexd.ErrBlobCorrupt) && !errors.Is(err, flexd.ErrNotFound) && ctx.Err() == nil {
			if verr := d.verify(ctx, a); verr != nil {
				err = verr
			}
		}
	} else {
		// The dump path checks the artifact whole first (a read of the
		// compressed file, cheap beside the load): a damaged one fails as
		// such, rather than as whatever the dump's parser trips over first.
		if err := d.verify(ctx, a); err != nil {
			return nil, cleanErr(err)
		}
		_, err = RestoreFromBlob(ctx, d.Plane, d.Blobs, target.ID, a.BlobKey, a.Size, a.Checksum)
	}
	if err != nil {
		return nil, cleanErr(err)
	}
	return func(*flexd.FlexCluster) {}, nil
}

// verify reads the artifact's blob whole against its size and checksum.
func (d *DataArtifacts) verify(ctx context.Context, a *flexd.Artifact) error {
	rc, err := d.Blobs.Get(ctx, a.BlobKey)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, flexd.VerifyBlob(rc, a.Size, a.Checksum))
	return err
}

// cleanErr words a restore failure for a job's failureReason.
func cleanErr(err error) error {
	switch {
	case errors.Is(err, flexd.ErrNotFound):
		return fmt.Errorf("the snapshot's artifact is missing: %w", err)
	case errors.Is(err, flexd.ErrBlobCorrupt):
		return fmt.Errorf("the snapshot's artifact fails its checksum: %w", err)
	case errors.Is(err, ErrNotServing):
		return fmt.Errorf("the target cluster is not served (deleted?): %w", err)
	}
	return err
}

// Serve opens the cluster's endpoint on its stored port (or a new one) and
// records the port and connection string. A cluster with an external
// deployment attached has no endpoint of flexd's: its connection string
// is the deployment's, without credentials (the port stays stored, for a
// detach).
func (d *DataArtifacts) Serve(ctx context.Context, c *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	if b, err := d.backend(ctx, c.ID); err != nil {
		return nil, err
	} else if b != nil {
		return func(c *flexd.FlexCluster) { c.StandardConnectionString = b.ConnectionString }, nil
	}
	return d.ServeEmbedded(ctx, c)
}

// Released lifts the job's fence.
func (d *DataArtifacts) Released(jobID, targetID string) {
	_ = d.Plane.Unfence(targetID, jobID)
}

// Deleted closes the cluster's endpoint and removes its data and
// artifacts; what fails here the next start-up sweep removes.
func (d *DataArtifacts) Deleted(clusterID string) {
	if err := d.Plane.Delete(clusterID); err != nil {
		d.log().Warn("removing a deleted cluster's data", "cluster", clusterID, "err", err)
	}
	ctx := context.Background()
	keys, err := d.Blobs.List(ctx, ClusterBlobPrefix(clusterID))
	for _, k := range keys {
		err = errors.Join(err, d.Blobs.Delete(ctx, k))
	}
	if err != nil {
		d.log().Warn("removing a deleted cluster's snapshots", "cluster", clusterID, "err", err)
	}
}

// Dropped deletes the artifact's blob.
func (d *DataArtifacts) Dropped(a *flexd.Artifact) {
	if a == nil || a.BlobKey == "" {
		return
	}
	var err error
	for _, k := range []string{a.BlobKey, dumpKey(a.BlobKey), dumpSumKey(a.BlobKey)} {
		err = errors.Join(err, d.Blobs.Delete(context.Background(), k))
	}
	if err != nil {
		d.log().Warn("removing a pruned snapshot's artifact", "key", a.BlobKey, "err", err)
	}
}

// dumpKey is where the download built from a FilesFormat artifact is
// kept, and dumpSumKey its recorded size and SHA-256 ("size sha256"). Both
// are a cache: swept at start-up, built again on demand.
func dumpKey(key string) string    { return strings.TrimSuffix(key, path.Ext(key)) + ".dump.tgz" }
func dumpSumKey(key string) string { return dumpKey(key) + ".sum" }

// download returns the key, size and checksum of the mongodump .tgz of a
// FilesFormat artifact, building it first unless an intact one exists.
func (d *DataArtifacts) download(ctx context.Context, a *flexd.Artifact) (string, int64, string, error) {
	mu, _ := d.building.LoadOrStore(a.SnapshotID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	key := dumpKey(a.BlobKey)
	if size, sum, ok := d.recorded(ctx, a.BlobKey); ok {
		if d.verify(ctx, &flexd.Artifact{BlobKey: key, Size: size, Checksum: sum}) == nil {
			return key, size, sum, nil
		}
	}
	if err := d.verify(ctx, a); err != nil {
		return "", 0, "", err
	}
	size, sum, err := DumpFilesToBlob(ctx, d.Plane, d.Blobs, a.BlobKey, a.Size, a.Checksum, key)
	if err != nil {
		return "", 0, "", err
	}
	if _, _, err := d.Blobs.Put(ctx, dumpSumKey(a.BlobKey), strings.NewReader(fmt.Sprintf("%d %s", size, sum))); err != nil {
		return "", 0, "", err
	}
	return key, size, sum, nil
}

// recorded reads the size and checksum recorded for a built download.
func (d *DataArtifacts) recorded(ctx context.Context, key string) (int64, string, bool) {
	rc, err := d.Blobs.Get(ctx, dumpSumKey(key))
	if err != nil {
		return 0, "", false
	}
	defer rc.Close()
	var size int64
	var sum string
	if _, err := fmt.Fscanf(rc, "%d %s", &size, &sum); err != nil {
		return 0, "", false
	}
	return size, sum, true
}

// Open hands over the mongodump .tgz of the artifact, to be served from
// the start or any Range: for a FilesFormat artifact the download built
// from it (once, on the first request, into the blob store beside it);
// for a DataFormat one the artifact itself. Either is first checked whole
// against its recorded size and checksum, so a corrupt or truncated file
// is never sent; the check reads the file once more, never into memory.
func (d *DataArtifacts) Open(ctx context.Context, _ *flexd.RestoreJob, _ *flexd.Snapshot, a *flexd.Artifact) (io.ReadSeekCloser, error) {
	if a.BlobKey == "" {
		return nil, fmt.Errorf("artifact of snapshot %s is not a blob: %w", a.SnapshotID, flexd.ErrNotFound)
	}
	key := a.BlobKey
	if a.Format == FilesFormat {
		var err error
		if key, _, _, err = d.download(ctx, a); err != nil {
			return nil, err
		}
	} else if err := d.verify(ctx, a); err != nil {
		return nil, err
	}
	rc, err := d.Blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	f, ok := rc.(io.ReadSeekCloser)
	if !ok {
		rc.Close()
		return nil, fmt.Errorf("blob store cannot seek %s", key)
	}
	return f, nil
}

func (d *DataArtifacts) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

// blobOf tells whether key is an artifact key, and of which cluster.
func blobOf(key string) (clusterID string, ok bool) {
	rest, ok := strings.CutPrefix(key, "snapshots/")
	if !ok {
		return "", false
	}
	clusterID, _, ok = strings.Cut(rest, "/")
	return clusterID, ok
}

// SweepBlobs deletes every artifact blob that no stored artifact names
// (keep): left by a crash between the blob's write and its snapshot's
// record, or by a delete whose removal failed. Run it at start-up, before
// the engine starts.
func SweepBlobs(ctx context.Context, blobs flexd.BlobStore, keep map[string]bool) (int, error) {
	keys, err := blobs.List(ctx, "snapshots/")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		if _, ok := blobOf(k); ok && keep[k] {
			continue
		}
		if err := blobs.Delete(ctx, k); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Compare counts and checksums the collections of artifact a (its
// download, checked whole first) and of cluster targetID's data now, and
// pairs them (flexd.CompareCollections).
func (d *DataArtifacts) Compare(ctx context.Context, a *flexd.Artifact, targetID string) ([]flexd.CollectionCheck, error) {
	rc, err := d.Open(ctx, nil, nil, a)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(rc, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read the artifact of snapshot %s: %w", a.SnapshotID, err)
	}
	snapshot, err := mongodump.SumArchive(zr)
	if err != nil {
		return nil, fmt.Errorf("read the artifact of snapshot %s: %w", a.SnapshotID, err)
	}
	var c *mongo.Client
	b, err := d.backend(ctx, targetID)
	switch {
	case err != nil:
		return nil, err
	case b != nil:
		if c, err = connectExternal(b, selectTimeout); err != nil {
			return nil, err
		}
	default:
		if _, err := d.Plane.endpoint(targetID); err != nil {
			return nil, err
		}
		fb, err := d.Plane.ferret.Backend(targetID)
		if err != nil {
			return nil, err
		}
		if c, err = client(fb); err != nil {
			return nil, err
		}
	}
	defer disconnect(c)
	target, err := mongodump.SumDeployment(ctx, c)
	if err != nil {
		if b != nil {
			err = redact(b.URI, err)
		}
		return nil, fmt.Errorf("read cluster %s: %w", targetID, err)
	}
	return flexd.CompareCollections(snapshot, target), nil
}

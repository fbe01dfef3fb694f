package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dataplane"
)

// DataFormat names a data-plane artifact: the cluster's data in
// mongodump's layout with flexd's manifest, as a gzipped tar (exactly the
// .tgz a download serves).
const DataFormat = "flexd.mongodump.v1+tar+gzip"

// Plane is the data plane as the engine uses it (dataplane.Plane).
type Plane interface {
	flexd.DataPlane
	// ConnectionString is a served cluster's mongodb://host:port/.
	ConnectionString(clusterID string) (string, error)
}

// DataArtifacts puts real data behind the lifecycle: every IDLE cluster is
// a MongoDB endpoint of Plane, a snapshot is its data streamed into Blobs
// (the store keeps only the key, size and SHA-256), a restore loads it back
// (checked against both as it reads), replacing all of the target's data
// or none of it.
type DataArtifacts struct {
	Plane Plane
	Blobs flexd.BlobStore
	Log   *slog.Logger
}

// BlobKey is where the artifact of a cluster's snapshot lives.
func BlobKey(clusterID, snapshotID string) string {
	return "snapshots/" + clusterID + "/" + snapshotID + ".tgz"
}

// ClusterBlobPrefix is the prefix of every artifact of a cluster.
func ClusterBlobPrefix(clusterID string) string { return "snapshots/" + clusterID + "/" }

// Capture streams the cluster's data into the blob store.
func (d *DataArtifacts) Capture(ctx context.Context, c *flexd.FlexCluster, snapshotID string) (*flexd.Artifact, error) {
	key := BlobKey(c.ID, snapshotID)
	size, sum, _, err := dataplane.SnapshotToBlob(ctx, d.Plane, d.Blobs, c.ID, key)
	if err != nil {
		return nil, err
	}
	return &flexd.Artifact{SnapshotID: snapshotID, Format: DataFormat, BlobKey: key, Size: size, Checksum: sum}, nil
}

// Apply fences target for job jobID (writes refused until Released) and
// restores the artifact into it. A configuration-only artifact (a snapshot
// from before the data plane) holds no data to restore: the restore fails
// rather than pretend.
func (d *DataArtifacts) Apply(ctx context.Context, jobID string, a *flexd.Artifact, target *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	if a.BlobKey == "" || a.Format != DataFormat {
		return nil, fmt.Errorf("snapshot %s was taken before the data plane and holds the cluster's configuration only, no data", a.SnapshotID)
	}
	if err := d.Plane.Fence(target.ID, jobID, "restore job "+jobID+" is RUNNING into this cluster"); err != nil {
		return nil, err
	}
	// The artifact is checked whole first (a read of the compressed file,
	// cheap beside the load): a damaged one fails as such, rather than as
	// whatever the dump's parser trips over first. The load checks it again
	// as it reads.
	if err := d.verify(ctx, a); err != nil {
		return nil, cleanErr(err)
	}
	if _, err := dataplane.RestoreFromBlob(ctx, d.Plane, d.Blobs, target.ID, a.BlobKey, a.Size, a.Checksum); err != nil {
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
	case errors.Is(err, dataplane.ErrNotServing):
		return fmt.Errorf("the target cluster is not served (deleted?): %w", err)
	}
	return err
}

// Serve opens the cluster's endpoint on its stored port (or a new one) and
// records the port and connection string.
func (d *DataArtifacts) Serve(ctx context.Context, c *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	port, err := d.Plane.Serve(ctx, c.ID, c.Port)
	if err != nil {
		return nil, fmt.Errorf("serve cluster %s: %w", c.Name, err)
	}
	uri, err := d.Plane.ConnectionString(c.ID)
	if err != nil {
		return nil, err
	}
	return func(c *flexd.FlexCluster) { c.Port, c.StandardConnectionString = port, uri }, nil
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
	if err := d.Blobs.Delete(context.Background(), a.BlobKey); err != nil {
		d.log().Warn("removing a pruned snapshot's artifact", "key", a.BlobKey, "err", err)
	}
}

// Open verifies the blob whole against its recorded size and checksum,
// then hands it over to be served from the start (or any Range): a corrupt
// or truncated artifact is never sent. The check reads the file once more;
// it never holds it in memory.
func (d *DataArtifacts) Open(ctx context.Context, j *flexd.RestoreJob, sn *flexd.Snapshot, a *flexd.Artifact) (io.ReadSeekCloser, error) {
	if a.BlobKey == "" {
		return openConfigArchive(j, sn, a)
	}
	if err := d.verify(ctx, a); err != nil {
		return nil, err
	}
	rc, err := d.Blobs.Get(ctx, a.BlobKey)
	if err != nil {
		return nil, err
	}
	f, ok := rc.(io.ReadSeekCloser)
	if !ok {
		rc.Close()
		return nil, fmt.Errorf("blob store cannot seek %s", a.BlobKey)
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

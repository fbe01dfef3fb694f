package flexd

import (
	"context"
	"io"
)

// DataStats counts what a snapshot or restore moved.
type DataStats struct {
	Databases   int
	Collections int
	Documents   int64
	// Bytes of BSON documents (the archive is slightly larger).
	Bytes int64
}

// DataPlane is a cluster's data as the lifecycle sees it: an endpoint that
// serves from the moment the cluster is IDLE, and whose data snapshots and
// restores move as streams. dataplane.Plane implements it.
type DataPlane interface {
	// Serve opens the cluster's endpoint, on port when free (the one stored
	// with the cluster; 0 for a new one), and returns the port to store.
	Serve(ctx context.Context, clusterID string, port int) (int, error)
	// Stop closes the endpoint; the data stays.
	Stop(clusterID string)
	// Delete closes the endpoint and removes the data.
	Delete(clusterID string) error
	// Fence refuses writes (reads go on) until every holder (e.g. the
	// restore job's id) that fenced the cluster has called Unfence.
	Fence(clusterID, holder, reason string) error
	Unfence(clusterID, holder string) error
	// Snapshot writes all the cluster's data, consistent at one instant, as
	// a tar in mongodump layout.
	Snapshot(ctx context.Context, clusterID string, w io.Writer) (DataStats, error)
	// Restore replaces all the cluster's data with a Snapshot's stream, or
	// leaves it whole on failure.
	Restore(ctx context.Context, clusterID string, r io.Reader) (DataStats, error)
}

package sqlstore

import (
	"context"

	"github.com/flexd/flexd"
)

// AllFlexClusters lists every cluster of every project: the data plane
// serves each one at start-up and sweeps the data of clusters that are
// gone.
func (s *Store) AllFlexClusters(ctx context.Context) ([]flexd.FlexCluster, error) {
	return queryAll(ctx, s.run(), "SELECT "+flexClusterColumns+" FROM flex_clusters ORDER BY id", nil, scanFlexCluster)
}

// ArtifactBlobKeys lists the blob key of every artifact kept in the blob
// store, for the start-up sweep that deletes blobs no snapshot names.
func (s *Store) ArtifactBlobKeys(ctx context.Context) (map[string]bool, error) {
	keys, err := queryAll(ctx, s.run(), "SELECT blob_key FROM snapshot_artifacts WHERE blob_key <> ''", nil,
		func(r rowScanner, k *string) error { return r.Scan(k) })
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m, nil
}

// RunningRestore is a RUNNING restore job and the id of its target.
type RunningRestore struct {
	JobID, TargetID string
}

// RunningRestores lists the RUNNING restores and their targets: at
// start-up the data plane fences each target again (a crash lost the
// fence) until its job ends.
func (s *Store) RunningRestores(ctx context.Context) ([]RunningRestore, error) {
	return queryAll(ctx, s.run(),
		"SELECT j.id, c.id FROM restore_jobs j JOIN flex_clusters c "+
			"ON c.group_id = j.target_project_id AND c.name = j.target_deployment_item_name "+
			"WHERE j.delivery_type = ? AND j.status = ? ORDER BY j.id",
		[]any{flexd.DeliveryRestore, flexd.StatusRunning},
		func(r rowScanner, rr *RunningRestore) error { return r.Scan(&rr.JobID, &rr.TargetID) })
}

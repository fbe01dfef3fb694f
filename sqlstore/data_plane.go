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

package sqlstore

import (
	"context"
	"fmt"

	"github.com/flexd/flexd"
)

// An attached deployment's URI is sealed like an HA1 value: bound to its
// table, column and cluster, so a sealed value copied to another row does
// not open.
func backendWhere(clusterID string) string { return "cluster_backends.uri/" + clusterID }

func (u *unit) GetClusterBackend(ctx context.Context, clusterID string) (*flexd.ClusterBackend, error) {
	return getClusterBackend(ctx, u.r, clusterID)
}

func getClusterBackend(ctx context.Context, r runner, clusterID string) (*flexd.ClusterBackend, error) {
	b, err := getOne(ctx, r, "backend of cluster "+clusterID,
		"SELECT cluster_id, uri, hosts, connection_string, attached_at FROM cluster_backends WHERE cluster_id = ?",
		[]any{clusterID}, func(rs rowScanner, b *flexd.ClusterBackend) error {
			return rs.Scan(&b.ClusterID, &b.URI, &b.Hosts, &b.ConnectionString, unixTime{&b.AttachedAt})
		})
	if err != nil {
		return nil, err
	}
	if b.URI, err = r.s.openValue(b.URI, backendWhere(clusterID)); err != nil {
		return nil, fmt.Errorf("backend of cluster %s: %w", clusterID, err)
	}
	return b, nil
}

func (u *unit) PutClusterBackend(ctx context.Context, b *flexd.ClusterBackend) error {
	_, err := u.r.exec(ctx,
		"INSERT INTO cluster_backends (cluster_id, uri, hosts, connection_string, attached_at) VALUES (?, ?, ?, ?, ?) "+
			"ON CONFLICT (cluster_id) DO UPDATE SET uri = excluded.uri, hosts = excluded.hosts, "+
			"connection_string = excluded.connection_string, attached_at = excluded.attached_at",
		b.ClusterID, u.s.sealValue(b.URI, backendWhere(b.ClusterID)), b.Hosts, b.ConnectionString, unixSeconds(b.AttachedAt))
	if err != nil {
		return fmt.Errorf("attach a backend to cluster %s: %w", b.ClusterID, err)
	}
	b.AttachedAt = wholeSecondUTC(b.AttachedAt)
	u.r.touch(flexd.ClusterParent(b.ClusterID))
	return nil
}

func (u *unit) DeleteClusterBackend(ctx context.Context, clusterID string) error {
	if _, err := u.r.exec(ctx, "DELETE FROM cluster_backends WHERE cluster_id = ?", clusterID); err != nil {
		return fmt.Errorf("detach the backend of cluster %s: %w", clusterID, err)
	}
	u.r.touch(flexd.ClusterParent(clusterID))
	return nil
}

// ClusterBackend is GetClusterBackend outside a unit of work: what the data
// plane asks before each snapshot, restore and serve of a cluster.
func (s *Store) ClusterBackend(ctx context.Context, clusterID string) (*flexd.ClusterBackend, error) {
	return getClusterBackend(ctx, s.run(), clusterID)
}

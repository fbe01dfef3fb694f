package sqlstore

import (
	"context"
	"fmt"

	"github.com/flexd/flexd"
)

const snapshotColumns = "id, group_id, cluster_id, cluster_name, status, mongodb_version, " +
	"scheduled_time, start_time, finish_time, expiration, failure_reason, " +
	"artifact_size, artifact_checksum"

func scanSnapshot(r rowScanner, sn *flexd.Snapshot) error {
	return r.Scan(&sn.ID, &sn.GroupID, &sn.ClusterID, &sn.ClusterName, &sn.Status, &sn.MongoDBVersion,
		unixTime{&sn.ScheduledTime}, unixTime{&sn.StartTime}, unixTime{&sn.FinishTime},
		unixTime{&sn.Expiration}, &sn.FailureReason, &sn.ArtifactSize, &sn.ArtifactChecksum)
}

// CreateSnapshot stores sn: ErrConflict when its id is taken, ErrNotFound
// when its cluster does not exist. On success sn holds what a Get returns.
func (s *Store) CreateSnapshot(ctx context.Context, sn *flexd.Snapshot) error {
	r := s.run()
	_, err := r.exec(ctx,
		"INSERT INTO snapshots ("+snapshotColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		sn.ID, sn.GroupID, sn.ClusterID, sn.ClusterName, sn.Status, sn.MongoDBVersion,
		unixSeconds(sn.ScheduledTime), unixSeconds(sn.StartTime), unixSeconds(sn.FinishTime),
		unixSeconds(sn.Expiration), sn.FailureReason, sn.ArtifactSize, sn.ArtifactChecksum)
	if err != nil {
		return s.writeErr(err, fmt.Sprintf("create snapshot %s of cluster %s", sn.ID, sn.ClusterID))
	}
	r.touch(flexd.ClusterParent(sn.ClusterID))
	normalSnapshotTimes(sn)
	return nil
}

func normalSnapshotTimes(sn *flexd.Snapshot) {
	wholeSecondsUTC(&sn.ScheduledTime, &sn.StartTime, &sn.FinishTime, &sn.Expiration)
}

// GetSnapshot reads a snapshot of the cluster; another cluster's snapshot is
// not found.
func (s *Store) GetSnapshot(ctx context.Context, clusterID, id string) (*flexd.Snapshot, error) {
	return getOne(ctx, s.run(), fmt.Sprintf("snapshot %s of cluster %s", id, clusterID),
		"SELECT "+snapshotColumns+" FROM snapshots WHERE id = ? AND cluster_id = ?",
		[]any{id, clusterID}, scanSnapshot)
}

// ListSnapshots lists a cluster's snapshots newest first, from the
// (cluster_id, id) index: ids grow with creation time.
func (s *Store) ListSnapshots(ctx context.Context, clusterID string, p flexd.Page) ([]flexd.Snapshot, int, error) {
	return listPage(ctx, s, snapshotsList(s.dialect, clusterID), p, scanSnapshot)
}

func snapshotsList(d Dialect, clusterID string) listQuery {
	q := listQuery{
		what:    "list snapshots of cluster " + clusterID,
		columns: snapshotColumns,
		from:    "snapshots",
		where:   where{dialect: d},
		orderBy: "id DESC",
	}
	q.where.eq("cluster_id", clusterID)
	return q
}

// UpdateSnapshot writes sn's status, times, failure reason and artifact.
func (s *Store) UpdateSnapshot(ctx context.Context, sn *flexd.Snapshot) error {
	r := s.run()
	clusterID, err := s.writeOneIn(ctx, r, "update snapshot "+sn.ID, "cluster_id",
		"UPDATE snapshots SET status = ?, scheduled_time = ?, start_time = ?, finish_time = ?, expiration = ?, "+
			"failure_reason = ?, artifact_size = ?, artifact_checksum = ? WHERE id = ?",
		sn.Status, unixSeconds(sn.ScheduledTime), unixSeconds(sn.StartTime), unixSeconds(sn.FinishTime),
		unixSeconds(sn.Expiration), sn.FailureReason, sn.ArtifactSize, sn.ArtifactChecksum, sn.ID)
	if err != nil {
		return err
	}
	r.touch(flexd.ClusterParent(clusterID))
	normalSnapshotTimes(sn)
	return nil
}

// DeleteSnapshot deletes one snapshot. Restore jobs made from it stay: they
// are the cluster's restore history, which Atlas keeps after a snapshot
// expires.
func (s *Store) DeleteSnapshot(ctx context.Context, id string) error {
	r := s.run()
	clusterID, err := s.writeOneIn(ctx, r, "delete snapshot "+id, "cluster_id", "DELETE FROM snapshots WHERE id = ?", id)
	if err != nil {
		return err
	}
	r.touch(flexd.ClusterParent(clusterID))
	return nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

// txAttempts bounds how often InTx runs a unit of work that lost a race.
const txAttempts = 8

// InTx runs fn as one unit of work in a write transaction. On SQLite the
// DSN's _txlock=immediate makes BEGIN take the write lock, so units of work
// run one at a time and never deadlock; on PostgreSQL a deadlock or
// serialization failure runs fn again from the start.
func (s *Store) InTx(ctx context.Context, fn func(tx flexd.Tx) error) error {
	var err error
	for attempt := range txAttempts {
		var after []func()
		err = s.inTx(ctx, func(r runner) error {
			after = nil
			return fn(&unit{s: s, r: r, after: &after})
		})
		if err == nil {
			for _, f := range after {
				f()
			}
			return nil
		}
		if !s.dialect.Retryable(err) || ctx.Err() != nil {
			return err
		}
		// Let the winner of the race finish before trying again.
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// unit is a flexd.Tx on one transaction's runner.
type unit struct {
	s     *Store
	r     runner
	after *[]func()
}

var _ flexd.Tx = (*unit)(nil)

func (u *unit) OnCommit(f func()) { *u.after = append(*u.after, f) }

// GetFlexCluster reads and locks a cluster.
func (u *unit) GetFlexCluster(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error) {
	return getOne(ctx, u.r, fmt.Sprintf("cluster %q in project %s", name, groupID),
		"SELECT "+flexClusterColumns+" FROM flex_clusters WHERE group_id = ? AND name = ?"+u.s.dialect.HoldRow(),
		[]any{groupID, name}, scanFlexCluster)
}

// GetFlexClusterByID reads and locks a cluster.
func (u *unit) GetFlexClusterByID(ctx context.Context, id string) (*flexd.FlexCluster, error) {
	return getOne(ctx, u.r, "cluster "+id,
		"SELECT "+flexClusterColumns+" FROM flex_clusters WHERE id = ?"+u.s.dialect.HoldRow(), []any{id}, scanFlexCluster)
}

func (u *unit) CreateFlexCluster(ctx context.Context, c *flexd.FlexCluster) error {
	return createFlexCluster(ctx, u.r, c)
}

func (u *unit) UpdateFlexCluster(ctx context.Context, c *flexd.FlexCluster, from flexd.ClusterState) error {
	return conditional(updateFlexCluster(ctx, u.r, c, "state_name = ?", from), "cluster "+c.ID, string(from))
}

func (u *unit) DeleteFlexCluster(ctx context.Context, id string) error {
	return deleteFlexCluster(ctx, u.r, id)
}

func (u *unit) CreateSnapshot(ctx context.Context, sn *flexd.Snapshot) error {
	return createSnapshot(ctx, u.r, sn)
}

func (u *unit) GetSnapshotByID(ctx context.Context, id string) (*flexd.Snapshot, error) {
	return getOne(ctx, u.r, "snapshot "+id,
		"SELECT "+snapshotColumns+" FROM snapshots WHERE id = ?", []any{id}, scanSnapshot)
}

func (u *unit) LatestSnapshot(ctx context.Context, clusterID string) (*flexd.Snapshot, error) {
	return getOne(ctx, u.r, "latest snapshot of cluster "+clusterID,
		"SELECT "+snapshotColumns+" FROM snapshots WHERE cluster_id = ? ORDER BY id DESC LIMIT 1", []any{clusterID}, scanSnapshot)
}

func (u *unit) UpdateSnapshot(ctx context.Context, sn *flexd.Snapshot, from flexd.JobStatus) error {
	return conditional(updateSnapshot(ctx, u.r, sn, "status = ?", from), "snapshot "+sn.ID, string(from))
}

func (u *unit) PutArtifact(ctx context.Context, a *flexd.Artifact) error {
	_, err := u.r.exec(ctx,
		"INSERT INTO snapshot_artifacts (snapshot_id, format, content, checksum) VALUES (?, ?, ?, ?) "+
			"ON CONFLICT (snapshot_id) DO UPDATE SET format = excluded.format, content = excluded.content, checksum = excluded.checksum",
		a.SnapshotID, a.Format, string(a.Content), a.Checksum)
	if err != nil {
		return fmt.Errorf("store artifact of snapshot %s: %w", a.SnapshotID, err)
	}
	return nil
}

func (u *unit) GetArtifact(ctx context.Context, snapshotID string) (*flexd.Artifact, error) {
	return getArtifact(ctx, u.r, snapshotID)
}

// PrunableSnapshots reads the snapshots retention may drop.
func (u *unit) PrunableSnapshots(ctx context.Context, clusterID string, keep int, now time.Time) ([]string, error) {
	ids, err := queryAll(ctx, u.r,
		"SELECT id FROM snapshots sn WHERE cluster_id = ? AND status = ? "+
			"AND id NOT IN (SELECT id FROM snapshots WHERE cluster_id = ? AND status = ? ORDER BY id DESC LIMIT ?) "+
			"AND NOT EXISTS (SELECT 1 FROM restore_jobs j WHERE j.snapshot_id = sn.id "+
			"AND (j.status NOT IN (?, ?) OR (j.delivery_type = ? AND j.expiration_date > ?)))",
		[]any{clusterID, flexd.StatusCompleted, clusterID, flexd.StatusCompleted, keep,
			flexd.StatusCompleted, flexd.StatusFailed, flexd.DeliveryDownload, now.Unix()},
		func(r rowScanner, id *string) error { return r.Scan(id) })
	if err != nil {
		return nil, fmt.Errorf("prunable snapshots of cluster %s: %w", clusterID, err)
	}
	return ids, nil
}

func (u *unit) DeleteSnapshot(ctx context.Context, id string) error {
	if _, err := u.r.exec(ctx, "DELETE FROM snapshot_artifacts WHERE snapshot_id = ?", id); err != nil {
		return fmt.Errorf("delete artifact of snapshot %s: %w", id, err)
	}
	clusterID, err := u.s.writeOneIn(ctx, u.r, "delete snapshot "+id, "cluster_id", "DELETE FROM snapshots WHERE id = ?", id)
	if err != nil {
		return err
	}
	u.r.touch(flexd.ClusterParent(clusterID))
	return nil
}

func (u *unit) CreateRestoreJob(ctx context.Context, j *flexd.RestoreJob) error {
	return createRestoreJob(ctx, u.r, j)
}

func (u *unit) GetRestoreJobByID(ctx context.Context, id string) (*flexd.RestoreJob, error) {
	return getOne(ctx, u.r, "restore job "+id,
		"SELECT "+restoreJobColumns+" FROM restore_jobs WHERE id = ?", []any{id}, scanRestoreJob)
}

func (u *unit) UpdateRestoreJob(ctx context.Context, j *flexd.RestoreJob, from flexd.JobStatus) error {
	return conditional(updateRestoreJob(ctx, u.r, j, "status = ?", from), "restore job "+j.ID, string(from))
}

// RestoresInto reads the unfinished restores into a target, oldest first,
// from the restore_jobs_target index.
func (u *unit) RestoresInto(ctx context.Context, targetProjectID, targetName string) ([]flexd.RestoreJob, error) {
	return queryAll(ctx, u.r,
		"SELECT "+restoreJobColumns+" FROM restore_jobs WHERE target_project_id = ? AND target_deployment_item_name = ? "+
			"AND delivery_type = ? AND status IN (?, ?, ?) ORDER BY id",
		[]any{targetProjectID, targetName, flexd.DeliveryRestore, flexd.StatusPending, flexd.StatusQueued, flexd.StatusRunning},
		scanRestoreJob)
}

// RestoresFrom reads the unfinished restores listed under a cluster.
func (u *unit) RestoresFrom(ctx context.Context, clusterID string) ([]flexd.RestoreJob, error) {
	return queryAll(ctx, u.r,
		"SELECT "+restoreJobColumns+" FROM restore_jobs WHERE cluster_id = ? "+
			"AND delivery_type = ? AND status IN (?, ?, ?) ORDER BY id",
		[]any{clusterID, flexd.DeliveryRestore, flexd.StatusPending, flexd.StatusQueued, flexd.StatusRunning},
		scanRestoreJob)
}

func (u *unit) RecordApplication(ctx context.Context, jobID string, at time.Time) error {
	// DO NOTHING rather than a unique violation, which would abort a
	// PostgreSQL transaction for whatever the caller does next.
	res, err := u.r.exec(ctx, "INSERT INTO restore_applications (restore_job_id, applied_at) VALUES (?, ?) "+
		"ON CONFLICT (restore_job_id) DO NOTHING", jobID, unixSeconds(at))
	if err != nil {
		return u.s.writeErr(err, "record application of restore "+jobID)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("record application of restore %s: %w (%v)", jobID, flexd.ErrConflict, err)
	}
	return nil
}

func (u *unit) Application(ctx context.Context, jobID string) (time.Time, bool, error) {
	var at int64
	err := u.r.queryRow(ctx, "SELECT applied_at FROM restore_applications WHERE restore_job_id = ?", jobID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("application of restore %s: %w", jobID, err)
	}
	return time.Unix(at, 0).UTC(), true, nil
}

func (u *unit) SetTimer(ctx context.Context, t flexd.Timer) error { return setTimer(ctx, u.r, t) }

func (u *unit) DisarmTimer(ctx context.Context, t flexd.Timer) error {
	q, args := "DELETE FROM lifecycle_timers WHERE kind = ? AND entity_id = ?", []any{t.Kind, t.EntityID}
	if t.Seq != 0 {
		q, args = q+" AND seq = ?", append(args, t.Seq)
	}
	if _, err := u.r.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("disarm %s timer of %s: %w", t.Kind, t.EntityID, err)
	}
	return nil
}

func (u *unit) TakeFault(ctx context.Context, clusterID string, op flexd.FaultOperation) (string, bool, error) {
	return takeFault(ctx, u.r, clusterID, op)
}

// conditional turns the not-found of a conditional write into ErrConflict
// when the row exists in another state: what the write was computed from
// no longer holds.
func conditional(err error, what, from string) error {
	if errors.Is(err, flexd.ErrNotFound) {
		return fmt.Errorf("%s is no longer %s: %w", what, from, flexd.ErrConflict)
	}
	return err
}

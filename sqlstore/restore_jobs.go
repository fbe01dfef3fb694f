package sqlstore

import (
	"context"
	"fmt"

	"github.com/flexd/flexd"
)

const restoreJobColumns = "id, project_id, cluster_id, instance_name, snapshot_id, delivery_type, status, " +
	"target_project_id, target_deployment_item_name, download_token, expiration_date, " +
	"restore_scheduled_date, snapshot_finished_date, restore_finished_date, failure_reason"

func scanRestoreJob(r rowScanner, j *flexd.RestoreJob) error {
	return r.Scan(&j.ID, &j.ProjectID, &j.ClusterID, &j.InstanceName, &j.SnapshotID, &j.DeliveryType, &j.Status,
		&j.TargetProjectID, &j.TargetDeploymentItemName, emptyIfNull{&j.DownloadToken}, unixTime{&j.ExpirationDate},
		unixTime{&j.RestoreScheduledDate}, unixTime{&j.SnapshotFinishedDate}, unixTime{&j.RestoreFinishedDate},
		&j.FailureReason)
}

// CreateRestoreJob stores j: ErrConflict when its id or download token is
// taken, ErrNotFound when its source cluster does not exist. An empty
// DownloadToken is stored as NULL, which the token's unique index ignores.
// On success j holds what a Get returns.
func (s *Store) CreateRestoreJob(ctx context.Context, j *flexd.RestoreJob) error {
	r := s.run()
	_, err := r.exec(ctx,
		"INSERT INTO restore_jobs ("+restoreJobColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		j.ID, j.ProjectID, j.ClusterID, j.InstanceName, j.SnapshotID, j.DeliveryType, j.Status,
		j.TargetProjectID, j.TargetDeploymentItemName, s.downloadToken(j), unixSeconds(j.ExpirationDate),
		unixSeconds(j.RestoreScheduledDate), unixSeconds(j.SnapshotFinishedDate), unixSeconds(j.RestoreFinishedDate),
		j.FailureReason)
	if err != nil {
		return s.writeErr(err, fmt.Sprintf("create restore job %s of cluster %s", j.ID, j.ClusterID))
	}
	r.touch(flexd.ClusterParent(j.ClusterID))
	normalRestoreJobTimes(j)
	return nil
}

func normalRestoreJobTimes(j *flexd.RestoreJob) {
	wholeSecondsUTC(&j.ExpirationDate, &j.RestoreScheduledDate, &j.SnapshotFinishedDate, &j.RestoreFinishedDate)
}

// GetRestoreJob reads a job listed under the cluster; another cluster's job
// is not found.
func (s *Store) GetRestoreJob(ctx context.Context, clusterID, id string) (*flexd.RestoreJob, error) {
	return getOne(ctx, s.run(), fmt.Sprintf("restore job %s of cluster %s", id, clusterID),
		"SELECT "+restoreJobColumns+" FROM restore_jobs WHERE id = ? AND cluster_id = ?",
		[]any{id, clusterID}, s.scanRestoreJob)
}

// GetDownload finds a DOWNLOAD job by its token, from the token's unique
// index. The token is the whole credential of a download link, so an empty
// one finds nothing rather than any job without a token.
func (s *Store) GetDownload(ctx context.Context, token string) (*flexd.RestoreJob, error) {
	if token == "" {
		return nil, fmt.Errorf("download with empty token: %w", flexd.ErrNotFound)
	}
	return getOne(ctx, s.run(), "download",
		"SELECT "+restoreJobColumns+" FROM restore_jobs WHERE download_token = ? AND delivery_type = ?",
		[]any{s.downloadKey(token), flexd.DeliveryDownload}, s.scanRestoreJob)
}

// ListRestoreJobs lists the jobs whose source is the cluster, newest first,
// from the (cluster_id, id) index: ids grow with creation time, and a page
// costs the same however many jobs other clusters have.
func (s *Store) ListRestoreJobs(ctx context.Context, clusterID string, p flexd.Page) ([]flexd.RestoreJob, int, error) {
	return listPage(ctx, s, restoreJobsList(s.dialect, clusterID), p, s.scanRestoreJob)
}

func restoreJobsList(d Dialect, clusterID string) listQuery {
	q := listQuery{
		what:    "list restore jobs of cluster " + clusterID,
		columns: restoreJobColumns,
		from:    "restore_jobs",
		where:   where{dialect: d},
		orderBy: "id DESC",
	}
	q.where.eq("cluster_id", clusterID)
	return q
}

// UpdateRestoreJob writes j's status, dates and failure reason.
func (s *Store) UpdateRestoreJob(ctx context.Context, j *flexd.RestoreJob) error {
	r := s.run()
	clusterID, err := s.writeOneIn(ctx, r, "update restore job "+j.ID, "cluster_id",
		"UPDATE restore_jobs SET status = ?, expiration_date = ?, restore_scheduled_date = ?, "+
			"snapshot_finished_date = ?, restore_finished_date = ?, failure_reason = ? WHERE id = ?",
		j.Status, unixSeconds(j.ExpirationDate), unixSeconds(j.RestoreScheduledDate),
		unixSeconds(j.SnapshotFinishedDate), unixSeconds(j.RestoreFinishedDate), j.FailureReason, j.ID)
	if err != nil {
		return err
	}
	r.touch(flexd.ClusterParent(clusterID))
	normalRestoreJobTimes(j)
	return nil
}

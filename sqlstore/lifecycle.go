package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

var _ flexd.LifecycleStore = (*Store)(nil)

// SetTimer creates or moves the timer (Kind, EntityID).
func (s *Store) SetTimer(ctx context.Context, t flexd.Timer) error {
	return setTimer(ctx, s.run(), t)
}

// setTimer arms a timer. Its seq is the wall clock in nanoseconds: it only
// has to grow across arms of one timer, restarts included.
func setTimer(ctx context.Context, r runner, t flexd.Timer) error {
	_, err := r.exec(ctx,
		"INSERT INTO lifecycle_timers (kind, entity_id, due_at, seq) VALUES (?, ?, ?, ?) "+
			"ON CONFLICT (kind, entity_id) DO UPDATE SET due_at = excluded.due_at, seq = excluded.seq",
		t.Kind, t.EntityID, t.DueAt.Unix(), time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("set %s timer of %s: %w", t.Kind, t.EntityID, err)
	}
	return nil
}

// GetSnapshotByID reads a snapshot by id alone.
func (s *Store) GetSnapshotByID(ctx context.Context, id string) (*flexd.Snapshot, error) {
	return getOne(ctx, s.run(), "snapshot "+id,
		"SELECT "+snapshotColumns+" FROM snapshots WHERE id = ?", []any{id}, scanSnapshot)
}

// GetRestoreJobByID reads a restore job by id alone.
func (s *Store) GetRestoreJobByID(ctx context.Context, id string) (*flexd.RestoreJob, error) {
	return getOne(ctx, s.run(), "restore job "+id,
		"SELECT "+restoreJobColumns+" FROM restore_jobs WHERE id = ?", []any{id}, scanRestoreJob)
}

// SetClusterState changes only the state, so it never overwrites a
// concurrent PATCH's tags.
func (s *Store) SetClusterState(ctx context.Context, id string, from, to flexd.ClusterState) (bool, error) {
	r := s.run()
	res, err := r.exec(ctx, "UPDATE flex_clusters SET state_name = ? WHERE id = ? AND state_name = ?", to, id, from)
	if err != nil {
		return false, fmt.Errorf("set state of cluster %s: %w", id, err)
	}
	r.touch(flexd.ClusterParent(id))
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteTimer deletes a timer; a missing one is no error.
func (s *Store) DeleteTimer(ctx context.Context, kind flexd.TimerKind, entityID string) error {
	_, err := s.run().exec(ctx, "DELETE FROM lifecycle_timers WHERE kind = ? AND entity_id = ?", kind, entityID)
	if err != nil {
		return fmt.Errorf("delete %s timer of %s: %w", kind, entityID, err)
	}
	return nil
}

func scanTimer(r rowScanner, t *flexd.Timer) error {
	var due int64
	if err := r.Scan(&t.Kind, &t.EntityID, &due, &t.Seq); err != nil {
		return err
	}
	t.DueAt = time.Unix(due, 0).UTC()
	return nil
}

// DueTimers lists up to limit timers due at or before now, earliest first,
// from the due_at index.
func (s *Store) DueTimers(ctx context.Context, now time.Time, limit int) ([]flexd.Timer, error) {
	return queryAll(ctx, s.run(),
		"SELECT kind, entity_id, due_at, seq FROM lifecycle_timers WHERE due_at <= ? ORDER BY due_at, kind, entity_id LIMIT ?",
		[]any{now.Unix(), limit}, scanTimer)
}

// NextTimer returns the earliest timer.
func (s *Store) NextTimer(ctx context.Context) (*flexd.Timer, error) {
	return getOne(ctx, s.run(), "next timer",
		"SELECT kind, entity_id, due_at, seq FROM lifecycle_timers ORDER BY due_at, kind, entity_id LIMIT 1", nil, scanTimer)
}

// AddFault adds to the cluster's pending faults of an operation.
func (s *Store) AddFault(ctx context.Context, f flexd.Fault) error {
	_, err := s.run().exec(ctx,
		"INSERT INTO lifecycle_faults (cluster_id, operation, count, reason) VALUES (?, ?, ?, ?) "+
			"ON CONFLICT (cluster_id, operation) DO UPDATE SET count = lifecycle_faults.count + excluded.count, reason = excluded.reason",
		f.ClusterID, f.Operation, f.Count, f.Reason)
	if err != nil {
		return fmt.Errorf("add %s fault to cluster %s: %w", f.Operation, f.ClusterID, err)
	}
	return nil
}

// TakeFault consumes one pending fault in one transaction, so two workers
// never consume the same one.
func (s *Store) TakeFault(ctx context.Context, clusterID string, op flexd.FaultOperation) (string, bool, error) {
	var reason string
	var ok bool
	err := s.inTx(ctx, func(r runner) error {
		var count int64
		err := r.queryRow(ctx, "SELECT count, reason FROM lifecycle_faults WHERE cluster_id = ? AND operation = ?"+s.dialect.forUpdate(),
			clusterID, op).Scan(&count, &reason)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		if count <= 1 {
			_, err = r.exec(ctx, "DELETE FROM lifecycle_faults WHERE cluster_id = ? AND operation = ?", clusterID, op)
		} else {
			_, err = r.exec(ctx, "UPDATE lifecycle_faults SET count = count - 1 WHERE cluster_id = ? AND operation = ?", clusterID, op)
		}
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("take %s fault of cluster %s: %w", op, clusterID, err)
	}
	return reason, ok, nil
}

// CompleteSnapshot stores the artifact and the snapshot's final state at
// once and drops the snapshot's timer.
func (s *Store) CompleteSnapshot(ctx context.Context, sn *flexd.Snapshot, a *flexd.Artifact) error {
	err := s.inTx(ctx, func(r runner) error {
		if a != nil {
			if _, err := r.exec(ctx,
				"INSERT INTO snapshot_artifacts (snapshot_id, format, content, checksum) VALUES (?, ?, ?, ?) "+
					"ON CONFLICT (snapshot_id) DO UPDATE SET format = excluded.format, content = excluded.content, checksum = excluded.checksum",
				a.SnapshotID, a.Format, string(a.Content), a.Checksum); err != nil {
				return err
			}
		}
		if err := s.writeOne(ctx, r, "update snapshot "+sn.ID,
			"UPDATE snapshots SET status = ?, start_time = ?, finish_time = ?, expiration = ?, "+
				"failure_reason = ?, artifact_size = ?, artifact_checksum = ? WHERE id = ?",
			sn.Status, unixSeconds(sn.StartTime), unixSeconds(sn.FinishTime), unixSeconds(sn.Expiration),
			sn.FailureReason, sn.ArtifactSize, sn.ArtifactChecksum, sn.ID); err != nil {
			return err
		}
		r.touch(flexd.ClusterParent(sn.ClusterID))
		_, err := r.exec(ctx, "DELETE FROM lifecycle_timers WHERE kind = ? AND entity_id = ?", flexd.TimerSnapshot, sn.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("complete snapshot %s: %w", sn.ID, err)
	}
	normalSnapshotTimes(sn)
	return nil
}

// GetArtifact reads a snapshot's artifact.
func (s *Store) GetArtifact(ctx context.Context, snapshotID string) (*flexd.Artifact, error) {
	return getOne(ctx, s.run(), "artifact of snapshot "+snapshotID,
		"SELECT snapshot_id, format, content, checksum FROM snapshot_artifacts WHERE snapshot_id = ?",
		[]any{snapshotID}, func(r rowScanner, a *flexd.Artifact) error {
			var content string
			if err := r.Scan(&a.SnapshotID, &a.Format, &content, &a.Checksum); err != nil {
				return err
			}
			a.Content = []byte(content)
			return nil
		})
}

// PruneSnapshots applies retention to one cluster in one transaction.
func (s *Store) PruneSnapshots(ctx context.Context, clusterID string, keep int, now time.Time) ([]string, error) {
	var deleted []string
	err := s.inTx(ctx, func(r runner) error {
		ids, err := queryAll(ctx, r,
			"SELECT id FROM snapshots sn WHERE cluster_id = ? AND status = ? "+
				"AND id NOT IN (SELECT id FROM snapshots WHERE cluster_id = ? AND status = ? ORDER BY id DESC LIMIT ?) "+
				"AND NOT EXISTS (SELECT 1 FROM restore_jobs j WHERE j.snapshot_id = sn.id "+
				"AND (j.status NOT IN (?, ?) OR (j.delivery_type = ? AND j.expiration_date > ?)))",
			[]any{clusterID, flexd.StatusCompleted, clusterID, flexd.StatusCompleted, keep,
				flexd.StatusCompleted, flexd.StatusFailed, flexd.DeliveryDownload, now.Unix()},
			func(r rowScanner, id *string) error { return r.Scan(id) })
		if err != nil {
			return err
		}
		r.touch(flexd.ClusterParent(clusterID))
		for _, id := range ids {
			if _, err := r.exec(ctx, "DELETE FROM snapshot_artifacts WHERE snapshot_id = ?", id); err != nil {
				return err
			}
			if _, err := r.exec(ctx, "DELETE FROM snapshots WHERE id = ?", id); err != nil {
				return err
			}
		}
		deleted = ids
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prune snapshots of cluster %s: %w", clusterID, err)
	}
	return deleted, nil
}

// StartNextRestore starts the oldest queued restore into a target. The
// target cluster's row is locked first (PostgreSQL; SQLite's write
// transactions exclude each other), so two callers never start two.
func (s *Store) StartNextRestore(ctx context.Context, targetProjectID, targetName string, finishAt time.Time) (*flexd.RestoreJob, error) {
	var started *flexd.RestoreJob
	err := s.inTx(ctx, func(r runner) error {
		target, err := getOne(ctx, r, fmt.Sprintf("cluster %q in project %s", targetName, targetProjectID),
			"SELECT "+flexClusterColumns+" FROM flex_clusters WHERE group_id = ? AND name = ?"+s.dialect.forUpdate(),
			[]any{targetProjectID, targetName}, scanFlexCluster)
		if err != nil {
			return err
		}
		// Restores start in the order they were created (id order): while
		// an older one is still PENDING, its own step starts it, not this.
		jobs, err := queryAll(ctx, r,
			"SELECT "+restoreJobColumns+" FROM restore_jobs WHERE target_project_id = ? AND target_deployment_item_name = ? "+
				"AND delivery_type = ? AND status IN (?, ?, ?) ORDER BY id",
			[]any{targetProjectID, targetName, flexd.DeliveryRestore, flexd.StatusPending, flexd.StatusQueued, flexd.StatusRunning}, scanRestoreJob)
		if err != nil || len(jobs) == 0 || jobs[0].Status != flexd.StatusQueued {
			return err
		}
		for _, j := range jobs {
			if j.Status == flexd.StatusRunning {
				return nil
			}
		}
		j := jobs[0]
		j.Status = flexd.StatusRunning
		if _, err := r.exec(ctx, "UPDATE restore_jobs SET status = ? WHERE id = ?", j.Status, j.ID); err != nil {
			return err
		}
		r.touch(flexd.ClusterParent(j.ClusterID), flexd.ClusterParent(target.ID))
		if target.StateName == flexd.ClusterIdle {
			if _, err := r.exec(ctx, "UPDATE flex_clusters SET state_name = ? WHERE id = ?", flexd.ClusterUpdating, target.ID); err != nil {
				return err
			}
		}
		if err := setTimer(ctx, r, flexd.Timer{Kind: flexd.TimerRestore, EntityID: j.ID, DueAt: finishAt}); err != nil {
			return err
		}
		started = &j
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("start next restore into %s: %w", targetName, err)
	}
	return started, nil
}

// RestoreApplied tells whether the job's application is recorded.
func (s *Store) RestoreApplied(ctx context.Context, jobID string) (bool, error) {
	var n int
	err := s.run().queryRow(ctx, "SELECT COUNT(*) FROM restore_applications WHERE restore_job_id = ?", jobID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("restore %s applied: %w", jobID, err)
	}
	return n > 0, nil
}

// FinishRestore records the application and the job's end at once and
// drops the job's timer.
func (s *Store) FinishRestore(ctx context.Context, j *flexd.RestoreJob, target *flexd.FlexCluster) error {
	err := s.inTx(ctx, func(r runner) error {
		r.touch(flexd.ClusterParent(j.ClusterID))
		if target != nil {
			r.touch(flexd.ClusterParent(target.ID))
			if _, err := r.exec(ctx, "INSERT INTO restore_applications (restore_job_id, applied_at) VALUES (?, ?)",
				j.ID, unixSeconds(j.RestoreFinishedDate)); err != nil {
				return s.writeErr(err, "record application of restore "+j.ID)
			}
			if err := s.writeOne(ctx, r, "update cluster "+target.ID,
				"UPDATE flex_clusters SET state_name = ?, tags = ?, termination_protection_enabled = ?, mongodb_version = ? "+
					"WHERE id = ? AND state_name <> ?",
				target.StateName, tagsValue(target.Tags), target.TerminationProtectionEnabled, target.MongoDBVersion, target.ID,
				flexd.ClusterDeleting); err != nil {
				return err
			}
		}
		if err := s.writeOne(ctx, r, "update restore job "+j.ID,
			"UPDATE restore_jobs SET status = ?, restore_finished_date = ?, failure_reason = ? WHERE id = ?",
			j.Status, unixSeconds(j.RestoreFinishedDate), j.FailureReason, j.ID); err != nil {
			return err
		}
		_, err := r.exec(ctx, "DELETE FROM lifecycle_timers WHERE kind = ? AND entity_id = ?", flexd.TimerRestore, j.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish restore %s: %w", j.ID, err)
	}
	normalRestoreJobTimes(j)
	return nil
}

// RestoresInto lists the unfinished restores into a target, oldest first.
func (s *Store) RestoresInto(ctx context.Context, targetProjectID, targetName string) ([]flexd.RestoreJob, error) {
	return queryAll(ctx, s.run(),
		"SELECT "+restoreJobColumns+" FROM restore_jobs WHERE target_project_id = ? AND target_deployment_item_name = ? "+
			"AND delivery_type = ? AND status NOT IN (?, ?) ORDER BY id",
		[]any{targetProjectID, targetName, flexd.DeliveryRestore, flexd.StatusCompleted, flexd.StatusFailed}, scanRestoreJob)
}

// The unfinished states, as SQL lists of literals. Each must be exactly the
// WHERE of its partial index (migrations/0004_unfinished_work.sql): neither
// SQLite nor PostgreSQL uses a partial index for a query with parameters in
// its place, or with the complement (NOT IN the final states) that the
// index's WHERE does not literally imply. The lists are every status that
// is not Done.
const (
	unfinishedClusterStates = "('CREATING', 'UPDATING', 'DELETING')"
	unfinishedJobStatuses   = "('PENDING', 'QUEUED', 'RUNNING')"
)

// unfinishedWorkQueries are UnfinishedWork's queries, one per timer kind:
// the ids of the unfinished items without a timer, read from the partial
// indexes so that a start-up costs what is unfinished, not what is stored.
func unfinishedWorkQueries() []struct {
	kind  flexd.TimerKind
	query string
} {
	noTimer := func(kind flexd.TimerKind, alias string) string {
		return " AND NOT EXISTS (SELECT 1 FROM lifecycle_timers t WHERE t.kind = '" + string(kind) + "' AND t.entity_id = " + alias + ".id)"
	}
	return []struct {
		kind  flexd.TimerKind
		query string
	}{
		{flexd.TimerCluster, "SELECT id FROM flex_clusters c WHERE state_name IN " + unfinishedClusterStates + noTimer(flexd.TimerCluster, "c")},
		{flexd.TimerSnapshot, "SELECT id FROM snapshots sn WHERE status IN " + unfinishedJobStatuses + noTimer(flexd.TimerSnapshot, "sn")},
		{flexd.TimerRestore, "SELECT id FROM restore_jobs j WHERE status IN " + unfinishedJobStatuses + noTimer(flexd.TimerRestore, "j")},
	}
}

// UnfinishedWork finds what a crash left without a timer.
func (s *Store) UnfinishedWork(ctx context.Context, now time.Time) ([]flexd.Timer, error) {
	var all []flexd.Timer
	for _, q := range unfinishedWorkQueries() {
		ids, err := queryAll(ctx, s.run(), q.query, nil,
			func(r rowScanner, id *string) error { return r.Scan(id) })
		if err != nil {
			return nil, fmt.Errorf("unfinished %ss: %w", q.kind, err)
		}
		for _, id := range ids {
			all = append(all, flexd.Timer{Kind: q.kind, EntityID: id, DueAt: now})
		}
	}
	return all, nil
}

// Reset deletes projects with everything in them, in one transaction.
func (s *Store) Reset(ctx context.Context, orgIDs []string) error {
	cond, args := "", []any{}
	if orgIDs != nil {
		cond = " WHERE " + s.dialect.inJSON("org_id")
		b, _ := json.Marshal(orgIDs) // a []string always marshals
		args = append(args, string(b))
	}
	projects := "SELECT id FROM projects" + cond
	clusters := "SELECT id FROM flex_clusters WHERE group_id IN (" + projects + ")"
	snapshots := "SELECT id FROM snapshots WHERE cluster_id IN (" + clusters + ")"
	jobs := "SELECT id FROM restore_jobs WHERE cluster_id IN (" + clusters + ")"
	return s.inTx(ctx, func(r runner) error {
		r.touch(everything)
		for _, q := range []string{
			"DELETE FROM lifecycle_timers WHERE entity_id IN (" + clusters + ") OR entity_id IN (" + snapshots + ") OR entity_id IN (" + jobs + ")",
			"DELETE FROM lifecycle_faults WHERE cluster_id IN (" + clusters + ")",
			"DELETE FROM snapshot_artifacts WHERE snapshot_id IN (" + snapshots + ")",
			"DELETE FROM restore_applications WHERE restore_job_id IN (" + jobs + ")",
			"DELETE FROM restore_jobs WHERE cluster_id IN (" + clusters + ")",
			"DELETE FROM snapshots WHERE cluster_id IN (" + clusters + ")",
			"DELETE FROM flex_clusters WHERE group_id IN (" + projects + ")",
			"DELETE FROM projects" + cond,
		} {
			n := len(args)
			if orgIDs != nil {
				n = countPlaceholders(q)
			}
			qargs := make([]any, n)
			for i := range qargs {
				qargs[i] = args[0]
			}
			if _, err := r.exec(ctx, q, qargs...); err != nil {
				return fmt.Errorf("reset: %w", err)
			}
		}
		return nil
	})
}

func countPlaceholders(q string) int {
	n := 0
	for i := range len(q) {
		if q[i] == '?' {
			n++
		}
	}
	return n
}

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

// setTimer arms a timer. Its seq is the wall clock in nanoseconds, or one
// more than the arming it replaces if that is larger: it only has to grow
// across arms of one timer, restarts and replicas included, so that
// DisarmTimer never takes an arming it did not run.
func setTimer(ctx context.Context, r runner, t flexd.Timer) error {
	_, err := r.exec(ctx,
		"INSERT INTO lifecycle_timers (kind, entity_id, due_at, seq) VALUES (?, ?, ?, ?) "+
			"ON CONFLICT (kind, entity_id) DO UPDATE SET due_at = excluded.due_at, "+
			"seq = CASE WHEN excluded.seq > lifecycle_timers.seq THEN excluded.seq ELSE lifecycle_timers.seq + 1 END",
		t.Kind, t.EntityID, t.DueAt.Unix(), time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("set %s timer of %s: %w", t.Kind, t.EntityID, err)
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

// takeFault consumes one pending fault; the caller's transaction makes
// sure two workers never consume the same one.
func takeFault(ctx context.Context, r runner, clusterID string, op flexd.FaultOperation) (string, bool, error) {
	var count int64
	var reason string
	err := r.queryRow(ctx, "SELECT count, reason FROM lifecycle_faults WHERE cluster_id = ? AND operation = ?"+r.s.dialect.ForUpdate(),
		clusterID, op).Scan(&count, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err == nil {
		if count <= 1 {
			_, err = r.exec(ctx, "DELETE FROM lifecycle_faults WHERE cluster_id = ? AND operation = ?", clusterID, op)
		} else {
			_, err = r.exec(ctx, "UPDATE lifecycle_faults SET count = count - 1 WHERE cluster_id = ? AND operation = ?", clusterID, op)
		}
	}
	if err != nil {
		return "", false, fmt.Errorf("take %s fault of cluster %s: %w", op, clusterID, err)
	}
	return reason, true, nil
}

// GetArtifact reads a snapshot's artifact.
func (s *Store) GetArtifact(ctx context.Context, snapshotID string) (*flexd.Artifact, error) {
	return getArtifact(ctx, s.run(), snapshotID)
}

func getArtifact(ctx context.Context, r runner, snapshotID string) (*flexd.Artifact, error) {
	return getOne(ctx, r, "artifact of snapshot "+snapshotID,
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

// Reset deletes projects with everything in them, in one transaction.
func (s *Store) Reset(ctx context.Context, orgIDs []string) error {
	cond, args := "", []any{}
	if orgIDs != nil {
		cond = " WHERE " + s.dialect.InJSON("org_id")
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

package jobs

import (
	"context"
	"fmt"

	"github.com/flexd/flexd"
)

// restoreStep moves a restore job on, one unit of work per step:
//
//	PENDING → QUEUED, at once;
//	QUEUED → RUNNING, when the target is IDLE, no restore runs into it and
//	  no older one waits for it (the target goes UPDATING); a job that
//	  cannot start waits without a timer until whatever frees the target
//	  wakes it (wakeRestoresInto);
//	RUNNING: the artifact is applied, recorded in the same unit of work as
//	  the target's new contents; once applied and RestoreTime has passed,
//	  the job is COMPLETED and the target IDLE again.
//
// The target is read (and held) before the job's state is trusted, so two
// steps into one target, on any replica, decide one after the other.
func (e *Engine) restoreStep(ctx context.Context, tx flexd.Tx, t flexd.Timer) error {
	j, err := tx.GetRestoreJobByID(ctx, t.EntityID)
	if notFound(err) {
		return disarm(ctx, tx, t)
	}
	if err != nil {
		return err
	}
	if j.Status.Done() {
		return disarm(ctx, tx, t)
	}
	target, err := liveTarget(ctx, tx, j)
	if err != nil {
		return err
	}
	if j, err = tx.GetRestoreJobByID(ctx, t.EntityID); notFound(err) || (err == nil && j.Status.Done()) {
		return disarm(ctx, tx, t) // ended while the target was awaited
	} else if err != nil {
		return err
	}
	if target == nil {
		return e.endRestore(ctx, tx, j, nil, "target cluster "+j.TargetDeploymentItemName+" was deleted")
	}
	switch j.Status {
	case flexd.StatusPending:
		j.Status = flexd.StatusQueued
		if err := tx.UpdateRestoreJob(ctx, j, flexd.StatusPending); err != nil {
			return err
		}
		fallthrough
	case flexd.StatusQueued:
		return e.startRestore(ctx, tx, j, target, t)
	}
	return e.applyRestore(ctx, tx, j, target, t)
}

// startRestore starts j if it is next into target, and otherwise leaves it
// QUEUED, making sure the one that is next is awake.
func (e *Engine) startRestore(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob, target *flexd.FlexCluster, t flexd.Timer) error {
	js, err := tx.RestoresInto(ctx, target.GroupID, target.Name)
	if err != nil {
		return err
	}
	if target.StateName != flexd.ClusterIdle || len(js) == 0 || js[0].ID != j.ID {
		if err := e.wakeRestoresInto(ctx, tx, target); err != nil {
			return err
		}
		return disarm(ctx, tx, t)
	}
	j.Status = flexd.StatusRunning
	if err := tx.UpdateRestoreJob(ctx, j, flexd.StatusQueued); err != nil {
		return err
	}
	target.StateName = flexd.ClusterUpdating
	if err := tx.UpdateFlexCluster(ctx, target, flexd.ClusterIdle); err != nil {
		return err
	}
	// The work itself is the next step, at once.
	return e.arm(ctx, tx, flexd.TimerRestore, j.ID, e.clock.Now())
}

// applyRestore does a RUNNING restore's work, once, and ends it when the
// work is done and its least running time has passed.
func (e *Engine) applyRestore(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob, target *flexd.FlexCluster, t flexd.Timer) error {
	now := e.clock.Now()
	appliedAt, applied, err := tx.Application(ctx, j.ID)
	if err != nil {
		return err
	}
	if !applied {
		if reason, fault, err := tx.TakeFault(ctx, target.ID, flexd.FaultRestore); err != nil {
			return err
		} else if fault {
			return e.endRestore(ctx, tx, j, target, reason)
		}
		art, err := tx.GetArtifact(ctx, j.SnapshotID)
		switch {
		case notFound(err):
			return e.endRestore(ctx, tx, j, target, "snapshot "+j.SnapshotID+" has no artifact to restore")
		case err != nil:
			return err
		case art.Checksum != checksum(art.Content):
			return e.endRestore(ctx, tx, j, target, "snapshot "+j.SnapshotID+" artifact fails its checksum")
		}
		restored := *target
		if err := e.cfg.Artifacts.Apply(ctx, art, &restored); err != nil {
			return e.endRestore(ctx, tx, j, target, "restore failed: "+err.Error())
		}
		// The target's new contents and the record that they are there
		// commit together: a restore is applied once, crash or not.
		if err := tx.UpdateFlexCluster(ctx, &restored, target.StateName); err != nil {
			return err
		}
		if err := tx.RecordApplication(ctx, j.ID, now); err != nil {
			return err
		}
		*target, appliedAt = restored, now
	}
	if end := appliedAt.Add(e.cfg.RestoreTime); now.Before(end) {
		return tx.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerRestore, EntityID: j.ID, DueAt: end})
	}
	return e.endRestore(ctx, tx, j, target, "")
}

// endRestore ends j, FAILED with failure or else COMPLETED. A target the
// job held UPDATING is IDLE again and the next restore into it is woken;
// retention may now drop the snapshot. A failure is logged with the job
// once it is committed.
func (e *Engine) endRestore(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob, target *flexd.FlexCluster, failure string) error {
	from := j.Status
	j.RestoreFinishedDate = e.clock.Now()
	j.Status = flexd.StatusCompleted
	if failure != "" {
		j.Status, j.FailureReason = flexd.StatusFailed, failure
	}
	if err := tx.UpdateRestoreJob(ctx, j, from); err != nil {
		return fmt.Errorf("end restore %s: %w", j.ID, err)
	}
	if target != nil {
		if from == flexd.StatusRunning && target.StateName == flexd.ClusterUpdating {
			target.StateName = flexd.ClusterIdle
			if err := tx.UpdateFlexCluster(ctx, target, flexd.ClusterUpdating); err != nil {
				return err
			}
		}
		if err := e.wakeRestoresInto(ctx, tx, target); err != nil {
			return err
		}
	}
	if failure != "" {
		id, cluster := j.ID, j.InstanceName
		tx.OnCommit(func() {
			e.log.WarnContext(ctx, "restore job failed", "job", id, "cluster", cluster, "reason", failure)
		})
	}
	if err := e.arm(ctx, tx, flexd.TimerPrune, j.ClusterID, e.clock.Now()); err != nil {
		return err
	}
	return tx.DisarmTimer(ctx, flexd.Timer{Kind: flexd.TimerRestore, EntityID: j.ID})
}

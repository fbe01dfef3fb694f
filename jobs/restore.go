package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/flexd/flexd"
)

// runRestore moves a restore job on:
//
//	PENDING → QUEUED, at once;
//	QUEUED → RUNNING, when the target is IDLE, no restore runs into it and
//	  no older one waits for it (the target goes UPDATING); a job that
//	  cannot start waits without a timer until whatever frees the target
//	  wakes it (wakeRestoresInto);
//	RUNNING: the artifact is applied to the target outside any transaction
//	  (Artifacts.Apply; with real data a long copy), then recorded in one
//	  unit of work with the target's changed fields; once applied and
//	  RestoreTime has passed since, the job is COMPLETED and the target
//	  IDLE again.
//
// A crash before the record redoes the copy whole; after it, nothing is
// applied again.
//
// Runs of one job take turns (restoreRuns): two armings of its timer can
// be run at once (one woken while the run that started the restore still
// copies), and the second must find the copy done and recorded, not copy
// beside it. A data plane stages one restore per target at a time, so a
// second copy failed the job; and one that ended after the job did would
// have overwritten writes made after COMPLETED. Within one process that is
// enough: the data plane runs only where one process owns the data
// directory, and RecordApplication refuses a second application anywhere.
func (e *Engine) runRestore(ctx context.Context, t flexd.Timer) error {
	unlock, err := e.restoreRuns.lock(ctx, t.EntityID)
	if err != nil {
		return err
	}
	defer unlock()
	var work *applyWork
	err = e.store.InTx(ctx, func(tx flexd.Tx) error {
		var err error
		work, err = e.restoreStep(ctx, tx, t)
		return err
	})
	if err != nil || work == nil {
		return err
	}
	change, applyErr := e.cfg.Artifacts.Apply(ctx, t.EntityID, work.artifact, work.target)
	return e.store.InTx(ctx, func(tx flexd.Tx) error {
		return e.recordRestore(ctx, tx, t, change, applyErr)
	})
}

// applyWork is a RUNNING restore's copy, to be done outside the unit of
// work that found it due.
type applyWork struct {
	artifact *flexd.Artifact
	target   *flexd.FlexCluster
}

// heldJob reads a restore job and its target, holding the target, and
// reads the job again once the target is held: every change to a restore
// holds its target, so what the step then decides stays true. It returns a
// nil job when there is nothing left to do, and a nil target when the
// target is gone or being deleted.
func heldJob(ctx context.Context, tx flexd.Tx, id string) (*flexd.RestoreJob, *flexd.FlexCluster, error) {
	j, err := tx.GetRestoreJobByID(ctx, id)
	if notFound(err) || (err == nil && j.Status.Done()) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	target, err := liveTarget(ctx, tx, j)
	if err != nil {
		return nil, nil, err
	}
	if j, err = tx.GetRestoreJobByID(ctx, id); notFound(err) || (err == nil && j.Status.Done()) {
		return nil, nil, nil // ended while the target was awaited
	}
	return j, target, err
}

// restoreStep takes a job one step on in tx, and returns the copy a
// RUNNING job needs done: the job that starts a restore goes straight on
// to its work, rather than leaving it to the next job.
func (e *Engine) restoreStep(ctx context.Context, tx flexd.Tx, t flexd.Timer) (*applyWork, error) {
	j, target, err := heldJob(ctx, tx, t.EntityID)
	if err != nil || j == nil {
		if err == nil {
			err = disarm(ctx, tx, t)
		}
		return nil, err
	}
	if target == nil {
		return nil, e.endRestore(ctx, tx, j, nil, "target cluster "+j.TargetDeploymentItemName+" was deleted")
	}
	switch j.Status {
	case flexd.StatusPending:
		j.Status = flexd.StatusQueued
		if err := tx.UpdateRestoreJob(ctx, j, flexd.StatusPending); err != nil {
			return nil, err
		}
		fallthrough
	case flexd.StatusQueued:
		if started, err := e.startRestore(ctx, tx, j, target, t); err != nil || !started {
			return nil, err
		}
	}
	return e.restoreWork(ctx, tx, j, target)
}

// restoreWork is a RUNNING job's step: the copy to do, unless it is done.
func (e *Engine) restoreWork(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob, target *flexd.FlexCluster) (*applyWork, error) {
	if _, applied, err := tx.Application(ctx, j.ID); err != nil || applied {
		if err != nil {
			return nil, err
		}
		return nil, e.endOrWait(ctx, tx, j, target)
	}
	art, err := tx.GetArtifact(ctx, j.SnapshotID)
	switch {
	case notFound(err):
		return nil, e.endRestore(ctx, tx, j, target, "snapshot "+j.SnapshotID+" has no artifact to restore")
	case err != nil:
		return nil, err
	case art.BlobKey == "" && art.Checksum != checksum(art.Content):
		return nil, e.endRestore(ctx, tx, j, target, "snapshot "+j.SnapshotID+" artifact fails its checksum")
	}
	// An injected fault fails the restore before anything is copied: the
	// target keeps its data, whole.
	if reason, fault, err := tx.TakeFault(ctx, target.ID, flexd.FaultRestore); err != nil {
		return nil, err
	} else if fault {
		return nil, e.endRestore(ctx, tx, j, target, reason)
	}
	return &applyWork{artifact: art, target: target}, nil
}

// restoreLease is how long after its start a restore's work is left to the
// job that started it before its timer hands it to any worker: the job
// goes straight on to the work, and the timer is there for a crash. It is
// the restore job kind's timeout (Config.DataTimeout), so a copy still
// running is never started a second time beside it. (A job a crash left
// running is resumed sooner: at start on SQLite, by River's rescuer on
// PostgreSQL.)
func (e *Engine) restoreLease() time.Duration {
	return withDataTimeout(flexd.TimerRestore, e.cfg.DataTimeout).timeout
}

// startRestore starts j if it is next into target, and otherwise leaves it
// QUEUED, making sure the one that is next is awake.
func (e *Engine) startRestore(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob, target *flexd.FlexCluster, t flexd.Timer) (bool, error) {
	js, err := tx.RestoresInto(ctx, target.GroupID, target.Name)
	if err != nil {
		return false, err
	}
	if target.StateName != flexd.ClusterIdle || len(js) == 0 || js[0].ID != j.ID {
		if err := e.wakeRestoresInto(ctx, tx, target); err != nil {
			return false, err
		}
		return false, disarm(ctx, tx, t)
	}
	j.Status = flexd.StatusRunning
	if err := tx.UpdateRestoreJob(ctx, j, flexd.StatusQueued); err != nil {
		return false, err
	}
	target.StateName = flexd.ClusterUpdating
	if err := tx.UpdateFlexCluster(ctx, target, flexd.ClusterIdle); err != nil {
		return false, err
	}
	return true, tx.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerRestore, EntityID: j.ID, DueAt: e.clock.Now().Add(e.restoreLease())})
}

// recordRestore records a copy done outside the unit of work: the target's
// changed fields and the record that it is applied commit together, unless
// the job ended meanwhile, or an injected fault or the copy's failure ends
// it FAILED.
func (e *Engine) recordRestore(ctx context.Context, tx flexd.Tx, t flexd.Timer, change func(*flexd.FlexCluster), applyErr error) error {
	j, target, err := heldJob(ctx, tx, t.EntityID)
	if err != nil || j == nil || j.Status != flexd.StatusRunning {
		if err == nil {
			err = disarm(ctx, tx, t)
		}
		return err
	}
	if target == nil {
		return e.endRestore(ctx, tx, j, nil, "target cluster "+j.TargetDeploymentItemName+" was deleted")
	}
	if _, applied, err := tx.Application(ctx, j.ID); err != nil || applied {
		if err != nil {
			return err
		}
		return e.endOrWait(ctx, tx, j, target) // another run recorded it
	}
	if applyErr != nil {
		return e.endRestore(ctx, tx, j, target, "restore failed: "+applyErr.Error())
	}
	from := target.StateName
	change(target)
	if err := tx.UpdateFlexCluster(ctx, target, from); err != nil {
		return err
	}
	if err := tx.RecordApplication(ctx, j.ID, e.clock.Now()); err != nil {
		return err
	}
	return e.endOrWait(ctx, tx, j, target)
}

// endOrWait ends an applied restore once RestoreTime has passed since it
// was applied, and until then sets its timer for that moment.
func (e *Engine) endOrWait(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob, target *flexd.FlexCluster) error {
	appliedAt, _, err := tx.Application(ctx, j.ID)
	if err != nil {
		return err
	}
	if end := appliedAt.Add(e.cfg.RestoreTime); e.clock.Now().Before(end) {
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
		if from == flexd.StatusRunning {
			id, targetID := j.ID, target.ID
			tx.OnCommit(func() { e.cfg.Artifacts.Released(id, targetID) })
		}
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
	if err := e.armPrune(ctx, tx, j.ClusterID); err != nil {
		return err
	}
	return tx.DisarmTimer(ctx, flexd.Timer{Kind: flexd.TimerRestore, EntityID: j.ID})
}

// keyedLock is a mutex per key, waited for under a context.
type keyedLock struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when the key is unlocked
}

func (k *keyedLock) lock(ctx context.Context, key string) (unlock func(), err error) {
	for {
		k.mu.Lock()
		ch, busy := k.held[key]
		if !busy {
			if k.held == nil {
				k.held = map[string]chan struct{}{}
			}
			ch = make(chan struct{})
			k.held[key] = ch
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

// work moves the timer's entity one step on from whatever state it is in
// now. Each step ends by disarming or re-arming the timer, so a step that
// ran before a crash and runs again finds nothing (or the next step) to do.
func (e *Engine) work(ctx context.Context, t flexd.Timer) error {
	switch t.Kind {
	case flexd.TimerCluster:
		return e.clusterStep(ctx, t.EntityID)
	case flexd.TimerSchedule:
		return e.scheduledSnapshot(ctx, t.EntityID)
	case flexd.TimerSnapshot:
		return e.runSnapshot(ctx, t.EntityID)
	case flexd.TimerRestore:
		return e.restoreStep(ctx, t.EntityID)
	}
	return e.store.DeleteTimer(ctx, t.Kind, t.EntityID) // from a newer flexd: nothing to do here
}

func notFound(err error) bool { return errors.Is(err, flexd.ErrNotFound) }

// clusterStep ends CREATING, UPDATING or DELETING.
func (e *Engine) clusterStep(ctx context.Context, id string) error {
	c, err := e.store.GetFlexClusterByID(ctx, id)
	if notFound(err) {
		return e.store.DeleteTimer(ctx, flexd.TimerCluster, id)
	}
	if err != nil {
		return err
	}
	now := e.clock.Now()
	switch c.StateName {
	case flexd.ClusterCreating:
		if ready := c.CreateDate.Add(e.cfg.ProvisionTime); now.Before(ready) {
			return e.store.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerCluster, EntityID: id, DueAt: ready})
		}
		// Provision arms the first scheduled snapshot; arm it again in case
		// a crash came between storing the cluster and that.
		if first := c.CreateDate.Add(e.cfg.SnapshotInterval); e.cfg.SnapshotInterval > 0 && now.Before(first) {
			if err := e.store.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerSchedule, EntityID: id, DueAt: first}); err != nil {
				return err
			}
		}
		if _, err := e.store.SetClusterState(ctx, id, flexd.ClusterCreating, flexd.ClusterIdle); err != nil {
			return err
		}
	case flexd.ClusterUpdating:
		// A restore running into the cluster keeps it UPDATING; its end
		// makes it IDLE.
		running, err := e.restoreRunningInto(ctx, c)
		if err != nil {
			return err
		}
		if !running {
			if _, err := e.store.SetClusterState(ctx, id, flexd.ClusterUpdating, flexd.ClusterIdle); err != nil {
				return err
			}
		}
	case flexd.ClusterDeleting:
		return e.deleteCluster(ctx, c)
	}
	return e.store.DeleteTimer(ctx, flexd.TimerCluster, id)
}

func (e *Engine) restoreRunningInto(ctx context.Context, c *flexd.FlexCluster) (bool, error) {
	js, err := e.store.RestoresInto(ctx, c.GroupID, c.Name)
	if err != nil {
		return false, err
	}
	for _, j := range js {
		if j.Status == flexd.StatusRunning {
			return true, nil
		}
	}
	return false, nil
}

// deleteCluster removes the cluster with its snapshots and jobs, then
// wakes the restores into it, which fail for want of a target.
func (e *Engine) deleteCluster(ctx context.Context, c *flexd.FlexCluster) error {
	if err := e.endRestoresFrom(ctx, c); err != nil {
		return err
	}
	if err := e.store.DeleteFlexCluster(ctx, c.ID); err != nil && !notFound(err) {
		return err
	}
	if err := e.store.DeleteTimer(ctx, flexd.TimerSchedule, c.ID); err != nil {
		return err
	}
	js, err := e.store.RestoresInto(ctx, c.GroupID, c.Name)
	if err != nil {
		return err
	}
	for _, j := range js {
		if err := e.arm(ctx, flexd.TimerRestore, j.ID, e.clock.Now()); err != nil {
			return err
		}
	}
	return e.store.DeleteTimer(ctx, flexd.TimerCluster, c.ID)
}

// endRestoresFrom fails the unfinished restores from c into other
// clusters. They are deleted with c, their source, so without this a
// running one would leave its target UPDATING and the restores queued
// behind it waiting forever. It runs before the delete: a crash in between
// repeats it on what is left.
func (e *Engine) endRestoresFrom(ctx context.Context, c *flexd.FlexCluster) error {
	var waiting, running []flexd.RestoreJob
	for p := (flexd.Page{Num: 1, ItemsPerPage: 500}); ; p.Num++ {
		js, _, err := e.store.ListRestoreJobs(ctx, c.ID, p)
		if err != nil {
			return err
		}
		for _, j := range js {
			switch {
			case j.DeliveryType != flexd.DeliveryRestore || j.Status.Done():
			case j.TargetProjectID == c.GroupID && j.TargetDeploymentItemName == c.Name:
				// into c itself: they fail for want of a target
			case j.Status == flexd.StatusRunning:
				running = append(running, j)
			default:
				waiting = append(waiting, j)
			}
		}
		if len(js) < p.ItemsPerPage {
			break
		}
	}
	reason := "source cluster " + c.Name + " was deleted"
	// The waiting ones first, so that ending a running one starts none of
	// them; each may have held the queue of its target back.
	for i := range waiting {
		j := &waiting[i]
		j.Status, j.FailureReason, j.RestoreFinishedDate = flexd.StatusFailed, reason, e.clock.Now()
		if err := e.store.FinishRestore(ctx, j, nil); err != nil {
			return fmt.Errorf("finish restore %s: %w", j.ID, err)
		}
		if _, err := e.store.StartNextRestore(ctx, j.TargetProjectID, j.TargetDeploymentItemName, e.clock.Now().Add(e.cfg.RestoreTime)); err != nil && !notFound(err) {
			return err
		}
	}
	for i := range running {
		j := &running[i]
		target, err := e.store.GetFlexCluster(ctx, j.TargetProjectID, j.TargetDeploymentItemName)
		if notFound(err) {
			target, err = nil, nil
		}
		if err != nil {
			return err
		}
		if err := e.endRestore(ctx, j, target, reason); err != nil {
			return err
		}
	}
	if len(waiting) > 0 {
		e.poke()
	}
	return nil
}

// scheduledSnapshot queues the snapshot of the latest schedule slot that has
// come, and arms the next slot. After downtime that is one catch-up
// snapshot, not one per missed slot, and the schedule keeps the time of day.
func (e *Engine) scheduledSnapshot(ctx context.Context, clusterID string) error {
	c, err := e.store.GetFlexClusterByID(ctx, clusterID)
	if notFound(err) || (err == nil && (c.StateName == flexd.ClusterDeleting || e.cfg.SnapshotInterval <= 0)) {
		return e.store.DeleteTimer(ctx, flexd.TimerSchedule, clusterID)
	}
	if err != nil {
		return err
	}
	now, every := e.clock.Now(), e.cfg.SnapshotInterval
	first := c.CreateDate.Add(every)
	if now.Before(first) {
		return e.store.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerSchedule, EntityID: clusterID, DueAt: first})
	}
	slot := first.Add(now.Sub(first) / every * every)
	// A crash after the snapshot was stored but before the next slot was
	// armed must not take the slot's snapshot twice.
	latest, _, err := e.store.ListSnapshots(ctx, clusterID, flexd.Page{Num: 1, ItemsPerPage: 1})
	if err != nil {
		return err
	}
	if len(latest) == 0 || !latest[0].ScheduledTime.Equal(slot) {
		sn := &flexd.Snapshot{
			ID: flexd.NewID(now), GroupID: c.GroupID, ClusterID: c.ID, ClusterName: c.Name,
			Status: flexd.StatusQueued, MongoDBVersion: c.MongoDBVersion, ScheduledTime: slot,
		}
		if err := e.store.CreateSnapshot(ctx, sn); err != nil {
			return err
		}
		if err := e.arm(ctx, flexd.TimerSnapshot, sn.ID, now); err != nil {
			return err
		}
	}
	return e.store.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerSchedule, EntityID: clusterID, DueAt: slot.Add(every)})
}

// retentionPeriod is how long a completed snapshot is expected to live:
// until retention pushes it out, as Atlas states in expiration.
func (e *Engine) retentionPeriod() time.Duration {
	every := e.cfg.SnapshotInterval
	if every <= 0 {
		every = 24 * time.Hour
	}
	return every * time.Duration(e.cfg.SnapshotRetention)
}

// runSnapshot takes a QUEUED (or, after a crash, RUNNING) snapshot: capture
// is a read, so taking it again is harmless.
func (e *Engine) runSnapshot(ctx context.Context, id string) error {
	sn, err := e.store.GetSnapshotByID(ctx, id)
	if notFound(err) {
		return e.store.DeleteTimer(ctx, flexd.TimerSnapshot, id)
	}
	if err != nil {
		return err
	}
	if sn.Status.Done() {
		return e.store.DeleteTimer(ctx, flexd.TimerSnapshot, id)
	}
	now := e.clock.Now()
	if sn.Status != flexd.StatusRunning {
		sn.Status, sn.StartTime = flexd.StatusRunning, now
		if err := e.store.UpdateSnapshot(ctx, sn); err != nil {
			return err
		}
	}
	c, err := e.store.GetFlexClusterByID(ctx, sn.ClusterID)
	if notFound(err) {
		return e.store.DeleteTimer(ctx, flexd.TimerSnapshot, id) // deleted with its cluster
	}
	if err != nil {
		return err
	}
	sn.FinishTime = e.clock.Now()
	reason, fault, err := e.store.TakeFault(ctx, c.ID, flexd.FaultSnapshot)
	if err != nil {
		return err
	}
	var art *flexd.Artifact
	if fault {
		sn.Status, sn.FailureReason = flexd.StatusFailed, reason
	} else {
		format, content, err := e.cfg.Artifacts.Capture(ctx, c)
		if err != nil {
			sn.Status, sn.FailureReason = flexd.StatusFailed, "capture failed: "+err.Error()
		} else {
			art = &flexd.Artifact{SnapshotID: sn.ID, Format: format, Content: content, Checksum: checksum(content)}
			sn.Status, sn.MongoDBVersion = flexd.StatusCompleted, c.MongoDBVersion
			sn.Expiration = sn.FinishTime.Add(e.retentionPeriod())
			sn.ArtifactSize, sn.ArtifactChecksum = int64(len(content)), art.Checksum
		}
	}
	if err := e.store.CompleteSnapshot(ctx, sn, art); err != nil {
		return err
	}
	return e.prune(ctx, c.ID)
}

func (e *Engine) prune(ctx context.Context, clusterID string) error {
	_, err := e.store.PruneSnapshots(ctx, clusterID, e.cfg.SnapshotRetention, e.clock.Now())
	return err
}

// restoreStep moves a restore job on: PENDING → QUEUED, then RUNNING when
// its target is free (oldest first), then COMPLETED or FAILED once its
// restore time is over.
func (e *Engine) restoreStep(ctx context.Context, id string) error {
	j, err := e.store.GetRestoreJobByID(ctx, id)
	if notFound(err) {
		return e.store.DeleteTimer(ctx, flexd.TimerRestore, id)
	}
	if err != nil {
		return err
	}
	if j.Status.Done() {
		return e.store.DeleteTimer(ctx, flexd.TimerRestore, id)
	}
	target, err := e.store.GetFlexCluster(ctx, j.TargetProjectID, j.TargetDeploymentItemName)
	gone := notFound(err) || (err == nil && target.StateName == flexd.ClusterDeleting)
	if err != nil && !gone {
		return err
	}
	if gone {
		return e.endRestore(ctx, j, nil, "target cluster "+j.TargetDeploymentItemName+" was deleted")
	}
	switch j.Status {
	case flexd.StatusPending:
		j.Status = flexd.StatusQueued
		if err := e.store.UpdateRestoreJob(ctx, j); err != nil {
			return err
		}
		fallthrough
	case flexd.StatusQueued:
		started, err := e.store.StartNextRestore(ctx, j.TargetProjectID, j.TargetDeploymentItemName, e.clock.Now().Add(e.cfg.RestoreTime))
		if err != nil {
			return err
		}
		if started != nil {
			e.poke()
		}
		if started == nil || started.ID != j.ID {
			// Another restore into the target runs; its end starts this one.
			return e.store.DeleteTimer(ctx, flexd.TimerRestore, j.ID)
		}
		return nil
	}
	// RUNNING, and its restore time is over.
	if reason, fault, err := e.store.TakeFault(ctx, target.ID, flexd.FaultRestore); err != nil {
		return err
	} else if fault {
		return e.endRestore(ctx, j, target, reason)
	}
	return e.endRestore(ctx, j, target, "")
}

// endRestore finishes a job: with an empty failure it applies the
// snapshot's artifact to target, unless that is recorded as done, in the
// same transaction as the job's end. Then the target is IDLE again and the
// next restore into it starts, and retention may drop the snapshot.
func (e *Engine) endRestore(ctx context.Context, j *flexd.RestoreJob, target *flexd.FlexCluster, failure string) error {
	j.RestoreFinishedDate = e.clock.Now()
	var applyTo *flexd.FlexCluster
	if failure == "" {
		applied, err := e.store.RestoreApplied(ctx, j.ID)
		if err != nil {
			return err
		}
		if !applied {
			art, err := e.store.GetArtifact(ctx, j.SnapshotID)
			switch {
			case notFound(err):
				failure = "snapshot " + j.SnapshotID + " has no artifact to restore"
			case err != nil:
				return err
			case art.Checksum != checksum(art.Content):
				failure = "snapshot " + j.SnapshotID + " artifact fails its checksum"
			default:
				if err := e.cfg.Artifacts.Apply(ctx, art, target); err != nil {
					failure = "restore failed: " + err.Error()
				} else {
					applyTo = target
					if target.StateName == flexd.ClusterUpdating {
						target.StateName = flexd.ClusterIdle
					}
				}
			}
		}
	}
	j.Status = flexd.StatusCompleted
	if failure != "" {
		j.Status, j.FailureReason = flexd.StatusFailed, failure
	}
	if err := e.store.FinishRestore(ctx, j, applyTo); err != nil {
		return fmt.Errorf("finish restore %s: %w", j.ID, err)
	}
	if target != nil {
		if applyTo == nil {
			if _, err := e.store.SetClusterState(ctx, target.ID, flexd.ClusterUpdating, flexd.ClusterIdle); err != nil {
				return err
			}
		}
		if _, err := e.store.StartNextRestore(ctx, target.GroupID, target.Name, e.clock.Now().Add(e.cfg.RestoreTime)); err != nil && !notFound(err) {
			return err
		}
		e.poke()
	}
	return e.prune(ctx, j.ClusterID)
}

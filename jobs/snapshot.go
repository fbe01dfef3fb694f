package jobs

import (
	"context"
	"time"

	"github.com/flexd/flexd"
)

// scheduledSnapshot queues the snapshot of the latest schedule slot that has
// come, and arms the next slot, in one unit of work. After downtime that is
// one catch-up snapshot, not one per missed slot, and the schedule keeps
// the time of day.
func (e *Engine) scheduledSnapshot(ctx context.Context, tx flexd.Tx, t flexd.Timer) error {
	c, err := tx.GetFlexClusterByID(ctx, t.EntityID)
	if notFound(err) || (err == nil && (c.StateName == flexd.ClusterDeleting || e.cfg.SnapshotInterval <= 0)) {
		return disarm(ctx, tx, t)
	}
	if err != nil {
		return err
	}
	now, every := e.clock.Now(), e.cfg.SnapshotInterval
	first := c.CreateDate.Add(every)
	if now.Before(first) {
		return tx.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerSchedule, EntityID: c.ID, DueAt: first})
	}
	slot := first.Add(now.Sub(first) / every * every)
	latest, err := tx.LatestSnapshot(ctx, c.ID)
	if err != nil && !notFound(err) {
		return err
	}
	if latest == nil || !latest.ScheduledTime.Equal(slot) {
		sn := &flexd.Snapshot{
			ID: flexd.NewID(now), GroupID: c.GroupID, ClusterID: c.ID, ClusterName: c.Name,
			Status: flexd.StatusQueued, MongoDBVersion: c.MongoDBVersion, ScheduledTime: slot,
		}
		if err := tx.CreateSnapshot(ctx, sn); err != nil {
			return err
		}
		if err := e.arm(ctx, tx, flexd.TimerSnapshot, sn.ID, now); err != nil {
			return err
		}
	}
	return tx.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerSchedule, EntityID: c.ID, DueAt: slot.Add(every)})
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

// runSnapshot takes a snapshot in three parts: a unit of work marks it
// RUNNING and reads its cluster; the capture runs outside any transaction
// (with real data it is a long copy); a second unit of work stores the
// artifact with the snapshot's end, if the snapshot is still RUNNING. A
// crash anywhere leaves the timer armed, and the capture is done again
// whole: it is a read, so that is harmless.
func (e *Engine) runSnapshot(ctx context.Context, t flexd.Timer) error {
	var cluster *flexd.FlexCluster
	err := e.store.InTx(ctx, func(tx flexd.Tx) error {
		cluster = nil
		sn, err := tx.GetSnapshotByID(ctx, t.EntityID)
		if notFound(err) || (err == nil && sn.Status.Done()) {
			return disarm(ctx, tx, t)
		}
		if err != nil {
			return err
		}
		c, err := tx.GetFlexClusterByID(ctx, sn.ClusterID)
		if notFound(err) {
			return disarm(ctx, tx, t) // deleted with its cluster
		}
		if err != nil {
			return err
		}
		if sn.Status != flexd.StatusRunning {
			from := sn.Status
			sn.Status, sn.StartTime = flexd.StatusRunning, e.clock.Now()
			if err := tx.UpdateSnapshot(ctx, sn, from); err != nil {
				return err
			}
		}
		cluster = c
		return nil
	})
	if err != nil || cluster == nil {
		return err
	}
	art, captureErr := e.cfg.Artifacts.Capture(ctx, cluster, t.EntityID)
	stored := false
	defer func() {
		if !stored && art != nil {
			e.cfg.Artifacts.Dropped(art) // its snapshot ended otherwise or is gone
		}
	}()
	return e.store.InTx(ctx, func(tx flexd.Tx) error {
		stored = false
		// The cluster first, held: a delete of it then lands wholly
		// before this unit of work (the snapshot is gone) or after it.
		if _, err := tx.GetFlexClusterByID(ctx, cluster.ID); notFound(err) {
			return disarm(ctx, tx, t)
		} else if err != nil {
			return err
		}
		sn, err := tx.GetSnapshotByID(ctx, t.EntityID)
		if notFound(err) || (err == nil && sn.Status != flexd.StatusRunning) {
			return disarm(ctx, tx, t)
		}
		if err != nil {
			return err
		}
		sn.FinishTime = e.clock.Now()
		reason, fault, err := tx.TakeFault(ctx, sn.ClusterID, flexd.FaultSnapshot)
		switch {
		case err != nil:
			return err
		case fault:
			sn.Status, sn.FailureReason = flexd.StatusFailed, reason
		case captureErr != nil:
			sn.Status, sn.FailureReason = flexd.StatusFailed, "capture failed: "+captureErr.Error()
		default:
			if err := tx.PutArtifact(ctx, art); err != nil {
				return err
			}
			stored = true
			sn.Status, sn.MongoDBVersion = flexd.StatusCompleted, cluster.MongoDBVersion
			sn.Expiration = sn.FinishTime.Add(e.retentionPeriod())
			sn.ArtifactSize, sn.ArtifactChecksum = art.Size, art.Checksum
			if art.BlobKey == "" {
				sn.ArtifactSize = int64(len(art.Content))
			}
		}
		if err := tx.UpdateSnapshot(ctx, sn, flexd.StatusRunning); err != nil {
			return err
		}
		if sn.Status == flexd.StatusFailed {
			id, reason := sn.ID, sn.FailureReason
			tx.OnCommit(func() {
				e.log.WarnContext(ctx, "snapshot failed", "snapshot", id, "cluster", cluster.Name, "reason", reason)
			})
		} else if err := e.armPrune(ctx, tx, sn.ClusterID); err != nil {
			return err
		}
		return disarm(ctx, tx, t)
	})
}

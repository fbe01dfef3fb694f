package jobs

import (
	"context"

	"github.com/flexd/flexd"
)

// deleteStep removes a DELETING cluster with its snapshots and the jobs
// listed under it, and ends every restore that needed it, in one unit of
// work: the restores from it into other clusters (their source is gone) and
// the restores from other clusters into it (their target is gone). Without
// that a restore running into another cluster would leave it UPDATING, and
// the restores queued behind it would wait forever.
func (e *Engine) deleteStep(ctx context.Context, tx flexd.Tx, t flexd.Timer) error {
	c, err := tx.GetFlexClusterByID(ctx, t.EntityID)
	if notFound(err) {
		return disarm(ctx, tx, t)
	}
	if err != nil {
		return err
	}
	if c.StateName != flexd.ClusterDeleting {
		return disarm(ctx, tx, t)
	}
	from, err := tx.RestoresFrom(ctx, c.ID)
	if err != nil {
		return err
	}
	// The waiting ones first, so that ending a running one wakes none of
	// them.
	for _, running := range []bool{false, true} {
		for i := range from {
			if (from[i].Status == flexd.StatusRunning) != running || intoCluster(&from[i], c) {
				continue // into c itself: deleted with it
			}
			// Holding c does not hold the jobs from it: a restore's step
			// holds its target only, and may have moved the job on since
			// it was listed. heldJob holds the target (c is held before
			// it: a source before its target) and reads the job again.
			j, target, err := heldJob(ctx, tx, from[i].ID)
			if err != nil {
				return err
			}
			if j == nil {
				continue // ended meanwhile
			}
			if err := e.endRestore(ctx, tx, j, target, "source cluster "+c.Name+" was deleted"); err != nil {
				return err
			}
		}
	}
	into, err := tx.RestoresInto(ctx, c.GroupID, c.Name)
	if err != nil {
		return err
	}
	for i := range into {
		if j := &into[i]; j.ClusterID != c.ID {
			if err := e.endRestore(ctx, tx, j, nil, "target cluster "+c.Name+" was deleted"); err != nil {
				return err
			}
		}
	}
	if err := tx.DeleteFlexCluster(ctx, c.ID); err != nil {
		return err
	}
	id := c.ID
	tx.OnCommit(func() { e.cfg.Artifacts.Deleted(id) })
	for _, k := range []flexd.TimerKind{flexd.TimerSchedule, flexd.TimerCluster, flexd.TimerPrune} {
		if err := tx.DisarmTimer(ctx, flexd.Timer{Kind: k, EntityID: c.ID}); err != nil {
			return err
		}
	}
	return disarm(ctx, tx, t)
}

func intoCluster(j *flexd.RestoreJob, c *flexd.FlexCluster) bool {
	return j.TargetProjectID == c.GroupID && j.TargetDeploymentItemName == c.Name
}

// liveTarget reads (and holds) a restore's target, or nil when it is gone
// or being deleted.
func liveTarget(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob) (*flexd.FlexCluster, error) {
	target, err := tx.GetFlexCluster(ctx, j.TargetProjectID, j.TargetDeploymentItemName)
	if notFound(err) || (err == nil && target.StateName == flexd.ClusterDeleting) {
		return nil, nil
	}
	return target, err
}

package jobs

import (
	"context"

	"github.com/flexd/flexd"
)

// armPrune arms retention for a cluster when it has snapshots to drop: a
// restore's end frees its snapshot, a new snapshot pushes the oldest out.
// Most of the time there is none, and no job is queued for nothing.
func (e *Engine) armPrune(ctx context.Context, tx flexd.Tx, clusterID string) error {
	ids, err := tx.PrunableSnapshots(ctx, clusterID, e.cfg.SnapshotRetention, e.clock.Now())
	if err != nil || len(ids) == 0 {
		return err
	}
	return e.arm(ctx, tx, flexd.TimerPrune, clusterID, e.clock.Now())
}

// prune applies retention to a cluster: its completed snapshots beyond the
// newest SnapshotRetention go, except those an unfinished restore or an
// unexpired download link still needs.
func (e *Engine) prune(ctx context.Context, tx flexd.Tx, t flexd.Timer) error {
	// The cluster is held, as a new restore or download link holds it
	// while it checks its snapshot is there.
	if _, err := tx.GetFlexClusterByID(ctx, t.EntityID); notFound(err) {
		return disarm(ctx, tx, t)
	} else if err != nil {
		return err
	}
	ids, err := tx.PrunableSnapshots(ctx, t.EntityID, e.cfg.SnapshotRetention, e.clock.Now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		a, err := tx.GetArtifact(ctx, id)
		if err != nil && !notFound(err) {
			return err
		}
		if err := tx.DeleteSnapshot(ctx, id); err != nil && !notFound(err) {
			return err
		}
		if a != nil {
			tx.OnCommit(func() { e.cfg.Artifacts.Dropped(a) })
		}
	}
	return disarm(ctx, tx, t)
}

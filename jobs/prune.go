package jobs

import (
	"context"

	"github.com/flexd/flexd"
)

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
		if err := tx.DeleteSnapshot(ctx, id); err != nil && !notFound(err) {
			return err
		}
	}
	return disarm(ctx, tx, t)
}

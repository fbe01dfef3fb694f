package jobs

import (
	"context"

	"github.com/flexd/flexd"
)

// Adopt takes on a cluster stored IDLE without going through CREATING
// (seeding, package seed), in the unit of work that stores it: it arms the
// cluster's next scheduled snapshot, the first slot of its schedule after
// now (no snapshot is made up for time before flexd held the cluster), and
// retention when the cluster holds more completed snapshots than it keeps.
func (e *Engine) Adopt(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error {
	if every := e.cfg.SnapshotInterval; every > 0 {
		next, now := c.CreateDate.Add(every), e.clock.Now()
		if !now.Before(next) {
			next = next.Add((now.Sub(next)/every + 1) * every)
		}
		if err := e.arm(ctx, tx, flexd.TimerSchedule, c.ID, next); err != nil {
			return err
		}
	}
	return e.armPrune(ctx, tx, c.ID)
}

// RecordSnapshot stores sn, a snapshot of c whose times are set, as
// COMPLETED the way a snapshot run ends one: c is captured with the
// configured Artifacts into sn's artifact, and sn gets its expiration and
// artifact fields. Seeding records snapshots with given times this way.
func (e *Engine) RecordSnapshot(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster, sn *flexd.Snapshot) error {
	format, content, err := e.cfg.Artifacts.Capture(ctx, c)
	if err != nil {
		return err
	}
	sn.GroupID, sn.ClusterID, sn.ClusterName = c.GroupID, c.ID, c.Name
	sn.Status, sn.MongoDBVersion, sn.FailureReason = flexd.StatusCompleted, c.MongoDBVersion, ""
	sn.Expiration = sn.FinishTime.Add(e.retentionPeriod())
	a := &flexd.Artifact{SnapshotID: sn.ID, Format: format, Content: content, Checksum: checksum(content)}
	sn.ArtifactSize, sn.ArtifactChecksum = int64(len(content)), a.Checksum
	if err := tx.CreateSnapshot(ctx, sn); err != nil {
		return err
	}
	return tx.PutArtifact(ctx, a)
}

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
	if err := e.serveAdopted(ctx, tx, c); err != nil {
		return err
	}
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
	// On the data plane the cluster must be served to be captured (an
	// adopted cluster is, once Adopt ran; this makes the order free).
	if err := e.serveAdopted(ctx, tx, c); err != nil {
		return err
	}
	a, err := e.cfg.Artifacts.Capture(ctx, c, sn.ID)
	if err != nil {
		return err
	}
	sn.GroupID, sn.ClusterID, sn.ClusterName = c.GroupID, c.ID, c.Name
	sn.Status, sn.MongoDBVersion, sn.FailureReason = flexd.StatusCompleted, c.MongoDBVersion, ""
	sn.Expiration = sn.FinishTime.Add(e.retentionPeriod())
	sn.ArtifactSize, sn.ArtifactChecksum = a.Size, a.Checksum
	if a.BlobKey == "" {
		sn.ArtifactSize = int64(len(a.Content))
	}
	if err := tx.CreateSnapshot(ctx, sn); err != nil {
		return err
	}
	return tx.PutArtifact(ctx, a)
}

// serveAdopted opens an adopted IDLE cluster's endpoint (on the data
// plane) and records its port and connection string.
func (e *Engine) serveAdopted(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error {
	change, err := e.cfg.Artifacts.Serve(ctx, c)
	if err != nil || change == nil {
		return err
	}
	before := *c
	change(c)
	if c.Port == before.Port && c.StandardConnectionString == before.StandardConnectionString {
		return nil
	}
	return tx.UpdateFlexCluster(ctx, c, c.StateName)
}

package storetest

import (
	"time"

	"github.com/flexd/flexd"
)

var snapshotTests = []subtest{
	{"Snapshots/RoundTrip", func(e *env) {
		c := e.cluster(nil)
		sn := newSnapshot(c, flexd.StatusPending)
		ok(e.t, "CreateSnapshot", e.s.CreateSnapshot(e.ctx, &sn))
		want := sn
		want.ScheduledTime = stored(t0)
		equal(e.t, "after create", sn, want)
		got, err := e.s.GetSnapshot(e.ctx, c.ID, sn.ID)
		ok(e.t, "GetSnapshot", err)
		equal(e.t, "get", *got, want)
		if !got.StartTime.IsZero() || !got.FinishTime.IsZero() || !got.Expiration.IsZero() {
			e.t.Fatalf("unset times read back as %v, %v, %v", got.StartTime, got.FinishTime, got.Expiration)
		}
	}},
	{"Snapshots/Errors", func(e *env) {
		c, other := e.cluster(nil), e.cluster(nil)
		sn := e.snapshot(c)
		dup := sn
		isErr(e.t, "create with a taken id", e.s.CreateSnapshot(e.ctx, &dup), flexd.ErrConflict)
		orphan := sn
		orphan.ID, orphan.ClusterID = newID(), newID()
		isErr(e.t, "create for a missing cluster", e.s.CreateSnapshot(e.ctx, &orphan), flexd.ErrNotFound)
		_, err := e.s.GetSnapshot(e.ctx, c.ID, newID())
		isErr(e.t, "get missing", err, flexd.ErrNotFound)
		_, err = e.s.GetSnapshot(e.ctx, other.ID, sn.ID)
		isErr(e.t, "get through another cluster", err, flexd.ErrNotFound)
		missing := sn
		missing.ID = newID()
		isErr(e.t, "update missing", e.s.UpdateSnapshot(e.ctx, &missing), flexd.ErrNotFound)
		isErr(e.t, "delete missing", e.s.DeleteSnapshot(e.ctx, missing.ID), flexd.ErrNotFound)
	}},
	{"Snapshots/Update", func(e *env) {
		c := e.cluster(nil)
		sn := newSnapshot(c, flexd.StatusQueued)
		ok(e.t, "CreateSnapshot", e.s.CreateSnapshot(e.ctx, &sn))
		u := sn
		u.Status = flexd.StatusCompleted
		u.ScheduledTime = t0.Add(time.Second)
		u.StartTime, u.FinishTime, u.Expiration = t0.Add(2*time.Second), t0.Add(3*time.Second), t0.Add(72*time.Hour)
		u.FailureReason, u.ArtifactSize, u.ArtifactChecksum = "none", 1<<40, "sha256:abc"
		u.ClusterName, u.MongoDBVersion = "not written", "not written"
		ok(e.t, "UpdateSnapshot", e.s.UpdateSnapshot(e.ctx, &u))
		want := u
		want.ClusterName, want.MongoDBVersion = sn.ClusterName, sn.MongoDBVersion
		want.ScheduledTime, want.StartTime = stored(u.ScheduledTime), stored(u.StartTime)
		want.FinishTime, want.Expiration = stored(u.FinishTime), stored(u.Expiration)
		got, err := e.s.GetSnapshot(e.ctx, c.ID, sn.ID)
		ok(e.t, "GetSnapshot", err)
		equal(e.t, "after update", *got, want)
	}},
	{"Snapshots/ListNewestFirst", func(e *env) {
		c, other := e.cluster(nil), e.cluster(nil)
		s1, s2 := e.snapshot(c), e.snapshot(c)
		e.snapshot(other)
		s3 := e.snapshot(c)
		items, total := listAll(e.t, snapshotLister(e, c.ID))
		equal(e.t, "snapshots", items, []flexd.Snapshot{s3, s2, s1})
		if total != 3 {
			e.t.Fatalf("total %d, want 3", total)
		}
	}},
	{"Snapshots/Delete", func(e *env) {
		c := e.cluster(nil)
		sn, keep := e.snapshot(c), e.snapshot(c)
		j := e.restoreJob(c, sn, flexd.DeliveryRestore)
		ok(e.t, "DeleteSnapshot", e.s.DeleteSnapshot(e.ctx, sn.ID))
		_, err := e.s.GetSnapshot(e.ctx, c.ID, sn.ID)
		isErr(e.t, "get deleted", err, flexd.ErrNotFound)
		items, _ := listAll(e.t, snapshotLister(e, c.ID))
		equal(e.t, "left", items, []flexd.Snapshot{keep})
		// The restore history outlives the snapshot.
		got, err := e.s.GetRestoreJob(e.ctx, c.ID, j.ID)
		ok(e.t, "GetRestoreJob", err)
		equal(e.t, "job of a deleted snapshot", *got, j)
	}},
}

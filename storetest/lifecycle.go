package storetest

import (
	"errors"
	"slices"
	"time"

	"github.com/flexd/flexd"
)

// The unit of work (flexd.Tx) and the lifecycle engine's storage
// (flexd.LifecycleStore) join the suite for every backend that has it.
func init() { suite = append(suite, lifecycleTests...) }

var lifecycleTests = []subtest{
	{"Lifecycle/Timers", testTimers},
	{"Lifecycle/Faults", testFaults},
	{"Lifecycle/SnapshotArtifactAndRetention", testRetention},
	{"Lifecycle/ConditionalWrites", testConditionalWrites},
	{"Lifecycle/UnitOfWorkIsAtomic", testUnitOfWork},
	{"Lifecycle/Reset", testReset},
	{"Lifecycle/DeletingIsFinal", testDeletingIsFinal},
}

func (e *env) lifecycle() flexd.LifecycleStore {
	e.t.Helper()
	l, ok := e.s.(flexd.LifecycleStore)
	if !ok {
		e.t.Skip("store has no lifecycle storage")
	}
	return l
}

// tx runs fn in a unit of work and fails the test on its error.
func (e *env) tx(fn func(tx flexd.Tx) error) {
	e.t.Helper()
	if err := e.s.InTx(e.ctx, fn); err != nil {
		e.t.Fatal(err)
	}
}

func testTimers(e *env) {
	l := e.lifecycle()
	at := stored(t0)
	e.tx(func(tx flexd.Tx) error {
		for i, id := range []string{"c", "a", "b"} {
			if err := tx.SetTimer(e.ctx, flexd.Timer{Kind: flexd.TimerCluster, EntityID: id, DueAt: at.Add(time.Duration(i) * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	first, err := l.NextTimer(e.ctx)
	if err != nil || first.EntityID != "c" || !first.DueAt.Equal(at) || first.Seq == 0 {
		e.t.Fatalf("NextTimer %+v, %v", first, err)
	}
	// Moving a timer re-arms it: later due, larger seq.
	e.tx(func(tx flexd.Tx) error {
		return tx.SetTimer(e.ctx, flexd.Timer{Kind: flexd.TimerCluster, EntityID: "c", DueAt: at.Add(3 * time.Hour)})
	})
	due, err := l.DueTimers(e.ctx, at.Add(90*time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].EntityID != "a" {
		e.t.Fatalf("DueTimers %+v, %v", due, err)
	}
	all, _ := l.DueTimers(e.ctx, at.Add(3*time.Hour), 10)
	if len(all) != 3 || all[2].EntityID != "c" || all[2].Seq <= first.Seq {
		e.t.Fatalf("after re-arming: %+v (first seq %d)", all, first.Seq)
	}
	// Disarming the first arming of c leaves the second: a step never
	// deletes an arming it did not run.
	e.tx(func(tx flexd.Tx) error { return tx.DisarmTimer(e.ctx, *first) })
	if got, _ := l.DueTimers(e.ctx, at.Add(3*time.Hour), 10); len(got) != 3 {
		e.t.Fatalf("disarming a replaced arming deleted the timer: %+v", got)
	}
	e.tx(func(tx flexd.Tx) error {
		for _, t := range all {
			if err := tx.DisarmTimer(e.ctx, t); err != nil {
				return err
			}
		}
		return tx.DisarmTimer(e.ctx, flexd.Timer{Kind: flexd.TimerCluster, EntityID: "missing"})
	})
	if _, err := l.NextTimer(e.ctx); !errors.Is(err, flexd.ErrNotFound) {
		e.t.Fatalf("NextTimer with none: %v", err)
	}
}

func testFaults(e *env) {
	l := e.lifecycle()
	c := e.cluster(nil)
	for _, n := range []int{1, 1} {
		if err := l.AddFault(e.ctx, flexd.Fault{ClusterID: c.ID, Operation: flexd.FaultRestore, Count: n, Reason: "boom"}); err != nil {
			e.t.Fatal(err)
		}
	}
	for i, want := range []bool{true, true, false} {
		e.tx(func(tx flexd.Tx) error {
			reason, ok, err := tx.TakeFault(e.ctx, c.ID, flexd.FaultRestore)
			if err != nil || ok != want || (ok && reason != "boom") {
				e.t.Fatalf("take %d: %q %v %v", i, reason, ok, err)
			}
			return nil
		})
	}
	e.tx(func(tx flexd.Tx) error {
		if _, ok, _ := tx.TakeFault(e.ctx, c.ID, flexd.FaultSnapshot); ok {
			e.t.Fatal("a restore fault was taken as a snapshot fault")
		}
		return nil
	})
}

func testRetention(e *env) {
	l := e.lifecycle()
	c := e.cluster(nil)
	var ids []string
	for i := range 4 {
		sn := e.snapshot(c)
		e.tx(func(tx flexd.Tx) error {
			from := sn.Status
			sn.Status = flexd.StatusCompleted
			if err := tx.PutArtifact(e.ctx, &flexd.Artifact{SnapshotID: sn.ID, Format: "f", Content: []byte{'x', byte('0' + i)}, Checksum: "sum"}); err != nil {
				return err
			}
			return tx.UpdateSnapshot(e.ctx, &sn, from)
		})
		ids = append(ids, sn.ID)
	}
	if a, err := l.GetArtifact(e.ctx, ids[0]); err != nil || string(a.Content) != "x0" || a.Format != "f" {
		e.t.Fatalf("GetArtifact %+v %v", a, err)
	}
	// A running restore holds the oldest, an unexpired download the next.
	now := stored(t0)
	e.job(c, ids[0], flexd.DeliveryRestore, flexd.StatusRunning, time.Time{})
	e.job(c, ids[1], flexd.DeliveryDownload, flexd.StatusCompleted, now.Add(time.Hour))
	prune := func(at time.Time) []string {
		var deleted []string
		e.tx(func(tx flexd.Tx) error {
			ids, err := tx.PrunableSnapshots(e.ctx, c.ID, 1, at)
			for _, id := range ids {
				if err == nil {
					err = tx.DeleteSnapshot(e.ctx, id)
				}
			}
			deleted = ids
			return err
		})
		return deleted
	}
	if deleted := prune(now); !slices.Equal(deleted, []string{ids[2]}) {
		e.t.Fatalf("prune: %v, want only %s", deleted, ids[2])
	}
	if _, err := l.GetArtifact(e.ctx, ids[2]); !errors.Is(err, flexd.ErrNotFound) {
		e.t.Fatalf("artifact of a pruned snapshot: %v", err)
	}
	if deleted := prune(now.Add(2 * time.Hour)); !slices.Equal(deleted, []string{ids[1]}) { // the link expired
		e.t.Fatalf("prune after expiry: %v", deleted)
	}
}

// job stores a restore job of c's snapshot.
func (e *env) job(c flexd.FlexCluster, snapshotID string, d flexd.DeliveryType, st flexd.JobStatus, exp time.Time) flexd.RestoreJob {
	e.t.Helper()
	j := flexd.RestoreJob{ID: newID(), ProjectID: c.GroupID, ClusterID: c.ID, InstanceName: c.Name, SnapshotID: snapshotID,
		DeliveryType: d, Status: st, TargetProjectID: c.GroupID, TargetDeploymentItemName: c.Name, ExpirationDate: exp}
	if d == flexd.DeliveryDownload {
		j.DownloadToken = newID()
	}
	if err := e.s.CreateRestoreJob(e.ctx, &j); err != nil {
		e.t.Fatal(err)
	}
	return j
}

// testConditionalWrites: each state write names the state it was computed
// from, and one computed from a state that has moved on is refused.
func testConditionalWrites(e *env) {
	c := e.cluster(nil)
	sn := e.snapshot(c)
	first := e.job(c, sn.ID, flexd.DeliveryRestore, flexd.StatusQueued, time.Time{})
	second := e.job(c, sn.ID, flexd.DeliveryRestore, flexd.StatusPending, time.Time{})
	e.tx(func(tx flexd.Tx) error {
		got, err := tx.GetFlexClusterByID(e.ctx, c.ID)
		if err != nil {
			return err
		}
		from := got.StateName
		got.StateName = flexd.ClusterUpdating
		if err := tx.UpdateFlexCluster(e.ctx, got, from); err != nil {
			return err
		}
		got.StateName = flexd.ClusterIdle
		if err := tx.UpdateFlexCluster(e.ctx, got, from); !errors.Is(err, flexd.ErrConflict) && from != flexd.ClusterUpdating {
			e.t.Errorf("a cluster write from a state it left: %v, want ErrConflict", err)
		}
		j, err := tx.GetRestoreJobByID(e.ctx, first.ID)
		if err != nil {
			return err
		}
		j.Status = flexd.StatusRunning
		if err := tx.UpdateRestoreJob(e.ctx, j, flexd.StatusQueued); err != nil {
			return err
		}
		if err := tx.UpdateRestoreJob(e.ctx, j, flexd.StatusQueued); !errors.Is(err, flexd.ErrConflict) {
			e.t.Errorf("a job write from a status it left: %v, want ErrConflict", err)
		}
		into, err := tx.RestoresInto(e.ctx, c.GroupID, c.Name)
		if err != nil || len(into) != 2 || into[0].ID != first.ID || into[1].ID != second.ID {
			e.t.Errorf("RestoresInto %+v %v, want both, oldest first", into, err)
		}
		if from, err := tx.RestoresFrom(e.ctx, c.ID); err != nil || len(from) != 2 {
			e.t.Errorf("RestoresFrom %+v %v", from, err)
		}
		if err := tx.RecordApplication(e.ctx, first.ID, stored(t0)); err != nil {
			return err
		}
		if err := tx.RecordApplication(e.ctx, first.ID, stored(t0)); !errors.Is(err, flexd.ErrConflict) {
			e.t.Errorf("applying twice: %v, want ErrConflict", err)
		}
		if at, ok, err := tx.Application(e.ctx, first.ID); err != nil || !ok || !at.Equal(stored(t0)) {
			e.t.Errorf("Application %v %v %v", at, ok, err)
		}
		if _, ok, err := tx.Application(e.ctx, second.ID); err != nil || ok {
			e.t.Errorf("Application of one not applied: %v %v", ok, err)
		}
		return nil
	})
}

// testUnitOfWork: a unit of work that fails leaves nothing behind, its
// writes and timers alike, and runs nothing OnCommit.
func testUnitOfWork(e *env) {
	l := e.lifecycle()
	c := e.cluster(nil)
	boom := errors.New("boom")
	committed := false
	err := e.s.InTx(e.ctx, func(tx flexd.Tx) error {
		sn := flexd.Snapshot{ID: newID(), GroupID: c.GroupID, ClusterID: c.ID, ClusterName: c.Name, Status: flexd.StatusQueued}
		if err := tx.CreateSnapshot(e.ctx, &sn); err != nil {
			return err
		}
		if err := tx.SetTimer(e.ctx, flexd.Timer{Kind: flexd.TimerSnapshot, EntityID: sn.ID, DueAt: stored(t0)}); err != nil {
			return err
		}
		tx.OnCommit(func() { committed = true })
		return boom
	})
	if !errors.Is(err, boom) || committed {
		e.t.Fatalf("InTx: %v, OnCommit ran: %v", err, committed)
	}
	if _, total, _ := e.s.ListSnapshots(e.ctx, c.ID, flexd.Page{Num: 1, ItemsPerPage: 10, Count: true}); total != 0 {
		e.t.Errorf("%d snapshots after a rolled-back unit of work", total)
	}
	if _, err := l.NextTimer(e.ctx); !errors.Is(err, flexd.ErrNotFound) {
		e.t.Errorf("a timer after a rolled-back unit of work: %v", err)
	}
	e.tx(func(tx flexd.Tx) error {
		tx.OnCommit(func() { committed = true })
		return nil
	})
	if !committed {
		e.t.Error("OnCommit did not run after the commit")
	}
}

func testReset(e *env) {
	l := e.lifecycle()
	org := e.org()
	p := e.project(org.ID)
	c := e.cluster(&p)
	sn := e.snapshot(c)
	e.job(c, sn.ID, flexd.DeliveryRestore, flexd.StatusPending, time.Time{})
	other := e.cluster(nil)
	if err := l.Reset(e.ctx, []string{org.ID}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.s.GetFlexClusterByID(e.ctx, c.ID); !errors.Is(err, flexd.ErrNotFound) {
		e.t.Fatalf("cluster after reset: %v", err)
	}
	if _, err := e.s.GetOrganization(e.ctx, org.ID); err != nil {
		e.t.Fatalf("organization after reset: %v", err)
	}
	if _, err := e.s.GetFlexClusterByID(e.ctx, other.ID); err != nil {
		e.t.Fatalf("another organization's cluster after reset: %v", err)
	}
}

// testDeletingIsFinal: a write from a copy read before the cluster went
// DELETING (a PATCH, a restore's end, racing a DELETE) must not bring it
// back, or the delete is lost and the cluster lives on.
func testDeletingIsFinal(e *env) {
	c := e.cluster(nil)
	stale := c
	deleting := c
	deleting.StateName = flexd.ClusterDeleting
	if err := e.s.UpdateFlexCluster(e.ctx, &deleting); err != nil {
		e.t.Fatal(err)
	}
	stale.StateName = flexd.ClusterUpdating
	stale.Tags = []flexd.Tag{{Key: "k", Value: "v"}}
	if err := e.s.UpdateFlexCluster(e.ctx, &stale); err == nil {
		e.t.Error("UpdateFlexCluster moved a cluster out of DELETING")
	}
	if err := e.s.InTx(e.ctx, func(tx flexd.Tx) error {
		return tx.UpdateFlexCluster(e.ctx, &stale, flexd.ClusterUpdating)
	}); !errors.Is(err, flexd.ErrConflict) {
		e.t.Errorf("a unit of work moved a cluster out of DELETING: %v", err)
	}
	got, err := e.s.GetFlexCluster(e.ctx, c.GroupID, c.Name)
	if err != nil || got.StateName != flexd.ClusterDeleting || len(got.Tags) != 0 {
		e.t.Fatalf("cluster after stale writes: %+v, %v", got, err)
	}
	if err := e.s.UpdateFlexCluster(e.ctx, &deleting); err != nil {
		e.t.Errorf("writing a DELETING cluster again: %v", err)
	}
}

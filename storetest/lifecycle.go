package storetest

import (
	"errors"
	"slices"
	"time"

	"github.com/flexd/flexd"
)

// The lifecycle engine's storage (flexd.LifecycleStore) joins the suite for
// every backend that has it.
func init() { suite = append(suite, lifecycleTests...) }

var lifecycleTests = []subtest{
	{"Lifecycle/Timers", testTimers},
	{"Lifecycle/Faults", testFaults},
	{"Lifecycle/SnapshotArtifactAndRetention", testRetention},
	{"Lifecycle/RestoresOneAtATime", testRestoreQueue},
	{"Lifecycle/UnfinishedWorkAndReset", testUnfinishedAndReset},
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

func testTimers(e *env) {
	l := e.lifecycle()
	at := stored(t0)
	for i, id := range []string{"c", "a", "b"} {
		if err := l.SetTimer(e.ctx, flexd.Timer{Kind: flexd.TimerCluster, EntityID: id, DueAt: at.Add(time.Duration(i) * time.Hour)}); err != nil {
			e.t.Fatal(err)
		}
	}
	first, err := l.NextTimer(e.ctx)
	if err != nil || first.EntityID != "c" || !first.DueAt.Equal(at) || first.Seq == 0 {
		e.t.Fatalf("NextTimer %+v, %v", first, err)
	}
	// Moving a timer re-arms it: later due, larger seq.
	if err := l.SetTimer(e.ctx, flexd.Timer{Kind: flexd.TimerCluster, EntityID: "c", DueAt: at.Add(3 * time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	due, err := l.DueTimers(e.ctx, at.Add(90*time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].EntityID != "a" {
		e.t.Fatalf("DueTimers %+v, %v", due, err)
	}
	all, _ := l.DueTimers(e.ctx, at.Add(3*time.Hour), 10)
	if len(all) != 3 || all[2].EntityID != "c" || all[2].Seq <= first.Seq {
		e.t.Fatalf("after re-arming: %+v (first seq %d)", all, first.Seq)
	}
	for _, id := range []string{"a", "b", "c", "missing"} {
		if err := l.DeleteTimer(e.ctx, flexd.TimerCluster, id); err != nil {
			e.t.Fatal(err)
		}
	}
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
		reason, ok, err := l.TakeFault(e.ctx, c.ID, flexd.FaultRestore)
		if err != nil || ok != want || (ok && reason != "boom") {
			e.t.Fatalf("take %d: %q %v %v", i, reason, ok, err)
		}
	}
	if _, ok, _ := l.TakeFault(e.ctx, c.ID, flexd.FaultSnapshot); ok {
		e.t.Fatal("a restore fault was taken as a snapshot fault")
	}
}

func testRetention(e *env) {
	l := e.lifecycle()
	c := e.cluster(nil)
	var ids []string
	for i := range 4 {
		sn := e.snapshot(c)
		sn.Status = flexd.StatusCompleted
		a := &flexd.Artifact{SnapshotID: sn.ID, Format: "f", Content: []byte{'x', byte('0' + i)}, Checksum: "sum"}
		if err := l.CompleteSnapshot(e.ctx, &sn, a); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, sn.ID)
	}
	if a, err := l.GetArtifact(e.ctx, ids[0]); err != nil || string(a.Content) != "x0" || a.Format != "f" {
		e.t.Fatalf("GetArtifact %+v %v", a, err)
	}
	// A running restore holds the oldest, an unexpired download the next.
	now := stored(t0)
	e.job(c, ids[0], flexd.DeliveryRestore, flexd.StatusRunning, time.Time{})
	e.job(c, ids[1], flexd.DeliveryDownload, flexd.StatusCompleted, now.Add(time.Hour))
	deleted, err := l.PruneSnapshots(e.ctx, c.ID, 1, now)
	if err != nil || !slices.Equal(deleted, []string{ids[2]}) {
		e.t.Fatalf("prune: %v %v, want only %s", deleted, err, ids[2])
	}
	if _, err := l.GetArtifact(e.ctx, ids[2]); !errors.Is(err, flexd.ErrNotFound) {
		e.t.Fatalf("artifact of a pruned snapshot: %v", err)
	}
	deleted, _ = l.PruneSnapshots(e.ctx, c.ID, 1, now.Add(2*time.Hour)) // the link expired
	if !slices.Equal(deleted, []string{ids[1]}) {
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

func testRestoreQueue(e *env) {
	l := e.lifecycle()
	c := e.cluster(nil)
	c.StateName = flexd.ClusterIdle
	if err := e.s.UpdateFlexCluster(e.ctx, &c); err != nil {
		e.t.Fatal(err)
	}
	sn := e.snapshot(c)
	first := e.job(c, sn.ID, flexd.DeliveryRestore, flexd.StatusQueued, time.Time{})
	second := e.job(c, sn.ID, flexd.DeliveryRestore, flexd.StatusQueued, time.Time{})
	finish := stored(t0).Add(time.Hour)
	started, err := l.StartNextRestore(e.ctx, c.GroupID, c.Name, finish)
	if err != nil || started == nil || started.ID != first.ID || started.Status != flexd.StatusRunning {
		e.t.Fatalf("start: %+v %v", started, err)
	}
	if again, err := l.StartNextRestore(e.ctx, c.GroupID, c.Name, finish); err != nil || again != nil {
		e.t.Fatalf("a second start while one runs: %+v %v", again, err)
	}
	if got, _ := e.s.GetFlexClusterByID(e.ctx, c.ID); got.StateName != flexd.ClusterUpdating {
		e.t.Fatalf("target %s, want UPDATING", got.StateName)
	}
	if ts, _ := l.DueTimers(e.ctx, finish, 10); len(ts) != 1 || ts[0].EntityID != first.ID {
		e.t.Fatalf("finish timer %+v", ts)
	}
	target, _ := e.s.GetFlexClusterByID(e.ctx, c.ID)
	target.StateName = flexd.ClusterIdle
	target.Tags = []flexd.Tag{{Key: "restored", Value: "yes"}}
	started.Status, started.RestoreFinishedDate = flexd.StatusCompleted, finish
	if err := l.FinishRestore(e.ctx, started, target); err != nil {
		e.t.Fatal(err)
	}
	if applied, _ := l.RestoreApplied(e.ctx, first.ID); !applied {
		e.t.Fatal("application not recorded")
	}
	if err := l.FinishRestore(e.ctx, started, target); !errors.Is(err, flexd.ErrConflict) {
		e.t.Fatalf("applying twice: %v, want ErrConflict", err)
	}
	if got, _ := e.s.GetFlexClusterByID(e.ctx, c.ID); got.StateName != flexd.ClusterIdle || len(got.Tags) != 1 {
		e.t.Fatalf("target after restore %+v", got)
	}
	if ts, _ := l.DueTimers(e.ctx, finish, 10); len(ts) != 0 {
		e.t.Fatalf("timers after finish %+v", ts)
	}
	rest, err := l.RestoresInto(e.ctx, c.GroupID, c.Name)
	if err != nil || len(rest) != 1 || rest[0].ID != second.ID {
		e.t.Fatalf("RestoresInto %+v %v", rest, err)
	}
	if ok, err := l.SetClusterState(e.ctx, c.ID, flexd.ClusterUpdating, flexd.ClusterIdle); ok || err != nil {
		e.t.Fatalf("SetClusterState from a state it is not in: %v %v", ok, err)
	}
}

func testUnfinishedAndReset(e *env) {
	l := e.lifecycle()
	org := e.org()
	p := e.project(org.ID)
	c := e.cluster(&p)
	c.StateName = flexd.ClusterCreating
	if err := e.s.UpdateFlexCluster(e.ctx, &c); err != nil {
		e.t.Fatal(err)
	}
	sn := e.snapshot(c)
	sn.Status = flexd.StatusQueued
	if err := e.s.UpdateSnapshot(e.ctx, &sn); err != nil {
		e.t.Fatal(err)
	}
	j := e.job(c, sn.ID, flexd.DeliveryRestore, flexd.StatusPending, time.Time{})
	if err := l.SetTimer(e.ctx, flexd.Timer{Kind: flexd.TimerSnapshot, EntityID: sn.ID, DueAt: t0}); err != nil {
		e.t.Fatal(err)
	}
	now := stored(t0)
	work, err := l.UnfinishedWork(e.ctx, now)
	if err != nil {
		e.t.Fatal(err)
	}
	want := map[flexd.TimerKind]string{flexd.TimerCluster: c.ID, flexd.TimerRestore: j.ID}
	found := 0
	for _, w := range work {
		if want[w.Kind] == w.EntityID && w.DueAt.Equal(now) {
			found++
		}
		if w.EntityID == sn.ID {
			e.t.Errorf("snapshot with a timer listed as unfinished")
		}
	}
	if found != 2 {
		e.t.Fatalf("UnfinishedWork %+v, want the cluster and the job", work)
	}
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
	l := e.lifecycle()
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
	stale.StateName = flexd.ClusterIdle
	j := e.job(c, e.snapshot(c).ID, flexd.DeliveryRestore, flexd.StatusRunning, time.Time{})
	j.Status = flexd.StatusCompleted
	if err := l.FinishRestore(e.ctx, &j, &stale); err == nil {
		e.t.Error("FinishRestore moved its target out of DELETING")
	}
	got, err := e.s.GetFlexCluster(e.ctx, c.GroupID, c.Name)
	if err != nil || got.StateName != flexd.ClusterDeleting || len(got.Tags) != 0 {
		e.t.Fatalf("cluster after stale writes: %+v, %v", got, err)
	}
	if err := e.s.UpdateFlexCluster(e.ctx, &deleting); err != nil {
		e.t.Errorf("writing a DELETING cluster again: %v", err)
	}
}

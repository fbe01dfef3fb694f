package storetest

import (
	"strings"
	"time"

	"github.com/flexd/flexd"
)

var flexClusterTests = []subtest{
	{"FlexClusters/RoundTrip", func(e *env) {
		p := e.project(e.org().ID)
		c := flexd.FlexCluster{
			ID: newID(), GroupID: p.ID, Name: "flexA", BackingProviderName: "GCP", RegionName: "CENTRAL_US",
			DiskSizeGB: 5.5, MongoDBVersion: "8.0.4", StateName: flexd.ClusterCreating,
			Tags: []flexd.Tag{{Key: "owner", Value: "ops"}}, TerminationProtectionEnabled: true, CreateDate: t0,
			StandardConnectionString: "mongodb://flexa.example:27017",
			SrvConnectionString:      "mongodb+srv://flexa.example",
		}
		ok(e.t, "CreateFlexCluster", e.s.CreateFlexCluster(e.ctx, &c))
		want := c
		want.CreateDate = stored(t0)
		equal(e.t, "after create", c, want)
		got, err := e.s.GetFlexCluster(e.ctx, p.ID, "flexA")
		ok(e.t, "GetFlexCluster", err)
		equal(e.t, "get by name", *got, want)
		got, err = e.s.GetFlexClusterByID(e.ctx, c.ID)
		ok(e.t, "GetFlexClusterByID", err)
		equal(e.t, "get by id", *got, want)
		if got.CreateDate.Location() != time.UTC {
			e.t.Fatalf("CreateDate in %v, want UTC", got.CreateDate.Location())
		}
	}},
	{"FlexClusters/Errors", func(e *env) {
		o := e.org()
		p1, p2 := e.project(o.ID), e.project(o.ID)
		c := e.cluster(&p1)
		dup := newCluster(p1.ID, c.Name)
		isErr(e.t, "create with a taken name", e.s.CreateFlexCluster(e.ctx, &dup), flexd.ErrConflict)
		upper := newCluster(p1.ID, strings.ToUpper(c.Name))
		isErr(e.t, "create with a taken name in another case", e.s.CreateFlexCluster(e.ctx, &upper), flexd.ErrConflict)
		dupID := newCluster(p1.ID, next("cluster"))
		dupID.ID = c.ID
		isErr(e.t, "create with a taken id", e.s.CreateFlexCluster(e.ctx, &dupID), flexd.ErrConflict)
		other := newCluster(p2.ID, c.Name)
		ok(e.t, "same name in another project", e.s.CreateFlexCluster(e.ctx, &other))
		orphan := newCluster(newID(), next("cluster"))
		isErr(e.t, "create in a missing project", e.s.CreateFlexCluster(e.ctx, &orphan), flexd.ErrNotFound)

		_, err := e.s.GetFlexCluster(e.ctx, p1.ID, "nope")
		isErr(e.t, "get missing name", err, flexd.ErrNotFound)
		_, err = e.s.GetFlexCluster(e.ctx, newID(), c.Name)
		isErr(e.t, "get name in a missing project", err, flexd.ErrNotFound)
		_, err = e.s.GetFlexClusterByID(e.ctx, newID())
		isErr(e.t, "get missing id", err, flexd.ErrNotFound)
		missing := newCluster(p1.ID, "missing")
		isErr(e.t, "update missing", e.s.UpdateFlexCluster(e.ctx, &missing), flexd.ErrNotFound)
		isErr(e.t, "delete missing", e.s.DeleteFlexCluster(e.ctx, missing.ID), flexd.ErrNotFound)
	}},
	{"FlexClusters/Update", func(e *env) {
		c := e.cluster(nil)
		u := c
		u.StateName = flexd.ClusterUpdating
		u.Tags = []flexd.Tag{{Key: "x", Value: "y"}, {Key: "x", Value: "z"}}
		u.TerminationProtectionEnabled = true
		u.MongoDBVersion = "8.0.5"
		// Not mutable: the store keeps what it has.
		u.Name, u.GroupID, u.RegionName, u.BackingProviderName = "renamed", newID(), "EU_WEST_1", "AZURE"
		u.DiskSizeGB, u.CreateDate = 10, t0.Add(time.Hour)
		u.SrvConnectionString = "y"
		// The data plane's endpoint: its port and connection string.
		u.Port, u.StandardConnectionString = 27123, "mongodb://127.0.0.1:27123/"
		ok(e.t, "UpdateFlexCluster", e.s.UpdateFlexCluster(e.ctx, &u))
		got, err := e.s.GetFlexClusterByID(e.ctx, c.ID)
		ok(e.t, "GetFlexClusterByID", err)
		want := c
		want.StateName, want.Tags, want.TerminationProtectionEnabled, want.MongoDBVersion =
			u.StateName, u.Tags, true, "8.0.5"
		want.Port, want.StandardConnectionString = u.Port, u.StandardConnectionString
		equal(e.t, "after update", *got, want)

		u = *got
		u.Tags, u.TerminationProtectionEnabled = []flexd.Tag{}, false
		ok(e.t, "UpdateFlexCluster", e.s.UpdateFlexCluster(e.ctx, &u))
		got, _ = e.s.GetFlexClusterByID(e.ctx, c.ID)
		if got.Tags != nil || got.TerminationProtectionEnabled {
			e.t.Fatalf("after clearing: %+v", got)
		}
	}},
	{"FlexClusters/ListInCreationOrder", func(e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		// Ids run c1 < c2 < c3, creation dates c2 = c3 < c1: creation date
		// decides, the id breaks the tie.
		mk := func(created time.Time) flexd.FlexCluster {
			c := newCluster(p.ID, next("cluster"))
			c.CreateDate = created
			ok(e.t, "CreateFlexCluster", e.s.CreateFlexCluster(e.ctx, &c))
			return c
		}
		c1 := mk(t0.Add(10 * time.Second))
		c2 := mk(t0.Add(5 * time.Second))
		c3 := mk(t0.Add(5 * time.Second))
		e.cluster(&other)
		items, total := listAll(e.t, clusterLister(e, p.ID))
		equal(e.t, "clusters", items, []flexd.FlexCluster{c2, c3, c1})
		if total != 3 {
			e.t.Fatalf("total %d, want 3", total)
		}
		items, total = listAll(e.t, clusterLister(e, newID()))
		if len(items) != 0 || total != 0 {
			e.t.Fatalf("missing project: %d items, total %d", len(items), total)
		}
	}},
	{"FlexClusters/DeleteRemovesBackups", func(e *env) {
		p := e.project(e.org().ID)
		a, b := e.cluster(&p), e.cluster(&p)
		snA1, snA2, snB := e.snapshot(a), e.snapshot(a), e.snapshot(b)
		jobA := e.restoreJob(a, snA1, flexd.DeliveryRestore)
		dlA := e.restoreJob(a, snA2, flexd.DeliveryDownload)
		jobB := e.restoreJob(b, snB, flexd.DeliveryDownload)

		ok(e.t, "DeleteFlexCluster", e.s.DeleteFlexCluster(e.ctx, a.ID))
		_, err := e.s.GetFlexClusterByID(e.ctx, a.ID)
		isErr(e.t, "get deleted", err, flexd.ErrNotFound)
		_, err = e.s.GetFlexCluster(e.ctx, p.ID, a.Name)
		isErr(e.t, "get deleted by name", err, flexd.ErrNotFound)
		for _, sn := range []flexd.Snapshot{snA1, snA2} {
			_, err = e.s.GetSnapshot(e.ctx, a.ID, sn.ID)
			isErr(e.t, "get deleted cluster's snapshot", err, flexd.ErrNotFound)
		}
		for _, j := range []flexd.RestoreJob{jobA, dlA} {
			_, err = e.s.GetRestoreJob(e.ctx, a.ID, j.ID)
			isErr(e.t, "get deleted cluster's job", err, flexd.ErrNotFound)
		}
		_, err = e.s.GetDownload(e.ctx, dlA.DownloadToken)
		isErr(e.t, "deleted cluster's download", err, flexd.ErrNotFound)
		if sns, n := listAll(e.t, snapshotLister(e, a.ID)); len(sns) != 0 || n != 0 {
			e.t.Fatalf("deleted cluster still lists %d snapshots (total %d)", len(sns), n)
		}
		if js, n := listAll(e.t, restoreJobLister(e, a.ID)); len(js) != 0 || n != 0 {
			e.t.Fatalf("deleted cluster still lists %d jobs (total %d)", len(js), n)
		}

		// The other cluster keeps everything.
		sns, _ := listAll(e.t, snapshotLister(e, b.ID))
		equal(e.t, "other cluster's snapshots", sns, []flexd.Snapshot{snB})
		js, _ := listAll(e.t, restoreJobLister(e, b.ID))
		equal(e.t, "other cluster's jobs", js, []flexd.RestoreJob{jobB})
		got, err := e.s.GetDownload(e.ctx, jobB.DownloadToken)
		ok(e.t, "other cluster's download", err)
		equal(e.t, "other cluster's download", *got, jobB)

		// The name is free again, and the project counts one cluster.
		again := newCluster(p.ID, a.Name)
		ok(e.t, "recreate", e.s.CreateFlexCluster(e.ctx, &again))
		if sns, _ := listAll(e.t, snapshotLister(e, again.ID)); len(sns) != 0 {
			e.t.Fatalf("recreated cluster inherits %d snapshots", len(sns))
		}
		gp, err := e.s.GetProject(e.ctx, p.ID)
		ok(e.t, "GetProject", err)
		if gp.ClusterCount != 2 {
			e.t.Fatalf("cluster count %d, want 2", gp.ClusterCount)
		}
	}},
}

package storetest

import (
	"time"

	"github.com/flexd/flexd"
)

var restoreJobTests = []subtest{
	{"RestoreJobs/RoundTrip", func(e *env) {
		c := e.cluster(nil)
		sn := e.snapshot(c)
		for _, d := range []flexd.DeliveryType{flexd.DeliveryRestore, flexd.DeliveryDownload} {
			j := newRestoreJob(c, sn.ID, d)
			j.FailureReason = "reason"
			ok(e.t, "CreateRestoreJob", e.s.CreateRestoreJob(e.ctx, &j))
			want := j
			want.RestoreScheduledDate, want.SnapshotFinishedDate = stored(t0), stored(t0)
			if d == flexd.DeliveryDownload {
				want.ExpirationDate = stored(t0.Add(time.Hour))
			}
			equal(e.t, string(d)+" after create", j, want)
			got, err := e.s.GetRestoreJob(e.ctx, c.ID, j.ID)
			ok(e.t, "GetRestoreJob", err)
			equal(e.t, string(d)+" get", *got, want)
			if !got.RestoreFinishedDate.IsZero() {
				e.t.Fatalf("unset RestoreFinishedDate read back as %v", got.RestoreFinishedDate)
			}
		}
	}},
	{"RestoreJobs/Errors", func(e *env) {
		c, other := e.cluster(nil), e.cluster(nil)
		sn := e.snapshot(c)
		dl := e.restoreJob(c, sn, flexd.DeliveryDownload)
		dup := newRestoreJob(c, sn.ID, flexd.DeliveryRestore)
		dup.ID = dl.ID
		isErr(e.t, "create with a taken id", e.s.CreateRestoreJob(e.ctx, &dup), flexd.ErrConflict)
		sameToken := newRestoreJob(c, sn.ID, flexd.DeliveryDownload)
		sameToken.DownloadToken = dl.DownloadToken
		// No two jobs share a token: a taken one is refused, or (a store
		// that derives tokens from the job's id) replaced.
		if err := e.s.CreateRestoreJob(e.ctx, &sameToken); err == nil {
			if sameToken.DownloadToken == dl.DownloadToken {
				e.t.Error("two download jobs share a token")
			}
		} else {
			isErr(e.t, "create with a taken token", err, flexd.ErrConflict)
		}
		// Jobs without a token do not collide on it.
		e.restoreJob(c, sn, flexd.DeliveryRestore)
		e.restoreJob(c, sn, flexd.DeliveryRestore)
		orphan := newRestoreJob(c, sn.ID, flexd.DeliveryRestore)
		orphan.ClusterID = newID()
		isErr(e.t, "create for a missing cluster", e.s.CreateRestoreJob(e.ctx, &orphan), flexd.ErrNotFound)

		_, err := e.s.GetRestoreJob(e.ctx, c.ID, newID())
		isErr(e.t, "get missing", err, flexd.ErrNotFound)
		_, err = e.s.GetRestoreJob(e.ctx, other.ID, dl.ID)
		isErr(e.t, "get through another cluster", err, flexd.ErrNotFound)
		missing := newRestoreJob(c, sn.ID, flexd.DeliveryRestore)
		isErr(e.t, "update missing", e.s.UpdateRestoreJob(e.ctx, &missing), flexd.ErrNotFound)
	}},
	{"RestoreJobs/GetDownload", func(e *env) {
		c := e.cluster(nil)
		sn := e.snapshot(c)
		restore := e.restoreJob(c, sn, flexd.DeliveryRestore)
		dl1, dl2 := e.restoreJob(c, sn, flexd.DeliveryDownload), e.restoreJob(c, sn, flexd.DeliveryDownload)
		for _, want := range []flexd.RestoreJob{dl1, dl2} {
			got, err := e.s.GetDownload(e.ctx, want.DownloadToken)
			ok(e.t, "GetDownload", err)
			equal(e.t, "download", *got, want)
		}
		_, err := e.s.GetDownload(e.ctx, "unknown-token")
		isErr(e.t, "unknown token", err, flexd.ErrNotFound)
		_, err = e.s.GetDownload(e.ctx, "")
		isErr(e.t, "empty token (restore "+restore.ID+" has none)", err, flexd.ErrNotFound)
		// A token finds DOWNLOAD jobs only.
		odd := newRestoreJob(c, sn.ID, flexd.DeliveryRestore)
		odd.DownloadToken = next("token")
		ok(e.t, "CreateRestoreJob", e.s.CreateRestoreJob(e.ctx, &odd))
		_, err = e.s.GetDownload(e.ctx, odd.DownloadToken)
		isErr(e.t, "token of a RESTORE job", err, flexd.ErrNotFound)
	}},
	{"RestoreJobs/Update", func(e *env) {
		c := e.cluster(nil)
		sn := e.snapshot(c)
		j := e.restoreJob(c, sn, flexd.DeliveryDownload)
		u := j
		u.Status = flexd.StatusFailed
		u.ExpirationDate = t0.Add(2 * time.Hour)
		u.RestoreScheduledDate, u.SnapshotFinishedDate = t0.Add(time.Second), t0.Add(2*time.Second)
		u.RestoreFinishedDate = t0.Add(time.Minute)
		u.FailureReason = "disk full"
		// Not written.
		u.SnapshotID, u.InstanceName, u.DownloadToken, u.TargetDeploymentItemName = newID(), "x", "other", "y"
		ok(e.t, "UpdateRestoreJob", e.s.UpdateRestoreJob(e.ctx, &u))
		want := j
		want.Status, want.FailureReason = flexd.StatusFailed, "disk full"
		want.ExpirationDate = stored(u.ExpirationDate)
		want.RestoreScheduledDate, want.SnapshotFinishedDate = stored(u.RestoreScheduledDate), stored(u.SnapshotFinishedDate)
		want.RestoreFinishedDate = stored(u.RestoreFinishedDate)
		got, err := e.s.GetRestoreJob(e.ctx, c.ID, j.ID)
		ok(e.t, "GetRestoreJob", err)
		equal(e.t, "after update", *got, want)
		got, err = e.s.GetDownload(e.ctx, j.DownloadToken)
		ok(e.t, "GetDownload", err)
		equal(e.t, "download after update", *got, want)
	}},
	{"RestoreJobs/ListPerClusterNewestFirst", func(e *env) {
		p := e.project(e.org().ID)
		a, b := e.cluster(&p), e.cluster(&p)
		snA, snB := e.snapshot(a), e.snapshot(b)
		var wantA, wantB []flexd.RestoreJob
		for i := range 6 {
			d := flexd.DeliveryRestore
			if i%3 == 0 {
				d = flexd.DeliveryDownload
			}
			// Interleaved, so that a list that ignored the cluster or
			// sorted by anything but id would show it.
			wantA = append([]flexd.RestoreJob{e.restoreJob(a, snA, d)}, wantA...)
			wantB = append([]flexd.RestoreJob{e.restoreJob(b, snB, d)}, wantB...)
		}
		gotA, totalA := listAll(e.t, restoreJobLister(e, a.ID))
		equal(e.t, "cluster a", gotA, wantA)
		gotB, totalB := listAll(e.t, restoreJobLister(e, b.ID))
		equal(e.t, "cluster b", gotB, wantB)
		if totalA != 6 || totalB != 6 {
			e.t.Fatalf("totals %d, %d; want 6, 6", totalA, totalB)
		}
		page, total, err := e.s.ListRestoreJobs(e.ctx, a.ID, flexd.Page{Num: 2, ItemsPerPage: 4, Count: true})
		ok(e.t, "ListRestoreJobs", err)
		equal(e.t, "second page of a", page, wantA[4:])
		if total != 6 {
			e.t.Fatalf("total %d, want 6", total)
		}
	}},
}

package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/sqlstore"
	"github.com/flexd/flexd/storetest"
)

// TestCachedStore runs the whole store contract through the read cache:
// every read that follows a write in the suite must see the write, so a
// cache that missed an invalidation fails here.
func TestCachedStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) flexd.Store { return sqlstore.NewCached(open(t)) })
}

// cachedFixture is a cached store holding a project, a cluster with a
// completed snapshot and one restore job.
type cachedFixture struct {
	s       *sqlstore.Cached
	project flexd.Project
	cluster flexd.FlexCluster
	snap    flexd.Snapshot
}

func newCachedFixture(t *testing.T) *cachedFixture {
	t.Helper()
	ctx := t.Context()
	s := sqlstore.NewCached(open(t))
	now := time.Now().UTC().Truncate(time.Second)
	org := flexd.Organization{ID: flexd.NewID(now), Name: "o", Created: now}
	f := &cachedFixture{s: s,
		project: flexd.Project{ID: flexd.NewID(now), OrgID: org.ID, Name: "p", Created: now},
	}
	f.cluster = flexd.FlexCluster{ID: flexd.NewID(now), GroupID: f.project.ID, Name: "c", BackingProviderName: "AWS",
		RegionName: "US_EAST_1", StateName: flexd.ClusterIdle, CreateDate: now}
	f.snap = flexd.Snapshot{ID: flexd.NewID(now), GroupID: f.project.ID, ClusterID: f.cluster.ID, ClusterName: "c",
		Status: flexd.StatusCompleted, ScheduledTime: now}
	must(t, s.CreateOrganization(ctx, &org))
	must(t, s.CreateProject(ctx, &f.project))
	must(t, s.CreateFlexCluster(ctx, &f.cluster))
	must(t, s.CreateSnapshot(ctx, &f.snap))
	f.job(t)
	return f
}

func (f *cachedFixture) job(t *testing.T) *flexd.RestoreJob {
	t.Helper()
	now := time.Now()
	j := &flexd.RestoreJob{ID: flexd.NewID(now), ProjectID: f.project.ID, ClusterID: f.cluster.ID, InstanceName: "c",
		SnapshotID: f.snap.ID, DeliveryType: flexd.DeliveryRestore, Status: flexd.StatusPending,
		TargetProjectID: f.project.ID, TargetDeploymentItemName: "c", RestoreScheduledDate: now}
	must(t, f.s.CreateRestoreJob(t.Context(), j))
	return j
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var firstPage = flexd.Page{Num: 1, ItemsPerPage: 100, Count: true}

// TestCachedPages: a page is the caller's to change, and any change to a
// job of the cluster shows on the next read.
func TestCachedPages(t *testing.T) {
	f := newCachedFixture(t)
	ctx := t.Context()
	a, _, err := f.s.ListRestoreJobs(ctx, f.cluster.ID, firstPage)
	must(t, err)
	a[0].Status = flexd.StatusFailed
	b, _, err := f.s.ListRestoreJobs(ctx, f.cluster.ID, firstPage)
	must(t, err)
	if b[0].Status != flexd.StatusPending {
		t.Errorf("a caller's change leaked into the cached page: %v", b[0].Status)
	}

	j := b[0]
	j.Status = flexd.StatusCompleted
	must(t, f.s.UpdateRestoreJob(ctx, &j))
	c, _, err := f.s.ListRestoreJobs(ctx, f.cluster.ID, firstPage)
	must(t, err)
	if c[0].Status != flexd.StatusCompleted {
		t.Errorf("after an update the page is stale: %v", c[0].Status)
	}

	f.job(t)
	d, total, err := f.s.ListRestoreJobs(ctx, f.cluster.ID, firstPage)
	must(t, err)
	if len(d) != 2 || total != 2 {
		t.Errorf("after a create: %d jobs, total %d; want 2", len(d), total)
	}
}

// TestCachedSeesWritesOfOtherHandles: writes made through the plain store
// (as the lifecycle engine does), in a transaction or not, invalidate what
// the cached store holds.
func TestCachedSeesWritesOfOtherHandles(t *testing.T) {
	f := newCachedFixture(t)
	ctx := t.Context()
	plain := f.s.Store
	if _, err := f.s.GetFlexCluster(ctx, f.project.ID, "c"); err != nil {
		t.Fatal(err)
	}
	c := f.cluster
	c.StateName = flexd.ClusterUpdating
	must(t, plain.UpdateFlexCluster(ctx, &c))
	got, err := f.s.GetFlexCluster(ctx, f.project.ID, "c")
	must(t, err)
	if got.StateName != flexd.ClusterUpdating {
		t.Errorf("cluster state %s after an update through the plain store", got.StateName)
	}

	// A transactional write: StartNextRestore moves a QUEUED job RUNNING.
	jobs, _, err := f.s.ListRestoreJobs(ctx, f.cluster.ID, firstPage)
	must(t, err)
	j := jobs[0]
	j.Status = flexd.StatusQueued
	must(t, plain.UpdateRestoreJob(ctx, &j))
	started, err := plain.StartNextRestore(ctx, f.project.ID, "c", time.Now())
	must(t, err)
	if started == nil {
		t.Fatal("no restore started")
	}
	jobs, _, err = f.s.ListRestoreJobs(ctx, f.cluster.ID, firstPage)
	must(t, err)
	if jobs[0].Status != flexd.StatusRunning {
		t.Errorf("job %s after a transaction started it", jobs[0].Status)
	}
}

// TestCachedRevocationIsImmediate: a revoked token reads as revoked on the
// very next read, as does a deleted cluster as gone.
func TestCachedRevocationIsImmediate(t *testing.T) {
	f := newCachedFixture(t)
	ctx := t.Context()
	tok := &flexd.AccessToken{Digest: "d1", Subject: "sa", ExpiresAt: time.Now().Add(time.Hour)}
	if err := f.s.CreateAccessToken(ctx, tok); err != nil {
		t.Skipf("token store: %v", err) // needs a service account in some schemas
	}
	got, err := f.s.GetAccessToken(ctx, "d1")
	must(t, err)
	if got.Revoked {
		t.Fatal("revoked at birth")
	}
	must(t, f.s.RevokeAccessToken(ctx, "sa", "d1"))
	got, err = f.s.GetAccessToken(ctx, "d1")
	must(t, err)
	if !got.Revoked {
		t.Error("revocation did not take effect at once")
	}
}

// TestCachedCopies: what a Get returns is the caller's to change.
func TestCachedCopies(t *testing.T) {
	f := newCachedFixture(t)
	ctx := context.Background()
	p, err := f.s.GetProject(ctx, f.project.ID)
	must(t, err)
	p.Name = "changed"
	p.Tags = append(p.Tags, flexd.Tag{Key: "k", Value: "v"})
	again, err := f.s.GetProject(ctx, f.project.ID)
	must(t, err)
	if again.Name != "p" || len(again.Tags) != 0 {
		t.Errorf("a caller's change leaked into the cache: %+v", again)
	}
}

// TestWritesChangeOnlyTheirParents: a write moves the versions of the
// parents of what it wrote and no others, so it costs the caches of
// everything else nothing: a job of one cluster leaves another cluster's
// pages valid, and a DELETE of rows no cache holds (expired nonces, as
// well as the lifecycle's timers) leaves cached credentials valid. Before,
// any DELETE counted as a write to every table.
func TestWritesChangeOnlyTheirParents(t *testing.T) {
	f := newCachedFixture(t)
	ctx := t.Context()
	vs := f.s.Versions()
	other := flexd.FlexCluster{ID: flexd.NewID(time.Now()), GroupID: f.project.ID, Name: "d", BackingProviderName: "AWS",
		RegionName: "US_EAST_1", StateName: flexd.ClusterIdle, CreateDate: time.Now()}
	must(t, f.s.CreateFlexCluster(ctx, &other))
	credential := flexd.CredentialParent("mdb_sa_id_000000000000000000000000")

	mark := vs.Mark()
	f.job(t)
	if !vs.ChangedSince(mark, flexd.ClusterParent(f.cluster.ID)) {
		t.Error("a new job did not change its cluster")
	}
	if vs.ChangedSince(mark, flexd.ClusterParent(other.ID), flexd.ProjectParent(f.project.ID), credential) {
		t.Error("a new job changed another cluster, the project or a credential")
	}

	mark = vs.Mark()
	_, err := f.s.UseNonce(ctx, "n", 1, time.Now().Add(time.Minute))
	must(t, err)
	must(t, f.s.DeleteExpiredCredentials(ctx, time.Now().Add(time.Hour)))
	if vs.ChangedSince(mark, credential, flexd.ClusterParent(f.cluster.ID), flexd.ProjectParent(f.project.ID)) {
		t.Error("a write to a table no cache reads changed what the caches hold")
	}
}

// TestWritesTouchTheRowsParent: an update changes the parent the row has,
// whatever the value passed says, so a caller holding a partly filled
// job or snapshot cannot leave a cached page stale.
func TestWritesTouchTheRowsParent(t *testing.T) {
	f := newCachedFixture(t)
	ctx := t.Context()
	jobs, _, err := f.s.ListRestoreJobs(ctx, f.cluster.ID, firstPage)
	must(t, err)
	j := jobs[0]
	j.ClusterID, j.Status = "", flexd.StatusFailed
	must(t, f.s.UpdateRestoreJob(ctx, &j))
	jobs, _, err = f.s.ListRestoreJobs(ctx, f.cluster.ID, firstPage)
	must(t, err)
	if jobs[0].Status != flexd.StatusFailed {
		t.Errorf("jobs stale after an update naming no cluster: %s", jobs[0].Status)
	}

	snaps, _, err := f.s.ListSnapshots(ctx, f.cluster.ID, firstPage)
	must(t, err)
	sn := snaps[0]
	sn.ClusterID, sn.Status = "", flexd.StatusFailed
	must(t, f.s.UpdateSnapshot(ctx, &sn))
	snaps, _, err = f.s.ListSnapshots(ctx, f.cluster.ID, firstPage)
	must(t, err)
	if snaps[0].Status != flexd.StatusFailed {
		t.Errorf("snapshots stale after an update naming no cluster: %s", snaps[0].Status)
	}
}

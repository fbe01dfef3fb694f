package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/flexd/flexd"
)

// RunPersistence checks that data outlives the store that wrote it, as
// across a restart: reopen must open the same database on every call (and
// migrate it, as the backend's Open does); the suite closes each store it
// gets. It also checks that reopening a migrated database is harmless.
func RunPersistence(t *testing.T, reopen func(t *testing.T) flexd.Store) {
	e := &env{t: t, s: reopen(t), ctx: t.Context()}
	o := e.org()
	p := e.project(o.ID)
	c := e.cluster(&p)
	sn := e.snapshot(c)
	j := e.restoreJob(c, sn, flexd.DeliveryDownload)
	p.ClusterCount = 1
	ok(t, "Close", e.s.Close())

	for range 2 {
		s := reopen(t)
		gotO, err := s.GetOrganization(e.ctx, o.ID)
		ok(t, "GetOrganization", err)
		equal(t, "organization", *gotO, o)
		gotP, err := s.GetProject(e.ctx, p.ID)
		ok(t, "GetProject", err)
		equal(t, "project", *gotP, p)
		gotC, err := s.GetFlexCluster(e.ctx, p.ID, c.Name)
		ok(t, "GetFlexCluster", err)
		equal(t, "cluster", *gotC, c)
		gotS, err := s.GetSnapshot(e.ctx, c.ID, sn.ID)
		ok(t, "GetSnapshot", err)
		equal(t, "snapshot", *gotS, sn)
		gotJ, err := s.GetDownload(e.ctx, j.DownloadToken)
		ok(t, "GetDownload", err)
		equal(t, "download", *gotJ, j)
		ok(t, "Close", s.Close())
	}
}

// concurrentOpens is how many stores RunConcurrentOpen opens at once.
const concurrentOpens = 4

// RunConcurrentOpen opens several stores on one new database at once, as
// processes starting together do: every open must succeed (migrating the
// schema once between them, whoever gets there first) and each store must
// see what the others write. open must open the same database on every
// call; the suite closes the stores.
func RunConcurrentOpen(t *testing.T, open func(ctx context.Context) (flexd.Store, error)) {
	stores := make([]flexd.Store, concurrentOpens)
	errs := make([]error, concurrentOpens)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = open(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Cleanup(func() { _ = stores[i].Close() })
		}
	}
	for i, err := range errs {
		ok(t, fmt.Sprintf("open %d", i), err)
	}
	var want []string
	for _, s := range stores {
		want = append(want, (&env{t: t, s: s, ctx: t.Context()}).org().ID)
	}
	for i, s := range stores {
		got := listIDs(t, func(p flexd.Page) ([]flexd.Organization, int, error) {
			return s.ListOrganizations(t.Context(), flexd.OrganizationFilter{}, p)
		}, orgID)
		sameIDs(t, fmt.Sprintf("organizations seen by store %d", i), got, want)
	}
}

package storetest

import (
	"slices"
	"testing"

	"github.com/flexd/flexd"
)

// lister is one store list bound to its parent and filter.
type lister[T any] func(p flexd.Page) ([]T, int, error)

// checkPaging lists through list page by page with several page sizes and
// checks every page against want (the ids in list order), every total, and
// what lies past the end.
func checkPaging[T any](t *testing.T, list lister[T], id func(T) string, want []string) {
	t.Helper()
	n := len(want)
	page := func(num, per int, count bool) ([]string, int) {
		t.Helper()
		items, total, err := list(flexd.Page{Num: num, ItemsPerPage: per, Count: count})
		ok(t, "list", err)
		if items == nil {
			t.Fatalf("page %d of %d: nil slice, want non-nil", num, per)
		}
		return ids(items, id), total
	}

	// Every page size walks the same sequence, without gaps or repeats,
	// and every page, even past the end, carries the same total.
	for _, per := range []int{1, 2, 3, max(n, 1), n + 1, 100} {
		var walked []string
		for num := 1; num <= n/per+2; num++ {
			got, total := page(num, per, true)
			if total != n {
				t.Fatalf("page %d of %d: total %d, want %d", num, per, total, n)
			}
			from, to := min((num-1)*per, n), min(num*per, n)
			sameIDs(t, "page items", got, want[from:to])
			walked = append(walked, got...)
		}
		sameIDs(t, "walked", walked, want)
	}

	// Without Count the total is NoCount, whether the page is full,
	// partial or empty.
	for _, num := range []int{1, 2, n + 5} {
		if _, total := page(num, 2, false); total != flexd.NoCount {
			t.Fatalf("page %d without count: total %d, want NoCount", num, total)
		}
	}

	// With Peek a page comes with the first item of the next one, if
	// any, and the total is unchanged.
	for _, per := range []int{1, 2, max(n, 1), n + 1} {
		for num := 1; num <= n/per+1; num++ {
			for _, count := range []bool{true, false} {
				items, total, err := list(flexd.Page{Num: num, ItemsPerPage: per, Count: count, Peek: true})
				ok(t, "list with peek", err)
				from, to := min((num-1)*per, n), min(num*per+1, n)
				sameIDs(t, "page with peek", ids(items, id), want[from:to])
				if wantTotal := map[bool]int{true: n, false: flexd.NoCount}[count]; total != wantTotal {
					t.Fatalf("page %d of %d with peek: total %d, want %d", num, per, total, wantTotal)
				}
			}
		}
	}

	// A zero Page is the first page of the default size (100).
	got, total := page(0, 0, false)
	sameIDs(t, "zero page", got, want[:min(n, 100)])
	if total != flexd.NoCount {
		t.Fatalf("zero page: total %d, want NoCount", total)
	}
}

var pagingTests = []subtest{
	{"Paging/Organizations", func(e *env) {
		var want []string
		checkPaging(e.t, orgLister(e, flexd.OrganizationFilter{}), orgID, want)
		for range 5 {
			want = append(want, e.org().ID)
		}
		checkPaging(e.t, orgLister(e, flexd.OrganizationFilter{}), orgID, want)
	}},
	{"Paging/Projects", func(e *env) {
		o := e.org()
		f := flexd.ProjectFilter{OrgID: o.ID}
		var want []string
		checkPaging(e.t, projectLister(e, f), projectID, want)
		for range 5 {
			want = append(want, e.project(o.ID).ID)
		}
		checkPaging(e.t, projectLister(e, f), projectID, want)
	}},
	{"Paging/FlexClusters", func(e *env) {
		p := e.project(e.org().ID)
		var want []string
		checkPaging(e.t, clusterLister(e, p.ID), clusterID, want)
		for range 5 {
			want = append(want, e.cluster(&p).ID)
		}
		checkPaging(e.t, clusterLister(e, p.ID), clusterID, want)
	}},
	{"Paging/Snapshots", func(e *env) {
		c := e.cluster(nil)
		var want []string
		checkPaging(e.t, snapshotLister(e, c.ID), snapshotID, want)
		for range 5 {
			want = slices.Insert(want, 0, e.snapshot(c).ID) // newest first
		}
		checkPaging(e.t, snapshotLister(e, c.ID), snapshotID, want)
	}},
	{"Paging/RestoreJobs", func(e *env) {
		c := e.cluster(nil)
		sn := e.snapshot(c)
		var want []string
		checkPaging(e.t, restoreJobLister(e, c.ID), restoreJobID, want)
		for i := range 5 {
			d := flexd.DeliveryRestore
			if i%2 == 0 {
				d = flexd.DeliveryDownload
			}
			want = slices.Insert(want, 0, e.restoreJob(c, sn, d).ID) // newest first
		}
		checkPaging(e.t, restoreJobLister(e, c.ID), restoreJobID, want)
	}},
}

func orgID(o flexd.Organization) string      { return o.ID }
func projectID(p flexd.Project) string       { return p.ID }
func clusterID(c flexd.FlexCluster) string   { return c.ID }
func snapshotID(s flexd.Snapshot) string     { return s.ID }
func restoreJobID(j flexd.RestoreJob) string { return j.ID }

func orgLister(e *env, f flexd.OrganizationFilter) lister[flexd.Organization] {
	return func(p flexd.Page) ([]flexd.Organization, int, error) { return e.s.ListOrganizations(e.ctx, f, p) }
}

func projectLister(e *env, f flexd.ProjectFilter) lister[flexd.Project] {
	return func(p flexd.Page) ([]flexd.Project, int, error) { return e.s.ListProjects(e.ctx, f, p) }
}

func clusterLister(e *env, groupID string) lister[flexd.FlexCluster] {
	return func(p flexd.Page) ([]flexd.FlexCluster, int, error) { return e.s.ListFlexClusters(e.ctx, groupID, p) }
}

func snapshotLister(e *env, clusterID string) lister[flexd.Snapshot] {
	return func(p flexd.Page) ([]flexd.Snapshot, int, error) { return e.s.ListSnapshots(e.ctx, clusterID, p) }
}

func restoreJobLister(e *env, clusterID string) lister[flexd.RestoreJob] {
	return func(p flexd.Page) ([]flexd.RestoreJob, int, error) { return e.s.ListRestoreJobs(e.ctx, clusterID, p) }
}

// listIDs returns the ids of every item list has, checking that the count
// agrees.
func listIDs[T any](t *testing.T, list lister[T], id func(T) string) []string {
	t.Helper()
	items, total := listAll(t, list)
	if total != len(items) {
		t.Fatalf("total %d for %d items", total, len(items))
	}
	return ids(items, id)
}

// listAll returns every item list has, with the count, failing on error.
func listAll[T any](t *testing.T, list lister[T]) ([]T, int) {
	t.Helper()
	items, total, err := list(all)
	ok(t, "list", err)
	return items, total
}

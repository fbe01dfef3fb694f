// Package storetest is the contract every flexd.Store implementation must
// meet, written once and run against each backend (sqlite, postgres), so
// that the backends cannot drift apart.
//
// Conventions the suite pins down for all backends:
//   - Times read back in UTC, in whole seconds; the zero time reads back as
//     the zero time.
//   - No tags, whether written as nil or as an empty slice, read back as nil.
//   - Lists never return a nil slice; an empty page is an empty slice.
//   - A Create leaves in its argument exactly what a later Get returns.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexd/flexd"
)

// Run runs the contract suite. open must return a new, empty, migrated store
// for each call and arrange its own cleanup (t.Cleanup); the subtests run in
// parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) flexd.Store) {
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(&env{t: t, s: open(t), ctx: t.Context()})
		})
	}
}

// suite lists every subtest; each file adds its resource's tests.
var suite = concat(organizationTests, projectTests, flexClusterTests, snapshotTests,
	restoreJobTests, pagingTests, concurrencyTests, identityTests, instanceTests, databaseAccessTests)

type subtest struct {
	name string
	fn   func(e *env)
}

func concat(groups ...[]subtest) []subtest {
	var all []subtest
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

// env is one subtest's store and the fixtures that fill it.
type env struct {
	t   *testing.T
	s   flexd.Store
	ctx context.Context
}

// seq makes names unique across the parallel subtests.
var seq atomic.Int64

func next(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// t0 is a time with everything a store must normalize: a zone other than
// UTC and a fraction of a second.
var t0 = time.Date(2025, 6, 1, 14, 30, 15, 123456789, time.FixedZone("CEST", 2*60*60))

// stored is t as a store returns it.
func stored(t time.Time) time.Time { return t.Truncate(time.Second).UTC() }

func newID() string { return flexd.NewID(time.Now()) }

func (e *env) org() flexd.Organization {
	e.t.Helper()
	o := flexd.Organization{ID: newID(), Name: next("org"), Created: t0}
	if err := e.s.CreateOrganization(e.ctx, &o); err != nil {
		e.t.Fatalf("CreateOrganization: %v", err)
	}
	return o
}

func (e *env) project(orgID string) flexd.Project {
	e.t.Helper()
	p := flexd.Project{ID: newID(), OrgID: orgID, Name: next("project"), Created: t0}
	if err := e.s.CreateProject(e.ctx, &p); err != nil {
		e.t.Fatalf("CreateProject: %v", err)
	}
	return p
}

// cluster creates a cluster in a new project of a new organization when p
// is nil.
func (e *env) cluster(p *flexd.Project) flexd.FlexCluster {
	e.t.Helper()
	if p == nil {
		np := e.project(e.org().ID)
		p = &np
	}
	c := newCluster(p.ID, next("cluster"))
	if err := e.s.CreateFlexCluster(e.ctx, &c); err != nil {
		e.t.Fatalf("CreateFlexCluster: %v", err)
	}
	return c
}

func newCluster(groupID, name string) flexd.FlexCluster {
	return flexd.FlexCluster{
		ID: newID(), GroupID: groupID, Name: name, BackingProviderName: "AWS",
		RegionName: "US_EAST_1", DiskSizeGB: 5, MongoDBVersion: "8.0.4", StateName: flexd.ClusterIdle,
		CreateDate: t0,
	}
}

// snapshot creates a completed snapshot of c.
func (e *env) snapshot(c flexd.FlexCluster) flexd.Snapshot {
	e.t.Helper()
	sn := newSnapshot(c, flexd.StatusCompleted)
	sn.StartTime, sn.FinishTime, sn.Expiration = t0, t0.Add(time.Minute), t0.Add(72*time.Hour)
	if err := e.s.CreateSnapshot(e.ctx, &sn); err != nil {
		e.t.Fatalf("CreateSnapshot: %v", err)
	}
	return sn
}

// newSnapshot is a snapshot of c scheduled at t0 that has not started.
func newSnapshot(c flexd.FlexCluster, status flexd.JobStatus) flexd.Snapshot {
	return flexd.Snapshot{
		ID: newID(), GroupID: c.GroupID, ClusterID: c.ID, ClusterName: c.Name,
		Status: status, MongoDBVersion: c.MongoDBVersion, ScheduledTime: t0,
	}
}

// restoreJob creates a job of c's snapshot sn: a DOWNLOAD with a fresh
// token, or a RESTORE into c itself.
func (e *env) restoreJob(c flexd.FlexCluster, sn flexd.Snapshot, d flexd.DeliveryType) flexd.RestoreJob {
	e.t.Helper()
	j := newRestoreJob(c, sn.ID, d)
	if err := e.s.CreateRestoreJob(e.ctx, &j); err != nil {
		e.t.Fatalf("CreateRestoreJob: %v", err)
	}
	return j
}

func newRestoreJob(c flexd.FlexCluster, snapshotID string, d flexd.DeliveryType) flexd.RestoreJob {
	j := flexd.RestoreJob{
		ID: newID(), ProjectID: c.GroupID, ClusterID: c.ID, InstanceName: c.Name, SnapshotID: snapshotID,
		DeliveryType: d, Status: flexd.StatusQueued, RestoreScheduledDate: t0, SnapshotFinishedDate: t0,
	}
	if d == flexd.DeliveryDownload {
		j.DownloadToken = next("token")
		j.ExpirationDate = t0.Add(time.Hour)
	} else {
		j.TargetProjectID = c.GroupID
		j.TargetDeploymentItemName = c.Name
	}
	return j
}

// equal fails unless got and want are deeply equal.
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// isErr fails unless err is (or wraps) target.
func isErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// ok fails on err.
func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// sameIDs fails unless got and want hold the same ids in the same order;
// nil and empty are the same.
func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// ids returns the ids of items, in order.
func ids[T any](items []T, id func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

// all is a page large enough for every list in the suite, with its count.
var all = flexd.Page{Num: 1, ItemsPerPage: 500, Count: true}

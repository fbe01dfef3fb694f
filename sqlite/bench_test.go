package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// BenchmarkListRestoreJobs reads one page of 100 of one cluster's restore
// jobs, with the count, as GET …/backup/restoreJobs?includeCount=true
// does. Every cluster has 100 jobs; the stores differ in how many other
// clusters' jobs they hold, which must not change the cost of the page.
func BenchmarkListRestoreJobs(b *testing.B) {
	const perCluster = 100
	for _, clusters := range []int{10, 500} {
		b.Run(fmt.Sprintf("jobs=%d", clusters*perCluster), func(b *testing.B) {
			s, target := seedRestoreJobs(b, clusters, perCluster)
			p := flexd.Page{Num: 1, ItemsPerPage: 100, Count: true}
			for b.Loop() {
				jobs, total, err := s.ListRestoreJobs(b.Context(), target, p)
				if err != nil || len(jobs) != perCluster || total != perCluster {
					b.Fatalf("%d jobs, total %d, %v", len(jobs), total, err)
				}
			}
		})
	}
}

// seedRestoreJobs fills a new store with clusters × perCluster jobs,
// interleaved across the clusters so that no cluster's rows sit together,
// and returns it with the id of a cluster in the middle.
func seedRestoreJobs(b *testing.B, clusters, perCluster int) (*sqlstore.Store, string) {
	b.Helper()
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	now := time.Now().UTC()
	o := flexd.Organization{ID: flexd.NewID(now), Name: "bench", Created: now}
	p := flexd.Project{ID: flexd.NewID(now), OrgID: o.ID, Name: "bench", Created: now}
	if err := s.CreateOrganization(ctx, &o); err != nil {
		b.Fatal(err)
	}
	if err := s.CreateProject(ctx, &p); err != nil {
		b.Fatal(err)
	}
	cs := make([]flexd.FlexCluster, clusters)
	for i := range cs {
		cs[i] = flexd.FlexCluster{ID: flexd.NewID(now), GroupID: p.ID, Name: fmt.Sprintf("c%d", i),
			StateName: flexd.ClusterIdle, CreateDate: now}
		if err := s.CreateFlexCluster(ctx, &cs[i]); err != nil {
			b.Fatal(err)
		}
	}
	for i := range perCluster {
		for _, c := range cs {
			j := flexd.RestoreJob{ID: flexd.NewID(now), ProjectID: p.ID, ClusterID: c.ID, InstanceName: c.Name,
				SnapshotID: flexd.NewID(now), DeliveryType: flexd.DeliveryRestore, Status: flexd.StatusCompleted,
				TargetProjectID: p.ID, TargetDeploymentItemName: c.Name,
				RestoreScheduledDate: now, SnapshotFinishedDate: now, RestoreFinishedDate: now}
			if i%4 == 0 {
				j.DeliveryType, j.DownloadToken, j.ExpirationDate = flexd.DeliveryDownload, j.ID, now.Add(time.Hour)
			}
			if err := s.CreateRestoreJob(ctx, &j); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s, cs[clusters/2].ID
}

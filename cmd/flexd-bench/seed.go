package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
)

// bulkCluster is a cluster the bulk loader created.
type bulkCluster struct{ group, name string }

// clustersPerProject keeps the bulk projects of a realistic size.
const clustersPerProject = 100

// bulkLoad creates clusters [from, to), each with a completed snapshot and
// perCluster completed restore jobs, in the stopped server's data
// directory. It goes through the service layer with the synchronous engine
// (jobs.NewSync), which runs each job's whole lifecycle before the call
// returns, so the rows are exactly what the API and the engine would have
// written, at the speed of the store rather than of HTTP.
func (b *bench) bulkLoad(ctx context.Context, from, to, perCluster int) error {
	t0 := time.Now()
	b.logf("bulk loading clusters %d..%d with %d restore jobs each", from, to-1, perCluster)
	store, err := sqlite.Open(ctx, filepath.Join(b.dir, "data", "flexd.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	svc := service.New(store, nil, jobs.NewSync(store, flexd.SystemClock{}, jobs.Config{}), service.Config{DownloadTTL: service.AtlasDownloadTTL})
	if err := svc.Init(ctx); err != nil {
		return err
	}
	projects := b.bulkProjects
	for i := from; i < to; i++ {
		pi := i / clustersPerProject
		if _, ok := projects[pi]; ok {
			continue
		}
		p, err := svc.CreateProject(ctx, flexd.ProjectCreate{Name: fmt.Sprintf("bulk-%05d", pi)})
		if err != nil {
			return fmt.Errorf("bulk project: %w", err)
		}
		projects[pi] = p.ID
	}
	work := make(chan int)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				bc := bulkCluster{group: projects[i/clustersPerProject], name: fmt.Sprintf("c%05d", i)}
				if err := loadCluster(ctx, svc, bc, perCluster); err != nil {
					select {
					case errc <- err:
					default:
					}
					continue
				}
				mu.Lock()
				b.bulk = append(b.bulk, bc)
				mu.Unlock()
			}
		}()
	}
	for i := from; i < to; i++ {
		select {
		case work <- i:
		case err := <-errc:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	n := (to - from) * perCluster
	el := time.Since(t0)
	b.logf("bulk loaded %d jobs in %s (%.0f jobs/s)", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	b.rep.add("5", fmt.Sprintf("bulk load %d jobs over %d clusters (service layer)", n, to-from)).Value =
		fmt.Sprintf("%.0f jobs/s", float64(n)/el.Seconds())
	return nil
}

func loadCluster(ctx context.Context, svc *service.Service, bc bulkCluster, jobs int) error {
	if _, err := svc.CreateFlexCluster(ctx, bc.group, flexd.FlexClusterCreate{
		Name: bc.name, BackingProviderName: "AWS", RegionName: "US_EAST_1"}); err != nil {
		return fmt.Errorf("bulk cluster %s: %w", bc.name, err)
	}
	snap, err := svc.TakeSnapshot(ctx, bc.group, bc.name)
	if err != nil {
		return fmt.Errorf("bulk snapshot of %s: %w", bc.name, err)
	}
	for range jobs {
		if _, err := svc.CreateRestoreJob(ctx, bc.group, bc.name, flexd.RestoreJobCreate{
			SnapshotID: snap.ID, TargetDeploymentItemName: bc.name}); err != nil {
			return fmt.Errorf("bulk restore job of %s: %w", bc.name, err)
		}
	}
	return nil
}

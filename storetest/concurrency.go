package storetest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/flexd/flexd"
)

const (
	writers          = 16
	writesPerWriter  = 25
	raceRounds       = 20
	sameNameContests = 8
)

var concurrencyTests = []subtest{
	{"Concurrency/Writers", func(e *env) {
		p := e.project(e.org().ID)
		shared := e.cluster(&p)
		sn := e.snapshot(shared)
		errs := make(chan error, writers*writesPerWriter)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range writesPerWriter {
					c := newCluster(p.ID, fmt.Sprintf("w%d-%d", w, i))
					if err := e.s.CreateFlexCluster(e.ctx, &c); err != nil {
						errs <- fmt.Errorf("CreateFlexCluster: %w", err)
						return
					}
					d := flexd.DeliveryRestore
					if i%2 == 0 {
						d = flexd.DeliveryDownload
					}
					j := newRestoreJob(shared, sn.ID, d)
					if err := e.s.CreateRestoreJob(e.ctx, &j); err != nil {
						errs <- fmt.Errorf("CreateRestoreJob: %w", err)
						return
					}
					j.Status = flexd.StatusRunning
					if err := e.s.UpdateRestoreJob(e.ctx, &j); err != nil {
						errs <- fmt.Errorf("UpdateRestoreJob: %w", err)
						return
					}
					if _, _, err := e.s.ListRestoreJobs(e.ctx, shared.ID, flexd.Page{Num: 1, ItemsPerPage: 10, Count: true}); err != nil {
						errs <- fmt.Errorf("ListRestoreJobs: %w", err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			e.t.Error(err)
		}
		if e.t.Failed() {
			return
		}
		const n = writers * writesPerWriter
		if _, total := listAll(e.t, restoreJobLister(e, shared.ID)); total != n {
			e.t.Fatalf("%d jobs, want %d", total, n)
		}
		if _, total, _ := e.s.ListFlexClusters(e.ctx, p.ID, flexd.Page{Num: 1, ItemsPerPage: 1, Count: true}); total != n+1 {
			e.t.Fatalf("%d clusters, want %d", total, n+1)
		}
	}},
	{"Concurrency/DeleteProjectWhileCreatingCluster", func(e *env) {
		o := e.org()
		for range raceRounds {
			p := e.project(o.ID)
			c := newCluster(p.ID, next("cluster"))
			var createErr, deleteErr error
			var wg sync.WaitGroup
			wg.Go(func() { createErr = e.s.CreateFlexCluster(e.ctx, &c) })
			wg.Go(func() { deleteErr = e.s.DeleteProject(e.ctx, p.ID) })
			wg.Wait()
			_, getErr := e.s.GetProject(e.ctx, p.ID)
			_, clusterErr := e.s.GetFlexClusterByID(e.ctx, c.ID)
			switch {
			case createErr == nil && errors.Is(deleteErr, flexd.ErrNotEmpty):
				// The cluster came first: both remain.
				if getErr != nil || clusterErr != nil {
					e.t.Fatalf("cluster first, yet project: %v, cluster: %v", getErr, clusterErr)
				}
			case deleteErr == nil && errors.Is(createErr, flexd.ErrNotFound):
				// The delete came first: neither remains.
				if !errors.Is(getErr, flexd.ErrNotFound) || !errors.Is(clusterErr, flexd.ErrNotFound) {
					e.t.Fatalf("delete first, yet project: %v, cluster: %v", getErr, clusterErr)
				}
			default:
				e.t.Fatalf("create: %v, delete: %v", createErr, deleteErr)
			}
		}
	}},
	{"Concurrency/SameNameOnce", func(e *env) {
		o := e.org()
		p := e.project(o.ID)
		name := next("contested")
		results := make(chan error, 2*sameNameContests)
		var wg sync.WaitGroup
		for range sameNameContests {
			wg.Go(func() {
				np := flexd.Project{ID: newID(), OrgID: o.ID, Name: name}
				results <- e.s.CreateProject(e.ctx, &np)
			})
			wg.Go(func() {
				c := newCluster(p.ID, name)
				results <- e.s.CreateFlexCluster(e.ctx, &c)
			})
		}
		wg.Wait()
		close(results)
		won := 0
		for err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, flexd.ErrConflict):
				e.t.Fatalf("create: %v, want nil or ErrConflict", err)
			}
		}
		if won != 2 {
			e.t.Fatalf("%d creates won, want one project and one cluster", won)
		}
	}},
}

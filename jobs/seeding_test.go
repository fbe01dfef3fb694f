package jobs_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
)

// TestBenchmarkSeedingNeverStrandsAJob runs the shape of flexd-bench's
// seeding (cmd/flexd-bench, bench.seed) again and again: a real clock,
// zero lifecycle knobs, a listed cluster with a snapshot, and many restores
// created at once by concurrent clients, spread over a few targets, the
// listed cluster itself among them. The benchmark used to stop on a job
// still QUEUED after five minutes: a job's own step disarmed the timer that
// the end of the restore before it had just armed to start it. Every job
// of every round must end.
func TestBenchmarkSeedingNeverStrandsAJob(t *testing.T) {
	h := newHarness(t, flexd.SystemClock{}, jobs.Config{Workers: 4})
	const rounds, restores, clients = 4, 120, 8
	targets := []string{"listed", "tgt0", "tgt1", "tgt2"}
	for _, name := range targets {
		h.createCluster(name)
	}
	eventually(t, "clusters IDLE", func() bool {
		for _, name := range targets {
			if h.state(name) != "IDLE" {
				return false
			}
		}
		return true
	})
	snap := h.takeSnapshot("listed")
	eventually(t, "snapshot", func() bool { return h.snapshots("listed")[0]["status"] == "COMPLETED" })
	for round := range rounds {
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c; i < restores; i += clients {
					status, body := h.try("POST", h.clusterPath("listed")+"/backup/restoreJobs",
						fmt.Sprintf(`{"snapshotId":"%s","targetDeploymentItemName":"%s"}`, snap, targets[i%len(targets)]))
					if status != 200 {
						t.Errorf("create restore: %d %s", status, body)
					}
				}
			}()
		}
		wg.Wait()
		deadline := time.Now().Add(30 * time.Second)
		for {
			page := h.ok(200, "GET", h.clusterPath("listed")+"/backup/restoreJobs?itemsPerPage=500", "")
			left := 0
			for _, j := range results(page) {
				if j["status"] != "COMPLETED" {
					left++
				}
			}
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d of %v jobs unfinished after 30s", round, left, page["totalCount"])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

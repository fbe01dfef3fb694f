package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/flexd/flexd/postgres/pgtest"
)

// TestTwoReplicasFinishEveryRestore is the load that left restores stuck
// with two replicas on PostgreSQL: 200 restores created concurrently on
// alternating replica processes into three targets, one of them the
// snapshot's own cluster. One replica's step used to delete the timer the
// other had just armed, leaving a job RUNNING with no work behind it and
// the rest QUEUED behind it for ever. Every job must end, every target be
// IDLE, and each restore be applied exactly once.
func TestTwoReplicasFinishEveryRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flexd binary")
	}
	dsn := pgtest.Database(t)
	bin := flexdBinary(t)
	// Replicas share the database and its secret key, each its own data
	// directory.
	env := []string{"FLEXD_SECRET_KEY=" + replicaSecretKey}
	replica := func() *process {
		return startProcessWith(t, bin, []string{"--postgres-url", dsn, "--restore-time", "0", "--data-dir", t.TempDir()}, env)
	}
	replicas := []*process{replica(), replica()}
	a := replicas[0]
	g := a.must(201, "POST", "/api/atlas/v2/groups", `{"name":"load"}`)["id"].(string)
	clusters := "/api/atlas/v2/groups/" + g + "/flexClusters"
	targets := []string{"src", "t1", "t2"}
	for _, name := range targets {
		a.must(201, "POST", clusters, `{"name":"`+name+`","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	}
	a.waitFor(t, "clusters IDLE", func() bool { return a.allIdle(clusters) })
	snap := a.must(201, "POST", "/_flexd/groups/"+g+"/flexClusters/src/snapshots", "")["id"].(string)
	a.waitFor(t, "snapshot", func() bool {
		return a.must(200, "GET", clusters+"/src/backup/snapshots/"+snap, "")["status"] == "COMPLETED"
	})

	const restores, clients = 200, 20
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < restores; i += clients {
				p := replicas[i%2]
				p.must(200, "POST", clusters+"/src/backup/restoreJobs",
					fmt.Sprintf(`{"snapshotId":"%s","targetDeploymentItemName":"%s"}`, snap, targets[i%3]))
			}
		}()
	}
	wg.Wait()

	unfinished := func(p *process) map[string]string {
		left := map[string]string{}
		for _, j := range p.must(200, "GET", clusters+"/src/backup/restoreJobs?itemsPerPage=500", "")["results"].([]any) {
			m := j.(map[string]any)
			if s := m["status"].(string); s != "COMPLETED" && s != "FAILED" {
				left[m["id"].(string)] = s + " into " + m["targetDeploymentItemName"].(string)
			}
		}
		return left
	}
	b := replicas[1]
	t.Cleanup(func() {
		for _, p := range replicas {
			for line := range strings.SplitSeq(p.logs.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Log(line) // work that failed and was retried: worth a look, not a failure
				}
			}
		}
	})
	b.waitFor(t, "every restore ended", func() bool { return len(unfinished(b)) == 0 })
	b.waitFor(t, "every target IDLE", func() bool { return b.allIdle(clusters) })
	page := a.must(200, "GET", clusters+"/src/backup/restoreJobs?itemsPerPage=500", "")
	if n := page["totalCount"]; n != float64(restores) {
		t.Fatalf("%v restore jobs, want %d", n, restores)
	}
	for _, j := range page["results"].([]any) {
		if m := j.(map[string]any); m["status"] != "COMPLETED" {
			t.Errorf("restore %s into %s: %s", m["id"], m["targetDeploymentItemName"], m["status"])
		}
	}
}

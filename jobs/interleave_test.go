package jobs_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/postgres"
	"github.com/flexd/flexd/postgres/pgtest"
)

// The interleaving tests issue create, PATCH, snapshot, restore (into the
// source itself and into others), download, delete, clock advances and
// injected faults concurrently and in a random order, through the public
// HTTP API, and then check what must hold whatever the order: every
// cluster IDLE or gone, every snapshot and job COMPLETED or FAILED, and no
// timer left for anything that is gone. Each seed is one run; a failure
// names its seed (FLEXD_INTERLEAVE_SEED=N runs that one again,
// FLEXD_INTERLEAVE_SEEDS=N runs N of them).

func interleaveSeeds(t *testing.T, def int) []uint64 {
	if s := os.Getenv("FLEXD_INTERLEAVE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return []uint64{n}
	}
	if s := os.Getenv("FLEXD_INTERLEAVE_SEEDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			def = n
		}
	}
	base := uint64(time.Now().UnixNano())
	seeds := make([]uint64, def)
	for i := range seeds {
		seeds[i] = base + uint64(i)
	}
	return seeds
}

var interleaveConfig = jobs.Config{
	ProvisionTime:     10 * time.Minute,
	DeleteTime:        3 * time.Minute,
	RestoreTime:       5 * time.Minute,
	SnapshotInterval:  time.Hour,
	SnapshotRetention: 2,
}

func TestInterleavedLifecycle(t *testing.T) {
	for _, seed := range interleaveSeeds(t, 6) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			h := newHarness(t, nil, interleaveConfig)
			interleave(t, h, seed)
		})
	}
}

func TestPostgresInterleavedLifecycle(t *testing.T) {
	for _, seed := range interleaveSeeds(t, 3) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			dsn := pgtest.Database(t)
			store, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			h := startHarness(t, store, nil, interleaveConfig, func(eng *jobs.Engine) func() {
				pool, err := pgxpool.New(t.Context(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				if err := jobs.StartOn(t.Context(), eng, postgres.QueueDriver(pool)); err != nil {
					t.Fatal(err)
				}
				return pool.Close
			})
			interleave(t, h, seed)
		})
	}
}

// interleave runs one seed's operations on h and checks the invariants.
func interleave(t *testing.T, h *harness, seed uint64) {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("interleaving seed %d failed: FLEXD_INTERLEAVE_SEED=%d go test ./jobs -run Interleaved", seed, seed)
		}
	}()
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names[:3] {
		h.createCluster(n)
	}
	h.advance("10m")
	const workers, ops = 4, 30
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for range ops {
				op := interleaveOps[r.IntN(len(interleaveOps))]
				if status, body := op(h, r, names); status >= 500 {
					t.Errorf("%d: %s", status, body)
				}
			}
		}()
	}
	wg.Wait()
	// Everything in flight ends within a day of flexd's clock.
	for range 3 {
		h.advance("8h")
	}
	checkSettled(t, h)
}

// interleaveOp is one random API call; it returns the status and body.
type interleaveOp func(h *harness, r *rand.Rand, names []string) (int, string)

var interleaveOps = []interleaveOp{
	func(h *harness, r *rand.Rand, names []string) (int, string) { // create
		return h.try("POST", "/api/atlas/v2/groups/"+h.group+"/flexClusters",
			`{"name":"`+pick(r, names)+`","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	},
	func(h *harness, r *rand.Rand, names []string) (int, string) { // patch
		return h.try("PATCH", h.clusterPath(pick(r, names)), fmt.Sprintf(`{"tags":[{"key":"k","value":"v%d"}]}`, r.IntN(100)))
	},
	func(h *harness, r *rand.Rand, names []string) (int, string) { // snapshot
		return h.try("POST", "/_flexd/groups/"+h.group+"/flexClusters/"+pick(r, names)+"/snapshots", "")
	},
	func(h *harness, r *rand.Rand, names []string) (int, string) { // restore, often into the source itself
		src := pick(r, names)
		target := src
		if r.IntN(2) == 0 {
			target = pick(r, names)
		}
		return h.try("POST", h.clusterPath(src)+"/backup/restoreJobs",
			`{"snapshotId":"`+h.someSnapshot(r, src)+`","targetDeploymentItemName":"`+target+`"}`)
	},
	func(h *harness, r *rand.Rand, names []string) (int, string) { // download
		src := pick(r, names)
		return h.try("POST", h.clusterPath(src)+"/backup/download", `{"snapshotId":"`+h.someSnapshot(r, src)+`"}`)
	},
	func(h *harness, r *rand.Rand, names []string) (int, string) { // delete
		return h.try("DELETE", h.clusterPath(pick(r, names)), "")
	},
	func(h *harness, r *rand.Rand, names []string) (int, string) { // advance
		return h.try("POST", "/_flexd/clock:advance", fmt.Sprintf(`{"by":"%dm"}`, r.IntN(15)))
	},
	func(h *harness, r *rand.Rand, names []string) (int, string) { // fault
		op := []string{"restore", "snapshot"}[r.IntN(2)]
		return h.try("POST", "/_flexd/groups/"+h.group+"/flexClusters/"+pick(r, names)+"/faults",
			`{"operation":"`+op+`","count":1,"reason":"drill `+op+` fault"}`)
	},
}

func pick(r *rand.Rand, names []string) string { return names[r.IntN(len(names))] }

// try makes a call from any goroutine: no t.Fatal, just the answer.
func (h *harness) try(method, path, body string) (int, string) {
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		return 599, err.Error()
	}
	req.Header.Set("Accept", flexAccept)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 599, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, method + " " + path + ": " + string(b)
}

// someSnapshot returns the id of one of the cluster's snapshots, or a
// well-formed id of none when it has none or is gone.
func (h *harness) someSnapshot(r *rand.Rand, cluster string) string {
	status, body := h.try("GET", h.clusterPath(cluster)+"/backup/snapshots", "")
	_, body, _ = strings.Cut(body, ": ")
	var page struct {
		Results []struct{ ID string } `json:"results"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page.Results) == 0 {
		return "000000000000000000000000"
	}
	return page.Results[r.IntN(len(page.Results))].ID
}

// checkSettled checks the invariants once everything in flight has had
// time to end.
func checkSettled(t *testing.T, h *harness) {
	t.Helper()
	live := map[string]bool{}
	for _, c := range results(h.ok(200, "GET", "/api/atlas/v2/groups/"+h.group+"/flexClusters?itemsPerPage=500", "")) {
		name := c["name"].(string)
		live[c["id"].(string)] = true
		if c["stateName"] != "IDLE" {
			t.Errorf("cluster %s is %v, want IDLE", name, c["stateName"])
		}
		for _, sn := range results(h.ok(200, "GET", h.clusterPath(name)+"/backup/snapshots?itemsPerPage=500", "")) {
			live[sn["id"].(string)] = true
			if sn["status"] != "COMPLETED" && sn["status"] != "FAILED" {
				t.Errorf("snapshot %s of %s is %v", sn["id"], name, sn["status"])
			}
		}
		for _, j := range results(h.ok(200, "GET", h.clusterPath(name)+"/backup/restoreJobs?itemsPerPage=500", "")) {
			live[j["id"].(string)] = true
			if j["status"] != "COMPLETED" && j["status"] != "FAILED" {
				t.Errorf("restore job %s of %s into %v is %v", j["id"], name, j["targetDeploymentItemName"], j["status"])
			}
			if j["status"] == "FAILED" {
				d := h.ok(200, "GET", "/_flexd/groups/"+h.group+"/flexClusters/"+name+"/backup/restoreJobs/"+j["id"].(string), "")
				if d["failureReason"] == nil || d["failureReason"] == "" {
					t.Errorf("restore job %s FAILED without a reason: %v", j["id"], d)
				}
			}
		}
	}
	// What is left to do is each live cluster's next scheduled snapshot.
	timers, err := h.store.DueTimers(t.Context(), h.clock.Now().Add(365*24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range timers {
		if tm.Kind != flexd.TimerSchedule || !live[tm.EntityID] {
			t.Errorf("timer left: %s of %s due %v (now %v)", tm.Kind, tm.EntityID, tm.DueAt, h.clock.Now())
		}
	}
}

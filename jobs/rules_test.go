package jobs_test

import (
	"testing"
	"time"

	"github.com/flexd/flexd/jobs"
)

// A restore into a cluster still CREATING used to run at once and, ending,
// write the CREATING it had read back over the IDLE that provisioning had
// set meanwhile: the cluster stayed CREATING until a restart. Now the job
// waits QUEUED until its target is IDLE, and the target ends IDLE.
func TestRestoreWaitsForCreatingTarget(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{ProvisionTime: time.Hour})
	h.createCluster("src")
	h.advance("1h")
	snap := h.takeSnapshot("src")
	h.advance("0s")
	h.createCluster("dst")
	job := h.restore("src", snap, "dst")
	self := h.restore("src", snap, "src")
	h.advance("30m")
	if got := h.restoreJob("src", job)["status"]; got != "QUEUED" || h.state("dst") != "CREATING" {
		t.Fatalf("restore into a CREATING target: %v, target %s; want QUEUED, CREATING", got, h.state("dst"))
	}
	if got := h.restoreJob("src", self)["status"]; got != "COMPLETED" {
		t.Errorf("restore into the IDLE source: %v", got)
	}
	h.advance("30m")
	if got := h.restoreJob("src", job)["status"]; got != "COMPLETED" {
		t.Errorf("restore once the target is IDLE: %v", got)
	}
	for _, c := range []string{"src", "dst"} {
		if got := h.state(c); got != "IDLE" {
			t.Errorf("%s: %s, want IDLE", c, got)
		}
	}
}

// A drill snapshot of a cluster still CREATING is refused with a clear
// 400; once it is IDLE the same call succeeds.
func TestSnapshotOfCreatingClusterRefused(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{ProvisionTime: time.Hour})
	h.createCluster("c")
	res := h.call("POST", "/_flexd/groups/"+h.group+"/flexClusters/c/snapshots", "")
	if res.status != 400 || res.json(t)["errorCode"] != "CANNOT_TAKE_SNAPSHOT_OF_CREATING_CLUSTER" {
		t.Fatalf("snapshot of a CREATING cluster: %d %s", res.status, res.body)
	}
	h.advance("1h")
	h.takeSnapshot("c")
}

// A failed job says why, through flexd's own view of it.
func TestFailedJobsSayWhy(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{})
	h.createCluster("c")
	h.advance("0s")
	faults := "/_flexd/groups/" + h.group + "/flexClusters/c/faults"
	h.ok(201, "POST", faults, `{"operation":"snapshot","count":1,"reason":"disk on fire"}`)
	failed := h.takeSnapshot("c")
	h.advance("0s")
	detail := "/_flexd/groups/" + h.group + "/flexClusters/c/backup/"
	if s := h.ok(200, "GET", detail+"snapshots/"+failed, ""); s["status"] != "FAILED" || s["failureReason"] != "disk on fire" {
		t.Errorf("failed snapshot's view: %v", s)
	}
	good := h.takeSnapshot("c")
	h.advance("0s")
	h.ok(201, "POST", faults, `{"operation":"restore","count":1,"reason":"network partition"}`)
	job := h.restore("c", good, "c")
	h.advance("0s")
	if j := h.ok(200, "GET", detail+"restoreJobs/"+job, ""); j["status"] != "FAILED" || j["failureReason"] != "network partition" {
		t.Errorf("failed restore's view: %v", j)
	}
	if s := h.ok(200, "GET", detail+"snapshots/"+good, ""); s["status"] != "COMPLETED" || s["failureReason"] != nil {
		t.Errorf("completed snapshot's view: %v", s)
	}
}

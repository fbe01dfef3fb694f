package jobs_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd/jobs"
)

// TestClusterLifecycle walks a cluster through CREATING, IDLE, UPDATING,
// DELETING and gone on a manual clock. Atlas shows a deleted cluster
// DELETING until it is removed, then 404 (clients poll for the 404); with
// a zero DeleteTime flexd may remove it before the DELETE's caller reads it
// again, so the test gives DELETING a time of its own and reads it
// deterministically.
func TestClusterLifecycle(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{ProvisionTime: 5 * time.Minute, DeleteTime: 2 * time.Minute})
	if got := h.createCluster("c")["stateName"]; got != "CREATING" {
		t.Fatalf("created %v, want CREATING", got)
	}
	h.advance("4m59s")
	if got := h.state("c"); got != "CREATING" {
		t.Fatalf("before the provision time: %s", got)
	}
	h.advance("1s")
	if got := h.state("c"); got != "IDLE" {
		t.Fatalf("after the provision time: %s", got)
	}

	if got := h.ok(200, "PATCH", h.clusterPath("c"), `{"tags":[{"key":"env","value":"dev"}]}`)["stateName"]; got != "UPDATING" {
		t.Errorf("PATCH answered %v, want UPDATING", got)
	}
	h.advance("0s")
	if got := h.state("c"); got != "IDLE" {
		t.Errorf("after PATCH settles: %s", got)
	}

	h.ok(204, "DELETE", h.clusterPath("c"), "")
	if got := h.state("c"); got != "DELETING" {
		t.Errorf("after DELETE: %s", got)
	}
	h.advance("1m59s")
	if got := h.state("c"); got != "DELETING" {
		t.Errorf("before the delete time: %s", got)
	}
	h.advance("1s")
	if res := h.call("GET", h.clusterPath("c"), ""); res.status != http.StatusNotFound {
		t.Errorf("deleted cluster: %d %s", res.status, res.body)
	}

	// A cluster deleted while CREATING stays DELETING for the whole delete
	// time: the end of its provisioning, due first, does not remove it.
	h.createCluster("early")
	h.advance("4m")
	h.ok(204, "DELETE", h.clusterPath("early"), "")
	h.advance("1m")
	if got := h.state("early"); got != "DELETING" {
		t.Errorf("deleted while CREATING, at its provision time: %s, want DELETING", got)
	}
	h.advance("1m")
	if res := h.call("GET", h.clusterPath("early"), ""); res.status != http.StatusNotFound {
		t.Errorf("cluster deleted while CREATING: %d %s", res.status, res.body)
	}
}

func TestRestoresIntoOneTargetRunOneAtATime(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{RestoreTime: time.Hour})
	h.createCluster("src")
	h.createCluster("dst")
	h.advance("0s")
	h.ok(200, "PATCH", h.clusterPath("src"), `{"tags":[{"key":"from","value":"src"}]}`)
	snap := h.takeSnapshot("src")
	h.advance("0s")

	var ids []string
	for range 3 {
		j := h.ok(200, "POST", h.clusterPath("src")+"/backup/restoreJobs", `{"snapshotId":"`+snap+`","targetDeploymentItemName":"dst"}`)
		if j["status"] != "PENDING" || j["restoreScheduledDate"] == nil || j["snapshotFinishedDate"] == nil {
			t.Fatalf("new restore job %v", j)
		}
		ids = append(ids, j["id"].(string))
	}
	h.advance("0s")
	statuses := func() []any {
		var out []any
		for _, id := range ids {
			out = append(out, h.restoreJob("src", id)["status"])
		}
		return out
	}
	for step, want := range [][]any{
		{"RUNNING", "QUEUED", "QUEUED"},
		{"COMPLETED", "RUNNING", "QUEUED"},
		{"COMPLETED", "COMPLETED", "RUNNING"},
	} {
		if got := statuses(); !equal(got, want) {
			t.Fatalf("step %d: %v, want %v", step, got, want)
		}
		if got := h.state("dst"); got != "UPDATING" {
			t.Fatalf("step %d: target %s, want UPDATING", step, got)
		}
		h.advance("59m")
		if got := statuses(); !equal(got, want) {
			t.Fatalf("step %d, before the restore time: %v, want %v", step, got, want)
		}
		h.advance("1m")
	}
	if got := statuses(); !equal(got, []any{"COMPLETED", "COMPLETED", "COMPLETED"}) {
		t.Fatalf("end: %v", got)
	}
	dst := h.ok(200, "GET", h.clusterPath("dst"), "")
	if dst["stateName"] != "IDLE" || !strings.Contains(string(must(json.Marshal(dst["tags"]))), `"from"`) {
		t.Errorf("target after restores %v: want IDLE with the source's tags", dst)
	}
	var last time.Time
	for _, id := range ids {
		j := h.restoreJob("src", id)
		done := mustTime(t, j["restoreFinishedDate"].(string))
		if !done.After(last) {
			t.Errorf("job %s finished %v, not after %v", id, done, last)
		}
		last = done
	}
}

func TestRestoreFailsWhenTargetIsDeleted(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{RestoreTime: time.Hour})
	h.createCluster("src")
	h.createCluster("dst")
	h.advance("0s") // provisioned: a snapshot of a CREATING cluster is refused
	snap := h.takeSnapshot("src")
	h.advance("0s")
	first, second := h.restore("src", snap, "dst"), h.restore("src", snap, "dst")
	h.advance("0s")
	h.ok(204, "DELETE", h.clusterPath("dst"), "")
	h.advance("1h")
	for _, id := range []string{first, second} {
		j := h.restoreJob("src", id)
		if j["status"] != "FAILED" || j["restoreFinishedDate"] == nil {
			t.Errorf("restore into a deleted target: %v", j)
		}
	}
}

func TestFaultInjection(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{})
	h.createCluster("src")
	h.createCluster("dst")
	faults := "/_flexd/groups/" + h.group + "/flexClusters/"
	h.ok(201, "POST", faults+"src/faults", `{"operation":"snapshot","count":1,"reason":"disk on fire"}`)
	h.ok(201, "POST", faults+"dst/faults", `{"operation":"restore","count":2,"reason":"network partition"}`)
	for _, body := range []string{`{"operation":"upgrade","count":1}`, `{"operation":"restore","count":0}`} {
		if res := h.call("POST", faults+"dst/faults", body); res.status != 400 {
			t.Errorf("fault %s: %d %s", body, res.status, res.body)
		}
	}
	if res := h.call("POST", faults+"nope/faults", `{"operation":"restore","count":1}`); res.status != 404 {
		t.Errorf("fault on a missing cluster: %d", res.status)
	}

	h.advance("0s")
	failed := h.takeSnapshot("src")
	h.advance("0s")
	good := h.takeSnapshot("src")
	h.advance("0s")
	if s := h.ok(200, "GET", h.clusterPath("src")+"/backup/snapshots/"+failed, ""); s["status"] != "FAILED" {
		t.Errorf("faulted snapshot %v", s)
	}
	if s := h.ok(200, "GET", h.clusterPath("src")+"/backup/snapshots/"+good, ""); s["status"] != "COMPLETED" {
		t.Errorf("next snapshot %v", s)
	}
	var got []any
	for range 3 {
		id := h.restore("src", good, "dst")
		h.advance("0s")
		got = append(got, h.restoreJob("src", id)["status"])
	}
	if !equal(got, []any{"FAILED", "FAILED", "COMPLETED"}) {
		t.Errorf("restores with 2 faults: %v", got)
	}
	if s := h.state("dst"); s != "IDLE" {
		t.Errorf("target after failed restores: %s", s)
	}
}

func TestDownloadLink(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{})
	h.createCluster("c")
	h.advance("0s")
	snap := h.takeSnapshot("c")
	h.advance("0s")
	job := h.ok(200, "POST", h.clusterPath("c")+"/backup/download", `{"snapshotId":"`+snap+`"}`)
	link, _ := job["snapshotUrl"].(string)
	if job["deliveryType"] != "DOWNLOAD" || job["status"] != "COMPLETED" || !strings.HasPrefix(link, h.srv.URL+"/_flexd/downloads/") {
		t.Fatalf("download job %v", job)
	}
	if exp := mustTime(t, job["expirationDate"].(string)); exp != h.clock.Now().Add(4*time.Hour) {
		t.Errorf("expirationDate %v, want 4h from now", exp)
	}

	// No credentials: the link is all it takes.
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("download: %d %s", res.StatusCode, res.Header)
	}
	files := untar(t, body)
	var m struct {
		SnapshotID, ClusterName, SHA256, Artifact string
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(files[m.Artifact])
	if m.SnapshotID != snap || m.ClusterName != "c" || m.SHA256 != hex.EncodeToString(sum[:]) ||
		!bytes.Contains(files[m.Artifact], []byte(`"regionName": "US_EAST_1"`)) {
		t.Errorf("manifest %+v, artifact %s", m, files[m.Artifact])
	}

	h.advance("3h59m")
	if res := get(t, link); res != 200 {
		t.Errorf("just before expiry: %d", res)
	}
	h.advance("1m")
	if res := get(t, link); res != http.StatusGone {
		t.Errorf("after expiry: %d", res)
	}
	if res := get(t, h.srv.URL+"/_flexd/downloads/not-a-token"); res != http.StatusNotFound {
		t.Errorf("unknown token: %d", res)
	}
}

// TestZeroKnobs runs on the real clock with every duration zero: each
// lifecycle ends as soon as its work is done.
func TestZeroKnobs(t *testing.T) {
	h := newHarness(t, realClock{}, jobs.Config{})
	h.createCluster("src")
	h.createCluster("dst")
	eventually(t, "clusters IDLE", func() bool { return h.state("src") == "IDLE" && h.state("dst") == "IDLE" })
	snap := h.takeSnapshot("src")
	eventually(t, "snapshot COMPLETED", func() bool {
		return h.ok(200, "GET", h.clusterPath("src")+"/backup/snapshots/"+snap, "")["status"] == "COMPLETED"
	})
	job := h.restore("src", snap, "dst")
	eventually(t, "restore COMPLETED", func() bool { return h.restoreJob("src", job)["status"] == "COMPLETED" })
	eventually(t, "target IDLE", func() bool { return h.state("dst") == "IDLE" })
	h.ok(204, "DELETE", h.clusterPath("dst"), "")
	eventually(t, "target gone", func() bool { return h.call("GET", h.clusterPath("dst"), "").status == 404 })
}

// TestQueueWokenInProcess checks how work reaches River on SQLite: with
// River's own polling an hour apart, every step still runs, and no
// notification row is written, so it is the in-process wake-up at each
// insert (not riversqlite's polled notification table, nor the poll) that
// starts each job.
func TestQueueWokenInProcess(t *testing.T) {
	h := newHarness(t, realClock{}, jobs.Config{QueuePoll: time.Hour})
	h.createCluster("src")
	h.createCluster("dst")
	eventually(t, "clusters IDLE", func() bool { return h.state("src") == "IDLE" && h.state("dst") == "IDLE" })
	snap := h.takeSnapshot("src")
	eventually(t, "snapshot COMPLETED", func() bool {
		return h.ok(200, "GET", h.clusterPath("src")+"/backup/snapshots/"+snap, "")["status"] == "COMPLETED"
	})
	job := h.restore("src", snap, "dst")
	eventually(t, "restore COMPLETED", func() bool { return h.restoreJob("src", job)["status"] == "COMPLETED" })
	var n int
	if err := h.store.DB().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM river_notification").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d notification rows: the queue is told of jobs through the polled table", n)
	}
}

func TestReset(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{})
	h.createCluster("c")
	h.advance("0s")
	h.takeSnapshot("c")
	h.advance("0s")
	h.ok(204, "POST", "/_flexd/reset", "")
	if res := h.call("GET", "/api/atlas/v2/groups/"+h.group, ""); res.status != 404 {
		t.Errorf("project after reset: %d", res.status)
	}
	if orgs := results(h.ok(200, "GET", "/api/atlas/v2/orgs", "")); len(orgs) != 1 {
		t.Errorf("organizations after reset: %v", orgs)
	}
	h.advance("48h") // nothing left to run
}

func get(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func untar(t *testing.T, tgz []byte) map[string][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name], _ = io.ReadAll(tr)
	}
}

func equal(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Each operation runs as a River job kind of its own, with its own
// timeout and retry policy.
func TestOneJobKindPerOperation(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{SnapshotInterval: time.Hour, SnapshotRetention: 1})
	h.createCluster("c")
	h.advance("2h") // two scheduled snapshots: retention drops the first
	snap := h.snapshots("c")[0]["id"].(string)
	h.restore("c", snap, "c")
	h.advance("0s")
	h.ok(204, "DELETE", h.clusterPath("c"), "")
	h.advance("0s")
	rows, err := h.store.DB().Query("SELECT DISTINCT kind FROM river_job ORDER BY kind")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var kinds []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, k)
	}
	want := []string{"flexd_delete", "flexd_provision", "flexd_prune", "flexd_restore", "flexd_schedule", "flexd_snapshot"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Errorf("job kinds %v, want %v", kinds, want)
	}
}

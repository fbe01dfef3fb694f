package atlasapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/flexd/flexd"
)

// TestRestoreReport: the report of a restore job is built from the job's
// recorded dates, through real HTTP, and only for a Project Owner.
func TestRestoreReport(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "src")
	h.createCluster(g, "dst")
	snap := h.takeSnapshot(g, "src")
	backup := "/api/atlas/v2/groups/" + g + "/flexClusters/src/backup"
	job := h.ok(200, "POST", backup+"/restoreJobs", `{"snapshotId":"`+snap+`","targetDeploymentItemName":"dst"}`)
	jobID := job["id"].(string)
	got := h.ok(200, "GET", backup+"/restoreJobs/"+jobID, "")
	report := "/_flexd/groups/" + g + "/flexClusters/src/backup/restoreJobs/" + jobID + "/report"

	res := h.call("GET", report, "")
	if res.status != 200 || res.header.Get("Content-Type") != "application/json" {
		t.Fatalf("report: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	var r flexd.RestoreReport
	if err := json.Unmarshal(res.body, &r); err != nil {
		t.Fatal(err)
	}
	at := func(field string) time.Time {
		ts, err := time.Parse(time.RFC3339, got[field].(string))
		if err != nil {
			t.Fatalf("%s: %v", field, err)
		}
		return ts
	}
	requested, finished, snapped := at("restoreScheduledDate"), at("restoreFinishedDate"), at("snapshotFinishedDate")
	if r.RestoreJobID != jobID || r.ProjectID != g || r.ClusterName != "src" || r.TargetProjectID != g ||
		r.TargetClusterName != "dst" || r.SnapshotID != snap || r.Status != flexd.StatusCompleted ||
		r.DeliveryType != flexd.DeliveryRestore || r.StatusChangesSource != flexd.StatusesRecorded {
		t.Errorf("report %s", res.body)
	}
	if !r.RequestedAt.Equal(requested) || !r.FinishedAt.Equal(finished) || !r.SnapshotFinishedAt.Equal(snapped) {
		t.Errorf("report times %s, job %v", res.body, got)
	}
	// The harness's clock ticks a second per reading, so both spans are
	// whole, non-zero seconds that the job's own dates give.
	if rto, ok := r.RTO(); !ok || rto != finished.Sub(requested) || rto <= 0 {
		t.Errorf("RTO %v %v, want %v", rto, ok, finished.Sub(requested))
	}
	if rpo, ok := r.RPO(); !ok || rpo != requested.Sub(snapped) || rpo <= 0 {
		t.Errorf("RPO %v %v, want %v", rpo, ok, requested.Sub(snapped))
	}
	want := []flexd.StatusChange{{Status: flexd.StatusPending, At: requested}, {Status: flexd.StatusCompleted, At: finished}}
	if len(r.StatusChanges) != 2 || r.StatusChanges[0] != want[0] || !r.StatusChanges[1].At.Equal(finished) || r.StatusChanges[1].Status != want[1].Status {
		t.Errorf("status changes %+v, want %+v", r.StatusChanges, want)
	}
	// No data plane yet: no collection is compared, so none is reported.
	var raw map[string]any
	_ = json.Unmarshal(res.body, &raw)
	if _, ok := raw["collections"]; ok {
		t.Errorf("collections reported without a data plane: %s", res.body)
	}

	// Who may read it: a Project Owner, not a Project Read Only.
	h.auth.add("owner", &flexd.Principal{Kind: "apiKey", OrgID: h.orgID, GroupRoles: map[string][]flexd.Role{g: {flexd.RoleGroupOwner}}})
	h.auth.add("reader", &flexd.Principal{Kind: "apiKey", OrgID: h.orgID, GroupRoles: map[string][]flexd.Role{g: {flexd.RoleGroupReadOnly}}})
	if res := h.with("owner").call("GET", report, ""); res.status != 200 {
		t.Errorf("Project Owner: %d %s", res.status, res.body)
	}
	h.with("reader").fail(401, "USER_UNAUTHORIZED", "GET", report, "")

	prefix := "/_flexd/groups/" + g + "/flexClusters/"
	h.fail(404, "RESTORE_JOB_NOT_FOUND", "GET", prefix+"src/backup/restoreJobs/"+missingID+"/report", "")
	h.fail(404, "CLUSTER_NOT_FOUND", "GET", prefix+"nope/backup/restoreJobs/"+jobID+"/report", "")
	h.fail(404, "GROUP_NOT_FOUND", "GET", "/_flexd/groups/"+missingID+"/flexClusters/src/backup/restoreJobs/"+jobID+"/report", "")
	h.fail(400, "INVALID_PATH_PARAMETER", "GET", prefix+"src/backup/restoreJobs/NOPE/report", "")
	// A job is reported under its source cluster only.
	h.fail(404, "RESTORE_JOB_NOT_FOUND", "GET", prefix+"dst/backup/restoreJobs/"+jobID+"/report", "")

	// A download is made at once: one status, no waiting.
	dl := h.ok(200, "POST", backup+"/download", `{"snapshotId":"`+snap+`"}`)
	var d flexd.RestoreReport
	if err := json.Unmarshal(h.call("GET", prefix+"src/backup/restoreJobs/"+dl["id"].(string)+"/report", "").body, &d); err != nil {
		t.Fatal(err)
	}
	if rto, ok := d.RTO(); d.DeliveryType != flexd.DeliveryDownload || len(d.StatusChanges) != 1 || !ok || rto != 0 {
		t.Errorf("download report %+v", d)
	}
}

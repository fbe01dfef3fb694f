package atlasapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRestoreFlow is what `atlas backups restores start` and `atlas backups
// snapshots download` do against a Flex cluster.
func TestRestoreFlow(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "src")
	h.createCluster(g, "dst")
	backup := "/api/atlas/v2/groups/" + g + "/flexClusters/src/backup"

	// The drill route answers plain JSON in the snapshot shape.
	res := h.call("POST", "/_flexd/groups/"+g+"/flexClusters/src/snapshots", "")
	if res.status != http.StatusCreated || res.header.Get("Content-Type") != "application/json" {
		t.Fatalf("take snapshot: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	first := res.json(t)["id"].(string)
	second := h.takeSnapshot(g, "src")

	snaps := h.ok(200, "GET", backup+"/snapshots", "")
	if r := results(snaps); len(r) != 2 || snaps["totalCount"] != 2.0 ||
		r[0].(map[string]any)["id"] != second || r[1].(map[string]any)["id"] != first {
		t.Fatalf("snapshots (want newest first): %v", snaps)
	}
	s := h.ok(200, "GET", backup+"/snapshots/"+second, "")
	if s["status"] != "COMPLETED" || s["mongoDBVersion"] == nil || s["scheduledTime"] == nil || s["startTime"] == nil ||
		s["finishTime"] == nil || s["expiration"] == nil || s["links"] != nil {
		t.Errorf("snapshot %v", s)
	}

	// The CLI sends the read-only instanceName along.
	job := h.ok(200, "POST", backup+"/restoreJobs", `{"snapshotId":"`+second+`","targetDeploymentItemName":"dst","instanceName":"src"}`)
	jobID := job["id"].(string)
	if job["deliveryType"] != "RESTORE" || job["instanceName"] != "src" || job["projectId"] != g || job["snapshotId"] != second ||
		job["targetDeploymentItemName"] != "dst" || job["targetProjectId"] != g || job["restoreScheduledDate"] == nil ||
		job["snapshotFinishedDate"] == nil || job["snapshotUrl"] != nil || job["status"] == nil {
		t.Errorf("restore job %v", job)
	}
	if job["links"] != nil {
		t.Errorf("a restore job has no links of its own: %v", job["links"])
	}
	got := h.ok(200, "GET", backup+"/restoreJobs/"+jobID, "")
	if got["id"] != jobID || got["status"] != "COMPLETED" || got["restoreFinishedDate"] == nil {
		t.Errorf("restore job later %v", got)
	}
	// Into another project the caller owns, named by targetProjectId.
	g2 := h.createProject("p2")
	h.createCluster(g2, "elsewhere")
	other := h.ok(200, "POST", backup+"/restoreJobs", `{"snapshotId":"`+first+`","targetDeploymentItemName":"elsewhere","targetProjectId":"`+g2+`"}`)
	if other["targetProjectId"] != g2 || other["projectId"] != g {
		t.Errorf("cross-project job %v", other)
	}

	dl := h.ok(200, "POST", backup+"/download", `{"snapshotId":"`+second+`"}`)
	url, _ := dl["snapshotUrl"].(string)
	token, isDownload := strings.CutPrefix(url, h.base+"/_flexd/downloads/")
	if dl["deliveryType"] != "DOWNLOAD" || !isDownload || len(token) < 32 || dl["snapshotId"] != second {
		t.Errorf("download %v", dl)
	}
	scheduled, err1 := time.Parse(time.RFC3339, dl["restoreScheduledDate"].(string))
	expires, err2 := time.Parse(time.RFC3339, dl["expirationDate"].(string))
	if err1 != nil || err2 != nil || expires.Sub(scheduled) != 4*time.Hour {
		t.Errorf("download expires %v after it was made, want 4h", expires.Sub(scheduled))
	}

	jobs := h.ok(200, "GET", backup+"/restoreJobs", "")
	var ids []string
	for _, r := range results(jobs) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	want := []string{dl["id"].(string), other["id"].(string), jobID}
	if strings.Join(ids, ",") != strings.Join(want, ",") || jobs["totalCount"] != 3.0 {
		t.Errorf("restore jobs %v, want newest first %v", ids, want)
	}
}

func TestBackupErrors(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "src")
	snap := h.takeSnapshot(g, "src")
	backup := "/api/atlas/v2/groups/" + g + "/flexClusters/src/backup"

	if p := h.fail(404, "SNAPSHOT_NOT_FOUND", "GET", backup+"/snapshots/"+missingID, ""); p[0] != missingID || p[1] != "src" {
		t.Errorf("parameters %v", p)
	}
	if p := h.fail(400, "INVALID_PATH_PARAMETER", "GET", backup+"/snapshots/nope", ""); p[0] != "snapshotId" {
		t.Errorf("parameters %v", p)
	}
	if p := h.fail(400, "INVALID_PATH_PARAMETER", "GET", backup+"/restoreJobs/NOPE", ""); p[0] != "restoreJobId" {
		t.Errorf("parameters %v", p)
	}
	h.fail(404, "RESTORE_JOB_NOT_FOUND", "GET", backup+"/restoreJobs/"+missingID, "")

	for _, path := range []string{"/snapshots", "/snapshots/" + snap, "/restoreJobs", "/restoreJobs/" + missingID} {
		h.fail(404, "CLUSTER_NOT_FOUND", "GET", "/api/atlas/v2/groups/"+g+"/flexClusters/nope/backup"+path, "")
	}
	h.fail(404, "CLUSTER_NOT_FOUND", "POST", "/api/atlas/v2/groups/"+g+"/flexClusters/nope/backup/download", `{"snapshotId":"`+snap+`"}`)
	h.fail(404, "CLUSTER_NOT_FOUND", "POST", "/_flexd/groups/"+g+"/flexClusters/nope/snapshots", "")
	h.fail(404, "GROUP_NOT_FOUND", "POST", "/_flexd/groups/"+missingID+"/flexClusters/src/snapshots", "")

	restore := backup + "/restoreJobs"
	h.fail(404, "SNAPSHOT_NOT_FOUND", "POST", restore, `{"snapshotId":"`+missingID+`","targetDeploymentItemName":"src"}`)
	h.fail(404, "CLUSTER_NOT_FOUND", "POST", restore, `{"snapshotId":"`+snap+`","targetDeploymentItemName":"nope"}`)
	h.fail(404, "GROUP_NOT_FOUND", "POST", restore, `{"snapshotId":"`+snap+`","targetDeploymentItemName":"src","targetProjectId":"`+missingID+`"}`)
	h.fail(400, "MISSING_ATTRIBUTE", "POST", restore, `{"snapshotId":"`+snap+`"}`)
	h.fail(400, "MISSING_ATTRIBUTE", "POST", restore, ``)
	h.fail(400, "INVALID_ATTRIBUTE", "POST", restore, `{"snapshotId":"latest","targetDeploymentItemName":"src"}`)
	h.fail(400, "INVALID_ATTRIBUTE", "POST", restore, `{"snapshotId":"`+snap+`","targetDeploymentItemName":"src","targetProjectId":"p"}`)
	h.fail(400, "INVALID_ATTRIBUTE", "POST", restore, `{"snapshotId":"`+snap+`","targetDeploymentItemName":"src","pointInTime":1}`)
	h.fail(400, "INVALID_JSON_ATTRIBUTE", "POST", restore, `{"snapshotId":"`+snap+`","targetDeploymentItemName":{"name":"src"}}`)

	download := backup + "/download"
	h.fail(404, "SNAPSHOT_NOT_FOUND", "POST", download, `{"snapshotId":"`+missingID+`"}`)
	if p := h.fail(400, "MISSING_ATTRIBUTE", "POST", download, ``); p[0] != "snapshotId" {
		t.Errorf("parameters %v", p)
	}
	h.fail(400, "MISSING_ATTRIBUTE", "POST", download, `{"snapshotId":null}`)
	h.fail(400, "INVALID_ATTRIBUTE", "POST", download, `{"snapshotId":"x"}`)
	h.fail(400, "MALFORMED_JSON", "POST", download, `snapshotId=x`, "Content-Type: application/json")
	h.fail(415, "UNEXPECTED_ERROR", "POST", download, `snapshotId=x`, "Content-Type: application/x-www-form-urlencoded")
	h.fail(405, "UNEXPECTED_ERROR", "GET", download, "")
}

// TestDownloadTokensNeverLogged: a download link works for hours without
// any other credential, so no log line may carry its token. Before, the
// request log wrote the whole path at INFO.
func TestDownloadTokensNeverLogged(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "src")
	snap := h.takeSnapshot(g, "src")
	dl := h.ok(200, "POST", "/api/atlas/v2/groups/"+g+"/flexClusters/src/backup/download", `{"snapshotId":"`+snap+`"}`)
	url := dl["snapshotUrl"].(string)
	token := url[strings.LastIndex(url, "/")+1:]
	for _, u := range []string{url, url + "x", url + "/../x"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	logs := h.logs.String()
	if strings.Contains(logs, token) {
		t.Errorf("a download token reached the logs:\n%s", logs)
	}
	if !strings.Contains(logs, `"path":"/_flexd/downloads/REDACTED"`) {
		t.Errorf("the download requests are not logged with a redacted path:\n%s", logs)
	}
}

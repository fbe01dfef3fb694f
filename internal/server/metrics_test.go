package server

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMetricsAfterTraffic checks that /metrics shows every family operators
// rely on once requests went through, and that no label carries an id or a
// name from a path: labels are route patterns and fixed vocabularies.
func TestMetricsAfterTraffic(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	const groupID, jobID = "5f4a3b2c1d0e9f8a7b6c5d4e", "6e5d4c3b2a190817f6e5d4c3"
	do(t, "GET", s.base+"/healthz", "")
	do(t, "GET", s.base+"/api/atlas/v2/groups/"+groupID+"/flexClusters/secretname/backup/restoreJobs/"+jobID, "")
	do(t, "GET", s.base+"/api/atlas/v2/groups", "")
	do(t, "GET", s.base+"/no/such/"+groupID, "")

	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	body := string(raw)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	for _, family := range []string{
		"flexd_http_requests_total", "flexd_http_request_duration_seconds_bucket",
		"flexd_auth_attempts_total", "flexd_queue_depth",
		"go_sql_max_open_connections", "go_sql_in_use_connections",
		"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes",
	} {
		if !strings.Contains(body, "\n"+family) {
			t.Errorf("/metrics has no %s", family)
		}
	}
	route := `route="/api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/restoreJobs/{restoreJobId}"`
	if !strings.Contains(body, route) || !strings.Contains(body, `route="unmatched"`) {
		t.Errorf("requests are not labelled by route pattern:\n%s", grep(body, "flexd_http_requests_total"))
	}
	hexID := regexp.MustCompile(`[0-9a-f]{24}`)
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if hexID.MatchString(line) || strings.Contains(line, "secretname") || strings.Contains(line, "/no/such") {
			t.Errorf("a label carries an id or a path: %s", line)
		}
	}
}

// TestJobMetricsAfterRestore checks that the lifecycle engine's jobs reach
// /metrics by kind and outcome, with their durations, and that the queue
// depth is there for each kind: the engine builds its queue itself, so
// this is the wiring of jobs.Config.Instrument.
func TestJobMetricsAfterRestore(t *testing.T) {
	s := start(t, t.TempDir(), map[string]string{
		"FLEXD_AUTH": "off", "FLEXD_PROVISION_TIME": "0s", "FLEXD_RESTORE_TIME": "0s",
	})
	_, p := do(t, "POST", s.base+"/api/atlas/v2/groups", `{"name":"metrics"}`)
	g, _ := p["id"].(string)
	flex := s.base + "/api/atlas/v2/groups/" + g + "/flexClusters"
	for _, name := range []string{"a", "b"} {
		if code, body := do(t, "POST", flex, fmt.Sprintf(`{"name":%q,"providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`, name)); code != 201 {
			t.Fatalf("create cluster: %d %v", code, body)
		}
		waitField(t, flex+"/"+name, "stateName", "IDLE")
	}
	_, snap := do(t, "POST", s.base+"/_flexd/groups/"+g+"/flexClusters/a/snapshots", "")
	snapID, _ := snap["id"].(string)
	waitField(t, flex+"/a/backup/snapshots/"+snapID, "status", "COMPLETED")
	_, j := do(t, "POST", flex+"/a/backup/restoreJobs", fmt.Sprintf(`{"snapshotId":%q,"targetDeploymentItemName":"b"}`, snapID))
	jobID, _ := j["id"].(string)
	waitField(t, flex+"/a/backup/restoreJobs/"+jobID, "status", "COMPLETED")

	// A job is counted once its work has returned, just after what it
	// stored became visible: look until the restore's run is there (with
	// no least restore time, one job takes it from PENDING to COMPLETED).
	want := []string{
		`flexd_jobs_total{kind="cluster",outcome="ok"}`,
		`flexd_jobs_total{kind="snapshot",outcome="ok"}`,
		`flexd_job_duration_seconds_count{kind="restore",outcome="ok"}`,
		`flexd_job_duration_seconds_bucket{kind="restore",outcome="ok",le="+Inf"}`,
		`flexd_queue_depth{kind="restore"}`,
		`flexd_queue_depth{kind="cluster"}`,
	}
	restores := regexp.MustCompile(`\nflexd_jobs_total\{kind="restore",outcome="ok"\} ([1-9]|\d\d)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := scrape(t, s.base)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, "\n"+w+" ") {
				missing = w
				break
			}
		}
		if missing == "" && !restores.MatchString(body) {
			missing = "the run of the restore"
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no %s:\n%s", missing, grep(body, "flexd_j")+"\n"+grep(body, "flexd_queue"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

func grep(s, substr string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
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

func grep(s, substr string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

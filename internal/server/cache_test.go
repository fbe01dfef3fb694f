package server

import (
	"fmt"
	"testing"
	"time"
)

// TestListsNeverStale drives the served API (which reads through the cache
// and reuses page encodings) and checks that each list answer reflects
// every change made just before it: a new job, its completion by the
// lifecycle engine, and a second cluster's jobs staying apart.
func TestListsNeverStale(t *testing.T) {
	s := start(t, t.TempDir(), map[string]string{
		"FLEXD_AUTH": "off", "FLEXD_PROVISION_TIME": "0s", "FLEXD_RESTORE_TIME": "0s",
	})
	_, p := do(t, "POST", s.base+"/api/atlas/v2/groups", `{"name":"cache"}`)
	g, _ := p["id"].(string)
	if g == "" {
		t.Fatalf("create project: %v", p)
	}
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

	list := flex + "/a/backup/restoreJobs?itemsPerPage=100&includeCount=true"
	for i := 1; i <= 3; i++ {
		do(t, "GET", list, "") // warm whatever can be cached
		code, j := do(t, "POST", flex+"/a/backup/restoreJobs", fmt.Sprintf(`{"snapshotId":%q,"targetDeploymentItemName":"b"}`, snapID))
		if code != 200 {
			t.Fatalf("create restore: %d %v", code, j)
		}
		_, page := do(t, "GET", list, "")
		results, _ := page["results"].([]any)
		if page["totalCount"] != float64(i) || len(results) != i || results[0].(map[string]any)["id"] != j["id"] {
			t.Fatalf("after creating job %d the list is stale: %v", i, page)
		}
		waitField(t, flex+"/a/backup/restoreJobs/"+j["id"].(string), "status", "COMPLETED")
		_, page = do(t, "GET", list, "")
		if st := page["results"].([]any)[0].(map[string]any)["status"]; st != "COMPLETED" {
			t.Fatalf("job %d is COMPLETED but the list says %v", i, st)
		}
	}
	if _, other := do(t, "GET", flex+"/b/backup/restoreJobs", ""); other["totalCount"] != 0.0 {
		t.Errorf("cluster b lists a's jobs: %v", other)
	}
}

func waitField(t *testing.T, url, field, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, v := do(t, "GET", url, "")
		if v[field] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s is %v, want %s", url, field, v[field], want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

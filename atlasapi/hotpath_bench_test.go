package atlasapi

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flexd/flexd"
)

// benchJobs is a page of 100 restore jobs as the store returns them.
func benchJobs() []flexd.RestoreJob {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	jobs := make([]flexd.RestoreJob, 100)
	for i := range jobs {
		jobs[i] = flexd.RestoreJob{
			ID: flexd.NewID(now.Add(time.Duration(i) * time.Second)), ProjectID: "32b6e34b3d91647abb20e7b8",
			ClusterID: "32b6e34b3d91647abb20e7b9", InstanceName: "flexA", SnapshotID: "32b6e34b3d91647abb20e7ba",
			DeliveryType: flexd.DeliveryRestore, Status: flexd.StatusCompleted,
			TargetProjectID: "32b6e34b3d91647abb20e7b8", TargetDeploymentItemName: "flexB",
			RestoreScheduledDate: now, SnapshotFinishedDate: now, RestoreFinishedDate: now,
		}
	}
	return jobs
}

const benchTarget = "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/flexClusters/flexA/backup/restoreJobs?itemsPerPage=100&includeCount=true"

// BenchmarkPageEncode measures building and encoding a page of 100 restore
// jobs: what every list answer cost before the page cache, and what a miss
// still costs.
func BenchmarkPageEncode(b *testing.B) {
	jobs := benchJobs()
	r := httptest.NewRequest("GET", benchTarget, nil)
	st := &state{query: parseQuery(r.URL.RawQuery), version: "2024-11-13"}
	total := 1000
	b.ReportAllocs()
	for b.Loop() {
		base := "http://127.0.0.1:8080"
		body := page[restoreJobView]{Links: pageLinks(base, r, st.query, flexd.Page{Num: 1, ItemsPerPage: 100, Count: true}, true),
			Results: make([]restoreJobView, len(jobs)), TotalCount: &total}
		for i := range jobs {
			body.Results[i] = viewRestoreJob(base, &jobs[i])
		}
		if _, err := marshal(body, false); err != nil {
			b.Fatal(err)
		}
	}
}

// unchanging is a store's versions with no writes.
type unchanging struct{}

func (unchanging) Mark() uint64                              { return 0 }
func (unchanging) ChangedSince(uint64, ...flexd.Parent) bool { return false }

// BenchmarkPageCacheHit measures answering the same list from the page
// cache: key, lookup, version check, write.
func BenchmarkPageCacheHit(b *testing.B) {
	s := &server{cfg: Config{Versions: unchanging{}}}
	r := httptest.NewRequest("GET", benchTarget, nil)
	st := &state{query: parseQuery(r.URL.RawQuery), version: "2024-11-13"}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	cluster := flexd.ClusterParent("32b6e34b3d91647abb20e7b9")
	w := httptest.NewRecorder()
	if err := s.cachedList(w, r, cluster, func() ([]byte, error) { return []byte(`{"results":[]}`), nil }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.Body.Reset()
		if err := s.cachedList(w, r, cluster, func() ([]byte, error) { b.Fatal("miss"); return nil, nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseQuery measures reading a list's query parameters.
func BenchmarkParseQuery(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		q := parseQuery("itemsPerPage=100&includeCount=true&pageNum=2&pretty=false")
		if _, err := pageParams(q); err != nil {
			b.Fatal(err)
		}
		if _, _, err := formatParams(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNegotiate measures picking the resource version from Accept.
func BenchmarkNegotiate(b *testing.B) {
	accept := []string{"application/vnd.atlas.2024-11-13+json"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := negotiate(accept, flexFamily); err != nil {
			b.Fatal(err)
		}
	}
}

package atlasapi_test

import (
	"net/http"
	"testing"
)

// TestClusterAPI walks the dedicated-cluster API as the Atlas CLI and
// Terraform call it: the list is an empty page at every version clients
// send, a create is refused as :tenantUpgrade is, and one cluster's
// GET/PATCH/DELETE tell a Flex cluster apart from a missing one.
func TestClusterAPI(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "flexA")
	base := "/api/atlas/v2/groups/" + g + "/clusters"

	for _, tc := range []struct{ accept, served string }{
		{"2023-02-01", "2023-02-01"},
		{"2024-08-05", "2024-08-05"},
		{"2025-03-12", "2024-08-05"},
		{"2023-01-01", "2023-01-01"},
	} {
		res := h.call("GET", base+"?includeCount=true&includeDeletedWithRetainedBackups=false&itemsPerPage=100&pageNum=1", "",
			"Accept: application/vnd.atlas."+tc.accept+"+json")
		if res.status != http.StatusOK {
			t.Fatalf("list at %s: %d %s", tc.accept, res.status, res.body)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/vnd.atlas."+tc.served+"+json;charset=utf-8" {
			t.Errorf("list at %s: Content-Type %q", tc.accept, ct)
		}
		if m := res.json(t); len(results(m)) != 0 || m["totalCount"] != 0.0 || links(t, m)["self"] == "" {
			t.Errorf("list at %s: %s, want an empty page", tc.accept, res.body)
		}
	}
	h.fail(400, "INVALID_QUERY_PARAMETER", "GET", base+"?includeDeletedWithRetainedBackups=maybe", "",
		"Accept: application/vnd.atlas.2024-08-05+json")
	h.fail(406, "INVALID_VERSION_DATE", "GET", base, "", "Accept: application/vnd.atlas.2022-01-01+json")

	create := `{"name":"dedicated","clusterType":"REPLICASET","replicationSpecs":[]}`
	h.fail(400, "FEATURE_UNSUPPORTED", "POST", base, create, "Accept: application/vnd.atlas.2024-10-23+json")
	h.fail(400, "FEATURE_UNSUPPORTED", "POST", base, create, "Accept: application/vnd.atlas.2023-02-01+json")

	for _, tc := range []struct{ method, accept string }{
		{"GET", "2024-08-05"}, {"GET", "2023-02-01"},
		{"PATCH", "2024-10-23"}, {"PATCH", "2023-02-01"},
		{"DELETE", "2023-02-01"}, {"DELETE", "2025-03-12"},
	} {
		accept := "Accept: application/vnd.atlas." + tc.accept + "+json"
		body := ""
		if tc.method == "PATCH" {
			body = `{"paused":true}`
		}
		if p := h.fail(400, "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API", tc.method, base+"/flexA", body, accept); len(p) != 1 || p[0] != "flexA" {
			t.Errorf("%s at %s: parameters %v", tc.method, tc.accept, p)
		}
		if p := h.fail(404, "CLUSTER_NOT_FOUND", tc.method, base+"/nope", body, accept); len(p) != 2 || p[0] != "nope" || p[1] != g {
			t.Errorf("%s at %s: parameters %v", tc.method, tc.accept, p)
		}
	}
	// The detail is Atlas's, word for word.
	res := h.call("DELETE", base+"/flexA", "", "Accept: application/vnd.atlas.2023-02-01+json")
	if d := res.json(t)["detail"]; d != "Flex cluster flexA cannot be used in the Cluster API." {
		t.Errorf("detail %q", d)
	}
	// The cluster is untouched.
	if c := h.ok(200, "GET", "/api/atlas/v2/groups/"+g+"/flexClusters/flexA", ""); c["name"] != "flexA" {
		t.Errorf("cluster %v", c)
	}
}

package atlasapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestPagination(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	empty := h.createProject("empty")
	flex := "/api/atlas/v2/groups/" + g + "/flexClusters"
	for i := 1; i <= 3; i++ {
		h.createCluster(g, fmt.Sprintf("c%d", i))
	}
	page := func(query string) (string, map[string]string, map[string]any) {
		m := h.ok(200, "GET", flex+"?"+query, "")
		return clusterNames(m), links(t, m), m
	}
	href := func(query string) string { return h.base + flex + "?" + query }

	m := h.ok(200, "GET", "/api/atlas/v2/groups/"+empty+"/flexClusters", "")
	if len(results(m)) != 0 || m["totalCount"] != 0.0 || len(links(t, m)) != 1 {
		t.Errorf("empty: %v", m)
	}

	names, l, m := page("itemsPerPage=2")
	if names != "c1,c2" || m["totalCount"] != 3.0 || l["self"] != href("pageNum=1&itemsPerPage=2") ||
		l["next"] != href("itemsPerPage=2&pageNum=2") || l["previous"] != "" {
		t.Errorf("page 1: %s %v", names, l)
	}
	names, l, _ = page("itemsPerPage=2&pageNum=2")
	if names != "c3" || l["previous"] != href("itemsPerPage=2&pageNum=1") || l["next"] != "" {
		t.Errorf("page 2: %s %v", names, l)
	}
	names, l, m = page("itemsPerPage=2&pageNum=5")
	if names != "" || m["totalCount"] != 3.0 || l["previous"] != href("itemsPerPage=2&pageNum=4") || l["next"] != "" {
		t.Errorf("past the end: %s %v %v", names, l, m["totalCount"])
	}
	// Exactly one full page: no next, with or without the count.
	for _, q := range []string{"itemsPerPage=3", "itemsPerPage=3&includeCount=false"} {
		if names, l, _ = page(q); names != "c1,c2,c3" || l["next"] != "" {
			t.Errorf("%s: %s %v", q, names, l)
		}
	}
	// Without the count, next is still exact.
	names, l, m = page("itemsPerPage=2&includeCount=false")
	if _, has := m["totalCount"]; has || names != "c1,c2" || l["next"] != href("includeCount=false&itemsPerPage=2&pageNum=2") {
		t.Errorf("no count, page 1: %s %v %v", names, l, m)
	}
	if names, l, _ = page("itemsPerPage=2&includeCount=false&pageNum=2"); names != "c3" || l["next"] != "" {
		t.Errorf("no count, page 2: %s %v", names, l)
	}
	// Other parameters are kept in the links.
	if _, l, _ = page("itemsPerPage=1&pretty=false&custom=a%2Fb"); l["next"] != href("custom=a%2Fb&itemsPerPage=1&pageNum=2&pretty=false") {
		t.Errorf("links keep parameters: %v", l)
	}
	if names, _, _ = page("itemsPerPage=500"); names != "c1,c2,c3" {
		t.Errorf("itemsPerPage=500: %s", names)
	}
	for _, q := range []string{"itemsPerPage=0", "itemsPerPage=501", "itemsPerPage=abc", "pageNum=0", "pageNum=-1", "includeCount=maybe", "itemsPerPage=1&itemsPerPage=2"} {
		param, _, _ := strings.Cut(q, "=")
		if p := h.fail(400, "INVALID_QUERY_PARAMETER", "GET", flex+"?"+q, ""); p[0] != param {
			t.Errorf("%s: parameters %v", q, p)
		}
	}
	// Paging parameters mean nothing to a single resource.
	h.ok(200, "GET", flex+"/c1?itemsPerPage=abc", "")
}

func TestEnvelopeAndPretty(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "c1")
	flex := "/api/atlas/v2/groups/" + g + "/flexClusters"

	m := h.ok(200, "GET", flex+"?envelope=true", "")
	if m["status"] != 200.0 || len(results(m)) != 1 || m["totalCount"] != 1.0 {
		t.Errorf("list envelope %v", m)
	}
	m = h.ok(200, "GET", flex+"/c1?envelope=true", "")
	if content, _ := m["content"].(map[string]any); m["status"] != 200.0 || len(m) != 2 || content["name"] != "c1" {
		t.Errorf("resource envelope %v", m)
	}
	m = h.ok(201, "POST", flex+"?envelope=TRUE", clusterBody("c2"))
	if m["status"] != 201.0 || m["content"].(map[string]any)["name"] != "c2" {
		t.Errorf("create envelope %v", m)
	}
	res := h.call("GET", flex+"/nope?envelope=true", "")
	want := `{"detail":"No cluster named nope exists in group ` + g + `.","error":404,"errorCode":"CLUSTER_NOT_FOUND","parameters":["nope","` + g + `"],"reason":"Not Found","status":404}`
	if res.status != 404 || string(res.body) != want {
		t.Errorf("error envelope: %d %s", res.status, res.body)
	}
	if res := h.call("DELETE", flex+"/c2?envelope=true", ""); res.status != 204 || len(res.body) != 0 {
		t.Errorf("delete envelope: %d %q", res.status, res.body)
	}

	// pretty: the same JSON, indented by two spaces.
	for _, path := range []string{flex, flex + "/c1", flex + "/nope", "/api/atlas/v2/groups/" + g + "?envelope=true"} {
		compact := h.call("GET", path, "")
		pretty := h.call("GET", path+sep(path)+"pretty=true", "")
		var want bytes.Buffer
		if err := json.Indent(&want, compact.body, "", "  "); err != nil {
			t.Fatal(err)
		}
		// A list's links carry the request's parameters, pretty=true too.
		got := bytes.ReplaceAll(pretty.body, []byte("&pretty=true"), nil)
		got = bytes.ReplaceAll(got, []byte("pretty=true&"), nil)
		if compact.status != pretty.status || !bytes.Equal(got, want.Bytes()) || bytes.Equal(pretty.body, compact.body) {
			t.Errorf("%s: pretty body\n%s\nwant\n%s", path, pretty.body, want.Bytes())
		}
	}
	// pretty and envelope shape errors that happen before the query step.
	res = h.call("GET", flex+"?pretty=true&envelope=true", "", "Accept: application/json")
	if res.status != 406 || !bytes.Contains(res.body, []byte("\n  \"errorCode\": \"INVALID_VERSION_DATE\"")) || !bytes.Contains(res.body, []byte(`"status": 406`)) {
		t.Errorf("406 with pretty and envelope: %s", res.body)
	}

	for q, param := range map[string]string{"pretty=1": "pretty", "envelope=yes": "envelope", "pretty=": "pretty", "envelope": "envelope", "pretty=true&pretty=false": "pretty"} {
		for _, path := range []string{flex, flex + "/c1", "/api/atlas/v2/groups/" + g} {
			if p := h.fail(400, "INVALID_QUERY_PARAMETER", "GET", path+"?"+q, ""); p[0] != param {
				t.Errorf("%s?%s: parameters %v", path, q, p)
			}
		}
	}
	// The query is checked after the project and before the body.
	h.fail(404, "GROUP_NOT_FOUND", "POST", "/api/atlas/v2/groups/"+missingID+"/flexClusters?pretty=bad", `{`)
	h.fail(400, "INVALID_QUERY_PARAMETER", "POST", flex+"?pretty=bad", `{`)
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "c1")

	for _, path := range []string{
		"/api/atlas/v2/nope",
		"/api/atlas/v2/orgs/",
		"/api/atlas/v2/groups//flexClusters",
		"/api/atlas/v2/groups/" + g + "/flexClusters/c1/../c1",
		"/api/atlas/v2/groups/" + g + "/flexClusters/c1/backup",
		"/nope",
		"/",
	} {
		res := h.get(path)
		want := `{"detail":"HTTP 404 Not Found","error":404,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Not Found"}`
		if res.status != 404 || string(res.body) != want {
			t.Errorf("GET %s: %d %s", path, res.status, res.body)
		}
	}
	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", "/api/atlas/v2/groups", "GET, POST"},
		{"DELETE", "/api/atlas/v2/orgs", "GET, POST"},
		{"POST", "/api/atlas/v2/groups/" + g + "/flexClusters/c1", "GET, PATCH, DELETE"},
		{"DELETE", "/api/atlas/v2/groups/" + g + "/flexClusters/c1/backup/restoreJobs", "GET, POST"},
		{"POST", "/healthz", "GET"},
	} {
		res := h.call(tc.method, tc.path, "")
		want := `{"detail":"HTTP 405 Method Not Allowed","error":405,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Method Not Allowed"}`
		if res.status != 405 || string(res.body) != want || res.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q %s", tc.method, tc.path, res.status, res.header.Get("Allow"), res.body)
		}
	}

	// %2F stays inside one path parameter: never routed elsewhere.
	flex := "/api/atlas/v2/groups/" + g + "/flexClusters/"
	for _, path := range []string{flex + "a%2Fb", flex + "c1%2Fbackup%2Fsnapshots", flex + "a%2Fb/backup/snapshots"} {
		p := h.fail(404, "CLUSTER_NOT_FOUND", "GET", path, "")
		if !strings.Contains(p[0].(string), "/") || p[1] != g {
			t.Errorf("%s: parameters %v", path, p)
		}
	}
	if p := h.fail(404, "INVALID_GROUP_ID", "GET", "/api/atlas/v2/groups/"+g+"%2FflexClusters", ""); p[0] != g+"/flexClusters" {
		t.Errorf("parameters %v", p)
	}
	if p := h.fail(400, "INVALID_PATH_PARAMETER", "GET", flex+"c1/backup/snapshots/a%2Fb", ""); p[0] != "snapshotId" {
		t.Errorf("parameters %v", p)
	}
}

func TestProbes(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		res := h.call("GET", path, "", "Authorization:", "Accept:")
		if res.status != 200 || string(res.body) != `{"status":"ok"}` || res.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s %s", path, res.status, res.header.Get("Content-Type"), res.body)
		}
	}
}

func TestRequestLog(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	res := h.call("POST", "/api/atlas/v2/groups/"+g+"/flexClusters", `{"name":"secret-body-value","providerSettings":{}}`)
	id := res.header.Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id")
	}
	h.get("/api/atlas/v2/groups/" + g + "/flexClusters/a%2Fb")

	var found, escaped bool
	for line := range strings.SplitSeq(h.logs.String(), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e["request_id"] == id {
			found = e["msg"] == "request" && e["method"] == "POST" && e["status"] == 400.0 &&
				e["principal"] == "root" && e["duration"] != nil && e["path"] == "/api/atlas/v2/groups/"+g+"/flexClusters"
		}
		if e["path"] == "/api/atlas/v2/groups/"+g+"/flexClusters/a%2Fb" {
			escaped = true
		}
	}
	if !found || !escaped {
		t.Errorf("request lines missing (found %v, escaped path %v):\n%s", found, escaped, h.logs)
	}
	if logs := h.logs.String(); strings.Contains(logs, "Test root") || strings.Contains(logs, "secret-body-value") {
		t.Errorf("credentials or bodies logged:\n%s", logs)
	}
}

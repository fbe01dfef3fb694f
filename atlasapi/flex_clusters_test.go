package atlasapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestFlexClusters(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	flex := "/api/atlas/v2/groups/" + g + "/flexClusters"

	m := h.ok(200, "GET", flex, "")
	if len(results(m)) != 0 || m["totalCount"] != 0.0 {
		t.Errorf("empty list %v", m)
	}

	res := h.call("POST", flex, `{"name":"c1","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"},"tags":[{"key":"env","value":"dev"}],"terminationProtectionEnabled":true}`)
	if res.status != http.StatusCreated || res.header.Get("Content-Type") != flexType {
		t.Fatalf("create: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	c := res.json(t)
	ps := c["providerSettings"].(map[string]any)
	cs := c["connectionStrings"].(map[string]any)
	if c["name"] != "c1" || c["groupId"] != g || c["clusterType"] != "REPLICASET" || c["versionReleaseSystem"] != "LTS" ||
		c["terminationProtectionEnabled"] != true || c["backupSettings"].(map[string]any)["enabled"] != true ||
		c["mongoDBVersion"] == nil || c["createDate"] == nil || c["stateName"] == nil ||
		ps["providerName"] != "FLEX" || ps["backingProviderName"] != "AWS" || ps["regionName"] != "US_EAST_1" || ps["diskSizeGB"] == nil ||
		c["stateName"] != "CREATING" || len(cs) != 0 || len(c["tags"].([]any)) != 1 || c["links"] != nil {
		t.Errorf("created %s", res.body)
	}
	// At IDLE the standard connection string appears; standardSrv needs a
	// DNS name serving SRV records, which this server has not.
	c = h.ok(200, "GET", flex+"/c1", "")
	if cs := c["connectionStrings"].(map[string]any); c["stateName"] != "IDLE" || cs["standard"] == nil || cs["standardSrv"] != nil {
		t.Errorf("idle %v", c)
	}

	// `atlas clusters create --tier FLEX` sends the read-only providerName;
	// clients echoing a description send the rest.
	h.ok(201, "POST", flex, `{"name":"c2","providerSettings":{"backingProviderName":"GCP","regionName":"CENTRAL_US","providerName":"FLEX"}}`)
	h.ok(201, "POST", flex, `{"name":"c3","id":"`+missingID+`","groupId":"`+g+`","createDate":"2025-01-01T00:00:00Z","stateName":"IDLE","clusterType":"REPLICASET",`+
		`"links":[],"backupSettings":{"enabled":true},"providerSettings":{"backingProviderName":"AZURE","regionName":"US_EAST_2","diskSizeGB":5}}`,
		"Content-Type: application/json")

	if p := h.fail(400, "DUPLICATE_CLUSTER_NAME", "POST", flex, clusterBody("c1")); p[0] != "c1" || p[1] != g {
		t.Errorf("parameters %v", p)
	}
	// Hostnames are lower case, so a name taken in another case is taken.
	h.fail(400, "DUPLICATE_CLUSTER_NAME", "POST", flex, clusterBody("C1"))
	h.fail(400, "INVALID_PROVIDER", "POST", flex, `{"name":"x","providerSettings":{"backingProviderName":"IBM","regionName":"US_EAST_1"}}`)
	h.fail(400, "INVALID_REGION", "POST", flex, `{"name":"x","providerSettings":{"backingProviderName":"AWS","regionName":"MARS_1"}}`)
	h.fail(400, "CLUSTER_NAME_INVALID", "POST", flex, clusterBody("bad_name"))
	for body, param := range map[string]string{
		``:                                   "name",
		`{"providerSettings":{}}`:            "name",
		`{"name":"x"}`:                       "providerSettings",
		`{"name":"x","providerSettings":{}}`: "backingProviderName",
		`{"name":"x","providerSettings":{"backingProviderName":"AWS"}}`: "regionName",
	} {
		if p := h.fail(400, "MISSING_ATTRIBUTE", "POST", flex, body); p[0] != param {
			t.Errorf("%s: parameters %v, want %s", body, p, param)
		}
	}
	if p := h.fail(400, "INVALID_JSON_ATTRIBUTE", "POST", flex, `{"name":"x","providerSettings":{"backingProviderName":"AWS","regionName":1}}`); p[0] != "providerSettings.regionName" {
		t.Errorf("parameters %v", p)
	}
	if p := h.fail(400, "INVALID_ATTRIBUTE", "POST", flex, `{"name":"x","instanceSize":"M10"}`); p[0] != "instanceSize" {
		t.Errorf("parameters %v", p)
	}
	h.fail(400, "MALFORMED_JSON", "POST", flex, `{"name":`)
	h.fail(400, "INVALID_JSON", "POST", flex, `["c1"]`)
	h.fail(415, "UNEXPECTED_ERROR", "POST", flex, clusterBody("x"), "Content-Type: text/plain")
	big := `{"name":"x","tags":[` + strings.Repeat(`{"key":"k","value":"v"},`, 50000) + `{"key":"k","value":"v"}]}`
	h.fail(413, "UNEXPECTED_ERROR", "POST", flex, big)

	got := h.ok(200, "GET", flex+"/c1", "")
	if got["id"] != c["id"] || got["stateName"] != "IDLE" {
		t.Errorf("get %v", got)
	}
	if p := h.fail(404, "CLUSTER_NOT_FOUND", "GET", flex+"/nope", ""); p[0] != "nope" || p[1] != g {
		t.Errorf("parameters %v", p)
	}
	h.fail(404, "CLUSTER_NOT_FOUND", "GET", flex+"/bad_name", "")
	h.fail(404, "GROUP_NOT_FOUND", "GET", "/api/atlas/v2/groups/"+missingID+"/flexClusters/c1", "")
	h.fail(404, "INVALID_GROUP_ID", "GET", "/api/atlas/v2/groups/nope/flexClusters", "")

	m = h.ok(200, "GET", flex, "")
	if names := clusterNames(m); names != "c1,c2,c3" || m["totalCount"] != 3.0 {
		t.Errorf("list: %s %v (want creation order)", names, m["totalCount"])
	}

	u := h.ok(200, "PATCH", flex+"/c1", `{"tags":[{"key":"env","value":"prod"}],"terminationProtectionEnabled":true,"links":[]}`)
	if u["tags"].([]any)[0].(map[string]any)["value"] != "prod" {
		t.Errorf("patched %v", u)
	}
	h.fail(400, "INVALID_ATTRIBUTE", "PATCH", flex+"/c1", `{"name":"c9"}`)
	h.fail(400, "INVALID_JSON_ATTRIBUTE", "PATCH", flex+"/c1", `{"terminationProtectionEnabled":"no"}`)
	h.fail(404, "CLUSTER_NOT_FOUND", "PATCH", flex+"/nope", `{}`)

	h.fail(400, "CANNOT_TERMINATE_CLUSTER_WHEN_TERMINATION_PROTECTION_ENABLED", "DELETE", flex+"/c1", "")
	h.ok(200, "PATCH", flex+"/c1", `{"terminationProtectionEnabled":false}`)
	res = h.call("DELETE", flex+"/c1", "", "Accept: "+docsAccept)
	if res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("delete: %d %q", res.status, res.body)
	}
	h.fail(404, "CLUSTER_NOT_FOUND", "GET", flex+"/c1", "")
	h.fail(404, "CLUSTER_NOT_FOUND", "DELETE", flex+"/c1", "")
}

func clusterNames(m map[string]any) string {
	var names []string
	for _, r := range results(m) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	return strings.Join(names, ",")
}

func TestTenantUpgradeAndClusterRead(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "c1")
	upgrade := "/api/atlas/v2/groups/" + g + "/flexClusters:tenantUpgrade"

	h.fail(400, "FEATURE_UNSUPPORTED", "POST", upgrade, `{"name":"c1","replicationSpecs":[{"regionConfigs":[{"providerName":"AWS","electableSpecs":{"instanceSize":"M10"}}]}],"clusterType":"REPLICASET"}`)
	h.fail(404, "CLUSTER_NOT_FOUND", "POST", upgrade, `{"name":"nope"}`)
	h.fail(400, "MISSING_ATTRIBUTE", "POST", upgrade, `{}`)
	h.fail(400, "INVALID_ATTRIBUTE", "POST", upgrade, `{"name":"c1","hyperdrive":true}`)
	h.fail(405, "UNEXPECTED_ERROR", "GET", upgrade, "")

	// The Atlas CLI tells a Flex cluster apart by this 400.
	clusters := "/api/atlas/v2/groups/" + g + "/clusters/"
	for _, accept := range []string{"2024-08-05", "2023-02-01", "2023-01-01", "2025-03-12"} {
		p := h.fail(400, "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API", "GET", clusters+"c1", "", "Accept: application/vnd.atlas."+accept+"+json")
		if p[0] != "c1" {
			t.Errorf("parameters %v", p)
		}
	}
	h.fail(404, "CLUSTER_NOT_FOUND", "GET", clusters+"nope", "", "Accept: application/vnd.atlas.2024-08-05+json")
	h.fail(404, "CLUSTER_NOT_FOUND", "GET", clusters+"no_pe", "")
	h.fail(406, "INVALID_VERSION_DATE", "GET", clusters+"c1", "", "Accept: application/json")
	h.fail(404, "GROUP_NOT_FOUND", "GET", "/api/atlas/v2/groups/"+missingID+"/clusters/c1", "")
}

// exact406 is the body real Atlas answers an unusable Accept with.
const exact406 = `{"detail":"Invalid accept header or version date.","error":406,"errorCode":"INVALID_VERSION_DATE","parameters":[],"reason":"Not Acceptable"}`

func TestVersionMatrix(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "c1")
	cluster := "/api/atlas/v2/groups/" + g + "/flexClusters/c1"

	sdk := h.call("GET", cluster, "", "Accept: "+sdkAccept)
	docs := h.call("GET", cluster, "", "Accept: "+docsAccept+";charset=utf-8")
	if sdk.status != 200 || docs.status != 200 || !bytes.Equal(sdk.body, docs.body) {
		t.Fatalf("2024-11-13 and 2025-03-12 differ:\n%s\n%s", sdk.body, docs.body)
	}
	for _, r := range []*response{sdk, docs} {
		if ct := r.header.Get("Content-Type"); ct != flexType {
			t.Errorf("Content-Type %q, want %q", ct, flexType)
		}
	}
	// Projects have one version, 2023-01-01, served for any later date.
	for _, accept := range []string{"2023-01-01", "2024-11-13", "2025-03-12"} {
		r := h.call("GET", "/api/atlas/v2/groups/"+g, "", "Accept: application/vnd.atlas."+accept+"+json")
		if r.status != 200 || r.header.Get("Content-Type") != groupType {
			t.Errorf("%s: %d %s", accept, r.status, r.header.Get("Content-Type"))
		}
	}

	for _, accept := range []string{
		"Accept: application/vnd.atlas.2023-01-01+json", // before the route existed
		"Accept: application/vnd.atlas.2025-01-01+json", // not a release
		"Accept: application/vnd.atlas.2024-11-13+csv",
		"Accept: application/json",
		"Accept: */*",
		"Accept:", // missing
	} {
		for _, path := range []string{cluster, cluster + "/backup/snapshots"} {
			r := h.call("GET", path, "", accept)
			if r.status != 406 || string(r.body) != exact406 || r.header.Get("Content-Type") != "application/json" ||
				r.header.Get("X-Error-Code") != "INVALID_VERSION_DATE" {
				t.Errorf("%s %s: %d %s %s", accept, path, r.status, r.header.Get("Content-Type"), r.body)
			}
		}
	}
	// The version is checked before the path, the project and the body.
	for _, path := range []string{"/api/atlas/v2/groups/nope/flexClusters", "/api/atlas/v2/groups/" + missingID + "/flexClusters"} {
		if r := h.call("POST", path, `{"bad"`, "Accept: application/json"); r.status != 406 {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}

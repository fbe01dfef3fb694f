package atlasapi_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/flexd/flexd"
)

const tfAccept = "application/vnd.atlas.2023-01-01+json" // what Terraform sends for these routes

func TestProjectSettings(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	settings := "/api/atlas/v2/groups/" + g + "/settings"
	accept := "Accept: " + tfAccept

	got := h.ok(200, "GET", settings, "", accept)
	if len(got) != 12 || got["isDataExplorerEnabled"] != true || got["isExtendedStorageSizesEnabled"] != false ||
		got["isDataExplorerGenAISampleDocumentPassingEnabled"] != false || got["links"] != nil {
		t.Fatalf("defaults %v", got)
	}
	// Only what a PATCH names changes; the answer is the whole object.
	patched := h.ok(200, "PATCH", settings, `{"isDataExplorerEnabled":false,"isExtendedStorageSizesEnabled":true}`, accept)
	want := map[string]any{}
	for k, v := range got {
		want[k] = v
	}
	want["isDataExplorerEnabled"], want["isExtendedStorageSizesEnabled"] = false, true
	if !reflect.DeepEqual(patched, want) {
		t.Errorf("after PATCH %v, want %v", patched, want)
	}
	if again := h.ok(200, "GET", settings, "", accept); !reflect.DeepEqual(again, want) {
		t.Errorf("read back %v, want %v", again, want)
	}
	h.ok(200, "PATCH", settings, `{}`, accept)
	h.fail(400, "INVALID_ATTRIBUTE", "PATCH", settings, `{"isTeleportEnabled":true}`, accept)
	h.fail(400, "INVALID_JSON_ATTRIBUTE", "PATCH", settings, `{"isDataExplorerEnabled":"yes"}`, accept)
	h.fail(404, "GROUP_NOT_FOUND", "GET", "/api/atlas/v2/groups/"+missingID+"/settings", "", accept)
	// Settings are the project's own.
	other := h.createProject("q")
	if m := h.ok(200, "GET", "/api/atlas/v2/groups/"+other+"/settings", "", accept); m["isDataExplorerEnabled"] != true {
		t.Errorf("another project's settings %v", m)
	}
}

func TestProjectLimits(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "c1")
	limits := "/api/atlas/v2/groups/" + g + "/limits"
	accept := "Accept: " + tfAccept
	clusters := limits + "/atlas.project.deployment.clusters"

	var list []map[string]any
	res := h.call("GET", limits, "", accept)
	if err := json.Unmarshal(res.body, &list); err != nil || res.status != 200 {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	byName := map[string]map[string]any{}
	for _, l := range list {
		byName[l["name"].(string)] = l
	}
	if len(list) != 9 || byName["dataFederation.bytesProcessed.query"] != nil {
		t.Errorf("limits %s", res.body)
	}
	if c := byName["atlas.project.deployment.clusters"]; c["value"] != 25.0 || c["defaultLimit"] != 25.0 ||
		c["maximumLimit"] != 90.0 || c["currentUsage"] != 1.0 {
		t.Errorf("clusters limit %v", c)
	}

	h.ok(200, "GET", clusters, "", accept)
	if l := h.ok(200, "PATCH", clusters, `{"name":"atlas.project.deployment.clusters","value":40}`, accept); l["value"] != 40.0 || l["defaultLimit"] != 25.0 {
		t.Errorf("after PATCH %v", l)
	}
	if l := h.ok(200, "GET", clusters, "", accept); l["value"] != 40.0 {
		t.Errorf("read back %v", l)
	}
	h.fail(400, "INVALID_ATTRIBUTE", "PATCH", clusters, `{"value":91}`, accept)
	h.fail(400, "INVALID_ATTRIBUTE", "PATCH", clusters, `{"value":0}`, accept)
	h.fail(400, "MISSING_ATTRIBUTE", "PATCH", clusters, `{}`, accept)
	h.ok(204, "DELETE", clusters, "", accept)
	if l := h.ok(200, "GET", clusters, "", accept); l["value"] != 25.0 {
		t.Errorf("after DELETE %v, want the default", l)
	}

	// A limit without a default exists only once set.
	query := limits + "/dataFederation.bytesProcessed.query"
	h.fail(404, "RESOURCE_NOT_FOUND", "GET", query, "", accept)
	if l := h.ok(200, "PATCH", query, `{"value":1000000}`, accept); l["value"] != 1e6 || l["defaultLimit"] != nil {
		t.Errorf("set %v", l)
	}
	res = h.call("GET", limits, "", accept)
	if err := json.Unmarshal(res.body, &list); err != nil || len(list) != 10 {
		t.Errorf("list with a set limit: %s", res.body)
	}
	h.ok(204, "DELETE", query, "", accept)
	h.fail(404, "RESOURCE_NOT_FOUND", "GET", query, "", accept)

	if p := h.fail(400, "INVALID_PATH_PARAMETER", "GET", limits+"/atlas.nope", "", accept); p[0] != "limitName" {
		t.Errorf("parameters %v", p)
	}
	h.fail(400, "INVALID_PATH_PARAMETER", "PATCH", limits+"/atlas.nope", `{"value":1}`, accept)
	h.fail(400, "INVALID_PATH_PARAMETER", "DELETE", limits+"/atlas.nope", "", accept)
}

func TestProjectTeamsAddressesAndSlowMs(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	base := "/api/atlas/v2/groups/" + g
	accept := "Accept: " + tfAccept

	teams := h.ok(200, "GET", base+"/teams?includeCount=true&itemsPerPage=100&pageNum=1", "", accept)
	if len(results(teams)) != 0 || teams["totalCount"] != 0.0 {
		t.Errorf("teams %v", teams)
	}

	ips := h.ok(200, "GET", base+"/ipAddresses", "", accept)
	if ips["groupId"] != g || len(ips["services"].(map[string]any)["clusters"].([]any)) != 0 {
		t.Errorf("addresses of an empty project %v", ips)
	}
	h.createCluster(g, "c1")
	h.createCluster(g, "c2")
	ips = h.ok(200, "GET", base+"/ipAddresses", "", accept)
	cs := ips["services"].(map[string]any)["clusters"].([]any)
	if len(cs) != 2 || cs[0].(map[string]any)["clusterName"] != "c1" || cs[1].(map[string]any)["clusterName"] != "c2" {
		t.Errorf("addresses %v", ips)
	}
	if in, ok := cs[0].(map[string]any)["inbound"].([]any); !ok || len(in) != 0 {
		t.Errorf("inbound %v", cs[0])
	}

	slow := func() any {
		t.Helper()
		res := h.call("GET", base+"/managedSlowMs", "", accept)
		var v any
		if err := json.Unmarshal(res.body, &v); err != nil || res.status != 200 {
			t.Fatalf("managedSlowMs: %d %s", res.status, res.body)
		}
		return v
	}
	if v := slow(); v != true {
		t.Errorf("default %v, want true", v)
	}
	h.ok(204, "DELETE", base+"/managedSlowMs/disable", "", accept)
	if v := slow(); v != false {
		t.Errorf("after disable %v", v)
	}
	h.ok(204, "POST", base+"/managedSlowMs/enable", "", accept)
	if v := slow(); v != true {
		t.Errorf("after enable %v", v)
	}
	// enable and disable are their own paths: the other methods are 405s.
	h.fail(405, "UNEXPECTED_ERROR", "POST", base+"/managedSlowMs/disable", "", accept)
	// Managed slow ms is not one of the settings.
	if m := h.ok(200, "GET", base+"/settings", "", accept); m[flexd.ManagedSlowMsSetting] != nil {
		t.Errorf("settings %v", m)
	}
}

// TestNewRoutesRefuseBadInput sends malformed bodies, queries and path
// values to every route this change added: each is an Atlas 4xx, never a
// 5xx.
func TestNewRoutesRefuseBadInput(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "c1")
	p := "/api/atlas/v2/groups/" + g
	bodies := []string{`{`, `[]`, `"x"`, `null`, `{"value":1e30}`, `{"value":-1}`, `{"value":"5"}`, `{"name":7}`,
		`{"isDataExplorerEnabled":null,"x":1}`, `{"apiKey":{"desc":"","roles":["GROUP_OWNER"]},"name":"n"}`,
		`{"name":"` + strings.Repeat("n", 100) + `"}`, `{"apiKey":[],"name":"n"}`}
	paths := []struct{ method, path string }{
		{"POST", "/api/atlas/v2/orgs"}, {"PATCH", "/api/atlas/v2/orgs/" + h.orgID}, {"DELETE", "/api/atlas/v2/orgs/nope"},
		{"PATCH", "/api/atlas/v2/orgs/" + missingID},
		{"GET", p + "/settings"}, {"PATCH", p + "/settings"},
		{"GET", p + "/limits"}, {"PATCH", p + "/limits/atlas.project.deployment.clusters"},
		{"PATCH", p + "/limits/%00"}, {"GET", p + "/limits/a%2Fb"}, {"DELETE", p + "/limits/x"},
		{"GET", p + "/teams?itemsPerPage=0"}, {"GET", p + "/teams?pageNum=x"}, {"GET", p + "/ipAddresses?pretty=maybe"},
		{"GET", p + "/managedSlowMs?envelope=2"}, {"POST", p + "/managedSlowMs/enable"},
		{"GET", p + "/clusters?itemsPerPage=501"}, {"POST", p + "/clusters"}, {"PATCH", p + "/clusters/c1"},
		{"DELETE", p + "/clusters/-bad"}, {"GET", p + "/clusters/a%2Fb"},
		{"PUT", "/_flexd/instanceAdministrators/%20"}, {"DELETE", "/_flexd/instanceAdministrators/x"},
		{"GET", "/api/atlas/v2/groups/nope/settings"}, {"GET", "/api/atlas/v2/groups/" + missingID + "/limits"},
	}
	for _, rt := range paths {
		for _, body := range bodies {
			for _, accept := range []string{"Accept: " + tfAccept, "Accept: application/vnd.atlas.2023-02-01+json", "Accept: */*"} {
				res := h.call(rt.method, rt.path, body, accept)
				if res.status >= 500 {
					t.Errorf("%s %s %s (%s): %d %s", rt.method, rt.path, body, accept, res.status, res.body)
				}
			}
		}
	}
}

// TestConcurrentSettingsPatchesKeepEveryChange: a PATCH writes only the
// settings it names, so concurrent PATCHes of different settings all land
// (none writes back a value it read before another changed it).
func TestConcurrentSettingsPatchesKeepEveryChange(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	settings := "/api/atlas/v2/groups/" + g + "/settings"
	var wg sync.WaitGroup
	for name, def := range flexd.DefaultProjectSettings {
		wg.Go(func() {
			body := `{"` + name + `":` + strconv.FormatBool(!def) + `}`
			if res := h.call("PATCH", settings, body, "Accept: "+tfAccept); res.status != 200 {
				t.Errorf("PATCH %s: %d %s", body, res.status, res.body)
			}
		})
	}
	wg.Wait()
	got := h.ok(200, "GET", settings, "", "Accept: "+tfAccept)
	for name, def := range flexd.DefaultProjectSettings {
		if got[name] != !def {
			t.Errorf("%s = %v after its PATCH, want %v", name, got[name], !def)
		}
	}
}

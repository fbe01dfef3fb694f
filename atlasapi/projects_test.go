package atlasapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flexd/flexd"
)

func TestOrganizations(t *testing.T) {
	h := newHarness(t)
	orgs := "/api/atlas/v2/orgs"

	res := h.get(orgs)
	if ct := res.header.Get("Content-Type"); ct != groupType {
		t.Errorf("Content-Type %q, want %q", ct, groupType)
	}
	m := h.ok(200, "GET", orgs, "")
	if r := results(m); len(r) != 1 || m["totalCount"] != 1.0 {
		t.Fatalf("orgs: %v", m)
	}
	o := results(m)[0].(map[string]any)
	if o["id"] != h.orgID || o["name"] != "flexd" || o["isDeleted"] != false {
		t.Errorf("org %v", o)
	}
	if got := links(t, o)["self"]; got != h.base+orgs+"/"+h.orgID {
		t.Errorf("self link %q", got)
	}

	// The CLI looks organizations up by name.
	if r := results(h.ok(200, "GET", orgs+"?name=flexd", "")); len(r) != 1 {
		t.Errorf("name=flexd: %v", r)
	}
	m = h.ok(200, "GET", orgs+"?name=nope", "")
	if r := results(m); len(r) != 0 || m["totalCount"] != 0.0 {
		t.Errorf("name=nope: %v", m)
	}
	h.fail(400, "INVALID_QUERY_PARAMETER", "GET", orgs+"?name=a&name=b", "")

	o = h.ok(200, "GET", orgs+"/"+h.orgID, "")
	if o["id"] != h.orgID || links(t, o)["self"] != h.base+orgs+"/"+h.orgID {
		t.Errorf("get org %v", o)
	}
	if p := h.fail(404, "INVALID_ORG_ID", "GET", orgs+"/nope", ""); p[0] != "nope" {
		t.Errorf("parameters %v", p)
	}
	if p := h.fail(404, "ORG_NOT_FOUND", "GET", orgs+"/"+missingID, ""); p[0] != missingID {
		t.Errorf("parameters %v", p)
	}

	h.createProject("alpha")
	h.createProject("beta")
	m = h.ok(200, "GET", orgs+"/"+h.orgID+"/groups", "")
	if r := results(m); len(r) != 2 || m["totalCount"] != 2.0 {
		t.Errorf("org projects %v", m)
	}
	m = h.ok(200, "GET", orgs+"/"+h.orgID+"/groups?name=alpha", "")
	if r := results(m); len(r) != 1 || r[0].(map[string]any)["name"] != "alpha" {
		t.Errorf("org projects named alpha %v", m)
	}
	h.fail(404, "ORG_NOT_FOUND", "GET", orgs+"/"+missingID+"/groups", "")
	h.fail(404, "INVALID_ORG_ID", "GET", orgs+"/x/groups", "")
	h.fail(400, "INVALID_QUERY_PARAMETER", "GET", orgs+"/"+h.orgID+"/groups?pageNum=0", "")
}

func TestProjects(t *testing.T) {
	h := newHarness(t)
	groups := "/api/atlas/v2/groups"

	// The Go SDK sends the read-only clusterCount and a zero created.
	g := h.ok(201, "POST", groups, `{"name":"p1","orgId":"`+h.orgID+`","clusterCount":0,"created":"0001-01-01T00:00:00Z","withDefaultAlertsSettings":true}`)
	id := g["id"].(string)
	if g["name"] != "p1" || g["orgId"] != h.orgID || g["clusterCount"] != 0.0 || g["created"] == nil ||
		g["regionUsageRestrictions"] != nil || g["tags"] != nil || g["withDefaultAlertsSettings"] != true {
		t.Errorf("created %v", g)
	}
	if links(t, g)["self"] != h.base+groups+"/"+id {
		t.Errorf("self link %v", g["links"])
	}
	// orgId is optional: the caller's (here the default) organization.
	g2 := h.ok(201, "POST", groups, `{"name":"p2","tags":[{"key":"env","value":"dev"}]}`)
	if g2["orgId"] != h.orgID || g2["tags"].([]any)[0].(map[string]any)["value"] != "dev" {
		t.Errorf("created %v", g2)
	}

	h.fail(409, "GROUP_ALREADY_EXISTS", "POST", groups, `{"name":"p1"}`)
	h.fail(400, "INVALID_GROUP_NAME", "POST", groups, `{"name":"bad name!"}`)
	h.fail(400, "MISSING_ATTRIBUTE", "POST", groups, `{"orgId":"`+h.orgID+`"}`)
	h.fail(400, "MISSING_ATTRIBUTE", "POST", groups, ``)
	h.fail(400, "INVALID_ATTRIBUTE", "POST", groups, `{"name":"p3","orgId":"default"}`)
	h.fail(400, "INVALID_ATTRIBUTE", "POST", groups, `{"name":"p3","owner":"me"}`)
	h.fail(400, "INVALID_JSON_ATTRIBUTE", "POST", groups, `{"name":["p3"]}`)
	h.fail(404, "ORG_NOT_FOUND", "POST", groups, `{"name":"p3","orgId":"`+missingID+`"}`)

	got := h.ok(200, "GET", groups+"/"+id, "")
	if got["id"] != id || got["name"] != "p1" || got["created"] != g["created"] {
		t.Errorf("get %v, created %v", got, g)
	}
	h.fail(404, "INVALID_GROUP_ID", "GET", groups+"/ABC", "")
	if p := h.fail(404, "GROUP_NOT_FOUND", "GET", groups+"/"+missingID, ""); p[0] != missingID {
		t.Errorf("parameters %v", p)
	}

	m := h.ok(200, "GET", groups, "")
	if r := results(m); len(r) != 2 || m["totalCount"] != 2.0 {
		t.Errorf("list %v", m)
	}

	u := h.ok(200, "PATCH", groups+"/"+id, `{"name":"p1-renamed","tags":[{"key":"team","value":"db"}]}`)
	if u["name"] != "p1-renamed" || len(u["tags"].([]any)) != 1 {
		t.Errorf("patched %v", u)
	}
	u = h.ok(200, "PATCH", groups+"/"+id, `{}`)
	if u["name"] != "p1-renamed" || len(u["tags"].([]any)) != 1 {
		t.Errorf("empty patch changed %v", u)
	}
	u = h.ok(200, "PATCH", groups+"/"+id, `{"tags":[]}`)
	if _, present := u["tags"]; present {
		t.Errorf("tags not cleared: %v", u)
	}
	h.fail(409, "GROUP_ALREADY_EXISTS", "PATCH", groups+"/"+id, `{"name":"p2"}`)
	h.fail(400, "INVALID_ATTRIBUTE", "PATCH", groups+"/"+id, `{"orgId":"`+h.orgID+`"}`)
	h.fail(404, "GROUP_NOT_FOUND", "PATCH", groups+"/"+missingID, `{"name":"x"}`)

	h.createCluster(id, "c1")
	if got := h.ok(200, "GET", groups+"/"+id, ""); got["clusterCount"] != 1.0 {
		t.Errorf("clusterCount %v, want 1", got["clusterCount"])
	}
	h.fail(409, "CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_CLUSTERS", "DELETE", groups+"/"+id, "")
	h.ok(204, "DELETE", groups+"/"+id+"/flexClusters/c1", "")
	// Atlas answers 202 with {} in the versioned type (ATLAS-NOTES §7).
	res := h.call("DELETE", groups+"/"+id, "")
	if res.status != 202 || string(res.body) != "{}" ||
		res.header.Get("Content-Type") != "application/vnd.atlas.2023-01-01+json;charset=utf-8" {
		t.Fatalf("delete: %d %q %q", res.status, res.body, res.header.Get("Content-Type"))
	}
	h.fail(404, "GROUP_NOT_FOUND", "GET", groups+"/"+id, "")
	h.fail(404, "GROUP_NOT_FOUND", "DELETE", groups+"/"+id, "")
}

// principals sets up callers with different grants on two projects of the
// default organization and one of another organization.
func principals(t *testing.T, h *harness) (gA, gB, other string) {
	t.Helper()
	gA, gB = h.createProject("a"), h.createProject("b")
	now := time.Now().UTC().Truncate(time.Second)
	o := &flexd.Organization{ID: flexd.NewID(now), Name: "other", Created: now}
	if err := h.svc.Store().CreateOrganization(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	other = o.ID
	org := h.orgID
	h.auth.add("owner", &flexd.Principal{Kind: "apiKey", OrgID: org, OrgRoles: []flexd.Role{flexd.RoleOrgOwner}})
	h.auth.add("reader", &flexd.Principal{Kind: "apiKey", OrgID: org, OrgRoles: []flexd.Role{flexd.RoleOrgReadOnly}})
	h.auth.add("creator", &flexd.Principal{Kind: "apiKey", OrgID: org, OrgRoles: []flexd.Role{flexd.RoleOrgGroupCreator}})
	member := func(role flexd.Role) *flexd.Principal {
		return &flexd.Principal{Kind: "apiKey", OrgID: org, OrgRoles: []flexd.Role{flexd.RoleOrgMember},
			GroupRoles: map[string][]flexd.Role{gA: {role}}}
	}
	h.auth.add("member", member(flexd.RoleGroupReadOnly))
	h.auth.add("manager", member(flexd.RoleGroupClusterManager))
	h.auth.add("projectOwner", member(flexd.RoleGroupOwner))
	h.auth.add("projectOnly", &flexd.Principal{Kind: "serviceAccount", OrgID: org,
		GroupRoles: map[string][]flexd.Role{gA: {flexd.RoleGroupReadOnly}}})
	h.auth.add("stranger", &flexd.Principal{Kind: "apiKey", OrgID: other, OrgRoles: []flexd.Role{flexd.RoleOrgOwner}})
	return gA, gB, other
}

func TestAccessRules(t *testing.T) {
	h := newHarness(t)
	gA, gB, other := principals(t, h)
	org := h.orgID
	ids := func(m map[string]any) []string {
		var out []string
		for _, r := range results(m) {
			out = append(out, r.(map[string]any)["id"].(string))
		}
		return out
	}

	// Lists show what the caller may see.
	if got := ids(h.ok(200, "GET", "/api/atlas/v2/orgs", "")); len(got) != 2 {
		t.Errorf("root sees orgs %v", got)
	}
	if got := ids(h.with("stranger").ok(200, "GET", "/api/atlas/v2/orgs", "")); len(got) != 1 || got[0] != other {
		t.Errorf("stranger sees orgs %v", got)
	}
	if got := ids(h.with("member").ok(200, "GET", "/api/atlas/v2/groups", "")); len(got) != 1 || got[0] != gA {
		t.Errorf("member sees projects %v", got)
	}
	if got := ids(h.with("reader").ok(200, "GET", "/api/atlas/v2/groups", "")); len(got) != 2 {
		t.Errorf("org reader sees projects %v", got)
	}
	if m := h.with("stranger").ok(200, "GET", "/api/atlas/v2/groups", ""); len(results(m)) != 0 || m["totalCount"] != 0.0 {
		t.Errorf("stranger sees projects %v", m)
	}
	if got := ids(h.with("member").ok(200, "GET", "/api/atlas/v2/orgs/"+org+"/groups", "")); len(got) != 1 || got[0] != gA {
		t.Errorf("member sees org projects %v", got)
	}

	// Organizations.
	h.with("member").ok(200, "GET", "/api/atlas/v2/orgs/"+org, "")
	h.with("stranger").fail(401, "USER_CANNOT_ACCESS_ORG", "GET", "/api/atlas/v2/orgs/"+org, "")
	h.with("projectOnly").fail(401, "USER_UNAUTHORIZED", "GET", "/api/atlas/v2/orgs/"+org, "")
	h.with("stranger").fail(401, "USER_CANNOT_ACCESS_ORG", "GET", "/api/atlas/v2/orgs/"+org+"/groups", "")

	// Projects: existence first, then membership, then the role.
	h.with("stranger").fail(404, "GROUP_NOT_FOUND", "GET", "/api/atlas/v2/groups/"+missingID, "")
	h.with("stranger").fail(401, "NOT_IN_GROUP", "GET", "/api/atlas/v2/groups/"+gA, "")
	h.with("member").fail(401, "NOT_IN_GROUP", "GET", "/api/atlas/v2/groups/"+gB, "")
	h.with("member").ok(200, "GET", "/api/atlas/v2/groups/"+gA, "")
	h.with("member").fail(401, "USER_UNAUTHORIZED", "PATCH", "/api/atlas/v2/groups/"+gA, `{"name":"x"}`)
	h.with("reader").fail(401, "USER_UNAUTHORIZED", "DELETE", "/api/atlas/v2/groups/"+gA, "")
	h.with("projectOwner").ok(200, "PATCH", "/api/atlas/v2/groups/"+gA, `{"name":"a2"}`)

	// Creating projects needs ORG_GROUP_CREATOR in the target organization.
	if p := h.with("member").fail(401, "NOT_ORG_GROUP_CREATOR", "POST", "/api/atlas/v2/groups", `{"name":"m"}`); p[0] != org {
		t.Errorf("parameters %v", p)
	}
	if g := h.with("creator").ok(201, "POST", "/api/atlas/v2/groups", `{"name":"c"}`); g["orgId"] != org {
		t.Errorf("creator's project went to %v", g["orgId"])
	}
	h.with("creator").fail(401, "USER_CANNOT_ACCESS_ORG", "POST", "/api/atlas/v2/groups", `{"name":"c2","orgId":"`+other+`"}`)
	if g := h.with("stranger").ok(201, "POST", "/api/atlas/v2/groups", `{"name":"s"}`); g["orgId"] != other {
		t.Errorf("stranger's project went to %v", g["orgId"])
	}

	// Flex routes: read-only may read, the owner writes, the cluster
	// manager may upgrade, restore jobs need the owner.
	flex := "/api/atlas/v2/groups/" + gA + "/flexClusters"
	h.with("member").fail(401, "USER_UNAUTHORIZED", "POST", flex, clusterBody("c1"))
	h.with("projectOwner").ok(201, "POST", flex, clusterBody("c1"))
	h.with("member").ok(200, "GET", flex, "")
	h.with("member").ok(200, "GET", flex+"/c1", "")
	h.with("member").fail(401, "USER_UNAUTHORIZED", "PATCH", flex+"/c1", `{}`)
	h.with("member").fail(401, "USER_UNAUTHORIZED", "POST", flex+":tenantUpgrade", `{"name":"c1"}`)
	h.with("manager").fail(400, "FEATURE_UNSUPPORTED", "POST", flex+":tenantUpgrade", `{"name":"c1"}`)
	h.with("member").fail(400, "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API", "GET", "/api/atlas/v2/groups/"+gA+"/clusters/c1", "", "Accept: application/vnd.atlas.2024-08-05+json")
	h.with("member").ok(200, "GET", flex+"/c1/backup/snapshots", "")
	h.with("member").fail(401, "USER_UNAUTHORIZED", "GET", flex+"/c1/backup/restoreJobs", "")
	h.with("member").fail(401, "USER_UNAUTHORIZED", "POST", flex+"/c1/backup/download", `{"snapshotId":"`+missingID+`"}`)
	h.with("projectOwner").ok(200, "GET", flex+"/c1/backup/restoreJobs", "")

	// The drill route needs ORG_OWNER of the project's organization.
	drill := "/_flexd/groups/" + gA + "/flexClusters/c1/snapshots"
	h.with("projectOwner").fail(401, "USER_UNAUTHORIZED", "POST", drill, "")
	h.with("stranger").fail(401, "NOT_IN_GROUP", "POST", drill, "")
	snap := h.with("owner").ok(201, "POST", drill, "")["id"].(string)

	// The service checks the caller in a restore's target project too: the
	// transport hands it the principal in the request context.
	h.createCluster(gB, "b1")
	into := `{"snapshotId":"` + snap + `","targetDeploymentItemName":"b1","targetProjectId":"` + gB + `"}`
	h.with("projectOwner").fail(401, "NOT_IN_GROUP", "POST", flex+"/c1/backup/restoreJobs", into)
	h.with("owner").ok(200, "POST", flex+"/c1/backup/restoreJobs", into)

	h.with("member").fail(401, "USER_UNAUTHORIZED", "DELETE", flex+"/c1", "")
	h.with("projectOwner").ok(204, "DELETE", flex+"/c1", "")
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t)
	const want = "{\n" +
		"  \"error\" : 401,\n" +
		"  \"reason\" : \"Unauthorized\",\n" +
		"  \"detail\" : \"You are not authorized for this resource.\",\n" +
		"  \"errorCode\" : \"UNEXPECTED_ERROR\"\n" +
		"}"
	for _, tc := range []struct{ name, path string }{
		{"no credentials", "/api/atlas/v2/groups"},
		{"before version negotiation", "/api/atlas/v2/groups"},
		{"before path checks", "/api/atlas/v2/groups/nope/flexClusters"},
		{"unknown path", "/api/atlas/v2/nope"},
		{"drill route", "/_flexd/groups/" + missingID + "/flexClusters/c/snapshots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accept := "Accept: " + sdkAccept
			if tc.name == "before version negotiation" {
				accept = "Accept: application/json"
			}
			for _, auth := range []string{"Authorization:", "Authorization: Test nobody"} {
				res := h.call("GET", tc.path, "", auth, accept)
				if res.status != http.StatusUnauthorized || string(res.body) != want {
					t.Fatalf("%s: %d %q", auth, res.status, res.body)
				}
				if res.header.Get("Content-Type") != "application/json" ||
					res.header.Get("WWW-Authenticate") == "" {
					t.Errorf("headers %v", res.header)
				}
			}
		})
	}
	// Probes need no credentials.
	if res := h.call("GET", "/healthz", "", "Authorization:"); res.status != 200 {
		t.Errorf("healthz: %d %s", res.status, res.body)
	}
}

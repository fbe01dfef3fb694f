package atlasapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/flexd/flexd"
)

// TestTerraformProjectSequence is what `terraform apply`, a second `plan`
// and `destroy` of a mongodbatlas_project next to a mongodbatlas_flex_cluster
// send, as HTTP calls with Digest authentication (Terraform itself is not
// available here): create, read every sub-resource, write settings, read
// again with nothing changed, then delete.
func TestTerraformProjectSequence(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	tf := h.adminDigest()
	read := func(path string) string {
		t.Helper()
		res := h.call(tf, "GET", path, "", tfAccept)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		return string(res.body)
	}

	// apply
	g := h.ok(tf, 201, "POST", v2+"/groups", `{"name":"tf-project","orgId":"`+h.orgID+`","withDefaultAlertsSettings":true}`)
	gid := g["id"].(string)
	p := v2 + "/groups/" + gid
	refresh := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, sub := range []string{"", "/settings", "/teams?includeCount=true&itemsPerPage=100&pageNum=1", "/limits",
			"/ipAddresses", "/managedSlowMs"} {
			out[sub] = read(p + sub)
		}
		return out
	}
	refresh()
	settings := `{"isCollectDatabaseSpecificsStatisticsEnabled":true,"isDataExplorerEnabled":false,` +
		`"isExtendedStorageSizesEnabled":false,"isPerformanceAdvisorEnabled":true,"isRealtimePerformancePanelEnabled":true,` +
		`"isSchemaAdvisorEnabled":false}`
	res := h.call(tf, "PATCH", p+"/settings", settings, tfAccept)
	if res.status != http.StatusOK {
		t.Fatalf("PATCH settings: %d %s", res.status, res.body)
	}
	var sent, answered map[string]any
	_ = json.Unmarshal([]byte(settings), &sent)
	_ = json.Unmarshal(res.body, &answered)
	for k, v := range sent {
		if answered[k] != v {
			t.Errorf("PATCH answered %s=%v, sent %v", k, answered[k], v)
		}
	}
	h.ok(tf, 201, "POST", p+"/flexClusters", `{"name":"tf-flex","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)

	// plan: two refreshes read the same state.
	first := refresh()
	if second := refresh(); !reflect.DeepEqual(first, second) {
		t.Errorf("a second refresh drifts:\n%v\n%v", first, second)
	}
	_ = json.Unmarshal([]byte(first["/settings"]), &answered)
	for k, v := range sent {
		if answered[k] != v {
			t.Errorf("refresh reads %s=%v, applied %v", k, answered[k], v)
		}
	}

	// destroy: the provider lists dedicated clusters before deleting.
	if l := h.ok(tf, 200, "GET", p+"/clusters?includeCount=true&includeDeletedWithRetainedBackups=false&itemsPerPage=100&pageNum=1", ""); l["totalCount"] != 0.0 {
		t.Errorf("cluster list %v", l)
	}
	h.ok(tf, 204, "DELETE", p+"/flexClusters/tf-flex", "")
	h.ok(tf, 202, "DELETE", p, "")
	h.fail(tf, 404, "GROUP_NOT_FOUND", "GET", p+"/settings", "")
}

// TestGroupCreatorOwnsWhatItCreates: Atlas makes the principal that
// creates a project its Project Owner. Before, an ORG_GROUP_CREATOR key
// created a project and then got NOT_IN_GROUP reading it.
func TestGroupCreatorOwnsWhatItCreates(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	keyID, creds := h.newKey(h.orgID, flexd.RoleOrgGroupCreator)
	creator := digestCaller{creds, "MD5"}
	g := h.ok(creator, 201, "POST", v2+"/groups", `{"name":"mine"}`)
	gid := g["id"].(string)
	h.ok(creator, 200, "GET", v2+"/groups/"+gid, "")
	h.ok(creator, 200, "PATCH", v2+"/groups/"+gid+"/settings", `{"isDataExplorerEnabled":false}`)
	h.ok(creator, 201, "POST", v2+"/groups/"+gid+"/flexClusters", clusterBody("c1"))
	if m := h.ok(creator, 200, "GET", v2+"/groups", ""); m["totalCount"] != 1.0 {
		t.Errorf("the creator lists %v", m)
	}
	k := h.ok(h.adminDigest(), 200, "GET", v2+"/orgs/"+h.orgID+"/apiKeys/"+keyID, "")
	if !hasRole(k, gid, "GROUP_OWNER") {
		t.Errorf("the creator's roles %v", k["roles"])
	}
	// Another creator's project stays out of reach.
	_, otherCreds := h.newKey(h.orgID, flexd.RoleOrgGroupCreator)
	h.fail(digestCaller{otherCreds, "MD5"}, 401, "NOT_IN_GROUP", "GET", v2+"/groups/"+gid, "")

	// A service account that creates a project owns it too.
	sa := h.ok(h.adminDigest(), 201, "POST", v2+"/orgs/"+h.orgID+"/serviceAccounts",
		`{"name":"creator robot","description":"d","roles":["ORG_GROUP_CREATOR"],"secretExpiresAfterHours":8}`)
	robot := h.token(sa["clientId"].(string), secretOf(sa))
	rg := h.ok(robot, 201, "POST", v2+"/groups", `{"name":"robots"}`)
	h.ok(robot, 200, "GET", v2+"/groups/"+rg["id"].(string)+"/settings", "")
}

func hasRole(key map[string]any, groupID, role string) bool {
	roles, _ := key["roles"].([]any)
	for _, r := range roles {
		r := r.(map[string]any)
		if r["groupId"] == groupID && r["roleName"] == role {
			return true
		}
	}
	return false
}

// TestOrganizationAdministration: only the instance administrator creates and deletes
// organizations; an organization's owner may rename it; nothing of one
// organization is visible from another.
func TestOrganizationAdministration(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	admin := h.adminDigest()
	_, ownerCreds := h.newKey(h.orgID, flexd.RoleOrgOwner)
	owner := digestCaller{ownerCreds, "MD5"} // an ORG_OWNER, not an instance administrator

	h.fail(owner, 401, "USER_UNAUTHORIZED", "POST", v2+"/orgs", `{"name":"team-b"}`)
	h.fail(admin, 400, "MISSING_ATTRIBUTE", "POST", v2+"/orgs", `{}`)
	h.fail(admin, 400, "INVALID_ORG_NAME", "POST", v2+"/orgs", `{"name":"no/slash"}`)
	h.fail(admin, 400, "MISSING_API_KEY_ROLES", "POST", v2+"/orgs", `{"name":"team-b","apiKey":{"desc":"b","roles":[]}}`)
	if m := h.ok(admin, 200, "GET", v2+"/orgs", ""); m["totalCount"] != 1.0 {
		t.Fatalf("a refused create left an organization: %v", m)
	}

	created := h.ok(admin, 201, "POST", v2+"/orgs",
		`{"name":"team-b","apiKey":{"desc":"team b owner","roles":["ORG_OWNER"]},"orgOwnerId":"`+missingID+`"}`)
	orgB := created["organization"].(map[string]any)["id"].(string)
	key := created["apiKey"].(map[string]any)
	bOwner := digestCaller{digestCreds{key["publicKey"].(string), key["privateKey"].(string)}, "MD5"}

	// Team B sees its organization only, and works in it.
	if m := h.ok(bOwner, 200, "GET", v2+"/orgs", ""); m["totalCount"] != 1.0 || results(m)[0].(map[string]any)["id"] != orgB {
		t.Errorf("team B lists %v", m)
	}
	gB := h.ok(bOwner, 201, "POST", v2+"/groups", `{"name":"b-project"}`)["id"].(string)
	h.fail(owner, 401, "NOT_IN_GROUP", "GET", v2+"/groups/"+gB, "")
	h.fail(owner, 401, "USER_CANNOT_ACCESS_ORG", "GET", v2+"/orgs/"+orgB, "")
	h.fail(bOwner, 401, "USER_CANNOT_ACCESS_ORG", "GET", v2+"/orgs/"+h.orgID, "")
	for _, who := range []caller{admin, owner} {
		if m := h.ok(who, 200, "GET", v2+"/groups", ""); m["totalCount"] != 0.0 {
			t.Errorf("the default organization sees %v", m)
		}
	}

	// Rename: B's owner or the administrator; not A's owner.
	if o := h.ok(bOwner, 200, "PATCH", v2+"/orgs/"+orgB, `{"name":"team-bravo"}`); o["name"] != "team-bravo" {
		t.Errorf("renamed %v", o)
	}
	h.ok(admin, 200, "PATCH", v2+"/orgs/"+orgB, `{"name":"team-b2"}`)
	h.fail(owner, 401, "USER_CANNOT_ACCESS_ORG", "PATCH", v2+"/orgs/"+orgB, `{"name":"mine"}`)
	if o := h.ok(bOwner, 200, "GET", v2+"/orgs/"+orgB, ""); o["name"] != "team-b2" {
		t.Errorf("read back %v", o)
	}

	// Delete: the administrator only, once the projects are gone; never
	// the default organization.
	h.fail(bOwner, 401, "USER_UNAUTHORIZED", "DELETE", v2+"/orgs/"+orgB, "")
	h.fail(admin, 409, "ORG_NOT_EMPTY", "DELETE", v2+"/orgs/"+orgB, "")
	h.fail(admin, 409, "CANNOT_DELETE_DEFAULT_ORG", "DELETE", v2+"/orgs/"+h.orgID, "")
	h.fail(admin, 404, "ORG_NOT_FOUND", "DELETE", v2+"/orgs/"+missingID, "")
	h.ok(bOwner, 202, "DELETE", v2+"/groups/"+gB, "")
	h.ok(admin, 204, "DELETE", v2+"/orgs/"+orgB, "")
	// Its credentials went with it.
	h.unauthorized(h.call(bOwner, "GET", v2+"/orgs", "", ""), "a deleted organization's key")
}

// TestInstanceAdministrators: the bootstrap credential designates others,
// who may then do what it does; withdrawn, they may not.
func TestInstanceAdministrators(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	admin := h.adminDigest()
	id, creds := h.newKey(h.orgID, flexd.RoleOrgMember)
	deputy := digestCaller{creds, "MD5"}

	h.fail(deputy, 401, "USER_UNAUTHORIZED", "POST", v2+"/orgs", `{"name":"by-deputy"}`)
	h.fail(deputy, 401, "USER_UNAUTHORIZED", "PUT", "/_flexd/instanceAdministrators/"+id, "")
	h.ok(admin, 204, "PUT", "/_flexd/instanceAdministrators/"+id, "")
	h.ok(deputy, 201, "POST", v2+"/orgs", `{"name":"by-deputy"}`)
	// Being one grants nothing inside an organization.
	h.fail(deputy, 401, "USER_UNAUTHORIZED", "POST", v2+"/orgs/"+h.orgID+"/apiKeys", `{"desc":"x","roles":["ORG_OWNER"]}`)
	h.ok(admin, 204, "DELETE", "/_flexd/instanceAdministrators/"+id, "")
	h.fail(deputy, 401, "USER_UNAUTHORIZED", "POST", v2+"/orgs", `{"name":"again"}`)
	h.fail(admin, 404, "RESOURCE_NOT_FOUND", "PUT", "/_flexd/instanceAdministrators/"+missingID, "")

	// A service account is designated by its client id.
	sa := h.ok(admin, 201, "POST", v2+"/orgs/"+h.orgID+"/serviceAccounts",
		`{"name":"ops robot","description":"d","roles":["ORG_READ_ONLY"],"secretExpiresAfterHours":8}`)
	robot := h.token(sa["clientId"].(string), secretOf(sa))
	h.fail(robot, 401, "USER_UNAUTHORIZED", "POST", v2+"/orgs", `{"name":"by-robot"}`)
	h.ok(admin, 204, "PUT", "/_flexd/instanceAdministrators/"+sa["clientId"].(string), "")
	h.ok(robot, 201, "POST", v2+"/orgs", `{"name":"by-robot"}`)
}

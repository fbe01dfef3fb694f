package atlasapi_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestOrgAPIKeys(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	admin := h.adminDigest()
	keys := orgsPath + "/" + h.orgID + "/apiKeys"

	k := h.ok(admin, 200, "POST", keys, `{"desc":"reader","roles":["ORG_READ_ONLY","ORG_READ_ONLY"]}`)
	id, pub, priv := k["id"].(string), k["publicKey"].(string), k["privateKey"].(string)
	if len(pub) != 8 || strings.Trim(pub, "abcdefghijklmnopqrstuvwxyz") != "" || len(priv) != 36 {
		t.Errorf("credentials %q %q", pub, priv)
	}
	roles := k["roles"].([]any)
	if len(roles) != 1 || roles[0].(map[string]any)["roleName"] != "ORG_READ_ONLY" || roles[0].(map[string]any)["orgId"] != h.orgID {
		t.Errorf("roles %v", roles)
	}
	if links(t, k)["self"] != h.base+keys+"/"+id {
		t.Errorf("self link %v", k["links"])
	}

	// The private key is shown once; every later read masks it as Atlas
	// does, showing its last 12 characters.
	masked := "********-****-****-" + priv[len(priv)-12:]
	got := h.ok(admin, 200, "GET", keys+"/"+id, "")
	if got["privateKey"] != masked || got["publicKey"] != pub || got["desc"] != "reader" {
		t.Errorf("get %v", got)
	}
	list := h.ok(admin, 200, "GET", keys, "")
	if list["totalCount"] != 2.0 || strings.Contains(string(mustJSON(list)), priv) || !strings.Contains(string(mustJSON(list)), masked) {
		t.Errorf("list %v", list)
	}
	h.ok(digestCaller{digestCreds{pub, priv}, "SHA-256"}, 200, "GET", orgsPath+"/"+h.orgID, "")

	u := h.ok(admin, 200, "PATCH", keys+"/"+id, `{"desc":"member","roles":["ORG_MEMBER"]}`)
	if u["desc"] != "member" || u["roles"].([]any)[0].(map[string]any)["roleName"] != "ORG_MEMBER" {
		t.Errorf("patched %v", u)
	}
	h.ok(admin, 200, "PATCH", keys+"/"+id, `{}`)

	// Errors, as ATLAS-ERRORS.md lists them.
	h.fail(admin, 400, "API_KEY_REQUIRES_DESCRIPTION", "POST", keys, `{"roles":["ORG_OWNER"]}`)
	h.fail(admin, 400, "API_KEY_REQUIRES_DESCRIPTION", "POST", keys, `{"desc":"","roles":["ORG_OWNER"]}`)
	if p := h.fail(admin, 400, "INVALID_API_KEY_DESC", "POST", keys, `{"desc":"`+strings.Repeat("d", 251)+`","roles":["ORG_OWNER"]}`); p[0] != 250.0 {
		t.Errorf("parameters %v", p)
	}
	h.fail(admin, 400, "MISSING_API_KEY_ROLES", "POST", keys, `{"desc":"d"}`)
	h.fail(admin, 400, "MISSING_API_KEY_ROLES", "POST", keys, `{"desc":"d","roles":[]}`)
	if p := h.fail(admin, 400, "INVALID_ROLE_FOR_ORG", "POST", keys, `{"desc":"d","roles":["GROUP_OWNER"]}`); p[0] != "GROUP_OWNER" || p[1] != h.orgID {
		t.Errorf("parameters %v", p)
	}
	h.fail(admin, 400, "INVALID_ROLE_FOR_ORG", "POST", keys, `{"desc":"d","roles":["NOPE"]}`)
	h.fail(admin, 400, "MISSING_API_KEY_ROLES", "PATCH", keys+"/"+id, `{"roles":[]}`)
	h.fail(admin, 400, "INVALID_ATTRIBUTE", "POST", keys, `{"desc":"d","roles":["ORG_OWNER"],"owner":"me"}`)
	h.ok(admin, 200, "POST", keys, `{"desc":"d","roles":["ORG_OWNER"],"id":"x","publicKey":"y"}`) // read-only echoes
	if p := h.fail(admin, 400, "API_KEY_NOT_FOUND", "GET", keys+"/"+missingID, ""); p[0] != missingID {
		t.Errorf("parameters %v", p)
	}
	h.fail(admin, 400, "API_KEY_NOT_FOUND", "PATCH", keys+"/"+missingID, `{"desc":"x"}`)
	h.fail(admin, 400, "INVALID_PATH_PARAMETER", "GET", keys+"/nope", "")
	if res := h.call(admin, "GET", keys, "", "application/json"); res.status != 406 || res.header.Get("X-Error-Code") != "INVALID_VERSION_DATE" {
		t.Errorf("unversioned Accept: %d %s", res.status, res.body)
	}
	// A later release date (the SDK's flex version) serves 2023-01-01.
	if res := h.call(admin, "GET", keys, "", "application/vnd.atlas.2024-11-13+json"); res.status != 200 ||
		res.header.Get("Content-Type") != "application/vnd.atlas.2023-01-01+json;charset=utf-8" {
		t.Errorf("version negotiation: %d %s", res.status, res.header.Get("Content-Type"))
	}

	h.ok(admin, 204, "DELETE", keys+"/"+id, "")
	h.fail(admin, 400, "API_KEY_NOT_FOUND", "DELETE", keys+"/"+id, "")
}

func TestProjectAPIKeys(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	admin := h.adminDigest()
	gid := h.ok(admin, 201, "POST", "/api/atlas/v2/groups", `{"name":"keys"}`)["id"].(string)
	keys := "/api/atlas/v2/groups/" + gid + "/apiKeys"

	k := h.ok(admin, 200, "POST", keys, `{"desc":"deployer","roles":["GROUP_CLUSTER_MANAGER"]}`)
	id := k["id"].(string)
	// A key created in a project is an Organization Member of the
	// project's organization, and its roles say so first, as Atlas's do
	// (ATLAS-NOTES §7: "a project API key's roles lists its organization
	// roles ({orgId, roleName}) as well as its project roles").
	wantRoles := `[{"orgId":"` + h.orgID + `","roleName":"ORG_MEMBER"},{"groupId":"` + gid + `","roleName":"GROUP_CLUSTER_MANAGER"}]`
	if string(mustJSON(k["roles"])) != wantRoles || k["privateKey"] == nil {
		t.Errorf("created %v", k)
	}
	pk := digestCaller{digestCreds{k["publicKey"].(string), k["privateKey"].(string)}, "MD5"}
	h.ok(pk, 200, "GET", "/api/atlas/v2/groups/"+gid+"/flexClusters", "")
	h.fail(pk, 401, "USER_UNAUTHORIZED", "DELETE", "/api/atlas/v2/groups/"+gid, "")
	if m := h.ok(admin, 200, "GET", orgsPath+"/"+h.orgID+"/apiKeys/"+id, ""); string(mustJSON(m["roles"])) != wantRoles {
		t.Errorf("in the organization: %v", m)
	}
	if m := h.ok(admin, 200, "GET", keys, ""); string(mustJSON(results(m)[0].(map[string]any)["roles"])) != wantRoles {
		t.Errorf("in the project: %v", m)
	}
	// As a member it reads the organization and its keys, and lists only
	// its own project; another project of the organization stays closed.
	h.ok(pk, 200, "GET", orgsPath+"/"+h.orgID, "")
	h.ok(pk, 200, "GET", orgsPath+"/"+h.orgID+"/apiKeys", "")
	other := h.ok(admin, 201, "POST", "/api/atlas/v2/groups", `{"name":"other"}`)["id"].(string)
	h.fail(pk, 401, "NOT_IN_GROUP", "GET", "/api/atlas/v2/groups/"+other, "")
	h.fail(pk, 401, "USER_UNAUTHORIZED", "POST", orgsPath+"/"+h.orgID+"/apiKeys", `{"desc":"d","roles":["ORG_OWNER"]}`)
	for _, path := range []string{"/api/atlas/v2/groups", orgsPath + "/" + h.orgID + "/groups"} {
		if m := h.ok(pk, 200, "GET", path, ""); m["totalCount"] != 1.0 || results(m)[0].(map[string]any)["id"] != gid {
			t.Errorf("GET %s as the project key: %v", path, m)
		}
	}
	if p := h.fail(admin, 400, "INVALID_ROLE_FOR_GROUP", "POST", keys, `{"desc":"d","roles":["ORG_OWNER"]}`); p[0] != "ORG_OWNER" || p[1] != gid {
		t.Errorf("parameters %v", p)
	}
	h.fail(admin, 400, "MISSING_API_KEY_ROLES", "POST", keys, `{"desc":"d","roles":[]}`)

	// An organization key assigned with roles, changed, then unassigned.
	orgKey, creds := h.newKey(h.orgID, "ORG_MEMBER")
	ok := digestCaller{creds, "MD5"}
	h.fail(ok, 401, "NOT_IN_GROUP", "GET", "/api/atlas/v2/groups/"+gid, "")
	h.fail(admin, 400, "API_KEY_NOT_FOUND", "PATCH", keys+"/"+orgKey, `{"roles":["GROUP_OWNER"]}`)
	h.ok(admin, 204, "POST", keys+"/"+orgKey, `[{"roles":["GROUP_READ_ONLY"]},{"roles":["GROUP_CLUSTER_MANAGER"]}]`)
	h.ok(ok, 200, "GET", "/api/atlas/v2/groups/"+gid, "")
	// Listed in the project, a key shows its organization roles beside
	// its project roles, as Atlas lists them.
	list := h.ok(admin, 200, "GET", keys, "")
	want := `[{"orgId":"` + h.orgID + `","roleName":"ORG_MEMBER"},{"groupId":"` + gid + `","roleName":"GROUP_READ_ONLY"},{"groupId":"` + gid + `","roleName":"GROUP_CLUSTER_MANAGER"}]`
	if list["totalCount"] != 2.0 || string(mustJSON(results(list)[1].(map[string]any)["roles"])) != want {
		t.Errorf("project keys %v", list)
	}
	u := h.ok(admin, 200, "PATCH", keys+"/"+orgKey, `{"roles":["GROUP_OWNER"],"desc":"now owner"}`)
	if u["desc"] != "now owner" || len(u["roles"].([]any)) != 2 { // ORG_MEMBER and GROUP_OWNER
		t.Errorf("patched %v", u)
	}
	h.ok(ok, 200, "PATCH", "/api/atlas/v2/groups/"+gid, `{}`)
	h.fail(admin, 400, "INVALID_JSON", "POST", keys+"/"+orgKey, `{"roles":["GROUP_OWNER"]}`)
	h.fail(admin, 400, "MALFORMED_JSON", "POST", keys+"/"+orgKey, `[{"roles":`)
	if p := h.fail(admin, 400, "INVALID_ATTRIBUTE", "POST", keys+"/"+orgKey, `[{"roles":["GROUP_OWNER"],"x":1}]`); p[0] != "[0].x" {
		t.Errorf("parameters %v", p)
	}
	h.fail(admin, 400, "INVALID_ROLE_FOR_GROUP", "POST", keys+"/"+orgKey, `[{"roles":["ORG_OWNER"]}]`)
	h.fail(admin, 400, "MISSING_API_KEY_ROLES", "POST", keys+"/"+orgKey, `[]`)
	h.ok(admin, 204, "DELETE", keys+"/"+orgKey, "")
	h.fail(ok, 401, "NOT_IN_GROUP", "GET", "/api/atlas/v2/groups/"+gid, "")
	h.fail(admin, 400, "API_KEY_NOT_FOUND", "DELETE", keys+"/"+orgKey, "")
	h.fail(admin, 400, "API_KEY_NOT_FOUND", "POST", keys+"/"+missingID, `[{"roles":["GROUP_OWNER"]}]`)
}

func TestServiceAccounts(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	admin := h.adminDigest()
	sas := orgsPath + "/" + h.orgID + "/serviceAccounts"

	sa := h.ok(admin, 201, "POST", sas, `{"name":"Backup bot","description":"Takes backups","roles":["ORG_READ_ONLY"],"secretExpiresAfterHours":8}`)
	cid := sa["clientId"].(string)
	sec := sa["secrets"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(cid, "mdb_sa_id_") || !strings.HasPrefix(sec["secret"].(string), "mdb_sa_sk_") || sa["name"] != "Backup bot" {
		t.Fatalf("created %v", sa)
	}
	got := h.ok(admin, 200, "GET", sas+"/"+cid, "")
	if s := got["secrets"].([]any)[0].(map[string]any); s["secret"] != nil || s["id"] != sec["id"] {
		t.Errorf("secret shown again: %v", s)
	}
	if l := h.ok(admin, 200, "GET", sas, ""); l["totalCount"] != 1.0 {
		t.Errorf("list %v", l)
	}
	u := h.ok(admin, 200, "PATCH", sas+"/"+cid, `{"name":"Renamed","roles":["ORG_MEMBER"]}`)
	if u["name"] != "Renamed" || u["description"] != "Takes backups" || !slices.Equal(u["roles"].([]any), []any{"ORG_MEMBER"}) {
		t.Errorf("patched %v", u)
	}

	h.fail(admin, 400, "MISSING_ATTRIBUTE", "POST", sas, `{"name":"x","roles":["ORG_MEMBER"],"secretExpiresAfterHours":8}`)
	h.fail(admin, 400, "MISSING_ATTRIBUTE", "POST", sas, `{"name":"x","description":"d","roles":["ORG_MEMBER"]}`)
	h.fail(admin, 400, "INVALID_ATTRIBUTE", "POST", sas, `{"name":"bad/name","description":"d","roles":["ORG_MEMBER"],"secretExpiresAfterHours":8}`)
	h.fail(admin, 400, "INVALID_ATTRIBUTE", "POST", sas, `{"name":"x","description":"d","roles":["ORG_MEMBER"],"secretExpiresAfterHours":2}`)
	h.fail(admin, 400, "INVALID_ROLE_FOR_ORG", "POST", sas, `{"name":"x","description":"d","roles":["GROUP_OWNER"],"secretExpiresAfterHours":8}`)
	h.fail(admin, 404, "SERVICE_ACCOUNT_NOT_FOUND", "GET", sas+"/mdb_sa_id_000000000000000000000000", "")
	h.fail(admin, 404, "SERVICE_ACCOUNT_NOT_FOUND", "GET", sas+"/garbage", "")

	// Secrets: two at most, each shown once.
	s2 := h.ok(admin, 201, "POST", sas+"/"+cid+"/secrets", `{"secretExpiresAfterHours":48}`)
	if s2["secret"] == nil || s2["expiresAt"] == nil {
		t.Errorf("secret %v", s2)
	}
	h.fail(admin, 400, "VALIDATION_ERROR", "POST", sas+"/"+cid+"/secrets", `{"secretExpiresAfterHours":48}`)
	h.fail(admin, 400, "MISSING_ATTRIBUTE", "POST", sas+"/"+cid+"/secrets", `{}`)
	h.ok(admin, 204, "DELETE", sas+"/"+cid+"/secrets/"+s2["id"].(string), "")
	h.fail(admin, 404, "RESOURCE_NOT_FOUND", "DELETE", sas+"/"+cid+"/secrets/"+s2["id"].(string), "")

	// The project side: create, invite, change, list, remove.
	gid := h.ok(admin, 201, "POST", "/api/atlas/v2/groups", `{"name":"sa-project"}`)["id"].(string)
	psas := "/api/atlas/v2/groups/" + gid + "/serviceAccounts"
	ps := h.ok(admin, 201, "POST", psas, `{"name":"deployer","description":"d","roles":["GROUP_CLUSTER_MANAGER"],"secretExpiresAfterHours":8}`)
	if !slices.Equal(ps["roles"].([]any), []any{"GROUP_CLUSTER_MANAGER"}) {
		t.Errorf("project account %v", ps)
	}
	// The spec: "The Service Account will automatically be added as an
	// Organization Member to the Organization" of the project. It is,
	// and stays one when removed from the project.
	pcid := ps["clientId"].(string)
	if o := h.ok(admin, 200, "GET", sas+"/"+pcid, ""); !slices.Equal(o["roles"].([]any), []any{"ORG_MEMBER"}) {
		t.Errorf("project account in the organization %v", o)
	}
	h.ok(h.token(pcid, secretOf(ps)), 200, "GET", orgsPath+"/"+h.orgID, "")
	h.ok(admin, 204, "DELETE", psas+"/"+pcid, "")
	if o := h.ok(admin, 200, "GET", sas+"/"+pcid, ""); !slices.Equal(o["roles"].([]any), []any{"ORG_MEMBER"}) {
		t.Errorf("removed from its project, the account is %v", o)
	}
	h.fail(admin, 404, "SERVICE_ACCOUNT_NOT_FOUND", "GET", psas+"/"+cid, "")
	inv := h.ok(admin, 200, "POST", psas+"/"+cid+":invite", `{"roles":["GROUP_READ_ONLY"]}`)
	if !slices.Equal(inv["roles"].([]any), []any{"GROUP_READ_ONLY"}) || inv["clientId"] != cid {
		t.Errorf("invited %v", inv)
	}
	h.ok(admin, 200, "GET", psas+"/"+cid, "")
	if l := h.ok(admin, 200, "GET", psas, ""); l["totalCount"] != 1.0 {
		t.Errorf("project accounts %v", l)
	}
	groups := h.ok(admin, 200, "GET", sas+"/"+cid+"/groups", "")
	if r := results(groups); len(r) != 1 || r[0].(map[string]any)["groupId"] != gid {
		t.Errorf("account's projects %v", groups)
	}
	pu := h.ok(admin, 200, "PATCH", psas+"/"+cid, `{"roles":["GROUP_OWNER"],"description":"new"}`)
	if !slices.Equal(pu["roles"].([]any), []any{"GROUP_OWNER"}) || pu["description"] != "new" {
		t.Errorf("patched in project %v", pu)
	}
	h.fail(admin, 400, "INVALID_ROLE_FOR_GROUP", "POST", psas+"/"+cid+":invite", `{"roles":["ORG_OWNER"]}`)
	// Only :invite is a custom method there; any other POST is the plain
	// resource's 405.
	h.fail(admin, 405, "UNEXPECTED_ERROR", "POST", psas+"/"+cid+":nope", `{"roles":["GROUP_OWNER"]}`)
	h.fail(admin, 405, "UNEXPECTED_ERROR", "POST", psas+"/"+cid, `{"roles":["GROUP_OWNER"]}`)
	h.ok(admin, 204, "DELETE", psas+"/"+cid, "")
	h.fail(admin, 404, "SERVICE_ACCOUNT_NOT_FOUND", "DELETE", psas+"/"+cid, "")
	h.ok(admin, 200, "GET", sas+"/"+cid, "") // still in the organization
	h.ok(admin, 204, "DELETE", sas+"/"+cid, "")
	h.fail(admin, 404, "SERVICE_ACCOUNT_NOT_FOUND", "GET", sas+"/"+cid, "")
}

// TestConcurrentCredentialPatches is the race the issue reports, through
// the API: an organization owner takes ORG_OWNER away from a credential
// while a project owner changes its description, at the same moment, many
// times. The revoked role must never come back. Before the fix the
// description change wrote back the roles it had read: 150 rounds on the
// old code failed in 2 runs of 2 (the deterministic interleaving is
// service.TestRevokedRolesStayRevoked).
func TestConcurrentCredentialPatches(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	admin := h.adminDigest()
	gid := h.ok(admin, 201, "POST", "/api/atlas/v2/groups", `{"name":"race"}`)["id"].(string)
	both := func(a, b func() *response) (*response, *response) {
		var ra, rb *response
		var wg sync.WaitGroup
		wg.Go(func() { ra = a() })
		wg.Go(func() { rb = b() })
		wg.Wait()
		return ra, rb
	}
	for range 100 {
		id, _ := h.newKey(h.orgID, "ORG_OWNER")
		h.ok(admin, 204, "POST", "/api/atlas/v2/groups/"+gid+"/apiKeys/"+id, `[{"roles":["GROUP_READ_ONLY"]}]`)
		r1, r2 := both(func() *response {
			return h.call(admin, "PATCH", orgsPath+"/"+h.orgID+"/apiKeys/"+id, `{"roles":["ORG_MEMBER"]}`, "")
		}, func() *response {
			return h.call(admin, "PATCH", "/api/atlas/v2/groups/"+gid+"/apiKeys/"+id, `{"desc":"renamed"}`, "")
		})
		if r1.status != 200 || r2.status != 200 {
			t.Fatalf("PATCHes: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
		}
		k := h.ok(admin, 200, "GET", orgsPath+"/"+h.orgID+"/apiKeys/"+id, "")
		if roles := string(mustJSON(k["roles"])); strings.Contains(roles, "ORG_OWNER") || !strings.Contains(roles, "ORG_MEMBER") {
			t.Fatalf("API key %s has %s after ORG_OWNER was revoked", id, roles)
		}

		sa := h.ok(admin, 201, "POST", orgsPath+"/"+h.orgID+"/serviceAccounts",
			`{"name":"race","description":"d","roles":["ORG_OWNER"],"secretExpiresAfterHours":8}`)
		cid := sa["clientId"].(string)
		h.ok(admin, 200, "POST", "/api/atlas/v2/groups/"+gid+"/serviceAccounts/"+cid+":invite", `{"roles":["GROUP_READ_ONLY"]}`)
		r1, r2 = both(func() *response {
			return h.call(admin, "PATCH", orgsPath+"/"+h.orgID+"/serviceAccounts/"+cid, `{"roles":["ORG_MEMBER"]}`, "")
		}, func() *response {
			return h.call(admin, "PATCH", "/api/atlas/v2/groups/"+gid+"/serviceAccounts/"+cid, `{"description":"renamed"}`, "")
		})
		if r1.status != 200 || r2.status != 200 {
			t.Fatalf("PATCHes: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
		}
		a := h.ok(admin, 200, "GET", orgsPath+"/"+h.orgID+"/serviceAccounts/"+cid, "")
		if roles := string(mustJSON(a["roles"])); strings.Contains(roles, "ORG_OWNER") || !strings.Contains(roles, "ORG_MEMBER") {
			t.Fatalf("service account %s has %s after ORG_OWNER was revoked", cid, roles)
		}
	}
}

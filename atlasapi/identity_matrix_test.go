package atlasapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
)

// need is what a route demands of its caller, in ATLAS-NOTES §4's terms.
type need int

const (
	anyCaller        need = iota // lists narrow to what the caller may see
	orgReader                    // Organization Member or Organization Read Only in {orgId}
	orgMember                    // Organization Member in {orgId}
	orgOwner                     // Organization Owner in {orgId}
	groupCreator                 // Organization Group Creator in the body's org
	projectReadOnly              // Project Read Only in {groupId}
	clusterManager               // Project Cluster Manager in {groupId}
	projectOwner                 // Project Owner in {groupId}
	orgOwnerOfGroup              // flexd's drills: Organization Owner of {groupId}'s org
	orgOwnerAnywhere             // flexd's reset: Organization Owner (of its own organization)
	instanceAdmin                // flexd's instance administrator (here: A's first key)
)

// The matrixPrincipals of the matrix, all of organization A. Those named
// group… and the service account were created through their project's
// endpoint, which makes them Organization Members too: the spec's create
// operation for project service accounts says "The Service Account will
// automatically be added as an Organization Member to the Organization",
// and Atlas's recorded answers list a project API key's organization roles
// beside its project roles (ATLAS-NOTES §7).
var matrixPrincipals = []string{"orgOwner", "orgMember", "orgReadOnly", "orgGroupCreator",
	"groupOwner", "groupClusterManager", "groupReadOnly", "serviceAccountGroupOwner"}

// Error answers, byte for byte.
const (
	userUnauthorized  = `{"detail":"Current user is not authorized to perform this action.","error":401,"errorCode":"USER_UNAUTHORIZED","parameters":[],"reason":"Unauthorized"}`
	notInGroup        = `{"detail":"The current user is not in the group, or the group does not exist.","error":401,"errorCode":"NOT_IN_GROUP","parameters":[],"reason":"Unauthorized"}`
	cannotAccessOrg   = `{"detail":"User cannot access this organization.","error":401,"errorCode":"USER_CANNOT_ACCESS_ORG","parameters":[],"reason":"Unauthorized"}`
	notGroupCreatorOf = `{"detail":"The currently logged in user does not have the group creator role in organization {org}.","error":401,"errorCode":"NOT_ORG_GROUP_CREATOR","parameters":["{org}"],"reason":"Unauthorized"}`
)

// denied is the matrix itself: for each need, what each principal gets
// ("" for allowed). Written out rather than computed, so that it checks
// the authorizer instead of restating it.
var denied = map[need]map[string]string{
	anyCaller: {},
	// GET /orgs/{orgId} and its project list: "must have the Organization
	// Member role", which every principal here holds or (orgGroupCreator)
	// implies; Organization Read Only passes too (routes_spec_test.go says
	// why). The project principals were refused before, when flexd gave
	// project-created credentials no organization role.
	orgReader: {},
	// The organization's API keys and service accounts: "must have the
	// Organization Member role" (GET /orgs/{orgId}/apiKeys and
	// /{apiUserId}); the project principals are members now (above).
	// Organization Read Only is no Organization Member, and flexd keeps
	// that narrower reading for credentials.
	orgMember: {"orgReadOnly": userUnauthorized},
	orgOwner: {"orgMember": userUnauthorized, "orgReadOnly": userUnauthorized, "orgGroupCreator": userUnauthorized,
		"groupOwner": userUnauthorized, "groupClusterManager": userUnauthorized, "groupReadOnly": userUnauthorized,
		"serviceAccountGroupOwner": userUnauthorized},
	groupCreator: {"orgMember": notGroupCreatorOf, "orgReadOnly": notGroupCreatorOf, "groupOwner": notGroupCreatorOf,
		"groupClusterManager": notGroupCreatorOf, "groupReadOnly": notGroupCreatorOf, "serviceAccountGroupOwner": notGroupCreatorOf},
	// Organization Member (and Project Creator, a member too) reaches only
	// the projects it holds a role in: Organization Read Only, which the
	// spec lets list every project ("Organization Read Only role or
	// higher", GET /groups), is the only organization role below Owner
	// that reads them all.
	projectReadOnly: {"orgMember": notInGroup, "orgGroupCreator": notInGroup},
	clusterManager: {"orgMember": notInGroup, "orgGroupCreator": notInGroup, "orgReadOnly": userUnauthorized,
		"groupReadOnly": userUnauthorized},
	projectOwner: {"orgMember": notInGroup, "orgGroupCreator": notInGroup, "orgReadOnly": userUnauthorized,
		"groupReadOnly": userUnauthorized, "groupClusterManager": userUnauthorized},
	orgOwnerOfGroup: {"orgMember": notInGroup, "orgGroupCreator": notInGroup, "orgReadOnly": userUnauthorized,
		"groupOwner": userUnauthorized, "groupClusterManager": userUnauthorized, "groupReadOnly": userUnauthorized,
		"serviceAccountGroupOwner": userUnauthorized},
	instanceAdmin: {"orgMember": userUnauthorized, "orgReadOnly": userUnauthorized, "orgGroupCreator": userUnauthorized,
		"groupOwner": userUnauthorized, "groupClusterManager": userUnauthorized, "groupReadOnly": userUnauthorized,
		"serviceAccountGroupOwner": userUnauthorized},
	orgOwnerAnywhere: {"orgMember": userUnauthorized, "orgReadOnly": userUnauthorized, "orgGroupCreator": userUnauthorized,
		"groupOwner": userUnauthorized, "groupClusterManager": userUnauthorized, "groupReadOnly": userUnauthorized,
		"serviceAccountGroupOwner": userUnauthorized},
}

// matrixRoute is one route with a request whose outcome, once allowed,
// changes nothing (a no-op PATCH, a read, or a request that fails after
// authorization), so every principal meets the same state.
type matrixRoute struct {
	method, pattern string
	need            need
	body            string
	vars            map[string]string // overrides of the default path values
}

const (
	missingClient = "mdb_sa_id_000000000000000000000000"
	v2            = "/api/atlas/v2"
)

var matrixRoutes = []matrixRoute{
	{"GET", v2 + "/orgs", anyCaller, "", nil},
	{"POST", v2 + "/orgs", instanceAdmin, `{"name":"bad name!"}`, nil},
	{"GET", v2 + "/orgs/{orgId}", orgReader, "", nil},
	{"PATCH", v2 + "/orgs/{orgId}", orgOwner, `{"name":"bad name!"}`, nil},
	{"DELETE", v2 + "/orgs/{orgId}", instanceAdmin, "", nil}, // the default organization: 409
	{"GET", v2 + "/orgs/{orgId}/groups", orgReader, "", nil},
	{"GET", v2 + "/groups", anyCaller, "", nil},
	{"POST", v2 + "/groups", groupCreator, `{"name":"bad name!","orgId":"{orgId}"}`, nil},
	{"GET", v2 + "/groups/{groupId}", projectReadOnly, "", nil},
	{"PATCH", v2 + "/groups/{groupId}", projectOwner, `{}`, nil},
	{"DELETE", v2 + "/groups/{groupId}", projectOwner, "", nil}, // it has a cluster: 409
	{"GET", v2 + "/groups/{groupId}/settings", projectReadOnly, "", nil},
	{"PATCH", v2 + "/groups/{groupId}/settings", projectOwner, `{}`, nil},
	{"GET", v2 + "/groups/{groupId}/limits", projectReadOnly, "", nil},
	{"GET", v2 + "/groups/{groupId}/limits/{limitName}", projectReadOnly, "", nil},
	{"PATCH", v2 + "/groups/{groupId}/limits/{limitName}", projectOwner, `{"value":0}`, nil},
	{"DELETE", v2 + "/groups/{groupId}/limits/{limitName}", projectOwner, "", nil},
	{"GET", v2 + "/groups/{groupId}/teams", projectReadOnly, "", nil},
	{"GET", v2 + "/groups/{groupId}/ipAddresses", projectReadOnly, "", nil},
	{"GET", v2 + "/groups/{groupId}/managedSlowMs", projectReadOnly, "", nil},
	{"POST", v2 + "/groups/{groupId}/managedSlowMs/enable", projectOwner, "", nil},
	{"DELETE", v2 + "/groups/{groupId}/managedSlowMs/disable", projectOwner, "", nil},
	{"GET", v2 + "/groups/{groupId}/clusters", projectReadOnly, "", nil},
	{"POST", v2 + "/groups/{groupId}/clusters", projectOwner, `{}`, nil},
	{"GET", v2 + "/groups/{groupId}/clusters/{clusterName}", projectReadOnly, "", nil},
	{"PATCH", v2 + "/groups/{groupId}/clusters/{clusterName}", clusterManager, `{}`, nil},
	{"DELETE", v2 + "/groups/{groupId}/clusters/{clusterName}", projectOwner, "", nil},
	{"GET", v2 + "/groups/{groupId}/flexClusters", projectReadOnly, "", nil},
	{"POST", v2 + "/groups/{groupId}/flexClusters", projectOwner,
		`{"name":"{name}","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`, nil},
	{"POST", v2 + "/groups/{groupId}/flexClusters:tenantUpgrade", clusterManager, `{"name":"nope"}`, nil},
	{"GET", v2 + "/groups/{groupId}/flexClusters/{name}", projectReadOnly, "", nil},
	{"PATCH", v2 + "/groups/{groupId}/flexClusters/{name}", projectOwner, `{}`, nil},
	{"DELETE", v2 + "/groups/{groupId}/flexClusters/{name}", projectOwner, "", map[string]string{"name": "nope"}},
	{"GET", v2 + "/groups/{groupId}/flexClusters/{name}/backup/snapshots", projectReadOnly, "", nil},
	{"GET", v2 + "/groups/{groupId}/flexClusters/{name}/backup/snapshots/{snapshotId}", projectReadOnly, "", nil},
	{"POST", v2 + "/groups/{groupId}/flexClusters/{name}/backup/download", projectOwner, `{"snapshotId":"` + missingID + `"}`, nil},
	{"GET", v2 + "/groups/{groupId}/flexClusters/{name}/backup/restoreJobs", projectOwner, "", nil},
	{"POST", v2 + "/groups/{groupId}/flexClusters/{name}/backup/restoreJobs", projectOwner,
		`{"snapshotId":"` + missingID + `","targetDeploymentItemName":"{name}"}`, nil},
	{"GET", v2 + "/groups/{groupId}/flexClusters/{name}/backup/restoreJobs/{restoreJobId}", projectOwner, "", nil},

	{"GET", v2 + "/orgs/{orgId}/apiKeys", orgMember, "", nil},
	{"POST", v2 + "/orgs/{orgId}/apiKeys", orgOwner, `{"desc":"","roles":["ORG_OWNER"]}`, nil},
	{"GET", v2 + "/orgs/{orgId}/apiKeys/{apiUserId}", orgMember, "", nil},
	{"PATCH", v2 + "/orgs/{orgId}/apiKeys/{apiUserId}", orgOwner, `{}`, nil},
	{"DELETE", v2 + "/orgs/{orgId}/apiKeys/{apiUserId}", orgOwner, "", map[string]string{"apiUserId": missingID}},
	{"GET", v2 + "/groups/{groupId}/apiKeys", projectOwner, "", nil},
	{"POST", v2 + "/groups/{groupId}/apiKeys", projectOwner, `{"desc":"","roles":["GROUP_OWNER"]}`, nil},
	{"POST", v2 + "/groups/{groupId}/apiKeys/{apiUserId}", projectOwner, `[{"roles":["GROUP_OWNER"]}]`, map[string]string{"apiUserId": missingID}},
	{"PATCH", v2 + "/groups/{groupId}/apiKeys/{apiUserId}", projectOwner, `{}`, map[string]string{"apiUserId": missingID}},
	{"DELETE", v2 + "/groups/{groupId}/apiKeys/{apiUserId}", projectOwner, "", map[string]string{"apiUserId": missingID}},

	{"GET", v2 + "/orgs/{orgId}/serviceAccounts", orgMember, "", nil},
	{"POST", v2 + "/orgs/{orgId}/serviceAccounts", orgOwner, `{}`, nil},
	{"GET", v2 + "/orgs/{orgId}/serviceAccounts/{clientId}", orgMember, "", nil},
	{"PATCH", v2 + "/orgs/{orgId}/serviceAccounts/{clientId}", orgOwner, `{}`, nil},
	{"DELETE", v2 + "/orgs/{orgId}/serviceAccounts/{clientId}", orgOwner, "", map[string]string{"clientId": missingClient}},
	{"GET", v2 + "/orgs/{orgId}/serviceAccounts/{clientId}/groups", orgMember, "", nil},
	{"POST", v2 + "/orgs/{orgId}/serviceAccounts/{clientId}/secrets", orgOwner, `{}`, nil},
	{"DELETE", v2 + "/orgs/{orgId}/serviceAccounts/{clientId}/secrets/{secretId}", orgOwner, "", nil},
	{"GET", v2 + "/groups/{groupId}/serviceAccounts", projectOwner, "", nil},
	{"POST", v2 + "/groups/{groupId}/serviceAccounts", projectOwner, `{}`, nil},
	{"GET", v2 + "/groups/{groupId}/serviceAccounts/{clientId}", projectOwner, "", nil},
	{"PATCH", v2 + "/groups/{groupId}/serviceAccounts/{clientId}", projectOwner, `{}`, nil},
	{"DELETE", v2 + "/groups/{groupId}/serviceAccounts/{clientId}", projectOwner, "", map[string]string{"clientId": missingClient}},
	{"POST", v2 + "/groups/{groupId}/serviceAccounts/{clientId}:invite", projectOwner, `{"roles":["GROUP_READ_ONLY"]}`,
		map[string]string{"clientId": missingClient}},

	// Database access: requests that fail after authorization (a missing
	// password, an unknown user or entry, a bad block).
	{"GET", v2 + "/groups/{groupId}/databaseUsers", projectReadOnly, "", nil},
	{"POST", v2 + "/groups/{groupId}/databaseUsers", projectOwner, `{"username":"u"}`, nil},
	{"GET", v2 + "/groups/{groupId}/databaseUsers/{databaseName}/{username}", projectReadOnly, "", dbUserVars},
	{"PATCH", v2 + "/groups/{groupId}/databaseUsers/{databaseName}/{username}", projectOwner, `{}`, dbUserVars},
	{"DELETE", v2 + "/groups/{groupId}/databaseUsers/{databaseName}/{username}", projectOwner, "", dbUserVars},
	{"GET", v2 + "/groups/{groupId}/accessList", projectReadOnly, "", nil},
	{"POST", v2 + "/groups/{groupId}/accessList", projectOwner, `[{"cidrBlock":"nope"}]`, nil},
	{"GET", v2 + "/groups/{groupId}/accessList/{entryValue}", projectReadOnly, "", entryVars},
	{"DELETE", v2 + "/groups/{groupId}/accessList/{entryValue}", projectOwner, "", entryVars},
	{"GET", v2 + "/groups/{groupId}/accessList/{entryValue}/status", projectReadOnly, "", entryVars},

	// flexd's own drills (no lifecycle engine here: FEATURE_UNSUPPORTED or
	// CLUSTER_NOT_FOUND once allowed).
	{"POST", "/_flexd/groups/{groupId}/flexClusters/{name}/snapshots", orgOwnerOfGroup, "", map[string]string{"name": "nope"}},
	{"POST", "/_flexd/groups/{groupId}/flexClusters/{name}/faults", orgOwnerOfGroup, `{"operation":"restore","count":1}`, nil},
	{"GET", "/_flexd/groups/{groupId}/flexClusters/{name}/backup/snapshots/{snapshotId}", projectReadOnly, "", nil},
	{"GET", "/_flexd/groups/{groupId}/flexClusters/{name}/backup/restoreJobs/{restoreJobId}", projectOwner, "", nil},
	{"GET", "/_flexd/groups/{groupId}/flexClusters/{name}/backup/restoreJobs/{restoreJobId}/report", projectOwner, "", nil},
	{"GET", "/_flexd/groups/{groupId}/flexClusters/{name}/backend", projectOwner, "", nil},
	{"PUT", "/_flexd/groups/{groupId}/flexClusters/{name}/backend", projectOwner, `{"uri":"mongodb://127.0.0.1:1/"}`, nil},
	{"DELETE", "/_flexd/groups/{groupId}/flexClusters/{name}/backend", projectOwner, "", nil},
	{"GET", "/_flexd/clock", instanceAdmin, "", nil},
	{"POST", "/_flexd/clock:advance", instanceAdmin, `{"by":"1h"}`, nil},
	{"POST", "/_flexd/reset", orgOwnerAnywhere, "", nil},
	{"PUT", "/_flexd/instanceAdministrators/{id}", instanceAdmin, "", map[string]string{"id": missingID}},
	{"DELETE", "/_flexd/instanceAdministrators/{id}", instanceAdmin, "", map[string]string{"id": missingID}},
}

// Path values of a database user and an access list entry that do not
// exist.
var (
	dbUserVars = map[string]string{"databaseName": "admin", "username": "nobody"}
	entryVars  = map[string]string{"entryValue": "10.9.9.0%2F24"}
)

// fill substitutes path and body values.
func fill(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// tenant is one organization's world: a project with a cluster and a
// snapshot, keys and a service account, and the values that identify it.
type tenant struct {
	vars    map[string]string // default path values
	callers map[string]caller
	values  []string // every id and name of the tenant's data
}

func (r matrixRoute) request(t tenant) (path, body string) {
	vars := map[string]string{}
	for k, v := range t.vars {
		vars[k] = v
	}
	for k, v := range r.vars {
		vars[k] = v
	}
	return fill(r.pattern, vars), fill(r.body, vars)
}

// newTenant builds organization orgID's world. admin must be its
// ORG_OWNER.
func newTenant(h *idHarness, orgID, prefix string, admin digestCaller) tenant {
	h.t.Helper()
	ctx := context.Background()
	g := h.ok(admin, 201, "POST", v2+"/groups", `{"name":"`+prefix+`-project","orgId":"`+orgID+`"}`)
	gid := g["id"].(string)
	cluster := prefix + "-cluster"
	c := h.ok(admin, 201, "POST", v2+"/groups/"+gid+"/flexClusters",
		`{"name":"`+cluster+`","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	sn, err := h.svc.TakeSnapshot(ctx, gid, cluster)
	if err != nil {
		h.t.Fatal(err)
	}
	key := func(body string, project bool) (string, digestCreds) {
		path := v2 + "/orgs/" + orgID + "/apiKeys"
		if project {
			path = v2 + "/groups/" + gid + "/apiKeys"
		}
		k := h.ok(admin, 200, "POST", path, body)
		return k["id"].(string), digestCreds{k["publicKey"].(string), k["privateKey"].(string)}
	}
	tn := tenant{callers: map[string]caller{"orgOwner": admin}}
	memberID, member := key(`{"desc":"`+prefix+` member","roles":["ORG_MEMBER"]}`, false)
	tn.callers["orgMember"] = digestCaller{member, "MD5"}
	for name, body := range map[string]string{
		"orgReadOnly":         `{"desc":"r","roles":["ORG_READ_ONLY"]}`,
		"orgGroupCreator":     `{"desc":"c","roles":["ORG_GROUP_CREATOR"]}`,
		"groupOwner":          `{"desc":"o","roles":["GROUP_OWNER"]}`,
		"groupClusterManager": `{"desc":"m","roles":["GROUP_CLUSTER_MANAGER"]}`,
		"groupReadOnly":       `{"desc":"ro","roles":["GROUP_READ_ONLY"]}`,
	} {
		_, creds := key(body, strings.HasPrefix(name, "group"))
		tn.callers[name] = digestCaller{creds, "SHA-256"}
	}
	sa := h.ok(admin, 201, "POST", v2+"/groups/"+gid+"/serviceAccounts",
		`{"name":"`+prefix+` robot","description":"d","roles":["GROUP_OWNER"],"secretExpiresAfterHours":8}`)
	clientID := sa["clientId"].(string)
	tn.callers["serviceAccountGroupOwner"] = h.token(clientID, secretOf(sa))
	tn.vars = map[string]string{
		"orgId": orgID, "groupId": gid, "name": cluster, "clusterName": cluster, "snapshotId": sn.ID,
		"restoreJobId": missingID, "apiUserId": memberID, "clientId": clientID, "secretId": missingID,
		"limitName": "atlas.project.deployment.clusters",
	}
	tn.values = []string{orgID, gid, g["name"].(string), cluster, c["id"].(string), sn.ID, memberID,
		member.public, clientID, prefix + " robot", prefix + " member"}
	return tn
}

type outcome struct {
	status int
	body   string
}

func TestRoleMatrix(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	a := newTenant(h, h.orgID, "alpha", h.adminDigest())

	// The matrix covers every route that needs credentials.
	have := map[string]bool{}
	for _, r := range matrixRoutes {
		have[r.method+" "+r.pattern] = true
	}
	for _, rt := range atlasapi.AuthenticatedRoutes() {
		if !have[rt] && !strings.HasPrefix(rt, "POST /api/oauth/") {
			t.Errorf("route %s is missing from the role matrix", rt)
		}
	}

	for _, r := range matrixRoutes {
		path, body := r.request(a)
		// The owner's answer is what every allowed principal must get.
		first := h.call(a.callers["orgOwner"], r.method, path, body, "")
		if first.status == http.StatusUnauthorized {
			t.Errorf("%s %s: ORG_OWNER refused: %s", r.method, r.pattern, first.body)
			continue
		}
		want := outcome{first.status, errorCodeOf(first)}
		for _, p := range matrixPrincipals[1:] {
			res := h.call(a.callers[p], r.method, path, body, "")
			deny := strings.ReplaceAll(denied[r.need][p], "{org}", h.orgID)
			switch {
			case deny == "" && (outcome{res.status, errorCodeOf(res)}) != want:
				t.Errorf("%s %s as %s: %d %s, want it allowed (%d %s)", r.method, r.pattern, p, res.status, res.body, want.status, want.body)
			case deny != "" && string(res.body) != deny:
				t.Errorf("%s %s as %s: %d %s, want %s", r.method, r.pattern, p, res.status, res.body, deny)
			}
		}
	}

	// The lists show each principal what it may see.
	for p, want := range map[string]int{"orgOwner": 1, "orgMember": 0, "orgGroupCreator": 0, "orgReadOnly": 1,
		"groupOwner": 1, "groupReadOnly": 1} {
		if m := h.ok(a.callers[p], 200, "GET", v2+"/groups", ""); m["totalCount"] != float64(want) {
			t.Errorf("GET /groups as %s: %v, want %d projects", p, m["totalCount"], want)
		}
	}
}

// TestOrgListFollowsOrgRead: GET /orgs lists the caller's organization
// only to a caller that may read it (Organization Member or Read Only,
// GET /orgs/{orgId}'s rule); a Billing Viewer key, which flexd does not
// let read the organization, lists none. Before, every caller listed its
// organization.
func TestOrgListFollowsOrgRead(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	for role, want := range map[string]float64{"ORG_BILLING_READ_ONLY": 0, "ORG_READ_ONLY": 1, "ORG_MEMBER": 1} {
		_, creds := h.newKey(h.orgID, flexd.Role(role))
		c := digestCaller{creds, "MD5"}
		if m := h.ok(c, 200, "GET", v2+"/orgs", ""); m["totalCount"] != want {
			t.Errorf("GET /orgs as %s: %v, want %v organizations", role, m, want)
		}
		if want == 0 {
			h.fail(c, 401, "USER_UNAUTHORIZED", "GET", v2+"/orgs/"+h.orgID, "")
		}
	}
}

func errorCodeOf(r *response) string {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	code, _ := m["errorCode"].(string)
	return code
}

func TestTenantIsolation(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	ctx := context.Background()
	a := newTenant(h, h.orgID, "alpha", h.adminDigest())

	// Organization B, with its own owner and world.
	now := h.clock.Now()
	orgB := &flexd.Organization{ID: flexd.NewID(now), Name: "bravo-org", Created: now}
	if err := h.svc.Store().CreateOrganization(ctx, orgB); err != nil {
		t.Fatal(err)
	}
	bk, err := h.svc.CreateAdminAPIKey(ctx, orgB.ID, "bravo admin")
	if err != nil {
		t.Fatal(err)
	}
	h.remember(bk.PrivateKey)
	bAdmin := digestCaller{digestCreds{bk.PublicKey, bk.PrivateKey}, "MD5"}
	b := newTenant(h, orgB.ID, "bravo", bAdmin)
	b.values = append(b.values, "bravo-org", bk.ID, bk.PublicKey)

	// noneOf fails if a body holds any of B's values that the request
	// itself did not name.
	noneOf := func(what, request string, res *response) {
		t.Helper()
		for _, v := range b.values {
			if !strings.Contains(request, v) && strings.Contains(string(res.body), v) {
				t.Errorf("%s: the answer shows B's %q: %s", what, v, res.body)
			}
		}
	}
	wantFor := map[need]string{orgReader: cannotAccessOrg, orgMember: cannotAccessOrg, orgOwner: cannotAccessOrg,
		groupCreator: cannotAccessOrg, projectReadOnly: notInGroup, clusterManager: notInGroup, projectOwner: notInGroup,
		orgOwnerOfGroup: notInGroup}

	// A's owner, A's project owner and the instance administrator (who
	// built A) against every route of B. A's owner is an ORG_OWNER key of
	// its own: the instance administrator may rename B, and sees no more
	// of B than A's owner does.
	_, owner := h.newKey(h.orgID, flexd.RoleOrgOwner)
	a.callers["instanceAdmin"], a.callers["orgOwner"] = a.callers["orgOwner"], digestCaller{owner, "MD5"}
	renameB := "PATCH " + v2 + "/orgs/{orgId}"
	for _, p := range []string{"orgOwner", "instanceAdmin", "groupOwner", "serviceAccountGroupOwner"} {
		for _, r := range matrixRoutes {
			path, body := r.request(b)
			res := h.call(a.callers[p], r.method, path, body, "")
			what := p + " of A: " + r.method + " " + path
			noneOf(what, path+body, res)
			if p == "instanceAdmin" && r.method+" "+r.pattern == renameB {
				if errorCodeOf(res) != "INVALID_ORG_NAME" {
					t.Errorf("%s: %d %s, want the name checked", what, res.status, res.body)
				}
				continue
			}
			if want, scoped := wantFor[r.need]; scoped && string(res.body) != want {
				t.Errorf("%s: %d %s, want %s", what, res.status, res.body, want)
			}
		}
	}

	// A's own routes, naming B's key, account and snapshot.
	crossed := []struct {
		method, path, body, code string
	}{
		{"GET", "/orgs/{orgId}/apiKeys/" + b.vars["apiUserId"], "", "API_KEY_NOT_FOUND"},
		{"PATCH", "/orgs/{orgId}/apiKeys/" + b.vars["apiUserId"], `{"roles":["ORG_OWNER"]}`, "API_KEY_NOT_FOUND"},
		{"DELETE", "/orgs/{orgId}/apiKeys/" + b.vars["apiUserId"], "", "API_KEY_NOT_FOUND"},
		{"POST", "/groups/{groupId}/apiKeys/" + b.vars["apiUserId"], `[{"roles":["GROUP_OWNER"]}]`, "API_KEY_NOT_FOUND"},
		{"PATCH", "/groups/{groupId}/apiKeys/" + b.vars["apiUserId"], `{"roles":["GROUP_OWNER"]}`, "API_KEY_NOT_FOUND"},
		{"DELETE", "/groups/{groupId}/apiKeys/" + b.vars["apiUserId"], "", "API_KEY_NOT_FOUND"},
		{"GET", "/orgs/{orgId}/serviceAccounts/" + b.vars["clientId"], "", "SERVICE_ACCOUNT_NOT_FOUND"},
		{"PATCH", "/orgs/{orgId}/serviceAccounts/" + b.vars["clientId"], `{"name":"x"}`, "SERVICE_ACCOUNT_NOT_FOUND"},
		{"DELETE", "/orgs/{orgId}/serviceAccounts/" + b.vars["clientId"], "", "SERVICE_ACCOUNT_NOT_FOUND"},
		{"GET", "/orgs/{orgId}/serviceAccounts/" + b.vars["clientId"] + "/groups", "", "SERVICE_ACCOUNT_NOT_FOUND"},
		{"POST", "/orgs/{orgId}/serviceAccounts/" + b.vars["clientId"] + "/secrets", `{"secretExpiresAfterHours":8}`, "SERVICE_ACCOUNT_NOT_FOUND"},
		{"GET", "/groups/{groupId}/serviceAccounts/" + b.vars["clientId"], "", "SERVICE_ACCOUNT_NOT_FOUND"},
		{"PATCH", "/groups/{groupId}/serviceAccounts/" + b.vars["clientId"], `{"name":"x"}`, "SERVICE_ACCOUNT_NOT_FOUND"},
		{"DELETE", "/groups/{groupId}/serviceAccounts/" + b.vars["clientId"], "", "SERVICE_ACCOUNT_NOT_FOUND"},
		{"POST", "/groups/{groupId}/serviceAccounts/" + b.vars["clientId"] + ":invite", `{"roles":["GROUP_OWNER"]}`, "SERVICE_ACCOUNT_NOT_FOUND"},
		{"GET", "/groups/{groupId}/flexClusters/{name}/backup/snapshots/" + b.vars["snapshotId"], "", "SNAPSHOT_NOT_FOUND"},
		{"POST", "/groups/{groupId}/flexClusters/{name}/backup/download", `{"snapshotId":"` + b.vars["snapshotId"] + `"}`, "SNAPSHOT_NOT_FOUND"},
		{"POST", "/groups/{groupId}/flexClusters/{name}/backup/restoreJobs",
			`{"snapshotId":"` + b.vars["snapshotId"] + `","targetDeploymentItemName":"{name}"}`, "SNAPSHOT_NOT_FOUND"},
		{"POST", "/groups/{groupId}/flexClusters/{name}/backup/restoreJobs",
			`{"snapshotId":"{snapshotId}","targetDeploymentItemName":"bravo-cluster","targetProjectId":"` + b.vars["groupId"] + `"}`, "NOT_IN_GROUP"},
	}
	for _, c := range crossed {
		path, body := v2+fill(c.path, a.vars), fill(c.body, a.vars)
		res := h.call(a.callers["orgOwner"], c.method, path, body, "")
		noneOf(c.method+" "+path, path+body, res)
		if errorCodeOf(res) != c.code {
			t.Errorf("%s %s: %d %s, want %s", c.method, path, res.status, res.body, c.code)
		}
	}

	// Lists show A only.
	for _, p := range matrixPrincipals {
		for _, path := range []string{v2 + "/orgs", v2 + "/groups", v2 + "/orgs/" + h.orgID + "/apiKeys"} {
			res := h.call(a.callers[p], "GET", path, "", "")
			noneOf(p+": GET "+path, path, res)
		}
	}

	// And B's world is as B left it.
	for _, path := range []string{"/groups/{groupId}/flexClusters/{name}", "/orgs/{orgId}/apiKeys/{apiUserId}",
		"/orgs/{orgId}/serviceAccounts/{clientId}", "/groups/{groupId}/serviceAccounts/{clientId}"} {
		h.ok(bAdmin, 200, "GET", v2+fill(path, b.vars), "")
	}
	if m := h.ok(bAdmin, 200, "GET", v2+"/groups", ""); m["totalCount"] != 1.0 || slices.ContainsFunc(results(m), func(g any) bool {
		return g.(map[string]any)["id"] == a.vars["groupId"]
	}) {
		t.Errorf("B sees %v", m)
	}
}

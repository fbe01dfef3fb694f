package atlasapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd"
)

// dbAccept is the version the official clients send for database users
// and the access list.
const dbAccept = "Accept: application/vnd.atlas.2023-01-01+json"

// cliUser is a create body as the Atlas CLI and Terraform send it: the four
// …Type fields NONE, labels [] and the groupId.
func cliUser(groupID, username, extra string) string {
	return `{"awsIAMType":"NONE","databaseName":"admin","groupId":"` + groupID + `","labels":[],` +
		`"ldapAuthType":"NONE","oidcAuthType":"NONE","x509Type":"NONE","password":"s3cret-pass",` +
		`"roles":[{"databaseName":"admin","roleName":"readWriteAnyDatabase"}],"username":"` + username + `"` + extra + `}`
}

// dbHarness is a harness with a project, one cluster in it, and callers
// holding each role that matters here.
func dbHarness(t *testing.T) (*harness, string) {
	h := newHarness(t)
	g := h.createProject("dbaccess")
	h.createCluster(g, "flexA")
	other := h.createProject("elsewhere")
	h.auth.add("owner", &flexd.Principal{OrgID: h.orgID, GroupRoles: map[string][]flexd.Role{g: {flexd.RoleGroupOwner}}})
	h.auth.add("reader", &flexd.Principal{OrgID: h.orgID, GroupRoles: map[string][]flexd.Role{g: {flexd.RoleGroupReadOnly}}})
	h.auth.add("dbadmin", &flexd.Principal{OrgID: h.orgID, GroupRoles: map[string][]flexd.Role{g: {flexd.RoleGroupDatabaseAccessAdmin}}})
	h.auth.add("clustermgr", &flexd.Principal{OrgID: h.orgID, GroupRoles: map[string][]flexd.Role{g: {flexd.RoleGroupClusterManager}}})
	h.auth.add("stranger", &flexd.Principal{OrgID: h.orgID, GroupRoles: map[string][]flexd.Role{other: {flexd.RoleGroupOwner}}})
	return h, g
}

func TestDatabaseUserLifecycle(t *testing.T) {
	h, g := dbHarness(t)
	users := "/api/atlas/v2/groups/" + g + "/databaseUsers"

	u := h.ok(201, "POST", users, cliUser(g, "alice", `,"description":"app","scopes":[{"name":"flexA","type":"CLUSTER"}],`+
		`"labels":[{"key":"team","value":"core"}]`), dbAccept)
	want := map[string]any{"awsIAMType": "NONE", "ldapAuthType": "NONE", "oidcAuthType": "NONE", "x509Type": "NONE",
		"databaseName": "admin", "groupId": g, "username": "alice", "description": "app"}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %v, want %v", k, u[k], v)
		}
	}
	for _, absent := range []string{"password", "deleteAfterDate"} {
		if _, ok := u[absent]; ok {
			t.Errorf("%s present in %v", absent, u)
		}
	}
	if got := links(t, u)["self"]; !strings.HasSuffix(got, "/api/atlas/v2/groups/"+g+"/databaseUsers/admin/alice") {
		t.Errorf("self link %q", got)
	}
	if r := u["roles"].([]any)[0].(map[string]any); len(r) != 2 || r["roleName"] != "readWriteAnyDatabase" {
		t.Errorf("roles %v: collectionName only when given", u["roles"])
	}
	if sc := u["scopes"].([]any); len(sc) != 1 || sc[0].(map[string]any)["type"] != "CLUSTER" {
		t.Errorf("scopes %v", sc)
	}

	// A user without scopes or labels still shows both, empty.
	b := h.ok(201, "POST", users, cliUser(g, "bob", ""), dbAccept)
	if len(b["scopes"].([]any)) != 0 || len(b["labels"].([]any)) != 0 {
		t.Errorf("scopes %v labels %v, want []", b["scopes"], b["labels"])
	}

	got := h.ok(200, "GET", users+"/admin/alice", "", dbAccept)
	if got["description"] != "app" || len(got["labels"].([]any)) != 1 {
		t.Errorf("get: %v", got)
	}
	list := h.ok(200, "GET", users, "", dbAccept)
	if list["totalCount"] != float64(2) || len(results(list)) != 2 {
		t.Errorf("list: %v", list)
	}

	// A password-only PATCH answers the whole user, unchanged otherwise.
	p := h.ok(200, "PATCH", users+"/admin/alice", `{"password":"another-pass"}`, dbAccept)
	if p["description"] != "app" || len(p["scopes"].([]any)) != 1 || p["password"] != nil {
		t.Errorf("patch: %v", p)
	}
	p = h.ok(200, "PATCH", users+"/admin/alice", `{"roles":[{"databaseName":"sales","roleName":"read","collectionName":"orders"}],"scopes":[]}`, dbAccept)
	if r := p["roles"].([]any)[0].(map[string]any); r["collectionName"] != "orders" || len(p["scopes"].([]any)) != 0 {
		t.Errorf("patch roles/scopes: %v", p)
	}

	h.ok(204, "DELETE", users+"/admin/alice", "", dbAccept)
	h.fail(404, "USERNAME_NOT_FOUND", "GET", users+"/admin/alice", "", dbAccept)
	h.fail(404, "USERNAME_NOT_FOUND", "DELETE", users+"/admin/alice", "", dbAccept)
	h.fail(404, "USERNAME_NOT_FOUND", "PATCH", users+"/admin/alice", `{"description":"x"}`, dbAccept)
	// The user's name is one path segment, escaped as the SDK does.
	h.ok(201, "POST", users, cliUser(g, "a/b c", ""), dbAccept)
	h.ok(200, "GET", users+"/admin/a%2Fb%20c", "", dbAccept)
	// No password reaches the log, whatever happened to the request.
	h.fail(400, "INVALID_ATTRIBUTE", "PATCH", users+"/admin/bob", `{"password":"short7!"}`, dbAccept)
	for _, pw := range []string{"s3cret-pass", "another-pass", "short7!"} {
		if strings.Contains(h.logs.String(), pw) {
			t.Errorf("the log holds password %q", pw)
		}
	}
	if !strings.Contains(h.logs.String(), "databaseUsers") {
		t.Error("the log holds no request at all: the scan proves nothing")
	}
	// A date that is no release is refused.
	h.fail(406, "INVALID_VERSION_DATE", "GET", users, "", "Accept: application/vnd.atlas.2022-12-31+json")
}

func TestDatabaseUserErrors(t *testing.T) {
	h, g := dbHarness(t)
	users := "/api/atlas/v2/groups/" + g + "/databaseUsers"
	h.ok(201, "POST", users, cliUser(g, "taken", ""), dbAccept)
	role := func(r string) string {
		return `{"username":"u","password":"s3cret-pass","roles":[` + r + `]}`
	}
	future := h.clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"duplicate", cliUser(g, "taken", ""), 409, "USER_ALREADY_EXISTS"},
		{"unknown role", role(`{"databaseName":"admin","roleName":"root"}`), 400, "ATLAS_INVALID_ROLE"},
		{"restricted role", role(`{"databaseName":"admin","roleName":"clusterMonitor"}`), 400, "ATLAS_RESTRICTED_ROLE"},
		{"any-database role off admin", role(`{"databaseName":"sales","roleName":"readAnyDatabase"}`), 400, "ATLAS_INVALID_ROLE_DATABASE"},
		{"bad role database", role(`{"databaseName":"a.b","roleName":"read"}`), 400, "INVALID_DATABASE_NAME"},
		{"collection on dbAdmin", role(`{"databaseName":"s","roleName":"dbAdmin","collectionName":"c"}`), 400, "INVALID_ATTRIBUTE"},
		{"bad collection", role(`{"databaseName":"s","roleName":"read","collectionName":"system.users"}`), 400, "INVALID_COLLECTION_NAME"},
		{"duplicate roles", role(`{"databaseName":"s","roleName":"read"},{"databaseName":"s","roleName":"read"}`), 400, "DUPLICATE_DATABASE_ROLES"},
		{"role without database", role(`{"roleName":"read"}`), 400, "MISSING_ATTRIBUTE"},
		{"scope to unknown cluster", cliUser(g, "u", `,"scopes":[{"name":"nope","type":"CLUSTER"}]`), 404, "CLUSTER_NOT_FOUND"},
		{"data lake scope", cliUser(g, "u", `,"scopes":[{"name":"flexA","type":"DATA_LAKE"}]`), 400, "FEATURE_UNSUPPORTED"},
		{"bad scope type", cliUser(g, "u", `,"scopes":[{"name":"flexA","type":"NODE"}]`), 400, "INVALID_ENUM_VALUE"},
		{"external database", `{"databaseName":"$external","username":"u","password":"s3cret-pass"}`, 400, "DATABASE_NAME_INVALID_ADMIN"},
		{"other database", `{"databaseName":"sales","username":"u","password":"s3cret-pass"}`, 400, "INVALID_ENUM_VALUE"},
		{"x509 user", `{"x509Type":"MANAGED","username":"u","password":"s3cret-pass"}`, 400, "FEATURE_UNSUPPORTED"},
		{"bad auth type", `{"awsIAMType":"GROUP","username":"u","password":"s3cret-pass"}`, 400, "INVALID_ENUM_VALUE"},
		{"no username", `{"password":"s3cret-pass"}`, 400, "MISSING_ATTRIBUTE"},
		{"no password", `{"username":"u"}`, 400, "MISSING_ATTRIBUTE"},
		{"short password", `{"username":"u","password":"short"}`, 400, "INVALID_ATTRIBUTE"},
		{"control character", `{"username":"a\u0001b","password":"s3cret-pass"}`, 400, "ATLAS_INVALID_USERNAME"},
		{"long description", `{"username":"u","password":"s3cret-pass","description":"` + strings.Repeat("d", 101) + `"}`, 400, "INVALID_ATTRIBUTE"},
		{"empty label", cliUser(g, "u", `,"labels":[{"key":"","value":"v"}]`), 400, "INVALID_ATTRIBUTE"},
		{"past deleteAfterDate", cliUser(g, "u", `,"deleteAfterDate":"2020-01-01T00:00:00Z"`), 400, "EXPIRATION_DATE_IN_PAST"},
		{"far deleteAfterDate", cliUser(g, "u", `,"deleteAfterDate":"2099-01-01T00:00:00Z"`), 400, "EXPIRATION_DATE_EXCEEDS_MAX"},
		{"malformed deleteAfterDate", cliUser(g, "u", `,"deleteAfterDate":"tomorrow"`), 400, "INVALID_JSON_ATTRIBUTE"},
		{"other project's groupId", strings.Replace(cliUser(g, "u", ""), g, "0123456789abcdef01234567", 1), 400, "GROUP_MISMATCH"},
		{"unknown attribute", `{"username":"u","password":"s3cret-pass","pwd":"x"}`, 400, "INVALID_ATTRIBUTE"},
		{"malformed", `{"username":`, 400, "MALFORMED_JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.fail(tc.status, tc.code, "POST", users, tc.body, dbAccept)
		})
	}
	// A temporary user within the week is fine.
	h.ok(201, "POST", users, cliUser(g, "temp", `,"deleteAfterDate":"`+future+`"`), dbAccept)

	for _, tc := range []struct {
		name, body, code string
		status           int
	}{
		{"rename", `{"username":"other"}`, "DATABASE_USERNAME_CANNOT_BE_CHANGED", 409},
		{"move database", `{"databaseName":"$external"}`, "DATABASE_NAME_CANNOT_BE_CHANGED", 409},
		{"change kind", `{"x509Type":"CUSTOMER"}`, "AUTH_TYPE_CANNOT_BE_CHANGED", 409},
		{"bad role", `{"roles":[{"databaseName":"admin","roleName":"root"}]}`, "ATLAS_INVALID_ROLE", 400},
		{"short password", `{"password":"short"}`, "INVALID_ATTRIBUTE", 400},
	} {
		t.Run("patch "+tc.name, func(t *testing.T) {
			h.fail(tc.status, tc.code, "PATCH", users+"/admin/taken", tc.body, dbAccept)
		})
	}
	// The same values as the user's own are no change at all.
	h.ok(200, "PATCH", users+"/admin/taken", cliUser(g, "taken", ""), dbAccept)
	// A user on another authentication database does not exist.
	h.fail(404, "USERNAME_NOT_FOUND", "GET", users+"/%24external/taken", "", dbAccept)
	h.fail(404, "GROUP_NOT_FOUND", "GET", "/api/atlas/v2/groups/0123456789abcdef01234567/databaseUsers", "", dbAccept)
	h.fail(404, "INVALID_GROUP_ID", "GET", "/api/atlas/v2/groups/nope/databaseUsers", "", dbAccept)
}

// TestDatabaseUserRoles pins who may read and who may manage users.
func TestDatabaseUserRoles(t *testing.T) {
	h, g := dbHarness(t)
	users := "/api/atlas/v2/groups/" + g + "/databaseUsers"
	h.ok(201, "POST", users, cliUser(g, "seed", ""), dbAccept)
	for _, who := range []string{"owner", "reader", "dbadmin", "clustermgr", "stranger"} {
		t.Run(who, func(t *testing.T) {
			c := h.with(who)
			switch who {
			case "stranger":
				c.fail(401, "NOT_IN_GROUP", "GET", users, "", dbAccept)
				c.fail(401, "NOT_IN_GROUP", "POST", users, cliUser(g, who, ""), dbAccept)
				return
			case "dbadmin":
				// Database Access Admin reads the users it manages, but
				// holds no Project Read Only: the project's clusters stay
				// out of its reach.
				c.ok(200, "GET", users, "", dbAccept)
				c.ok(200, "GET", users+"/admin/seed", "", dbAccept)
				c.fail(401, "USER_UNAUTHORIZED", "GET", "/api/atlas/v2/groups/"+g+"/flexClusters", "")
			default:
				c.ok(200, "GET", users, "", dbAccept)
				c.ok(200, "GET", users+"/admin/seed", "", dbAccept)
			}
			if who == "owner" || who == "dbadmin" {
				c.ok(201, "POST", users, cliUser(g, who, ""), dbAccept)
				c.ok(200, "PATCH", users+"/admin/"+who, `{"description":"mine"}`, dbAccept)
				c.ok(204, "DELETE", users+"/admin/"+who, "", dbAccept)
				return
			}
			c.fail(401, "USER_UNAUTHORIZED", "POST", users, cliUser(g, who, ""), dbAccept)
			c.fail(401, "USER_UNAUTHORIZED", "PATCH", users+"/admin/seed", `{"description":"x"}`, dbAccept)
			c.fail(401, "USER_UNAUTHORIZED", "DELETE", users+"/admin/seed", "", dbAccept)
		})
	}
	if res := h.with("nobody").call("GET", users, "", dbAccept); res.status != http.StatusUnauthorized {
		t.Errorf("no credentials: %d", res.status)
	}
}

func TestDatabaseUserPagination(t *testing.T) {
	h, g := dbHarness(t)
	users := "/api/atlas/v2/groups/" + g + "/databaseUsers"
	for _, n := range []string{"u1", "u2", "u3"} {
		h.ok(201, "POST", users, cliUser(g, n, ""), dbAccept)
	}
	first := h.ok(200, "GET", users+"?itemsPerPage=2", "", dbAccept)
	if len(results(first)) != 2 || first["totalCount"] != float64(3) || links(t, first)["next"] == "" {
		t.Fatalf("page 1: %v", first)
	}
	if results(first)[0].(map[string]any)["username"] != "u1" {
		t.Errorf("not in creation order: %v", results(first))
	}
	second := h.ok(200, "GET", users+"?itemsPerPage=2&pageNum=2&includeCount=false", "", dbAccept)
	if len(results(second)) != 1 || second["totalCount"] != nil || links(t, second)["next"] != "" {
		t.Errorf("page 2: %v", second)
	}
	h.fail(400, "INVALID_QUERY_PARAMETER", "GET", users+"?itemsPerPage=501", "", dbAccept)
	env := h.ok(200, "GET", users+"/admin/u1?envelope=true", "", dbAccept)
	if env["status"] != float64(200) || env["content"].(map[string]any)["username"] != "u1" {
		t.Errorf("envelope: %v", env)
	}
}

// TestTemporaryDatabaseUserExpires moves flexd's clock past a user's
// deleteAfterDate: from then on the user is gone from every read, and a
// new user may take its name.
func TestTemporaryDatabaseUserExpires(t *testing.T) {
	h, g := dbHarness(t)
	users := "/api/atlas/v2/groups/" + g + "/databaseUsers"
	at := h.clock.Now().Add(time.Hour).UTC().Truncate(time.Second)
	u := h.ok(201, "POST", users, cliUser(g, "temp", `,"deleteAfterDate":"`+at.Format(time.RFC3339)+`"`), dbAccept)
	if u["deleteAfterDate"] != at.Format("2006-01-02T15:04:05Z") {
		t.Errorf("deleteAfterDate %v, want %v", u["deleteAfterDate"], at)
	}
	h.ok(201, "POST", users, cliUser(g, "keeper", ""), dbAccept)
	h.ok(200, "GET", users+"/admin/temp", "", dbAccept)

	h.clock.advance(2 * time.Hour)
	h.fail(404, "USERNAME_NOT_FOUND", "GET", users+"/admin/temp", "", dbAccept)
	list := h.ok(200, "GET", users, "", dbAccept)
	if list["totalCount"] != float64(1) || results(list)[0].(map[string]any)["username"] != "keeper" {
		t.Errorf("after expiry: %v", list)
	}
	h.ok(201, "POST", users, cliUser(g, "temp", ""), dbAccept)
}

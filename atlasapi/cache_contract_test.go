package atlasapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/flexd/flexd"
)

// These tests run the server with the read cache and the page cache on, as
// flexd serve runs on its own data directory (idOptions.cached).

// TestRevocationWithCache: every way of taking a credential's rights away
// takes effect on the very next request. Each case first makes the request
// succeed twice, so that the credential, the project, the cluster and the
// page it reads are all cached when the change is made.
func TestRevocationWithCache(t *testing.T) {
	h := newIDHarness(t, idOptions{cached: true})
	admin := h.adminDigest()
	org := orgsPath + "/" + h.orgID
	gid := h.ok(admin, 201, "POST", "/api/atlas/v2/groups", `{"name":"revocation"}`)["id"].(string)
	group := "/api/atlas/v2/groups/" + gid
	h.ok(admin, 201, "POST", group+"/flexClusters",
		`{"name":"c","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	jobs := group + "/flexClusters/c/backup/restoreJobs" // GROUP_OWNER
	warm := func(who caller, path string) {
		t.Helper()
		for range 2 {
			h.ok(who, 200, "GET", path, "")
		}
	}

	// API key deleted.
	id, creds := h.newKey(h.orgID, "ORG_READ_ONLY")
	key := digestCaller{creds, "MD5"}
	warm(key, group)
	h.ok(admin, 204, "DELETE", org+"/apiKeys/"+id, "")
	h.unauthorized(h.call(key, "GET", group, "", ""), "deleted API key")

	// API key's organization role lowered.
	id, creds = h.newKey(h.orgID, "ORG_OWNER")
	key = digestCaller{creds, "MD5"}
	warm(key, jobs)
	h.ok(admin, 200, "PATCH", org+"/apiKeys/"+id, `{"roles":["ORG_MEMBER"]}`)
	h.fail(key, 401, "NOT_IN_GROUP", "GET", jobs, "")

	// API key's project role lowered, then the key unassigned.
	h.ok(admin, 204, "POST", group+"/apiKeys/"+id, `[{"roles":["GROUP_OWNER"]}]`)
	warm(key, jobs)
	h.ok(admin, 200, "PATCH", group+"/apiKeys/"+id, `{"roles":["GROUP_READ_ONLY"]}`)
	h.fail(key, 401, "USER_UNAUTHORIZED", "GET", jobs, "")
	warm(key, group)
	h.ok(admin, 204, "DELETE", group+"/apiKeys/"+id, "")
	h.fail(key, 401, "NOT_IN_GROUP", "GET", group, "")

	// Service account's role lowered.
	sas := org + "/serviceAccounts"
	sa := h.ok(admin, 201, "POST", sas, `{"name":"bot","description":"d","roles":["ORG_OWNER"],"secretExpiresAfterHours":8}`)
	cid, secret := sa["clientId"].(string), secretOf(sa)
	tok := h.token(cid, secret)
	warm(tok, jobs)
	h.ok(admin, 200, "PATCH", sas+"/"+cid, `{"roles":["ORG_READ_ONLY"]}`)
	h.fail(tok, 401, "USER_UNAUTHORIZED", "GET", jobs, "")

	// Access token revoked.
	revoked := h.token(cid, secret)
	warm(revoked, group)
	form := url.Values{"token": {string(revoked)}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequest("POST", h.base+"/api/oauth/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cid, secret)
	res := h.send(t, req)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	h.unauthorized(h.call(revoked, "GET", group, "", ""), "revoked token")
	h.ok(tok, 200, "GET", group, "") // the account's other token still works

	// Service account secret deleted: its tokens go with it.
	warm(tok, group)
	secretID := h.ok(admin, 200, "GET", sas+"/"+cid, "")["secrets"].([]any)[0].(map[string]any)["id"].(string)
	h.ok(admin, 204, "DELETE", sas+"/"+cid+"/secrets/"+secretID, "")
	h.unauthorized(h.call(tok, "GET", group, "", ""), "token of a deleted secret")

	// Service account deleted.
	sa = h.ok(admin, 201, "POST", sas, `{"name":"gone","description":"d","roles":["ORG_OWNER"],"secretExpiresAfterHours":8}`)
	cid = sa["clientId"].(string)
	tok = h.token(cid, secretOf(sa))
	warm(tok, jobs)
	h.ok(admin, 204, "DELETE", sas+"/"+cid, "")
	h.unauthorized(h.call(tok, "GET", jobs, "", ""), "token of a deleted service account")

	// Service account removed from a project.
	psas := group + "/serviceAccounts"
	ps := h.ok(admin, 201, "POST", psas, `{"name":"deployer","description":"d","roles":["GROUP_OWNER"],"secretExpiresAfterHours":8}`)
	cid = ps["clientId"].(string)
	tok = h.token(cid, secretOf(ps))
	warm(tok, jobs)
	h.ok(admin, 204, "DELETE", psas+"/"+cid, "")
	h.fail(tok, 401, "NOT_IN_GROUP", "GET", jobs, "")

	// Rights are granted at once too: a project creator owns what it
	// created on its next request.
	_, creds = h.newKey(h.orgID, "ORG_GROUP_CREATOR")
	key = digestCaller{creds, "MD5"}
	warm(key, org)
	made := h.ok(key, 201, "POST", "/api/atlas/v2/groups", `{"name":"made"}`)["id"].(string)
	h.ok(key, 200, "GET", "/api/atlas/v2/groups/"+made, "")

	// Organization deleted: its credentials go with it.
	created := h.ok(admin, 201, "POST", orgsPath, `{"name":"team-b","apiKey":{"desc":"b","roles":["ORG_OWNER"]}}`)
	orgB := orgsPath + "/" + created["organization"].(map[string]any)["id"].(string)
	bKey := created["apiKey"].(map[string]any)
	key = digestCaller{digestCreds{bKey["publicKey"].(string), bKey["privateKey"].(string)}, "MD5"}
	warm(key, orgB)
	h.ok(admin, 204, "DELETE", orgB, "")
	h.unauthorized(h.call(key, "GET", orgB, "", ""), "a deleted organization's key")
}

// TestStoreCallsPerRequest counts the store calls of the hot reads, through
// real HTTP with a Bearer token and the cache on: each row is read once
// (the project the access check loaded is the one the service uses), a
// list learns whether a next page exists from the same read
// (itemsPerPage+1 rows), and a repeated list is answered from its encoded
// page after the project and cluster reads that check access and name it.
// Before, a list of restore jobs read the project twice and, without
// includeCount, read the store again for the item after a full page.
func TestStoreCallsPerRequest(t *testing.T) {
	var store *countingStore
	h := newIDHarness(t, idOptions{cached: true, wrap: func(s flexd.Store) flexd.Store {
		store = &countingStore{Store: s}
		return store
	}})
	ctx := context.Background()
	admin := h.adminDigest()
	gid := h.ok(admin, 201, "POST", "/api/atlas/v2/groups", `{"name":"calls"}`)["id"].(string)
	if _, err := h.svc.CreateFlexCluster(ctx, gid, flexd.FlexClusterCreate{Name: "c", BackingProviderName: "AWS",
		RegionName: "US_EAST_1"}); err != nil {
		t.Fatal(err)
	}
	snap, err := h.svc.TakeSnapshot(ctx, gid, "c")
	if err != nil {
		t.Fatal(err)
	}
	var job *flexd.RestoreJob
	for range 3 {
		if job, err = h.svc.CreateRestoreJob(ctx, gid, "c", flexd.RestoreJobCreate{SnapshotID: snap.ID,
			TargetDeploymentItemName: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	sa := h.ok(admin, 201, "POST", orgsPath+"/"+h.orgID+"/serviceAccounts",
		`{"name":"reader","description":"d","roles":["ORG_OWNER"],"secretExpiresAfterHours":8}`)
	tok := h.token(sa["clientId"].(string), secretOf(sa))

	group := "/api/atlas/v2/groups/" + gid
	cluster := group + "/flexClusters/c"
	jobs := cluster + "/backup/restoreJobs"
	auth := []string{"GetAccessToken", "GetServiceAccount"}
	for _, c := range []struct {
		path string
		want []string // after auth
		next bool     // the answer links to a next page
	}{
		{path: group, want: []string{"GetProject"}},
		{path: group + "/flexClusters", want: []string{"GetProject", "ListFlexClusters"}},
		{path: cluster, want: []string{"GetProject", "GetFlexCluster"}},
		{path: jobs + "?itemsPerPage=2&includeCount=false", want: []string{"GetProject", "GetFlexCluster", "ListRestoreJobs"}, next: true},
		{path: jobs + "?itemsPerPage=3&includeCount=false", want: []string{"GetProject", "GetFlexCluster", "ListRestoreJobs"}},
		{path: jobs, want: []string{"GetProject", "GetFlexCluster", "ListRestoreJobs"}},
		// The same list again: its encoded page, after access and cluster.
		{path: jobs, want: []string{"GetProject", "GetFlexCluster"}},
		{path: jobs + "/" + job.ID, want: []string{"GetProject", "GetFlexCluster", "GetRestoreJob"}},
		{path: cluster + "/backup/snapshots", want: []string{"GetProject", "GetFlexCluster", "ListSnapshots"}},
		{path: cluster + "/backup/snapshots/" + snap.ID, want: []string{"GetProject", "GetFlexCluster", "GetSnapshot"}},
	} {
		store.take()
		m := h.ok(tok, 200, "GET", c.path, "")
		if got, want := store.take(), append(slices.Clone(auth), c.want...); !slices.Equal(got, want) {
			t.Errorf("GET %s: store calls %v, want %v", c.path, got, want)
		}
		if links, ok := m["links"].([]any); ok && m["results"] != nil {
			hasNext := slices.ContainsFunc(links, func(l any) bool { return l.(map[string]any)["rel"] == "next" })
			if hasNext != c.next {
				t.Errorf("GET %s: next link %v, want %v", c.path, hasNext, c.next)
			}
		}
	}
}

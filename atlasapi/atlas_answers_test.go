package atlasapi_test

import (
	"net/http"
	"testing"
	"time"
)

// Bodies and statuses as real Atlas answered the official clients
// (ATLAS-NOTES §7, issue 13).

func TestProjectAndOrganizationAsAtlasAnswers(t *testing.T) {
	h := newHarness(t)
	groups := "/api/atlas/v2/groups"

	// withDefaultAlertsSettings: true unless the create said false, kept
	// and read back; no regionUsageRestrictions; tags only when given.
	on := h.ok(201, "POST", groups, `{"name":"on"}`)
	off := h.ok(201, "POST", groups, `{"name":"off","withDefaultAlertsSettings":false,"tags":[{"key":"k","value":"v"}]}`)
	for name, want := range map[string]bool{on["id"].(string): true, off["id"].(string): false} {
		g := h.ok(200, "GET", groups+"/"+name, "")
		if g["withDefaultAlertsSettings"] != want {
			t.Errorf("%s: withDefaultAlertsSettings %v, want %v", name, g["withDefaultAlertsSettings"], want)
		}
		if _, present := g["regionUsageRestrictions"]; present {
			t.Errorf("%s: regionUsageRestrictions %v", name, g["regionUsageRestrictions"])
		}
	}
	if _, present := on["tags"]; present || len(off["tags"].([]any)) != 1 {
		t.Errorf("tags: %v / %v", on["tags"], off["tags"])
	}

	// A project links to itself and six collections, an organization to
	// itself and three.
	self := h.base + groups + "/" + on["id"].(string)
	want := map[string]string{"self": self}
	for _, c := range []string{"containers", "clusters", "databaseUsers", "peers", "processes", "whitelist"} {
		want["https://cloud.mongodb.com/"+c] = self + "/" + c
	}
	if got := links(t, on); !sameLinks(got, want) || len(on["links"].([]any)) != 7 {
		t.Errorf("project links %v", got)
	}
	o := h.ok(200, "GET", "/api/atlas/v2/orgs/"+h.orgID, "")
	oself := h.base + "/api/atlas/v2/orgs/" + h.orgID
	want = map[string]string{"self": oself}
	for _, c := range []string{"groups", "teams", "users"} {
		want["https://cloud.mongodb.com/"+c] = oself + "/" + c
	}
	if got := links(t, o); !sameLinks(got, want) || o["skipDefaultAlertsSettings"] != false {
		t.Errorf("organization %v", o)
	}
}

func sameLinks(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for rel, href := range want {
		if got[rel] != href {
			return false
		}
	}
	return true
}

func TestNoContentKeepsVersionedType(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "c1")
	res := h.call("DELETE", "/api/atlas/v2/groups/"+g+"/flexClusters/c1", "")
	if res.status != http.StatusNoContent || res.header.Get("Content-Type") != "application/vnd.atlas.2024-11-13+json;charset=utf-8" {
		t.Errorf("204: %d %q", res.status, res.header.Get("Content-Type"))
	}
}

func TestRestoreJobsAlwaysExpire(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "src")
	backup := "/api/atlas/v2/groups/" + g + "/flexClusters/src/backup"
	snap := h.takeSnapshot(g, "src")

	job := h.ok(200, "POST", backup+"/restoreJobs", `{"snapshotId":"`+snap+`","targetDeploymentItemName":"src"}`)
	dl := h.ok(200, "POST", backup+"/download", `{"snapshotId":"`+snap+`"}`)
	list := h.ok(200, "GET", backup+"/restoreJobs", "")
	if len(results(list)) != 2 || list["links"] == nil {
		t.Fatalf("list %v", list)
	}
	for _, j := range append(results(list), job, dl) {
		j := j.(map[string]any)
		scheduled, err1 := time.Parse(time.RFC3339, j["restoreScheduledDate"].(string))
		expires, err2 := time.Parse(time.RFC3339, j["expirationDate"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("job %v", j)
		}
		want := 6 * time.Hour // a restore: about 6 h after it was scheduled
		if j["deliveryType"] == "DOWNLOAD" {
			want = 4 * time.Hour // a download: its link's expiry
		}
		if expires.Sub(scheduled) != want || j["links"] != nil {
			t.Errorf("%s job: expires %v after scheduled, want %v; links %v", j["deliveryType"], expires.Sub(scheduled), want, j["links"])
		}
	}
}

func TestListSelfLinkInAtlasOrder(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"a", "b", "c"} {
		h.createProject(name)
	}
	path := "/api/atlas/v2/groups"
	// The Go SDK's query, sorted; Atlas's self link puts it in its order.
	m := h.ok(200, "GET", path+"?includeCount=true&itemsPerPage=1&pageNum=2", "")
	l := links(t, m)
	if l["self"] != h.base+path+"?includeCount=true&pageNum=2&itemsPerPage=1" ||
		l["next"] != h.base+path+"?includeCount=true&itemsPerPage=1&pageNum=3" ||
		l["previous"] != h.base+path+"?includeCount=true&itemsPerPage=1&pageNum=1" {
		t.Errorf("links %v", l)
	}
	// Filters follow includeCount.
	orgGroups := "/api/atlas/v2/orgs/" + h.orgID + "/groups"
	m = h.ok(200, "GET", orgGroups+"?pageNum=1&name=b&itemsPerPage=100&includeCount=true", "")
	if got := links(t, m)["self"]; got != h.base+orgGroups+"?includeCount=true&name=b&pageNum=1&itemsPerPage=100" || len(results(m)) != 1 {
		t.Errorf("filtered self %q", got)
	}
}

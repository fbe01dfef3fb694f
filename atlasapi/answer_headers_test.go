package atlasapi_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
)

// budgetClock is a clock for the rate-limit budgets that moves only when
// told, so that what is left of a budget is exact.
type budgetClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *budgetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *budgetClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func withBudgets(mode atlasapi.RateLimitMode, clock *budgetClock) func(*atlasapi.Config) {
	return func(c *atlasapi.Config) {
		c.RateLimits = mode
		c.RateLimitClock = clock
	}
}

// budget checks the headers every authenticated answer carries, and the
// budget it reports: limit 0 means no Ratelimit headers at all.
func budget(t *testing.T, what string, res *response, limit, remaining int) {
	t.Helper()
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	} {
		if got := res.header.Get(name); got != want {
			t.Errorf("%s: %s %q, want %q", what, name, got, want)
		}
	}
	gotLimit, gotRemaining := res.header.Get("Ratelimit-Limit"), res.header.Get("Ratelimit-Remaining")
	if limit == 0 {
		if gotLimit != "" || gotRemaining != "" {
			t.Errorf("%s: Ratelimit %q/%q, want none", what, gotLimit, gotRemaining)
		}
		return
	}
	if gotLimit != strconv.Itoa(limit) || gotRemaining != strconv.Itoa(remaining) {
		t.Errorf("%s: Ratelimit-Limit %q Ratelimit-Remaining %q, want %d %d", what, gotLimit, gotRemaining, limit, remaining)
	}
}

func TestAnswerHeaders(t *testing.T) {
	h := newHarness(t, withBudgets("", &budgetClock{now: time.Unix(1e9, 0)}))
	g := h.createProject("p") // one request of the /groups budget
	v2 := "/api/atlas/v2"

	// Each family counts down on its own, successes and errors alike.
	budget(t, "orgs list", h.get(v2+"/orgs"), 300, 299)
	budget(t, "orgs list again", h.get(v2+"/orgs"), 300, 298)
	budget(t, "one org", h.get(v2+"/orgs/"+h.orgID), 500, 499)
	budget(t, "org's projects", h.get(v2+"/orgs/"+h.orgID+"/groups"), 500, 498)
	budget(t, "project", h.get(v2+"/groups/"+g), 1200, 1198)
	res := h.call("GET", v2+"/groups/"+missingID, "")
	if res.status != http.StatusNotFound {
		t.Fatalf("missing project: %d", res.status)
	}
	budget(t, "missing project", res, 1200, 1197)
	budget(t, "flex clusters", h.get(v2+"/groups/"+g+"/flexClusters"), 1200, 1199)
	budget(t, "cluster API", h.get(v2+"/groups/"+g+"/clusters/nope"), 10000, 9999)
	// A version error comes after the budget is spent, as in Atlas.
	res = h.get(v2+"/orgs", "Accept: application/json")
	if res.status != http.StatusNotAcceptable {
		t.Fatalf("unversioned: %d", res.status)
	}
	budget(t, "unversioned", res, 300, 297)
	// An unknown path has no family, but its caller is known.
	res = h.get(v2 + "/nope")
	if res.status != http.StatusNotFound {
		t.Fatalf("unknown path: %d", res.status)
	}
	budget(t, "unknown path", res, 0, 0)

	// Budgets are the caller's own.
	h.auth.add("other", &flexd.Principal{Kind: "open", ID: "other", All: true})
	budget(t, "another caller", h.with("other").get(v2+"/orgs"), 300, 299)

	// The 401 challenge carries none of it.
	res = h.get(v2+"/orgs", "Authorization:")
	if res.status != http.StatusUnauthorized || res.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("challenge: %d", res.status)
	}
	for _, name := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Ratelimit-Limit", "Ratelimit-Remaining"} {
		if v := res.header.Get(name); v != "" {
			t.Errorf("challenge carries %s: %q", name, v)
		}
	}

	// By default a spent budget is only reported.
	for range 297 {
		h.get(v2 + "/orgs")
	}
	res = h.get(v2 + "/orgs")
	if res.status != http.StatusOK || res.header.Get("Retry-After") != "" {
		t.Fatalf("report mode refused: %d", res.status)
	}
	budget(t, "spent, reported", res, 300, 0)
}

func TestRateLimitEnforced(t *testing.T) {
	clock := &budgetClock{now: time.Unix(1e9, 0)}
	h := newHarness(t, withBudgets(atlasapi.RateLimitEnforce, clock))
	orgs := "/api/atlas/v2/orgs"
	for i := range 300 {
		res := h.get(orgs)
		if res.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, res.status)
		}
		budget(t, "within budget", res, 300, 299-i)
	}
	if p := h.fail(429, "RATE_LIMITED", "GET", orgs, ""); len(p) != 3 || p[0] != "api/atlas/v2/orgs" || p[1] != 300.0 || p[2] != 1.0 {
		t.Errorf("parameters %v", p)
	}
	res := h.get(orgs)
	if res.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", res.header.Get("Retry-After"))
	}
	budget(t, "spent", res, 300, 0)
	// Another family is untouched.
	budget(t, "one org", h.get(orgs+"/"+h.orgID), 500, 499)

	// The budget refills at 300 a minute: one request after 200 ms, all
	// of it after a minute.
	clock.advance(200 * time.Millisecond)
	if res := h.get(orgs); res.status != http.StatusOK {
		t.Errorf("after a refill: %d", res.status)
	}
	h.fail(429, "RATE_LIMITED", "GET", orgs, "")
	clock.advance(time.Minute)
	budget(t, "refilled", h.get(orgs), 300, 299)
}

func TestRateLimitsOff(t *testing.T) {
	h := newHarness(t, withBudgets(atlasapi.RateLimitOff, nil))
	budget(t, "off", h.get("/api/atlas/v2/orgs"), 0, 0)
}

func TestDeprecatedVersionHeaders(t *testing.T) {
	h := newHarness(t)
	g := h.createProject("p")
	h.createCluster(g, "flex1")
	path := "/api/atlas/v2/groups/" + g + "/clusters/flex1"
	old := h.get(path, "Accept: application/vnd.atlas.2023-02-01+json")
	if old.header.Get("X-Error-Code") != "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API" ||
		old.header.Get("Deprecation") != "Mon, 05 Aug 2024 00:00:00 GMT" || old.header.Get("Sunset") != "Thu, 15 Jan 2026 00:00:00 GMT" {
		t.Errorf("2023-02-01: %s Deprecation %q Sunset %q", old.body, old.header.Get("Deprecation"), old.header.Get("Sunset"))
	}
	if first := h.get(path, "Accept: application/vnd.atlas.2023-01-01+json"); first.header.Get("Deprecation") != "Wed, 01 Feb 2023 00:00:00 GMT" {
		t.Errorf("2023-01-01: Deprecation %q", first.header.Get("Deprecation"))
	}
	for _, accept := range []string{"application/vnd.atlas.2024-08-05+json", "application/vnd.atlas.2025-03-12+json"} {
		if cur := h.get(path, "Accept: "+accept); cur.header.Get("Deprecation") != "" || cur.header.Get("Sunset") != "" {
			t.Errorf("%s: Deprecation %q Sunset %q", accept, cur.header.Get("Deprecation"), cur.header.Get("Sunset"))
		}
	}
	if flex := h.get("/api/atlas/v2/groups/" + g + "/flexClusters/flex1"); flex.header.Get("Deprecation") != "" {
		t.Errorf("flex: Deprecation %q", flex.header.Get("Deprecation"))
	}
}

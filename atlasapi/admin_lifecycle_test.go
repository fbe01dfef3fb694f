package atlasapi_test

import (
	"net/http"
	"testing"

	"github.com/flexd/flexd"
)

// TestLifecycleDrillAccess pins who may use the global drills: the clock
// is the instance administrator's, a reset also an ORG_OWNER's (of its own
// organization). The engine itself is tested in package jobs; this server
// has none, so a caller who gets past the access check is told the feature
// is missing.
func TestLifecycleDrillAccess(t *testing.T) {
	h := newHarness(t)
	h.auth.add("owner", &flexd.Principal{Kind: "apiKey", OrgID: h.orgID, OrgRoles: []flexd.Role{flexd.RoleOrgOwner}})
	h.auth.add("reader", &flexd.Principal{Kind: "apiKey", OrgID: h.orgID, OrgRoles: []flexd.Role{flexd.RoleOrgReadOnly}})
	for _, tc := range []struct {
		as, method, path, body string
		status                 int
		code                   string
	}{
		{"reader", "GET", "/_flexd/clock", "", http.StatusUnauthorized, "USER_UNAUTHORIZED"},
		{"reader", "POST", "/_flexd/reset", "", http.StatusUnauthorized, "USER_UNAUTHORIZED"},
		{"reader", "POST", "/_flexd/clock:advance", `{"by":"1h"}`, http.StatusUnauthorized, "USER_UNAUTHORIZED"},
		{"owner", "GET", "/_flexd/clock", "", http.StatusUnauthorized, "USER_UNAUTHORIZED"},
		{"owner", "POST", "/_flexd/clock:advance", `{"by":"1h"}`, http.StatusUnauthorized, "USER_UNAUTHORIZED"},
		{"owner", "POST", "/_flexd/reset", "", http.StatusBadRequest, "FEATURE_UNSUPPORTED"},
		{"root", "GET", "/_flexd/clock", "", http.StatusBadRequest, "FEATURE_UNSUPPORTED"},
		{"nobody", "GET", "/_flexd/downloads/abc", "", http.StatusBadRequest, "FEATURE_UNSUPPORTED"},
	} {
		res := h.with(tc.as).call(tc.method, tc.path, tc.body)
		if res.status != tc.status || res.json(t)["errorCode"] != tc.code {
			t.Errorf("%s %s as %s: %d %s, want %d %s", tc.method, tc.path, tc.as, res.status, res.body, tc.status, tc.code)
		}
	}
	if res := h.with("nobody").call("GET", "/_flexd/clock", ""); res.status != http.StatusUnauthorized {
		t.Errorf("clock without credentials: %d", res.status)
	}
}

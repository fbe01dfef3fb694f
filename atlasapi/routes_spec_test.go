package atlasapi_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
)

// specRoleNames maps the role names of the spec's sentences to flexd's
// roles. Names mapped to "" are roles flexd does not have: a sentence's
// alternative naming one is left out (flexd grants it nothing).
var specRoleNames = map[string]flexd.Role{
	"Organization Owner":              flexd.RoleOrgOwner,
	"Organization Member":             flexd.RoleOrgMember,
	"Organization Read Only":          flexd.RoleOrgReadOnly,
	"Project Owner":                   flexd.RoleGroupOwner,
	"Project Read Only":               flexd.RoleGroupReadOnly,
	"Project Cluster Manager":         flexd.RoleGroupClusterManager,
	"Project Database Access Admin":   flexd.RoleGroupDatabaseAccessAdmin,
	"Project Stream Processing Owner": flexd.RoleGroupStreamProcessingOwner,
	// Charts are no part of flexd.
	"Project Charts Admin": "",
	// POST /groups's sentence: no Atlas organization or project role has
	// this name (ORG_GROUP_CREATOR is the role that creates projects).
	"Read Write": "",
}

// difference is a route whose rule differs from its operation's sentence
// in the spec: diff is what TestRoutesFollowSpecRoles computes (which
// single-role callers flexd lets through that the sentence does not,
// "wider", and the reverse, "narrower"), why says why. Where the spec
// names no role, diff is "unstated" and as names the operation whose
// sentence flexd follows instead: both routes must admit exactly the same
// callers.
type difference struct{ diff, why, as string }

// deliberate lists every difference. A rule that comes to match its
// sentence must leave the list, and one that changes must be justified
// again.
var deliberate = map[string]difference{
	"GET /api/atlas/v2/orgs": {"wider: GROUP_* ORG_BILLING_READ_ONLY ORG_READ_ONLY",
		"a list: it shows an Organization Member or Read Only only its own organization, and anyone else none (visibleOrgs)", ""},
	"GET /api/atlas/v2/groups": {"wider: GROUP_* ORG_BILLING_ADMIN ORG_BILLING_READ_ONLY ORG_GROUP_CREATOR ORG_MEMBER",
		"a list: Organization Owner and Read Only see every project of their organization, anyone else only the projects it holds a role in, each of which it may GET (visibleProjects)", ""},
	"POST /api/atlas/v2/groups": {"wider: ORG_GROUP_CREATOR ORG_OWNER",
		"the sentence names a \"Read Write\" role that Atlas does not have; Atlas refuses a caller without Organization Project Creator in the named organization with NOT_ORG_GROUP_CREATOR, which is flexd's rule", ""},
	"POST /api/atlas/v2/orgs": {"narrower: ORG_OWNER; wider: instance administrator",
		"flexd's organizations are the instance administrator's to create and delete (issue 11): an Organization Owner of one organization creates no others", ""},
	"DELETE /api/atlas/v2/orgs/{orgId}": {"narrower: ORG_OWNER; wider: instance administrator",
		"as POST /orgs", ""},
	"PATCH /api/atlas/v2/orgs/{orgId}": {"wider: instance administrator",
		"the instance administrator may rename any organization (issue 11); inside it the administrator holds no role", ""},
	"GET /api/atlas/v2/orgs/{orgId}": {"wider: ORG_READ_ONLY",
		"Organization Read Only reads everything in its organization (Atlas's role documentation; the spec lets it list all the organization's projects, GET /groups), so it reads the organization too. It reads none of the organization's credentials, whose sentences name Organization Member alone", ""},
	"GET /api/atlas/v2/orgs/{orgId}/groups": {"wider: ORG_READ_ONLY",
		"as GET /orgs/{orgId}; it lists every project only for Organization Read Only and Owner, a member's own projects otherwise (visibleProjects)", ""},
	"GET /api/atlas/v2/groups/{groupId}/accessList/{entryValue}/status": {"unstated",
		"the status of an entry reads the entry", "GET /api/atlas/v2/groups/{groupId}/accessList/{entryValue}"},
	"GET /api/atlas/v2/groups/{groupId}/managedSlowMs": {"unstated",
		"a read of the project's settings", "GET /api/atlas/v2/groups/{groupId}/settings"},
	"PATCH /api/atlas/v2/groups/{groupId}/apiKeys/{apiUserId}": {"unstated",
		"as every other project API key operation", "POST /api/atlas/v2/groups/{groupId}/apiKeys/{apiUserId}"},
	"GET /api/atlas/v2/groups/{groupId}/databaseUsers": {"wider: GROUP_DATABASE_ACCESS_ADMIN",
		"the spec lets Project Database Access Admin create, change and delete users (their sentences name it); it reads the users it manages", ""},
	"GET /api/atlas/v2/groups/{groupId}/databaseUsers/{databaseName}/{username}": {"wider: GROUP_DATABASE_ACCESS_ADMIN",
		"as the list", ""},
	"POST /api/atlas/v2/groups/{groupId}/databaseUsers": {"narrower: GROUP_STREAM_PROCESSING_OWNER",
		"flexd serves no stream processing, and the sentences disagree among themselves (Charts Admin may create and change users but not delete them); flexd keeps the narrower rule", ""},
	"PATCH /api/atlas/v2/groups/{groupId}/databaseUsers/{databaseName}/{username}": {"narrower: GROUP_STREAM_PROCESSING_OWNER",
		"as POST", ""},
	"DELETE /api/atlas/v2/groups/{groupId}/databaseUsers/{databaseName}/{username}": {"narrower: GROUP_STREAM_PROCESSING_OWNER",
		"as POST", ""},
}

// Service account operations carry no role sentence: flexd asks what the
// API key operations at the same place ask.
func init() {
	for op, as := range map[string]string{
		"GET /orgs/{orgId}/serviceAccounts":                                  "GET /orgs/{orgId}/apiKeys",
		"GET /orgs/{orgId}/serviceAccounts/{clientId}":                       "GET /orgs/{orgId}/apiKeys/{apiUserId}",
		"GET /orgs/{orgId}/serviceAccounts/{clientId}/groups":                "GET /orgs/{orgId}/apiKeys/{apiUserId}",
		"POST /orgs/{orgId}/serviceAccounts":                                 "POST /orgs/{orgId}/apiKeys",
		"PATCH /orgs/{orgId}/serviceAccounts/{clientId}":                     "PATCH /orgs/{orgId}/apiKeys/{apiUserId}",
		"DELETE /orgs/{orgId}/serviceAccounts/{clientId}":                    "DELETE /orgs/{orgId}/apiKeys/{apiUserId}",
		"POST /orgs/{orgId}/serviceAccounts/{clientId}/secrets":              "PATCH /orgs/{orgId}/apiKeys/{apiUserId}",
		"DELETE /orgs/{orgId}/serviceAccounts/{clientId}/secrets/{secretId}": "PATCH /orgs/{orgId}/apiKeys/{apiUserId}",
		"GET /groups/{groupId}/serviceAccounts":                              "GET /groups/{groupId}/apiKeys",
		"POST /groups/{groupId}/serviceAccounts":                             "POST /groups/{groupId}/apiKeys",
		"GET /groups/{groupId}/serviceAccounts/{clientId}":                   "GET /groups/{groupId}/apiKeys",
		"PATCH /groups/{groupId}/serviceAccounts/{clientId}":                 "PATCH /groups/{groupId}/apiKeys/{apiUserId}",
		"DELETE /groups/{groupId}/serviceAccounts/{clientId}":                "DELETE /groups/{groupId}/apiKeys/{apiUserId}",
		"POST /groups/{groupId}/serviceAccounts/{clientId}:invite":           "POST /groups/{groupId}/apiKeys/{apiUserId}",
	} {
		deliberate[withPrefix(op)] = difference{"unstated", "the API key operation at the same place", withPrefix(as)}
	}
}

// withPrefix puts the API prefix into "METHOD /path".
func withPrefix(op string) string {
	method, path, _ := strings.Cut(op, " ")
	return method + " " + v2 + path
}

// notServed are the spec subset's operations flexd does not serve.
var notServed = []string{"POST /api/atlas/v2/groups/{groupId}/teams"}

var (
	roleSentence = regexp.MustCompile(`must have the\s+([^.]*)`)
	roleSplit    = regexp.MustCompile(`,\s*(?:or\s+)?|\s+or\s+`)
)

// sentenceRoles reads the roles an operation's description asks for, nil
// when it names none.
func sentenceRoles(t *testing.T, key, desc string) []flexd.Role {
	var out []flexd.Role
	for _, m := range roleSentence.FindAllStringSubmatch(desc, -1) {
		if out == nil {
			out = []flexd.Role{} // a sentence, if only of roles flexd lacks
		}
		phrase := strings.TrimSuffix(strings.TrimSpace(m[1]), " or higher")
		phrase, _, _ = strings.Cut(phrase, " in an organization")
		for _, name := range roleSplit.Split(phrase, -1) {
			name = strings.TrimPrefix(strings.TrimSpace(name), "the ")
			name = strings.TrimSuffix(strings.TrimSuffix(name, " roles"), " role")
			r, known := specRoleNames[name]
			if !known {
				t.Errorf("%s: the spec names a role %q that specRoleNames does not map", key, name)
			}
			if r != "" && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// oneRoleCallers are callers holding one role each: every organization
// role in organization "o", every project role in its project "g".
func oneRoleCallers() map[string]*flexd.Principal {
	out := map[string]*flexd.Principal{}
	for _, r := range flexd.OrgRoles {
		out[string(r)] = &flexd.Principal{Kind: flexd.KindAPIKey, OrgID: "o", OrgRoles: []flexd.Role{r}}
	}
	for _, r := range flexd.GroupRoles {
		out[string(r)] = &flexd.Principal{Kind: flexd.KindAPIKey, OrgID: "o", GroupRoles: map[string][]flexd.Role{"g": {r}}}
	}
	return out
}

// specAdmits is the sentence's rule: the caller holds one of the roles it
// names, or a role implying one, where the role applies.
func specAdmits(p *flexd.Principal, roles []flexd.Role) bool {
	for _, r := range roles {
		if r.IsOrgRole() && p.HasOrgRole("o", r) || r.IsGroupRole() && p.HasGroupRole("o", "g", r) {
			return true
		}
	}
	return false
}

// TestRoutesFollowSpecRoles reads each operation's role sentence in the
// spec ("... must have the X role") and compares whom it admits with whom
// routes.go's rule admits, caller by caller (one role each), through
// flexd's own implication rules. Every difference must be in deliberate,
// with its reason.
func TestRoutesFollowSpecRoles(t *testing.T) {
	doc, _ := loadSpec(t)
	if doc == nil {
		t.Skipf("Atlas spec not found: %s", specHint)
	}
	rules := atlasapi.RouteRules()
	callers := oneRoleCallers()
	names := make([]string, 0, len(callers))
	for n := range callers {
		names = append(names, n)
	}
	slices.Sort(names)
	// admitted names the callers a rule lets through.
	admitted := func(rule atlasapi.RouteRule) string {
		var in []string
		for _, n := range names {
			if rule.Admits(callers[n], "o", "g") {
				in = append(in, n)
			}
		}
		if rule.Admin {
			in = append(in, "instance administrator")
		}
		return strings.Join(in, " ")
	}
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			rule, served := rules[key]
			if !served {
				if !slices.Contains(notServed, key) {
					t.Errorf("%s: in the spec, served by no route and not in notServed", key)
				}
				continue
			}
			seen[key] = true
			roles := sentenceRoles(t, key, op.Description)
			diff := "unstated"
			if roles != nil {
				var wider, narrower []string
				for _, n := range names {
					p := callers[n]
					switch flexdOK, specOK := rule.Admits(p, "o", "g"), specAdmits(p, roles); {
					case flexdOK && !specOK:
						wider = append(wider, n)
					case specOK && !flexdOK:
						narrower = append(narrower, n)
					}
				}
				if rule.Admin {
					wider = append(wider, "instance administrator")
				}
				diff = describeDiff(wider, narrower)
			}
			d, listed := deliberate[key]
			switch {
			case diff == "" && listed:
				t.Errorf("%s: follows the spec now; drop it from deliberate", key)
			case diff != "" && !listed:
				t.Errorf("%s: the spec asks for %v; flexd's rule differs (%s) and deliberate does not say why", key, roles, diff)
			case listed && d.diff != diff:
				t.Errorf("%s: the difference is now %q, deliberate says %q (%s)", key, diff, d.diff, d.why)
			case diff == "unstated":
				as, ok := rules[d.as]
				if !ok || admitted(as) != admitted(rule) {
					t.Errorf("%s admits %q; %q, whose rule it follows (%s), admits %q", key, admitted(rule), d.as, d.why, admitted(as))
				}
			}
		}
	}
	for key := range deliberate {
		if !seen[key] {
			t.Errorf("deliberate names %s, which the spec subset or flexd does not have", key)
		}
	}
	for key, rule := range rules {
		if strings.Contains(key, " "+v2+"/") && !seen[key] && rule.Scope != "public" {
			t.Errorf("%s: served, but not in the spec subset", key)
		}
	}
}

// describeDiff names the callers one rule admits and the other does not,
// all project roles folded into GROUP_* when every one of them is.
func describeDiff(wider, narrower []string) string {
	fold := func(ns []string) string {
		all := true
		for _, r := range flexd.GroupRoles {
			all = all && slices.Contains(ns, string(r))
		}
		var out []string
		if all {
			out = append(out, "GROUP_*")
		}
		for _, n := range ns {
			if !all || !strings.HasPrefix(n, "GROUP_") {
				out = append(out, n)
			}
		}
		return strings.Join(out, " ")
	}
	var parts []string
	if len(narrower) > 0 {
		parts = append(parts, "narrower: "+fold(narrower))
	}
	if len(wider) > 0 {
		parts = append(parts, "wider: "+fold(wider))
	}
	return strings.Join(parts, "; ")
}

package atlasapi

import "github.com/flexd/flexd"

// AuthenticatedRoutes lists "METHOD pattern" for every route that needs
// credentials, so the role matrix can prove that it covers all of them.
func AuthenticatedRoutes() []string {
	var out []string
	for _, rt := range (&server{}).routes() {
		if rt.access.scope != scopePublic {
			out = append(out, rt.method+" "+rt.pattern)
		}
	}
	return out
}

// RouteRule is a route's access rule as TestRoutesFollowSpecRoles reads
// it: its scope, whether the instance administrator passes it too, and
// whether a caller passes it in the project groupID of organization orgID
// (the same decisions authorize makes, without the store).
type RouteRule struct {
	Scope  string
	Admin  bool
	Admits func(p *flexd.Principal, orgID, groupID string) bool
}

// RouteRules are the rules of every route, by "METHOD pattern".
func RouteRules() map[string]RouteRule {
	names := map[scope]string{scopePublic: "public", scopeCaller: "caller", scopeOrg: "org", scopeGroup: "group",
		scopeBodyOrg: "bodyOrg", scopeOwnOrg: "ownOrg", scopeInstance: "instance"}
	out := map[string]RouteRule{}
	for _, rt := range (&server{}).routes() {
		a := rt.access
		admits := func(p *flexd.Principal, orgID, groupID string) bool {
			switch a.scope {
			case scopePublic, scopeCaller:
				return true
			case scopeOrg, scopeBodyOrg:
				return orgAllows(p, orgID, a, flexd.UserUnauthorized()) == nil
			case scopeGroup:
				return p.InGroup(orgID, groupID) && a.allowsInGroup(p, orgID, groupID)
			case scopeOwnOrg:
				return p.HasOrgRole(p.OrgID, a.role)
			}
			return false
		}
		out[rt.method+" "+rt.pattern] = RouteRule{Scope: names[a.scope], Admin: a.admin, Admits: admits}
	}
	return out
}

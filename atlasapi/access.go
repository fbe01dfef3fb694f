package atlasapi

import (
	"errors"
	"net/http"
	"slices"

	"github.com/flexd/flexd"
)

// scope says what a route's access rule is checked against.
type scope int

const (
	scopePublic   scope = iota // no authentication: health checks
	scopeCaller                // any authenticated caller; lists show what it may see
	scopeOrg                   // the organization {orgId}
	scopeGroup                 // the project {groupId}
	scopeBodyOrg               // the organization the body names (POST /groups)
	scopeOwnOrg                // the caller's own organization (flexd's global drills)
	scopeInstance              // flexd as a whole: the instance administrator only
)

// access is a route's access rule: a scope and the role the caller needs
// there. A project-scoped rule may name an organization role, checked in
// the project's organization (flexd's drill routes need ORG_OWNER).
type access struct {
	scope scope
	role  flexd.Role
	// or is a second role that passes the rule too, for a role Atlas
	// grants one route without implying the other's (Database Access
	// Admin reads the users it manages, yet is no Project Read Only;
	// Organization Read Only reads the organization, yet is no
	// Organization Member).
	or flexd.Role
	// admin lets the instance administrator through whatever the scope
	// asks (it must still exist), and tells the handler and the services
	// (Principal.InstanceAdmin) that it did.
	admin bool
}

func public() access                        { return access{scope: scopePublic} }
func caller() access                        { return access{scope: scopeCaller} }
func org(role flexd.Role) access            { return access{scope: scopeOrg, role: role} }
func group(role flexd.Role) access          { return access{scope: scopeGroup, role: role} }
func orgNamedInBody(role flexd.Role) access { return access{scope: scopeBodyOrg, role: role} }
func ownOrg(role flexd.Role) access         { return access{scope: scopeOwnOrg, role: role} }
func instance() access                      { return access{scope: scopeInstance, admin: true} }

// orRole is a rule that a caller holding role (at the rule's scope) passes
// too.
func (a access) orRole(role flexd.Role) access { a.or = role; return a }

// orInstanceAdmin is a rule the instance administrator passes too.
func (a access) orInstanceAdmin() access { a.admin = true; return a }

// authorize checks the route's rule for the caller, loading the project or
// organization the path names (GROUP_NOT_FOUND / ORG_NOT_FOUND when it does
// not exist) and keeping it in the request state for the handler. Handlers
// never check roles themselves. A rule the instance administrator passes
// asks the store whether the caller is one; the request it returns then
// carries the caller marked as such.
func (s *server) authorize(r *http.Request, a access) (*http.Request, error) {
	if a.admin {
		ok, err := s.isInstanceAdmin(r)
		if err != nil {
			return r, err
		}
		if ok {
			st := stateOf(r)
			p := *st.principal
			p.InstanceAdmin = true
			st.principal = &p
			r = r.WithContext(flexd.WithPrincipal(r.Context(), &p))
			if a.scope == scopeOrg {
				o, err := s.loadOrg(r, r.PathValue("orgId"))
				st.org = o
				return r, err
			}
			return r, nil
		}
	}
	return r, s.authorizeScope(r, a)
}

// isInstanceAdmin asks the instance service whether the caller is flexd's
// instance administrator; without one nobody is, unless authentication is
// off.
func (s *server) isInstanceAdmin(r *http.Request) (bool, error) {
	p := stateOf(r).principal
	if s.cfg.Instance == nil || p == nil {
		return p != nil && p.All, nil
	}
	return s.cfg.Instance.IsInstanceAdministrator(r.Context(), p)
}

func (s *server) authorizeScope(r *http.Request, a access) error {
	st := stateOf(r)
	switch a.scope {
	case scopeInstance:
		return flexd.UserUnauthorized()
	case scopeOrg:
		o, err := s.loadOrg(r, r.PathValue("orgId"))
		if err != nil {
			return err
		}
		if err := orgAllows(st.principal, o.ID, a, flexd.UserUnauthorized()); err != nil {
			return err
		}
		st.org = o
	case scopeGroup:
		p, err := s.cfg.Projects.GetProject(r.Context(), r.PathValue("groupId"))
		if errors.Is(err, flexd.ErrNotFound) {
			err = flexd.GroupNotFound(r.PathValue("groupId"))
		}
		if err != nil {
			return err
		}
		who := st.principal
		if !who.InGroup(p.OrgID, p.ID) {
			return flexd.NotInGroup()
		}
		if !a.allowsInGroup(who, p.OrgID, p.ID) {
			return flexd.UserUnauthorized()
		}
		st.project = p
	case scopeOwnOrg:
		if p := st.principal; !p.All && !p.HasOrgRole(p.OrgID, a.role) {
			return flexd.UserUnauthorized()
		}
	}
	return nil
}

// allowsInGroup applies a project-scoped rule to a member of the project
// groupID of organization orgID: the rule's project role or its
// alternative, or the organization role it names.
func (a access) allowsInGroup(who *flexd.Principal, orgID, groupID string) bool {
	if a.role.IsOrgRole() {
		return who.HasOrgRole(orgID, a.role)
	}
	return who.HasGroupRole(orgID, groupID, a.role) || a.or != "" && who.HasGroupRole(orgID, groupID, a.or)
}

// orgTargeted is a request body that names the organization it acts in.
type orgTargeted interface {
	targetOrg() *string
}

// authorizeBody checks a scopeBodyOrg rule once the body is decoded: the
// organization is only known then, so for POST /groups a malformed body is
// a 400 before any 401. An omitted orgId means the caller's own
// organization (for OpenAccess, the service's default one).
func (s *server) authorizeBody(r *http.Request, in any) error {
	st := stateOf(r)
	t, ok := in.(orgTargeted)
	if st.route == nil || st.route.access.scope != scopeBodyOrg || !ok {
		return nil
	}
	orgID := t.targetOrg()
	if *orgID == "" && st.principal != nil && !st.principal.All {
		*orgID = st.principal.OrgID
	}
	if *orgID == "" {
		if st.principal != nil && st.principal.All {
			return nil
		}
		return flexd.UserUnauthorized()
	}
	o, err := s.loadOrg(r, *orgID)
	if err != nil {
		return err
	}
	return orgAllows(st.principal, o.ID, st.route.access, flexd.NotOrgGroupCreator(o.ID))
}

func (s *server) loadOrg(r *http.Request, id string) (*flexd.Organization, error) {
	o, err := s.cfg.Orgs.GetOrganization(r.Context(), id)
	if errors.Is(err, flexd.ErrNotFound) {
		err = flexd.OrgNotFound(id)
	}
	return o, err
}

// orgAllows applies an organization rule: a caller outside the
// organization gets USER_CANNOT_ACCESS_ORG, one inside it with neither the
// rule's role nor its alternative gets denied.
func orgAllows(p *flexd.Principal, orgID string, a access, denied *flexd.Error) error {
	if !p.InOrg(orgID) {
		return flexd.UserCannotAccessOrg()
	}
	if !p.HasOrgRole(orgID, a.role) && (a.or == "" || !p.HasOrgRole(orgID, a.or)) {
		return denied
	}
	return nil
}

// visibleOrgs is the OrganizationFilter.IDs of what p may list: nil (no
// restriction) for OpenAccess, else its one organization if it may read
// it (GET /orgs/{orgId}'s rule: Organization Member or Read Only), else
// none.
func visibleOrgs(p *flexd.Principal) []string {
	if p != nil && p.All {
		return nil
	}
	if p == nil || p.OrgID == "" ||
		!p.HasOrgRole(p.OrgID, flexd.RoleOrgMember) && !p.HasOrgRole(p.OrgID, flexd.RoleOrgReadOnly) {
		return []string{}
	}
	return []string{p.OrgID}
}

// visibleProjects narrows a project list in orgID to what p may see: the
// same rule (Principal.InGroup) that lets it GET each one. A caller with an
// organization-wide grant sees every project of its organization; anyone
// else sees the projects it holds a role in.
func visibleProjects(p *flexd.Principal, orgID string) flexd.ProjectFilter {
	if p != nil && p.All {
		return flexd.ProjectFilter{OrgID: orgID}
	}
	if p == nil {
		return flexd.ProjectFilter{OrgID: orgID, IDs: []string{}} // fail closed
	}
	if orgID == "" {
		orgID = p.OrgID
	}
	if orgID != p.OrgID {
		return flexd.ProjectFilter{OrgID: orgID, IDs: []string{}}
	}
	// HasGroupRole on a project id nobody holds roles in answers for the
	// organization-wide grants alone (ORG_OWNER, ORG_READ_ONLY).
	if p.HasGroupRole(orgID, "", flexd.RoleGroupReadOnly) {
		return flexd.ProjectFilter{OrgID: orgID}
	}
	ids := []string{}
	for id, roles := range p.GroupRoles {
		if len(roles) > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return flexd.ProjectFilter{OrgID: orgID, IDs: ids}
}

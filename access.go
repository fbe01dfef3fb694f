package flexd

import (
	"context"
	"slices"
)

// Role is an Atlas organization or project role.
type Role string

// Organization roles.
const (
	RoleOrgOwner        Role = "ORG_OWNER"
	RoleOrgMember       Role = "ORG_MEMBER"
	RoleOrgReadOnly     Role = "ORG_READ_ONLY"
	RoleOrgGroupCreator Role = "ORG_GROUP_CREATOR"
	RoleOrgBillingAdmin Role = "ORG_BILLING_ADMIN"
	// RoleOrgBillingReadOnly sees billing only: it implies no other role.
	RoleOrgBillingReadOnly Role = "ORG_BILLING_READ_ONLY"
)

// Project roles.
const (
	RoleGroupOwner               Role = "GROUP_OWNER"
	RoleGroupClusterManager      Role = "GROUP_CLUSTER_MANAGER"
	RoleGroupReadOnly            Role = "GROUP_READ_ONLY"
	RoleGroupDataAccessAdmin     Role = "GROUP_DATA_ACCESS_ADMIN"
	RoleGroupDataAccessReadWrite Role = "GROUP_DATA_ACCESS_READ_WRITE"
	RoleGroupDataAccessReadOnly  Role = "GROUP_DATA_ACCESS_READ_ONLY"
	RoleGroupProjectManager      Role = "GROUP_PROJECT_MANAGER"
	// Roles Atlas grants for features flexd does not serve. They may be
	// assigned (the spec's enums list them) and make their holder a member
	// of the project; only the backup manager also reads it.
	RoleGroupBackupManager         Role = "GROUP_BACKUP_MANAGER"
	RoleGroupSearchIndexEditor     Role = "GROUP_SEARCH_INDEX_EDITOR"
	RoleGroupStreamProcessingOwner Role = "GROUP_STREAM_PROCESSING_OWNER"
	RoleGroupObservabilityViewer   Role = "GROUP_OBSERVABILITY_VIEWER"
	RoleGroupDatabaseAccessAdmin   Role = "GROUP_DATABASE_ACCESS_ADMIN"
)

// OrgRoles and GroupRoles are the roles that may be granted at each scope.
var (
	OrgRoles = []Role{RoleOrgOwner, RoleOrgMember, RoleOrgReadOnly, RoleOrgGroupCreator, RoleOrgBillingAdmin,
		RoleOrgBillingReadOnly}
	GroupRoles = []Role{RoleGroupOwner, RoleGroupClusterManager, RoleGroupReadOnly, RoleGroupDataAccessAdmin,
		RoleGroupDataAccessReadWrite, RoleGroupDataAccessReadOnly, RoleGroupProjectManager,
		RoleGroupBackupManager, RoleGroupSearchIndexEditor, RoleGroupStreamProcessingOwner,
		RoleGroupObservabilityViewer, RoleGroupDatabaseAccessAdmin}
)

// IsOrgRole and IsGroupRole tell which scope a role belongs to.
func (r Role) IsOrgRole() bool   { return slices.Contains(OrgRoles, r) }
func (r Role) IsGroupRole() bool { return slices.Contains(GroupRoles, r) }

// groupImplied says which project roles a held project role implies: Project
// Owner implies every project role; the cluster manager and data-access
// roles imply read-only.
var groupImplied = map[Role][]Role{
	RoleGroupOwner:               GroupRoles,
	RoleGroupProjectManager:      {RoleGroupProjectManager, RoleGroupClusterManager, RoleGroupReadOnly},
	RoleGroupClusterManager:      {RoleGroupClusterManager, RoleGroupReadOnly},
	RoleGroupDataAccessAdmin:     {RoleGroupDataAccessAdmin, RoleGroupDataAccessReadWrite, RoleGroupDataAccessReadOnly, RoleGroupReadOnly},
	RoleGroupDataAccessReadWrite: {RoleGroupDataAccessReadWrite, RoleGroupDataAccessReadOnly, RoleGroupReadOnly},
	RoleGroupDataAccessReadOnly:  {RoleGroupDataAccessReadOnly, RoleGroupReadOnly},
	RoleGroupReadOnly:            {RoleGroupReadOnly},
	RoleGroupBackupManager:       {RoleGroupBackupManager, RoleGroupReadOnly},
	// The rest imply only themselves: flexd has no evidence that they
	// include read access, and a role that grants too little fails safe.
	RoleGroupSearchIndexEditor:     {RoleGroupSearchIndexEditor},
	RoleGroupStreamProcessingOwner: {RoleGroupStreamProcessingOwner},
	RoleGroupObservabilityViewer:   {RoleGroupObservabilityViewer},
	RoleGroupDatabaseAccessAdmin:   {RoleGroupDatabaseAccessAdmin},
}

// orgImplied says which organization roles a held organization role
// implies. Organization Member, Project Creator and Billing Admin are
// member-level roles: they read the organization and reach only the
// projects they hold roles in. Organization Read Only is a role of its own
// (it implies no Organization Member: the routes that also let it through
// say so), and only it and Organization Owner reach every project of the
// organization (projectsImplied).
var orgImplied = map[Role][]Role{
	RoleOrgOwner:           OrgRoles,
	RoleOrgGroupCreator:    {RoleOrgGroupCreator, RoleOrgMember},
	RoleOrgMember:          {RoleOrgMember},
	RoleOrgBillingAdmin:    {RoleOrgBillingAdmin, RoleOrgMember},
	RoleOrgReadOnly:        {RoleOrgReadOnly},
	RoleOrgBillingReadOnly: {RoleOrgBillingReadOnly},
}

// projectsImplied says which project roles an organization role grants on
// every project of its organization: Organization Owner is Project Owner
// everywhere, Organization Read Only is Project Read Only everywhere. No
// other organization role reaches a project it holds no role in.
var projectsImplied = map[Role][]Role{
	RoleOrgOwner:    GroupRoles,
	RoleOrgReadOnly: {RoleGroupReadOnly},
}

// Principal is an authenticated caller: an API key or a service account, with
// the roles it holds in its one organization and in projects of it.
type Principal struct {
	Kind       string // "apiKey", "serviceAccount", or "open" when auth is off
	ID         string // API key id or service account client id
	Name       string // public key or client id, safe to log
	OrgID      string
	OrgRoles   []Role
	GroupRoles map[string][]Role // project id → roles
	// All grants everything everywhere; used when authentication is off.
	All bool
	// InstanceAdmin marks flexd's instance administrator: the credential
	// the operator bootstraps flexd with (FLEXD_ADMIN_* or the key
	// generated at first start) and every credential an instance
	// administrator designates (PUT /_flexd/instanceAdministrators/{id}).
	// It may create, rename and delete organizations and run the
	// instance-wide drills (the clock, a reset of everything); it grants
	// nothing inside an organization, where only OrgRoles and GroupRoles
	// count. The transport sets it on the routes that ask (knowing costs a
	// store read), so it is false elsewhere.
	InstanceAdmin bool
}

// HasOrgRole reports whether p holds want (or a role implying it) in org.
func (p *Principal) HasOrgRole(orgID string, want Role) bool {
	if p.All {
		return true
	}
	if p.OrgID != orgID {
		return false
	}
	for _, r := range p.OrgRoles {
		if slices.Contains(orgImplied[r], want) {
			return true
		}
	}
	return false
}

// HasGroupRole reports whether p holds want (or a role implying it) in the
// project groupID of organization orgID, through a role in the project or
// an organization-wide one (projectsImplied).
func (p *Principal) HasGroupRole(orgID, groupID string, want Role) bool {
	if p.All {
		return true
	}
	if p.OrgID == orgID {
		for _, r := range p.OrgRoles {
			if slices.Contains(projectsImplied[r], want) {
				return true
			}
		}
	}
	for _, r := range p.GroupRoles[groupID] {
		if slices.Contains(groupImplied[r], want) {
			return true
		}
	}
	return false
}

// InGroup reports whether p may see the project at all.
func (p *Principal) InGroup(orgID, groupID string) bool {
	return p.HasGroupRole(orgID, groupID, RoleGroupReadOnly) || len(p.GroupRoles[groupID]) > 0
}

// InOrg reports whether p belongs to the organization.
func (p *Principal) InOrg(orgID string) bool { return p.All || p.OrgID == orgID }

type principalKey struct{}

// WithPrincipal returns ctx carrying the authenticated caller, so that rules
// which reach beyond the request path (a restore into another project) can
// check the caller's roles there too.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller stored by WithPrincipal, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

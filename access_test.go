package flexd

import "testing"

// TestOrgRolesReachOnlyTheirProjects: of the organization roles only
// Organization Owner and Organization Read Only reach a project the
// caller holds no role in; the member-level roles (Member, Project
// Creator, Billing Admin) read the organization and nothing else of it.
// Before, Member, Project Creator and Billing Admin implied Organization
// Read Only.
func TestOrgRolesReachOnlyTheirProjects(t *testing.T) {
	for _, r := range OrgRoles {
		p := &Principal{OrgID: "o", OrgRoles: []Role{r}}
		reaches := p.InGroup("o", "g")
		if want := r == RoleOrgOwner || r == RoleOrgReadOnly; reaches != want {
			t.Errorf("%s reaches a project it holds no role in: %v, want %v", r, reaches, want)
		}
		if p.HasGroupRole("o", "g", RoleGroupOwner) != (r == RoleOrgOwner) {
			t.Errorf("%s is Project Owner of every project: %v", r, !(r == RoleOrgOwner))
		}
		impliesReadOnly := p.HasOrgRole("o", RoleOrgReadOnly)
		if want := r == RoleOrgOwner || r == RoleOrgReadOnly; impliesReadOnly != want {
			t.Errorf("%s implies Organization Read Only: %v, want %v", r, impliesReadOnly, want)
		}
		member := p.HasOrgRole("o", RoleOrgMember)
		if want := r != RoleOrgReadOnly && r != RoleOrgBillingReadOnly; member != want {
			t.Errorf("%s implies Organization Member: %v, want %v", r, member, want)
		}
		if p.InGroup("other", "g") || p.HasOrgRole("other", RoleOrgMember) {
			t.Errorf("%s reaches into another organization", r)
		}
	}
}

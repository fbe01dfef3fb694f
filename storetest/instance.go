package storetest

import (
	"github.com/flexd/flexd"
)

// instanceTests cover what the instance administrator and the project
// sub-resources store: owned projects, settings, limits, organization
// deletes and the designation of instance administrators.
var instanceTests = []subtest{
	{"Instance/OwnedProjectIsAtomic", func(e *env) {
		o := e.org()
		k := flexd.APIKey{ID: newID(), OrgID: o.ID, PublicKey: next("k")[:1] + newID()[:7], Desc: "creator",
			Grants: flexd.Grants{OrgRoles: []flexd.Role{flexd.RoleOrgGroupCreator}}, HA1MD5: "x", HA1SHA256: "y", Created: t0}
		ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &k))
		p := flexd.Project{ID: newID(), OrgID: o.ID, Name: next("owned"), Created: t0}
		ok(e.t, "CreateOwnedProject", e.s.CreateOwnedProject(e.ctx, &p, flexd.ProjectOwner{Kind: flexd.KindAPIKey, ID: k.ID}))
		got, err := e.s.GetAPIKey(e.ctx, k.ID)
		ok(e.t, "GetAPIKey", err)
		equal(e.t, "the creator's roles", got.RolesIn(p.ID), []flexd.Role{flexd.RoleGroupOwner})

		// An owner that does not exist: no project either.
		q := flexd.Project{ID: newID(), OrgID: o.ID, Name: next("orphan"), Created: t0}
		isErr(e.t, "owned by nobody", e.s.CreateOwnedProject(e.ctx, &q,
			flexd.ProjectOwner{Kind: flexd.KindServiceAccount, ID: "mdb_sa_id_000000000000000000000000"}), flexd.ErrNotFound)
		_, err = e.s.GetProject(e.ctx, q.ID)
		isErr(e.t, "the project of a failed grant", err, flexd.ErrNotFound)
	}},
	{"Instance/SettingsAndLimits", func(e *env) {
		p := e.project(e.org().ID)
		set, err := e.s.ProjectSettings(e.ctx, p.ID)
		ok(e.t, "ProjectSettings", err)
		equal(e.t, "a new project's settings", set, flexd.ProjectSettings{})
		ok(e.t, "SetProjectSettings", e.s.SetProjectSettings(e.ctx, p.ID, flexd.ProjectSettings{"a": true, "b": false}))
		ok(e.t, "SetProjectSettings", e.s.SetProjectSettings(e.ctx, p.ID, flexd.ProjectSettings{"b": true}))
		set, err = e.s.ProjectSettings(e.ctx, p.ID)
		ok(e.t, "ProjectSettings", err)
		equal(e.t, "settings", set, flexd.ProjectSettings{"a": true, "b": true})
		isErr(e.t, "settings of a missing project",
			e.s.SetProjectSettings(e.ctx, newID(), flexd.ProjectSettings{"a": true}), flexd.ErrNotFound)

		ok(e.t, "SetProjectLimitValue", e.s.SetProjectLimitValue(e.ctx, p.ID, "l", 5))
		ok(e.t, "SetProjectLimitValue", e.s.SetProjectLimitValue(e.ctx, p.ID, "l", 6))
		ok(e.t, "SetProjectLimitValue", e.s.SetProjectLimitValue(e.ctx, p.ID, "m", 7))
		ok(e.t, "DeleteProjectLimitValue", e.s.DeleteProjectLimitValue(e.ctx, p.ID, "m"))
		ok(e.t, "DeleteProjectLimitValue again", e.s.DeleteProjectLimitValue(e.ctx, p.ID, "m"))
		limits, err := e.s.ProjectLimitValues(e.ctx, p.ID)
		ok(e.t, "ProjectLimitValues", err)
		equal(e.t, "limits", limits, map[string]int64{"l": 6})
		isErr(e.t, "limit of a missing project", e.s.SetProjectLimitValue(e.ctx, newID(), "l", 1), flexd.ErrNotFound)

		// They go with their project.
		ok(e.t, "DeleteProject", e.s.DeleteProject(e.ctx, p.ID))
		set, err = e.s.ProjectSettings(e.ctx, p.ID)
		ok(e.t, "ProjectSettings", err)
		equal(e.t, "settings of a deleted project", set, flexd.ProjectSettings{})
	}},
	{"Instance/OrganizationsAndAdministrators", func(e *env) {
		o := e.org()
		o.Name = next("renamed")
		ok(e.t, "UpdateOrganization", e.s.UpdateOrganization(e.ctx, &o))
		got, err := e.s.GetOrganization(e.ctx, o.ID)
		ok(e.t, "GetOrganization", err)
		equal(e.t, "renamed", got.Name, o.Name)
		isErr(e.t, "rename a missing organization", e.s.UpdateOrganization(e.ctx, &flexd.Organization{ID: newID(), Name: "x"}), flexd.ErrNotFound)

		k := flexd.APIKey{ID: newID(), OrgID: o.ID, PublicKey: next("a")[:1] + newID()[:7], Desc: "owner",
			Grants: flexd.Grants{OrgRoles: []flexd.Role{flexd.RoleOrgOwner}}, HA1MD5: "x", HA1SHA256: "y", Created: t0}
		ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &k))
		admin, err := e.s.IsInstanceAdministrator(e.ctx, k.ID)
		ok(e.t, "IsInstanceAdministrator", err)
		equal(e.t, "a new key is an administrator", admin, false)
		ok(e.t, "SetInstanceAdministrator", e.s.SetInstanceAdministrator(e.ctx, k.ID, true))
		ok(e.t, "SetInstanceAdministrator twice", e.s.SetInstanceAdministrator(e.ctx, k.ID, true))
		admin, err = e.s.IsInstanceAdministrator(e.ctx, k.ID)
		ok(e.t, "IsInstanceAdministrator", err)
		equal(e.t, "designated", admin, true)
		isErr(e.t, "designate nobody", e.s.SetInstanceAdministrator(e.ctx, newID(), true), flexd.ErrNotFound)

		p := e.project(o.ID)
		isErr(e.t, "delete an organization with a project", e.s.DeleteOrganization(e.ctx, o.ID), flexd.ErrNotEmpty)
		ok(e.t, "DeleteProject", e.s.DeleteProject(e.ctx, p.ID))
		ok(e.t, "DeleteOrganization", e.s.DeleteOrganization(e.ctx, o.ID))
		_, err = e.s.GetOrganization(e.ctx, o.ID)
		isErr(e.t, "deleted organization", err, flexd.ErrNotFound)
		_, err = e.s.GetAPIKey(e.ctx, k.ID)
		isErr(e.t, "its key", err, flexd.ErrNotFound)
		admin, err = e.s.IsInstanceAdministrator(e.ctx, k.ID)
		ok(e.t, "IsInstanceAdministrator", err)
		equal(e.t, "its key's designation", admin, false)
		isErr(e.t, "delete it again", e.s.DeleteOrganization(e.ctx, o.ID), flexd.ErrNotFound)
	}},
}

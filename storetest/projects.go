package storetest

import (
	"github.com/flexd/flexd"
)

var projectTests = []subtest{
	{"Projects/RoundTrip", func(e *env) {
		o := e.org()
		p := flexd.Project{
			ID: newID(), OrgID: o.ID, Name: "Project Zero", Created: t0,
			Tags:                    []flexd.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "données \"β\""}},
			RegionUsageRestrictions: "COMMERCIAL_FEDRAMP_REGIONS_ONLY",
			ClusterCount:            7, // not stored: always counted

			WithDefaultAlertsSettings: true,
		}
		ok(e.t, "CreateProject", e.s.CreateProject(e.ctx, &p))
		want := flexd.Project{
			ID: p.ID, OrgID: o.ID, Name: "Project Zero", Created: stored(t0),
			Tags:                    []flexd.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "données \"β\""}},
			RegionUsageRestrictions: "COMMERCIAL_FEDRAMP_REGIONS_ONLY",

			WithDefaultAlertsSettings: true,
		}
		equal(e.t, "after create", p, want)
		got, err := e.s.GetProject(e.ctx, p.ID)
		ok(e.t, "GetProject", err)
		equal(e.t, "get", *got, want)

		// A project created without default alert settings says so.
		quiet := flexd.Project{ID: newID(), OrgID: o.ID, Name: next("quiet")}
		ok(e.t, "CreateProject", e.s.CreateProject(e.ctx, &quiet))
		got, err = e.s.GetProject(e.ctx, quiet.ID)
		ok(e.t, "GetProject", err)
		if got.WithDefaultAlertsSettings {
			e.t.Errorf("withDefaultAlertsSettings false read back as true")
		}
	}},
	{"Projects/Tags", func(e *env) {
		o := e.org()
		for _, tags := range [][]flexd.Tag{nil, {}} {
			p := flexd.Project{ID: newID(), OrgID: o.ID, Name: next("tags"), Tags: tags}
			ok(e.t, "CreateProject", e.s.CreateProject(e.ctx, &p))
			if p.Tags != nil {
				e.t.Fatalf("tags %#v after create, want nil", p.Tags)
			}
			got, err := e.s.GetProject(e.ctx, p.ID)
			ok(e.t, "GetProject", err)
			if got.Tags != nil {
				e.t.Fatalf("tags %#v read back as %#v, want nil", tags, got.Tags)
			}
			// And back to none through an update.
			p.Tags = []flexd.Tag{{Key: "k", Value: ""}}
			ok(e.t, "UpdateProject", e.s.UpdateProject(e.ctx, &p))
			got, _ = e.s.GetProject(e.ctx, p.ID)
			equal(e.t, "one tag", got.Tags, []flexd.Tag{{Key: "k", Value: ""}})
			p.Tags = tags
			ok(e.t, "UpdateProject", e.s.UpdateProject(e.ctx, &p))
			got, _ = e.s.GetProject(e.ctx, p.ID)
			if got.Tags != nil || p.Tags != nil {
				e.t.Fatalf("tags updated to %#v read back as %#v (arg %#v), want nil", tags, got.Tags, p.Tags)
			}
		}
	}},
	{"Projects/Errors", func(e *env) {
		o1, o2 := e.org(), e.org()
		p := e.project(o1.ID)
		sameName := flexd.Project{ID: newID(), OrgID: o1.ID, Name: p.Name}
		isErr(e.t, "create with a taken name", e.s.CreateProject(e.ctx, &sameName), flexd.ErrConflict)
		sameID := flexd.Project{ID: p.ID, OrgID: o1.ID, Name: next("project")}
		isErr(e.t, "create with a taken id", e.s.CreateProject(e.ctx, &sameID), flexd.ErrConflict)
		otherOrg := flexd.Project{ID: newID(), OrgID: o2.ID, Name: p.Name}
		ok(e.t, "same name in another org", e.s.CreateProject(e.ctx, &otherOrg))
		noOrg := flexd.Project{ID: newID(), OrgID: newID(), Name: next("project")}
		isErr(e.t, "create in a missing org", e.s.CreateProject(e.ctx, &noOrg), flexd.ErrNotFound)

		missing := newID()
		_, err := e.s.GetProject(e.ctx, missing)
		isErr(e.t, "get missing", err, flexd.ErrNotFound)
		isErr(e.t, "update missing", e.s.UpdateProject(e.ctx, &flexd.Project{ID: missing, Name: "x"}), flexd.ErrNotFound)
		isErr(e.t, "delete missing", e.s.DeleteProject(e.ctx, missing), flexd.ErrNotFound)
		_, err = e.s.GetProject(e.ctx, noOrg.ID)
		isErr(e.t, "get the project refused for its org", err, flexd.ErrNotFound)
	}},
	{"Projects/Update", func(e *env) {
		o := e.org()
		p, taken := e.project(o.ID), e.project(o.ID)
		e.cluster(&p)

		u := p
		u.Name = next("renamed")
		u.Tags = []flexd.Tag{{Key: "a", Value: "1"}}
		u.OrgID = e.org().ID                  // not written
		u.RegionUsageRestrictions = "IGNORED" // not written
		u.Created = t0.AddDate(1, 0, 0)       // not written
		ok(e.t, "UpdateProject", e.s.UpdateProject(e.ctx, &u))
		got, err := e.s.GetProject(e.ctx, p.ID)
		ok(e.t, "GetProject", err)
		want := p
		want.Name, want.Tags, want.ClusterCount = u.Name, u.Tags, 1
		equal(e.t, "after update", *got, want)

		u = *got
		u.Name = taken.Name
		isErr(e.t, "rename to a taken name", e.s.UpdateProject(e.ctx, &u), flexd.ErrConflict)
		again, _ := e.s.GetProject(e.ctx, p.ID)
		equal(e.t, "after refused rename", *again, *got)
	}},
	{"Projects/Delete", func(e *env) {
		o := e.org()
		p, other := e.project(o.ID), e.project(o.ID)
		c := e.cluster(&p)
		isErr(e.t, "delete with a cluster", e.s.DeleteProject(e.ctx, p.ID), flexd.ErrNotEmpty)
		if _, err := e.s.GetProject(e.ctx, p.ID); err != nil {
			e.t.Fatalf("project gone after refused delete: %v", err)
		}
		ok(e.t, "DeleteFlexCluster", e.s.DeleteFlexCluster(e.ctx, c.ID))
		ok(e.t, "DeleteProject", e.s.DeleteProject(e.ctx, p.ID))
		_, err := e.s.GetProject(e.ctx, p.ID)
		isErr(e.t, "get deleted", err, flexd.ErrNotFound)
		isErr(e.t, "delete again", e.s.DeleteProject(e.ctx, p.ID), flexd.ErrNotFound)
		items, total := listAll(e.t, projectLister(e, flexd.ProjectFilter{}))
		equal(e.t, "left", items, []flexd.Project{other})
		if total != 1 {
			e.t.Fatalf("total %d, want 1", total)
		}
		// The name is free again.
		again := flexd.Project{ID: newID(), OrgID: o.ID, Name: p.Name}
		ok(e.t, "recreate", e.s.CreateProject(e.ctx, &again))
	}},
	{"Projects/ClusterCount", func(e *env) {
		o := e.org()
		p1, p2 := e.project(o.ID), e.project(o.ID)
		e.cluster(&p1)
		c := e.cluster(&p1)
		count := func(id string) int64 {
			got, err := e.s.GetProject(e.ctx, id)
			ok(e.t, "GetProject", err)
			return got.ClusterCount
		}
		if n1, n2 := count(p1.ID), count(p2.ID); n1 != 2 || n2 != 0 {
			e.t.Fatalf("get: cluster counts %d, %d; want 2, 0", n1, n2)
		}
		items, _ := listAll(e.t, projectLister(e, flexd.ProjectFilter{}))
		if len(items) != 2 || items[0].ClusterCount != 2 || items[1].ClusterCount != 0 {
			e.t.Fatalf("list: %+v, want counts 2, 0", items)
		}
		ok(e.t, "DeleteFlexCluster", e.s.DeleteFlexCluster(e.ctx, c.ID))
		if n := count(p1.ID); n != 1 {
			e.t.Fatalf("after delete: cluster count %d, want 1", n)
		}
	}},
	{"Projects/List", func(e *env) {
		o1, o2 := e.org(), e.org()
		a, b := e.project(o1.ID), e.project(o1.ID)
		c := flexd.Project{ID: newID(), OrgID: o2.ID, Name: a.Name}
		ok(e.t, "CreateProject", e.s.CreateProject(e.ctx, &c))
		list := func(f flexd.ProjectFilter) []string { return listIDs(e.t, projectLister(e, f), projectID) }
		items, _ := listAll(e.t, projectLister(e, flexd.ProjectFilter{}))
		equal(e.t, "list items", items, []flexd.Project{a, b, c})
		sameIDs(e.t, "by org", list(flexd.ProjectFilter{OrgID: o1.ID}), []string{a.ID, b.ID})
		sameIDs(e.t, "by other org", list(flexd.ProjectFilter{OrgID: o2.ID}), []string{c.ID})
		sameIDs(e.t, "by missing org", list(flexd.ProjectFilter{OrgID: newID()}), nil)
		sameIDs(e.t, "by name", list(flexd.ProjectFilter{Name: a.Name}), []string{a.ID, c.ID})
		sameIDs(e.t, "by org and name", list(flexd.ProjectFilter{OrgID: o2.ID, Name: a.Name}), []string{c.ID})
		sameIDs(e.t, "nil ids", list(flexd.ProjectFilter{IDs: nil}), []string{a.ID, b.ID, c.ID})
		sameIDs(e.t, "empty ids", list(flexd.ProjectFilter{IDs: []string{}}), nil)
		sameIDs(e.t, "empty ids in org", list(flexd.ProjectFilter{OrgID: o1.ID, IDs: []string{}}), nil)
		sameIDs(e.t, "some ids", list(flexd.ProjectFilter{IDs: []string{c.ID, b.ID, newID()}}), []string{b.ID, c.ID})
		sameIDs(e.t, "ids in org", list(flexd.ProjectFilter{OrgID: o1.ID, IDs: []string{c.ID, b.ID}}), []string{b.ID})
	}},
}

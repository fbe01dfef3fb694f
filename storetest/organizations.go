package storetest

import (
	"time"

	"github.com/flexd/flexd"
)

var organizationTests = []subtest{
	{"Organizations/RoundTrip", func(e *env) {
		o := flexd.Organization{ID: newID(), Name: "Acme", IsDeleted: true, Created: t0}
		ok(e.t, "CreateOrganization", e.s.CreateOrganization(e.ctx, &o))
		want := flexd.Organization{ID: o.ID, Name: "Acme", IsDeleted: true, Created: stored(t0)}
		equal(e.t, "after create", o, want)
		got, err := e.s.GetOrganization(e.ctx, o.ID)
		ok(e.t, "GetOrganization", err)
		equal(e.t, "get", *got, want)
		if got.Created.Location() != time.UTC {
			e.t.Fatalf("Created in %v, want UTC", got.Created.Location())
		}

		zero := flexd.Organization{ID: newID(), Name: "zero"}
		ok(e.t, "CreateOrganization", e.s.CreateOrganization(e.ctx, &zero))
		got, err = e.s.GetOrganization(e.ctx, zero.ID)
		ok(e.t, "GetOrganization", err)
		if !got.Created.IsZero() || got.IsDeleted {
			e.t.Fatalf("zero organization read back as %+v", got)
		}
	}},
	{"Organizations/Errors", func(e *env) {
		o := e.org()
		dup := flexd.Organization{ID: o.ID, Name: "other"}
		isErr(e.t, "create with a taken id", e.s.CreateOrganization(e.ctx, &dup), flexd.ErrConflict)
		_, err := e.s.GetOrganization(e.ctx, newID())
		isErr(e.t, "get missing", err, flexd.ErrNotFound)
		got, err := e.s.GetOrganization(e.ctx, o.ID)
		ok(e.t, "GetOrganization", err)
		equal(e.t, "original after conflict", *got, o)
	}},
	{"Organizations/List", func(e *env) {
		a, b := e.org(), e.org()
		c := flexd.Organization{ID: newID(), Name: a.Name, Created: t0}
		ok(e.t, "CreateOrganization", e.s.CreateOrganization(e.ctx, &c))

		list := func(f flexd.OrganizationFilter) []string { return listIDs(e.t, orgLister(e, f), orgID) }
		items, _ := listAll(e.t, orgLister(e, flexd.OrganizationFilter{}))
		equal(e.t, "list items", items, []flexd.Organization{a, b, c})
		sameIDs(e.t, "by name", list(flexd.OrganizationFilter{Name: a.Name}), []string{a.ID, c.ID})
		sameIDs(e.t, "unknown name", list(flexd.OrganizationFilter{Name: "nobody"}), nil)
		sameIDs(e.t, "nil ids", list(flexd.OrganizationFilter{IDs: nil}), []string{a.ID, b.ID, c.ID})
		sameIDs(e.t, "empty ids", list(flexd.OrganizationFilter{IDs: []string{}}), nil)
		sameIDs(e.t, "some ids", list(flexd.OrganizationFilter{IDs: []string{c.ID, a.ID, newID()}}), []string{a.ID, c.ID})
		sameIDs(e.t, "ids and name", list(flexd.OrganizationFilter{Name: a.Name, IDs: []string{b.ID, c.ID}}), []string{c.ID})

		// An empty id list matches nothing, counted or not.
		got, total, err := e.s.ListOrganizations(e.ctx, flexd.OrganizationFilter{IDs: []string{}}, flexd.Page{Num: 1, ItemsPerPage: 10})
		ok(e.t, "ListOrganizations", err)
		if len(got) != 0 || got == nil || total != flexd.NoCount {
			e.t.Fatalf("empty ids without count: %v, %d", got, total)
		}
	}},
}

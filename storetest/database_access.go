package storetest

import (
	"time"

	"github.com/flexd/flexd"
)

func newDatabaseUser(groupID, name string) flexd.DatabaseUser {
	key := func(b byte, n int) flexd.SCRAMKey {
		k := flexd.SCRAMKey{Salt: make([]byte, n-4), Iterations: 10000, StoredKey: make([]byte, n), ServerKey: make([]byte, n)}
		for i := range k.StoredKey {
			k.StoredKey[i], k.ServerKey[i] = b+byte(i), 255-b-byte(i)
		}
		return k
	}
	return flexd.DatabaseUser{
		GroupID: groupID, DatabaseName: flexd.AdminDatabase, Username: name, Description: "app",
		Roles:   []flexd.DatabaseUserRole{{RoleName: "read", DatabaseName: "sales", CollectionName: "orders"}, {RoleName: "atlasAdmin", DatabaseName: "admin"}},
		Scopes:  []flexd.UserScope{{Name: "flexA", Type: flexd.ScopeCluster}},
		Labels:  []flexd.Tag{{Key: "team", Value: "données"}},
		SCRAM:   flexd.SCRAMCredentials{SHA1: key(1, 20), SHA256: key(7, 32)},
		Created: t0,
	}
}

var databaseAccessTests = []subtest{
	{"DatabaseUsers/RoundTrip", func(e *env) {
		p := e.project(e.org().ID)
		u := newDatabaseUser(p.ID, "alice")
		u.DeleteAfterDate = t0.Add(time.Hour)
		ok(e.t, "CreateDatabaseUser", e.s.CreateDatabaseUser(e.ctx, &u))
		want := newDatabaseUser(p.ID, "alice")
		want.Created, want.DeleteAfterDate = stored(t0), stored(t0.Add(time.Hour))
		equal(e.t, "after create", u, want)
		got, err := e.s.GetDatabaseUser(e.ctx, p.ID, flexd.AdminDatabase, "alice")
		ok(e.t, "GetDatabaseUser", err)
		equal(e.t, "get", *got, want)

		dup := newDatabaseUser(p.ID, "alice")
		isErr(e.t, "duplicate", e.s.CreateDatabaseUser(e.ctx, &dup), flexd.ErrConflict)
		orphan := newDatabaseUser(newID(), "bob")
		isErr(e.t, "no project", e.s.CreateDatabaseUser(e.ctx, &orphan), flexd.ErrNotFound)
		_, err = e.s.GetDatabaseUser(e.ctx, p.ID, "$external", "alice")
		isErr(e.t, "other database", err, flexd.ErrNotFound)

		// Update writes everything but the key; none of roles, scopes,
		// labels reads back as nil.
		got.Roles, got.Scopes, got.Labels, got.Description = nil, []flexd.UserScope{}, nil, ""
		got.SCRAM.SHA256.Iterations = 15000
		got.DeleteAfterDate = time.Time{}
		ok(e.t, "UpdateDatabaseUser", e.s.UpdateDatabaseUser(e.ctx, got))
		again, err := e.s.GetDatabaseUser(e.ctx, p.ID, flexd.AdminDatabase, "alice")
		ok(e.t, "GetDatabaseUser", err)
		got.Scopes = nil
		equal(e.t, "after update", *again, *got)
		missing := newDatabaseUser(p.ID, "nobody")
		isErr(e.t, "update missing", e.s.UpdateDatabaseUser(e.ctx, &missing), flexd.ErrNotFound)

		ok(e.t, "DeleteDatabaseUser", e.s.DeleteDatabaseUser(e.ctx, p.ID, flexd.AdminDatabase, "alice"))
		isErr(e.t, "delete again", e.s.DeleteDatabaseUser(e.ctx, p.ID, flexd.AdminDatabase, "alice"), flexd.ErrNotFound)
	}},
	{"DatabaseUsers/ListAndExpiry", func(e *env) {
		p := e.project(e.org().ID)
		other := e.project(e.org().ID)
		for i, name := range []string{"u1", "u2", "u3"} {
			u := newDatabaseUser(p.ID, name)
			u.Created = t0.Add(time.Duration(i) * time.Second)
			if name == "u2" {
				u.DeleteAfterDate = t0.Add(time.Hour)
			}
			ok(e.t, "CreateDatabaseUser", e.s.CreateDatabaseUser(e.ctx, &u))
		}
		elsewhere := newDatabaseUser(other.ID, "u1")
		ok(e.t, "CreateDatabaseUser", e.s.CreateDatabaseUser(e.ctx, &elsewhere))

		names := func(asOf time.Time, pg flexd.Page) ([]string, int) {
			users, total, err := e.s.ListDatabaseUsers(e.ctx, p.ID, asOf, pg)
			ok(e.t, "ListDatabaseUsers", err)
			out := []string{}
			for _, u := range users {
				out = append(out, u.Username)
			}
			return out, total
		}
		got, total := names(t0, flexd.Page{Num: 1, ItemsPerPage: 2, Count: true})
		equal(e.t, "page 1", got, []string{"u1", "u2"})
		equal(e.t, "total", total, 3)
		got, total = names(t0.Add(time.Hour), flexd.Page{Num: 1, ItemsPerPage: 10, Count: true})
		equal(e.t, "expired left out", got, []string{"u1", "u3"})
		equal(e.t, "total after expiry", total, 2)

		ok(e.t, "DeleteExpiredDatabaseUsers", e.s.DeleteExpiredDatabaseUsers(e.ctx, p.ID, t0.Add(time.Hour)))
		got, _ = names(t0, flexd.Page{Num: 1, ItemsPerPage: 10})
		equal(e.t, "after purge", got, []string{"u1", "u3"})
		_, err := e.s.GetDatabaseUser(e.ctx, other.ID, flexd.AdminDatabase, "u1")
		ok(e.t, "other project untouched", err)

		// Users go with their project.
		ok(e.t, "DeleteProject", e.s.DeleteProject(e.ctx, p.ID))
		_, err = e.s.GetDatabaseUser(e.ctx, p.ID, flexd.AdminDatabase, "u1")
		isErr(e.t, "after project delete", err, flexd.ErrNotFound)
	}},
	{"AccessList/PutListDelete", func(e *env) {
		p := e.project(e.org().ID)
		entries := []flexd.AccessListEntry{
			{CIDRBlock: "192.168.0.243/32", IPAddress: "192.168.0.243", Created: t0},
			{CIDRBlock: "10.0.0.0/8", Comment: "office", Created: t0},
			{CIDRBlock: "2001:db8::/32", Comment: "v6", DeleteAfterDate: t0.Add(time.Hour), Created: t0},
		}
		ok(e.t, "PutAccessListEntries", e.s.PutAccessListEntries(e.ctx, p.ID, entries))
		if entries[0].GroupID != p.ID || !entries[2].DeleteAfterDate.Equal(stored(t0.Add(time.Hour))) || entries[0].Created.Location() != time.UTC {
			e.t.Errorf("after put: %+v", entries)
		}
		list := func(asOf time.Time) []string {
			got, total, err := e.s.ListAccessListEntries(e.ctx, p.ID, asOf, flexd.Page{Num: 1, ItemsPerPage: 10, Count: true})
			ok(e.t, "ListAccessListEntries", err)
			out := []string{}
			for _, g := range got {
				out = append(out, g.CIDRBlock)
			}
			equal(e.t, "total", total, len(out))
			return out
		}
		// In the order given, not the blocks' order.
		equal(e.t, "list", list(t0), []string{"192.168.0.243/32", "10.0.0.0/8", "2001:db8::/32"})
		equal(e.t, "list after expiry", list(t0.Add(time.Hour)), []string{"192.168.0.243/32", "10.0.0.0/8"})

		// Putting a listed block replaces its fields and keeps its place.
		ok(e.t, "PutAccessListEntries", e.s.PutAccessListEntries(e.ctx, p.ID, []flexd.AccessListEntry{
			{CIDRBlock: "192.168.0.243/32", Comment: "again", Created: t0.Add(time.Minute)}}))
		got, err := e.s.GetAccessListEntry(e.ctx, p.ID, "192.168.0.243/32")
		ok(e.t, "GetAccessListEntry", err)
		equal(e.t, "replaced", *got, flexd.AccessListEntry{GroupID: p.ID, CIDRBlock: "192.168.0.243/32", Comment: "again", Created: stored(t0)})
		equal(e.t, "place kept", list(t0)[0], "192.168.0.243/32")

		ok(e.t, "DeleteExpiredAccessListEntries", e.s.DeleteExpiredAccessListEntries(e.ctx, p.ID, t0.Add(time.Hour)))
		_, err = e.s.GetAccessListEntry(e.ctx, p.ID, "2001:db8::/32")
		isErr(e.t, "purged", err, flexd.ErrNotFound)
		ok(e.t, "DeleteAccessListEntry", e.s.DeleteAccessListEntry(e.ctx, p.ID, "10.0.0.0/8"))
		isErr(e.t, "delete again", e.s.DeleteAccessListEntry(e.ctx, p.ID, "10.0.0.0/8"), flexd.ErrNotFound)
		isErr(e.t, "no project", e.s.PutAccessListEntries(e.ctx, newID(), []flexd.AccessListEntry{{CIDRBlock: "1.2.3.4/32"}}), flexd.ErrNotFound)

		// Entries go with their project.
		ok(e.t, "DeleteProject", e.s.DeleteProject(e.ctx, p.ID))
		_, err = e.s.GetAccessListEntry(e.ctx, p.ID, "192.168.0.243/32")
		isErr(e.t, "after project delete", err, flexd.ErrNotFound)
	}},
	{"AccessList/StartsWithTheProject", func(e *env) {
		o := e.org()
		blocks := func(groupID string) []string {
			got, _, err := e.s.ListAccessListEntries(e.ctx, groupID, t0, flexd.Page{Num: 1, ItemsPerPage: 10})
			ok(e.t, "ListAccessListEntries", err)
			out := []string{}
			for _, g := range got {
				out = append(out, g.CIDRBlock+" "+g.Comment)
			}
			return out
		}
		start := func() []flexd.AccessListEntry {
			return []flexd.AccessListEntry{{CIDRBlock: "127.0.0.0/8", Comment: "loopback", Created: t0}, {CIDRBlock: "::1/128", Created: t0}}
		}
		p := flexd.Project{ID: newID(), OrgID: o.ID, Name: next("project"), Created: t0, AccessList: start()}
		ok(e.t, "CreateProject", e.s.CreateProject(e.ctx, &p))
		equal(e.t, "the list a project starts with", blocks(p.ID), []string{"127.0.0.0/8 loopback", "::1/128 "})
		if p.AccessList[0].GroupID != p.ID {
			e.t.Errorf("after create: %+v", p.AccessList)
		}

		// The same with an owner; and a create that fails leaves no entries.
		k := flexd.APIKey{ID: newID(), OrgID: o.ID, PublicKey: next("k")[:1] + newID()[:7], Desc: "creator",
			Grants: flexd.Grants{OrgRoles: []flexd.Role{flexd.RoleOrgGroupCreator}}, HA1MD5: "x", HA1SHA256: "y", Created: t0}
		ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &k))
		q := flexd.Project{ID: newID(), OrgID: o.ID, Name: next("owned"), Created: t0, AccessList: start()}
		ok(e.t, "CreateOwnedProject", e.s.CreateOwnedProject(e.ctx, &q, flexd.ProjectOwner{Kind: flexd.KindAPIKey, ID: k.ID}))
		equal(e.t, "an owned project's list", blocks(q.ID), []string{"127.0.0.0/8 loopback", "::1/128 "})
		dup := flexd.Project{ID: newID(), OrgID: o.ID, Name: p.Name, Created: t0, AccessList: start()}
		isErr(e.t, "a taken name", e.s.CreateProject(e.ctx, &dup), flexd.ErrConflict)
		equal(e.t, "no entries of a project not created", blocks(dup.ID), []string{})
	}},
}

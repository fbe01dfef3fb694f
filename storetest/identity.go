package storetest

import (
	"bytes"
	"slices"
	"time"

	"github.com/flexd/flexd"
)

// newAPIKey is a key of org with the given grants; public keys are unique
// across the parallel subtests. The whole id goes into the public key: its
// last 8 digits alone (the id's counter) repeat once a new second resets
// the counter, which made APIKeys/List fail on a slow machine.
func newAPIKey(orgID string, g flexd.Grants) flexd.APIKey {
	id := newID()
	return flexd.APIKey{
		ID: id, OrgID: orgID, PublicKey: "pk" + id, Desc: next("key"), Grants: g,
		HA1MD5: "md5-" + id, HA1SHA256: "sha-" + id, Created: t0,
	}
}

func newServiceAccount(orgID string, g flexd.Grants) flexd.ServiceAccount {
	return flexd.ServiceAccount{
		ClientID: "mdb_sa_id_" + newID(), OrgID: orgID, Name: next("sa"), Description: "d", Grants: g, CreatedAt: t0,
	}
}

func newSecret(clientID string) flexd.ServiceAccountSecret {
	return flexd.ServiceAccountSecret{
		ID: newID(), ClientID: clientID, Hash: "$2a$hash", MaskedSecretValue: "mdb_sa_sk_...abcd",
		CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour),
	}
}

func apiKeyID(k flexd.APIKey) string         { return k.ID }
func clientID(a flexd.ServiceAccount) string { return a.ClientID }
func sortedGroups(ids ...string) []string    { slices.Sort(ids); return ids }
func roles(rs ...flexd.Role) []flexd.Role    { return rs }
func grant(g string, rs ...flexd.Role) flexd.ProjectRoles {
	return flexd.ProjectRoles{GroupID: g, Roles: rs}
}

var identityTests = []subtest{
	{"APIKeys/RoundTrip", func(e *env) {
		o := e.org()
		p1, p2 := e.project(o.ID), e.project(o.ID)
		g := sortedGroups(p1.ID, p2.ID)
		k := newAPIKey(o.ID, flexd.Grants{
			OrgRoles: roles(flexd.RoleOrgMember),
			Projects: []flexd.ProjectRoles{grant(g[1], flexd.RoleGroupReadOnly), grant(g[0], flexd.RoleGroupOwner)},
		})
		k.PrivateKey = "never stored"
		k.PrivateKeyTail = "63ed686edf65"
		ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &k))
		want := k
		want.Created = stored(t0)
		want.PrivateKey = ""
		want.Projects = []flexd.ProjectRoles{grant(g[0], flexd.RoleGroupOwner), grant(g[1], flexd.RoleGroupReadOnly)}
		equal(e.t, "after create", k, want)
		got, err := e.s.GetAPIKey(e.ctx, k.ID)
		ok(e.t, "GetAPIKey", err)
		equal(e.t, "get", *got, want)
		got, err = e.s.GetAPIKeyByPublicKey(e.ctx, k.PublicKey)
		ok(e.t, "GetAPIKeyByPublicKey", err)
		equal(e.t, "get by public key", *got, want)

		// No roles at all read back as nil.
		bare := newAPIKey(o.ID, flexd.Grants{OrgRoles: []flexd.Role{}, Projects: []flexd.ProjectRoles{}})
		ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &bare))
		got, err = e.s.GetAPIKey(e.ctx, bare.ID)
		ok(e.t, "GetAPIKey", err)
		if got.OrgRoles != nil || got.Projects != nil || bare.OrgRoles != nil || bare.Projects != nil {
			e.t.Fatalf("no roles read back as %+v (create left %+v)", got.Grants, bare.Grants)
		}

		k.Desc, k.OrgRoles, k.HA1MD5, k.HA1SHA256, k.PrivateKeyTail = "new", roles(flexd.RoleOrgOwner), "m2", "s2", "0123456789ab"
		ok(e.t, "UpdateAPIKey", e.s.UpdateAPIKey(e.ctx, k.ID, flexd.APIKeyChange{Desc: &k.Desc, OrgRoles: &k.OrgRoles,
			Credentials: &flexd.APIKeyCredentials{HA1MD5: "m2", HA1SHA256: "s2", PrivateKeyTail: "0123456789ab"}}))
		got, err = e.s.GetAPIKey(e.ctx, k.ID)
		ok(e.t, "GetAPIKey", err)
		equal(e.t, "after update", *got, k)

		// An update writes only what it sets: a description change does
		// not write back roles another update changed meanwhile.
		desc := "only the description"
		member := roles(flexd.RoleOrgMember)
		ok(e.t, "UpdateAPIKey roles", e.s.UpdateAPIKey(e.ctx, k.ID, flexd.APIKeyChange{OrgRoles: &member}))
		ok(e.t, "UpdateAPIKey desc", e.s.UpdateAPIKey(e.ctx, k.ID, flexd.APIKeyChange{Desc: &desc}))
		got, err = e.s.GetAPIKey(e.ctx, k.ID)
		ok(e.t, "GetAPIKey", err)
		k.Desc, k.OrgRoles = desc, member
		equal(e.t, "after two partial updates", *got, k)
	}},
	{"APIKeys/Errors", func(e *env) {
		o := e.org()
		k := newAPIKey(o.ID, flexd.Grants{})
		ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &k))
		dup := newAPIKey(o.ID, flexd.Grants{})
		dup.PublicKey = k.PublicKey
		isErr(e.t, "taken public key", e.s.CreateAPIKey(e.ctx, &dup), flexd.ErrConflict)
		noOrg := newAPIKey(newID(), flexd.Grants{})
		isErr(e.t, "missing org", e.s.CreateAPIKey(e.ctx, &noOrg), flexd.ErrNotFound)
		noProject := newAPIKey(o.ID, flexd.Grants{Projects: []flexd.ProjectRoles{grant(newID(), flexd.RoleGroupOwner)}})
		isErr(e.t, "missing project", e.s.CreateAPIKey(e.ctx, &noProject), flexd.ErrNotFound)
		_, err := e.s.GetAPIKey(e.ctx, noProject.ID)
		isErr(e.t, "half-created key", err, flexd.ErrNotFound)
		_, err = e.s.GetAPIKeyByPublicKey(e.ctx, "nobody")
		isErr(e.t, "unknown public key", err, flexd.ErrNotFound)
		missing := newAPIKey(o.ID, flexd.Grants{})
		isErr(e.t, "update missing", e.s.UpdateAPIKey(e.ctx, missing.ID, flexd.APIKeyChange{Desc: &missing.Desc}), flexd.ErrNotFound)
		isErr(e.t, "empty update of missing", e.s.UpdateAPIKey(e.ctx, missing.ID, flexd.APIKeyChange{}), flexd.ErrNotFound)
		isErr(e.t, "delete missing", e.s.DeleteAPIKey(e.ctx, missing.ID), flexd.ErrNotFound)
	}},
	{"APIKeys/ProjectRoles", func(e *env) {
		o := e.org()
		p := e.project(o.ID)
		k := newAPIKey(o.ID, flexd.Grants{})
		ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &k))
		rolesIn := func() []flexd.Role {
			got, err := e.s.GetAPIKey(e.ctx, k.ID)
			ok(e.t, "GetAPIKey", err)
			return got.RolesIn(p.ID)
		}
		ok(e.t, "assign", e.s.SetAPIKeyProjectRoles(e.ctx, k.ID, p.ID, roles(flexd.RoleGroupReadOnly)))
		equal(e.t, "assigned", rolesIn(), roles(flexd.RoleGroupReadOnly))
		ok(e.t, "replace", e.s.SetAPIKeyProjectRoles(e.ctx, k.ID, p.ID, roles(flexd.RoleGroupOwner, flexd.RoleGroupClusterManager)))
		equal(e.t, "replaced", rolesIn(), roles(flexd.RoleGroupOwner, flexd.RoleGroupClusterManager))
		sameIDs(e.t, "project's keys", listIDs(e.t, apiKeyLister(e, flexd.APIKeyFilter{GroupID: p.ID}), apiKeyID), []string{k.ID})
		ok(e.t, "unassign", e.s.SetAPIKeyProjectRoles(e.ctx, k.ID, p.ID, nil))
		equal(e.t, "unassigned", rolesIn(), []flexd.Role(nil))
		isErr(e.t, "unassign again", e.s.SetAPIKeyProjectRoles(e.ctx, k.ID, p.ID, nil), flexd.ErrNotFound)
		isErr(e.t, "unknown project", e.s.SetAPIKeyProjectRoles(e.ctx, k.ID, newID(), roles(flexd.RoleGroupOwner)), flexd.ErrNotFound)
		isErr(e.t, "unknown key", e.s.SetAPIKeyProjectRoles(e.ctx, newID(), p.ID, roles(flexd.RoleGroupOwner)), flexd.ErrNotFound)
		// Updating the roles of an assignment never creates one.
		isErr(e.t, "update unassigned", e.s.UpdateAPIKeyProjectRoles(e.ctx, k.ID, p.ID, roles(flexd.RoleGroupOwner)), flexd.ErrNotFound)
		equal(e.t, "still unassigned", rolesIn(), []flexd.Role(nil))
		ok(e.t, "assign", e.s.SetAPIKeyProjectRoles(e.ctx, k.ID, p.ID, roles(flexd.RoleGroupReadOnly)))
		ok(e.t, "update assigned", e.s.UpdateAPIKeyProjectRoles(e.ctx, k.ID, p.ID, roles(flexd.RoleGroupOwner)))
		equal(e.t, "updated", rolesIn(), roles(flexd.RoleGroupOwner))
		ok(e.t, "unassign", e.s.SetAPIKeyProjectRoles(e.ctx, k.ID, p.ID, nil))

		// Deleting the project or the key takes the assignment with it.
		ok(e.t, "assign", e.s.SetAPIKeyProjectRoles(e.ctx, k.ID, p.ID, roles(flexd.RoleGroupOwner)))
		ok(e.t, "DeleteProject", e.s.DeleteProject(e.ctx, p.ID))
		equal(e.t, "after project delete", rolesIn(), []flexd.Role(nil))
		ok(e.t, "DeleteAPIKey", e.s.DeleteAPIKey(e.ctx, k.ID))
		_, err := e.s.GetAPIKey(e.ctx, k.ID)
		isErr(e.t, "deleted key", err, flexd.ErrNotFound)
	}},
	{"APIKeys/List", func(e *env) {
		o, other := e.org(), e.org()
		p := e.project(o.ID)
		var want, inProject []string
		for i := range 5 {
			g := flexd.Grants{OrgRoles: roles(flexd.RoleOrgMember)}
			if i%2 == 0 {
				g.Projects = []flexd.ProjectRoles{grant(p.ID, flexd.RoleGroupReadOnly)}
			}
			k := newAPIKey(o.ID, g)
			ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &k))
			want = append(want, k.ID)
			if i%2 == 0 {
				inProject = append(inProject, k.ID)
			}
		}
		stranger := newAPIKey(other.ID, flexd.Grants{})
		ok(e.t, "CreateAPIKey", e.s.CreateAPIKey(e.ctx, &stranger))
		checkPaging(e.t, apiKeyLister(e, flexd.APIKeyFilter{OrgID: o.ID}), apiKeyID, want)
		checkPaging(e.t, apiKeyLister(e, flexd.APIKeyFilter{GroupID: p.ID}), apiKeyID, inProject)
		items, _ := listAll(e.t, apiKeyLister(e, flexd.APIKeyFilter{GroupID: p.ID}))
		if len(items[0].Projects) != 1 || items[0].OrgRoles[0] != flexd.RoleOrgMember {
			e.t.Fatalf("listed key without its grants: %+v", items[0])
		}
	}},
	{"ServiceAccounts/RoundTrip", func(e *env) {
		o := e.org()
		p := e.project(o.ID)
		a := newServiceAccount(o.ID, flexd.Grants{
			OrgRoles: roles(flexd.RoleOrgReadOnly), Projects: []flexd.ProjectRoles{grant(p.ID, flexd.RoleGroupOwner)},
		})
		sec := newSecret(a.ClientID)
		sec.Secret = "never stored"
		a.Secrets = []flexd.ServiceAccountSecret{sec}
		ok(e.t, "CreateServiceAccount", e.s.CreateServiceAccount(e.ctx, &a))
		if a.Secrets[0].Secret != "" || a.CreatedAt != stored(t0) || a.Secrets[0].ExpiresAt != stored(t0.Add(8*time.Hour)) {
			e.t.Fatalf("after create: %+v", a)
		}
		got, err := e.s.GetServiceAccount(e.ctx, a.ClientID)
		ok(e.t, "GetServiceAccount", err)
		equal(e.t, "get", *got, a)

		a.Name, a.Description, a.OrgRoles = "renamed", "new", nil
		ok(e.t, "UpdateServiceAccount", e.s.UpdateServiceAccount(e.ctx, a.ClientID, flexd.ServiceAccountChange{
			Name: &a.Name, Description: &a.Description, OrgRoles: &[]flexd.Role{}}))
		got, err = e.s.GetServiceAccount(e.ctx, a.ClientID)
		ok(e.t, "GetServiceAccount", err)
		equal(e.t, "after update", *got, a)

		at := t0.Add(time.Hour)
		ok(e.t, "TouchServiceAccountSecret", e.s.TouchServiceAccountSecret(e.ctx, sec.ID, at))
		got, _ = e.s.GetServiceAccount(e.ctx, a.ClientID)
		equal(e.t, "last used", got.Secrets[0].LastUsedAt, stored(at))

		dup := newServiceAccount(o.ID, flexd.Grants{})
		dup.ClientID = a.ClientID
		isErr(e.t, "taken client id", e.s.CreateServiceAccount(e.ctx, &dup), flexd.ErrConflict)
		_, err = e.s.GetServiceAccount(e.ctx, "mdb_sa_id_"+newID())
		isErr(e.t, "unknown", err, flexd.ErrNotFound)
	}},
	{"ServiceAccounts/ListAndProjects", func(e *env) {
		o := e.org()
		p1, p2 := e.project(o.ID), e.project(o.ID)
		var want []string
		for range 4 {
			a := newServiceAccount(o.ID, flexd.Grants{OrgRoles: roles(flexd.RoleOrgMember)})
			a.Secrets = []flexd.ServiceAccountSecret{newSecret(a.ClientID)}
			ok(e.t, "CreateServiceAccount", e.s.CreateServiceAccount(e.ctx, &a))
			want = append(want, a.ClientID)
		}
		slices.Sort(want)
		checkPaging(e.t, accountLister(e, flexd.ServiceAccountFilter{OrgID: o.ID}), clientID, want)
		ok(e.t, "assign", e.s.SetServiceAccountProjectRoles(e.ctx, want[1], p2.ID, roles(flexd.RoleGroupReadOnly)))
		ok(e.t, "assign", e.s.SetServiceAccountProjectRoles(e.ctx, want[1], p1.ID, roles(flexd.RoleGroupOwner)))
		ok(e.t, "assign", e.s.SetServiceAccountProjectRoles(e.ctx, want[3], p1.ID, roles(flexd.RoleGroupOwner)))
		sameIDs(e.t, "p1's accounts", listIDs(e.t, accountLister(e, flexd.ServiceAccountFilter{GroupID: p1.ID}), clientID),
			[]string{want[1], want[3]})
		items, _ := listAll(e.t, accountLister(e, flexd.ServiceAccountFilter{GroupID: p2.ID}))
		if len(items) != 1 || len(items[0].Secrets) != 1 || len(items[0].Projects) != 2 {
			e.t.Fatalf("listed account without its grants or secrets: %+v", items)
		}
		checkPaging(e.t, func(p flexd.Page) ([]string, int, error) {
			return e.s.ListServiceAccountProjects(e.ctx, want[1], p)
		}, func(s string) string { return s }, sortedGroups(p1.ID, p2.ID))
	}},
	{"ServiceAccounts/SecretsAndTokens", func(e *env) {
		o := e.org()
		a := newServiceAccount(o.ID, flexd.Grants{OrgRoles: roles(flexd.RoleOrgOwner)})
		ok(e.t, "CreateServiceAccount", e.s.CreateServiceAccount(e.ctx, &a))
		s1, s2 := newSecret(a.ClientID), newSecret(a.ClientID)
		ok(e.t, "secret 1", e.s.CreateServiceAccountSecret(e.ctx, &s1, 2))
		ok(e.t, "secret 2", e.s.CreateServiceAccountSecret(e.ctx, &s2, 2))
		s3 := newSecret(a.ClientID)
		isErr(e.t, "secret over the limit", e.s.CreateServiceAccountSecret(e.ctx, &s3, 2), flexd.ErrConflict)
		orphan := newSecret("mdb_sa_id_" + newID())
		isErr(e.t, "secret of unknown account", e.s.CreateServiceAccountSecret(e.ctx, &orphan, 2), flexd.ErrNotFound)

		token := func(secretID string) flexd.AccessToken {
			t := flexd.AccessToken{Digest: next("digest"), Subject: a.ClientID, SecretID: secretID, ExpiresAt: t0.Add(time.Hour)}
			ok(e.t, "CreateAccessToken", e.s.CreateAccessToken(e.ctx, &t))
			return t
		}
		revoked := func(t flexd.AccessToken) bool {
			got, err := e.s.GetAccessToken(e.ctx, t.Digest)
			ok(e.t, "GetAccessToken", err)
			return got.Revoked
		}
		t1, t2 := token(s1.ID), token(s2.ID)
		got, err := e.s.GetAccessToken(e.ctx, t1.Digest)
		ok(e.t, "GetAccessToken", err)
		equal(e.t, "token", *got, flexd.AccessToken{Digest: t1.Digest, Subject: a.ClientID, SecretID: s1.ID, ExpiresAt: stored(t0.Add(time.Hour))})
		isErr(e.t, "duplicate digest", e.s.CreateAccessToken(e.ctx, &t1), flexd.ErrConflict)

		// Deleting a secret revokes its tokens only.
		isErr(e.t, "secret of another account", e.s.DeleteServiceAccountSecret(e.ctx, "mdb_sa_id_"+newID(), s1.ID), flexd.ErrNotFound)
		ok(e.t, "DeleteServiceAccountSecret", e.s.DeleteServiceAccountSecret(e.ctx, a.ClientID, s1.ID))
		if !revoked(t1) || revoked(t2) {
			e.t.Fatalf("after deleting secret 1: t1 revoked %v, t2 revoked %v", revoked(t1), revoked(t2))
		}
		isErr(e.t, "delete again", e.s.DeleteServiceAccountSecret(e.ctx, a.ClientID, s1.ID), flexd.ErrNotFound)

		// A client may revoke only its own tokens.
		ok(e.t, "revoke as another", e.s.RevokeAccessToken(e.ctx, "someone-else", t2.Digest))
		if revoked(t2) {
			e.t.Fatal("another subject revoked t2")
		}
		t3 := token(s2.ID)
		ok(e.t, "revoke own", e.s.RevokeAccessToken(e.ctx, a.ClientID, t3.Digest))
		if !revoked(t3) {
			e.t.Fatal("t3 not revoked")
		}

		// Replacing the secrets revokes the old ones' tokens.
		s4 := newSecret(a.ClientID)
		ok(e.t, "ReplaceServiceAccountSecrets", e.s.ReplaceServiceAccountSecrets(e.ctx, &s4))
		acc, err := e.s.GetServiceAccount(e.ctx, a.ClientID)
		ok(e.t, "GetServiceAccount", err)
		if len(acc.Secrets) != 1 || acc.Secrets[0].ID != s4.ID || !revoked(t2) {
			e.t.Fatalf("after replace: %+v, t2 revoked %v", acc.Secrets, revoked(t2))
		}

		// Deleting the account revokes every token it has.
		t5 := token(s4.ID)
		ok(e.t, "DeleteServiceAccount", e.s.DeleteServiceAccount(e.ctx, a.ClientID))
		if !revoked(t5) {
			e.t.Fatal("token outlived its account")
		}
		_, err = e.s.GetServiceAccount(e.ctx, a.ClientID)
		isErr(e.t, "deleted account", err, flexd.ErrNotFound)
		isErr(e.t, "delete again", e.s.DeleteServiceAccount(e.ctx, a.ClientID), flexd.ErrNotFound)

		// Expired tokens are forgotten.
		ok(e.t, "DeleteExpiredCredentials", e.s.DeleteExpiredCredentials(e.ctx, t0.Add(2*time.Hour)))
		_, err = e.s.GetAccessToken(e.ctx, t5.Digest)
		isErr(e.t, "expired token", err, flexd.ErrNotFound)
	}},
	{"Nonces", func(e *env) {
		nonce := next("nonce")
		use := func(nc uint32, exp time.Time) bool {
			fresh, err := e.s.UseNonce(e.ctx, nonce, nc, exp)
			ok(e.t, "UseNonce", err)
			return fresh
		}
		exp := t0.Add(5 * time.Minute)
		if !use(1, exp) || use(1, exp) || !use(2, exp) || !use(0xffffffff, exp) || use(0xffffffff, exp) {
			e.t.Fatal("a (nonce, nc) pair was not accepted exactly once")
		}
		ok(e.t, "DeleteExpiredCredentials", e.s.DeleteExpiredCredentials(e.ctx, t0))
		if use(1, exp) {
			e.t.Fatal("a live pair was forgotten")
		}
		ok(e.t, "DeleteExpiredCredentials", e.s.DeleteExpiredCredentials(e.ctx, exp))
		if !use(1, exp) {
			e.t.Fatal("an expired pair was kept")
		}
	}},
	{"ServerKeys", func(e *env) {
		name := next("key")
		first, err := e.s.ServerKey(e.ctx, name, []byte("first-candidate-key"))
		ok(e.t, "ServerKey", err)
		second, err := e.s.ServerKey(e.ctx, name, []byte("second-candidate-key"))
		ok(e.t, "ServerKey", err)
		if !bytes.Equal(first, []byte("first-candidate-key")) || !bytes.Equal(second, first) {
			e.t.Fatalf("server key %q then %q, want the first candidate both times", first, second)
		}
	}},
}

func apiKeyLister(e *env, f flexd.APIKeyFilter) lister[flexd.APIKey] {
	return func(p flexd.Page) ([]flexd.APIKey, int, error) { return e.s.ListAPIKeys(e.ctx, f, p) }
}

func accountLister(e *env, f flexd.ServiceAccountFilter) lister[flexd.ServiceAccount] {
	return func(p flexd.Page) ([]flexd.ServiceAccount, int, error) { return e.s.ListServiceAccounts(e.ctx, f, p) }
}

package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// interleaved is the real store, with a hook that runs another request
// right after the next credential read: the interleaving that lost updates
// need (request A reads, request B writes, request A writes), made to
// happen every time instead of one time in ten.
type interleaved struct {
	*sqlstore.Store
	mu    sync.Mutex
	after func()
}

// then arranges for fn to run once, after the next credential read.
func (s *interleaved) then(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after = fn
}

func (s *interleaved) fire() {
	s.mu.Lock()
	fn := s.after
	s.after = nil
	s.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (s *interleaved) GetAPIKey(ctx context.Context, id string) (*flexd.APIKey, error) {
	k, err := s.Store.GetAPIKey(ctx, id)
	s.fire()
	return k, err
}

func (s *interleaved) GetServiceAccount(ctx context.Context, clientID string) (*flexd.ServiceAccount, error) {
	a, err := s.Store.GetServiceAccount(ctx, clientID)
	s.fire()
	return a, err
}

type raceFixture struct {
	t     *testing.T
	ctx   context.Context
	store *interleaved
	svc   *service.Service
	orgID string
	group string
}

func newRaceFixture(t *testing.T) *raceFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "flexd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	store := &interleaved{Store: st}
	svc := service.New(store, nil, nil, service.Config{SecretCost: bcrypt.MinCost})
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateProject(ctx, flexd.ProjectCreate{Name: "race"})
	if err != nil {
		t.Fatal(err)
	}
	return &raceFixture{t: t, ctx: ctx, store: store, svc: svc, orgID: svc.DefaultOrgID(), group: p.ID}
}

func (f *raceFixture) must(what string, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
}

func ptr[T any](v T) *T { return &v }

var (
	orgOwner  = []flexd.Role{flexd.RoleOrgOwner}
	orgMember = []flexd.Role{flexd.RoleOrgMember}
)

// apiKey returns a new ORG_OWNER key that is also assigned to the project.
func (f *raceFixture) apiKey() string {
	k, err := f.svc.CreateOrgAPIKey(f.ctx, f.orgID, flexd.APIKeyCreate{Desc: "k", Roles: orgOwner})
	f.must("create key", err)
	f.must("assign key", f.svc.AssignProjectAPIKey(f.ctx, f.group, k.ID, []flexd.Role{flexd.RoleGroupReadOnly}))
	return k.ID
}

func (f *raceFixture) serviceAccount() string {
	a, err := f.svc.CreateOrgServiceAccount(f.ctx, f.orgID, flexd.ServiceAccountCreate{
		Name: "sa", Description: "d", Roles: orgOwner, SecretExpiresAfterHours: 8})
	f.must("create account", err)
	_, err = f.svc.InviteProjectServiceAccount(f.ctx, f.group, a.ClientID, []flexd.Role{flexd.RoleGroupReadOnly})
	f.must("invite account", err)
	return a.ClientID
}

// TestRevokedRolesStayRevoked: an organization owner takes ORG_OWNER away
// from a credential while a project owner updates its description (or
// changes its project roles while another removes it from the project).
// Each test runs the revocation between the update's read and its write.
// Before the fix the update wrote back the roles it had read, and the
// credential was ORG_OWNER (or assigned to the project) again.
func TestRevokedRolesStayRevoked(t *testing.T) {
	t.Run("APIKey/OrgRoles", func(t *testing.T) {
		f := newRaceFixture(t)
		id := f.apiKey()
		f.store.then(func() {
			_, err := f.svc.UpdateOrgAPIKey(f.ctx, f.orgID, id, flexd.APIKeyUpdate{Roles: ptr(orgMember)})
			f.must("revoke ORG_OWNER", err)
		})
		_, err := f.svc.UpdateProjectAPIKey(f.ctx, f.group, id, flexd.APIKeyUpdate{Desc: ptr("renamed")})
		f.must("update description", err)
		k, err := f.svc.GetOrgAPIKey(f.ctx, f.orgID, id)
		f.must("get", err)
		if !slices.Equal(k.OrgRoles, orgMember) || k.Desc != "renamed" {
			t.Errorf("roles %v, desc %q: want [ORG_MEMBER] and the new description", k.OrgRoles, k.Desc)
		}
	})
	t.Run("APIKey/OrgRolesViaOrgPatch", func(t *testing.T) {
		f := newRaceFixture(t)
		id := f.apiKey()
		f.store.then(func() {
			_, err := f.svc.UpdateOrgAPIKey(f.ctx, f.orgID, id, flexd.APIKeyUpdate{Roles: ptr(orgMember)})
			f.must("revoke ORG_OWNER", err)
		})
		_, err := f.svc.UpdateOrgAPIKey(f.ctx, f.orgID, id, flexd.APIKeyUpdate{Desc: ptr("renamed")})
		f.must("update description", err)
		k, err := f.svc.GetOrgAPIKey(f.ctx, f.orgID, id)
		f.must("get", err)
		if !slices.Equal(k.OrgRoles, orgMember) {
			t.Errorf("roles %v, want [ORG_MEMBER]", k.OrgRoles)
		}
	})
	t.Run("APIKey/ProjectGrant", func(t *testing.T) {
		f := newRaceFixture(t)
		id := f.apiKey()
		f.store.then(func() {
			f.must("unassign", f.svc.UnassignProjectAPIKey(f.ctx, f.group, id))
		})
		_, err := f.svc.UpdateProjectAPIKey(f.ctx, f.group, id,
			flexd.APIKeyUpdate{Roles: ptr([]flexd.Role{flexd.RoleGroupOwner})})
		if e := flexd.AsError(err); e == nil || e.Code != "API_KEY_NOT_FOUND" {
			t.Errorf("role change of an unassigned key: %v, want API_KEY_NOT_FOUND", err)
		}
		k, err := f.svc.GetOrgAPIKey(f.ctx, f.orgID, id)
		f.must("get", err)
		if r := k.RolesIn(f.group); r != nil {
			t.Errorf("key is assigned to the project again with %v", r)
		}
	})
	t.Run("ServiceAccount/OrgRoles", func(t *testing.T) {
		f := newRaceFixture(t)
		id := f.serviceAccount()
		f.store.then(func() {
			_, err := f.svc.UpdateOrgServiceAccount(f.ctx, f.orgID, id, flexd.ServiceAccountUpdate{Roles: ptr(orgMember)})
			f.must("revoke ORG_OWNER", err)
		})
		_, err := f.svc.UpdateProjectServiceAccount(f.ctx, f.group, id, flexd.ServiceAccountUpdate{Description: ptr("renamed")})
		f.must("update description", err)
		a, err := f.svc.GetOrgServiceAccount(f.ctx, f.orgID, id)
		f.must("get", err)
		if !slices.Equal(a.OrgRoles, orgMember) || a.Description != "renamed" {
			t.Errorf("roles %v, description %q: want [ORG_MEMBER] and the new description", a.OrgRoles, a.Description)
		}
	})
	t.Run("ServiceAccount/ProjectGrant", func(t *testing.T) {
		f := newRaceFixture(t)
		id := f.serviceAccount()
		f.store.then(func() {
			f.must("remove", f.svc.RemoveProjectServiceAccount(f.ctx, f.group, id))
		})
		_, err := f.svc.UpdateProjectServiceAccount(f.ctx, f.group, id,
			flexd.ServiceAccountUpdate{Roles: ptr([]flexd.Role{flexd.RoleGroupOwner})})
		if e := flexd.AsError(err); e == nil || e.Code != "SERVICE_ACCOUNT_NOT_FOUND" {
			t.Errorf("role change of a removed account: %v, want SERVICE_ACCOUNT_NOT_FOUND", err)
		}
		a, err := f.svc.GetOrgServiceAccount(f.ctx, f.orgID, id)
		f.must("get", err)
		if r := a.RolesIn(f.group); r != nil {
			t.Errorf("account is assigned to the project again with %v", r)
		}
	})
}

// TestConcurrentCredentialUpdates runs the same pairs truly concurrently,
// many times, for each credential kind: whatever the order, the revoked
// role never comes back.
func TestConcurrentCredentialUpdates(t *testing.T) {
	f := newRaceFixture(t)
	const rounds = 40
	both := func(a, b func() error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, fn := range []func() error{a, b} {
			wg.Go(func() { errs[i] = fn() })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	for range rounds {
		key := f.apiKey()
		both(func() error {
			_, err := f.svc.UpdateOrgAPIKey(f.ctx, f.orgID, key, flexd.APIKeyUpdate{Roles: ptr(orgMember)})
			return err
		}, func() error {
			_, err := f.svc.UpdateProjectAPIKey(f.ctx, f.group, key, flexd.APIKeyUpdate{Desc: ptr("renamed")})
			return err
		})
		k, err := f.svc.GetOrgAPIKey(f.ctx, f.orgID, key)
		f.must("get key", err)
		if !slices.Equal(k.OrgRoles, orgMember) {
			t.Fatalf("API key %s is %v again after a concurrent description change", key, k.OrgRoles)
		}

		sa := f.serviceAccount()
		both(func() error {
			_, err := f.svc.UpdateOrgServiceAccount(f.ctx, f.orgID, sa, flexd.ServiceAccountUpdate{Roles: ptr(orgMember)})
			return err
		}, func() error {
			_, err := f.svc.UpdateProjectServiceAccount(f.ctx, f.group, sa, flexd.ServiceAccountUpdate{Description: ptr("renamed")})
			return err
		})
		a, err := f.svc.GetOrgServiceAccount(f.ctx, f.orgID, sa)
		f.must("get account", err)
		if !slices.Equal(a.OrgRoles, orgMember) {
			t.Fatalf("service account %s is %v again after a concurrent description change", sa, a.OrgRoles)
		}

		// A role change racing a removal from the project: the removal
		// stays, whichever comes first (the change may answer NOT_FOUND).
		grantee := f.apiKey()
		both(func() error {
			return f.svc.UnassignProjectAPIKey(f.ctx, f.group, grantee)
		}, func() error {
			_, err := f.svc.UpdateProjectAPIKey(f.ctx, f.group, grantee,
				flexd.APIKeyUpdate{Roles: ptr([]flexd.Role{flexd.RoleGroupOwner})})
			if e := flexd.AsError(err); e != nil && e.Code == "API_KEY_NOT_FOUND" {
				return nil
			}
			return err
		})
		k, err = f.svc.GetOrgAPIKey(f.ctx, f.orgID, grantee)
		f.must("get key", err)
		if r := k.RolesIn(f.group); r != nil {
			t.Fatalf("API key %s is assigned again with %v after its removal", grantee, r)
		}
	}
}

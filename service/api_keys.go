package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

var _ flexd.APIKeyService = (*Service)(nil)

// maxAPIKeyDesc is the spec's maxLength for desc.
const maxAPIKeyDesc = 250

func validateAPIKeyDesc(desc string) error {
	if desc == "" {
		return flexd.APIKeyRequiresDescription()
	}
	if utf8.RuneCountInString(desc) > maxAPIKeyDesc {
		return flexd.InvalidAPIKeyDesc(maxAPIKeyDesc)
	}
	return nil
}

// scopedRoles checks roles for one scope (an organization or a project) and
// drops repeats, keeping the caller's order: at least one role is required
// (missing), and every role must belong to the scope (invalid names the
// first that does not).
func scopedRoles(roles []flexd.Role, inScope func(flexd.Role) bool, missing func() error, invalid func(flexd.Role) error) ([]flexd.Role, error) {
	if len(roles) == 0 {
		return nil, missing()
	}
	out := make([]flexd.Role, 0, len(roles))
	for _, r := range roles {
		if !inScope(r) {
			return nil, invalid(r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func apiKeyOrgRoles(orgID string, roles []flexd.Role) ([]flexd.Role, error) {
	return scopedRoles(roles, flexd.Role.IsOrgRole,
		func() error { return flexd.MissingAPIKeyRoles() },
		func(r flexd.Role) error { return flexd.InvalidRoleForOrg(r, orgID) })
}

func apiKeyGroupRoles(groupID string, roles []flexd.Role) ([]flexd.Role, error) {
	return scopedRoles(roles, flexd.Role.IsGroupRole,
		func() error { return flexd.MissingAPIKeyRoles() },
		func(r flexd.Role) error { return flexd.InvalidRoleForGroup(r, groupID) })
}

// NewPublicKey returns a public key shaped like Atlas's: 8 random lowercase
// letters. Rejection sampling keeps the letters uniform.
func NewPublicKey() string {
	var out [8]byte
	var b [1]byte
	for i := 0; i < len(out); {
		_, _ = rand.Read(b[:])
		if b[0] >= 26*9 { // 234: the largest multiple of 26 that fits
			continue
		}
		out[i] = 'a' + b[0]%26
		i++
	}
	return string(out[:])
}

// NewPrivateKey returns a private key shaped like Atlas's: a random (v4)
// UUID, 122 random bits.
func NewPrivateKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// setCredentials gives k the HA1 values of its credentials and the
// private key's last 12 characters (shown masked on reads, as Atlas does):
// all the store keeps of the private key.
func setCredentials(k *flexd.APIKey, publicKey, privateKey string) {
	k.PublicKey = publicKey
	k.HA1MD5 = credential.HA1(credential.AlgorithmMD5, publicKey, privateKey)
	k.HA1SHA256 = credential.HA1(credential.AlgorithmSHA256, publicKey, privateKey)
	k.PrivateKeyTail = flexd.PrivateKeyTail(privateKey)
}

// createAPIKey stores a new key of orgID with fresh credentials and
// returns it with its private key, the one time it is known. A public key
// that happens to be taken is drawn again.
func (s *Service) createAPIKey(ctx context.Context, orgID, desc string, g flexd.Grants) (*flexd.APIKey, error) {
	now := s.clock.Now()
	for range 3 {
		k := &flexd.APIKey{ID: flexd.NewID(now), OrgID: orgID, Desc: desc, Grants: g, Created: now}
		private := NewPrivateKey()
		setCredentials(k, NewPublicKey(), private)
		err := s.store.CreateAPIKey(ctx, k)
		if isConflict(err) {
			continue
		}
		if err != nil {
			return nil, internal("create API key", err)
		}
		k.PrivateKey = private
		return k, nil
	}
	return nil, internal("create API key", fmt.Errorf("no free public key after 3 draws"))
}

// apiKeyIn returns key id of organization orgID. A key of any other
// organization is API_KEY_NOT_FOUND, exactly like one that does not exist.
func (s *Service) apiKeyIn(ctx context.Context, orgID, id string) (*flexd.APIKey, error) {
	if !flexd.ValidID(id) {
		return nil, apiKeyErr("", flexd.ErrNotFound, id)
	}
	k, err := s.store.GetAPIKey(ctx, id)
	if err == nil && k.OrgID != orgID {
		err = flexd.ErrNotFound
	}
	if err != nil {
		return nil, apiKeyErr("get API key", err, id)
	}
	return k, nil
}

// apiKeyErr answers a store error about API key id: API_KEY_NOT_FOUND when
// there is no such key (or the caller may not see it), otherwise a failure
// of op.
func apiKeyErr(op string, err error, id string) error {
	if isNotFound(err) {
		return flexd.APIKeyNotFound(id)
	}
	return internal(op, err)
}

// ListOrgAPIKeys lists the keys of an organization.
func (s *Service) ListOrgAPIKeys(ctx context.Context, orgID string, p flexd.Page) ([]flexd.APIKey, int, error) {
	return s.listAPIKeys(ctx, flexd.APIKeyFilter{OrgID: orgID}, p)
}

func (s *Service) listAPIKeys(ctx context.Context, f flexd.APIKeyFilter, p flexd.Page) ([]flexd.APIKey, int, error) {
	keys, total, err := s.store.ListAPIKeys(ctx, f, p)
	if err != nil {
		return nil, 0, internal("list API keys", err)
	}
	return keys, total, nil
}

// GetOrgAPIKey returns one key of an organization.
func (s *Service) GetOrgAPIKey(ctx context.Context, orgID, id string) (*flexd.APIKey, error) {
	return s.apiKeyIn(ctx, orgID, id)
}

// CreateOrgAPIKey creates a key with organization roles.
func (s *Service) CreateOrgAPIKey(ctx context.Context, orgID string, c flexd.APIKeyCreate) (*flexd.APIKey, error) {
	if err := validateAPIKeyDesc(c.Desc); err != nil {
		return nil, err
	}
	roles, err := apiKeyOrgRoles(orgID, c.Roles)
	if err != nil {
		return nil, err
	}
	return s.createAPIKey(ctx, orgID, c.Desc, flexd.Grants{OrgRoles: roles})
}

// UpdateOrgAPIKey changes a key's description or organization roles. Only
// the fields the request sets are written: a description change racing a
// change of roles leaves the new roles in place.
func (s *Service) UpdateOrgAPIKey(ctx context.Context, orgID, id string, u flexd.APIKeyUpdate) (*flexd.APIKey, error) {
	if _, err := s.apiKeyIn(ctx, orgID, id); err != nil {
		return nil, err
	}
	var c flexd.APIKeyChange
	if u.Roles != nil {
		roles, err := apiKeyOrgRoles(orgID, *u.Roles)
		if err != nil {
			return nil, err
		}
		c.OrgRoles = &roles
	}
	if err := s.updateAPIKey(ctx, id, u.Desc, c); err != nil {
		return nil, err
	}
	return s.apiKeyIn(ctx, orgID, id)
}

// updateAPIKey writes c, with a new description when one is given.
func (s *Service) updateAPIKey(ctx context.Context, id string, desc *string, c flexd.APIKeyChange) error {
	if desc != nil {
		if err := validateAPIKeyDesc(*desc); err != nil {
			return err
		}
		c.Desc = desc
	}
	if err := s.store.UpdateAPIKey(ctx, id, c); err != nil {
		return apiKeyErr("update API key", err, id)
	}
	return nil
}

// DeleteOrgAPIKey deletes a key; the next request signed with it fails.
func (s *Service) DeleteOrgAPIKey(ctx context.Context, orgID, id string) error {
	if _, err := s.apiKeyIn(ctx, orgID, id); err != nil {
		return err
	}
	if err := s.store.DeleteAPIKey(ctx, id); err != nil {
		return apiKeyErr("delete API key", err, id)
	}
	return nil
}

// ListProjectAPIKeys lists the keys assigned to a project.
func (s *Service) ListProjectAPIKeys(ctx context.Context, groupID string, p flexd.Page) ([]flexd.APIKey, int, error) {
	return s.listAPIKeys(ctx, flexd.APIKeyFilter{GroupID: groupID}, p)
}

// CreateProjectAPIKey creates a key of the project's organization holding
// roles in the project and Organization Member in the organization, as
// Atlas's project keys do (their roles list both): one store write, so the
// key never exists without either.
func (s *Service) CreateProjectAPIKey(ctx context.Context, groupID string, c flexd.APIKeyCreate) (*flexd.APIKey, error) {
	p, err := s.GetProject(ctx, groupID)
	if err != nil {
		return nil, err
	}
	if err := validateAPIKeyDesc(c.Desc); err != nil {
		return nil, err
	}
	roles, err := apiKeyGroupRoles(groupID, c.Roles)
	if err != nil {
		return nil, err
	}
	return s.createAPIKey(ctx, p.OrgID, c.Desc, projectCreatedGrants(groupID, roles))
}

// projectCreatedGrants are the grants of a credential created through a
// project's endpoint: roles in the project, and Organization Member in its
// organization (which reaches no other project: flexd.Principal).
func projectCreatedGrants(groupID string, roles []flexd.Role) flexd.Grants {
	return flexd.Grants{OrgRoles: []flexd.Role{flexd.RoleOrgMember},
		Projects: []flexd.ProjectRoles{{GroupID: groupID, Roles: roles}}}
}

// projectAPIKey returns key id of the project's organization, and the
// project. assigned requires the key to hold roles in the project already.
func (s *Service) projectAPIKey(ctx context.Context, groupID, id string, assigned bool) (*flexd.APIKey, error) {
	p, err := s.GetProject(ctx, groupID)
	if err != nil {
		return nil, err
	}
	k, err := s.apiKeyIn(ctx, p.OrgID, id)
	if err != nil {
		return nil, err
	}
	if assigned && len(k.RolesIn(groupID)) == 0 {
		return nil, apiKeyErr("", flexd.ErrNotFound, id)
	}
	return k, nil
}

// setProjectRoles writes a key's roles in a project (none: unassigns it).
func (s *Service) setAPIKeyProjectRoles(ctx context.Context, groupID, id string, roles []flexd.Role) error {
	if err := s.store.SetAPIKeyProjectRoles(ctx, id, groupID, roles); err != nil {
		return apiKeyErr("set API key project roles", err, id)
	}
	return nil
}

// AssignProjectAPIKey gives a key of the project's organization roles in
// the project.
func (s *Service) AssignProjectAPIKey(ctx context.Context, groupID, id string, roles []flexd.Role) error {
	if _, err := s.projectAPIKey(ctx, groupID, id, false); err != nil {
		return err
	}
	roles, err := apiKeyGroupRoles(groupID, roles)
	if err != nil {
		return err
	}
	return s.setAPIKeyProjectRoles(ctx, groupID, id, roles)
}

// UpdateProjectAPIKey changes an assigned key's roles in the project, or
// its description. The roles are replaced only while the key is still
// assigned, and the description is written alone, so neither write can
// bring back what a concurrent request took away.
func (s *Service) UpdateProjectAPIKey(ctx context.Context, groupID, id string, u flexd.APIKeyUpdate) (*flexd.APIKey, error) {
	k, err := s.projectAPIKey(ctx, groupID, id, true)
	if err != nil {
		return nil, err
	}
	if u.Desc != nil {
		if err := validateAPIKeyDesc(*u.Desc); err != nil {
			return nil, err
		}
	}
	if u.Roles != nil {
		roles, err := apiKeyGroupRoles(groupID, *u.Roles)
		if err != nil {
			return nil, err
		}
		if err := s.store.UpdateAPIKeyProjectRoles(ctx, id, groupID, roles); err != nil {
			return nil, apiKeyErr("update API key project roles", err, id)
		}
	}
	if u.Desc != nil {
		if err := s.updateAPIKey(ctx, id, u.Desc, flexd.APIKeyChange{}); err != nil {
			return nil, err
		}
	}
	return s.apiKeyIn(ctx, k.OrgID, id)
}

// UnassignProjectAPIKey removes a key from a project; the key stays in its
// organization.
func (s *Service) UnassignProjectAPIKey(ctx context.Context, groupID, id string) error {
	if _, err := s.projectAPIKey(ctx, groupID, id, true); err != nil {
		return err
	}
	return s.setAPIKeyProjectRoles(ctx, groupID, id, nil)
}

// Bootstrap outcomes, for the operator's log.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// EnsureAPIKey makes sure an API key with exactly these credentials exists
// in orgID and is ORG_OWNER there: created when missing, its HA1 values
// replaced when the private key changed. Starting again with the same
// credentials changes nothing.
func (s *Service) EnsureAPIKey(ctx context.Context, orgID, publicKey, privateKey, desc string) (string, error) {
	k, err := s.store.GetAPIKeyByPublicKey(ctx, publicKey)
	if isNotFound(err) {
		now := s.clock.Now()
		k = &flexd.APIKey{ID: flexd.NewID(now), OrgID: orgID, Desc: desc,
			Grants: flexd.Grants{OrgRoles: []flexd.Role{flexd.RoleOrgOwner}}, Created: now}
		setCredentials(k, publicKey, privateKey)
		if err := s.store.CreateAPIKey(ctx, k); err != nil {
			return "", internal("create API key", err)
		}
		return Created, nil
	}
	if err != nil {
		return "", internal("get API key", err)
	}
	if k.OrgID != orgID {
		return "", fmt.Errorf("API key %s belongs to organization %s, not %s", publicKey, k.OrgID, orgID)
	}
	before := *k
	setCredentials(k, publicKey, privateKey)
	var c flexd.APIKeyChange
	if k.HA1MD5 != before.HA1MD5 || k.HA1SHA256 != before.HA1SHA256 || k.PrivateKeyTail != before.PrivateKeyTail {
		c.Credentials = &flexd.APIKeyCredentials{HA1MD5: k.HA1MD5, HA1SHA256: k.HA1SHA256, PrivateKeyTail: k.PrivateKeyTail}
	}
	if !slices.Contains(k.OrgRoles, flexd.RoleOrgOwner) {
		roles := append(k.OrgRoles, flexd.RoleOrgOwner)
		c.OrgRoles = &roles
	}
	if c == (flexd.APIKeyChange{}) {
		return Unchanged, nil
	}
	if err := s.store.UpdateAPIKey(ctx, k.ID, c); err != nil {
		return "", internal("update API key", err)
	}
	return Updated, nil
}

// CreateAdminAPIKey creates an ORG_OWNER key of orgID with fresh
// credentials, returned with its private key.
func (s *Service) CreateAdminAPIKey(ctx context.Context, orgID, desc string) (*flexd.APIKey, error) {
	return s.createAPIKey(ctx, orgID, desc, flexd.Grants{OrgRoles: []flexd.Role{flexd.RoleOrgOwner}})
}

// HasCredentials reports whether any API key or service account exists.
func (s *Service) HasCredentials(ctx context.Context) (bool, error) {
	one := flexd.Page{Num: 1, ItemsPerPage: 1}
	keys, _, err := s.store.ListAPIKeys(ctx, flexd.APIKeyFilter{}, one)
	if err != nil {
		return false, internal("list API keys", err)
	}
	accounts, _, err := s.store.ListServiceAccounts(ctx, flexd.ServiceAccountFilter{}, one)
	if err != nil {
		return false, internal("list service accounts", err)
	}
	return len(keys)+len(accounts) > 0, nil
}

package service

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

var _ flexd.ServiceAccountService = (*Service)(nil)

// Service account limits. The text pattern and lengths are the spec's;
// the secret lifetime bounds are Atlas's documented organization defaults
// (8 hours to 365 days); the secret count is our rule, matching Atlas's
// two (enough to rotate: add the new, switch, delete the old).
var saText = regexp.MustCompile(`^[\p{L}\p{N}\-_.,' ]*$`)

const (
	maxSANameLen        = 64
	maxSADescriptionLen = 250
	minSecretHours      = 8
	maxSecretHours      = 365 * 24
	maxSecrets          = 2
)

func validateSAText(attr, v string, max int) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > max || !saText.MatchString(v) {
		return flexd.InvalidAttribute(attr)
	}
	return nil
}

func validateSecretHours(h int) error {
	if h < minSecretHours || h > maxSecretHours {
		return flexd.InvalidAttribute("secretExpiresAfterHours")
	}
	return nil
}

func saOrgRoles(orgID string, roles []flexd.Role) ([]flexd.Role, error) {
	return scopedRoles(roles, flexd.Role.IsOrgRole,
		func() error { return flexd.MissingAttribute("roles") },
		func(r flexd.Role) error { return flexd.InvalidRoleForOrg(r, orgID) })
}

func saGroupRoles(groupID string, roles []flexd.Role) ([]flexd.Role, error) {
	return scopedRoles(roles, flexd.Role.IsGroupRole,
		func() error { return flexd.MissingAttribute("roles") },
		func(r flexd.Role) error { return flexd.InvalidRoleForGroup(r, groupID) })
}

// maskSecret is the form of a secret shown after creation: its prefix and
// last four characters, 24 of its 256 random bits.
func maskSecret(secret string) string {
	return credential.ClientSecretPrefix + "..." + secret[len(secret)-4:]
}

// newSecret draws a client secret for clientID (or takes the operator's),
// valid from now for hours, and hashes it. Only the hash and the
// mask are stored; Secret carries the clear value back to the caller once.
func (s *Service) newSecret(clientID, secret string, hours int) (*flexd.ServiceAccountSecret, error) {
	if secret == "" {
		secret = credential.NewClientSecret()
	}
	hash, err := credential.HashSecretCost(secret, s.cfg.SecretCost)
	if err != nil {
		return nil, internal("hash secret", err)
	}
	now := s.clock.Now()
	sec := &flexd.ServiceAccountSecret{ID: flexd.NewID(now), ClientID: clientID, Hash: hash,
		MaskedSecretValue: maskSecret(secret), CreatedAt: now, ExpiresAt: now.Add(time.Duration(hours) * time.Hour)}
	sec.Secret = secret
	return sec, nil
}

// createServiceAccount stores a new account of orgID with one secret, shown
// in the returned value once.
func (s *Service) createServiceAccount(ctx context.Context, orgID string, c flexd.ServiceAccountCreate, g flexd.Grants) (*flexd.ServiceAccount, error) {
	if err := validateSAText("name", c.Name, maxSANameLen); err != nil {
		return nil, err
	}
	if err := validateSAText("description", c.Description, maxSADescriptionLen); err != nil {
		return nil, err
	}
	if err := validateSecretHours(c.SecretExpiresAfterHours); err != nil {
		return nil, err
	}
	a := &flexd.ServiceAccount{ClientID: credential.NewClientID(), OrgID: orgID, Name: c.Name, Description: c.Description,
		Grants: g, CreatedAt: s.clock.Now()}
	sec, err := s.newSecret(a.ClientID, "", c.SecretExpiresAfterHours)
	if err != nil {
		return nil, err
	}
	a.Secrets = []flexd.ServiceAccountSecret{*sec}
	if err := s.store.CreateServiceAccount(ctx, a); err != nil {
		return nil, internal("create service account", err)
	}
	a.Secrets[0].Secret = sec.Secret
	return a, nil
}

// accountIn returns the account clientID of organization orgID; one of any
// other organization is SERVICE_ACCOUNT_NOT_FOUND, like one that does not
// exist.
func (s *Service) accountIn(ctx context.Context, orgID, clientID string) (*flexd.ServiceAccount, error) {
	a, err := s.store.GetServiceAccount(ctx, clientID)
	if err == nil && a.OrgID != orgID {
		err = flexd.ErrNotFound
	}
	if err != nil {
		return nil, accountErr("get service account", err, clientID)
	}
	return a, nil
}

// accountErr answers a store error about service account clientID:
// SERVICE_ACCOUNT_NOT_FOUND when there is no such account (or the caller
// may not see it), otherwise a failure of op.
func accountErr(op string, err error, clientID string) error {
	if isNotFound(err) {
		return flexd.ServiceAccountNotFound(clientID)
	}
	return internal(op, err)
}

// projectAccount returns the account clientID assigned to project groupID.
// With invited, it need only belong to the project's organization.
func (s *Service) projectAccount(ctx context.Context, groupID, clientID string, invited bool) (*flexd.ServiceAccount, error) {
	p, err := s.GetProject(ctx, groupID)
	if err != nil {
		return nil, err
	}
	a, err := s.accountIn(ctx, p.OrgID, clientID)
	if err != nil {
		return nil, err
	}
	if !invited && len(a.RolesIn(groupID)) == 0 {
		return nil, accountErr("", flexd.ErrNotFound, clientID)
	}
	return a, nil
}

func (s *Service) listAccounts(ctx context.Context, f flexd.ServiceAccountFilter, p flexd.Page) ([]flexd.ServiceAccount, int, error) {
	as, total, err := s.store.ListServiceAccounts(ctx, f, p)
	if err != nil {
		return nil, 0, internal("list service accounts", err)
	}
	return as, total, nil
}

// ListOrgServiceAccounts lists an organization's accounts.
func (s *Service) ListOrgServiceAccounts(ctx context.Context, orgID string, p flexd.Page) ([]flexd.ServiceAccount, int, error) {
	return s.listAccounts(ctx, flexd.ServiceAccountFilter{OrgID: orgID}, p)
}

// GetOrgServiceAccount returns one account of an organization.
func (s *Service) GetOrgServiceAccount(ctx context.Context, orgID, clientID string) (*flexd.ServiceAccount, error) {
	return s.accountIn(ctx, orgID, clientID)
}

// CreateOrgServiceAccount creates an account with organization roles.
func (s *Service) CreateOrgServiceAccount(ctx context.Context, orgID string, c flexd.ServiceAccountCreate) (*flexd.ServiceAccount, error) {
	roles, err := saOrgRoles(orgID, c.Roles)
	if err != nil {
		return nil, err
	}
	return s.createServiceAccount(ctx, orgID, c, flexd.Grants{OrgRoles: roles})
}

// updateAccount validates a PATCH's name and description and writes them
// with c, and nothing else: what the request does not change is left as
// stored, whatever a concurrent request wrote meanwhile.
func (s *Service) updateAccount(ctx context.Context, clientID string, u flexd.ServiceAccountUpdate, c flexd.ServiceAccountChange) error {
	if u.Name != nil {
		if err := validateSAText("name", *u.Name, maxSANameLen); err != nil {
			return err
		}
		c.Name = u.Name
	}
	if u.Description != nil {
		if err := validateSAText("description", *u.Description, maxSADescriptionLen); err != nil {
			return err
		}
		c.Description = u.Description
	}
	if c == (flexd.ServiceAccountChange{}) {
		return nil
	}
	if err := s.store.UpdateServiceAccount(ctx, clientID, c); err != nil {
		return accountErr("update service account", err, clientID)
	}
	return nil
}

// UpdateOrgServiceAccount changes an account's name, description or
// organization roles.
func (s *Service) UpdateOrgServiceAccount(ctx context.Context, orgID, clientID string, u flexd.ServiceAccountUpdate) (*flexd.ServiceAccount, error) {
	if _, err := s.accountIn(ctx, orgID, clientID); err != nil {
		return nil, err
	}
	var c flexd.ServiceAccountChange
	if u.Roles != nil {
		roles, err := saOrgRoles(orgID, *u.Roles)
		if err != nil {
			return nil, err
		}
		c.OrgRoles = &roles
	}
	if err := s.updateAccount(ctx, clientID, u, c); err != nil {
		return nil, err
	}
	return s.accountIn(ctx, orgID, clientID)
}

// DeleteOrgServiceAccount deletes an account; its tokens stop working at
// once.
func (s *Service) DeleteOrgServiceAccount(ctx context.Context, orgID, clientID string) error {
	if _, err := s.accountIn(ctx, orgID, clientID); err != nil {
		return err
	}
	if err := s.store.DeleteServiceAccount(ctx, clientID); err != nil {
		return accountErr("delete service account", err, clientID)
	}
	return nil
}

// ListServiceAccountProjects lists the projects an account is assigned to.
func (s *Service) ListServiceAccountProjects(ctx context.Context, orgID, clientID string, p flexd.Page) ([]string, int, error) {
	if _, err := s.accountIn(ctx, orgID, clientID); err != nil {
		return nil, 0, err
	}
	ids, total, err := s.store.ListServiceAccountProjects(ctx, clientID, p)
	if err != nil {
		return nil, 0, internal("list service account projects", err)
	}
	return ids, total, nil
}

// CreateServiceAccountSecret adds a secret, shown in the result once.
func (s *Service) CreateServiceAccountSecret(ctx context.Context, orgID, clientID string, hours int) (*flexd.ServiceAccountSecret, error) {
	if _, err := s.accountIn(ctx, orgID, clientID); err != nil {
		return nil, err
	}
	if err := validateSecretHours(hours); err != nil {
		return nil, err
	}
	sec, err := s.newSecret(clientID, "", hours)
	if err != nil {
		return nil, err
	}
	clear := sec.Secret
	err = s.store.CreateServiceAccountSecret(ctx, sec, maxSecrets)
	switch {
	case isConflict(err):
		return nil, flexd.ValidationError(fmt.Sprintf("a service account has at most %d secrets; delete one first", maxSecrets))
	case err != nil:
		return nil, accountErr("create service account secret", err, clientID)
	}
	sec.Secret = clear
	return sec, nil
}

// DeleteServiceAccountSecret deletes a secret; tokens issued against it
// stop working at once.
func (s *Service) DeleteServiceAccountSecret(ctx context.Context, orgID, clientID, secretID string) error {
	if _, err := s.accountIn(ctx, orgID, clientID); err != nil {
		return err
	}
	err := s.store.DeleteServiceAccountSecret(ctx, clientID, secretID)
	if isNotFound(err) {
		return flexd.ResourceNotFound("Service Account secret with id " + secretID)
	}
	if err != nil {
		return internal("delete service account secret", err)
	}
	return nil
}

// ListProjectServiceAccounts lists the accounts assigned to a project.
func (s *Service) ListProjectServiceAccounts(ctx context.Context, groupID string, p flexd.Page) ([]flexd.ServiceAccount, int, error) {
	return s.listAccounts(ctx, flexd.ServiceAccountFilter{GroupID: groupID}, p)
}

// GetProjectServiceAccount returns an account assigned to the project.
func (s *Service) GetProjectServiceAccount(ctx context.Context, groupID, clientID string) (*flexd.ServiceAccount, error) {
	return s.projectAccount(ctx, groupID, clientID, false)
}

// CreateProjectServiceAccount creates an account of the project's
// organization holding roles in the project and, as Atlas adds every
// account created this way to the organization, Organization Member
// there: one store write, so the account never exists without either.
func (s *Service) CreateProjectServiceAccount(ctx context.Context, groupID string, c flexd.ServiceAccountCreate) (*flexd.ServiceAccount, error) {
	p, err := s.GetProject(ctx, groupID)
	if err != nil {
		return nil, err
	}
	roles, err := saGroupRoles(groupID, c.Roles)
	if err != nil {
		return nil, err
	}
	return s.createServiceAccount(ctx, p.OrgID, c, projectCreatedGrants(groupID, roles))
}

// setAccountProjectRoles writes an account's roles in a project, then
// returns the account as it now is.
func (s *Service) setAccountProjectRoles(ctx context.Context, a *flexd.ServiceAccount, groupID string, roles []flexd.Role) error {
	if err := s.store.SetServiceAccountProjectRoles(ctx, a.ClientID, groupID, roles); err != nil {
		return accountErr("set service account project roles", err, a.ClientID)
	}
	return nil
}

// UpdateProjectServiceAccount changes an assigned account's name,
// description or roles in the project. The roles are replaced only while
// the account is still assigned, so a PATCH racing a removal never assigns
// it again.
func (s *Service) UpdateProjectServiceAccount(ctx context.Context, groupID, clientID string, u flexd.ServiceAccountUpdate) (*flexd.ServiceAccount, error) {
	a, err := s.projectAccount(ctx, groupID, clientID, false)
	if err != nil {
		return nil, err
	}
	if u.Roles != nil {
		roles, err := saGroupRoles(groupID, *u.Roles)
		if err != nil {
			return nil, err
		}
		if err := s.store.UpdateServiceAccountProjectRoles(ctx, clientID, groupID, roles); err != nil {
			return nil, accountErr("update service account project roles", err, clientID)
		}
	}
	if err := s.updateAccount(ctx, clientID, u, flexd.ServiceAccountChange{}); err != nil {
		return nil, err
	}
	return s.accountIn(ctx, a.OrgID, clientID)
}

// RemoveProjectServiceAccount takes an account out of a project; it stays
// in its organization.
func (s *Service) RemoveProjectServiceAccount(ctx context.Context, groupID, clientID string) error {
	a, err := s.projectAccount(ctx, groupID, clientID, false)
	if err != nil {
		return err
	}
	return s.setAccountProjectRoles(ctx, a, groupID, nil)
}

// InviteProjectServiceAccount assigns an account of the project's
// organization to the project with roles.
func (s *Service) InviteProjectServiceAccount(ctx context.Context, groupID, clientID string, roles []flexd.Role) (*flexd.ServiceAccount, error) {
	a, err := s.projectAccount(ctx, groupID, clientID, true)
	if err != nil {
		return nil, err
	}
	if roles, err = saGroupRoles(groupID, roles); err != nil {
		return nil, err
	}
	if err := s.setAccountProjectRoles(ctx, a, groupID, roles); err != nil {
		return nil, err
	}
	return s.accountIn(ctx, a.OrgID, clientID)
}

// bootstrapSecretHours is the lifetime of a secret set by the operator:
// it lasts until the operator changes it, in practice.
const bootstrapSecretHours = 100 * 365 * 24

// EnsureServiceAccount makes sure a service account with exactly these
// credentials exists in orgID and is ORG_OWNER there: created when
// missing; when the secret changed, its secrets are replaced by this one
// (revoking the old ones' tokens). Starting again with the same
// credentials changes nothing.
func (s *Service) EnsureServiceAccount(ctx context.Context, orgID, clientID, secret, name string) (string, error) {
	a, err := s.store.GetServiceAccount(ctx, clientID)
	if isNotFound(err) {
		a = &flexd.ServiceAccount{ClientID: clientID, OrgID: orgID, Name: name, Description: name,
			Grants: flexd.Grants{OrgRoles: []flexd.Role{flexd.RoleOrgOwner}}, CreatedAt: s.clock.Now()}
		sec, err := s.newSecret(clientID, secret, bootstrapSecretHours)
		if err != nil {
			return "", err
		}
		a.Secrets = []flexd.ServiceAccountSecret{*sec}
		if err := s.store.CreateServiceAccount(ctx, a); err != nil {
			return "", internal("create service account", err)
		}
		return Created, nil
	}
	if err != nil {
		return "", internal("get service account", err)
	}
	if a.OrgID != orgID {
		return "", fmt.Errorf("service account %s belongs to organization %s, not %s", clientID, a.OrgID, orgID)
	}
	outcome := Unchanged
	if !slices.Contains(a.OrgRoles, flexd.RoleOrgOwner) {
		roles := append(a.OrgRoles, flexd.RoleOrgOwner)
		if err := s.store.UpdateServiceAccount(ctx, clientID, flexd.ServiceAccountChange{OrgRoles: &roles}); err != nil {
			return "", internal("update service account", err)
		}
		outcome = Updated
	}
	now := s.clock.Now()
	for _, sec := range a.Secrets {
		if now.Before(sec.ExpiresAt) && credential.CheckSecret(sec.Hash, secret) {
			return outcome, nil
		}
	}
	sec, err := s.newSecret(clientID, secret, bootstrapSecretHours)
	if err != nil {
		return "", err
	}
	if err := s.store.ReplaceServiceAccountSecrets(ctx, sec); err != nil {
		return "", internal("replace service account secrets", err)
	}
	return Updated, nil
}

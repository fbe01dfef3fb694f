package service

import (
	"context"
	"errors"

	"github.com/flexd/flexd"
)

var _ flexd.InstanceService = (*Service)(nil)

// CreateOrganization creates an organization and, when asked, its first
// API key. The key is checked before anything is written, so a bad one
// leaves no organization behind.
func (s *Service) CreateOrganization(ctx context.Context, c flexd.OrganizationCreate) (*flexd.CreatedOrganization, error) {
	if !groupNamePattern.MatchString(c.Name) {
		return nil, flexd.InvalidOrgName(c.Name)
	}
	now := s.clock.Now()
	o := &flexd.Organization{ID: flexd.NewID(now), Name: c.Name, Created: now}
	var roles []flexd.Role
	if c.APIKey != nil {
		if err := validateAPIKeyDesc(c.APIKey.Desc); err != nil {
			return nil, err
		}
		var err error
		if roles, err = apiKeyOrgRoles(o.ID, c.APIKey.Roles); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateOrganization(ctx, o); err != nil {
		return nil, internal("create organization", err)
	}
	out := &flexd.CreatedOrganization{Organization: *o}
	if c.APIKey != nil {
		k, err := s.createAPIKey(ctx, o.ID, c.APIKey.Desc, flexd.Grants{OrgRoles: roles})
		if err != nil {
			return nil, err
		}
		out.APIKey = k
	}
	return out, nil
}

// UpdateOrganization renames an organization.
func (s *Service) UpdateOrganization(ctx context.Context, id string, u flexd.OrganizationUpdate) (*flexd.Organization, error) {
	o, err := s.GetOrganization(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Name == nil {
		return o, nil
	}
	if !groupNamePattern.MatchString(*u.Name) {
		return nil, flexd.InvalidOrgName(*u.Name)
	}
	o.Name = *u.Name
	if err := s.store.UpdateOrganization(ctx, o); err != nil {
		return nil, orgErr("update organization", err, id)
	}
	return o, nil
}

// DeleteOrganization deletes an organization that has no projects left,
// with its credentials. The default organization stays: it holds the
// instance administrators and takes the projects created without orgId.
func (s *Service) DeleteOrganization(ctx context.Context, id string) error {
	if !flexd.ValidID(id) {
		return flexd.InvalidOrgID(id)
	}
	if id == s.defaultOrgID {
		return flexd.CannotDeleteDefaultOrg(id)
	}
	err := s.store.DeleteOrganization(ctx, id)
	switch {
	case errors.Is(err, flexd.ErrNotEmpty):
		return flexd.OrgNotEmpty()
	case err != nil:
		return orgErr("delete organization", err, id)
	}
	return nil
}

// IsInstanceAdministrator reports whether p was designated one. With
// authentication off every caller is.
func (s *Service) IsInstanceAdministrator(ctx context.Context, p *flexd.Principal) (bool, error) {
	if p == nil {
		return false, nil
	}
	if p.All {
		return true, nil
	}
	if p.ID == "" {
		return false, nil
	}
	ok, err := s.store.IsInstanceAdministrator(ctx, p.ID)
	if err != nil {
		return false, internal("read instance administrator", err)
	}
	return ok, nil
}

// SetInstanceAdministrator designates the API key or service account id,
// or withdraws it. An unknown id is RESOURCE_NOT_FOUND.
func (s *Service) SetInstanceAdministrator(ctx context.Context, id string, on bool) error {
	err := s.store.SetInstanceAdministrator(ctx, id, on)
	if isNotFound(err) {
		return flexd.ResourceNotFound("API key or service account " + id)
	}
	if err != nil {
		return internal("designate instance administrator", err)
	}
	return nil
}

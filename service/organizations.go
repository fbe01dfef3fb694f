package service

import (
	"context"

	"github.com/flexd/flexd"
)

// ListOrganizations lists organizations matching f.
func (s *Service) ListOrganizations(ctx context.Context, f flexd.OrganizationFilter, p flexd.Page) ([]flexd.Organization, int, error) {
	orgs, total, err := s.store.ListOrganizations(ctx, f, p)
	if err != nil {
		return nil, 0, internal("list organizations", err)
	}
	return orgs, total, nil
}

// GetOrganization returns one organization or ORG_NOT_FOUND.
func (s *Service) GetOrganization(ctx context.Context, id string) (*flexd.Organization, error) {
	if !flexd.ValidID(id) {
		return nil, flexd.InvalidOrgID(id)
	}
	o, err := s.store.GetOrganization(ctx, id)
	if isNotFound(err) {
		return nil, flexd.OrgNotFound(id)
	}
	if err != nil {
		return nil, internal("get organization", err)
	}
	return o, nil
}

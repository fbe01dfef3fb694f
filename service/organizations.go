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
	if err != nil {
		return nil, orgErr("get organization", err, id)
	}
	return o, nil
}

// orgErr answers a store error about organization id: ORG_NOT_FOUND when
// there is no such organization, otherwise a failure of op.
func orgErr(op string, err error, id string) error {
	if isNotFound(err) {
		return flexd.OrgNotFound(id)
	}
	return internal(op, err)
}

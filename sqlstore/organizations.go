package sqlstore

import (
	"context"

	"github.com/flexd/flexd"
)

const organizationColumns = "id, name, is_deleted, created"

func scanOrganization(r rowScanner, o *flexd.Organization) error {
	return r.Scan(&o.ID, &o.Name, &o.IsDeleted, unixTime{&o.Created})
}

// CreateOrganization stores o; ErrConflict when its id is taken. On success
// o.Created holds what a Get returns (UTC, whole seconds).
func (s *Store) CreateOrganization(ctx context.Context, o *flexd.Organization) error {
	_, err := s.run().exec(ctx,
		"INSERT INTO organizations ("+organizationColumns+") VALUES (?, ?, ?, ?)",
		o.ID, o.Name, o.IsDeleted, unixSeconds(o.Created))
	if err != nil {
		return s.writeErr(err, "create organization "+o.ID)
	}
	o.Created = wholeSecondUTC(o.Created)
	return nil
}

// GetOrganization reads one organization.
func (s *Store) GetOrganization(ctx context.Context, id string) (*flexd.Organization, error) {
	return getOne(ctx, s.run(), "organization "+id,
		"SELECT "+organizationColumns+" FROM organizations WHERE id = ?", []any{id}, scanOrganization)
}

// ListOrganizations lists organizations in creation (id) order.
func (s *Store) ListOrganizations(ctx context.Context, f flexd.OrganizationFilter, p flexd.Page) ([]flexd.Organization, int, error) {
	return listPage(ctx, s, organizationsList(s.dialect, f), p, scanOrganization)
}

func organizationsList(d Dialect, f flexd.OrganizationFilter) listQuery {
	q := listQuery{
		what:    "list organizations",
		columns: organizationColumns,
		from:    "organizations",
		where:   where{dialect: d},
		orderBy: "id",
	}
	q.where.eqIfSet("name", f.Name)
	q.where.inIDs("id", f.IDs)
	return q
}

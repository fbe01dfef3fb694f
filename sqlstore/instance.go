package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/flexd/flexd"
)

// UpdateOrganization writes o's Name.
func (s *Store) UpdateOrganization(ctx context.Context, o *flexd.Organization) error {
	return s.writeOne(ctx, s.run(), "update organization "+o.ID,
		"UPDATE organizations SET name = ? WHERE id = ?", o.Name, o.ID)
}

// DeleteOrganization deletes an organization without projects, with its
// credentials. The organization row is locked before its projects are
// looked at, so a project created meanwhile is either seen (ErrNotEmpty) or
// refused for want of its organization.
func (s *Store) DeleteOrganization(ctx context.Context, id string) error {
	what := "delete organization " + id
	return s.inTx(ctx, func(r runner) error {
		if err := lockRow(ctx, r, "organizations", id, "organization "+id); err != nil {
			return err
		}
		var one int
		err := r.queryRow(ctx, "SELECT 1 FROM projects WHERE org_id = ? LIMIT 1", id).Scan(&one)
		switch {
		case err == nil:
			return fmt.Errorf("%s: it has projects: %w", what, flexd.ErrNotEmpty)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%s: %w", what, err)
		}
		// Every credential of the organization goes: each is touched, so
		// no cache answers for it after the commit.
		creds, err := queryAll(ctx, r, "SELECT id FROM api_keys WHERE org_id = ? UNION ALL"+
			" SELECT client_id FROM service_accounts WHERE org_id = ?", []any{id, id},
			func(row rowScanner, c *string) error { return row.Scan(c) })
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, c := range creds {
			r.touch(flexd.CredentialParent(c))
		}
		for _, w := range []struct {
			query string
			args  []any
		}{
			{"UPDATE access_tokens SET revoked = ? WHERE subject IN (SELECT client_id FROM service_accounts WHERE org_id = ?)", []any{true, id}},
			{"DELETE FROM instance_administrators WHERE id IN (SELECT client_id FROM service_accounts WHERE org_id = ?)", []any{id}},
			{"DELETE FROM instance_administrators WHERE id IN (SELECT id FROM api_keys WHERE org_id = ?)", []any{id}},
			{"DELETE FROM service_accounts WHERE org_id = ?", []any{id}},
			{"DELETE FROM api_keys WHERE org_id = ?", []any{id}},
			{"DELETE FROM organizations WHERE id = ?", []any{id}},
		} {
			if _, err := r.exec(ctx, w.query, w.args...); err != nil {
				if s.dialect.Classify(err) == ForeignKeyViolation {
					return fmt.Errorf("%s: it has projects: %w", what, flexd.ErrNotEmpty)
				}
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		return nil
	})
}

// IsInstanceAdministrator reports whether id was designated.
func (s *Store) IsInstanceAdministrator(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.run().queryRow(ctx, "SELECT 1 FROM instance_administrators WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read instance administrator %s: %w", id, err)
	}
	return true, nil
}

// SetInstanceAdministrator designates or withdraws the API key or service
// account id.
func (s *Store) SetInstanceAdministrator(ctx context.Context, id string, on bool) error {
	what := "designate instance administrator " + id
	return s.inTx(ctx, func(r runner) error {
		var one int
		err := r.queryRow(ctx, "SELECT 1 FROM api_keys WHERE id = ? UNION ALL"+
			" SELECT 1 FROM service_accounts WHERE client_id = ?", id, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, flexd.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		q := "DELETE FROM instance_administrators WHERE id = ?"
		if on {
			q = "INSERT INTO instance_administrators (id) VALUES (?) ON CONFLICT (id) DO NOTHING"
		}
		if _, err := r.exec(ctx, q, id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		r.touch(flexd.CredentialParent(id))
		return nil
	})
}

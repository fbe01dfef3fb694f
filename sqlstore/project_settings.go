package sqlstore

import (
	"context"
	"fmt"

	"github.com/flexd/flexd"
)

// CreateOwnedProject stores p and grants owner Project Owner of it in one
// transaction: a failed grant leaves no project its creator cannot read.
func (s *Store) CreateOwnedProject(ctx context.Context, p *flexd.Project, owner flexd.ProjectOwner) error {
	var grants assignments
	switch owner.Kind {
	case flexd.KindAPIKey:
		grants = apiKeyProjects
	case flexd.KindServiceAccount:
		grants = serviceAccountProjects
	default:
		return fmt.Errorf("create project %q: owner of unknown kind %q", p.Name, owner.Kind)
	}
	return s.inTx(ctx, func(r runner) error {
		if err := s.insertProject(ctx, r, p); err != nil {
			return err
		}
		if err := grants.insert(ctx, r, owner.ID, []flexd.ProjectRoles{
			{GroupID: p.ID, Roles: []flexd.Role{flexd.RoleGroupOwner}},
		}); err != nil {
			return err
		}
		return nil
	})
}

// ProjectSettings returns the settings the project set.
func (s *Store) ProjectSettings(ctx context.Context, groupID string) (flexd.ProjectSettings, error) {
	out := flexd.ProjectSettings{}
	err := s.eachRow(ctx, "read settings of project "+groupID,
		"SELECT name, enabled FROM project_settings WHERE group_id = ?", []any{groupID},
		func(scan func(...any) error) error {
			var name string
			var on bool
			if err := scan(&name, &on); err != nil {
				return err
			}
			out[name] = on
			return nil
		})
	return out, err
}

// SetProjectSettings upserts the given settings in one transaction.
func (s *Store) SetProjectSettings(ctx context.Context, groupID string, set flexd.ProjectSettings) error {
	return s.inTx(ctx, func(r runner) error {
		for name, on := range set {
			_, err := r.exec(ctx, "INSERT INTO project_settings (group_id, name, enabled) VALUES (?, ?, ?)"+
				" ON CONFLICT (group_id, name) DO UPDATE SET enabled = excluded.enabled", groupID, name, on)
			if err != nil {
				return s.writeErr(err, fmt.Sprintf("set %s of project %s", name, groupID))
			}
		}
		return nil
	})
}

// ProjectLimitValues returns the limits the project set.
func (s *Store) ProjectLimitValues(ctx context.Context, groupID string) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.eachRow(ctx, "read limits of project "+groupID,
		"SELECT name, value FROM project_limits WHERE group_id = ?", []any{groupID},
		func(scan func(...any) error) error {
			var name string
			var v int64
			if err := scan(&name, &v); err != nil {
				return err
			}
			out[name] = v
			return nil
		})
	return out, err
}

// SetProjectLimitValue upserts one limit.
func (s *Store) SetProjectLimitValue(ctx context.Context, groupID, name string, value int64) error {
	_, err := s.run().exec(ctx, "INSERT INTO project_limits (group_id, name, value) VALUES (?, ?, ?)"+
		" ON CONFLICT (group_id, name) DO UPDATE SET value = excluded.value", groupID, name, value)
	if err != nil {
		return s.writeErr(err, fmt.Sprintf("set limit %s of project %s", name, groupID))
	}
	return nil
}

// DeleteProjectLimitValue forgets a set limit.
func (s *Store) DeleteProjectLimitValue(ctx context.Context, groupID, name string) error {
	if _, err := s.run().exec(ctx, "DELETE FROM project_limits WHERE group_id = ? AND name = ?", groupID, name); err != nil {
		return fmt.Errorf("delete limit %s of project %s: %w", name, groupID, err)
	}
	return nil
}

// eachRow runs query and hands each row to fn.
func (s *Store) eachRow(ctx context.Context, what, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := s.run().query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return rows.Close()
}

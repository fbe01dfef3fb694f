package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/flexd/flexd"
)

// projectColumns reads a project with its ClusterCount, counted on every
// read from an index on flex_clusters.group_id rather than stored, so it
// cannot drift from the clusters that exist.
const projectColumns = "p.id, p.org_id, p.name, p.created, p.tags, p.region_usage_restrictions, p.with_default_alerts_settings, " +
	"(SELECT COUNT(*) FROM flex_clusters c WHERE c.group_id = p.id)"

func scanProject(r rowScanner, p *flexd.Project) error {
	return r.Scan(&p.ID, &p.OrgID, &p.Name, unixTime{&p.Created}, tagsColumn{&p.Tags},
		&p.RegionUsageRestrictions, &p.WithDefaultAlertsSettings, &p.ClusterCount)
}

// CreateProject stores p: ErrConflict when its org has a project of that
// name (or its id is taken), ErrNotFound when the org does not exist. On
// success p holds what a Get returns.
func (s *Store) CreateProject(ctx context.Context, p *flexd.Project) error {
	return s.inTx(ctx, func(r runner) error { return s.insertProject(ctx, r, p) })
}

// insertProject writes a new project and the access list it starts with
// in r's transaction.
func (s *Store) insertProject(ctx context.Context, r runner, p *flexd.Project) error {
	_, err := r.exec(ctx,
		"INSERT INTO projects (id, org_id, name, created, tags, region_usage_restrictions, with_default_alerts_settings)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?)",
		p.ID, p.OrgID, p.Name, unixSeconds(p.Created), tagsValue(p.Tags), p.RegionUsageRestrictions, p.WithDefaultAlertsSettings)
	if err != nil {
		return s.writeErr(err, fmt.Sprintf("create project %q in organization %s", p.Name, p.OrgID))
	}
	if err := s.putAccessListEntries(ctx, r, p.ID, p.AccessList); err != nil {
		return err
	}
	r.touch(flexd.ProjectParent(p.ID))
	p.Created = wholeSecondUTC(p.Created)
	p.Tags = normalTags(p.Tags)
	p.ClusterCount = 0
	settleAccessListEntries(p.ID, p.AccessList)
	return nil
}

// GetProject reads one project.
func (s *Store) GetProject(ctx context.Context, id string) (*flexd.Project, error) {
	return getOne(ctx, s.run(), "project "+id,
		"SELECT "+projectColumns+" FROM projects p WHERE p.id = ?", []any{id}, scanProject)
}

// ListProjects lists projects in creation (id) order.
func (s *Store) ListProjects(ctx context.Context, f flexd.ProjectFilter, p flexd.Page) ([]flexd.Project, int, error) {
	return listPage(ctx, s, projectsList(s.dialect, f), p, scanProject)
}

func projectsList(d Dialect, f flexd.ProjectFilter) listQuery {
	q := listQuery{
		what:    "list projects",
		columns: projectColumns,
		from:    "projects p",
		where:   where{dialect: d},
		orderBy: "p.id",
	}
	q.where.eqIfSet("p.org_id", f.OrgID)
	q.where.eqIfSet("p.name", f.Name)
	q.where.inIDs("p.id", f.IDs)
	return q
}

// UpdateProject writes p's Name and Tags.
func (s *Store) UpdateProject(ctx context.Context, p *flexd.Project) error {
	r := s.run()
	err := s.writeOne(ctx, r, "update project "+p.ID,
		"UPDATE projects SET name = ?, tags = ? WHERE id = ?", p.Name, tagsValue(p.Tags), p.ID)
	if err != nil {
		return err
	}
	r.touch(flexd.ProjectParent(p.ID))
	p.Tags = normalTags(p.Tags)
	return nil
}

// DeleteProject deletes an empty project. The project row is locked before
// the clusters are looked at, so a cluster created meanwhile is either seen
// (ErrNotEmpty) or refused for want of its project. The project roles of
// API keys and service accounts go with it (ON DELETE CASCADE), so their
// credentials change too.
func (s *Store) DeleteProject(ctx context.Context, id string) error {
	what := "delete project " + id
	return s.inTx(ctx, func(r runner) error {
		if err := lockRow(ctx, r, "projects", id, "project "+id); err != nil {
			return err
		}
		var one int
		err := r.queryRow(ctx, "SELECT 1 FROM flex_clusters WHERE group_id = ? LIMIT 1", id).Scan(&one)
		switch {
		case err == nil:
			return fmt.Errorf("%s: it has clusters: %w", what, flexd.ErrNotEmpty)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := touchAssigned(ctx, r, id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		r.touch(flexd.ProjectParent(id))
		_, err = r.exec(ctx, "DELETE FROM projects WHERE id = ?", id)
		if s.dialect.Classify(err) == ForeignKeyViolation {
			return fmt.Errorf("%s: it has clusters: %w", what, flexd.ErrNotEmpty)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

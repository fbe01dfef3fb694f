package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flexd/flexd"
)

// API keys and service accounts hold their grants the same way: organization
// roles in a JSON column of their own row, project roles in an assignment
// table with one row per project. assignments names one such table, so the
// code that reads and writes grants is written once for both.
type assignments struct {
	table  string // the assignment table
	owner  string // its column naming the principal
	parent string // the principal's table
	key    string // the parent's key column
	what   string // for messages
}

var (
	apiKeyProjects = assignments{
		table: "api_key_projects", owner: "api_key_id", parent: "api_keys", key: "id", what: "API key",
	}
	serviceAccountProjects = assignments{
		table: "service_account_projects", owner: "client_id", parent: "service_accounts", key: "client_id",
		what: "service account",
	}
)

// rolesValue encodes roles for a roles column: a JSON array, "[]" for none.
type rolesValue []flexd.Role

func (v rolesValue) Value() (driver.Value, error) {
	if v == nil {
		v = rolesValue{}
	}
	b, err := json.Marshal([]flexd.Role(v))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// rolesColumn scans a roles column. No roles read back as nil, as tags do.
type rolesColumn struct{ roles *[]flexd.Role }

func (c rolesColumn) Scan(src any) error {
	var s sql.NullString
	if err := s.Scan(src); err != nil {
		return err
	}
	*c.roles = nil
	if !s.Valid || s.String == "" {
		return nil
	}
	var roles []flexd.Role
	if err := json.Unmarshal([]byte(s.String), &roles); err != nil {
		return fmt.Errorf("decode roles: %w", err)
	}
	if len(roles) > 0 {
		*c.roles = roles
	}
	return nil
}

// normalGrants is g as it reads back: nil for no roles and no projects,
// projects sorted by id.
func normalGrants(g flexd.Grants) flexd.Grants {
	out := flexd.Grants{}
	if len(g.OrgRoles) > 0 {
		out.OrgRoles = g.OrgRoles
	}
	for _, p := range g.Projects {
		if len(p.Roles) > 0 {
			out.Projects = append(out.Projects, p)
		}
	}
	slices.SortFunc(out.Projects, func(a, b flexd.ProjectRoles) int {
		switch {
		case a.GroupID < b.GroupID:
			return -1
		case a.GroupID > b.GroupID:
			return 1
		}
		return 0
	})
	return out
}

// insert stores every project assignment of the principal id, whose
// credential it touches. A project that does not exist fails the foreign
// key: flexd.ErrNotFound.
func (a assignments) insert(ctx context.Context, r runner, id string, projects []flexd.ProjectRoles) error {
	r.touch(flexd.CredentialParent(id))
	for _, p := range projects {
		if len(p.Roles) == 0 {
			continue
		}
		_, err := r.exec(ctx, "INSERT INTO "+a.table+" ("+a.owner+", group_id, roles) VALUES (?, ?, ?)",
			id, p.GroupID, rolesValue(p.Roles))
		if err != nil {
			return r.s.writeErr(err, fmt.Sprintf("assign %s %s to project %s", a.what, id, p.GroupID))
		}
	}
	return nil
}

// load reads the project assignments of the principals ids, by principal.
func (a assignments) load(ctx context.Context, r runner, ids []string) (map[string][]flexd.ProjectRoles, error) {
	out := map[string][]flexd.ProjectRoles{}
	if len(ids) == 0 {
		return out, nil
	}
	b, _ := json.Marshal(ids) // a []string always marshals
	rows, err := r.query(ctx, "SELECT "+a.owner+", group_id, roles FROM "+a.table+
		" WHERE "+r.s.dialect.InJSON(a.owner)+" ORDER BY "+a.owner+", group_id", string(b))
	if err != nil {
		return nil, fmt.Errorf("read %s project roles: %w", a.what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		var p flexd.ProjectRoles
		if err := rows.Scan(&owner, &p.GroupID, rolesColumn{&p.Roles}); err != nil {
			return nil, fmt.Errorf("read %s project roles: %w", a.what, err)
		}
		out[owner] = append(out[owner], p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s project roles: %w", a.what, err)
	}
	return out, rows.Close()
}

// set replaces the principal's roles in one project; no roles removes the
// assignment, flexd.ErrNotFound when there was none. An unknown principal or
// project is flexd.ErrNotFound too (the foreign keys).
func (a assignments) set(ctx context.Context, s *Store, id, groupID string, roles []flexd.Role) error {
	what := fmt.Sprintf("set roles of %s %s in project %s", a.what, id, groupID)
	r := s.run()
	if len(roles) == 0 {
		if err := s.writeOne(ctx, r, what,
			"DELETE FROM "+a.table+" WHERE "+a.owner+" = ? AND group_id = ?", id, groupID); err != nil {
			return err
		}
		r.touch(flexd.CredentialParent(id))
		return nil
	}
	// ON CONFLICT … DO UPDATE is the upsert both databases speak.
	_, err := r.exec(ctx, "INSERT INTO "+a.table+" ("+a.owner+", group_id, roles) VALUES (?, ?, ?)"+
		" ON CONFLICT ("+a.owner+", group_id) DO UPDATE SET roles = excluded.roles",
		id, groupID, rolesValue(roles))
	if err != nil {
		return s.writeErr(err, what)
	}
	r.touch(flexd.CredentialParent(id))
	return nil
}

// touchAssigned touches the credentials of every principal assigned to
// project groupID, whose grants a delete of the project changes.
func touchAssigned(ctx context.Context, r runner, groupID string) error {
	for _, a := range []assignments{apiKeyProjects, serviceAccountProjects} {
		ids, err := queryAll(ctx, r, "SELECT "+a.owner+" FROM "+a.table+" WHERE group_id = ?", []any{groupID},
			func(row rowScanner, id *string) error { return row.Scan(id) })
		if err != nil {
			return fmt.Errorf("read %s assignments: %w", a.what, err)
		}
		for _, id := range ids {
			r.touch(flexd.CredentialParent(id))
		}
	}
	return nil
}

// update replaces the roles of an existing assignment, and is
// flexd.ErrNotFound when there is none: unlike set, it never creates one.
func (a assignments) update(ctx context.Context, s *Store, id, groupID string, roles []flexd.Role) error {
	r := s.run()
	if err := s.writeOne(ctx, r, fmt.Sprintf("update roles of %s %s in project %s", a.what, id, groupID),
		"UPDATE "+a.table+" SET roles = ? WHERE "+a.owner+" = ? AND group_id = ?", rolesValue(roles), id, groupID); err != nil {
		return err
	}
	r.touch(flexd.CredentialParent(id))
	return nil
}

// update is an UPDATE of the columns a change sets, and of no other.
type update struct {
	sets []string
	args []any
}

func (u *update) set(col string, v any) {
	u.sets = append(u.sets, col+" = ?")
	u.args = append(u.args, v)
}

// apply runs the update on the credential row of table whose keyCol is
// id: flexd.ErrNotFound when there is none, also when nothing is set.
func (u *update) apply(ctx context.Context, s *Store, what, table, keyCol, id string) error {
	sets := u.sets
	if len(sets) == 0 {
		sets = []string{keyCol + " = " + keyCol}
	}
	r := s.run()
	if err := s.writeOne(ctx, r, what,
		"UPDATE "+table+" SET "+strings.Join(sets, ", ")+" WHERE "+keyCol+" = ?", append(u.args, id)...); err != nil {
		return err
	}
	r.touch(flexd.CredentialParent(id))
	return nil
}

// projects lists the ids of the projects the principal is assigned to.
func (a assignments) projects(ctx context.Context, s *Store, id string, p flexd.Page) ([]string, int, error) {
	q := listQuery{
		what:    "list projects of " + a.what + " " + id,
		columns: "group_id",
		from:    a.table,
		where:   where{dialect: s.dialect},
		orderBy: "group_id",
	}
	q.where.eq(a.owner, id)
	return listPage(ctx, s, q, p, func(r rowScanner, g *string) error { return r.Scan(g) })
}

// assignedTo adds to w the condition "the principal in column col is
// assigned to project groupID", unless groupID is empty.
func (a assignments) assignedTo(w *where, col, groupID string) {
	if groupID == "" {
		return
	}
	w.conds = append(w.conds, col+" IN (SELECT "+a.owner+" FROM "+a.table+" WHERE group_id = ?)")
	w.args = append(w.args, groupID)
}

// lock locks the principal's row for the rest of the transaction, or
// reports flexd.ErrNotFound.
func (a assignments) lock(ctx context.Context, r runner, id string) error {
	var one int
	err := r.queryRow(ctx, "SELECT 1 FROM "+a.parent+" WHERE "+a.key+" = ?"+r.s.dialect.ForUpdate(), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", a.what, id, flexd.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("lock %s %s: %w", a.what, id, err)
	}
	return nil
}

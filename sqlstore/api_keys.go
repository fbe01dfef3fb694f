package sqlstore

import (
	"context"
	"fmt"

	"github.com/flexd/flexd"
)

const apiKeyColumns = "k.id, k.org_id, k.public_key, k.description, k.org_roles, k.ha1_md5, k.ha1_sha256, k.private_key_tail, k.created"

// scanAPIKeyRow reads a key's row as stored: its HA1 values may be sealed
// (Store.scanAPIKey opens them).
func scanAPIKeyRow(r rowScanner, k *flexd.APIKey) error {
	return r.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.Desc, rolesColumn{&k.OrgRoles}, &k.HA1MD5, &k.HA1SHA256,
		&k.PrivateKeyTail, unixTime{&k.Created})
}

// CreateAPIKey stores k with its project assignments in one transaction.
// On success k holds what a Get returns.
func (s *Store) CreateAPIKey(ctx context.Context, k *flexd.APIKey) error {
	err := s.inTx(ctx, func(r runner) error {
		_, err := r.exec(ctx, "INSERT INTO api_keys (id, org_id, public_key, description, org_roles, ha1_md5, ha1_sha256,"+
			" private_key_tail, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			k.ID, k.OrgID, k.PublicKey, k.Desc, rolesValue(k.OrgRoles), s.sealValue(k.HA1MD5, ha1Where("ha1_md5", k.ID)),
			s.sealValue(k.HA1SHA256, ha1Where("ha1_sha256", k.ID)), k.PrivateKeyTail, unixSeconds(k.Created))
		if err != nil {
			return s.writeErr(err, "create API key "+k.ID)
		}
		r.touch(flexd.CredentialParent(k.ID))
		return apiKeyProjects.insert(ctx, r, k.ID, k.Projects)
	})
	if err != nil {
		return err
	}
	k.Created = wholeSecondUTC(k.Created)
	k.Grants = normalGrants(k.Grants)
	k.PrivateKey = ""
	return nil
}

// GetAPIKey reads one key with its grants.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*flexd.APIKey, error) {
	return s.getAPIKey(ctx, "API key "+id, "k.id = ?", id)
}

// GetAPIKeyByPublicKey reads the key a Digest username names.
func (s *Store) GetAPIKeyByPublicKey(ctx context.Context, publicKey string) (*flexd.APIKey, error) {
	return s.getAPIKey(ctx, "API key with public key "+publicKey, "k.public_key = ?", publicKey)
}

// getAPIKey reads the key and its assignments in one snapshot, so that a
// key read while its roles change has either the old or the new ones.
func (s *Store) getAPIKey(ctx context.Context, what, cond string, arg any) (*flexd.APIKey, error) {
	var k *flexd.APIKey
	err := s.readTx(ctx, func(r runner) error {
		var err error
		k, err = getOne(ctx, r, what, "SELECT "+apiKeyColumns+" FROM api_keys k WHERE "+cond, []any{arg}, s.scanAPIKey)
		if err != nil {
			return err
		}
		projects, err := apiKeyProjects.load(ctx, r, []string{k.ID})
		k.Projects = projects[k.ID]
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// ListAPIKeys lists keys in creation (id) order, with their grants.
func (s *Store) ListAPIKeys(ctx context.Context, f flexd.APIKeyFilter, p flexd.Page) ([]flexd.APIKey, int, error) {
	q := listQuery{
		what:    "list API keys",
		columns: apiKeyColumns,
		from:    "api_keys k",
		where:   where{dialect: s.dialect},
		orderBy: "k.id",
	}
	q.where.eqIfSet("k.org_id", f.OrgID)
	apiKeyProjects.assignedTo(&q.where, "k.id", f.GroupID)
	keys, total, err := listPage(ctx, s, q, p, s.scanAPIKey)
	if err != nil {
		return nil, 0, err
	}
	ids := make([]string, len(keys))
	for i := range keys {
		ids[i] = keys[i].ID
	}
	projects, err := apiKeyProjects.load(ctx, s.run(), ids)
	if err != nil {
		return nil, 0, err
	}
	for i := range keys {
		keys[i].Projects = projects[keys[i].ID]
	}
	return keys, total, nil
}

// UpdateAPIKey writes the fields c sets, and only those, in one statement.
func (s *Store) UpdateAPIKey(ctx context.Context, id string, c flexd.APIKeyChange) error {
	var u update
	if c.Desc != nil {
		u.set("description", *c.Desc)
	}
	if c.OrgRoles != nil {
		u.set("org_roles", rolesValue(*c.OrgRoles))
	}
	if cr := c.Credentials; cr != nil {
		u.set("ha1_md5", s.sealValue(cr.HA1MD5, ha1Where("ha1_md5", id)))
		u.set("ha1_sha256", s.sealValue(cr.HA1SHA256, ha1Where("ha1_sha256", id)))
		u.set("private_key_tail", cr.PrivateKeyTail)
	}
	return u.apply(ctx, s, "update API key "+id, "api_keys", "id", id)
}

// SetAPIKeyProjectRoles replaces the key's roles in one project.
func (s *Store) SetAPIKeyProjectRoles(ctx context.Context, id, groupID string, roles []flexd.Role) error {
	return apiKeyProjects.set(ctx, s, id, groupID, roles)
}

// UpdateAPIKeyProjectRoles replaces the roles of a key assigned to the
// project; ErrNotFound when it is not.
func (s *Store) UpdateAPIKeyProjectRoles(ctx context.Context, id, groupID string, roles []flexd.Role) error {
	return apiKeyProjects.update(ctx, s, id, groupID, roles)
}

// DeleteAPIKey deletes the key; its assignments go with it (ON DELETE
// CASCADE), and with its HA1 gone the next Digest request fails.
func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	r := s.run()
	if err := s.writeOne(ctx, r, fmt.Sprintf("delete API key %s", id), "DELETE FROM api_keys WHERE id = ?", id); err != nil {
		return err
	}
	r.touch(flexd.CredentialParent(id))
	return nil
}

package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

const serviceAccountColumns = "a.client_id, a.org_id, a.name, a.description, a.org_roles, a.created_at"

func scanServiceAccount(r rowScanner, a *flexd.ServiceAccount) error {
	return r.Scan(&a.ClientID, &a.OrgID, &a.Name, &a.Description, rolesColumn{&a.OrgRoles}, unixTime{&a.CreatedAt})
}

const secretColumns = "id, client_id, hash, masked_secret_value, created_at, expires_at, last_used_at"

func scanSecret(r rowScanner, s *flexd.ServiceAccountSecret) error {
	return r.Scan(&s.ID, &s.ClientID, &s.Hash, &s.MaskedSecretValue, unixTime{&s.CreatedAt}, unixTime{&s.ExpiresAt},
		unixTime{&s.LastUsedAt})
}

// CreateServiceAccount stores a with its assignments and secrets in one
// transaction. On success a holds what a Get returns.
func (s *Store) CreateServiceAccount(ctx context.Context, a *flexd.ServiceAccount) error {
	err := s.inTx(ctx, func(r runner) error {
		_, err := r.exec(ctx, "INSERT INTO service_accounts (client_id, org_id, name, description, org_roles, created_at)"+
			" VALUES (?, ?, ?, ?, ?, ?)",
			a.ClientID, a.OrgID, a.Name, a.Description, rolesValue(a.OrgRoles), unixSeconds(a.CreatedAt))
		if err != nil {
			return s.writeErr(err, "create service account "+a.ClientID)
		}
		r.touch(flexd.CredentialParent(a.ClientID))
		if err := serviceAccountProjects.insert(ctx, r, a.ClientID, a.Projects); err != nil {
			return err
		}
		for i := range a.Secrets {
			a.Secrets[i].ClientID = a.ClientID
			if err := insertSecret(ctx, r, &a.Secrets[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.CreatedAt = wholeSecondUTC(a.CreatedAt)
	a.Grants = normalGrants(a.Grants)
	if len(a.Secrets) == 0 {
		a.Secrets = nil
	}
	return nil
}

// insertSecret stores one secret; the clear secret is never written.
func insertSecret(ctx context.Context, r runner, sec *flexd.ServiceAccountSecret) error {
	_, err := r.exec(ctx, "INSERT INTO service_account_secrets ("+secretColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		sec.ID, sec.ClientID, sec.Hash, sec.MaskedSecretValue, unixSeconds(sec.CreatedAt), unixSeconds(sec.ExpiresAt),
		unixSeconds(sec.LastUsedAt))
	if err != nil {
		return r.s.writeErr(err, "create secret of service account "+sec.ClientID)
	}
	r.touch(flexd.CredentialParent(sec.ClientID))
	wholeSecondsUTC(&sec.CreatedAt, &sec.ExpiresAt, &sec.LastUsedAt)
	sec.Secret = ""
	return nil
}

// GetServiceAccount reads one account with its grants and secrets, in one
// snapshot.
func (s *Store) GetServiceAccount(ctx context.Context, clientID string) (*flexd.ServiceAccount, error) {
	var a *flexd.ServiceAccount
	err := s.readTx(ctx, func(r runner) error {
		var err error
		a, err = getOne(ctx, r, "service account "+clientID,
			"SELECT "+serviceAccountColumns+" FROM service_accounts a WHERE a.client_id = ?", []any{clientID},
			scanServiceAccount)
		if err != nil {
			return err
		}
		accounts := []flexd.ServiceAccount{*a}
		if err := s.fillServiceAccounts(ctx, r, accounts); err != nil {
			return err
		}
		*a = accounts[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// fillServiceAccounts reads the assignments and secrets of accounts.
func (s *Store) fillServiceAccounts(ctx context.Context, r runner, accounts []flexd.ServiceAccount) error {
	ids := make([]string, len(accounts))
	for i := range accounts {
		ids[i] = accounts[i].ClientID
	}
	projects, err := serviceAccountProjects.load(ctx, r, ids)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(ids) // a []string always marshals
	secrets, err := queryAll(ctx, r, "SELECT "+secretColumns+" FROM service_account_secrets WHERE "+
		s.dialect.InJSON("client_id")+" ORDER BY client_id, id", []any{string(b)}, scanSecret)
	if err != nil {
		return fmt.Errorf("read service account secrets: %w", err)
	}
	bySubject := map[string][]flexd.ServiceAccountSecret{}
	for _, sec := range secrets {
		bySubject[sec.ClientID] = append(bySubject[sec.ClientID], sec)
	}
	for i := range accounts {
		accounts[i].Projects = projects[accounts[i].ClientID]
		accounts[i].Secrets = bySubject[accounts[i].ClientID]
	}
	return nil
}

// ListServiceAccounts lists accounts in client id order, with their grants
// and secrets.
func (s *Store) ListServiceAccounts(ctx context.Context, f flexd.ServiceAccountFilter, p flexd.Page) ([]flexd.ServiceAccount, int, error) {
	q := listQuery{
		what:    "list service accounts",
		columns: serviceAccountColumns,
		from:    "service_accounts a",
		where:   where{dialect: s.dialect},
		orderBy: "a.client_id",
	}
	q.where.eqIfSet("a.org_id", f.OrgID)
	serviceAccountProjects.assignedTo(&q.where, "a.client_id", f.GroupID)
	accounts, total, err := listPage(ctx, s, q, p, scanServiceAccount)
	if err != nil {
		return nil, 0, err
	}
	if err := s.fillServiceAccounts(ctx, s.run(), accounts); err != nil {
		return nil, 0, err
	}
	return accounts, total, nil
}

// UpdateServiceAccount writes the fields c sets, and only those, in one
// statement.
func (s *Store) UpdateServiceAccount(ctx context.Context, clientID string, c flexd.ServiceAccountChange) error {
	var u update
	if c.Name != nil {
		u.set("name", *c.Name)
	}
	if c.Description != nil {
		u.set("description", *c.Description)
	}
	if c.OrgRoles != nil {
		u.set("org_roles", rolesValue(*c.OrgRoles))
	}
	return u.apply(ctx, s, "update service account "+clientID, "service_accounts", "client_id", clientID)
}

// SetServiceAccountProjectRoles replaces the account's roles in one project.
func (s *Store) SetServiceAccountProjectRoles(ctx context.Context, clientID, groupID string, roles []flexd.Role) error {
	return serviceAccountProjects.set(ctx, s, clientID, groupID, roles)
}

// UpdateServiceAccountProjectRoles replaces the roles of an account
// assigned to the project; ErrNotFound when it is not.
func (s *Store) UpdateServiceAccountProjectRoles(ctx context.Context, clientID, groupID string, roles []flexd.Role) error {
	return serviceAccountProjects.update(ctx, s, clientID, groupID, roles)
}

// ListServiceAccountProjects lists the projects the account is assigned to.
func (s *Store) ListServiceAccountProjects(ctx context.Context, clientID string, p flexd.Page) ([]string, int, error) {
	return serviceAccountProjects.projects(ctx, s, clientID, p)
}

// DeleteServiceAccount deletes the account (its assignments and secrets go
// with it) and revokes its tokens in the same transaction, so that no
// token outlives the account for an instant, even across a crash.
func (s *Store) DeleteServiceAccount(ctx context.Context, clientID string) error {
	return s.inTx(ctx, func(r runner) error {
		if err := s.writeOne(ctx, r, "delete service account "+clientID,
			"DELETE FROM service_accounts WHERE client_id = ?", clientID); err != nil {
			return err
		}
		r.touch(flexd.CredentialParent(clientID))
		return revokeTokens(ctx, r, "subject", clientID)
	})
}

// CreateServiceAccountSecret adds a secret to an account holding fewer than
// max. The account row is locked first, so two concurrent creates cannot
// both pass the count.
func (s *Store) CreateServiceAccountSecret(ctx context.Context, sec *flexd.ServiceAccountSecret, max int) error {
	return s.inTx(ctx, func(r runner) error {
		if err := serviceAccountProjects.lock(ctx, r, sec.ClientID); err != nil {
			return err
		}
		var n int
		if err := r.queryRow(ctx, "SELECT COUNT(*) FROM service_account_secrets WHERE client_id = ?",
			sec.ClientID).Scan(&n); err != nil {
			return fmt.Errorf("count secrets of service account %s: %w", sec.ClientID, err)
		}
		if n >= max {
			return fmt.Errorf("service account %s has %d secrets: %w", sec.ClientID, n, flexd.ErrConflict)
		}
		return insertSecret(ctx, r, sec)
	})
}

// DeleteServiceAccountSecret deletes one secret and revokes the tokens
// issued against it, in one transaction.
func (s *Store) DeleteServiceAccountSecret(ctx context.Context, clientID, id string) error {
	return s.inTx(ctx, func(r runner) error {
		if err := s.writeOne(ctx, r, fmt.Sprintf("delete secret %s of service account %s", id, clientID),
			"DELETE FROM service_account_secrets WHERE id = ? AND client_id = ?", id, clientID); err != nil {
			return err
		}
		r.touch(flexd.CredentialParent(clientID))
		return revokeTokens(ctx, r, "secret_id", id)
	})
}

// ReplaceServiceAccountSecrets swaps every secret of the account for sec,
// revoking the tokens of the old ones.
func (s *Store) ReplaceServiceAccountSecrets(ctx context.Context, sec *flexd.ServiceAccountSecret) error {
	return s.inTx(ctx, func(r runner) error {
		if err := serviceAccountProjects.lock(ctx, r, sec.ClientID); err != nil {
			return err
		}
		r.touch(flexd.CredentialParent(sec.ClientID))
		if _, err := r.exec(ctx, "UPDATE access_tokens SET revoked = ? WHERE secret_id IN"+
			" (SELECT id FROM service_account_secrets WHERE client_id = ?)", true, sec.ClientID); err != nil {
			return fmt.Errorf("revoke tokens of service account %s: %w", sec.ClientID, err)
		}
		if _, err := r.exec(ctx, "DELETE FROM service_account_secrets WHERE client_id = ?", sec.ClientID); err != nil {
			return fmt.Errorf("delete secrets of service account %s: %w", sec.ClientID, err)
		}
		return insertSecret(ctx, r, sec)
	})
}

// TouchServiceAccountSecret records the secret's last use. The account it
// belongs to, whose cached value shows the use, comes back from the row.
func (s *Store) TouchServiceAccountSecret(ctx context.Context, id string, at time.Time) error {
	r := s.run()
	clientID, err := s.writeOneIn(ctx, r, "touch secret "+id, "client_id",
		"UPDATE service_account_secrets SET last_used_at = ? WHERE id = ?", unixSeconds(at), id)
	if err != nil {
		return err
	}
	r.touch(flexd.CredentialParent(clientID))
	return nil
}

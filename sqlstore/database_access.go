package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

const databaseUserColumns = "group_id, database_name, username, description, roles, scopes, labels, delete_after," +
	" scram_sha1_salt, scram_sha1_iters, scram_sha1_stored, scram_sha1_server," +
	" scram_sha256_salt, scram_sha256_iters, scram_sha256_stored, scram_sha256_server, created"

func scanDatabaseUser(r rowScanner, u *flexd.DatabaseUser) error {
	return r.Scan(&u.GroupID, &u.DatabaseName, &u.Username, &u.Description,
		jsonColumn[[]flexd.DatabaseUserRole]{&u.Roles}, jsonColumn[[]flexd.UserScope]{&u.Scopes},
		tagsColumn{&u.Labels}, unixTime{&u.DeleteAfterDate},
		bytesColumn{&u.SCRAM.SHA1.Salt}, &u.SCRAM.SHA1.Iterations,
		bytesColumn{&u.SCRAM.SHA1.StoredKey}, bytesColumn{&u.SCRAM.SHA1.ServerKey},
		bytesColumn{&u.SCRAM.SHA256.Salt}, &u.SCRAM.SHA256.Iterations,
		bytesColumn{&u.SCRAM.SHA256.StoredKey}, bytesColumn{&u.SCRAM.SHA256.ServerKey},
		unixTime{&u.Created})
}

// databaseUserValues are u's columns after the key, in databaseUserColumns'
// order.
func databaseUserValues(u *flexd.DatabaseUser) []any {
	return []any{u.Description, jsonValue[[]flexd.DatabaseUserRole]{u.Roles}, jsonValue[[]flexd.UserScope]{u.Scopes},
		tagsValue(u.Labels), unixSeconds(u.DeleteAfterDate),
		bytesValue(u.SCRAM.SHA1.Salt), u.SCRAM.SHA1.Iterations,
		bytesValue(u.SCRAM.SHA1.StoredKey), bytesValue(u.SCRAM.SHA1.ServerKey),
		bytesValue(u.SCRAM.SHA256.Salt), u.SCRAM.SHA256.Iterations,
		bytesValue(u.SCRAM.SHA256.StoredKey), bytesValue(u.SCRAM.SHA256.ServerKey)}
}

// normalDatabaseUser is u as it reads back.
func normalDatabaseUser(u *flexd.DatabaseUser) {
	wholeSecondsUTC(&u.Created, &u.DeleteAfterDate)
	u.Labels = normalTags(u.Labels)
	if len(u.Roles) == 0 {
		u.Roles = nil
	}
	if len(u.Scopes) == 0 {
		u.Scopes = nil
	}
}

// CreateDatabaseUser stores u; ErrConflict when the name is taken.
func (s *Store) CreateDatabaseUser(ctx context.Context, u *flexd.DatabaseUser) error {
	args := append([]any{u.GroupID, u.DatabaseName, u.Username}, databaseUserValues(u)...)
	args = append(args, unixSeconds(u.Created))
	_, err := s.run().exec(ctx, "INSERT INTO database_users ("+databaseUserColumns+")"+
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args...)
	if err != nil {
		return s.writeErr(err, "create database user "+u.Username)
	}
	normalDatabaseUser(u)
	return nil
}

// GetDatabaseUser reads one user, expired or not.
func (s *Store) GetDatabaseUser(ctx context.Context, groupID, databaseName, username string) (*flexd.DatabaseUser, error) {
	return getOne(ctx, s.run(), "database user "+databaseName+"."+username+" of project "+groupID,
		"SELECT "+databaseUserColumns+" FROM database_users WHERE group_id = ? AND database_name = ? AND username = ?",
		[]any{groupID, databaseName, username}, scanDatabaseUser)
}

// ListDatabaseUsers lists the users not expired at asOf, in creation order.
func (s *Store) ListDatabaseUsers(ctx context.Context, groupID string, asOf time.Time, p flexd.Page) ([]flexd.DatabaseUser, int, error) {
	q := listQuery{
		what:    "list database users",
		columns: databaseUserColumns,
		from:    "database_users",
		where:   where{dialect: s.dialect},
		orderBy: "created, database_name, username",
	}
	q.where.eq("group_id", groupID)
	notExpired(&q.where, asOf)
	return listPage(ctx, s, q, p, scanDatabaseUser)
}

// notExpired keeps the rows without delete_after or with one after asOf.
func notExpired(w *where, asOf time.Time) {
	w.conds = append(w.conds, "(delete_after = 0 OR delete_after > ?)")
	w.args = append(w.args, unixSeconds(asOf))
}

// UpdateDatabaseUser writes everything but the key and the creation time.
func (s *Store) UpdateDatabaseUser(ctx context.Context, u *flexd.DatabaseUser) error {
	args := append(databaseUserValues(u), u.GroupID, u.DatabaseName, u.Username)
	err := s.writeOne(ctx, s.run(), "update database user "+u.Username,
		"UPDATE database_users SET description = ?, roles = ?, scopes = ?, labels = ?, delete_after = ?,"+
			" scram_sha1_salt = ?, scram_sha1_iters = ?, scram_sha1_stored = ?, scram_sha1_server = ?,"+
			" scram_sha256_salt = ?, scram_sha256_iters = ?, scram_sha256_stored = ?, scram_sha256_server = ?"+
			" WHERE group_id = ? AND database_name = ? AND username = ?", args...)
	if err != nil {
		return err
	}
	normalDatabaseUser(u)
	return nil
}

// DeleteDatabaseUser removes one user.
func (s *Store) DeleteDatabaseUser(ctx context.Context, groupID, databaseName, username string) error {
	return s.writeOne(ctx, s.run(), "delete database user "+username,
		"DELETE FROM database_users WHERE group_id = ? AND database_name = ? AND username = ?",
		groupID, databaseName, username)
}

// DeleteExpiredDatabaseUsers removes the project's users expired at now.
func (s *Store) DeleteExpiredDatabaseUsers(ctx context.Context, groupID string, now time.Time) error {
	_, err := s.run().exec(ctx, "DELETE FROM database_users WHERE group_id = ? AND delete_after <> 0 AND delete_after <= ?",
		groupID, unixSeconds(now))
	if err != nil {
		return fmt.Errorf("delete expired database users of project %s: %w", groupID, err)
	}
	return nil
}

const accessListColumns = "group_id, cidr_block, ip_address, comment, delete_after, created"

func scanAccessListEntry(r rowScanner, e *flexd.AccessListEntry) error {
	return r.Scan(&e.GroupID, &e.CIDRBlock, &e.IPAddress, &e.Comment, unixTime{&e.DeleteAfterDate}, unixTime{&e.Created})
}

// PutAccessListEntries adds or replaces the entries in one transaction. A
// replaced entry keeps its creation time, and so its place in the list;
// new ones follow in the order given.
func (s *Store) PutAccessListEntries(ctx context.Context, groupID string, entries []flexd.AccessListEntry) error {
	if err := s.inTx(ctx, func(r runner) error { return s.putAccessListEntries(ctx, r, groupID, entries) }); err != nil {
		return err
	}
	settleAccessListEntries(groupID, entries)
	return nil
}

// putAccessListEntries writes entries in r's transaction.
func (s *Store) putAccessListEntries(ctx context.Context, r runner, groupID string, entries []flexd.AccessListEntry) error {
	for i := range entries {
		e := &entries[i]
		_, err := r.exec(ctx, "INSERT INTO access_list_entries ("+accessListColumns+", position) VALUES (?, ?, ?, ?, ?, ?, ?)"+
			" ON CONFLICT (group_id, cidr_block) DO UPDATE SET ip_address = excluded.ip_address,"+
			" comment = excluded.comment, delete_after = excluded.delete_after",
			groupID, e.CIDRBlock, e.IPAddress, e.Comment, unixSeconds(e.DeleteAfterDate), unixSeconds(e.Created), i)
		if err != nil {
			return s.writeErr(err, "put access list entry "+e.CIDRBlock)
		}
	}
	return nil
}

// settleAccessListEntries makes written entries read as the store reads
// them back.
func settleAccessListEntries(groupID string, entries []flexd.AccessListEntry) {
	for i := range entries {
		entries[i].GroupID = groupID
		wholeSecondsUTC(&entries[i].Created, &entries[i].DeleteAfterDate)
	}
}

// GetAccessListEntry reads one entry by its canonical block, expired or not.
func (s *Store) GetAccessListEntry(ctx context.Context, groupID, cidrBlock string) (*flexd.AccessListEntry, error) {
	return getOne(ctx, s.run(), "access list entry "+cidrBlock+" of project "+groupID,
		"SELECT "+accessListColumns+" FROM access_list_entries WHERE group_id = ? AND cidr_block = ?",
		[]any{groupID, cidrBlock}, scanAccessListEntry)
}

// ListAccessListEntries lists the entries not expired at asOf, in creation
// order.
func (s *Store) ListAccessListEntries(ctx context.Context, groupID string, asOf time.Time, p flexd.Page) ([]flexd.AccessListEntry, int, error) {
	q := listQuery{
		what:    "list access list entries",
		columns: accessListColumns,
		from:    "access_list_entries",
		where:   where{dialect: s.dialect},
		orderBy: "created, position, cidr_block",
	}
	q.where.eq("group_id", groupID)
	notExpired(&q.where, asOf)
	return listPage(ctx, s, q, p, scanAccessListEntry)
}

// DeleteAccessListEntry removes one entry.
func (s *Store) DeleteAccessListEntry(ctx context.Context, groupID, cidrBlock string) error {
	return s.writeOne(ctx, s.run(), "delete access list entry "+cidrBlock,
		"DELETE FROM access_list_entries WHERE group_id = ? AND cidr_block = ?", groupID, cidrBlock)
}

// DeleteExpiredAccessListEntries removes the project's entries expired at
// now.
func (s *Store) DeleteExpiredAccessListEntries(ctx context.Context, groupID string, now time.Time) error {
	_, err := s.run().exec(ctx, "DELETE FROM access_list_entries WHERE group_id = ? AND delete_after <> 0 AND delete_after <= ?",
		groupID, unixSeconds(now))
	if err != nil {
		return fmt.Errorf("delete expired access list entries of project %s: %w", groupID, err)
	}
	return nil
}

// jsonValue and jsonColumn store a value as JSON text; an empty slice reads
// back as nil.
type jsonValue[T any] struct{ v T }

func (j jsonValue[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return "[]", nil
	}
	return string(b), nil
}

type jsonColumn[T any] struct{ v *T }

func (j jsonColumn[T]) Scan(src any) error {
	var s sql.NullString
	if err := s.Scan(src); err != nil {
		return err
	}
	var zero T
	*j.v = zero
	if !s.Valid || s.String == "" || s.String == "[]" {
		return nil
	}
	return json.Unmarshal([]byte(s.String), j.v)
}

// bytesValue and bytesColumn store binary values as standard base64 text,
// the same on every dialect.
func bytesValue(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

type bytesColumn struct{ b *[]byte }

func (c bytesColumn) Scan(src any) error {
	var s sql.NullString
	if err := s.Scan(src); err != nil {
		return err
	}
	*c.b = nil
	if !s.Valid || s.String == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(s.String)
	if err != nil {
		return fmt.Errorf("decode binary column: %w", err)
	}
	*c.b = b
	return nil
}

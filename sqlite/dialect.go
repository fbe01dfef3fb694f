package sqlite

import (
	"errors"

	"github.com/flexd/flexd/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is SQLite's sqlstore.Dialect.
var Dialect sqlstore.Dialect = dialect{}

type dialect struct{}

func (dialect) Name() string { return "sqlite" }

// Rebind keeps q: SQLite takes ? placeholders.
func (dialect) Rebind(q string) string { return q }

// ForUpdate and HoldRow are empty: SQLite has no row locks and needs none,
// since its write transactions begin IMMEDIATE and so exclude each other
// entirely.
func (dialect) ForUpdate() string { return "" }
func (dialect) HoldRow() string   { return "" }

func (dialect) InJSON(col string) string { return col + " IN (SELECT value FROM json_each(?))" }

// Classify reads SQLite's extended result codes, which modernc.org/sqlite
// reports.
func (dialect) Classify(err error) sqlstore.Violation {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.NoViolation
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.UniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ForeignKeyViolation
	}
	return sqlstore.NoViolation
}

// Retryable is SQLITE_BUSY, in any of its extended codes.
func (dialect) Retryable(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// MigrationLock is empty: the migration transaction's IMMEDIATE begin takes
// the write lock.
func (dialect) MigrationLock() string { return "" }

// Scrub overwrites deleted content (secure_delete) and then truncates the
// WAL, so old values cannot be read back from free pages or the log.
func (dialect) Scrub() *sqlstore.Scrub {
	return &sqlstore.Scrub{
		On:    "PRAGMA secure_delete = ON",
		Off:   "PRAGMA secure_delete = OFF",
		Flush: "PRAGMA wal_checkpoint(TRUNCATE)",
	}
}

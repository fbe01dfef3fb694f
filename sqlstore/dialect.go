package sqlstore

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL database a Store talks to. The queries are written
// once, in the SQL both databases share; Dialect covers the few places where
// they part: placeholders, row locks, list parameters, error codes and the
// migration lock.
type Dialect int

// The dialects flexd runs on.
const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// rebind rewrites the ? placeholders of q as $1, $2, … for PostgreSQL. The
// queries hold no ? inside string literals or operators, so a plain scan is
// enough.
func (d Dialect) rebind(q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// forUpdate is appended to a SELECT that must lock its row until the
// transaction ends. SQLite has no row locks and needs none: its write
// transactions begin IMMEDIATE and so exclude each other entirely.
func (d Dialect) forUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// holdRow is appended to a SELECT of a cluster that a unit of work holds
// (flexd.Tx): on PostgreSQL FOR NO KEY UPDATE, which excludes the other
// units of work that hold the row but not the foreign key checks of rows
// that reference it (a restore job's update checks its source cluster
// with a KEY SHARE lock): FOR UPDATE made those wait on the hold, and a
// unit of work holding the target while updating a job from the source
// deadlocked with one holding the source while it waited for the target.
// SQLite needs none, as for forUpdate.
func (d Dialect) holdRow() string {
	if d == Postgres {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// inJSON is the condition "col is one of the strings in the JSON array bound
// to ?". Binding one JSON text instead of a variable IN (?, ?, …) list keeps
// every query's text fixed, so the rebind cache stays small and plans stay
// reusable.
func (d Dialect) inJSON(col string) string {
	if d == Postgres {
		return col + " IN (SELECT jsonb_array_elements_text(?::jsonb))"
	}
	return col + " IN (SELECT value FROM json_each(?))"
}

// violation is the kind of constraint a failed write broke.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// violation classifies a driver error. The codes are the drivers' own:
// SQLite's extended result codes (modernc.org/sqlite reports them) and
// PostgreSQL's SQLSTATE class 23.
func (d Dialect) violation(err error) violation {
	switch d {
	case SQLite:
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return noViolation
		}
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation
		}
	case Postgres:
		var e *pgconn.PgError
		if !errors.As(err, &e) {
			return noViolation
		}
		switch e.Code {
		case "23505": // unique_violation
			return uniqueViolation
		case "23503": // foreign_key_violation
			return foreignKeyViolation
		}
	}
	return noViolation
}

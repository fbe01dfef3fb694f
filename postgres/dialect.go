package postgres

import (
	"errors"
	"strconv"
	"strings"

	"github.com/flexd/flexd/sqlstore"
	"github.com/jackc/pgx/v5/pgconn"
)

// Dialect is PostgreSQL's sqlstore.Dialect.
var Dialect sqlstore.Dialect = dialect{}

type dialect struct{}

func (dialect) Name() string { return "postgres" }

// Rebind rewrites the ? placeholders of q as $1, $2, …. The queries hold
// no ? inside string literals or operators, so a plain scan is enough.
func (dialect) Rebind(q string) string {
	if !strings.Contains(q, "?") {
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

func (dialect) ForUpdate() string { return " FOR UPDATE" }

// HoldRow is FOR NO KEY UPDATE: it excludes the other units of work that
// hold the row but not the foreign key checks of rows that reference it (a
// restore job's update checks its source cluster with a KEY SHARE lock).
// FOR UPDATE made those wait on the hold, and a unit of work holding the
// target while updating a job from the source deadlocked with one holding
// the source while it waited for the target.
func (dialect) HoldRow() string { return " FOR NO KEY UPDATE" }

func (dialect) InJSON(col string) string {
	return col + " IN (SELECT jsonb_array_elements_text(?::jsonb))"
}

// Classify reads PostgreSQL's SQLSTATE class 23.
func (dialect) Classify(err error) sqlstore.Violation {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return sqlstore.NoViolation
	}
	switch e.Code {
	case "23505": // unique_violation
		return sqlstore.UniqueViolation
	case "23503": // foreign_key_violation
		return sqlstore.ForeignKeyViolation
	}
	return sqlstore.NoViolation
}

// Retryable is a serialization failure or a detected deadlock.
func (dialect) Retryable(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01") // serialization_failure, deadlock_detected
}

// MigrationLock is a transaction-scoped advisory lock.
func (dialect) MigrationLock() string { return "SELECT pg_advisory_xact_lock(?)" }

// Scrub is nil: flexd leaves old row versions to VACUUM.
func (dialect) Scrub() *sqlstore.Scrub { return nil }

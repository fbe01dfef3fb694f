package sqlstore

// Dialect is what a Store needs to know of the SQL database it talks to.
// The queries are written once, in the SQL both databases share, with ?
// placeholders; a Dialect covers the few places where the databases part:
// placeholders, row locks, list parameters, error codes, the migration lock
// and scrubbing deleted values. Each backend package (sqlite, postgres)
// implements it and hands it to New; sqlstore knows no driver.
type Dialect interface {
	// Name names the database, in messages and as the directory of its
	// own migrations (migrations/<Name>/).
	Name() string
	// Rebind rewrites the ? placeholders of q into the database's own.
	// The queries hold no ? inside string literals or operators.
	Rebind(q string) string
	// ForUpdate is appended to a SELECT that must lock its row until the
	// transaction ends.
	ForUpdate() string
	// HoldRow is appended to a SELECT of a cluster that a unit of work
	// holds (flexd.Tx): it excludes the other units of work that hold the
	// row, but not the foreign key checks of rows that reference it.
	HoldRow() string
	// InJSON is the condition "col is one of the strings in the JSON array
	// bound to ?". Binding one JSON text instead of a variable IN (?, ?, …)
	// list keeps every query's text fixed, so the rebind cache stays small
	// and plans stay reusable.
	InJSON(col string) string
	// Classify says which constraint, if any, a failed write broke.
	Classify(err error) Violation
	// Retryable says whether a unit of work failed because it lost a
	// race with another (a deadlock, a serialization failure, a busy
	// database), so that running it again from the start may succeed.
	Retryable(err error) bool
	// MigrationLock is the statement the migration transaction runs
	// first, with one ? for flexd's lock key (migrationLockKey), so that
	// processes migrating at once take turns; "" when beginning the
	// transaction is enough.
	MigrationLock() string
	// Scrub says how to clear overwritten secrets from the database's
	// files (SealSecrets); nil when there is nothing to do.
	Scrub() *Scrub
}

// Scrub is how a database clears overwritten values from its files: On and
// Off are run on the connection around the transaction that overwrites
// them, Flush after it committed.
type Scrub struct {
	On, Off, Flush string
}

// Violation is the kind of constraint a failed write broke.
type Violation int

// The constraints a Dialect tells apart.
const (
	NoViolation Violation = iota
	UniqueViolation
	ForeignKeyViolation
)

package sqlstore

import (
	"strings"
	"testing"

	_ "modernc.org/sqlite" // registers the "sqlite" driver the package's tests open
)

// testDialect is the dialect this package's own tests run on: SQLite's
// SQL, under any name. They cannot use sqlite.Dialect, the one flexd runs
// (package sqlite imports sqlstore); its tests cover that one.
type testDialect struct{ name string }

var testSQLite = testDialect{"sqlite"}

func (d testDialect) Name() string           { return d.name }
func (testDialect) Rebind(q string) string   { return q }
func (testDialect) ForUpdate() string        { return "" }
func (testDialect) HoldRow() string          { return "" }
func (testDialect) InJSON(col string) string { return col + " IN (SELECT value FROM json_each(?))" }
func (testDialect) Classify(error) Violation { return NoViolation }
func (testDialect) Retryable(error) bool     { return false }
func (testDialect) MigrationLock() string    { return "" }
func (testDialect) Scrub() *Scrub            { return nil }

// dollars rewrites every ? as $, to see that a Store rebinds through its
// dialect, once per query.
type dollars struct {
	testDialect
	calls *int
}

func (d dollars) Rebind(q string) string {
	*d.calls++
	return strings.ReplaceAll(q, "?", "$")
}

func TestRebindCached(t *testing.T) {
	var calls int
	s := New(nil, dollars{testSQLite, &calls})
	calls = 0 // New may ask whether the dialect rebinds at all
	q := "SELECT a FROM t WHERE b = ? LIMIT ?"
	if a, b := s.sqlText(q), s.sqlText(q); a != "SELECT a FROM t WHERE b = $ LIMIT $" || b != a || calls != 1 {
		t.Errorf("cached rebind: %s, %s after %d rebinds", a, b, calls)
	}
	if q := "SELECT 1"; New(nil, testSQLite).sqlText(q) != q {
		t.Error("a dialect that keeps ? changed a query")
	}
}

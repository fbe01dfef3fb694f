package flexd_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayering keeps the import rules of docs/ARCHITECTURE.md true: the
// domain and the business rules know neither HTTP nor SQL, so they can be
// read, tested and reused without either.
func TestLayering(t *testing.T) {
	const (
		riverSQLite = "github.com/riverqueue/river/riverdriver/riversqlite"
		riverPgx    = "github.com/riverqueue/river/riverdriver/riverpgxv5"
	)
	forbidden := map[string][]string{
		".":            {"net/http", "database/sql"},
		"./service":    {"net/http", "database/sql", "github.com/flexd/flexd/auth", "github.com/flexd/flexd/atlasapi", "github.com/flexd/flexd/sqlstore"},
		"./credential": {"net/http", "database/sql"},
		"./auth":       {"database/sql", "github.com/flexd/flexd/sqlstore", "github.com/flexd/flexd/service"},
		"./storetest":  {"net/http"},
		// Seeding works through the store and two small interfaces, so an
		// in-process server can apply the same files.
		"./seed": {"net/http", "database/sql", "github.com/flexd/flexd/service", "github.com/flexd/flexd/jobs", "github.com/flexd/flexd/sqlstore"},
		// The backends bring their drivers (sqlite.Dialect, postgres.QueueDriver…);
		// only internal/server chooses one.
		"./sqlstore": {"modernc.org/sqlite", "github.com/jackc/pgx/v5/pgconn", "github.com/flexd/flexd/sqlite", "github.com/flexd/flexd/postgres"},
		// The command table is shared by the wire front and authorization,
		// so it depends on neither; dbauth knows nothing of the wire
		// protocol.
		"./mongocmd": {"github.com/flexd/flexd", "github.com/flexd/flexd/mongowire", "github.com/flexd/flexd/dbauth", "github.com/flexd/flexd/ferret"},
		"./dbauth":   {"net/http", "github.com/flexd/flexd/mongowire", "github.com/flexd/flexd/ferret", "github.com/flexd/flexd/dataplane"},
		// The drill is a client: it reaches flexd (or Atlas) only through
		// the public API and a cluster's endpoint.
		"./drill": {"database/sql", "github.com/flexd/flexd/service", "github.com/flexd/flexd/sqlstore", "github.com/flexd/flexd/atlasapi",
			"github.com/flexd/flexd/dataplane", "github.com/flexd/flexd/ferret", "github.com/flexd/flexd/mongowire", "github.com/flexd/flexd/jobs"},
		"./jobs": {"modernc.org/sqlite", "github.com/jackc/pgx/v5/pgxpool", riverSQLite, riverPgx, "github.com/flexd/flexd/sqlite", "github.com/flexd/flexd/postgres"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, b := range bad {
			if slices.Contains(deps, b) {
				t.Errorf("%s depends on %s", pkg, b)
			}
		}
	}
}

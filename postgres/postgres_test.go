package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/postgres"
	"github.com/flexd/flexd/sqlstore"
	"github.com/flexd/flexd/storetest"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// server is the PostgreSQL the tests create their databases on, connected
// once per test binary.
var server struct {
	once  sync.Once
	url   string
	admin *sql.DB
	err   error
}

// newDatabase creates an empty database for t, dropped when t ends, and
// returns its DSN. It skips t when no server answers, unless
// FLEXD_REQUIRE_POSTGRES=1 (as in CI) makes that a failure.
func newDatabase(t *testing.T) string {
	t.Helper()
	server.once.Do(func() {
		server.url = os.Getenv("FLEXD_TEST_POSTGRES_URL")
		if server.url == "" {
			server.url = defaultURL
		}
		server.admin, server.err = sql.Open("pgx", server.url)
		if server.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			server.err = server.admin.PingContext(ctx)
		}
	})
	if server.err != nil {
		msg := "PostgreSQL not reachable at " + server.url + ": " + server.err.Error() + "; set FLEXD_TEST_POSTGRES_URL"
		if os.Getenv("FLEXD_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "flexd_test_" + hex.EncodeToString(b[:])
	if _, err := server.admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context is done by now; the store using the database was
		// closed by an earlier cleanup, FORCE ends anything left.
		if _, err := server.admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, server.url, name)
}

// withDatabase returns dsn (a URL or key=value string) naming database db.
func withDatabase(t *testing.T, dsn, db string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " dbname=" + db
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("FLEXD_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + db
	return u.String()
}

func open(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) flexd.Store {
		s := open(t, newDatabase(t))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestPersistence(t *testing.T) {
	dsn := newDatabase(t)
	storetest.RunPersistence(t, func(t *testing.T) flexd.Store { return open(t, dsn) })
}

// TestConcurrentOpen opens several stores on one new database at once: the
// advisory lock lets one migrate while the others wait.
func TestConcurrentOpen(t *testing.T) {
	dsn := newDatabase(t)
	storetest.RunConcurrentOpen(t, func(ctx context.Context) (flexd.Store, error) { return postgres.Open(ctx, dsn) })
}

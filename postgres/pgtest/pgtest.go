// Package pgtest gives a test a PostgreSQL database of its own: every package
// whose tests need PostgreSQL gets it, skips, or fails the same way.
//
// The server is FLEXD_TEST_POSTGRES_URL (default: 127.0.0.1:5432, user
// postgres, trust auth). Without a reachable server a test is skipped with
// the reason, unless FLEXD_REQUIRE_POSTGRES=1 (as in CI) makes that a failure.
package pgtest

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

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// DefaultURL is the server the tests use when FLEXD_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// server is connected once per test binary.
var server struct {
	once  sync.Once
	url   string
	admin *sql.DB
	err   error
}

// Database creates an empty database for t, dropped (WITH (FORCE)) when t
// ends, and returns its DSN.
func Database(t testing.TB) string {
	t.Helper()
	server.once.Do(func() {
		server.url = os.Getenv("FLEXD_TEST_POSTGRES_URL")
		if server.url == "" {
			server.url = DefaultURL
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
			t.Fatal(msg + " (FLEXD_REQUIRE_POSTGRES=1)")
		}
		t.Skip(msg)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "flexd_test_" + hex.EncodeToString(b[:])
	if _, err := server.admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// Whatever used the database was closed by an earlier cleanup;
		// FORCE ends anything left.
		if _, err := server.admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, server.url, name)
}

// withDatabase returns dsn (a URL or key=value string) naming database db.
func withDatabase(t testing.TB, dsn, db string) string {
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

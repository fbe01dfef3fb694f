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
	connect(t)
	return create(t, "")
}

// templates are the databases FromTemplate copies, built once per test
// binary and dropped by DropTemplates.
var templates struct {
	mu    sync.Mutex
	names map[string]string // key → database
	errs  map[string]error
}

// FromTemplate creates a database for t as a copy of the template key,
// which build (given its DSN) fills the first time: copying a migrated
// database is much faster than migrating a new one for every test. build
// must close every connection it opened. Call DropTemplates from TestMain.
func FromTemplate(t testing.TB, key string, build func(dsn string) error) string {
	t.Helper()
	connect(t)
	templates.mu.Lock()
	name, ok := templates.names[key]
	err := templates.errs[key]
	if !ok && err == nil {
		name = "flexd_tmpl_" + randomHex()
		if _, err = server.admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err == nil {
			if err = build(withDatabase(t, server.url, name)); err != nil {
				_, _ = server.admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
			}
		}
		if templates.names == nil {
			templates.names, templates.errs = map[string]string{}, map[string]error{}
		}
		if err != nil {
			templates.errs[key] = err
		} else {
			templates.names[key] = name
		}
	}
	templates.mu.Unlock()
	if err != nil {
		t.Fatalf("template database %s: %v", key, err)
	}
	return create(t, " TEMPLATE "+name)
}

// DropTemplates drops the template databases this test binary built.
func DropTemplates() {
	templates.mu.Lock()
	defer templates.mu.Unlock()
	for key, name := range templates.names {
		_, _ = server.admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		delete(templates.names, key)
	}
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// connect reaches the server once per test binary, or skips (or fails) t.
func connect(t testing.TB) {
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
}

// create creates a database for t with the options of CREATE DATABASE in
// opts, dropped when t ends, and returns its DSN.
func create(t testing.TB, opts string) string {
	t.Helper()
	name := "flexd_test_" + randomHex()
	// Copies of one template are made one at a time: PostgreSQL refuses to
	// copy a database that another copy is reading.
	if opts != "" {
		templates.mu.Lock()
		defer templates.mu.Unlock()
	}
	if _, err := server.admin.ExecContext(context.Background(), "CREATE DATABASE "+name+opts); err != nil {
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

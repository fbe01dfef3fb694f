package sqlstore

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flexd/flexd"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestPageBounds(t *testing.T) {
	for _, tc := range []struct {
		p             flexd.Page
		limit, offset int
	}{
		{flexd.Page{}, 100, 0},
		{flexd.Page{Num: 1, ItemsPerPage: 10}, 10, 0},
		{flexd.Page{Num: 3, ItemsPerPage: 10}, 10, 20},
		{flexd.Page{Num: -1, ItemsPerPage: 5}, 5, 0},
	} {
		if l, o := pageBounds(tc.p); l != tc.limit || o != tc.offset {
			t.Errorf("pageBounds(%+v) = %d, %d; want %d, %d", tc.p, l, o, tc.limit, tc.offset)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0002_jobs.sql":           {Data: []byte("shared 2")},
		"migrations/0001_core.sql":           {Data: []byte("shared 1")},
		"migrations/0010_later.sql":          {Data: []byte("shared 10")},
		"migrations/README.md":               {Data: []byte("ignored")},
		"migrations/postgres/0002_jobs.sql":  {Data: []byte("postgres 2")},
		"migrations/postgres/0003_extra.sql": {Data: []byte("postgres 3")},
	}
	got := func(d Dialect) string {
		ms, err := loadMigrations(fsys, d)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.sql)
		}
		return strings.Join(out, ", ")
	}
	// Version order is numeric; a dialect's own file replaces the shared one.
	if g := got(testSQLite); g != "shared 1, shared 2, shared 10" {
		t.Errorf("sqlite: %s", g)
	}
	if g := got(testDialect{"postgres"}); g != "shared 1, postgres 2, postgres 3, shared 10" {
		t.Errorf("postgres: %s", g)
	}

	for name, bad := range map[string]fstest.MapFS{
		"duplicate version": {"migrations/0001_a.sql": {}, "migrations/1_b.sql": {}},
		"no version":        {"migrations/core.sql": {}},
		"version zero":      {"migrations/0000_core.sql": {}},
	} {
		if _, err := loadMigrations(bad, testSQLite); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestEmbeddedMigrations checks the shipped files load for both dialects.
func TestEmbeddedMigrations(t *testing.T) {
	for _, d := range []Dialect{testSQLite, testDialect{"postgres"}} {
		ms, err := loadMigrations(migrationFiles, d)
		if err != nil || len(ms) == 0 || ms[0].version != 1 {
			t.Errorf("%s: %d migrations, %v", d.Name(), len(ms), err)
		}
	}
}

// TestMigrate checks that migrating again is a no-op that records each
// migration once, and that a database migrated by a newer flexd is refused.
func TestMigrate(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := New(db, testSQLite)
	for range 3 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ms, _ := loadMigrations(migrationFiles, testSQLite)
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
	}
	if _, err := db.Exec("INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err == nil || !strings.Contains(err.Error(), "newer flexd") {
		t.Fatalf("migrate a newer schema: %v", err)
	}
}

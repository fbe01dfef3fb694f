package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/postgres"
	"github.com/flexd/flexd/postgres/pgtest"
	"github.com/flexd/flexd/sqlstore"
	"github.com/flexd/flexd/storetest"
)

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
		s := open(t, pgtest.Database(t))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestPersistence(t *testing.T) {
	dsn := pgtest.Database(t)
	storetest.RunPersistence(t, func(t *testing.T) flexd.Store { return open(t, dsn) })
}

// TestConcurrentOpen opens several stores on one new database at once: the
// advisory lock lets one migrate while the others wait.
func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.Database(t)
	storetest.RunConcurrentOpen(t, func(ctx context.Context) (flexd.Store, error) { return postgres.Open(ctx, dsn) })
}

// TestReadyReflectsFailingWrites: a store on a database that refuses
// writes (here default_transaction_read_only, as a replica in recovery or
// a full disk would) is not ready, though it answers reads.
func TestReadyReflectsFailingWrites(t *testing.T) {
	dsn := pgtest.Database(t)
	s := open(t, dsn)
	defer s.Close()
	if err := s.Ready(t.Context()); err != nil {
		t.Fatalf("a writable store is not ready: %v", err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := sql.Open("pgx", dsn+sep+"options=-c%20default_transaction_read_only%3Don")
	if err != nil {
		t.Fatal(err)
	}
	ro := sqlstore.New(db, sqlstore.Postgres)
	defer ro.Close()
	if err := ro.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := ro.Ready(t.Context()); err == nil {
		t.Fatal("a store whose writes fail is ready")
	}
}

package postgres_test

import (
	"context"
	"os"
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

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// migrated is a new database with flexd's schema, copied from a template
// migrated once.
func migrated(t *testing.T) string {
	return pgtest.FromTemplate(t, "flexd", func(dsn string) error {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			return err
		}
		return s.Close()
	})
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) flexd.Store {
		s := open(t, migrated(t))
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

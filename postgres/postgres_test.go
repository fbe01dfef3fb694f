package postgres_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/postgres"
	"github.com/flexd/flexd/postgres/pgtest"
	"github.com/flexd/flexd/seal"
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
	ro := sqlstore.New(db, postgres.Dialect)
	defer ro.Close()
	if err := ro.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := ro.Ready(t.Context()); err == nil {
		t.Fatal("a store whose writes fail is ready")
	}
}

// TestSealSecretsOnce: as on SQLite, what an earlier flexd stored in clear
// on the shared database is sealed by the first replica to start with the
// key, and found sealed by the next.
func TestSealSecretsOnce(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.Database(t)
	s := open(t, dsn)
	defer s.Close()
	o := flexd.Organization{ID: flexd.NewID(time.Now()), Name: "o"}
	if err := s.CreateOrganization(ctx, &o); err != nil {
		t.Fatal(err)
	}
	k := flexd.APIKey{ID: flexd.NewID(time.Now()), OrgID: o.ID, PublicKey: "abcdefgh", Desc: "d", HA1MD5: "m", HA1SHA256: "s", Created: time.Now()}
	if err := s.CreateAPIKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	key := seal.NewKey()
	for i, want := range []int{1, 0} {
		replica := open(t, dsn)
		b, _ := seal.New(key)
		replica.SealWith(b)
		if n, err := replica.SealSecrets(ctx); err != nil || n != want {
			t.Fatalf("replica %d: sealed %d (%v), want %d", i+1, n, err, want)
		}
		got, err := replica.GetAPIKey(ctx, k.ID)
		if err != nil || got.HA1MD5 != "m" || got.HA1SHA256 != "s" {
			t.Fatalf("replica %d reads %+v %v", i+1, got, err)
		}
		_ = replica.Close()
	}
	var stored string
	if err := s.DB().QueryRowContext(ctx, "SELECT ha1_md5 FROM api_keys WHERE id = $1", k.ID).Scan(&stored); err != nil || !seal.IsSealed(stored) {
		t.Errorf("stored HA1 %q (%v), want it sealed", stored, err)
	}
}

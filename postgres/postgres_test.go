package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
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

// TestInTxRetriesADeadlock: two units of work hold two clusters in
// opposite orders, so PostgreSQL aborts one with deadlock_detected
// (40P01). The dialect's Retryable must see that through the store's
// error wrapping, and InTx run the loser again: both commit, and neither
// reaches its caller as an error (an engine step or request failed under
// concurrency).
func TestInTxRetriesADeadlock(t *testing.T) {
	ctx := t.Context()
	s := open(t, migrated(t))
	defer s.Close()
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	o := flexd.Organization{ID: flexd.NewID(t0), Name: "o", Created: t0}
	p := flexd.Project{ID: flexd.NewID(t0), OrgID: o.ID, Name: "p", Created: t0}
	if err := s.CreateOrganization(ctx, &o); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateProject(ctx, &p); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"a", "b"} {
		c := flexd.FlexCluster{ID: flexd.NewID(t0), GroupID: p.ID, Name: name, BackingProviderName: "AWS",
			RegionName: "US_EAST_1", DiskSizeGB: 5, MongoDBVersion: "8.0.4", StateName: flexd.ClusterIdle, CreateDate: t0}
		if err := s.CreateFlexCluster(ctx, &c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	var held sync.WaitGroup // both hold their first cluster
	held.Add(2)
	var attempts atomic.Int32
	errs := make(chan error, 2)
	for i, order := range [][2]string{{ids[0], ids[1]}, {ids[1], ids[0]}} {
		go func() {
			first := true
			errs <- s.InTx(ctx, func(tx flexd.Tx) error {
				attempts.Add(1)
				if _, err := tx.GetFlexClusterByID(ctx, order[0]); err != nil {
					return err
				}
				if first {
					first = false
					held.Done()
					held.Wait()
				}
				c, err := tx.GetFlexClusterByID(ctx, order[1])
				if err != nil {
					return err
				}
				c.Tags = append(c.Tags, flexd.Tag{Key: "by", Value: fmt.Sprint(i)})
				return tx.UpdateFlexCluster(ctx, c, c.StateName)
			})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("unit of work: %v", err)
		}
	}
	if n := attempts.Load(); n < 3 {
		t.Errorf("%d attempts: the units of work did not deadlock, the test proves nothing", n)
	}
	for _, id := range ids {
		c, err := s.GetFlexClusterByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Tags) != 1 {
			t.Errorf("cluster %s tags %v, want the one its unit of work wrote", c.Name, c.Tags)
		}
	}
}

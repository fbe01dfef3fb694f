package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/seal"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
	"github.com/flexd/flexd/storetest"
)

// open opens a store on a fresh file in a nested directory that Open has to
// create.
func open(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "data", "flexd.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) flexd.Store { return open(t) })
}

// TestSealedStore runs the contract on a store that seals its secrets, as
// flexd serve runs it: sealing changes what is stored, never what is read.
func TestSealedStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) flexd.Store {
		s := open(t)
		b, err := seal.New(seal.NewKey())
		if err != nil {
			t.Fatal(err)
		}
		s.SealWith(b)
		return s
	})
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flexd.db")
	storetest.RunPersistence(t, func(t *testing.T) flexd.Store {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// TestSettings checks that every pooled connection, not only the first, got
// the DSN's settings, since the job queue shares the pool.
func TestSettings(t *testing.T) {
	s := open(t)
	db := s.DB()
	conns := make([]interface{ Close() error }, 0, 3)
	for range 3 {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		for pragma, want := range map[string]string{
			"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "1",
		} {
			var got string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "a?b.db")} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

// TestConcurrentOpen opens several stores on one new file at once, in
// rounds on fresh files since the race is in creating the file: SQLite does
// not apply busy_timeout to switching a new file to WAL.
func TestConcurrentOpen(t *testing.T) {
	for range 20 {
		path := filepath.Join(t.TempDir(), "flexd.db")
		storetest.RunConcurrentOpen(t, func(ctx context.Context) (flexd.Store, error) { return sqlite.Open(ctx, path) })
	}
}

// TestReadyReflectsFailingWrites: a store whose every write fails (here a
// read-only connection to the file: a full disk fails writes the same way)
// is not ready, though it answers reads. Before, /readyz only pinged.
func TestReadyReflectsFailingWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flexd.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("a writable store is not ready: %v", err)
	}
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	readOnly := sqlstore.New(db, sqlite.Dialect)
	defer readOnly.Close()
	if err := readOnly.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := readOnly.Ready(ctx); err == nil {
		t.Fatal("a store whose writes fail is ready")
	}
}

// TestSealSecretsOnce: sealing what an earlier flexd stored in clear
// changes it once; the next start finds nothing to do, an empty HA1 (a key
// that predates SHA-256) included. A store with another key is refused.
func TestSealSecretsOnce(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	o := flexd.Organization{ID: flexd.NewID(time.Now()), Name: "o"}
	if err := s.CreateOrganization(ctx, &o); err != nil {
		t.Fatal(err)
	}
	k := flexd.APIKey{ID: flexd.NewID(time.Now()), OrgID: o.ID, PublicKey: "abcdefgh", Desc: "d", HA1MD5: "m", Created: time.Now()}
	if err := s.CreateAPIKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ServerKey(ctx, "k", []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	// An attached deployment's URI stored in clear (a store without a key).
	p := flexd.Project{ID: flexd.NewID(time.Now()), OrgID: o.ID, Name: "p", Created: time.Now()}
	if err := s.CreateProject(ctx, &p); err != nil {
		t.Fatal(err)
	}
	c := flexd.FlexCluster{ID: flexd.NewID(time.Now()), GroupID: p.ID, Name: "c", StateName: flexd.ClusterIdle, CreateDate: time.Now()}
	if err := s.CreateFlexCluster(ctx, &c); err != nil {
		t.Fatal(err)
	}
	const uri = "mongodb://u:clear-pw@h:1/"
	if err := s.InTx(ctx, func(tx flexd.Tx) error {
		return tx.PutClusterBackend(ctx, &flexd.ClusterBackend{ClusterID: c.ID, URI: uri, Hosts: "h:1", ConnectionString: "mongodb://h:1/"})
	}); err != nil {
		t.Fatal(err)
	}
	b, _ := seal.New(seal.NewKey())
	s.SealWith(b)
	for i, want := range []int{3, 0} {
		if n, err := s.SealSecrets(ctx); err != nil || n != want {
			t.Fatalf("start %d: sealed %d (%v), want %d", i+1, n, err, want)
		}
	}
	got, err := s.GetAPIKey(ctx, k.ID)
	if err != nil || got.HA1MD5 != "m" || got.HA1SHA256 != "" {
		t.Fatalf("after sealing: %+v %v", got, err)
	}
	var raw string
	if err := s.DB().QueryRowContext(ctx, "SELECT uri FROM cluster_backends").Scan(&raw); err != nil || !seal.IsSealed(raw) {
		t.Fatalf("stored backend URI after sealing: %q %v", raw, err)
	}
	if bk, err := s.ClusterBackend(ctx, c.ID); err != nil || bk.URI != uri {
		t.Fatalf("backend after sealing: %v %v", bk, err)
	}
	other, _ := seal.New(seal.NewKey())
	s.SealWith(other)
	if _, err := s.SealSecrets(ctx); !errors.Is(err, seal.ErrWrongKey) {
		t.Errorf("another key: %v, want ErrWrongKey", err)
	}
}

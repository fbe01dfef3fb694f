package jobs_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/postgres"
)

// TestPostgresEngine runs a restore drill with the queue on River's
// PostgreSQL driver, on a database of its own. It skips without a server
// (FLEXD_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432),
// unless FLEXD_REQUIRE_POSTGRES=1.
func TestPostgresEngine(t *testing.T) {
	dsn := postgresDatabase(t)
	store, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	h := startHarness(t, store, nil, jobs.Config{RestoreTime: time.Hour, SnapshotInterval: 24 * time.Hour}, func(eng *jobs.Engine) func() {
		pool, err := pgxpool.New(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.StartOnPostgres(t.Context(), pool); err != nil {
			t.Fatal(err)
		}
		return pool.Close
	})
	h.createCluster("src")
	h.createCluster("dst")
	h.advance("24h")
	snap := h.snapshots("src")[0]["id"].(string)
	job := h.restore("src", snap, "dst")
	h.advance("0s")
	if got := h.restoreJob("src", job)["status"]; got != "RUNNING" || h.state("dst") != "UPDATING" {
		t.Fatalf("restore %v, target %s", got, h.state("dst"))
	}
	h.advance("1h")
	if got := h.restoreJob("src", job)["status"]; got != "COMPLETED" || h.state("dst") != "IDLE" {
		t.Fatalf("restore %v, target %s", got, h.state("dst"))
	}
}

func postgresDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("FLEXD_TEST_POSTGRES_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("FLEXD_REQUIRE_POSTGRES") == "1" {
			t.Fatal(err)
		}
		t.Skipf("PostgreSQL not reachable at %s: %v", base, err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "flexd_jobs_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

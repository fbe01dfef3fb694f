package jobs_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/postgres"
	"github.com/flexd/flexd/postgres/pgtest"
)

// TestPostgresEngine runs a restore drill with the queue on River's
// PostgreSQL driver, on a database of its own. It skips without a server
// (FLEXD_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432),
// unless FLEXD_REQUIRE_POSTGRES=1.
func TestPostgresEngine(t *testing.T) {
	dsn := pgtest.Database(t)
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
		if err := jobs.StartOn(t.Context(), eng, postgres.QueueDriver(pool)); err != nil {
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

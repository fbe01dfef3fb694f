package jobs_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/internal/testkit"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/postgres"
	"github.com/flexd/flexd/postgres/pgtest"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlstore"
)

// holdStore runs a hook once, just before a unit of work of the engine
// holds the cluster of that name: work another unit of work commits in
// between what the first one read and what it holds.
type holdStore struct {
	*sqlstore.Store
	mu     sync.Mutex
	onHold map[string]func()
}

func (s *holdStore) InTx(ctx context.Context, fn func(tx flexd.Tx) error) error {
	return s.Store.InTx(ctx, func(tx flexd.Tx) error { return fn(&holdTx{Tx: tx, s: s}) })
}

func (s *holdStore) before(name string, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onHold = map[string]func(){name: f}
}

type holdTx struct {
	flexd.Tx
	s *holdStore
}

func (tx *holdTx) GetFlexCluster(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error) {
	tx.s.mu.Lock()
	f := tx.s.onHold[name]
	delete(tx.s.onHold, name)
	tx.s.mu.Unlock()
	if f != nil {
		f()
	}
	return tx.Tx.GetFlexCluster(ctx, groupID, name)
}

// unpicked is the engine with restores that no worker has picked up yet:
// the restore's step is run by the test.
type unpicked struct{ *jobs.Engine }

func (unpicked) Restore(context.Context, flexd.Tx, *flexd.RestoreJob) error { return nil }

// Deleting the source of a restore into another cluster ends the restore,
// in the unit of work that removes the source. That unit of work holds the
// source and lists its restores, then holds each one's target; the
// restore's own step holds only the target, so it can move the job on
// (here PENDING → RUNNING) in between. The delete used to end the job from
// the status it had listed, failed its conditional write with a conflict,
// and the clock advance that ran it answered 500 (the interleaving seed
// 1796020640254711568 met it about 2 runs in 3). It must read the job again
// once the target is held, and end it from there.
func TestPostgresDeleteRacingRestoreStep(t *testing.T) {
	dsn := pgtest.Database(t)
	store, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clock := jobs.NewManualClock(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))
	hs := &holdStore{Store: store}
	h := &harness{t: t, store: store, clock: clock, log: &testkit.SyncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("flexd logged (WARN and above):\n%s", h.log)
		}
	})
	eng := jobs.New(hs, clock, jobs.Config{DeleteTime: time.Minute, RestoreTime: time.Hour, Logger: h.logger()})
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.StartOn(t.Context(), eng, postgres.QueueDriver(pool)); err != nil {
		t.Fatal(err)
	}
	svc := service.New(store, clock, unpicked{eng}, service.Config{DownloadTTL: service.AtlasDownloadTTL})
	if err := svc.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(atlasapi.NewServer(atlasapi.Config{
		Orgs: svc, Projects: svc, Clusters: svc, Backups: svc, Lifecycle: eng, Logger: h.logger(),
	}))
	t.Cleanup(func() {
		h.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Stop(ctx); err != nil {
			t.Errorf("stop engine: %v", err)
		}
		pool.Close()
	})
	h.group = h.ok(201, "POST", "/api/atlas/v2/groups", `{"name":"p"}`)["id"].(string)

	h.createCluster("src")
	h.createCluster("dst")
	h.advance("0s")
	snap := h.takeSnapshot("src")
	h.advance("0s")
	job := h.restore("src", snap, "dst")
	h.ok(204, "DELETE", h.clusterPath("src"), "")
	hs.before("dst", func() {
		// The restore's step, on another connection, while the delete
		// holds the source: it starts the job and applies its copy.
		if err := eng.Handle(t.Context(), flexd.Timer{Kind: flexd.TimerRestore, EntityID: job}); err != nil {
			t.Errorf("restore step: %v", err)
		}
		if got := h.state("dst"); got != "UPDATING" {
			t.Errorf("target while its restore runs: %s, want UPDATING", got)
		}
	})
	h.advance("1m") // the delete's time: it runs now, with the hook
	if res := h.call("GET", h.clusterPath("src"), ""); res.status != 404 {
		t.Errorf("deleted source: %d %s", res.status, res.body)
	}
	if got := h.state("dst"); got != "IDLE" {
		t.Errorf("target of the restore its source's delete ended: %s, want IDLE", got)
	}
	timers, err := store.DueTimers(t.Context(), clock.Now().Add(365*24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range timers {
		t.Errorf("timer left: %s of %s due %v", tm.Kind, tm.EntityID, tm.DueAt)
	}
}

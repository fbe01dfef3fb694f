// Package jobs is flexd's lifecycle engine: it moves clusters, snapshots and
// restore jobs through their Atlas states over time, durably.
//
// Time and work are kept apart. When something must happen (a cluster done
// provisioning, the next daily snapshot, a restore's end) the engine arms a
// timer in the store, due at a time of flexd's clock. A scheduler hands each
// timer that comes due to a Queue (River), which runs the work and runs it
// again after a crash. The work is state-driven — it looks at the entity and
// moves it one step on — so running it twice is harmless, and the unique
// key of each timer arming keeps it from running twice at once.
//
// With a real clock the scheduler sleeps until the next due time; with a
// manual clock, AdvanceClock steps the clock to each due time in order and
// waits for its work, so days of lifecycle run in moments and in order.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/service"
)

// Store is what the engine keeps its state in.
type Store interface {
	flexd.Store
	flexd.LifecycleStore
}

// Config holds the engine's knobs. Zero durations make each step as fast
// as the work itself.
type Config struct {
	// SnapshotInterval is the time between scheduled snapshots, the first
	// one interval after a cluster's creation (Atlas: 24h). Zero turns
	// scheduled snapshots off.
	SnapshotInterval time.Duration
	// SnapshotRetention is how many completed snapshots a cluster keeps
	// (Atlas: 8).
	SnapshotRetention int
	// ProvisionTime is how long a new cluster stays CREATING.
	ProvisionTime time.Duration
	// RestoreTime is the least time a restore stays RUNNING.
	RestoreTime time.Duration
	// Workers is how many jobs run at once (default 4).
	Workers int
	// QueuePoll is how often the queue looks for runnable jobs nothing
	// woke it for, such as retries coming due (default: 1s on SQLite,
	// where every insert wakes it; 50ms on PostgreSQL).
	QueuePoll time.Duration
	// Artifacts captures and applies snapshot contents (default
	// ConfigArtifacts).
	Artifacts Artifacts
	// Instrument, when set, wraps the work of every job, as
	// metrics.(*Metrics).Jobs does to count and time it: the engine builds
	// its queue itself (StartOnSQLite, StartOnPostgres), so this is where
	// a caller gets between the queue and the work.
	Instrument func(Handler) Handler
	Logger     *slog.Logger
}

// Engine is the lifecycle engine. It implements service.Engine, so the
// service hands it every item it creates, and flexd.LifecycleService, the
// drills.
type Engine struct {
	store  Store
	clock  flexd.Clock
	manual *ManualClock // nil for a real clock
	cfg    Config
	log    *slog.Logger
	queue  Queue
	// run is the work of one timer arming, instrumented (Config.Instrument).
	run Handler

	kick chan struct{}
	// advance serializes AdvanceClock calls: each steps time in order.
	advance sync.Mutex

	mu sync.Mutex
	// inflight maps each timer arming handed to the queue to its job, so
	// the scheduler does not hand it over again on every pass.
	inflight map[armKey]int64

	stop context.CancelFunc
	done chan struct{}
}

type armKey struct {
	kind flexd.TimerKind
	id   string
	seq  int64
}

var (
	_ service.Engine         = (*Engine)(nil)
	_ flexd.LifecycleService = (*Engine)(nil)
)

// New returns an engine over store. clock is the one clock of flexd: pass
// the same one to the service. A *ManualClock makes AdvanceClock work.
func New(store Store, clock flexd.Clock, cfg Config) *Engine {
	if cfg.SnapshotRetention <= 0 {
		cfg.SnapshotRetention = 8
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Artifacts == nil {
		cfg.Artifacts = ConfigArtifacts{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{store: store, clock: clock, cfg: cfg, log: cfg.Logger,
		kick: make(chan struct{}, 1), inflight: map[armKey]int64{}}
	e.manual, _ = clock.(*ManualClock)
	e.run = e.work
	if cfg.Instrument != nil {
		e.run = cfg.Instrument(e.work)
	}
	return e
}

// Handle is the Queue's Handler: it does the work of one timer arming.
func (e *Engine) Handle(ctx context.Context, t flexd.Timer) error {
	defer func() {
		e.mu.Lock()
		delete(e.inflight, armKey{t.Kind, t.EntityID, t.Seq})
		e.mu.Unlock()
		e.poke()
	}()
	if err := e.run(ctx, t); err != nil {
		e.log.ErrorContext(ctx, "lifecycle work failed; it will be retried",
			"kind", t.Kind, "id", t.EntityID, "err", err)
		return err
	}
	return nil
}

// Start reconciles what a previous run left unfinished, starts the queue
// and the scheduler. q must call e.Handle for each job.
func (e *Engine) Start(ctx context.Context, q Queue) error {
	e.queue = q
	if err := e.reconcile(ctx); err != nil {
		return err
	}
	// The queue outlives the caller's context: Stop ends it gracefully.
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stop, e.done = cancel, make(chan struct{})
	go e.loop(lctx)
	return nil
}

// Stop stops the scheduler and the queue, letting running work finish
// until ctx ends. Unfinished work resumes at the next Start.
func (e *Engine) Stop(ctx context.Context) error {
	if e.stop == nil {
		return nil
	}
	e.stop()
	<-e.done
	return e.queue.Stop(ctx)
}

// reconcile gives every unfinished item without a timer (a crash between
// storing it and arming its timer) a timer due now. Items with a timer get
// their work from the scheduler as usual; their queue jobs, if any, are
// unique per arming, so none runs twice.
func (e *Engine) reconcile(ctx context.Context) error {
	ts, err := e.store.UnfinishedWork(ctx, e.clock.Now())
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, t := range ts {
		if err := e.store.SetTimer(ctx, t); err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
	}
	if len(ts) > 0 {
		e.log.InfoContext(ctx, "reconciled unfinished lifecycle work", "items", len(ts))
	}
	return nil
}

// arm sets a timer and wakes the scheduler.
func (e *Engine) arm(ctx context.Context, kind flexd.TimerKind, id string, due time.Time) error {
	if err := e.store.SetTimer(ctx, flexd.Timer{Kind: kind, EntityID: id, DueAt: due}); err != nil {
		return err
	}
	e.poke()
	return nil
}

func (e *Engine) poke() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Provision arms the cluster's end of CREATING and its first scheduled
// snapshot.
func (e *Engine) Provision(ctx context.Context, c *flexd.FlexCluster) error {
	if e.cfg.SnapshotInterval > 0 {
		if err := e.arm(ctx, flexd.TimerSchedule, c.ID, c.CreateDate.Add(e.cfg.SnapshotInterval)); err != nil {
			return err
		}
	}
	return e.arm(ctx, flexd.TimerCluster, c.ID, c.CreateDate.Add(e.cfg.ProvisionTime))
}

// Update settles a cluster a PATCH left UPDATING.
func (e *Engine) Update(ctx context.Context, c *flexd.FlexCluster) error {
	return e.arm(ctx, flexd.TimerCluster, c.ID, e.clock.Now())
}

// Delete removes a DELETING cluster.
func (e *Engine) Delete(ctx context.Context, c *flexd.FlexCluster) error {
	return e.arm(ctx, flexd.TimerCluster, c.ID, e.clock.Now())
}

// Snapshot runs a QUEUED snapshot.
func (e *Engine) Snapshot(ctx context.Context, s *flexd.Snapshot) error {
	return e.arm(ctx, flexd.TimerSnapshot, s.ID, e.clock.Now())
}

// Restore queues a PENDING restore job.
func (e *Engine) Restore(ctx context.Context, j *flexd.RestoreJob) error {
	return e.arm(ctx, flexd.TimerRestore, j.ID, e.clock.Now())
}

// loop is the scheduler: it hands due timers to the queue and sleeps until
// the next due time (real clock), a new timer, or a finished job.
func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	for {
		if _, err := e.fireDue(ctx); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "scheduling lifecycle work", "err", err)
		}
		// Kicks (a timer armed, a job ended) cover what this process does;
		// the second is a safety net. A timer already due is one whose job
		// runs or waits for a retry: its end kicks.
		wait := time.Second
		if e.manual == nil {
			if next, err := e.store.NextTimer(ctx); err == nil {
				if d := time.Until(next.DueAt); d > 0 {
					wait = min(wait, d)
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// fireDue hands every timer due now to the queue, once per arming, and
// returns their jobs.
func (e *Engine) fireDue(ctx context.Context) (map[armKey]int64, error) {
	jobs := map[armKey]int64{}
	for {
		ts, err := e.store.DueTimers(ctx, e.clock.Now(), 500)
		if err != nil {
			return jobs, err
		}
		added := false
		for _, t := range ts {
			k := armKey{t.Kind, t.EntityID, t.Seq}
			if _, seen := jobs[k]; seen {
				continue
			}
			e.mu.Lock()
			id, ok := e.inflight[k]
			e.mu.Unlock()
			if !ok {
				if id, err = e.queue.Enqueue(ctx, t); err != nil {
					return jobs, err
				}
				e.mu.Lock()
				e.inflight[k] = id
				e.mu.Unlock()
			}
			jobs[k] = id
			added = true
		}
		if len(ts) < 500 {
			e.forgetFinished(jobs)
			return jobs, nil
		}
		if !added {
			return jobs, nil
		}
	}
}

// forgetFinished drops the in-flight armings that are no longer due: their
// timer was disarmed or re-armed, so their work is over. Handle forgets
// the armings this process ran; with several replicas on one database the
// ones another replica ran end here, or they would pile up. Forgetting one
// too early costs at most an Enqueue that finds its unique job.
func (e *Engine) forgetFinished(due map[armKey]int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.inflight {
		if _, ok := due[k]; !ok {
			delete(e.inflight, k)
		}
	}
}

// errStuck reports work that keeps failing while the clock is advanced.
var errStuck = errors.New("lifecycle work keeps failing")

// advanceTo steps a manual clock to target: to each due time in order,
// running what is due there and waiting for it, until nothing is due.
func (e *Engine) advanceTo(ctx context.Context, target time.Time) error {
	e.advance.Lock()
	defer e.advance.Unlock()
	ran := map[armKey]bool{}
	for {
		next, err := e.store.NextTimer(ctx)
		if err != nil && !errors.Is(err, flexd.ErrNotFound) {
			return err
		}
		if next != nil && !next.DueAt.After(target) {
			e.manual.Set(next.DueAt)
		} else {
			e.manual.Set(target)
		}
		jobs, err := e.fireDue(ctx)
		if err != nil {
			return err
		}
		progressed := false
		for k, id := range jobs {
			if ran[k] {
				continue // still due after its job ran: the job failed
			}
			if err := e.queue.Wait(ctx, id); err != nil {
				return err
			}
			ran[k], progressed = true, true
		}
		if !progressed {
			if len(jobs) > 0 {
				return fmt.Errorf("%w: %d item(s) still due; see the log", errStuck, len(jobs))
			}
			if next == nil || next.DueAt.After(target) {
				return nil
			}
		}
	}
}

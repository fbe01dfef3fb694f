// Package jobs is flexd's lifecycle engine: it moves clusters, snapshots and
// restore jobs through their Atlas states over time, durably.
//
// Time and work are kept apart. When something must happen (a cluster done
// provisioning, the next daily snapshot, a restore's end) a unit of work
// arms a timer in the store, due at a time of flexd's clock, in the same
// transaction as the change that needs it: the change and the work that
// drives it commit together or not at all. A scheduler (scheduler.go) hands
// each timer that comes due to a Queue (River, queue.go), which runs the
// work and runs it again after a crash. Each kind of work (provision.go,
// delete.go, snapshot.go, restore.go, prune.go) is one unit of work that
// looks at the entity, moves it one step on with writes conditional on what
// it read, and disarms only the timer arming it ran, so running it twice is
// harmless and two replicas never undo each other.
//
// With a real clock the scheduler sleeps until the next due time; with a
// manual clock, AdvanceClock steps the clock to each due time in order and
// waits for its work, so days of lifecycle run in moments and in order.
// NewSync runs the same work synchronously, before the API call that made
// it returns.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/flexd/flexd"
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
	// DeleteTime is how long a deleted cluster stays DELETING before it is
	// gone (404). Zero removes it as soon as the work runs, which may be
	// before the DELETE's caller reads it again.
	DeleteTime time.Duration
	// RestoreTime is the least time a restore stays RUNNING: it ends once
	// its artifact is applied and this much time has passed since.
	RestoreTime time.Duration
	// DataTimeout is how long one run of a snapshot or a restore, the work
	// that copies a cluster's data, may take before it is cancelled and
	// retried (default DefaultDataTimeout). River's rescuer frees a job
	// left running by a replica that died after twice this.
	DataTimeout time.Duration
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
	// its queue itself (StartOn), so this is where
	// a caller gets between the queue and the work.
	Instrument func(Handler) Handler
	Logger     *slog.Logger
}

// Engine is the lifecycle engine. It implements service.Engine, so the
// service arms the first step of every item it creates in the same unit of
// work, and flexd.LifecycleService, the drills.
type Engine struct {
	store  Store
	clock  flexd.Clock
	manual *ManualClock // nil for a real clock
	cfg    Config
	log    *slog.Logger
	queue  Queue
	// run is the work of one timer arming, instrumented (Config.Instrument).
	run Handler
	// sync is set by NewSync: wake runs due work at once, in the caller.
	sync bool

	kick chan struct{}
	// advance serializes AdvanceClock calls (and, with sync, settles):
	// each steps time in order.
	advance sync.Mutex

	mu sync.Mutex
	// inflight maps each timer arming handed to the queue to its job, so
	// the scheduler does not hand it over again on every pass.
	inflight map[armKey]int64
	// active counts the jobs running in this process, and idle is closed
	// when it drops to zero: AdvanceClock waits for work that has moved
	// its own timer on but is not done yet (a restore goes from its start
	// straight on to its copy).
	active int
	idle   chan struct{}

	// restoreRuns serializes the runs of one restore job in this process.
	restoreRuns keyedLock

	stop context.CancelFunc
	done chan struct{}
}

type armKey struct {
	kind flexd.TimerKind
	id   string
	seq  int64
}

var _ flexd.LifecycleService = (*Engine)(nil)

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
	e.mu.Lock()
	e.active++
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.inflight, armKey{t.Kind, t.EntityID, t.Seq})
		if e.active--; e.active == 0 && e.idle != nil {
			close(e.idle)
			e.idle = nil
		}
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

// Start starts the queue and the scheduler. q must call e.Handle for each
// job. Nothing needs repairing first: every change was committed with the
// timer that drives it, so the timers are all the work there is.
func (e *Engine) Start(ctx context.Context, q Queue) error {
	e.queue = q
	// The queue outlives the caller's context: Stop ends it gracefully.
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	if e.sync {
		return nil
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stop, e.done = cancel, make(chan struct{})
	go e.loop(lctx)
	return nil
}

// Stop stops the scheduler and the queue, letting running work finish
// until ctx ends. Unfinished work resumes at the next Start.
func (e *Engine) Stop(ctx context.Context) error {
	if e.stop != nil {
		e.stop()
		<-e.done
	}
	if e.queue == nil {
		return nil
	}
	return e.queue.Stop(ctx)
}

// waitIdle returns once no job runs in this process; busy tells whether
// one did.
func (e *Engine) waitIdle(ctx context.Context) (busy bool, err error) {
	e.mu.Lock()
	if e.active == 0 {
		e.mu.Unlock()
		return false, nil
	}
	if e.idle == nil {
		e.idle = make(chan struct{})
	}
	idle := e.idle
	e.mu.Unlock()
	select {
	case <-idle:
		return true, nil
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// arm sets a timer in tx and wakes the scheduler once tx has committed.
func (e *Engine) arm(ctx context.Context, tx flexd.Tx, kind flexd.TimerKind, id string, due time.Time) error {
	if err := tx.SetTimer(ctx, flexd.Timer{Kind: kind, EntityID: id, DueAt: due}); err != nil {
		return err
	}
	tx.OnCommit(func() { e.wake(ctx) })
	return nil
}

// wake makes the scheduler look at the timers: at once in the background,
// or (NewSync) by running what is due before returning.
func (e *Engine) wake(ctx context.Context) {
	if !e.sync {
		e.poke()
		return
	}
	if ctx.Value(settlingKey{}) != nil {
		return // the settle this work runs in picks up what it armed
	}
	if err := e.settle(context.WithoutCancel(ctx)); err != nil {
		e.log.ErrorContext(ctx, "running lifecycle work", "err", err)
	}
}

func (e *Engine) poke() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Provision arms the cluster's end of CREATING and its first scheduled
// snapshot, in the unit of work that stores the cluster.
func (e *Engine) Provision(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error {
	if e.cfg.SnapshotInterval > 0 {
		if err := e.arm(ctx, tx, flexd.TimerSchedule, c.ID, c.CreateDate.Add(e.cfg.SnapshotInterval)); err != nil {
			return err
		}
	}
	return e.arm(ctx, tx, flexd.TimerCluster, c.ID, c.CreateDate.Add(e.cfg.ProvisionTime))
}

// Update settles a cluster a PATCH left UPDATING.
func (e *Engine) Update(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error {
	return e.arm(ctx, tx, flexd.TimerCluster, c.ID, e.clock.Now())
}

// Delete removes a DELETING cluster once DeleteTime has passed. The end of
// a CREATING or UPDATING it left is disarmed: it would find the cluster
// DELETING and remove it early (settleCluster).
func (e *Engine) Delete(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error {
	if err := tx.DisarmTimer(ctx, flexd.Timer{Kind: flexd.TimerCluster, EntityID: c.ID}); err != nil {
		return err
	}
	return e.arm(ctx, tx, flexd.TimerDelete, c.ID, e.clock.Now().Add(e.cfg.DeleteTime))
}

// Snapshot runs a QUEUED snapshot.
func (e *Engine) Snapshot(ctx context.Context, tx flexd.Tx, s *flexd.Snapshot) error {
	return e.arm(ctx, tx, flexd.TimerSnapshot, s.ID, e.clock.Now())
}

// Restore queues a PENDING restore job.
func (e *Engine) Restore(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob) error {
	return e.arm(ctx, tx, flexd.TimerRestore, j.ID, e.clock.Now())
}

// work does the work of one timer arming, dispatching on its kind.
func (e *Engine) work(ctx context.Context, t flexd.Timer) error {
	var step func(ctx context.Context, tx flexd.Tx, t flexd.Timer) error
	switch t.Kind {
	case flexd.TimerCluster:
		step = e.settleCluster
	case flexd.TimerDelete:
		step = e.deleteStep
	case flexd.TimerSchedule:
		step = e.scheduledSnapshot
	case flexd.TimerSnapshot:
		return e.runSnapshot(ctx, t)
	case flexd.TimerRestore:
		return e.runRestore(ctx, t)
	case flexd.TimerPrune:
		step = e.prune
	default:
		step = disarm // from a newer flexd: nothing to do here
	}
	return e.store.InTx(ctx, func(tx flexd.Tx) error { return step(ctx, tx, t) })
}

// disarm ends a step: it deletes the arming it ran, and only that one.
func disarm(ctx context.Context, tx flexd.Tx, t flexd.Timer) error {
	return tx.DisarmTimer(ctx, t)
}

func notFound(err error) bool { return errors.Is(err, flexd.ErrNotFound) }

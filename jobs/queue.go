package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/flexd/flexd"
)

// Queue runs lifecycle work durably: a job enqueued survives a crash and
// runs (again) after a restart. The engine keeps due times itself and
// enqueues a timer's work only once it is due, so a Queue needs no notion
// of time.
type Queue interface {
	// Enqueue queues the work of one arming of a timer; enqueuing the same
	// arming (kind, entity, seq) again while its job is unfinished returns
	// that job instead of a second one. It returns an id for Wait.
	Enqueue(ctx context.Context, t flexd.Timer) (int64, error)
	// Wait returns once the job has run: done, failed for good, or failed
	// and waiting to be retried (the caller sees its timer still due).
	Wait(ctx context.Context, id int64) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Handler does the work of a due timer.
type Handler func(ctx context.Context, t flexd.Timer) error

// policy is how River runs one kind of lifecycle work: how long one run
// may take, how often it is tried, and how long it waits between tries.
// A run that fails leaves its timer due, so work that ran out of tries is
// enqueued again by the scheduler: no job is ever given up for good.
type policy struct {
	kind        string
	timeout     time.Duration
	maxAttempts int
	// retryEvery grows linearly with the attempt: the step failed on
	// something passing (a database restart, a lost race retried past
	// InTx's own attempts), and the job it drives is waiting.
	retryEvery time.Duration
}

// policies gives each operation its own River job kind and policy. The
// steps of provisioning, deletion, schedules and retention are short units
// of work; snapshot and restore steps copy data (the data plane's, once it
// is wired in), so they get longer. RescueStuckJobsAfter must stay above
// the longest timeout.
var policies = map[flexd.TimerKind]policy{
	flexd.TimerCluster:  {"flexd_provision", 30 * time.Second, 20, time.Second},
	flexd.TimerDelete:   {"flexd_delete", 30 * time.Second, 20, time.Second},
	flexd.TimerSchedule: {"flexd_schedule", 30 * time.Second, 20, time.Second},
	flexd.TimerPrune:    {"flexd_prune", 30 * time.Second, 20, time.Second},
	flexd.TimerSnapshot: {"flexd_snapshot", DefaultDataTimeout, 10, 2 * time.Second},
	flexd.TimerRestore:  {"flexd_restore", DefaultDataTimeout, 10, 2 * time.Second},
}

// DefaultDataTimeout is how long one run of a snapshot or a restore may
// take unless Config.DataTimeout says otherwise: these copy a cluster's
// data (a Flex cluster holds at most 5 GB; the data plane copies its files
// at 100+ MB/s), so a run that takes this long is stuck, and is cancelled
// and retried.
const DefaultDataTimeout = 10 * time.Minute

// withDataTimeout is the policy of kind with the data timeout d (when set)
// for the kinds that copy data.
func withDataTimeout(kind flexd.TimerKind, d time.Duration) policy {
	p := policies[kind]
	if d > 0 && (kind == flexd.TimerSnapshot || kind == flexd.TimerRestore) {
		p.timeout = d
	}
	return p
}

// legacyKind is the one job kind of flexd before one kind per operation;
// jobs of it still queued at an upgrade run as before.
const legacyKind = "flexd_lifecycle"

// timerArgs is every job kind's arguments: one arming of a timer. The
// River kind says which timer kind; seq makes each arming its own unique
// job.
type timerArgs struct {
	Timer    flexd.TimerKind `json:"timer"`
	EntityID string          `json:"entity_id"`
	Seq      int64           `json:"seq"`
}

// jobArgs is a timerArgs as the River job kind of its timer kind.
type jobArgs struct {
	timerArgs
	kind string
}

func (a jobArgs) Kind() string { return a.kind }

// InsertOpts makes a job unique per timer arming among unfinished jobs: a
// second scheduler pass (or replica) never doubles work, while a completed
// arming does not block the next one.
func (a jobArgs) InsertOpts() river.InsertOpts {
	attempts := 10
	if p, ok := policies[a.Timer]; ok {
		attempts = p.maxAttempts
	}
	return river.InsertOpts{
		MaxAttempts: attempts,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
				rivertype.JobStateRunning, rivertype.JobStateScheduled,
			},
		},
	}
}

// kindArgs is what River decodes a job of one kind into: its kind is
// fixed by the worker registered for it.
type kindArgs[K kindName] struct{ timerArgs }

func (kindArgs[K]) Kind() string { var k K; return k.name() }

type kindName interface{ name() string }

type (
	provisionKind struct{}
	deleteKind    struct{}
	scheduleKind  struct{}
	pruneKind     struct{}
	snapshotKind  struct{}
	restoreKind   struct{}
	legacy        struct{}
)

func (provisionKind) name() string { return policies[flexd.TimerCluster].kind }
func (deleteKind) name() string    { return policies[flexd.TimerDelete].kind }
func (scheduleKind) name() string  { return policies[flexd.TimerSchedule].kind }
func (pruneKind) name() string     { return policies[flexd.TimerPrune].kind }
func (snapshotKind) name() string  { return policies[flexd.TimerSnapshot].kind }
func (restoreKind) name() string   { return policies[flexd.TimerRestore].kind }
func (legacy) name() string        { return legacyKind }

// kindWorker runs one job kind with its policy.
type kindWorker[K kindName] struct {
	river.WorkerDefaults[kindArgs[K]]
	run    func(ctx context.Context, id int64, t flexd.Timer) error
	policy policy
}

func (w *kindWorker[K]) Work(ctx context.Context, job *river.Job[kindArgs[K]]) error {
	a := job.Args.timerArgs
	return w.run(ctx, job.ID, flexd.Timer{Kind: a.Timer, EntityID: a.EntityID, Seq: a.Seq})
}

func (w *kindWorker[K]) Timeout(*river.Job[kindArgs[K]]) time.Duration { return w.policy.timeout }

func (w *kindWorker[K]) NextRetry(job *river.Job[kindArgs[K]]) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * w.policy.retryEvery)
}

func addKind[K kindName](ws *river.Workers, run func(context.Context, int64, flexd.Timer) error, p policy) error {
	return river.AddWorkerSafely(ws, &kindWorker[K]{run: run, policy: p})
}

// RiverQueue is a Queue on River, for any River driver: riversqlite for the
// embedded store, riverpgxv5 for PostgreSQL.
type RiverQueue[TTx any] struct {
	client *river.Client[TTx]
	handle Handler

	mu sync.Mutex
	// finished holds the jobs this process has run since they were last
	// waited for, and changed is closed whenever one finishes: River
	// records a job's end a little after the work returns, and Wait should
	// not have to poll for it.
	finished map[int64]bool
	changed  chan struct{}
}

// NewRiverQueue returns a queue on driver's database, which must have
// River's schema (MigrateRiver). workers is how many jobs run at once.
func NewRiverQueue[TTx any](driver riverdriver.Driver[TTx], handle Handler, workers int, log *slog.Logger) (*RiverQueue[TTx], error) {
	return newRiverQueue(driver, handle, workers, defaultFetchPoll, 0, log)
}

// defaultFetchPoll is how often River looks for work on its own when
// nothing told it of any: LISTEN/NOTIFY (PostgreSQL) or the in-process
// wake-up (SQLite, sqlite.QueueDriver) tell it of new jobs at once, so polling
// only finds what River itself made runnable, such as retries.
const defaultFetchPoll = 50 * time.Millisecond

func newRiverQueue[TTx any](driver riverdriver.Driver[TTx], handle Handler, workers int, poll, dataTimeout time.Duration, log *slog.Logger) (*RiverQueue[TTx], error) {
	q := &RiverQueue[TTx]{handle: handle, finished: map[int64]bool{}, changed: make(chan struct{})}
	ws := river.NewWorkers()
	for _, err := range []error{
		addKind[provisionKind](ws, q.work, policies[flexd.TimerCluster]),
		addKind[deleteKind](ws, q.work, policies[flexd.TimerDelete]),
		addKind[scheduleKind](ws, q.work, policies[flexd.TimerSchedule]),
		addKind[pruneKind](ws, q.work, policies[flexd.TimerPrune]),
		addKind[snapshotKind](ws, q.work, withDataTimeout(flexd.TimerSnapshot, dataTimeout)),
		addKind[restoreKind](ws, q.work, withDataTimeout(flexd.TimerRestore, dataTimeout)),
		addKind[legacy](ws, q.work, policy{legacyKind, time.Minute, 10, time.Second}),
	} {
		if err != nil {
			return nil, err
		}
	}
	client, err := river.NewClient(driver, &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers: ws,
		Logger:  log,
		// The engine enqueues only due work, so a job should start at once.
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: poll,
		// A job left running by a replica that died holds its arming's
		// unique key until River's rescuer frees it (SQLite frees its
		// orphans at start instead). Each kind's timeout (policies)
		// cancels its work, so a job running for twice the longest one is
		// an orphan; River's default, an hour, would keep a restore
		// RUNNING that long on PostgreSQL.
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: 2 * max(withDataTimeout(flexd.TimerRestore, dataTimeout).timeout, withDataTimeout(flexd.TimerSnapshot, dataTimeout).timeout),
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	q.client = client
	return q, nil
}

func (q *RiverQueue[TTx]) work(ctx context.Context, id int64, t flexd.Timer) error {
	err := q.handle(ctx, t)
	q.mu.Lock()
	if len(q.finished) > 10000 { // only ids not waited for pile up
		clear(q.finished)
	}
	q.finished[id] = true
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
	return err
}

// Enqueue inserts the timer arming's job.
func (q *RiverQueue[TTx]) Enqueue(ctx context.Context, t flexd.Timer) (int64, error) {
	kind := legacyKind // a timer kind of a newer flexd: the legacy worker disarms it
	if p, ok := policies[t.Kind]; ok {
		kind = p.kind
	}
	res, err := q.client.Insert(ctx, jobArgs{timerArgs{Timer: t.Kind, EntityID: t.EntityID, Seq: t.Seq}, kind}, nil)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s work of %s: %w", t.Kind, t.EntityID, err)
	}
	return res.Job.ID, nil
}

// Wait returns once the job has run in this process, or River has it in a
// state that no longer changes by itself soon.
func (q *RiverQueue[TTx]) Wait(ctx context.Context, id int64) error {
	for {
		q.mu.Lock()
		done, changed := q.finished[id], q.changed
		delete(q.finished, id)
		q.mu.Unlock()
		if done {
			return nil
		}
		row, err := q.client.JobGet(ctx, id)
		if errors.Is(err, river.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		switch row.State {
		case rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled, rivertype.JobStateRetryable:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Start starts working jobs.
func (q *RiverQueue[TTx]) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop waits for running jobs to finish, until ctx ends.
func (q *RiverQueue[TTx]) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// MigrateRiver brings River's own tables up to date.
func MigrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river schema: %w", err)
	}
	return nil
}

package jobs

import (
	"context"
	"database/sql"
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

// workArgs is the one River job kind: "do the work of this timer arming".
// The timer's kind dispatches; seq makes each arming its own unique job.
type workArgs struct {
	Timer    flexd.TimerKind `json:"timer"`
	EntityID string          `json:"entity_id"`
	Seq      int64           `json:"seq"`
}

func (workArgs) Kind() string { return "flexd_lifecycle" }

// InsertOpts makes a job unique per timer arming among unfinished jobs: a
// reconcile or a second scheduler pass never doubles work, while a
// completed arming does not block the next one.
func (workArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 10,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
				rivertype.JobStateRunning, rivertype.JobStateScheduled,
			},
		},
	}
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
	return newRiverQueue(driver, handle, workers, defaultFetchPoll, log)
}

// defaultFetchPoll is how often River looks for work on its own when
// nothing told it of any: LISTEN/NOTIFY (PostgreSQL) or the in-process
// wake-up (SQLite, StartOnSQLite) tell it of new jobs at once, so polling
// only finds what River itself made runnable, such as retries.
const defaultFetchPoll = 50 * time.Millisecond

func newRiverQueue[TTx any](driver riverdriver.Driver[TTx], handle Handler, workers int, poll time.Duration, log *slog.Logger) (*RiverQueue[TTx], error) {
	q := &RiverQueue[TTx]{handle: handle, finished: map[int64]bool{}, changed: make(chan struct{})}
	ws := river.NewWorkers()
	if err := river.AddWorkerSafely(ws, river.WorkFunc(q.work)); err != nil {
		return nil, err
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
		// orphans at start instead). Lifecycle work takes moments and
		// JobTimeout cancels it, so a job running for twice that long is an
		// orphan; River's default, an hour, would keep a restore RUNNING
		// that long on PostgreSQL.
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: 2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	q.client = client
	return q, nil
}

func (q *RiverQueue[TTx]) work(ctx context.Context, job *river.Job[workArgs]) error {
	err := q.handle(ctx, flexd.Timer{Kind: job.Args.Timer, EntityID: job.Args.EntityID, Seq: job.Args.Seq})
	q.mu.Lock()
	if len(q.finished) > 10000 { // only ids not waited for pile up
		clear(q.finished)
	}
	q.finished[job.ID] = true
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
	return err
}

// Enqueue inserts the timer arming's job.
func (q *RiverQueue[TTx]) Enqueue(ctx context.Context, t flexd.Timer) (int64, error) {
	res, err := q.client.Insert(ctx, workArgs{Timer: t.Kind, EntityID: t.EntityID, Seq: t.Seq}, nil)
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

// RecoverSQLiteOrphans makes River jobs left running by a killed process
// available again. An embedded SQLite file is served by exactly one flexd
// process, so at start every running job is an orphan; River's own rescuer
// would find them too, but only after RescueStuckJobsAfter (two minutes), and
// until then their unique keys would block the reconcile's inserts. This
// is what the rescuer does, done at once.
func RecoverSQLiteOrphans(ctx context.Context, db *sql.DB) (int64, error) {
	res, err := db.ExecContext(ctx, "UPDATE river_job SET state = 'available' WHERE state = 'running'")
	if err != nil {
		return 0, fmt.Errorf("recover orphaned river jobs: %w", err)
	}
	return res.RowsAffected()
}

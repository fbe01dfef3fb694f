package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river/riverdriver"
)

// Driver is River's driver on a store backend's database, as the backend
// package gives it (sqlite.QueueDriver, postgres.QueueDriver), with what
// the queue must know of that database.
type Driver[TTx any] interface {
	riverdriver.Driver[TTx]
	// RecoverOrphans makes the jobs a killed process left running
	// available again, once River's schema is up to date and before the
	// queue starts, and returns how many. A database several processes
	// share leaves them to River's rescuer (RescueStuckJobsAfter), since
	// another process may be running them.
	RecoverOrphans(ctx context.Context) (int64, error)
	// FetchPoll is how often River looks for work nothing told it of;
	// zero for defaultFetchPoll.
	FetchPoll() time.Duration
}

// StartOn starts the engine with its queue on driver's database, bringing
// River's schema up to date first.
func StartOn[TTx any](ctx context.Context, e *Engine, driver Driver[TTx]) error {
	if err := MigrateRiver(ctx, driver); err != nil {
		return err
	}
	n, err := driver.RecoverOrphans(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		e.log.InfoContext(ctx, "resuming jobs a previous run left running", "jobs", n)
	}
	poll := e.cfg.QueuePoll
	if poll <= 0 {
		poll = driver.FetchPoll()
	}
	if poll <= 0 {
		poll = defaultFetchPoll
	}
	q, err := newRiverQueue(driver, e.Handle, e.cfg.Workers, poll, e.cfg.DataTimeout, e.log.With("component", "river"))
	if err != nil {
		return err
	}
	return e.Start(ctx, q)
}

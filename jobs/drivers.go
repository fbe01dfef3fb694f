package jobs

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// StartOnSQLite starts the engine with its queue on River's SQLite driver.
// db must be a pool of its own on the store's file (sqlite.OpenQueueDB):
// River wants one connection, the store's API reads want many. Jobs a
// killed process left running are made available again first.
func (e *Engine) StartOnSQLite(ctx context.Context, db *sql.DB) error {
	driver := sqliteDriver{riversqlite.New(db)}
	if err := MigrateRiver(ctx, driver); err != nil {
		return err
	}
	n, err := RecoverSQLiteOrphans(ctx, db)
	if err != nil {
		return err
	}
	if n > 0 {
		e.log.InfoContext(ctx, "resuming jobs a previous run left running", "jobs", n)
	}
	poll := e.cfg.QueuePoll
	if poll <= 0 {
		poll = sqliteFetchPoll
	}
	q, err := newRiverQueue(driver, e.Handle, e.cfg.Workers, poll, e.log.With("component", "river"))
	if err != nil {
		return err
	}
	return e.Start(ctx, q)
}

// sqliteDriver is River's SQLite driver declaring that it has no listener.
// riversqlite emulates LISTEN/NOTIFY with a table that its listener polls
// every 50 ms, and River wakes its fetcher in-process at an insert only for
// drivers without a listener; so a restore, two queue jobs, waited up to
// 100 ms for polls. One process owns an embedded SQLite file, so every job
// is inserted by this process, and the wake-up at the insert is all the
// notification the queue needs; no notification rows are written either.
// River's own tests simulate listener-less drivers the same way.
type sqliteDriver struct{ *riversqlite.Driver }

func (sqliteDriver) SupportsListener() bool     { return false }
func (sqliteDriver) SupportsListenNotify() bool { return false }

// sqliteFetchPoll is River's poll on SQLite: inserts wake it, so polling
// only finds retries coming due, and a slow poll costs no idle CPU.
const sqliteFetchPoll = time.Second

// StartOnPostgres starts the engine with its queue on River's PostgreSQL
// driver. Several flexd processes may share the database: River spreads the
// jobs among them, and jobs of a process that died are rescued by River
// itself (RescueStuckJobsAfter, two minutes) rather than at start, since another process
// may be running them.
func (e *Engine) StartOnPostgres(ctx context.Context, pool *pgxpool.Pool) error {
	driver := riverpgxv5.New(pool)
	if err := MigrateRiver(ctx, driver); err != nil {
		return err
	}
	poll := e.cfg.QueuePoll
	if poll <= 0 {
		poll = defaultFetchPoll
	}
	q, err := newRiverQueue(driver, e.Handle, e.cfg.Workers, poll, e.log.With("component", "river"))
	if err != nil {
		return err
	}
	return e.Start(ctx, q)
}

package jobs

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// StartOnSQLite starts the engine with its queue on River's SQLite driver.
// db must be a pool of its own on the store's file (sqlite.OpenQueueDB):
// River wants one connection, the store's API reads want many. Jobs a
// killed process left running are made available again first.
func (e *Engine) StartOnSQLite(ctx context.Context, db *sql.DB) error {
	driver := riversqlite.New(db)
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
	q, err := NewRiverQueue(driver, e.Handle, e.cfg.Workers, e.log.With("component", "river"))
	if err != nil {
		return err
	}
	return e.Start(ctx, q)
}

// StartOnPostgres starts the engine with its queue on River's PostgreSQL
// driver. Several flexd processes may share the database: River spreads the
// jobs among them, and jobs of a process that died are rescued by River
// itself (RescueStuckJobsAfter) rather than at start, since another process
// may be running them.
func (e *Engine) StartOnPostgres(ctx context.Context, pool *pgxpool.Pool) error {
	driver := riverpgxv5.New(pool)
	if err := MigrateRiver(ctx, driver); err != nil {
		return err
	}
	q, err := NewRiverQueue(driver, e.Handle, e.cfg.Workers, e.log.With("component", "river"))
	if err != nil {
		return err
	}
	return e.Start(ctx, q)
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// OpenQueueDB opens a second pool on the store's file for the job queue
// (River). It has one connection, as River recommends for SQLite: its
// producers, completer and maintenance services then take turns instead of
// racing for the write lock, and the store's own pool keeps serving API
// reads and writes in parallel. Open the store first: it creates the file
// and switches it to WAL.
func OpenQueueDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open queue pool on %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, nil
}

// QueueDriver is River's SQLite driver on db, the pool OpenQueueDB opened,
// for jobs.StartOn.
func QueueDriver(db *sql.DB) *RiverDriver {
	return &RiverDriver{Driver: riversqlite.New(db), db: db}
}

// RiverDriver is River's SQLite driver declaring that it has no listener.
// riversqlite emulates LISTEN/NOTIFY with a table that its listener polls
// every 50 ms, and River wakes its fetcher in-process at an insert only for
// drivers without a listener; so a restore, two queue jobs, waited up to
// 100 ms for polls. One process owns an embedded SQLite file, so every job
// is inserted by this process, and the wake-up at the insert is all the
// notification the queue needs; no notification rows are written either.
// River's own tests simulate listener-less drivers the same way.
type RiverDriver struct {
	*riversqlite.Driver
	db *sql.DB
}

func (*RiverDriver) SupportsListener() bool     { return false }
func (*RiverDriver) SupportsListenNotify() bool { return false }

// FetchPoll is slow: inserts wake River, so polling only finds retries
// coming due, and a slow poll costs no idle CPU.
func (*RiverDriver) FetchPoll() time.Duration { return time.Second }

// RecoverOrphans makes River jobs left running by a killed process
// available again. An embedded SQLite file is served by exactly one flexd
// process, so at start every running job is an orphan; River's own rescuer
// would find them too, but only after RescueStuckJobsAfter (two minutes), and
// until then their unique keys would keep the scheduler from enqueuing the
// same timer armings again. This is what the rescuer does, done at once.
func (d *RiverDriver) RecoverOrphans(ctx context.Context) (int64, error) {
	res, err := d.db.ExecContext(ctx, "UPDATE river_job SET state = 'available' WHERE state = 'running'")
	if err != nil {
		return 0, fmt.Errorf("recover orphaned river jobs: %w", err)
	}
	return res.RowsAffected()
}

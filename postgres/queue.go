package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// QueueDriver is River's PostgreSQL driver on pool, for jobs.StartOn.
// Several flexd processes may share the database: River spreads the jobs
// among them, and notifies them of new ones with LISTEN/NOTIFY.
func QueueDriver(pool *pgxpool.Pool) *RiverDriver {
	return &RiverDriver{riverpgxv5.New(pool)}
}

// RiverDriver is River's PostgreSQL driver.
type RiverDriver struct{ *riverpgxv5.Driver }

// RecoverOrphans leaves the jobs of a process that died to River's
// rescuer (RescueStuckJobsAfter, two minutes) rather than recovering them
// at start, since another process may be running them.
func (*RiverDriver) RecoverOrphans(context.Context) (int64, error) { return 0, nil }

// FetchPoll is the queue's default: LISTEN/NOTIFY tells River of new jobs.
func (*RiverDriver) FetchPoll() time.Duration { return 0 }

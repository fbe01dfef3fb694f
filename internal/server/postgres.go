package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/metrics"
	"github.com/flexd/flexd/postgres"
)

// PostgreSQL advisory locks of flexd serve, in the two-key space (the
// migrations' lock is a one-key lock, a space of its own): "flex" in
// ASCII, then what the lock guards, so they are recognizable in pg_locks.
const (
	advisoryClass int32 = 0x666c6578
	// startupLock is held while a replica makes what must exist once.
	startupLock int32 = 1
	// replicaLock is held by every running replica: shared with a real
	// clock, exclusive with a manual one.
	replicaLock int32 = 2
)

// queuePoolConns bounds River's pool of each replica. River holds one
// connection for LISTEN and uses a few to fetch and complete jobs; with
// the store's 16 and the lock session, a replica needs at most 25 of the
// server's connections (max_connections is 100 by default).
const queuePoolConns = 8

// errManualClockShared refuses a manual clock beside other replicas. A
// manual clock is one process's time, moved by POST /_flexd/clock:advance
// on that process, which then runs what came due and waits for it: other
// replicas would run the same timers by their own clocks, or never see the
// advance. So a manual clock needs the database to itself, and flexd
// enforces it rather than let two notions of "now" share one store.
var errManualClockShared = errors.New("--clock manual needs the PostgreSQL database to itself")

// openPostgres opens the shared store: the sqlstore over pgx's
// database/sql driver, River's pool (riverpgxv5), and a session of its own
// that holds this replica's advisory locks for as long as it runs. Nothing
// is cached across requests (locked stays false): the other replicas write
// the same tables, and only the database knows what they wrote.
func openPostgres(ctx context.Context, c *config, log *slog.Logger) (_ *backend, err error) {
	// undo closes what is open so far if a later step fails, and is the
	// backend's close once all have succeeded.
	var undo cleanups
	defer func() {
		if err != nil {
			undo.run()
		}
	}()
	session, err := pgx.Connect(ctx, c.postgresURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	undo.push(func() {
		// Unlock before closing: the server drops a closed session's locks
		// only once its backend has exited, so a replica started right
		// after this one stops could still find them held.
		_, _ = session.Exec(context.Background(), "SELECT pg_advisory_unlock_all()")
		_ = session.Close(context.Background())
	})
	if err := claimReplica(ctx, session, c.lifecycle.clock == "manual"); err != nil {
		return nil, err
	}
	store, err := postgres.Open(ctx, c.postgresURL)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	undo.push(func() {
		if err := store.Close(); err != nil {
			log.Error("closing store", "err", err)
		}
	})
	poolConfig, err := pgxpool.ParseConfig(c.postgresURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	poolConfig.MaxConns = queuePoolConns
	pool, err := pgxpool.NewWithConfig(ctx, poolConfig)
	if err != nil {
		return nil, fmt.Errorf("postgres: job queue pool: %w", err)
	}
	undo.push(pool.Close)
	if c.obs.readCache {
		log.Info("reads are not cached on PostgreSQL: every request reads what all replicas wrote")
	}
	return &backend{
		store: store,
		startup: func(ctx context.Context) (func(), error) {
			if _, err := session.Exec(ctx, "SELECT pg_advisory_lock($1, $2)", advisoryClass, startupLock); err != nil {
				return nil, fmt.Errorf("postgres: wait for other replicas' start-up: %w", err)
			}
			return func() {
				// Failing, the lock goes with the session, at the latest
				// when this replica stops.
				if _, err := session.Exec(context.Background(), "SELECT pg_advisory_unlock($1, $2)", advisoryClass, startupLock); err != nil {
					log.Warn("releasing the start-up lock", "err", err)
				}
			}, nil
		},
		startEngine: func(ctx context.Context, eng *jobs.Engine) (func(context.Context), error) {
			if err := jobs.StartOn(ctx, eng, postgres.QueueDriver(pool)); err != nil {
				return nil, err
			}
			return func(ctx context.Context) {
				if err := eng.Stop(ctx); err != nil {
					log.Error("stopping lifecycle engine", "err", err)
				}
			}, nil
		},
		ready: func(ctx context.Context) error {
			if err := store.Ready(ctx); err != nil {
				return err
			}
			return pool.Ping(ctx)
		},
		where: slog.String("postgres", describePostgres(poolConfig.ConnConfig)),
		close: undo.run,
		watch: func(m *metrics.Metrics) { m.WatchPgxPool("queue", pool) },
	}, nil
}

// claimReplica takes this replica's share of the database, or all of it
// for a manual clock (see errManualClockShared). The lock lives as long as
// session: a replica that stops or dies gives it back.
func claimReplica(ctx context.Context, session *pgx.Conn, manual bool) error {
	q := "SELECT pg_try_advisory_lock_shared($1, $2)"
	if manual {
		q = "SELECT pg_try_advisory_lock($1, $2)"
	}
	var ok bool
	if err := session.QueryRow(ctx, q, advisoryClass, replicaLock).Scan(&ok); err != nil {
		return fmt.Errorf("postgres: replica lock: %w", err)
	}
	switch {
	case ok:
		return nil
	case manual:
		return fmt.Errorf("%w: other flexd replicas run on it", errManualClockShared)
	default:
		return fmt.Errorf("%w: a flexd with a manual clock runs on it; stop it first", errManualClockShared)
	}
}

// cleanups is a stack of what to close, run last first.
type cleanups []func()

func (c *cleanups) push(f func()) { *c = append(*c, f) }

func (c cleanups) run() {
	for i := len(c) - 1; i >= 0; i-- {
		c[i]()
	}
}

// describePostgres names the database for the log, without credentials.
func describePostgres(c *pgx.ConnConfig) string {
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))) + "/" + c.Database
}

package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/metrics"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// backend is the database flexd serve keeps its state in: the embedded
// SQLite file of --data-dir, or a PostgreSQL database that several flexd
// replicas share (--postgres-url, postgres.go). serve is written once
// against it; what differs between the two is decided here.
type backend struct {
	store *sqlstore.Store
	// locked reports that this process makes every write to the store
	// (SQLite, with its data directory locked). Only then may what it
	// reads be cached and what it counts be kept in memory; on PostgreSQL
	// the other replicas write too, so it is always false there.
	locked bool
	// startup holds the other replicas' start-ups back until release is
	// called, so that the default organization, the admin credentials and
	// River's schema are each made once however many replicas start at
	// the same moment.
	startup func(ctx context.Context) (release func(), err error)
	// startEngine runs the lifecycle engine's job queue on this database
	// and returns how to stop it.
	startEngine func(ctx context.Context, eng *jobs.Engine) (stop func(context.Context), err error)
	// ready is /readyz's check: every connection pool flexd needs answers,
	// and the store takes writes.
	ready func(ctx context.Context) error
	// where names the store in the "flexd listening" log line.
	where slog.Attr
	// watch adds the backend's own pools to the metrics; nil for none.
	watch func(*metrics.Metrics)
	close func()
}

// observe hands m (nil when metrics are off) to watch.
func (b *backend) observe(m *metrics.Metrics) {
	if m != nil && b.watch != nil {
		b.watch(m)
	}
}

// openBackend opens the store serve was told to use.
func openBackend(ctx context.Context, c *config, log *slog.Logger) (*backend, error) {
	if c.postgresURL != "" {
		return openPostgres(ctx, c, log)
	}
	return openSQLite(ctx, c, log)
}

// openSQLite opens the embedded store of the data directory, locked to
// this process while the read cache is on (see lockDataDir).
func openSQLite(ctx context.Context, c *config, log *slog.Logger) (*backend, error) {
	dbPath := filepath.Join(c.dataDir, SQLiteFile)
	if err := secureDir(c.dataDir, log); err != nil {
		return nil, err
	}
	if err := createPrivate(dbPath); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	locked, unlock, err := lockDataDir(c.obs.readCache, dbPath, log)
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &backend{
		store:  store,
		locked: locked,
		// SQLite's own write lock already orders what start-up writes.
		startup: func(context.Context) (func(), error) { return func() {}, nil },
		startEngine: func(ctx context.Context, eng *jobs.Engine) (func(context.Context), error) {
			return startEngine(ctx, eng, dbPath, log)
		},
		ready: store.Ready,
		where: slog.String("data_dir", c.dataDir),
		close: func() {
			if err := store.Close(); err != nil {
				log.Error("closing store", "err", err)
			}
			unlock()
		},
	}, nil
}

// SQLiteFile is the embedded store's file in the data directory.
const SQLiteFile = "flexd.db"

// MigrateSQLite creates the embedded store of the data directory dir with
// every migration applied, flexd's and the job queue's, and closes it:
// what a first `flexd serve --data-dir dir` does before it writes anything
// of its own (no organization, no credential, no secret key). flexdtest
// migrates one such file per process and copies it into each test's data
// directory instead of migrating each.
func MigrateSQLite(ctx context.Context, dir string) error {
	dbPath := filepath.Join(dir, SQLiteFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := createPrivate(dbPath); err != nil {
		return err
	}
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	qdb, err := sqlite.OpenQueueDB(dbPath)
	if err == nil {
		err = jobs.MigrateRiver(ctx, sqlite.QueueDriver(qdb))
		err = errors.Join(err, qdb.Close())
	}
	return errors.Join(err, store.Close())
}

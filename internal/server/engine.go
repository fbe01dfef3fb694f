package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/metrics"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// lifecycleConfig holds the lifecycle engine's knobs.
type lifecycleConfig struct {
	clock             string
	snapshotInterval  time.Duration
	snapshotRetention int
	provisionTime     time.Duration
	deleteTime        time.Duration
	restoreTime       time.Duration
	downloadTTL       time.Duration
	dataJobTimeout    time.Duration
}

func (lc *lifecycleConfig) register(ef *envFlags) {
	ef.string(&lc.clock, "clock", "FLEXD_CLOCK", "real", "lifecycle clock: real, or manual (moves only by POST /_flexd/clock:advance)")
	ef.duration(&lc.snapshotInterval, "snapshot-interval", "FLEXD_SNAPSHOT_INTERVAL", 24*time.Hour, "time between scheduled snapshots (0: none)")
	ef.int(&lc.snapshotRetention, "snapshot-retention", "FLEXD_SNAPSHOT_RETENTION", 8, "completed snapshots kept per cluster")
	ef.duration(&lc.provisionTime, "provision-time", "FLEXD_PROVISION_TIME", 5*time.Second, "time a new cluster stays CREATING")
	ef.duration(&lc.deleteTime, "delete-time", "FLEXD_DELETE_TIME", 0, "time a deleted cluster stays DELETING before it is gone")
	ef.duration(&lc.restoreTime, "restore-time", "FLEXD_RESTORE_TIME", 5*time.Second, "least time a restore stays RUNNING")
	ef.duration(&lc.downloadTTL, "download-ttl", "FLEXD_DOWNLOAD_TTL", 4*time.Hour, "how long a snapshot download link works")
	ef.duration(&lc.dataJobTimeout, "data-job-timeout", "FLEXD_DATA_JOB_TIMEOUT", jobs.DefaultDataTimeout,
		"how long one run of a snapshot or restore (a copy of a cluster's data) may take before it is cancelled and retried")
}

func (lc *lifecycleConfig) validate() error {
	if lc.clock != "real" && lc.clock != "manual" {
		return fmt.Errorf("%w: --clock must be real or manual, not %q", errUsage, lc.clock)
	}
	if lc.snapshotRetention < 1 {
		return fmt.Errorf("%w: --snapshot-retention must be at least 1", errUsage)
	}
	if lc.dataJobTimeout < time.Second {
		return fmt.Errorf("%w: --data-job-timeout must be at least 1s", errUsage)
	}
	for name, d := range map[string]time.Duration{"snapshot-interval": lc.snapshotInterval,
		"provision-time": lc.provisionTime, "delete-time": lc.deleteTime, "restore-time": lc.restoreTime, "download-ttl": lc.downloadTTL} {
		if d < 0 {
			return fmt.Errorf("%w: --%s must not be negative", errUsage, name)
		}
	}
	return nil
}

// newClock is flexd's one clock: the service and the engine share it.
func (lc *lifecycleConfig) newClock() flexd.Clock {
	if lc.clock == "manual" {
		return jobs.NewManualClock(time.Now())
	}
	return flexd.SystemClock{}
}

// engine builds the lifecycle engine; m (nil when metrics are off) counts
// and times its jobs.
func (lc *lifecycleConfig) engine(store *sqlstore.Store, clock flexd.Clock, log *slog.Logger, m *metrics.Metrics, artifacts jobs.Artifacts) *jobs.Engine {
	return jobs.New(store, clock, jobs.Config{
		SnapshotInterval:  lc.snapshotInterval,
		SnapshotRetention: lc.snapshotRetention,
		ProvisionTime:     lc.provisionTime,
		DeleteTime:        lc.deleteTime,
		RestoreTime:       lc.restoreTime,
		DataTimeout:       lc.dataJobTimeout,
		Logger:            log,
		Instrument:        jobMetrics(m),
		Artifacts:         artifacts,
	})
}

// startEngine runs the engine's job queue on River over its own
// one-connection pool on the store's SQLite file, and returns how to stop
// it.
func startEngine(ctx context.Context, eng *jobs.Engine, dbPath string, log *slog.Logger) (func(context.Context), error) {
	db, err := sqlite.OpenQueueDB(dbPath)
	if err != nil {
		return nil, err
	}
	if err := jobs.StartOn(ctx, eng, sqlite.QueueDriver(db)); err != nil {
		_ = db.Close()
		return nil, err
	}
	return func(ctx context.Context) {
		if err := eng.Stop(ctx); err != nil {
			log.Error("stopping lifecycle engine", "err", err)
		}
		_ = db.Close()
	}, nil
}

package server

import (
	"context"
	"log/slog"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/seed"
	"github.com/flexd/flexd/service"
)

// seedConfig is --seed: a seed file, read and checked with the flags so
// that a bad file stops flexd before it opens its store.
type seedConfig struct {
	path string
	file *seed.File
}

func (sc *seedConfig) register(ef *envFlags) {
	ef.string(&sc.path, "seed", "FLEXD_SEED", "",
		"YAML file of organizations, projects, API keys, service accounts, clusters and snapshots to create at start, idempotently (see README)")
}

func (sc *seedConfig) load() error {
	if sc.path == "" {
		return nil
	}
	f, err := seed.Load(sc.path)
	sc.file = f
	return err
}

// apply applies the seed file, if any, through the service's store and
// rules and the lifecycle engine.
func (sc *seedConfig) apply(ctx context.Context, store flexd.Store, svc *service.Service, eng *jobs.Engine, clock flexd.Clock, secretCost int, log *slog.Logger) error {
	if sc.file == nil {
		return nil
	}
	res, err := seed.Apply(ctx, sc.file, seed.Config{Store: store, Factory: svc, Lifecycle: eng, Clock: clock, SecretCost: secretCost})
	if err != nil {
		return err
	}
	log.Info("seed applied", "file", sc.path, "created", res.Created, "updated", res.Updated)
	return nil
}

package service

import (
	"context"

	"github.com/flexd/flexd"
)

// Engine carries out the work that Atlas does in the background. The service
// stores each item in its first state (a cluster CREATING or DELETING, a
// snapshot QUEUED, a restore job PENDING) and hands it over in the same unit
// of work: the engine arms its first step in tx, so the item and the work
// that moves it to its final state commit together or not at all.
// jobs.Engine implements it, queued (flexd serve) or synchronous
// (jobs.NewSync, for tests and tools).
type Engine interface {
	Provision(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error
	// Update settles a cluster that a PATCH left UPDATING.
	Update(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error
	Delete(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error
	Snapshot(ctx context.Context, tx flexd.Tx, s *flexd.Snapshot) error
	Restore(ctx context.Context, tx flexd.Tx, j *flexd.RestoreJob) error
}

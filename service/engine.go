package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

// Engine carries out the work that Atlas does in the background. The service
// stores each item in its first state (a cluster CREATING or DELETING, a
// snapshot QUEUED, a restore job PENDING) and then hands it over; the engine
// moves it to its final state.
type Engine interface {
	Provision(ctx context.Context, c *flexd.FlexCluster) error
	// Update settles a cluster that a PATCH left UPDATING.
	Update(ctx context.Context, c *flexd.FlexCluster) error
	Delete(ctx context.Context, c *flexd.FlexCluster) error
	Snapshot(ctx context.Context, s *flexd.Snapshot) error
	Restore(ctx context.Context, j *flexd.RestoreJob) error
}

// Inline is the Engine that does every piece of work before returning: a
// cluster is IDLE as soon as it is created, a snapshot completes at once, a
// restore finishes at once. It suits tests and setups that want no timing.
type Inline struct {
	store flexd.Store
	clock flexd.Clock
	// Retention is how long a completed snapshot is kept (Atlas: 8 daily
	// snapshots).
	Retention time.Duration
}

// NewInline returns an Inline engine over store.
func NewInline(store flexd.Store, clock flexd.Clock) *Inline {
	return &Inline{store: store, clock: clock, Retention: 8 * 24 * time.Hour}
}

// Provision makes the cluster IDLE.
func (e *Inline) Provision(ctx context.Context, c *flexd.FlexCluster) error {
	c.StateName = flexd.ClusterIdle
	return e.store.UpdateFlexCluster(ctx, c)
}

// Update makes the cluster IDLE again.
func (e *Inline) Update(ctx context.Context, c *flexd.FlexCluster) error {
	c.StateName = flexd.ClusterIdle
	return e.store.UpdateFlexCluster(ctx, c)
}

// Delete removes the cluster with its snapshots and jobs.
func (e *Inline) Delete(ctx context.Context, c *flexd.FlexCluster) error {
	return e.store.DeleteFlexCluster(ctx, c.ID)
}

// Snapshot captures the cluster's configuration and completes the snapshot.
func (e *Inline) Snapshot(ctx context.Context, s *flexd.Snapshot) error {
	c, err := e.store.GetFlexClusterByID(ctx, s.ClusterID)
	if err != nil {
		return fmt.Errorf("snapshot source cluster: %w", err)
	}
	artifact, err := json.Marshal(struct {
		Name, Provider, Region, Version string
		Tags                            []flexd.Tag
	}{c.Name, c.BackingProviderName, c.RegionName, c.MongoDBVersion, c.Tags})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(artifact)
	now := e.clock.Now()
	s.Status = flexd.StatusCompleted
	s.StartTime, s.FinishTime = now, now
	s.Expiration = now.Add(e.Retention)
	s.MongoDBVersion = c.MongoDBVersion
	s.ArtifactSize = int64(len(artifact))
	s.ArtifactChecksum = hex.EncodeToString(sum[:])
	return e.store.UpdateSnapshot(ctx, s)
}

// Restore completes the job.
func (e *Inline) Restore(ctx context.Context, j *flexd.RestoreJob) error {
	j.Status = flexd.StatusCompleted
	j.RestoreFinishedDate = e.clock.Now()
	return e.store.UpdateRestoreJob(ctx, j)
}

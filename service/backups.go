package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/flexd/flexd"
)

// ListSnapshots lists a cluster's snapshots, newest first.
func (s *Service) ListSnapshots(ctx context.Context, c *flexd.FlexCluster, p flexd.Page) ([]flexd.Snapshot, int, error) {
	return listOfCluster(ctx, c, p, "list snapshots", s.store.ListSnapshots)
}

// listOfCluster lists what a cluster owns (snapshots, restore jobs) with one
// page from list.
func listOfCluster[T any](ctx context.Context, c *flexd.FlexCluster, p flexd.Page, op string,
	list func(ctx context.Context, clusterID string, p flexd.Page) ([]T, int, error)) ([]T, int, error) {
	items, total, err := list(ctx, c.ID, p)
	if err != nil {
		return nil, 0, internal(op, err)
	}
	return items, total, nil
}

// GetSnapshot returns one of a cluster's snapshots or SNAPSHOT_NOT_FOUND.
func (s *Service) GetSnapshot(ctx context.Context, c *flexd.FlexCluster, snapshotID string) (*flexd.Snapshot, error) {
	return s.snapshot(ctx, c, snapshotID)
}

func (s *Service) snapshot(ctx context.Context, c *flexd.FlexCluster, snapshotID string) (*flexd.Snapshot, error) {
	if !flexd.ValidID(snapshotID) {
		return nil, flexd.SnapshotNotFound(snapshotID, c.Name)
	}
	snap, err := s.store.GetSnapshot(ctx, c.ID, snapshotID)
	if isNotFound(err) {
		return nil, flexd.SnapshotNotFound(snapshotID, c.Name)
	}
	if err != nil {
		return nil, internal("get snapshot", err)
	}
	return snap, nil
}

// TakeSnapshot queues a snapshot of the cluster now and hands it to the engine.
func (s *Service) TakeSnapshot(ctx context.Context, groupID, name string) (*flexd.Snapshot, error) {
	var queued flexd.Snapshot
	err := s.clusterInTx(ctx, groupID, name, func(tx flexd.Tx, c *flexd.FlexCluster) error {
		switch c.StateName {
		case flexd.ClusterDeleting:
			return flexd.ClusterAlreadyRequestedDeletion(name)
		case flexd.ClusterCreating:
			// Nothing to capture yet; Atlas takes a Flex cluster's first
			// snapshot a day after it is created.
			return flexd.CannotTakeSnapshotOfCreatingCluster(name)
		}
		now := s.clock.Now()
		snap := &flexd.Snapshot{
			ID:             flexd.NewID(now),
			GroupID:        groupID,
			ClusterID:      c.ID,
			ClusterName:    c.Name,
			Status:         flexd.StatusQueued,
			MongoDBVersion: c.MongoDBVersion,
			ScheduledTime:  now,
		}
		if err := tx.CreateSnapshot(ctx, snap); err != nil {
			return err
		}
		queued = *snap
		return s.engine.Snapshot(ctx, tx, snap)
	})
	if err != nil {
		return nil, err
	}
	return &queued, nil
}

// ListRestoreJobs lists the restore and download jobs of a cluster, newest
// first.
func (s *Service) ListRestoreJobs(ctx context.Context, c *flexd.FlexCluster, p flexd.Page) ([]flexd.RestoreJob, int, error) {
	return listOfCluster(ctx, c, p, "list restore jobs", s.store.ListRestoreJobs)
}

// GetRestoreJob returns one of a cluster's jobs or RESTORE_JOB_NOT_FOUND.
func (s *Service) GetRestoreJob(ctx context.Context, c *flexd.FlexCluster, jobID string) (*flexd.RestoreJob, error) {
	if !flexd.ValidID(jobID) {
		return nil, flexd.RestoreJobNotFound(jobID, c.Name)
	}
	j, err := s.store.GetRestoreJob(ctx, c.ID, jobID)
	if isNotFound(err) {
		return nil, flexd.RestoreJobNotFound(jobID, c.Name)
	}
	if err != nil {
		return nil, internal("get restore job", err)
	}
	return j, nil
}

// CreateRestoreJob restores a completed snapshot of the cluster into a Flex
// cluster of the same or another project the caller owns.
func (s *Service) CreateRestoreJob(ctx context.Context, groupID, name string, c flexd.RestoreJobCreate) (*flexd.RestoreJob, error) {
	src, err := s.clusterIn(ctx, groupID, name)
	if err != nil {
		return nil, err
	}
	snap, err := s.snapshot(ctx, src, c.SnapshotID)
	if err != nil {
		return nil, err
	}
	if snap.Status != flexd.StatusCompleted {
		return nil, flexd.CannotStartRestoreJobForIncompleteClusterSnapshot()
	}
	targetGroup := c.TargetProjectID
	if targetGroup == "" {
		targetGroup = groupID
	}
	if err := s.checkTargetAccess(ctx, targetGroup); err != nil {
		return nil, err
	}
	if !ValidClusterName(c.TargetDeploymentItemName) {
		return nil, flexd.ClusterNotFound(c.TargetDeploymentItemName, targetGroup)
	}
	var pending flexd.RestoreJob
	// The source is held before the target, the order every unit of work
	// takes clusters in. A target that is not IDLE is fine: the job waits
	// QUEUED until it is.
	err = s.clusterInTx(ctx, groupID, name, func(tx flexd.Tx, src *flexd.FlexCluster) error {
		target, err := tx.GetFlexCluster(ctx, targetGroup, c.TargetDeploymentItemName)
		if isNotFound(err) {
			return flexd.ClusterNotFound(c.TargetDeploymentItemName, targetGroup)
		}
		if err != nil {
			return err
		}
		if target.StateName == flexd.ClusterDeleting {
			return flexd.ClusterAlreadyRequestedDeletion(target.Name)
		}
		snap, err := heldSnapshot(ctx, tx, src, snap.ID)
		if err != nil {
			return err
		}
		j := newRestoreJob(s.clock.Now(), src, snap, target)
		if err := tx.CreateRestoreJob(ctx, j); err != nil {
			return err
		}
		pending = *j
		return s.engine.Restore(ctx, tx, j)
	})
	if err != nil {
		return nil, err
	}
	return &pending, nil
}

func newRestoreJob(now time.Time, src *flexd.FlexCluster, snap *flexd.Snapshot, target *flexd.FlexCluster) *flexd.RestoreJob {
	return &flexd.RestoreJob{
		ID:                       flexd.NewID(now),
		ProjectID:                src.GroupID,
		ClusterID:                src.ID,
		InstanceName:             src.Name,
		SnapshotID:               snap.ID,
		DeliveryType:             flexd.DeliveryRestore,
		Status:                   flexd.StatusPending,
		TargetProjectID:          target.GroupID,
		TargetDeploymentItemName: target.Name,
		RestoreScheduledDate:     now,
		SnapshotFinishedDate:     snap.FinishTime,
	}
}

// checkTargetAccess makes sure the caller may restore into targetGroup: the
// route checked the source project only.
func (s *Service) checkTargetAccess(ctx context.Context, targetGroup string) error {
	if !flexd.ValidID(targetGroup) {
		return flexd.InvalidAttribute("targetProjectId")
	}
	p, err := s.GetProject(ctx, targetGroup)
	if err != nil {
		return err
	}
	caller := flexd.PrincipalFrom(ctx)
	if caller == nil {
		return nil
	}
	if !caller.InGroup(p.OrgID, p.ID) {
		return flexd.NotInGroup()
	}
	if !caller.HasGroupRole(p.OrgID, p.ID, flexd.RoleGroupOwner) {
		return flexd.UserUnauthorized()
	}
	return nil
}

// CreateDownload prepares a download of a completed snapshot: a DOWNLOAD job
// whose link works at once and until it expires.
func (s *Service) CreateDownload(ctx context.Context, groupID, name, snapshotID string) (*flexd.RestoreJob, error) {
	src, err := s.clusterIn(ctx, groupID, name)
	if err != nil {
		return nil, err
	}
	snap, err := s.snapshot(ctx, src, snapshotID)
	if err != nil {
		return nil, err
	}
	if snap.Status != flexd.StatusCompleted {
		return nil, flexd.CannotDownloadIncompleteSnapshot()
	}
	var j *flexd.RestoreJob
	err = s.clusterInTx(ctx, groupID, name, func(tx flexd.Tx, src *flexd.FlexCluster) error {
		snap, err := heldSnapshot(ctx, tx, src, snap.ID)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		j = &flexd.RestoreJob{
			ID:                   flexd.NewID(now),
			ProjectID:            groupID,
			ClusterID:            src.ID,
			InstanceName:         src.Name,
			SnapshotID:           snap.ID,
			DeliveryType:         flexd.DeliveryDownload,
			Status:               flexd.StatusCompleted,
			DownloadToken:        newToken(),
			ExpirationDate:       now.Add(s.cfg.DownloadTTL),
			RestoreScheduledDate: now,
			RestoreFinishedDate:  now,
			SnapshotFinishedDate: snap.FinishTime,
		}
		return tx.CreateRestoreJob(ctx, j)
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// heldSnapshot reads a completed snapshot of src again inside the unit of
// work that holds src: retention (which holds the cluster too) may have
// dropped it since the request's first look.
func heldSnapshot(ctx context.Context, tx flexd.Tx, src *flexd.FlexCluster, id string) (*flexd.Snapshot, error) {
	snap, err := tx.GetSnapshotByID(ctx, id)
	if isNotFound(err) || (err == nil && snap.ClusterID != src.ID) {
		return nil, flexd.SnapshotNotFound(id, src.Name)
	}
	return snap, err
}

// newToken returns 32 random bytes, URL-safe: the unguessable part of a
// download link.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

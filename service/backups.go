package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"

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
		return nil, flexd.Errorf("SNAPSHOT_NOT_FOUND", snapshotID, c.Name)
	}
	snap, err := s.store.GetSnapshot(ctx, c.ID, snapshotID)
	if isNotFound(err) {
		return nil, flexd.Errorf("SNAPSHOT_NOT_FOUND", snapshotID, c.Name)
	}
	if err != nil {
		return nil, internal("get snapshot", err)
	}
	return snap, nil
}

// TakeSnapshot queues a snapshot of the cluster now and hands it to the engine.
func (s *Service) TakeSnapshot(ctx context.Context, groupID, name string) (*flexd.Snapshot, error) {
	c, err := s.clusterIn(ctx, groupID, name)
	if err != nil {
		return nil, err
	}
	if c.StateName == flexd.ClusterDeleting {
		return nil, flexd.Errorf("CLUSTER_ALREADY_REQUESTED_DELETION", name)
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
	if err := s.store.CreateSnapshot(ctx, snap); err != nil {
		return nil, internal("create snapshot", err)
	}
	queued := *snap
	if err := s.engine.Snapshot(ctx, snap); err != nil {
		return nil, internal("take snapshot", err)
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
		return nil, flexd.Errorf("RESTORE_JOB_NOT_FOUND", jobID, c.Name)
	}
	j, err := s.store.GetRestoreJob(ctx, c.ID, jobID)
	if isNotFound(err) {
		return nil, flexd.Errorf("RESTORE_JOB_NOT_FOUND", jobID, c.Name)
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
		return nil, flexd.Errorf("CANNOT_START_RESTORE_JOB_FOR_INCOMPLETE_CLUSTER_SNAPSHOT")
	}
	targetGroup := c.TargetProjectID
	if targetGroup == "" {
		targetGroup = groupID
	}
	if err := s.checkTargetAccess(ctx, targetGroup); err != nil {
		return nil, err
	}
	target, err := s.clusterIn(ctx, targetGroup, c.TargetDeploymentItemName)
	if err != nil {
		return nil, err
	}
	if target.StateName == flexd.ClusterDeleting {
		return nil, flexd.Errorf("CLUSTER_ALREADY_REQUESTED_DELETION", target.Name)
	}
	now := s.clock.Now()
	j := &flexd.RestoreJob{
		ID:                       flexd.NewID(now),
		ProjectID:                groupID,
		ClusterID:                src.ID,
		InstanceName:             src.Name,
		SnapshotID:               snap.ID,
		DeliveryType:             flexd.DeliveryRestore,
		Status:                   flexd.StatusPending,
		TargetProjectID:          targetGroup,
		TargetDeploymentItemName: target.Name,
		RestoreScheduledDate:     now,
		SnapshotFinishedDate:     snap.FinishTime,
	}
	if err := s.store.CreateRestoreJob(ctx, j); err != nil {
		return nil, internal("create restore job", err)
	}
	pending := *j
	if err := s.engine.Restore(ctx, j); err != nil {
		return nil, internal("start restore job", err)
	}
	return &pending, nil
}

// checkTargetAccess makes sure the caller may restore into targetGroup: the
// route checked the source project only.
func (s *Service) checkTargetAccess(ctx context.Context, targetGroup string) error {
	if !flexd.ValidID(targetGroup) {
		return flexd.Errorf("INVALID_ATTRIBUTE", "targetProjectId")
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
		return flexd.Errorf("NOT_IN_GROUP")
	}
	if !caller.HasGroupRole(p.OrgID, p.ID, flexd.RoleGroupOwner) {
		return flexd.Errorf("USER_UNAUTHORIZED")
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
		return nil, flexd.Errorf("CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT")
	}
	now := s.clock.Now()
	j := &flexd.RestoreJob{
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
	if err := s.store.CreateRestoreJob(ctx, j); err != nil {
		return nil, internal("create download", err)
	}
	return j, nil
}

// newToken returns 32 random bytes, URL-safe: the unguessable part of a
// download link.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

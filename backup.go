package flexd

import (
	"context"
	"time"
)

// JobStatus is the status of a snapshot or a restore job.
type JobStatus string

// Snapshot and restore job statuses, as Atlas names them.
const (
	StatusPending   JobStatus = "PENDING"
	StatusQueued    JobStatus = "QUEUED"
	StatusRunning   JobStatus = "RUNNING"
	StatusFailed    JobStatus = "FAILED"
	StatusCompleted JobStatus = "COMPLETED"
)

// Done reports whether s is final.
func (s JobStatus) Done() bool { return s == StatusCompleted || s == StatusFailed }

// Snapshot is a backup snapshot of a Flex cluster.
type Snapshot struct {
	ID             string
	GroupID        string
	ClusterID      string
	ClusterName    string
	Status         JobStatus
	MongoDBVersion string
	ScheduledTime  time.Time
	StartTime      time.Time // zero until it runs
	FinishTime     time.Time // zero until it ends
	Expiration     time.Time // zero until it completes
	FailureReason  string
	// Artifact describes what the snapshot captured, once completed.
	ArtifactSize     int64
	ArtifactChecksum string
}

// DeliveryType says whether a restore job restores into a cluster or
// prepares a download.
type DeliveryType string

// Delivery types.
const (
	DeliveryRestore  DeliveryType = "RESTORE"
	DeliveryDownload DeliveryType = "DOWNLOAD"
)

// RestoreJob is a restore or download job of a Flex cluster's snapshot. It is
// listed under its source cluster.
type RestoreJob struct {
	ID           string
	ProjectID    string // the source cluster's project
	ClusterID    string // the source cluster
	InstanceName string // the source cluster's name
	SnapshotID   string
	DeliveryType DeliveryType
	Status       JobStatus

	TargetProjectID          string
	TargetDeploymentItemName string

	// DownloadToken is the unguessable part of a DOWNLOAD job's snapshotUrl;
	// the transport builds the URL from its own address.
	DownloadToken  string
	ExpirationDate time.Time // DOWNLOAD only: when the snapshotUrl stops working

	RestoreScheduledDate time.Time
	SnapshotFinishedDate time.Time
	RestoreFinishedDate  time.Time // zero until it ends
	FailureReason        string
}

// RestoreExpiry is how long after its restoreScheduledDate a RESTORE job's
// expirationDate falls: about 6 hours in every real Atlas answer.
const RestoreExpiry = 6 * time.Hour

// Expires is the job's expirationDate, which Atlas always shows: a
// download's link expiry, or RestoreExpiry after a restore was scheduled.
func (j *RestoreJob) Expires() time.Time {
	if j.DeliveryType == DeliveryDownload || !j.ExpirationDate.IsZero() || j.RestoreScheduledDate.IsZero() {
		return j.ExpirationDate
	}
	return j.RestoreScheduledDate.Add(RestoreExpiry)
}

// RestoreJobCreate is a request to restore a snapshot into a cluster.
type RestoreJobCreate struct {
	SnapshotID               string
	TargetDeploymentItemName string
	TargetProjectID          string // empty: the source project
}

// BackupService manages a Flex cluster's snapshots, restore jobs and
// downloads. The reads take the cluster as FlexClusterService returned it,
// so a request reads each row once.
type BackupService interface {
	ListSnapshots(ctx context.Context, cluster *FlexCluster, p Page) ([]Snapshot, int, error)
	GetSnapshot(ctx context.Context, cluster *FlexCluster, snapshotID string) (*Snapshot, error)
	// TakeSnapshot takes a snapshot now (flexd's drill endpoint; Atlas has
	// no on-demand Flex snapshots).
	TakeSnapshot(ctx context.Context, groupID, name string) (*Snapshot, error)

	ListRestoreJobs(ctx context.Context, cluster *FlexCluster, p Page) ([]RestoreJob, int, error)
	GetRestoreJob(ctx context.Context, cluster *FlexCluster, jobID string) (*RestoreJob, error)
	CreateRestoreJob(ctx context.Context, groupID, name string, c RestoreJobCreate) (*RestoreJob, error)
	CreateDownload(ctx context.Context, groupID, name, snapshotID string) (*RestoreJob, error)
}

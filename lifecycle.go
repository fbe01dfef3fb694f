package flexd

import (
	"context"
	"time"
)

// TimerKind names what a lifecycle timer drives. Each timer is keyed on the
// entity it moves along, so an entity has at most one timer of each kind.
type TimerKind string

// Timer kinds.
const (
	// TimerCluster moves a cluster out of CREATING, UPDATING or DELETING.
	TimerCluster TimerKind = "cluster"
	// TimerSchedule takes a cluster's next scheduled snapshot.
	TimerSchedule TimerKind = "schedule"
	// TimerSnapshot runs a QUEUED or RUNNING snapshot.
	TimerSnapshot TimerKind = "snapshot"
	// TimerRestore moves a restore job along: queue it, start it, end it.
	TimerRestore TimerKind = "restore"
)

// Timer is a piece of lifecycle work due at a time of flexd's clock. Due
// times live in the store, not in the job queue, because the queue keeps its
// own wall-clock time and cannot follow a manual clock.
type Timer struct {
	Kind     TimerKind
	EntityID string
	DueAt    time.Time
	// Seq is set by the store on every SetTimer, and grows: it tells one
	// arming of a timer from the next, so the job queue can refuse a
	// second job for the same arming yet accept one for a re-armed timer.
	Seq int64
}

// FaultOperation is what an injected fault makes fail.
type FaultOperation string

// Fault operations.
const (
	FaultRestore  FaultOperation = "restore"
	FaultSnapshot FaultOperation = "snapshot"
)

// Fault makes the next Count restores into (or snapshots of) a cluster fail
// with Reason, so users can rehearse failure handling.
type Fault struct {
	ClusterID string
	Operation FaultOperation
	Count     int
	Reason    string
}

// Artifact is what a snapshot captured of its cluster, kept until the
// snapshot is deleted.
type Artifact struct {
	SnapshotID string
	Format     string // how Content is encoded, e.g. "flexd.cluster-config.v1+json"
	Content    []byte
	Checksum   string // hex SHA-256 of Content
}

// LifecycleStore is the storage the lifecycle engine needs beyond Store:
// timers, faults, artifacts and the few multi-row changes that must be
// atomic for crash safety. storetest checks it like Store.
type LifecycleStore interface {
	// GetSnapshotByID and GetRestoreJobByID read what a timer names.
	GetSnapshotByID(ctx context.Context, id string) (*Snapshot, error)
	GetRestoreJobByID(ctx context.Context, id string) (*RestoreJob, error)
	// SetClusterState moves a cluster from state from to state to, and only
	// from it; ok is false when the cluster was in another state.
	SetClusterState(ctx context.Context, id string, from, to ClusterState) (ok bool, err error)

	// SetTimer creates or moves the timer (Kind, EntityID).
	SetTimer(ctx context.Context, t Timer) error
	DeleteTimer(ctx context.Context, kind TimerKind, entityID string) error
	// DueTimers lists up to limit timers due at or before now, earliest first.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// NextTimer returns the earliest timer, or ErrNotFound when none is set.
	NextTimer(ctx context.Context) (*Timer, error)

	// AddFault adds f.Count to the cluster's pending faults of f.Operation,
	// replacing the reason.
	AddFault(ctx context.Context, f Fault) error
	// TakeFault consumes one pending fault, returning its reason; ok is
	// false when none is pending.
	TakeFault(ctx context.Context, clusterID string, op FaultOperation) (reason string, ok bool, err error)

	// CompleteSnapshot stores the artifact and the snapshot's final state in
	// one transaction, so a completed snapshot always has its artifact.
	CompleteSnapshot(ctx context.Context, s *Snapshot, a *Artifact) error
	GetArtifact(ctx context.Context, snapshotID string) (*Artifact, error)
	// PruneSnapshots deletes the cluster's completed snapshots beyond the
	// newest keep, except those an unfinished restore job or an unexpired
	// download link still needs, and their artifacts. It returns the ids
	// deleted.
	PruneSnapshots(ctx context.Context, clusterID string, keep int, now time.Time) ([]string, error)

	// StartNextRestore starts the oldest QUEUED restore into the target
	// cluster unless one is RUNNING: the job goes RUNNING, the cluster
	// UPDATING, and the job's timer is set to finishAt, all at once. It
	// returns the started job, or nil when none was started.
	StartNextRestore(ctx context.Context, targetProjectID, targetName string, finishAt time.Time) (*RestoreJob, error)
	// RestoreApplied tells whether the job's artifact was written to its
	// target already.
	RestoreApplied(ctx context.Context, jobID string) (bool, error)
	// FinishRestore records that j's artifact was applied to target (whose
	// mutable fields it writes) and stores j's final state, in one
	// transaction; recording the same job twice fails with ErrConflict, so
	// no restore is applied twice; a target DELETING meanwhile fails it
	// with ErrNotFound. A nil target records no application.
	FinishRestore(ctx context.Context, j *RestoreJob, target *FlexCluster) error
	// RestoresInto lists the unfinished restore jobs into a cluster, oldest
	// first.
	RestoresInto(ctx context.Context, targetProjectID, targetName string) ([]RestoreJob, error)

	// UnfinishedWork lists a timer for every cluster, snapshot and restore
	// job not in a final or stable state that has no timer, due at now:
	// what a crash left between a change and its timer.
	UnfinishedWork(ctx context.Context, now time.Time) ([]Timer, error)

	// Reset deletes the projects of the given organizations (all when nil)
	// with everything in them; organizations and credentials stay.
	Reset(ctx context.Context, orgIDs []string) error
}

// ClockState is what GET /_flexd/clock answers.
type ClockState struct {
	Now    time.Time
	Manual bool
}

// FaultRequest is the body of the fault injection drill.
type FaultRequest struct {
	Operation FaultOperation
	Count     int
	Reason    string
}

// DownloadArchive is a snapshot download, ready to send.
type DownloadArchive struct {
	FileName string
	Content  []byte
}

// LifecycleService is flexd's drill surface over the lifecycle engine.
type LifecycleService interface {
	Clock(ctx context.Context) (*ClockState, error)
	// AdvanceClock moves a manual clock forward by d, running everything
	// that comes due, in order, before it returns.
	AdvanceClock(ctx context.Context, d time.Duration) (*ClockState, error)
	InjectFault(ctx context.Context, groupID, name string, f FaultRequest) (*Fault, error)
	// Reset deletes the projects the caller's organization holds (every
	// project for an unrestricted caller) with their clusters, snapshots
	// and jobs.
	Reset(ctx context.Context) error
	// Download returns the archive behind a download token, or fails with
	// RESOURCE_NOT_FOUND (unknown) or DOWNLOAD_EXPIRED.
	Download(ctx context.Context, token string) (*DownloadArchive, error)
}

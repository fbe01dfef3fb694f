package flexd

import (
	"context"
	"io"
	"time"
)

// TimerKind names what a lifecycle timer drives. Each timer is keyed on the
// entity it moves along, so an entity has at most one timer of each kind.
type TimerKind string

// Timer kinds: one per operation, each a job kind of its own with its own
// timeout and retry policy (jobs/queue.go).
const (
	// TimerCluster provisions a cluster (CREATING to IDLE) or settles a
	// PATCH (UPDATING to IDLE).
	TimerCluster TimerKind = "cluster"
	// TimerDelete removes a DELETING cluster with what it holds.
	TimerDelete TimerKind = "delete"
	// TimerSchedule takes a cluster's next scheduled snapshot.
	TimerSchedule TimerKind = "schedule"
	// TimerSnapshot runs a QUEUED or RUNNING snapshot.
	TimerSnapshot TimerKind = "snapshot"
	// TimerRestore moves a restore job along: queue it, start it, apply
	// it, end it.
	TimerRestore TimerKind = "restore"
	// TimerPrune applies snapshot retention to a cluster.
	TimerPrune TimerKind = "prune"
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
	Format     string // how the artifact is encoded, e.g. "flexd.cluster-config.v1+json"
	// Content is a configuration-only artifact's bytes; empty when the
	// artifact is a blob (BlobKey).
	Content []byte
	// BlobKey names the artifact in the blob store (the data plane's
	// snapshots); Size is its length there.
	BlobKey  string
	Size     int64
	Checksum string // hex SHA-256 of Content or of the blob
}

// Tx is a unit of work: the reads and writes of one lifecycle step or one
// API change, with the timers that drive what comes next, committed together
// or not at all (Store.InTx). Rules (which restore runs next, when a
// cluster is IDLE) live in Go and use these plain reads and writes.
//
// A cluster read in a Tx is held until it ends: another unit of work that
// reads the same cluster waits (a row lock on PostgreSQL; SQLite runs one
// writing transaction at a time). Units of work take clusters in one order,
// a restore's source before its target, so they do not wait on each other
// in a circle. The state writes are conditional too: each names the state
// it was computed from and fails with ErrConflict when the row has moved
// on, so a stale write can never land.
type Tx interface {
	GetFlexCluster(ctx context.Context, groupID, name string) (*FlexCluster, error)
	GetFlexClusterByID(ctx context.Context, id string) (*FlexCluster, error)
	CreateFlexCluster(ctx context.Context, c *FlexCluster) error
	// UpdateFlexCluster writes c's mutable fields (StateName, Tags,
	// TerminationProtectionEnabled, MongoDBVersion) if the cluster is still
	// in state from; ErrConflict otherwise.
	UpdateFlexCluster(ctx context.Context, c *FlexCluster, from ClusterState) error
	// DeleteFlexCluster removes the cluster with its snapshots, artifacts
	// and the jobs listed under it.
	DeleteFlexCluster(ctx context.Context, id string) error

	CreateSnapshot(ctx context.Context, s *Snapshot) error
	GetSnapshotByID(ctx context.Context, id string) (*Snapshot, error)
	// LatestSnapshot returns the cluster's newest snapshot, ErrNotFound when
	// it has none.
	LatestSnapshot(ctx context.Context, clusterID string) (*Snapshot, error)
	// UpdateSnapshot writes s if its status is still from; ErrConflict
	// otherwise.
	UpdateSnapshot(ctx context.Context, s *Snapshot, from JobStatus) error
	// PutArtifact stores (or replaces) a snapshot's artifact.
	PutArtifact(ctx context.Context, a *Artifact) error
	GetArtifact(ctx context.Context, snapshotID string) (*Artifact, error)
	// PrunableSnapshots lists the ids of the cluster's completed snapshots
	// beyond the newest keep that no unfinished restore job and no
	// unexpired download link uses.
	PrunableSnapshots(ctx context.Context, clusterID string, keep int, now time.Time) ([]string, error)
	// DeleteSnapshot deletes a snapshot and its artifact.
	DeleteSnapshot(ctx context.Context, id string) error

	CreateRestoreJob(ctx context.Context, j *RestoreJob) error
	GetRestoreJobByID(ctx context.Context, id string) (*RestoreJob, error)
	// UpdateRestoreJob writes j's status, dates and failure reason if its
	// status is still from; ErrConflict otherwise.
	UpdateRestoreJob(ctx context.Context, j *RestoreJob, from JobStatus) error
	// RestoresInto lists the unfinished restore jobs into a cluster,
	// oldest first.
	RestoresInto(ctx context.Context, targetProjectID, targetName string) ([]RestoreJob, error)
	// RestoresFrom lists the unfinished restore jobs listed under a
	// cluster (their source), oldest first.
	RestoresFrom(ctx context.Context, clusterID string) ([]RestoreJob, error)
	// RecordApplication records that a restore's artifact was written to
	// its target at a time; a second record for the job is ErrConflict.
	RecordApplication(ctx context.Context, jobID string, at time.Time) error
	// Application returns when the job's artifact was applied, and false
	// when it was not.
	Application(ctx context.Context, jobID string) (time.Time, bool, error)

	// SetTimer creates or moves the timer (Kind, EntityID), giving it a new
	// Seq.
	SetTimer(ctx context.Context, t Timer) error
	// DisarmTimer deletes the timer (t.Kind, t.EntityID) only while it is
	// still the arming t.Seq: a step disarms the arming it ran, never one
	// that another step set meanwhile. A zero Seq disarms any arming.
	DisarmTimer(ctx context.Context, t Timer) error
	// TakeFault consumes one pending fault, returning its reason; ok is
	// false when none is pending.
	TakeFault(ctx context.Context, clusterID string, op FaultOperation) (reason string, ok bool, err error)

	// GetClusterBackend returns the external deployment attached to the
	// cluster, its URI unsealed; ErrNotFound when the cluster has the
	// embedded backend.
	GetClusterBackend(ctx context.Context, clusterID string) (*ClusterBackend, error)
	// PutClusterBackend attaches b (or replaces what was attached); the
	// store seals its URI.
	PutClusterBackend(ctx context.Context, b *ClusterBackend) error
	// DeleteClusterBackend detaches the cluster's external deployment, if
	// any. The attachment also goes with its cluster.
	DeleteClusterBackend(ctx context.Context, clusterID string) error

	// OnCommit runs f once the unit of work has committed (never when it
	// rolls back): how a writer wakes whoever acts on what it wrote.
	OnCommit(f func())
}

// LifecycleStore is the storage the lifecycle engine needs beyond Store:
// timers, faults and artifacts outside a unit of work. storetest checks it
// like Store.
type LifecycleStore interface {
	// DueTimers lists up to limit timers due at or before now, earliest first.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// NextTimer returns the earliest timer, or ErrNotFound when none is set.
	NextTimer(ctx context.Context) (*Timer, error)

	// AddFault adds f.Count to the cluster's pending faults of f.Operation,
	// replacing the reason.
	AddFault(ctx context.Context, f Fault) error
	GetArtifact(ctx context.Context, snapshotID string) (*Artifact, error)

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
	// Body is the archive, served with Range support; the caller closes it.
	Body    io.ReadSeekCloser
	ModTime time.Time
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

// RestoreComparer compares a completed restore's snapshot with its
// target's data as it is now, per database and collection (see
// CollectionSum). The lifecycle engine is one when its artifacts hold
// data; the report endpoint then fills RestoreReport.Collections.
type RestoreComparer interface {
	// CompareRestore returns nil, nil when there is nothing to compare
	// (configuration-only artifacts, the target gone).
	CompareRestore(ctx context.Context, j *RestoreJob) ([]CollectionCheck, error)
}

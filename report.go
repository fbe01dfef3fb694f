package flexd

import (
	"cmp"
	"slices"
	"time"
)

// RestoreReport is what a restore drill measured: how long the restore took
// (RTO), how old the restored data was when the restore was asked for
// (RPO), and each status the job went through.
//
// It is one shape everywhere: flexd serves it for every restore job
// (GET /_flexd/…/restoreJobs/{id}/report) and `flexd drill --json` prints
// it, so a CI script reads both the same way. That is why, unlike the other
// domain types, it carries its JSON names.
type RestoreReport struct {
	RestoreJobID      string       `json:"restoreJobId"`
	DeliveryType      DeliveryType `json:"deliveryType"`
	ProjectID         string       `json:"projectId"`   // the source cluster's project
	ClusterName       string       `json:"clusterName"` // the source cluster
	TargetProjectID   string       `json:"targetProjectId,omitempty"`
	TargetClusterName string       `json:"targetClusterName,omitempty"`
	SnapshotID        string       `json:"snapshotId"`
	Status            JobStatus    `json:"status"`
	FailureReason     string       `json:"failureReason,omitempty"`

	SnapshotFinishedAt time.Time `json:"snapshotFinishedAt,omitzero"`
	RequestedAt        time.Time `json:"requestedAt,omitzero"`
	FinishedAt         time.Time `json:"finishedAt,omitzero"` // zero while the job runs

	// RTOSeconds is request → COMPLETED; absent unless the job completed.
	RTOSeconds *float64 `json:"rtoSeconds,omitempty"`
	// RPOSeconds is the snapshot's age when the restore was requested.
	RPOSeconds *float64 `json:"rpoSeconds,omitempty"`

	// StatusChanges are the statuses the job went through, oldest first,
	// each with the time it was seen. StatusChangesSource says how they
	// were known: StatusesRecorded (flexd's own record of the job: its
	// request and its end) or StatusesObserved (a drill polling the API,
	// so a time is when the poll saw the status, not when it changed).
	StatusChanges       []StatusChange `json:"statusChanges"`
	StatusChangesSource string         `json:"statusChangesSource"`

	// Collections compares, per database and collection, the snapshot with
	// the target after the restore (CollectionSum defines the checksum).
	// Absent when either side could not be read: nothing is made up.
	Collections []CollectionCheck `json:"collections,omitempty"`
}

// How a report's status changes were known.
const (
	StatusesRecorded = "recorded"
	StatusesObserved = "observed"
)

// StatusChange is a status a restore job reached, and when.
type StatusChange struct {
	Status JobStatus `json:"status"`
	At     time.Time `json:"at"`
}

// CollectionCheck is one collection of a restored snapshot, counted and
// checksummed (see CollectionSum) in the snapshot and in the target.
type CollectionCheck struct {
	Database          string `json:"database"`
	Collection        string `json:"collection"`
	SnapshotDocuments int64  `json:"snapshotDocuments"`
	TargetDocuments   int64  `json:"targetDocuments"`
	SnapshotChecksum  string `json:"snapshotChecksum"`
	TargetChecksum    string `json:"targetChecksum"`
	Match             bool   `json:"match"`
	// Missing names the side the collection is not in (MissingInSnapshot,
	// MissingInTarget); that side's count is then 0 and its checksum empty.
	Missing string `json:"missing,omitempty"`
}

// RTO is request → COMPLETED; ok is false unless the job completed.
func (r *RestoreReport) RTO() (d time.Duration, ok bool) { return seconds(r.RTOSeconds) }

// RPO is the snapshot's age when the restore was requested; ok is false
// when either time is unknown.
func (r *RestoreReport) RPO() (d time.Duration, ok bool) { return seconds(r.RPOSeconds) }

func seconds(s *float64) (time.Duration, bool) {
	if s == nil {
		return 0, false
	}
	return time.Duration(*s * float64(time.Second)), true
}

// Measure sets RTO and RPO from the report's times.
func (r *RestoreReport) Measure() {
	r.RTOSeconds, r.RPOSeconds = nil, nil
	if r.Status == StatusCompleted && !r.RequestedAt.IsZero() && !r.FinishedAt.IsZero() {
		r.RTOSeconds = secondsOf(r.FinishedAt.Sub(r.RequestedAt))
	}
	if !r.SnapshotFinishedAt.IsZero() && !r.RequestedAt.IsZero() {
		r.RPOSeconds = secondsOf(r.RequestedAt.Sub(r.SnapshotFinishedAt))
	}
}

func secondsOf(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

// ReportOf is the report of a restore job from what flexd records of it:
// when it was requested, when its snapshot finished, its status and when it
// ended. The statuses in between are not recorded, so they are not shown. A
// restore job starts PENDING; a download is made COMPLETED at once.
func ReportOf(j *RestoreJob) *RestoreReport {
	r := &RestoreReport{
		RestoreJobID:        j.ID,
		DeliveryType:        j.DeliveryType,
		ProjectID:           j.ProjectID,
		ClusterName:         j.InstanceName,
		TargetProjectID:     j.TargetProjectID,
		TargetClusterName:   j.TargetDeploymentItemName,
		SnapshotID:          j.SnapshotID,
		Status:              j.Status,
		FailureReason:       j.FailureReason,
		SnapshotFinishedAt:  j.SnapshotFinishedDate,
		RequestedAt:         j.RestoreScheduledDate,
		FinishedAt:          j.RestoreFinishedDate,
		StatusChanges:       []StatusChange{},
		StatusChangesSource: StatusesRecorded,
	}
	if j.DeliveryType == DeliveryRestore && !j.RestoreScheduledDate.IsZero() {
		r.StatusChanges = append(r.StatusChanges, StatusChange{Status: StatusPending, At: j.RestoreScheduledDate})
	}
	if j.Status.Done() && !j.RestoreFinishedDate.IsZero() {
		r.StatusChanges = append(r.StatusChanges, StatusChange{Status: j.Status, At: j.RestoreFinishedDate})
	}
	r.Measure()
	return r
}

// CollectionSum is one collection's document count and content checksum,
// taken on one side of a restore (the snapshot or the target).
//
// The checksum is the same whatever order the documents are read in: the
// lowercase hex SHA-256 of the concatenation, in ascending byte order, of
// the SHA-256 digests (32 bytes each) of every document's raw BSON bytes.
// A collection without documents sums to the SHA-256 of nothing. It needs
// the documents byte for byte as stored, which mongodump's .bson files and
// a MongoDB (or FerretDB) server both give.
type CollectionSum struct {
	Database   string
	Collection string
	Documents  int64
	Checksum   string
}

// CompareCollections pairs the snapshot's collections with the target's
// by database and collection name, sorted by those names. A collection on
// one side only is a mismatch whose other side is named in Missing (its
// count 0, its checksum empty).
func CompareCollections(snapshot, target []CollectionSum) []CollectionCheck {
	type key struct{ db, coll string }
	byKey := map[key]*CollectionCheck{}
	var keys []key
	get := func(s CollectionSum) *CollectionCheck {
		k := key{s.Database, s.Collection}
		c, ok := byKey[k]
		if !ok {
			c = &CollectionCheck{Database: s.Database, Collection: s.Collection}
			byKey[k] = c
			keys = append(keys, k)
		}
		return c
	}
	inSnapshot, inTarget := map[key]bool{}, map[key]bool{}
	for _, s := range snapshot {
		c := get(s)
		c.SnapshotDocuments, c.SnapshotChecksum = s.Documents, s.Checksum
		inSnapshot[key{s.Database, s.Collection}] = true
	}
	for _, s := range target {
		c := get(s)
		c.TargetDocuments, c.TargetChecksum = s.Documents, s.Checksum
		inTarget[key{s.Database, s.Collection}] = true
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.db, b.db), cmp.Compare(a.coll, b.coll)) })
	out := make([]CollectionCheck, 0, len(keys))
	for _, k := range keys {
		c := byKey[k]
		switch {
		case !inSnapshot[k]:
			c.Missing = MissingInSnapshot
		case !inTarget[k]:
			c.Missing = MissingInTarget
		default:
			c.Match = c.SnapshotDocuments == c.TargetDocuments && c.SnapshotChecksum == c.TargetChecksum
		}
		out = append(out, *c)
	}
	return out
}

// Where a collection of a CollectionCheck is missing.
const (
	MissingInSnapshot = "snapshot"
	MissingInTarget   = "target"
)

// Package drill runs a restore drill through the public Atlas Admin API
// with the official Go SDK, against flexd or against real Atlas alike: it
// picks a snapshot of a Flex cluster, restores it into another, follows the
// restore job to its end, and measures RTO (request → COMPLETED) and RPO
// (the snapshot's age at the request). With a database user it then
// compares the data: per collection, the snapshot's document count and
// content checksum (from its download) against the target's (read with
// the Go driver); see flexd.CollectionSum. `flexd drill` is its command
// line.
package drill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312006/admin"

	"github.com/flexd/flexd"
)

// Plan is one drill: what to restore where, how to wait, and the
// thresholds it must meet (zero: none).
type Plan struct {
	ProjectID     string
	Source        string // the cluster whose snapshot is restored
	Target        string // the cluster restored into
	TargetProject string // empty: ProjectID
	Snapshot      string // "latest" or a snapshot id
	PollInterval  time.Duration
	Timeout       time.Duration // how long to follow the job
	MaxRTO        time.Duration
	MaxRPO        time.Duration
	// DBUser and DBPassword log in to the target for the data check;
	// without DBUser the check is skipped.
	DBUser     string
	DBPassword string
}

// Latest picks the newest completed snapshot.
const Latest = "latest"

// Progress hears of the drill's steps as they happen.
type Progress interface {
	Step(msg string)
	// Status is called on every poll of the job, changed or not.
	Status(status flexd.JobStatus, changed bool, elapsed time.Duration)
	Done()
}

// Run runs the drill. The result is returned whenever a restore job was
// created, even when the drill failed; err says why it failed.
func Run(ctx context.Context, api *admin.APIClient, p Plan, progress Progress) (*Result, error) {
	res := &Result{RestoreReport: flexd.RestoreReport{
		ProjectID: p.ProjectID, ClusterName: p.Source, TargetClusterName: p.Target,
		TargetProjectID: p.targetProject(), DeliveryType: flexd.DeliveryRestore,
		StatusChanges: []flexd.StatusChange{}, StatusChangesSource: flexd.StatusesObserved,
	}, Data: DataCheck{Status: DataSkipped, Reason: "the restore did not complete"}}
	res.setThresholds(p)
	fail := func(err error) (*Result, error) {
		res.Failures = append(res.Failures, err.Error())
		res.Error = err.Error()
		return res, err
	}

	progress.Step(fmt.Sprintf("picking snapshot %s of %s", p.Snapshot, p.Source))
	snap, err := pickSnapshot(ctx, api, p)
	if err != nil {
		return fail(err)
	}
	res.SnapshotID = snap.GetId()
	res.SnapshotFinishedAt = snap.GetFinishTime().UTC()

	progress.Step(fmt.Sprintf("restoring snapshot %s of %s into %s", res.SnapshotID, p.Source, p.Target))
	create := &admin.FlexBackupRestoreJobCreate20241113{SnapshotId: res.SnapshotID, TargetDeploymentItemName: p.Target}
	if p.TargetProject != "" {
		create.TargetProjectId = &p.TargetProject
	}
	requested := time.Now()
	job, _, err := api.FlexRestoreJobsApi.CreateFlexBackupRestoreJob(ctx, p.ProjectID, p.Source, create).Execute()
	if err != nil {
		return fail(fmt.Errorf("start the restore: %w", apiError(err)))
	}
	res.RestoreJobID = job.GetId()
	res.observe(job, time.Now())
	progress.Status(res.Status, true, time.Since(requested))

	deadline := time.NewTimer(p.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(p.PollInterval)
	defer tick.Stop()
	for !res.Status.Done() {
		select {
		case <-ctx.Done():
			progress.Done()
			return fail(ctx.Err())
		case <-deadline.C:
			progress.Done()
			return fail(fmt.Errorf("restore job %s still %s after %s (--timeout)", res.RestoreJobID, res.Status, p.Timeout))
		case <-tick.C:
		}
		job, _, err = api.FlexRestoreJobsApi.GetFlexBackupRestoreJob(ctx, p.ProjectID, p.Source, res.RestoreJobID).Execute()
		if err != nil {
			progress.Done()
			return fail(fmt.Errorf("follow restore job %s: %w", res.RestoreJobID, apiError(err)))
		}
		before := res.Status
		res.observe(job, time.Now())
		progress.Status(res.Status, res.Status != before, time.Since(requested))
	}
	progress.Done()
	if res.Status == flexd.StatusCompleted {
		waited := time.Since(requested).Seconds()
		res.ObservedRTOSeconds = &waited
	}
	checkData(ctx, api, p, res, progress)
	res.judge()
	if !res.Passed {
		return res, &FailedError{Failures: res.Failures}
	}
	return res, nil
}

func (p Plan) targetProject() string {
	if p.TargetProject != "" {
		return p.TargetProject
	}
	return p.ProjectID
}

// observe takes what the API says of the job: its dates are the server's,
// so RTO and RPO do not depend on this machine's clock; a status change is
// stamped with the time the poll saw it.
func (r *Result) observe(job *admin.FlexBackupRestoreJob20241113, seen time.Time) {
	status := flexd.JobStatus(job.GetStatus())
	if n := len(r.StatusChanges); n == 0 || r.StatusChanges[n-1].Status != status {
		r.StatusChanges = append(r.StatusChanges, flexd.StatusChange{Status: status, At: seen.UTC()})
	}
	r.Status = status
	if t, ok := job.GetRestoreScheduledDateOk(); ok {
		r.RequestedAt = t.UTC()
	}
	if t, ok := job.GetRestoreFinishedDateOk(); ok {
		r.FinishedAt = t.UTC()
	}
	if t, ok := job.GetSnapshotFinishedDateOk(); ok {
		r.SnapshotFinishedAt = t.UTC()
	}
	r.Measure()
}

// pickSnapshot finds the snapshot to restore: the newest completed one, or
// the one named, which must be completed.
func pickSnapshot(ctx context.Context, api *admin.APIClient, p Plan) (*admin.FlexBackupSnapshot20241113, error) {
	if p.Snapshot != Latest {
		s, _, err := api.FlexSnapshotsApi.GetFlexBackup(ctx, p.ProjectID, p.Source, p.Snapshot).Execute()
		if err != nil {
			return nil, fmt.Errorf("snapshot %s of %s: %w", p.Snapshot, p.Source, apiError(err))
		}
		if s.GetStatus() != string(flexd.StatusCompleted) {
			return nil, fmt.Errorf("snapshot %s of %s is %s, not COMPLETED", p.Snapshot, p.Source, s.GetStatus())
		}
		return s, nil
	}
	var newest *admin.FlexBackupSnapshot20241113
	const perPage = 500
	for page := 1; ; page++ {
		list, _, err := api.FlexSnapshotsApi.ListFlexBackups(ctx, p.ProjectID, p.Source).
			ItemsPerPage(perPage).PageNum(page).Execute()
		if err != nil {
			return nil, fmt.Errorf("list the snapshots of %s: %w", p.Source, apiError(err))
		}
		for _, s := range list.GetResults() {
			if s.GetStatus() == string(flexd.StatusCompleted) && (newest == nil || s.GetFinishTime().After(newest.GetFinishTime())) {
				newest = &s
			}
		}
		if len(list.GetResults()) < perPage {
			break
		}
	}
	if newest == nil {
		return nil, fmt.Errorf("cluster %s has no completed snapshot to restore", p.Source)
	}
	return newest, nil
}

// apiError makes an SDK error say what Atlas answered.
func apiError(err error) error {
	if e, ok := admin.AsError(err); ok {
		return fmt.Errorf("%d %s: %s", e.GetError(), e.GetErrorCode(), e.GetDetail())
	}
	return err
}

// FailedError is a drill that ran but failed or missed a threshold.
type FailedError struct{ Failures []string }

func (e *FailedError) Error() string {
	return "drill failed: " + joinFailures(e.Failures)
}

// ErrNoCredentials: none of the Atlas CLI's credential variables is set.
var ErrNoCredentials = errors.New("no credentials: set MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY, or MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET")

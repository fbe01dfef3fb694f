package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/flexd/flexd"
)

// Clock reads flexd's clock.
func (e *Engine) Clock(context.Context) (*flexd.ClockState, error) {
	return &flexd.ClockState{Now: e.clock.Now(), Manual: e.manual != nil}, nil
}

// maxAdvance bounds one advance, so a typo ("24000h") cannot keep the
// server busy for long.
const maxAdvance = 366 * 24 * time.Hour

// AdvanceClock moves a manual clock forward by d and runs everything that
// comes due, in order, before it returns.
func (e *Engine) AdvanceClock(ctx context.Context, d time.Duration) (*flexd.ClockState, error) {
	if e.manual == nil {
		return nil, flexd.FeatureUnsupported("the clock is real; start flexd with --clock manual to advance it")
	}
	if d < 0 || d > maxAdvance {
		return nil, flexd.InvalidAttribute("by")
	}
	if err := e.advanceTo(ctx, e.manual.Now().Add(d)); err != nil {
		if errors.Is(err, errStuck) {
			// Work failed on something passing and the queue retries it
			// (its failure is logged): the caller advances again after the
			// retry, as Atlas clients do on a 503.
			unavailable := flexd.ServiceUnavailable()
			unavailable.RetryAfter = 2 * time.Second
			return nil, unavailable
		}
		return nil, fmt.Errorf("advance clock: %w", err)
	}
	return e.Clock(ctx)
}

// InjectFault makes the next f.Count restores into, or snapshots of, the
// cluster fail with f.Reason.
func (e *Engine) InjectFault(ctx context.Context, groupID, name string, f flexd.FaultRequest) (*flexd.Fault, error) {
	switch {
	case f.Operation != flexd.FaultRestore && f.Operation != flexd.FaultSnapshot:
		return nil, flexd.InvalidEnumValue(string(f.Operation))
	case f.Count < 1:
		return nil, flexd.InvalidAttribute("count")
	}
	if f.Reason == "" {
		f.Reason = "injected " + string(f.Operation) + " fault"
	}
	c, err := e.store.GetFlexCluster(ctx, groupID, name)
	if notFound(err) {
		return nil, flexd.ClusterNotFound(name, groupID)
	}
	if err != nil {
		return nil, err
	}
	fault := &flexd.Fault{ClusterID: c.ID, Operation: f.Operation, Count: f.Count, Reason: f.Reason}
	if err := e.store.AddFault(ctx, *fault); err != nil {
		return nil, err
	}
	return fault, nil
}

// Reset deletes the caller's organization's projects (every project for an
// unrestricted caller) with everything in them.
func (e *Engine) Reset(ctx context.Context) error {
	var orgs []string
	if p := flexd.PrincipalFrom(ctx); p != nil && !p.All && !p.InstanceAdmin {
		orgs = []string{p.OrgID}
	}
	before := e.allClusters(ctx)
	if err := e.store.Reset(ctx, orgs); err != nil {
		return err
	}
	// The deleted clusters' endpoints close and their data goes, as with
	// a delete; the start-up sweep catches what this misses.
	after := e.allClusters(ctx)
	for id := range before {
		if after == nil {
			break
		}
		if !after[id] {
			e.cfg.Artifacts.Deleted(id)
		}
	}
	return nil
}

// allClusters is the set of every cluster's id when the store can list
// them (sqlstore can), for Reset; nil otherwise.
func (e *Engine) allClusters(ctx context.Context) map[string]bool {
	l, ok := e.store.(interface {
		AllFlexClusters(context.Context) ([]flexd.FlexCluster, error)
	})
	if !ok {
		return nil
	}
	cs, err := l.AllFlexClusters(ctx)
	if err != nil {
		return nil
	}
	m := make(map[string]bool, len(cs))
	for _, c := range cs {
		m[c.ID] = true
	}
	return m
}

// Download builds the archive a download link serves. The token is the
// whole credential, so an unknown one and one whose snapshot is gone get
// the same answer.
func (e *Engine) Download(ctx context.Context, token string) (*flexd.DownloadArchive, error) {
	unknown := flexd.ResourceNotFound("/_flexd/downloads/{token}")
	j, err := e.store.GetDownload(ctx, token)
	if notFound(err) {
		return nil, unknown
	}
	if err != nil {
		return nil, err
	}
	if !e.clock.Now().Before(j.ExpirationDate) {
		return nil, flexd.DownloadLinkExpired(j.ExpirationDate)
	}
	sn, err := e.store.GetSnapshot(ctx, j.ClusterID, j.SnapshotID)
	if err == nil {
		var a *flexd.Artifact
		if a, err = e.store.GetArtifact(ctx, sn.ID); err == nil {
			var body io.ReadSeekCloser
			if a.BlobKey == "" { // configuration only, in the store (legacy on the data plane)
				body, err = openConfigArchive(j, sn, a)
			} else {
				body, err = e.cfg.Artifacts.Open(ctx, j, sn, a)
			}
			if errors.Is(err, flexd.ErrNotFound) || errors.Is(err, flexd.ErrBlobCorrupt) {
				// A missing or corrupt artifact is never served: the link
				// answers that the snapshot's data is not there.
				e.log.WarnContext(ctx, "download refused: snapshot artifact missing or corrupt", "snapshot", sn.ID, "err", err)
				return nil, flexd.ResourceNotFound("/_flexd/downloads/{token}")
			}
			if err != nil {
				return nil, err
			}
			modTime := sn.FinishTime
			if now := time.Now(); modTime.After(now) {
				modTime = now
			}
			return &flexd.DownloadArchive{
				FileName: fmt.Sprintf("%s-%s.tgz", sn.ClusterName, sn.ID),
				Body:     body,
				ModTime:  modTime,
			}, nil
		}
	}
	if errors.Is(err, flexd.ErrNotFound) {
		return nil, unknown
	}
	return nil, err
}

// dataComparer is an Artifacts that can compare an artifact's data with a
// cluster's (dataplane.DataArtifacts).
type dataComparer interface {
	Compare(ctx context.Context, a *flexd.Artifact, targetID string) ([]flexd.CollectionCheck, error)
}

// CompareRestore compares the snapshot restored by j with its target's
// data now (flexd.RestoreComparer): nil, nil without data artifacts, a
// blob artifact or a target.
func (e *Engine) CompareRestore(ctx context.Context, j *flexd.RestoreJob) ([]flexd.CollectionCheck, error) {
	dc, ok := e.cfg.Artifacts.(dataComparer)
	if !ok || j.DeliveryType != flexd.DeliveryRestore || j.Status != flexd.StatusCompleted {
		return nil, nil
	}
	a, err := e.store.GetArtifact(ctx, j.SnapshotID)
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if a.BlobKey == "" {
		return nil, nil
	}
	target, err := e.store.GetFlexCluster(ctx, j.TargetProjectID, j.TargetDeploymentItemName)
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return dc.Compare(ctx, a, target.ID)
}

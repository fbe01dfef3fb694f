package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// snapshotView is the spec's FlexBackupSnapshot20241113; as in real Atlas,
// it has no links member of its own.
type snapshotView struct {
	Expiration     atlasTime       `json:"expiration,omitzero"`
	FinishTime     atlasTime       `json:"finishTime,omitzero"`
	ID             string          `json:"id"`
	MongoDBVersion string          `json:"mongoDBVersion,omitempty"`
	ScheduledTime  atlasTime       `json:"scheduledTime,omitzero"`
	StartTime      atlasTime       `json:"startTime,omitzero"`
	Status         flexd.JobStatus `json:"status"`
}

func viewSnapshot(_ string, sn *flexd.Snapshot) snapshotView {
	return snapshotView{
		Expiration:     atlasTime(sn.Expiration),
		FinishTime:     atlasTime(sn.FinishTime),
		ID:             sn.ID,
		MongoDBVersion: sn.MongoDBVersion,
		ScheduledTime:  atlasTime(sn.ScheduledTime),
		StartTime:      atlasTime(sn.StartTime),
		Status:         sn.Status,
	}
}

// listSnapshots lists a cluster's snapshots, newest first (the store's
// order).
func (s *server) listSnapshots() http.Handler {
	return listInCluster(s, func(r *http.Request, c *flexd.FlexCluster, p flexd.Page) ([]flexd.Snapshot, int, error) {
		return s.cfg.Backups.ListSnapshots(r.Context(), c, p)
	}, viewSnapshot)
}

func (s *server) getSnapshot() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.Snapshot, error) {
		c, err := s.clusterOf(r)
		if err != nil {
			return nil, err
		}
		return s.cfg.Backups.GetSnapshot(r.Context(), c, r.PathValue("snapshotId"))
	}, viewSnapshot)
}
